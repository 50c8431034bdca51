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
# all of no apps: nothing to do (the daemon once read past an empty selection here).
run "$PM2" sendSignal SIGWINCH all
expect_rc 0
cat >trap.sh <<'EOF'
trap 'echo got-usr2' USR2
echo trap-set
while :; do sleep 0.1; done
EOF
"$PM2" start trap.sh -n trapper -s || fail "start trapper"
wait_for 10 grep -q trap-set "$PM2_HOME/logs/trapper-out.log"   # bash has its handler
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

# ---- several scripts in one start: one app each, the same options and args ---------------
cp app.js third.js
"$PM2" start app.js other.js third.js -s -- a1 a2 || fail "start three scripts"
[ "$(pm2_jl 'sorted(p["name"] for p in d)')" = '["app", "other", "third"]' ] || fail "three scripts: $(pm2_jl '[p["name"] for p in d]')"
[ "$(pm2_jl 'by("other")[0]["pm2_env"]["args"]')" = '["a1", "a2"]' ] || fail "args of each"
run "$PM2" start nonexist.js app.js
expect_rc 2   # stops at the first that fails; bad input (PM2: 1), as in a file
"$PM2" delete all -s

# ---- restart and start NAME apply app options; null removes; -- replaces the args --------
"$PM2" start app.js -n opt -s -- one || fail "start opt"
pid0=$(pm2_jl 'by("opt")[0]["pid"]')
run "$PM2" restart opt --node-args="--no-warnings --max-old-space-size=100" --max-memory-restart 300M -s -- two
expect_rc 0
[ "$(pm2_jl 'by("opt")[0]["pm2_env"]["node_args"]')" = '["--no-warnings", "--max-old-space-size=100"]' ] ||
	fail "restart --node-args: $(pm2_jl 'by("opt")[0]["pm2_env"]["node_args"]')"
pid1=$(pm2_jl 'by("opt")[0]["pid"]')
tr '\0' ' ' <"/proc/$pid1/cmdline" | grep -q -- "--max-old-space-size=100" || fail "the node args are not in the new process"
[ "$(pm2_jl 'by("opt")[0]["pm2_env"]["args"]')" = '["two"]' ] || fail "restart -- two"
[ "$(pm2_jl 'by("opt")[0]["pm2_env"]["max_memory_restart"]')" = 314572800 ] || fail "restart --max-memory-restart"
"$PM2" restart opt -s
[ "$(pm2_jl 'by("opt")[0]["pm2_env"]["node_args"]')" = '["--no-warnings", "--max-old-space-size=100"]' ] ||
	fail "the node args did not stay"
run "$PM2" restart opt --node-args=null -s
expect_rc 0
[ "$(pm2_jl 'by("opt")[0]["pm2_env"].get("node_args", [])')" = '[]' ] || fail "--node-args=null did not remove them"
run "$PM2" start opt --name renamed -s
expect_rc 0
[ "$(pm2_jl '[p["name"] for p in d]')" = '["renamed"]' ] || fail "start NAME --name: $(pm2_jl '[p["name"] for p in d]')"
"$PM2" delete all -s

# ---- start options PM2 accepts where tend used to refuse (the option table) ------------------
# --env/--only with a script: ignored, as PM2 ignores them, with a warning.
run "$PM2" start app.js -n envscript --env production -s
expect_rc 0
expect_err_line "^tend: start: --env: app.js is no declaration file: ignored$"
# start NAME -a: the app takes this shell's environment, as restart -a does.
FRESH=1 "$PM2" start envscript -a -s || fail "start NAME -a"
pid=$(pm2_jl 'by("envscript")[0]["pid"]')
tr '\0' '\n' <"/proc/$pid/environ" | grep -qx FRESH=1 || fail "start NAME -a: FRESH not in the new environment"
# --watch DIR, with a space, as PM2 reads it; a script after --watch stays the script.
mkdir -p wdir
run "$PM2" start app.js -n watchdir --watch wdir -s
expect_rc 0
[ "$(pm2_jl 'by("watchdir")[0]["pm2_env"]["watch_paths"]')" = "[\"$T/wdir\"]" ] ||
	fail "--watch wdir: $(pm2_jl 'by("watchdir")[0]["pm2_env"].get("watch_paths")')"
# PM2's global options that mean nothing to a start; -v prints the version, as pm2 -v.
run "$PM2" start other.js -n globals --parallel 2 --sort name -s
expect_rc 0
run "$PM2" start app.js -v
expect_rc 0
expect_out_has "tend "
# --attach: the started app's output follows, as `logs` prints it.
printf 'console.log("attached-" + process.pid); setInterval(() => {}, 1000);\n' >att.js
"$PM2" start att.js --attach --no-color >attach.out 2>&1 &
apid=$!
track_pid $apid
wait_for 15 grep -q "att *| attached-" attach.out
kill $apid
"$PM2" delete all -s

# ---- numeric names: accepted; an id of that number wins --------------------------------------
"$PM2" start app.js --name 455 -s || fail "start --name 455"
"$PM2" start other.js --name 0 -s || fail "start --name 0"
# id 0 is "455": the word 0 means id 0, not the app named "0".
"$PM2" stop 0 -s
[ "$(pm2_jl 'by("455")[0]["pm2_env"]["status"]')" = stopped ] || fail "stop 0 did not stop id 0"
[ "$(pm2_jl 'by("0")[0]["pm2_env"]["status"]')" = online ] || fail "stop 0 stopped the app named 0"
"$PM2" stop 455 -s   # no id 455: the name
[ "$(pm2_jl 'by("455")[0]["pm2_env"]["status"]')" = stopped ] || fail "stop 455"
"$PM2" delete all -s

# ---- -i on a script that is not node: N fork instances; on node: cluster ----------------------
printf 'import time\ntime.sleep(1000)\n' >w.py
"$PM2" start w.py -i 2 -s || fail "start w.py -i 2"
[ "$(pm2_jl '[p["pm2_env"]["exec_mode"] for p in d]')" = '["fork_mode", "fork_mode"]' ] ||
	fail "python -i 2: $(pm2_jl '[p["pm2_env"]["exec_mode"] for p in d]')"
"$PM2" start app.js -i 2 -s || fail "start app.js -i 2"
[ "$(pm2_jl '[p["pm2_env"]["exec_mode"] for p in by("app")]')" = '["cluster_mode", "cluster_mode"]' ] ||
	fail "node -i 2: $(pm2_jl '[p["pm2_env"]["exec_mode"] for p in by("app")]')"
"$PM2" delete all -s

# ---- -w writes NAME-pm2.json; cmd stands for script -------------------------------------------
run "$PM2" start app.js -n written -w -s
expect_rc 0
"$PY" -c 'import json,sys; a=json.load(open("written-pm2.json")); assert a["name"]=="written" and a["script"].endswith("/app.js"), a; assert "shell_env" not in a' ||
	fail "written-pm2.json: $(head -c 300 written-pm2.json)"
printf '{"apps":[{"name":"bycmd","cmd":"app.js"}]}\n' >cmd.json
"$PM2" start cmd.json -s || fail "start cmd.json"
[ "$(pm2_jl 'by("bycmd")[0]["pm2_env"]["status"]')" = online ] || fail "cmd for script"
"$PM2" delete all -s

# ---- -p app.pid: app-ID.pid per instance, one or many (PM2's naming) -------------------------
"$PM2" start app.js -n p1 -p "$T/one.pid" -s
"$PM2" start app.js -n p2 -i 2 -x -p "$T/multi-5.pid" -s
for id in $(pm2_jl '" ".join(str(p["pm_id"]) for p in d)'); do
	name=$(pm2_jl "[p['name'] for p in d if p['pm_id'] == $id][0]")
	f=$T/one-$id.pid
	[ "$name" = p2 ] && f=$T/multi-$id.pid
	[ "$(cat "$f")" = "$(pm2_jl "[p['pid'] for p in d if p['pm_id'] == $id][0]")" ] || fail "pid file $f"
done
"$PM2" delete all -s

# ---- a script file names the apps started from it (from the caller's cwd) --------------------
"$PM2" start app.js -s && "$PM2" start app.js -n copy -f -s && "$PM2" start other.js -s
mkdir -p sub
(cd sub && "$PM2" stop ../app.js -s) || fail "stop ../app.js"
[ "$(pm2_jl '[p["pm2_env"]["status"] for p in d]')" = '["stopped", "stopped", "online"]' ] ||
	fail "stop ../app.js: $(pm2_jl '[(p["name"], p["pm2_env"]["status"]) for p in d]')"
run "$PM2" restart "$T/app.js" -s
expect_rc 0
[ "$(pm2_jl '[p["pm2_env"]["status"] for p in d]')" = '["online", "online", "online"]' ] || fail "restart by absolute path"
cat >sig.js <<'EOF2'
process.on('SIGUSR2', () => console.log('got-usr2'));
setInterval(() => {}, 1000);
EOF2
# start returns once the main module has run (the preload says so): the handler is there.
"$PM2" start sig.js -s
run "$PM2" sendSignal SIGUSR2 sig.js
expect_rc 0
wait_for 10 grep -q got-usr2 "$PM2_HOME/logs/sig-out.log"
run "$PM2" delete app.js -s
expect_rc 0
[ "$(pm2_jl 'sorted(p["name"] for p in d)')" = '["other", "sig"]' ] || fail "delete app.js: $(pm2_jl '[p["name"] for p in d]')"
"$PM2" delete all -s

# ---- jlist as PM2's: PM2's keys and types, tend's internals left out ------------------------
PORT_BASE=$(free_port)
cat >inc.json <<EOF2
{"apps":[{"name":"inc","script":"app.js","instances":2,"exec_mode":"fork","increment_var":"PORT",
  "env":{"PORT":"$PORT_BASE","NODE_ENV":"production"}}]}
EOF2
"$PM2" start inc.json -s || fail "start inc.json"
pm2_jl '1' >/dev/null
problems=$("$PY" - "$T/.pjl" "$PORT_BASE" <<'EOF2'
import json, sys
d, base = json.load(open(sys.argv[1])), int(sys.argv[2])
bad = []
for i, p in enumerate(sorted(d, key=lambda p: p["pm_id"])):
    e = p["pm2_env"]
    if list(p) != ["pid", "name", "pm2_env", "pm_id", "monit"]: bad.append("top keys %r" % list(p))
    if e["env"].get("PORT") != base + i or e.get("PORT") != base + i: bad.append("PORT %r/%r" % (e["env"].get("PORT"), e.get("PORT")))
    if e.get("NODE_ENV") != "production": bad.append("env not copied to pm2_env")
    if e.get("increment_var") != "PORT" or e.get("NODE_APP_INSTANCE") != i: bad.append("instance %r" % e.get("NODE_APP_INSTANCE"))
    if e["env"].get("inc") != {}: bad.append("no app-named key in env")
    if e["axm_options"].get("module_name") != "inc": bad.append("axm_options %r" % e["axm_options"])
    for k in ("NOTIFY_SOCKET", "NODE_CHANNEL_FD", "pm_id", "name", "NODE_APP_INSTANCE"):
        if k in e["env"]: bad.append("env has %s" % k)
    if "pm_log_path" in e: bad.append("pm_log_path without -l")
    if e["exec_interpreter"] != "node": bad.append("exec_interpreter %r" % e["exec_interpreter"])
print("; ".join(bad))
EOF2
)
[ -z "$problems" ] || fail "jlist: $problems"
"$PM2" delete all -s

# ---- prettylist is node's util.inspect of jlist, byte for byte -----------------------------
# Values that exercise its rules: quotes of each kind, newlines, control characters, C1
# characters, astral characters, a string over 10,000 characters, integer-like keys, 120
# arguments (grouped in columns, "... 20 more items"), 16 numbers (right-aligned), an app
# stopped so that nothing moves between the two listings.
"$PY" - <<'EOF2'
import json
env = {"SQ": "it's", "BOTH": "say \"hi\" it's", "ALL3": "'\"`", "CTRL": "\x01\x1b\t\\", "C1": "\u0085x\u009f",
       "NL": "line one\nline two\nline three, long enough to be split over several lines\n",
       "ASTRAL": "\U0001F600 wide", "LONG": "x" * 10050, "7": "seven", "10": "ten", "with space": "v",
       "SHORT": "a\nb"}
app = {"name": "pretty", "script": "app.js", "args": [str(i * 7) for i in range(120)],
       "stop_exit_codes": list(range(16)), "env": env}
json.dump({"apps": [app]}, open("pretty.json", "w"))
EOF2
"$PM2" start pretty.json -s || fail "start pretty.json"
"$PM2" stop pretty -s
"$PM2" jlist >pretty-jlist.json
"$PM2" prettylist >pretty-tend.txt
node -e 'process.stdout.write(require("util").inspect(JSON.parse(require("fs").readFileSync(0)), false, null, false) + "\n")' \
	<pretty-jlist.json >pretty-node.txt || fail "node's util.inspect failed"
cmp -s pretty-tend.txt pretty-node.txt || fail "prettylist differs from util.inspect: $(diff pretty-node.txt pretty-tend.txt | head -n 8 | tr '\n' '|')"
grep -q "^      status: 'stopped',$" pretty-tend.txt || fail "prettylist: no status line a grep would find"
"$PM2" delete all -s
