# Watchdogs: a memory hog restarted soon after crossing max_memory_restart (the RSS of
# its whole tree), cron restarts with a seconds field (not for an app the user
# stopped; a finished job runs again), and watch: restart on change, one restart for a
# burst of 1,000 writes, new directories, ignored paths, stop --watch, restart --watch.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
restarts() { jget "$1" 'e["restart_time"]'; }
reason() { jget "$1" 'e["restart_reason"]'; }
restarts_at_least() { [ "$(restarts "$1")" -ge "$2" ] 2>/dev/null; }
restarts_are() { [ "$(restarts "$1")" = "$2" ]; }

# ---- max_memory_restart --------------------------------------------------------------
# The hog's child grows: the limit counts the whole tree, not just the leader. (How
# soon the restart comes is measured by bench/soak.sh, not here: this machine is shared.)
cat >hog.sh <<EOF
#!/bin/sh
"$PY" -c '
import time
time.sleep(0.3)
block = bytearray(120 << 20)
for i in range(0, len(block), 4096): block[i] = 1
time.sleep(1000)
'
EOF
chmod +x hog.sh
"$TEND" start "$T/hog.sh" -n hog --max-memory-restart 80M -s || fail "start hog"
wait_for 60 restarts_at_least hog 1
case $(reason hog) in "memory "*" over max_memory_restart 80.0mb") ;; *) fail "restart reason: $(reason hog)" ;; esac
grep -q "hog\[.*memory .* over max_memory_restart 80.0mb: restarting" "$TEND_HOME/tend.log" ||
	fail "memory restart not in the daemon log"
"$TEND" describe hog | grep -q "last restart reason *memory" || fail "describe lacks the reason"
"$TEND" delete hog -s

# ---- cron_restart ----------------------------------------------------------------------
"$TEND" start "sleep 1000" -n ticker --cron "*/1 * * * * *" -s || fail "start --cron"
wait_for 10 restarts_at_least ticker 2
[ "$(reason ticker)" = 'cron_restart "*/1 * * * * *"' ] || fail "cron reason: $(reason ticker)"
# Stopped by the user: cron leaves it alone, while tock, on the same schedule, is
# restarted twice meanwhile.
"$TEND" start "sleep 1000" -n tock --cron "*/1 * * * * *" -s || fail "start tock"
"$TEND" stop ticker -s
tocks=$(restarts tock)
wait_for 10 restarts_at_least tock $((tocks + 2))
status_is ticker stopped || fail "cron started an app the user stopped"
"$TEND" delete ticker tock -s
# A job (autorestart off) that finished runs again at the next match.
printf 'date +%%s%%N >>%s/runs\n' "$T" >job.sh
"$TEND" start "$T/job.sh" -n job --no-autorestart --cron "*/1 * * * * *" -s || fail "start job"
wait_for 10 sh -c "[ \$(wc -l <'$T/runs') -ge 3 ]"
"$TEND" delete job -s
# 0 disables; a bad expression names its field.
run "$TEND" start "sleep 1000" -n nocron --cron "61 * * * *"
expect_rc 2
expect_err_line '^tend: start: --cron-restart: minute: 61 is out of range 0-59$'

# ---- watch -------------------------------------------------------------------------------
# What must not restart is checked without a sleep: a change that must restart comes
# after it, and the daemon's log names the first change it counted for that restart
# (for w while it watches); ws watches the same src/ and restarts on what w ignores
# when it does not watch.
W=$T/watched
mkdir -p "$W/src" "$W/node_modules/dep" "$W/.git" "$W/logs"
printf 'setInterval(() => {}, 1000);\n' >"$W/app.js"
cat >watch.json <<EOF
[{"name": "w", "script": "app.js", "cwd": "$W", "watch": true, "watch_delay": 300,
  "ignore_watch": ["logs", "*.tmp"]},
 {"name": "ws", "script": "app.js", "cwd": "$W", "watch": ["$W/src"], "watch_delay": 300}]
EOF
# counted_first PATH: w's latest watch restart began with PATH
counted_first() {
	got=$(grep "^[^ ]* w: .* changed; restarting" "$TEND_HOME/tend.log" | tail -n 1 | sed 's/^[^ ]* w: \(.*\) changed; restarting.*/\1/')
	[ "$got" = "$1" ] || fail "w's restart began with a change to '$got', not $1"
}
# ws_restarted_since N: ws restarted since it had N restarts
ws_restarted_since() { restarts_at_least ws $(($1 + 1)); }
"$TEND" start watch.json -s || fail "start watch.json"
[ "$(jget w 'e["watch"]')" = True ] || fail "watch not on"
echo change >"$W/src/a.txt"
wait_for 5 restarts_are w 1
[ "$(reason w)" = "watched files changed" ] || fail "watch reason: $(reason w)"
counted_first src/a.txt
status_is w online || fail "w not online after a watch restart"
# A burst of 1,000 writes: one restart, then a later change makes exactly one more.
i=0
while [ $i -lt 1000 ]; do echo $i >"$W/src/f$((i % 50))"; i=$((i + 1)); done
wait_for 5 restarts_are w 2
echo x >"$W/src/after-burst"
wait_for 5 restarts_at_least w 3
counted_first src/after-burst
[ "$(restarts w)" = 3 ] || fail "a burst of 1000 writes made $(( $(restarts w) - 2 )) restarts"
# Ignored: node_modules, dot-directories, ignore_watch globs.
echo x >"$W/node_modules/dep/index.js"
echo x >"$W/.git/HEAD"
echo x >"$W/logs/app.log"
echo x >"$W/src/scratch.tmp"
echo x >"$W/src/after-ignored"
wait_for 5 restarts_at_least w 4
counted_first src/after-ignored
[ "$(restarts w)" = 4 ] || fail "an ignored path restarted the app ($(restarts w))"
# A directory made after the start is watched too (making it is a change).
mkdir -p "$W/new/deeper"
wait_for 5 restarts_at_least w 5
counted_first new
echo x >"$W/new/deeper/file"
wait_for 5 restarts_at_least w 6
counted_first new/deeper/file
# stop turns watching off, as in PM2 7 (--watch is accepted too): changes do nothing,
# and a start after it does not watch either.
"$TEND" stop w -s || fail "stop"
[ "$(jget w 'e["watch"]')" = False ] || fail "stop left watch on"
"$TEND" start w -s || fail "start after stop"
[ "$(jget w 'e["watch"]')" = False ] || fail "start after stop turned watching on again"
"$TEND" stop w --watch -s || fail "stop --watch"
ws_now=$(restarts ws)
echo again >"$W/src/a.txt"
wait_for 5 ws_restarted_since "$ws_now"
status_is w stopped || fail "a change started a stopped app"
# restart --watch toggles it back on.
"$TEND" restart w --watch -s || fail "restart --watch"
[ "$(jget w 'e["watch"]')" = True ] || fail "restart --watch did not turn watch on"
before=$(restarts w) ws_now=$(restarts ws)
echo more >"$W/src/a.txt"
wait_for 5 restarts_at_least w $((before + 1))
wait_for 5 ws_restarted_since "$ws_now"
"$TEND" restart w --watch -s || fail "restart --watch (off)"
[ "$(jget w 'e["watch"]')" = False ] || fail "restart --watch did not toggle watch off"
before=$(restarts w) ws_now=$(restarts ws)
echo off >"$W/src/a.txt"
wait_for 5 ws_restarted_since "$ws_now"
[ "$(restarts w)" = "$before" ] || fail "restart --watch off: a change still restarted"
# Watching turned off is part of the declaration: save keeps it off.
"$TEND" save >/dev/null || fail "save"
"$PY" -c 'import json,sys; a=json.load(open(sys.argv[1]))["apps"][0]; assert a["watching"] is False, a.get("watching")' "$TEND_HOME/dump.json" ||
	fail "the dump does not keep watching off"

# restart "watch": true of an app declared over the protocol without a cwd (the protocol
# fuzzer's find): it watches the script's directory, not a null path.
sock() { printf '%s\n' "$1" | "$PY" "$TEND_TOP/test/sock.py" "$TEND_HOME/tend.sock"; }
mkdir -p "$T/nocwd" && printf 'while :; do sleep 1; done\n' >"$T/nocwd/loop.sh"
out=$(sock "{\"cmd\":\"start\",\"apps\":[{\"name\":\"nocwd\",\"script\":\"$T/nocwd/loop.sh\",\"exec_interpreter\":\"/bin/sh\"}]}")
case $out in *'"ok":true'*) ;; *) fail "start without cwd: $out" ;; esac
out=$(sock '{"cmd":"restart","targets":["nocwd"],"watch":true}')
case $out in *'"ok":true'*) ;; *) fail "restart watch:true without cwd: $out" ;; esac
[ "$(jget nocwd 'e["watch_paths"]')" = "['$T/nocwd/']" ] || fail "watch paths: $(jget nocwd 'e.get("watch_paths")')"
"$TEND" delete nocwd -s

# --ext (PM2's): only files with those extensions count, in directories made later too.
# The daemon logs the first change it counted: not the .txt or .md written before the .js.
X=$T/exts
mkdir -p "$X/lib"
printf 'setInterval(() => {}, 1000);\n' >"$X/app.js"
"$TEND" start "$X/app.js" -n wext --watch --ext js,.json --watch-delay 200 --cwd "$X" -s || fail "start --ext"
[ "$(jget wext 'e["watch_ext"]')" = "['js', '.json']" ] || fail "watch_ext: $(jget wext 'e.get("watch_ext")')"
echo x >"$X/notes.txt"
echo x >"$X/lib/README.md"
mkdir -p "$X/lib/later"
echo x >"$X/lib/later/mod.js"
wait_for 5 restarts_are wext 1
grep "wext: .* changed; restarting" "$TEND_HOME/tend.log" | tail -n 1 | grep -q "lib/later/mod.js changed" ||
	fail "--ext counted another file: $(grep 'wext: .* changed' "$TEND_HOME/tend.log" | tail -n 1)"
"$TEND" describe wext | grep -q "watch extensions" || fail "describe lacks the watch extensions"
"$TEND" delete wext -s
# in a file, "ext" may be one string as --ext takes it
printf '{"apps": [{"name": "wext2", "script": "app.js", "cwd": "%s", "watch": true, "ext": "js, .json"}]}\n' "$X" >"$T/ext.json"
"$TEND" start "$T/ext.json" -s || fail "start ext.json"
[ "$(jget wext2 'e["watch_ext"]')" = "['js', '.json']" ] || fail "ext as a string: $(jget wext2 'e.get("watch_ext")')"
"$TEND" delete wext2 -s
