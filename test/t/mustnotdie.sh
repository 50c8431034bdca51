# The daemon must not die: requests that once crashed it (each reproduces a report of
# issue 11), and what the next command says if it dies anyway.
. "$TEND_TOP/test/lib.sh"
sock="$TEND_HOME/tend.sock"
cd "$T"

"$TEND" ping >/dev/null
dpid=$(cat "$TEND_HOME/tend.pid")
daemon_fine() {
	alive "$dpid" || fail "daemon died after: $1"
	run "$TEND" ping
	[ "$OUT" = pong ] || fail "no pong after: $1 ($ERR)"
}

# `stop all` (and the others) with no apps at all: qsort(NULL, 0) once.
for cmd in stop restart reload delete reset; do
	printf '{"cmd":"%s","targets":["all"]}\n' "$cmd" | python3 "$TOP/test/sock.py" "$sock" >/dev/null
done
printf '{"cmd":"flush","targets":["all"]}\n{"cmd":"list","targets":["all"]}\n' |
	python3 "$TOP/test/sock.py" "$sock" >/dev/null
daemon_fine "stop all with no apps"

# Two overlapping scale-downs of an app whose instances ignore the stop signal: the
# second one found no instance left to remove (all were already going) and crashed.
"$TEND" start /bin/sh -n web -i 3 -k 3000 -s -- -c "trap '' INT; while :; do sleep 0.2; done"
"$TEND" scale web 1 -s >scale1.out 2>&1 &
s1=$!
track_pid $s1
wait_for 10 sh -c "\"$TEND\" jlist | grep -q '\"status\":\"stopping\"'"
run "$TEND" scale web 1
expect_rc 0
daemon_fine "overlapping scale"
wait "$s1" || fail "the first scale failed: $(cat scale1.out)"
[ "$(jl 'len(by("web"))')" = 1 ] || fail "web has $(jl 'len(by("web"))') instances, expected 1"
# And a redeclaration with fewer instances while the stop of others still runs.
run "$TEND" scale web 3 -s
expect_rc 0
"$TEND" scale web 1 -s >scale2.out 2>&1 &
s2=$!
track_pid $s2
wait_for 10 sh -c "\"$TEND\" jlist | grep -q '\"status\":\"stopping\"'"
printf '{"apps":[{"name":"web","script":"/bin/sh","args":["-c","trap \\"\\" INT; while :; do sleep 0.2; done"],"instances":2,"exec_mode":"fork","kill_timeout":3000}]}\n' >web.json
run "$TEND" startOrRestart web.json -s
daemon_fine "a redeclaration with fewer instances during a scale-down"
wait "$s2"
wait_for 15 sh -c "[ \"\$(\"$TEND\" jlist | grep -o '\"status\":\"stopping\"' | wc -l)\" = 0 ]"
n=$(jl 'len(by("web"))')
[ "$n" = 2 ] || fail "web has $n instances after the redeclaration, expected 2"
run "$TEND" delete web -s --force
daemon_fine "delete web"

# Two `logs` streams on one connection, then a close: the second subscription was left
# pointing at the freed client, and later clients received another app's output.
"$TEND" start "while :; do echo SECRET-LINE; sleep 0.05; done" -n secret -s
"$TEND" start "while :; do echo public-line; sleep 0.05; done" -n public -s
python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"logs","targets":["secret"],"stream":true}\n' * 2)
s.recv(4096)
s.close()
PY
python3 - "$sock" <<'PY' || fail "a later client received another app's lines"
import socket, sys, time
found = False
end = time.time() + 2
conns = []
for i in range(40):   # churn: freed clients' memory gets reused
    c = socket.socket(socket.AF_UNIX); c.connect(sys.argv[1])
    c.sendall(b'{"cmd":"logs","targets":["public"],"stream":true}\n')
    conns.append(c)
data = b""
for c in conns:
    c.settimeout(0.05)
while time.time() < end:
    for c in conns:
        try:
            data += c.recv(65536)
        except socket.timeout:
            pass
sys.exit(1 if b"SECRET" in data else 0)
PY
daemon_fine "two log streams on one connection"
"$TEND" delete secret public -s

# Protocol garbage with every command name, and types that are not what they should be.
for cmd in start stop restart reload delete reset scale signal flush logs list save resurrect cleardump reload_logs; do
	for body in '"targets":"all"' '"targets":[[]]' '"targets":[{}]' '"apps":{}' '"apps":[1]' \
		'"name":[]' '"instances":{}' '"signal":7' '"targets":[""]' '"targets":["//"]' \
		'"targets":["/(/"]' '"stream":"yes"' '"parallel":1e99'; do
		printf '{"cmd":"%s",%s}\n' "$cmd" "$body"
	done
done | python3 "$TOP/test/sock.py" "$sock" >/dev/null
daemon_fine "typed garbage"
