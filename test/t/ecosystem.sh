# Declaration files: every format, comments and trailing commas, PM2's keys with their
# aliases and camelCase spellings, units, each validation message (and that a bad file
# starts nothing), --only, file targets for stop/restart/reload/delete, startOrRestart,
# smart start, and the `ecosystem` sample.
. "$TEND_TOP/test/lib.sh"

D=$T/proj
mkdir -p "$D/sub"
cd "$D" || fail "cd $D"
printf 'setInterval(() => {}, 1000);\n' >"$D/app.js"
printf '#!/bin/sh\nexec sleep 1000\n' >"$D/sub/run.sh"
chmod +x "$D/sub/run.sh"

names() { "$TEND" jlist | "$PY" -c 'import json,sys; print(" ".join(sorted(p["name"] for p in json.load(sys.stdin))))'; }
count() { "$TEND" jlist | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

# ---- bad files: one line with the place and the reason, exit 2, nothing started ----
bad() { # bad FILE ERE [ARGS]
	f=$1 re=$2
	shift 2
	run "$TEND" start "$f" "$@"
	expect_rc 2 "start $f"
	expect_err_line "$re"
	[ "$(count)" = 0 ] || fail "$f: a bad file started something: $(names)"
}
printf '{\n  "apps": [\n    {"name": "a" "script": "app.js"}\n  ]\n}\n' >bad-syntax.json
bad bad-syntax.json "^tend: start: bad-syntax\.json:3:18: expected ',' or '}'$"
printf '{"apps": [{"name": "a", "script": "app.js",}],\n /* unterminated\n' >bad-comment.json
bad bad-comment.json '^tend: start: bad-comment\.json:2:2: unterminated comment$'
printf '{"apps":[{"name":"a","script":"app.js"},{"name":"b","script":"app.js","instances":"four"}]}' >bad-type.json
bad bad-type.json '^tend: start: bad-type\.json: apps\[1\]\.instances: expected a number, got "four"$'
# An unknown key is a warning, once per key, and the start goes on (PM2 ignores it);
# --strict or TEND_STRICT=1 make it an error.
printf '[{"name":"a","script":"app.js","max_restart":3},{"name":"b","script":"app.js","max_restart":4}]' >bad-key.json
bad bad-key.json '^tend: start: bad-key\.json: apps\[0\]\.max_restart: unknown key \(did you mean max_restarts\?\)$' --strict
run env TEND_STRICT=1 "$TEND" start bad-key.json
expect_rc 2
run "$TEND" start bad-key.json -s
expect_rc 0
expect_err_line '^tend: start: bad-key\.json: apps\[0\]\.max_restart: unknown key, ignored \(did you mean max_restarts\?\)$'
[ "$(names)" = "a b" ] || fail "the apps with an unknown key did not start: $(names)"
"$TEND" delete all -s
printf '[{"name":"a","script":"app.js"},{"name":"b","script":"missing.js"}]' >bad-script.json
bad bad-script.json '^tend: start: bad-script\.json: apps\[1\]\.script: missing\.js: No such file or directory$'
printf '[{"name":"a","script":"app.js","cron_restart":"0 25 * * *"}]' >bad-cron.json
bad bad-cron.json '^tend: start: bad-cron\.json: apps\[0\]\.cron_restart: hour: 25 is out of range 0-23$'
printf '[{"name":"a","script":"app.js","max_memory_restart":"lots"}]' >bad-size.json
bad bad-size.json 'apps\[0\]\.max_memory_restart: expected a size .*got "lots"$'
printf '[{"name":"a","script":"app.js","min_uptime":"soon"}]' >bad-dur.json
bad bad-dur.json 'apps\[0\]\.min_uptime: expected a duration .*got "soon"$'
printf '[{"name":"a","script":"app.js","autorestart":"yes"}]' >bad-bool.json
bad bad-bool.json 'apps\[0\]\.autorestart: expected true or false, got "yes"$'
printf '[{"name":"a","script":"app.js"},{"name":"a","script":"app.js"}]' >bad-dup.json
run "$TEND" start bad-dup.json
expect_rc 2
expect_err_has 'declared twice'
printf '{"apps":[{"name":"a","script":"app.js"}],"extra":1}' >bad-top.json
bad bad-top.json 'bad-top\.json: extra: unknown top-level key' --strict

# ---- what PM2 takes that JSON does not: a .json file is a JavaScript expression to PM2 ----
# Unquoted keys, single quotes, expressions, globals: node evaluates it, with a warning
# that says where JSON stopped; an unknown top-level key is a warning; an object in env
# becomes its JSON text, as PM2 passes it.
cat >lenient.json <<'EOF'
// not JSON, but PM2 reads it
{
  apps: [{
    name: 'len',
    script: ['app', '.js'].join(''),
    env: { A: 1 + 1, OBJ: {a: [1, "x"]}, WHERE: process.env.HOME },
  }],
  extra: true,
}
EOF
run "$TEND" start lenient.json -s
expect_rc 0
[ "$ERR" = "tend: start: lenient.json:3:3: expected a string key: not JSON; read as JavaScript, as PM2 does
tend: start: lenient.json: extra: unknown top-level key, ignored" ] || fail "start lenient.json: $ERR"
"$TEND" env "$("$TEND" id len)" >len-env.txt
grep -qx 'A=2' len-env.txt && grep -qxF 'OBJ={"a":[1,"x"]}' len-env.txt && grep -qx "WHERE=$HOME" len-env.txt ||
	fail "lenient.json env: $(grep -E '^(A|OBJ|WHERE)=' len-env.txt | tr '\n' ' ')"
run "$TEND" stop lenient.json -s   # file targets read it the same way
expect_rc 0
status_is len stopped || fail "stop lenient.json"
"$TEND" delete all -s
# Where node cannot make sense of it either, JSON's message says where.
printf '{apps: [{name: "x" script: "app.js"}]}' >bad-js.json
bad bad-js.json '^tend: start: bad-js\.json:1:2: expected a string key$'
printf '"just a string"' >bad-shape.json
bad bad-shape.json 'bad-shape\.json: expected \{"apps": \[...\]\}'
bad no-such-file.json '^tend: start: no-such-file\.json: No such file or directory$'
printf 'web sleep 1\n' >Procfile.bad
bad Procfile.bad '^tend: start: Procfile\.bad:1: expected "name: command"$'
printf '[{"name":"a","script":"app.js"}]' >good.json
bad good.json '^tend: start: --only nope: no such app in good\.json$' --only nope
# Without node, a .config.js is a clear error (node is looked up in PATH).
printf 'module.exports = {apps: [{name: "js", script: "app.js"}]}\n' >nonode.config.js
run env PATH=/nonexistent "$TEND" start nonode.config.js
expect_rc 2
expect_err_line '^tend: start: nonode\.config\.js: evaluating a \.js config needs node'

# ---- JSON with comments, trailing commas, aliases, camelCase, units -----------------
cat >eco.json <<'EOF'
// line comment before everything
{
  /* block comment */
  "apps": [
    {
      "name": "api",                 // trailing comments
      "script": "app.js",
      "nodeArgs": "--max-old-space-size=64",   /* camelCase alias of interpreter_args */
      "maxMemoryRestart": "200M",
      "min_uptime": "2s",
      "kill_timeout": "3s",
      "restart_delay": 250,
      "max_restarts": "5",
      "instances": 2,
      "out": "logs/api-out.log",     // alias of out_file, relative to cwd
      "env": {"A": "from-env", "N": 7, "FLAG": true,},
    },
    {
      "name": "worker",
      "script": "run.sh",
      "cwd": "sub",                  // relative to this file
      "interpreter": "none",
      "args": "one 'two three'",
      "cron": "0 3 * * *",
      "autorestart": false,
    },
  ],
}
EOF
run "$TEND" start eco.json -s
expect_rc 0 "start eco.json"
[ "$(names)" = "api api worker" ] || fail "eco.json started: $(names)"
is() { # is APP EXPR WANT
	got=$(jget "$1" "$2")
	[ "$got" = "$3" ] || fail "$1: $2 is '$got', expected '$3'"
}
units_and_aliases() {
	is api 'e["max_memory_restart"]' 209715200
	is api 'e["min_uptime"]' 2000
	is api 'e["kill_timeout"]' 3000
	is api 'e["max_restarts"]' 5
	is api 'e["restart_delay"]' 250
	is api 'e["node_args"]' "['--max-old-space-size=64']"
	is api 'e["pm_out_log_path"]' "$D/logs/api-out-0.log"
	is worker 'e["pm_cwd"]' "$D/sub"
	is worker 'e["args"]' "['one', 'two three']"
	is worker 'e["exec_interpreter"]' none
	is worker 'e["cron_restart"]' "0 3 * * *"
	is worker 'e["autorestart"]' False
}
env_strings() {
	id=$("$TEND" id api | head -n 1)
	"$TEND" env "$id" >"$T/env.txt"
	for want in N=7 FLAG=true A=from-env; do
		grep -qx "$want" "$T/env.txt" || fail "env lacks $want"
	done
}
part "units and aliases" units_and_aliases
part "env values become strings" env_strings
part_report

# ---- start FILE again: its running apps take the file's declaration (PM2); -f adds copies
pids_before=$("$TEND" pid)
run "$TEND" start eco.json -s
expect_rc 0
[ "$(count)" = 3 ] || fail "starting eco.json twice made $(count) instances"
for p in $pids_before; do dead "$p" || fail "start eco.json again did not restart pid $p"; done
run "$TEND" start eco.json --only worker -f -s
expect_rc 0
[ "$(names)" = "api api worker worker" ] || fail "-f --only worker: $(names)"

# ---- file targets --------------------------------------------------------------------
run "$TEND" delete eco.json --only worker -s
expect_rc 0
[ "$(names)" = "api api" ] || fail "delete eco.json --only worker left: $(names)"
run "$TEND" stop eco.json -s
expect_rc 0
status_is api stopped || fail "stop eco.json: api is $(jget api 'e["status"]')"
run "$TEND" restart eco.json --only api -s
expect_rc 0
status_is api online || fail "restart eco.json: api is $(jget api 'e["status"]')"
# restart through the file reads it again: a changed key takes effect.
sed 's/"restart_delay": 250/"restart_delay": 777/' eco.json >eco2.json
run "$TEND" reload eco2.json --only api -s
expect_rc 0
[ "$(jget api 'e["restart_delay"]')" = 777 ] || fail "reload eco2.json did not take the new restart_delay"
# restart FILE starts the file's apps that are not running, as PM2 does (and says so).
pids_before=$("$TEND" pid)
run "$TEND" restart eco.json -s
expect_rc 0
expect_err_line "^tend: restart: worker: not running, starting it$"
[ "$(names)" = "api api worker" ] || fail "restart eco.json: $(names)"
for p in $pids_before; do dead "$p" || fail "restart eco.json did not restart pid $p"; done
pids_before=$("$TEND" pid)
run "$TEND" startOrRestart eco.json -s
expect_rc 0
[ "$(names)" = "api api worker" ] || fail "startOrRestart: $(names)"
for p in $pids_before; do dead "$p" || fail "startOrRestart did not restart pid $p"; done
run "$TEND" startOrReload eco.json --only api -s
expect_rc 0
# Instance count follows the file: 2 → 1 removes an instance, 1 → 3 adds two.
sed 's/"instances": 2/"instances": 1/' eco.json >eco1.json
run "$TEND" startOrRestart eco1.json --only api -s
expect_rc 0
[ "$(names)" = "api worker" ] || fail "instances 2 → 1: $(names)"
sed 's/"instances": 2/"instances": 3/' eco.json >eco3.json
run "$TEND" startOrGracefulReload eco3.json --only api -s
expect_rc 0
[ "$(names)" = "api api api worker" ] || fail "instances 1 → 3: $(names)"
"$TEND" delete all -s

# ---- the other shapes: "pm2" key, an array, one app, stdin, Procfile, .config.js ----------
printf '{"pm2": [{"name": "p1", "script": "app.js"}]}' >pm2key.json
printf '[{"name": "arr1", "script": "app.js"}, {"name": "arr2", "script": "app.js"}]' >array.json
printf '{"name": "single", "script": "app.js"}' >single.json
for f in pm2key.json array.json single.json; do
	run "$TEND" start "$f" -s
	expect_rc 0 "start $f"
done
printf '{"apps": [{"name": "fromstdin", "script": "app.js"}]}' | "$TEND" start - -s ||
	fail "start - (stdin) failed"
printf '# comment\nweb: sleep 1000\n\nclock: exec sleep 999\n' >Procfile
run "$TEND" start Procfile -s
expect_rc 0
[ "$(names)" = "arr1 arr2 clock fromstdin p1 single web" ] || fail "shapes started: $(names)"
[ "$(jget web 'e["pm_exec_path"]')" = "sleep 1000" ] || fail "Procfile command: $(jget web 'e["pm_exec_path"]')"
"$TEND" delete all -s
if command -v node >/dev/null 2>&1; then
	cat >ecosystem.config.js <<'EOF'
const base = { script: "app.js", env: { FROM_JS: String(6 * 7) } };
module.exports = {
  apps: [ { ...base, name: "js-a" }, { ...base, name: "js-b", env_staging: { FROM_JS: "staging" } } ],
};
EOF
	# No argument: ecosystem.json first, then ecosystem.config.js.
	run "$TEND" start --env staging -s
	expect_rc 0 "start (ecosystem.config.js)"
	[ "$(names)" = "js-a js-b" ] || fail "ecosystem.config.js started: $(names)"
	"$TEND" env "$("$TEND" id js-a)" | grep -qx FROM_JS=42 || fail "js-a env from the .js file"
	"$TEND" env "$("$TEND" id js-b)" | grep -qx FROM_JS=staging || fail "js-b env_staging"
	printf 'module.exports = { apps: [ { name: "x", script: "app.js" ' >broken.config.js
	run "$TEND" start broken.config.js
	expect_rc 2
	expect_err_line '^tend: start: broken\.config\.js: node could not evaluate it: '
	"$TEND" delete all -s
	# A config that prints is still read; one that leaves a timer running still ends.
	cat >chatty.config.js <<'EOF'
console.log("hello from the config");
setInterval(() => {}, 1000);
module.exports = { apps: [ { name: "chatty", script: "app.js" } ] };
EOF
	run "$TEND" start chatty.config.js -s
	expect_rc 0
	expect_err_has "hello from the config"
	[ "$(names)" = "chatty" ] || fail "chatty.config.js started: $(names)"
	"$TEND" delete all -s
	# One that never ends: a clear error after TEND_CONFIG_TIMEOUT, and node is gone.
	printf 'while (true) {}\n' >forever.config.js
	run env TEND_CONFIG_TIMEOUT=2 "$TEND" start forever.config.js
	expect_rc 2
	expect_err_line '^tend: start: forever\.config\.js: node did not finish evaluating it within 2 s'
	no_evaluator() { ! pgrep -f "forever.config.js" >/dev/null; }
	no_evaluator || fail "the evaluator of forever.config.js survived"
	# The command killed meanwhile: the evaluator dies with it.
	"$TEND" start forever.config.js >/dev/null 2>&1 &
	starter=$!
	track_pid $starter
	wait_for 10 pgrep -f "forever.config.js"
	kill -9 "$starter"
	wait_for 10 no_evaluator
else
	echo "note: node not installed, ecosystem.config.js not tested"
fi

# ---- tend ecosystem: a commented sample that starts as it is ---------------------------
# PM2's init writes ecosystem.config.js (replacing one that exists, kept here as .bak);
# --json writes ecosystem.json.
mkdir "$T/init" && cd "$T/init" || fail "cd init"
run "$TEND" init
expect_rc 0
expect_out "File $T/init/ecosystem.config.js generated"
grep -q '^//' ecosystem.config.js || fail "the sample has no comments"
run "$TEND" ecosystem simple
expect_rc 0
expect_out_has "the previous one is now ecosystem.config.js.bak"
grep -q '^//' ecosystem.config.js.bak || fail "the previous sample was not kept"
run "$TEND" ecosystem
printf 'setInterval(() => {}, 1000);\n' >app.js
if command -v node >/dev/null 2>&1; then
	run "$TEND" start --env production -s
	expect_rc 0 "start the sample"
	"$TEND" env "$("$TEND" id app)" | grep -qx NODE_ENV=production || fail "sample env_production"
	"$TEND" delete all -s
fi
run "$TEND" init --json
expect_rc 0
expect_out "File $T/init/ecosystem.json generated"
run "$TEND" start ecosystem.json --env production -s
expect_rc 0 "start the JSON sample"
"$TEND" env "$("$TEND" id app)" | grep -qx NODE_ENV=production || fail "JSON sample env_production"
run "$TEND" ecosystem - --json
expect_rc 0
expect_out_has '"apps"'

# ---- PM2 spellings that must work: windowsHide (accepted, ignored), out_file true
# (the default path), envNAME in camelCase, a cwd with "..", uid by name ----------------
cd "$D" || fail "cd $D"
"$TEND" delete all -s >/dev/null 2>&1
cat >spell.json <<EOF2
[{"name": "spelled", "script": "app.js", "windowsHide": true, "out_file": true,
  "envStaging": {"STAGE": "camel"}, "cwd": "sub/.."}]
EOF2
run "$TEND" start spell.json --env staging -s
expect_rc 0 "start spell.json"
[ "$(jget spelled 'e["pm_cwd"]')" = "$D" ] || fail "cwd sub/.. shown as $(jget spelled 'e["pm_cwd"]')"
[ "$(jget spelled 'e["pm_out_log_path"]')" = "$TEND_HOME/logs/spelled-out.log" ] || fail "out_file true: $(jget spelled 'e["pm_out_log_path"]')"
"$TEND" env "$("$TEND" id spelled)" | grep -qx STAGE=camel || fail "envStaging not selected by --env staging"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	printf '[{"name": "asnobody", "script": "sleep", "args": "1000", "uid": "nobody"}]' >uid.json
	run "$TEND" start uid.json -s
	expect_rc 0 "start uid.json"
	pid=$("$TEND" pid asnobody)
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$(id -u nobody)" ] || fail "uid by name"
	[ "$(awk '/^Gid:/ {print $2}' "/proc/$pid/status")" = "$(id -g nobody)" ] || fail "uid by name: not the user's primary group"
fi
