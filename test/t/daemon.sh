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

# The protocol version decides, not the build: another build is served; a protocol
# older than the daemon takes is refused (code 3), and the CLI says how to fix it.
export TEND_HOME="$T/home-build"
"$TEND" ping >/dev/null
reply=$(printf '{"cmd":"list","build":"not-this-build","proto":2}\n' | python3 "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'"ok":true'*) ;; *) fail "another build of the same protocol refused: $reply" ;; esac
reply=$(printf '{"cmd":"list","build":"not-this-build","proto":0}\n' | python3 "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'(protocol 0)'*'"code":3'*) ;; *) fail "protocol 0 accepted: $reply" ;; esac
"$TEND" kill
# A fake daemon that speaks another protocol: the CLI refuses it with one line, exit 1.
python3 "$TOP/test/sock.py" --serve "$TEND_HOME/tend.sock" \
	'{"ok":false,"error":"the daemon is build 000000000000 (protocol 9 to 9), this client is build x (protocol 2)","code":3}' &
fake=$!
track_pid $fake
wait_for 5 test -S "$TEND_HOME/tend.sock"
run "$TEND" list
expect_rc 1
expect_err_line "^tend: list: the daemon is build 000000000000 .*tend update"
kill "$fake"
# A daemon from before protocol versions refused every other build: the CLI asks again
# as that daemon's build, and is served.
rm -f "$TEND_HOME/tend.sock"
python3 - "$TEND_HOME/tend.sock" <<'PY' &
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(8)
while True:
    c, _ = s.accept()
    data = b""
    while not data.endswith(b"\n"):
        chunk = c.recv(65536)
        if not chunk: break
        data += chunk
    req = json.loads(data)
    if req.get("build") != "0123456789ab":
        c.sendall(b'{"ok":false,"error":"the daemon is build 0123456789ab, this client is build %s","code":3}\n' % req["build"].encode())
    else:
        c.sendall(b'[]\n{"ok":true}\n')
    c.close()
PY
old_daemon=$!
track_pid $old_daemon
wait_for 5 test -S "$TEND_HOME/tend.sock"
run "$TEND" jlist
expect_rc 0
expect_out "[]"
kill "$old_daemon"
rm -f "$TEND_HOME/tend.sock"
