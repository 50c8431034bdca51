# tend as `pm2`: the behaviours PM2 users' scripts and ecosystem files rely on (issue 12),
# through a link named pm2, in PM2_HOME.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
mkdir bin
ln -s "$TEND" bin/pm2
PM2=$T/bin/pm2
export PM2_HOME="$T/home"
unset TEND_HOME
printf 'setInterval(() => {}, 1000);\n' >app.js
cp app.js other.js
pm2_jl() { "$PM2" jlist >"$T/.pjl" || fail "pm2 jlist failed"; jl_file "$T/.pjl" "$1"; }

# ---- all of nothing: PM2's warning on stderr and status 1 ---------------------------------
for verb in stop restart reload delete; do
	run "$PM2" "$verb" all
	expect_rc 1
	expect_err_line "^tend: $verb: no process found$"
done

# ---- sendSignal: one target, the words after it ignored; stopped instances skipped ---------
cat >trap.sh <<'EOF'
trap 'echo got-usr2' USR2
while :; do sleep 0.1; done
EOF
"$PM2" start trap.sh -n trapper -s || fail "start trapper"
run "$PM2" sendSignal SIGUSR2 trapper extra words here
expect_rc 0
wait_for 10 grep -q got-usr2 "$PM2_HOME/logs/trapper-out.log"
"$PM2" stop trapper -s
run "$PM2" sendSignal SIGUSR2 trapper
expect_rc 1
expect_err_line "^tend: sendSignal: trapper: not running$"
"$PM2" delete all -s

# ---- stop turns watching off; scale removes the oldest first ------------------------------
"$PM2" start app.js -n w --watch -s || fail "start w"
[ "$(pm2_jl 'by("w")[0]["pm2_env"]["watch"]')" = true ] || fail "not watching"
"$PM2" stop w -s
[ "$(pm2_jl 'by("w")[0]["pm2_env"]["watch"]')" = false ] || fail "stop left watching on"
"$PM2" start w -s
[ "$(pm2_jl 'by("w")[0]["pm2_env"]["watch"]')" = false ] || fail "start after stop watches again"
"$PM2" delete w -s
"$PM2" start app.js -n sc -i 4 -s || fail "start sc"
ids=$(pm2_jl '[p["pm_id"] for p in by("sc")]')
run "$PM2" scale sc 2
expect_rc 0
left=$(pm2_jl '[p["pm_id"] for p in by("sc")]')
[ "$left" = "$("$PY" -c "print(sorted($ids)[2:])")" ] || fail "scale 2 left $left of $ids (the oldest go first)"
"$PM2" delete all -s
