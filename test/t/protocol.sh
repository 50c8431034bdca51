# The control protocol survives garbage: the daemon logs and goes on.
. "$TEND_TOP/test/lib.sh"

sock="$TEND_HOME/tend.sock"
"$TEND" ping >/dev/null
pid=$(cat "$TEND_HOME/tend.pid")
"$TEND" start "sleep 1000" -n sleeper -s

still_fine() {
	alive "$pid" || fail "daemon died after: $1"
	run "$TEND" ping
	expect_out pong
	run "$TEND" jlist
	expect_out_has '"name":"sleeper"'
}

# Bad requests get a clear error line with code 2.
for req in 'not json' '[1,2]' '{"cmd":"nope"}' '{"nocmd":1}' '{"cmd":"start"}' \
	'{"cmd":"start","apps":[{"script":"/bin/true"}]}' '{"cmd":"stop","targets":[]}' \
	'{"cmd":"stop","targets":[1]}' '{"cmd":"start","apps":[{"name":"x","script":"rel"}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","instances":"four"}]}' \
	'{"cmd":"signal","signal":"NOPE","targets":["all"]}' \
	'{"cmd":"start","existing":"bogus","apps":[{"name":"x","script":"/bin/true"}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","cron_restart":"* * *"}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","watch":"/tmp"}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","watch":["rel"]}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","memory_check_interval":1}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","env":{"A":[1]}}]}' \
	'{"cmd":"start","apps":[{"name":"x","script":"/bin/true","shell_env":"PATH=/bin"}]}' \
	'{"cmd":"restart","targets":["sleeper"],"shell_env":"PATH=/bin"}'; do
	reply=$(printf '%s\n' "$req" | python3 "$TOP/test/sock.py" "$sock")
	case $reply in *'"ok":false'*'"code":2'*) ;; *) fail "request $req: reply $reply" ;; esac
done
reply=$(printf '{"cmd":"stop","targets":["ghost"]}\n' | python3 "$TOP/test/sock.py" "$sock")
case $reply in *'"ok":false'*'not found: ghost'*'"code":1'*) ;; *) fail "ghost: $reply" ;; esac
still_fine "bad requests"

# Random bytes, with and without newlines.
head -c 65536 /dev/urandom | python3 "$TOP/test/sock.py" "$sock" >/dev/null
still_fine "random bytes"

# A line over 16 MiB: refused with an error, connection closed, nothing else happens.
python3 - "$sock" <<'PY' || fail "a 17 MiB line: no error reply"
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(10)
try:
    s.sendall(b'{"cmd":"ping","pad":"' + b"x" * (17 << 20))
except (BrokenPipeError, ConnectionResetError):
    pass
out = b""
try:
    while True:
        c = s.recv(65536)
        if not c: break
        out += c
except (socket.timeout, ConnectionResetError):
    pass
sys.exit(0 if b"too long" in out else 1)
PY
still_fine "a 17 MiB line"

# A half-sent request, then the client vanishes.
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"{\"cmd\":\"li"); s.close()' "$sock"
still_fine "a half-sent request"

# Many clients that disconnect before reading a large reply.
"$TEND" start "sleep 1000" -n many -i 50 -s
python3 -c '
import socket, sys
for i in range(50):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
    s.sendall(b"{\"cmd\":\"list\"}\n" * 20); s.close()' "$sock"
still_fine "clients gone mid-reply"

# A client that stays connected without sending does not block others.
python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); time.sleep(30)' "$sock" &
track_pid $!
still_fine "an idle client"

# Several requests on one connection are answered in order.
reply=$(printf '{"cmd":"ping"}\n{"cmd":"ping"}\n' | python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(5)
s.sendall(sys.stdin.buffer.read())
out = b""
while out.count(b"\n") < 2:
    out += s.recv(4096)
print(out.count(b"\"ok\":true"))' "$sock")
[ "$reply" = 2 ] || fail "pipelined pings: $reply answers"

# Another uid is refused (SO_PEERCRED), even when the file modes would let it in.
# (Debian's python3: a pyenv shim under /root is out of nobody's reach.)
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && [ -x /usr/bin/python3 ]; then
	chmod 711 "$T" "$TEND_HOME"
	chmod 666 "$sock"
	out=$(printf '{"cmd":"list"}\n' | setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 -c "$(cat "$TOP/test/sock.py")" "$sock" 2>&1)
	chmod 700 "$TEND_HOME"
	chmod 600 "$sock"
	case $out in *sleeper*) fail "uid nobody got the list" ;; esac
	grep -q "refused a connection from uid" "$TEND_HOME/tend.log" || fail "refusal not logged"
fi
still_fine "another uid"
grep -q "request longer than" "$TEND_HOME/tend.log" || fail "the long request was not logged"
