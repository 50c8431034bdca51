# The smaller findings of issue 11, each as it was reported.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
sock="$TEND_HOME/tend.sock"
"$TEND" ping >/dev/null

# Invalid UTF-8 (lead bytes F5..FF) never reaches JSON output: U+FFFD instead.
# (F5 80 80 looks like a three-byte sequence; it is not one.)
"$PY" -c 'import sys; sys.stdout.buffer.write(b"#!/bin/sh\nprintf \"bad \\365\\200\\200 end\\\\n\"\nexec sleep 1000\n")' >utf.sh
chmod +x utf.sh
"$TEND" start ./utf.sh -n utf -s || fail "start utf"
wait_for 10 test -s "$TEND_HOME/logs/utf-out.log"
"$TEND" logs utf --nostream --json --lines 1 >utf.json
"$PY" -c '
import json, sys
line = open(sys.argv[1], "rb").read()
line.decode("utf-8")   # strict: raises on invalid UTF-8
rec = json.loads(line)
assert rec["message"].startswith("bad \ufffd"), rec' utf.json || fail "invalid UTF-8 in logs --json"
"$TEND" delete utf -s

# Names: no newlines, escapes or other control characters, no "/", ".", "..".
for bad in "$(printf "a\nb")" "$(printf "esc\033[31m")" "$(printf "tab\tx")" "." ".."; do
	run "$TEND" start /bin/sleep -n "$bad" -- 1000
	expect_rc 2
	expect_err_has "name"
done
for req in '{"cmd":"start","proto":2,"apps":[{"name":"nl\nx","script":"/bin/true"}]}' \
	'{"cmd":"start","proto":2,"apps":[{"name":"..","script":"/bin/true"}]}'; do
	reply=$(printf '%s\n' "$req" | "$PY" "$TOP/test/sock.py" "$sock")
	case $reply in *'"ok":false'*'name'*'"code":2'*) ;; *) fail "daemon took a bad name: $reply" ;; esac
done
[ "$(jl 'len(d)')" = 0 ] || fail "a bad name was registered"

# \u0000 is refused with a clear error, never truncated.
printf '{"apps":[{"name":"nul\\u0000x","script":"/bin/sleep","args":["1000"]}]}\n' >nul1.json
run "$TEND" start nul1.json
expect_rc 2
expect_err_line '^tend: start: nul1\.json: apps\[0\]\.name: contains \\u0000'
printf '{"apps":[{"name":"nulenv","script":"/bin/sleep","args":["1000"],"env":{"SECRET":"ab\\u0000cd"}}]}\n' >nul2.json
run "$TEND" start nul2.json
expect_rc 2
expect_err_has 'SECRET: contains \u0000'
reply=$(printf '{"cmd":"start","proto":2,"apps":[{"name":"n","script":"/bin/true","env":{"A":"x\\u0000y"}}]}\n' |
	"$PY" "$TOP/test/sock.py" "$sock")
case $reply in *'"ok":false'*'\\u0000'*) ;; *) fail "the daemon took \\u0000: $reply" ;; esac
[ "$(jl 'len(d)')" = 0 ] || fail "a \\u0000 app was registered"

# Duplicate keys: the last one counts, as in JavaScript, at every level.
cat >dup.json <<'EOF'
{"apps": [{"name": "first", "script": "/bin/sleep", "args": ["1000"]}],
 "apps": [{"name": "dup", "name": "dup-last", "script": "/bin/sleep", "args": ["1000"],
           "env": {"X": "1", "X": "2"}}]}
EOF
run "$TEND" start dup.json -s
expect_rc 0
[ "$(jl '[p["name"] for p in d]')" = '["dup-last"]' ] || fail "duplicate keys: $(jl '[p["name"] for p in d]')"
"$TEND" env "$("$TEND" id dup-last)" | grep -qx X=2 || fail "duplicate env key: not the last"
"$TEND" delete all -s

# help for no such applet, --install errors.
run "$TEND" help nosuch
expect_rc 2
expect_err_line '^tend: help: nosuch: no such applet'
run "$TEND" --install /nonexistent
expect_rc 2
expect_err_line '^tend: install: /nonexistent: not a directory$'

# A bad --listen host is an error in fork mode too.
run "$TEND" start /bin/sleep -n lh --listen "not-an-ip:8080" -- 1000
expect_rc 2
expect_err_has "not a numeric address: not-an-ip"

# A save that fails is logged as a failure, not a success.
mkdir -p "$TEND_HOME/dump.json.new"   # the temporary cannot be created
"$TEND" start /bin/sleep -n saved -s -- 1000
run "$TEND" save
expect_rc 1
grep -q "save failed:" "$TEND_HOME/tend.log" || fail "the failed save is not logged as one"
grep -q "save: 1 app(s)" "$TEND_HOME/tend.log" && fail "the failed save was logged as a success"
rmdir "$TEND_HOME/dump.json.new"
"$TEND" delete all -s

# Pid files in a directory that does not exist yet: made, as log directories are.
"$TEND" start /bin/sleep -n pidded -p "$T/new/dir/app.pid" -s -- 1000 || fail "start pidded"
# PM2's naming: app.pid becomes app-ID.pid.
[ "$(cat "$T/new/dir/app-$(jget pidded 'p["pm_id"]').pid")" = "$(jget pidded 'p["pid"]')" ] || fail "pid file in a new directory"
"$TEND" delete all -s

# resurrect keeps each instance's state; an errored app is saved as errored and tried again.
"$TEND" start /bin/sleep -n trio -i 3 -x -s -- 1000
"$TEND" stop "$("$TEND" id trio | sed -n 2p)" -s
"$TEND" start "exit 7" -n broken --max-restarts 1 --min-uptime 10s -s 2>/dev/null
wait_for 20 status_is broken errored
"$TEND" save >/dev/null || fail "save"
"$PY" -c '
import json, sys
apps = {a["name"]: a for a in json.load(open(sys.argv[1]))["apps"]}
assert apps["trio"]["instances_status"] == ["online", "stopped", "online"], apps["trio"]["instances_status"]
assert apps["broken"]["status"] == "errored", apps["broken"]["status"]' "$TEND_HOME/dump.json" ||
	fail "the dump's states"
"$TEND" kill
run "$TEND" resurrect -s
# broken runs again and fails again: later, or (a loaded machine) before resurrect is done
[ "$RC" = 0 ] || { [ "$RC" = 1 ] && [ "$ERR" = "tend: resurrect: broken[3] errored" ]; } ||
	fail "resurrect: exit status $RC: $ERR"
[ "$(jl '[p["pm2_env"]["status"] for p in by("trio")]')" = '["online", "stopped", "online"]' ] ||
	fail "trio after resurrect: $(jl '[p["pm2_env"]["status"] for p in by("trio")]')"
wait_for 20 sh -c "\"$TEND\" jlist | grep -q '\"restart_time\":[1-9]'"
"$TEND" delete all -s

# Scaling does not rename the log file of an instance that runs on.
"$TEND" start "while :; do echo tick; sleep 0.1; done" -n ticker -i 2 -x -s
kept=$("$TEND" id ticker | tail -n 1)   # scale removes the oldest first
wait_for 10 test -s "$TEND_HOME/logs/ticker-out-$kept.log"
run "$TEND" scale ticker 1
expect_rc 0
size=$(stat -c %s "$TEND_HOME/logs/ticker-out-$kept.log")
wait_for 10 sh -c "[ \$(stat -c %s '$TEND_HOME/logs/ticker-out-$kept.log') -gt $size ]"
[ ! -e "$TEND_HOME/logs/ticker-out.log" ] || fail "scaling down switched the instance to another log file"
"$TEND" delete all -s

# Found by the fuzzers: jsmn's lenient objects ({"a"}: a key without a value) are refused
# whole; a fraction with an exponent is not a duration; a name must be valid UTF-8 (it
# went to the daemon changed, and file targets no longer found it).
for req in '{"cmd":"ping","x":{"a"}}' '{"cmd":"start","proto":2,"apps":[{"name":"k","script":"/bin/true","env":{"X"}}]}'; do
	reply=$(printf '%s\n' "$req" | "$PY" "$TOP/test/sock.py" "$sock")
	case $reply in *'"ok":false'*'a key without a value'*'"code":2'*) ;; *) fail "lenient object: $req -> $reply" ;; esac
done
run "$TEND" start /bin/sleep -n dur --kill-timeout 1.5e3s -- 1000
expect_rc 2
"$PY" -c 'import sys; sys.stdout.buffer.write(b"{\"apps\":[{\"name\":\"caf\xe9\",\"script\":\"/bin/sleep\",\"args\":[\"1000\"]}]}\n")' >latin1.json
run "$TEND" start latin1.json
expect_rc 2
expect_err_has "name: must be valid UTF-8"
[ "$(jl 'len(d)')" = 0 ] || fail "something was registered: $(jl '[p["name"] for p in d]')"
