# The daemon: started on demand, one per home, files and modes, kill, foreground mode,
# build check.
. "$TEND_TOP/test/lib.sh"

run "$TEND" ping
expect_rc 0
expect_out pong
pid=$(cat "$TEND_HOME/tend.pid")
alive "$pid" || fail "daemon $pid from tend.pid is not running"
[ "$(stat -c %a "$TEND_HOME")" = 700 ] || fail "home mode $(stat -c %a "$TEND_HOME"), expected 700"
[ -S "$TEND_HOME/tend.sock" ] || fail "no socket"
[ "$(stat -c %a "$TEND_HOME/tend.sock")" = 600 ] || fail "socket mode $(stat -c %a "$TEND_HOME/tend.sock")"
[ -d "$TEND_HOME/logs" ] && [ -d "$TEND_HOME/pids" ] || fail "no logs/ or pids/"
grep -q "daemon $pid started" "$TEND_HOME/tend.log" || fail "tend.log lacks the start line"
# Detached: its own session, not our child, no terminal.
sid=$(awk '{print $6}' "/proc/$pid/stat")
mysid=$(awk '{print $6}' "/proc/$$/stat")
[ "$sid" != "$mysid" ] || fail "daemon is in our session ($sid)"
[ "$(awk '{print $7}' "/proc/$pid/stat")" = 0 ] || fail "daemon has a controlling terminal"
[ "$(readlink /proc/$pid/fd/0)" = /dev/null ] || fail "daemon stdin is $(readlink /proc/$pid/fd/0)"

# A foreground daemon for the same home refuses to start.
run "$TEND" daemon
expect_rc 1
expect_err_line "^tend: daemon: a daemon is already running for $TEND_HOME\$"

# kill: daemon gone, socket and pid file removed; a second kill is a no-op.
run "$TEND" kill
expect_rc 0
dead "$pid" || fail "daemon $pid still running after kill"
[ ! -e "$TEND_HOME/tend.sock" ] || fail "socket left behind"
[ ! -e "$TEND_HOME/tend.pid" ] || fail "pid file left behind"
run "$TEND" kill
expect_rc 0
[ ! -e "$TEND_HOME/tend.sock" ] || fail "kill without a daemon started one"

# Concurrent first commands start exactly one daemon.
export TEND_HOME="$T/home-race"
for i in 1 2 3 4 5 6; do "$TEND" ping >"$T/ping.$i" 2>&1 & done
wait
for i in 1 2 3 4 5 6; do [ "$(cat "$T/ping.$i")" = pong ] || fail "ping $i: $(cat "$T/ping.$i")"; done
n=$(grep -c 'daemon [0-9]* started' "$TEND_HOME/tend.log")
[ "$n" = 1 ] || fail "$n daemons started for one home"
"$TEND" kill

# A stale socket (daemon killed -9) does not stop a new daemon.
export TEND_HOME="$T/home-stale"
"$TEND" ping >/dev/null
old=$(cat "$TEND_HOME/tend.pid")
kill -9 "$old"
wait_for 5 dead "$old"
[ -S "$TEND_HOME/tend.sock" ] || fail "expected a stale socket"
run "$TEND" ping
expect_out pong
new=$(cat "$TEND_HOME/tend.pid")
[ "$new" != "$old" ] || fail "no new daemon"
"$TEND" kill

# The daemon checks the client's build; the CLI explains how to fix a mismatch.
export TEND_HOME="$T/home-build"
"$TEND" ping >/dev/null
reply=$(printf '{"cmd":"list","build":"not-this-build"}\n' | python3 "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'"code":3'*) ;; *) fail "other build accepted: $reply" ;; esac
"$TEND" kill
# A fake daemon of another build: the CLI refuses it with one line, exit 1.
python3 "$TOP/test/sock.py" --serve "$TEND_HOME/tend.sock" \
	'{"ok":false,"error":"the daemon is build 000000000000, this client is build x","code":3}' &
track_pid $!
wait_for 5 test -S "$TEND_HOME/tend.sock"
run "$TEND" list
expect_rc 1
expect_err_line "^tend: list: the daemon is build 000000000000.*tend kill"
