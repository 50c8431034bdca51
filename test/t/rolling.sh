# scale: instances added and removed without touching the others, in cluster mode
# (new ones share the socket) and behind the proxy; the count is what save records.
# Declarations reloaded through a file (reload FILE, startOrReload) are rolling: under
# load no request fails, and the new environment takes effect.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
command -v curl >/dev/null || fail "curl is needed"
command -v node >/dev/null || fail "node is needed"
pids_of() { "$TEND" pid "$1" | sort | tr '\n' ' '; }
cat >app.js <<'EOF'
require('http').createServer((req, res) => res.end('v ' + process.env.V + ' pid ' + process.pid + '\n'))
  .listen(process.env.PORT);
EOF

# ---- scale in cluster mode (fd handoff) --------------------------------------------------
P1=$(free_port)
V=one "$TEND" start app.js -n web -i 2 --port "$P1" -s || fail "start web"
before=$(pids_of web)
run "$TEND" scale web +2 -s
expect_rc 0
[ "$("$TEND" pid web | wc -l)" = 4 ] || fail "scale +2: $("$TEND" pid web | wc -l) instances"
for p in $before; do "$TEND" pid web | grep -qx "$p" || fail "scale +2 touched process $p"; done
[ "$(jget web 'e["instances"]')" = 4 ] || fail "instances $(jget web 'e["instances"]') after scale +2"
"$TEND" jlist | "$PY" -c 'import json, sys
print(sorted(p["pm2_env"]["NODE_APP_INSTANCE"] for p in json.load(sys.stdin)))' >inst.txt
[ "$(cat inst.txt)" = "[0, 1, 2, 3]" ] || fail "instance numbers after scale +2: $(cat inst.txt)"
serves "$P1" 4 300 || fail "the new instances do not serve: $(sort -u seen.txt | tr '\n' ' ')"
newest=$("$TEND" pid web | tail -n 1)
run "$TEND" scale web -3 -s
expect_rc 0
# As PM2 does, the oldest instances (the lowest ids) go first.
[ "$("$TEND" pid web)" = "$newest" ] ||
	fail "scale -3 should leave the newest instance $newest: $("$TEND" pid web | tr '\n' ' ')"
run "$TEND" scale web 3 -s
expect_rc 0
[ "$("$TEND" pid web | wc -l)" = 3 ] || fail "scale 3: $("$TEND" pid web | wc -l) instances"
"$TEND" save >/dev/null || fail "save"
grep -q '"instances":3' "$TEND_HOME/dump.json" || fail "save does not record 3 instances"

# bad input changes nothing
run "$TEND" scale web 0
expect_rc 2
expect_err_line "tend: scale: web: 0 instances: expected 1 to 4096 \\(stop or delete it instead\\)"
run "$TEND" scale web -5
expect_rc 2
run "$TEND" scale web many
expect_rc 2
expect_err_line "tend: scale: expected a count N, \\+N or -N, got 'many'"
run "$TEND" scale nosuch 2
expect_rc 1
expect_err_line "tend: scale: nosuch: no such app"
run "$TEND" scale web
expect_rc 2
[ "$("$TEND" pid web | wc -l)" = 3 ] || fail "a refused scale changed the app"

# ---- scale behind the proxy -------------------------------------------------------------
P2=$(free_port)
"$TEND" start app.js -n px --port "$P2" --lb proxy -s || fail "start px"
run "$TEND" scale px 3 -s
expect_rc 0
serves "$P2" 3 || fail "proxy: not all 3 instances get connections after scale: $(sort -u seen.txt | tr '\n' ' ')"
run "$TEND" scale px -2 -s
expect_rc 0
serves "$P2" 1 || fail "proxy: no answer after scale -2"
[ "$(sort -u seen.txt | wc -l)" = 1 ] || fail "proxy: removed instances still get connections"
"$TEND" delete px web -s

# ---- reload FILE and startOrReload: rolling, with the file's new declaration ----------
P3=$(free_port)
cat >eco.json <<EOF
{"apps": [{"name": "eco", "script": "app.js", "instances": 2, "exec_mode": "cluster",
           "port": $P3, "env": {"V": "one"}}]}
EOF
run "$TEND" start eco.json -s
expect_rc 0
[ "$(get "$P3" | cut -d' ' -f2)" = one ] || fail "eco does not serve v one"
rm -f stop started mark marked
"$PY" "$TEND_TOP/test/t/cluster-client.py" "$P3" 8 >load.txt 2>&1 &
client=$!
track_pid $client
wait_for 10 test -e started || fail "the load never started: $(cat load.txt)"
sed 's/"one"/"two"/' eco.json >eco2.json && mv eco2.json eco.json
run "$TEND" reload eco.json -s
expect_rc 0
sed 's/"two"/"three"/; s/}]}/}, {"name": "extra", "script": "app.js", "env": {"PORT": "0"}}]}/' eco.json >eco2.json &&
	mv eco2.json eco.json
run "$TEND" startOrReload eco.json -s
expect_rc 0
touch mark
wait_for 30 test -e marked
touch stop
wait $client
grep -q '^ok [1-9][0-9]* errors 0 ' load.txt || fail "requests failed during the file reloads: $(cat load.txt)"
[ "$(get "$P3" | cut -d' ' -f2)" = three ] || fail "after startOrReload eco serves $(get "$P3")"
[ "$(jget eco 'e["restart_time"]')" = 2 ] || fail "restart_time $(jget eco 'e["restart_time"]') after two rolling reloads"
status_is extra online || fail "startOrReload did not start the new app"
