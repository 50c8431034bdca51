# tend runtime, the container's PID 1: output modes (raw keeps stdout and stderr apart,
# --json objects with exactly pm2-runtime's keys, --formatted, --format), no log files,
# exit codes (signal 0, nothing started 1, every app dead 2 on pm2-runtime's timing,
# --exit-code-from with 128+signal, the same as tini gives), an app that ignores SIGINT
# killed with its children at kill_timeout, the probes, and PID 1 of a PID namespace
# (orphans reaped, TERM ends it).
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"
for tool in tini unshare curl; do
	command -v "$tool" >/dev/null || fail "$tool is needed (test/packages)"
done
export TEND_HOME="$T/home"

cat >app.sh <<'EOF'
#!/bin/sh
echo "out-line 1"
echo "err-line 1" >&2
echo
echo "out-line 2"
exec sleep 1000
EOF
chmod +x app.sh

# rt NAME ARGS...: tend runtime in the background, its output in NAME.out / NAME.err
rt() {
	name=$1
	shift
	"$TEND" runtime "$@" >"$T/$name.out" 2>"$T/$name.err" &
	RPID=$!
	track_pid $RPID
}
# ns_term PID WHAT: TERM to PID 1 of the namespace unshare PID made; it must end with 0
ns_term() {
	init=$(ps -o pid= --ppid "$1" | tr -d ' ')
	kill -TERM "$init"
	wait_for 30 dead "$1"
	wait "$1"
	rc=$?
	[ "$rc" = 0 ] || fail "$2: TERM gave exit status $rc: $(tail -n 3 "$T/$2.err")"
}
# rt_end: the exit status of the last rt once it has ended
rt_end() {
	wait_for 60 dead $RPID
	wait $RPID
}
has() { grep -q -- "$2" "$T/$1" || fail "$1: no '$2' in: $(head -c 400 "$T/$1" | tr '\n' '|')"; }

# ---- raw: the app's stdout on stdout, its stderr on stderr, nothing else; no log files -----
rt raw ./app.sh
wait_for 20 grep -q "out-line 2" "$T/raw.out"
wait_for 20 grep -q "err-line 1" "$T/raw.err"
kill -TERM $RPID
rt_end
rc=$?
[ "$rc" = 0 ] || fail "raw: TERM gave exit status $rc"
[ "$(cat "$T/raw.out")" = "out-line 1
out-line 2" ] || fail "raw: stdout is not the app's stdout alone: $(tr '\n' '|' <"$T/raw.out")"
grep -q "out-line" "$T/raw.err" && fail "raw: stdout lines on stderr"
[ -z "$(ls -A "$TEND_HOME/logs" 2>/dev/null)" ] || fail "raw: log files were written: $(ls "$TEND_HOME/logs")"

# ---- --json: every line an object with exactly pm2-runtime's keys ------------------------------
rt json ./app.sh --json
wait_for 20 grep -q "out-line 2" "$T/json.out"
wait_for 20 grep -q "err-line 1" "$T/json.out"
kill -TERM $RPID
rt_end || fail "json: exit status $?"
"$PY" - "$T/json.out" <<'PY' || fail "--json: $(head -c 600 "$T/json.out")"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
logs, events = [], []
for l in lines:
    o = json.loads(l)
    assert iso.match(o["timestamp"]), o
    if o["type"] == "process_event":
        assert list(o) == ["timestamp", "type", "status", "app_name"], o
        events.append(o["status"])
    else:
        assert list(o) == ["message", "timestamp", "type", "process_id", "app_name"], o
        assert o["type"] in ("out", "err") and o["process_id"] == 0 and o["app_name"] == "app", o
        logs.append((o["type"], o["message"]))
assert sorted(logs) == [("err", "err-line 1"), ("out", "out-line 1"), ("out", "out-line 2")], logs
assert events[:2] == ["start", "online"] and "stop" in events and "exit" in events, events
PY

# ---- --formatted and --format ---------------------------------------------------------------------
rt fmt ./app.sh --formatted
wait_for 20 grep -q "out-line 2" "$T/fmt.out"
wait_for 20 grep -q "err-line 1" "$T/fmt.out"
kill -TERM $RPID
rt_end || fail "formatted: exit status $?"
has fmt.out '^0|app  | out-line 1$'
has fmt.out '^0|app  | err-line 1$'
rt kv ./app.sh --format
wait_for 20 grep -q "out-line 2" "$T/kv.out"
wait_for 20 grep -q "err-line 1" "$T/kv.out"
kill -TERM $RPID
rt_end || fail "format: exit status $?"
has kv.out '^timestamp=[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]-[0-9:]\{8\}[+-][0-9]\{4\} app=app id=0 type=out message=out-line 1$'
has kv.out ' type=error message=err-line 1$'

# ---- nothing could start: 1 ------------------------------------------------------------------------
run "$TEND" runtime "$T/no-such-script.js"
expect_rc 1
expect_err_has "nothing could start"
run "$TEND" runtime
expect_rc 2
run "$TEND" runtime app.sh --delay x
expect_rc 2

# ---- --exit-code-from: the app's code, 128 + the signal that killed it; tini gives the same -----------
run env PM2_SILENT=1 "$TEND" runtime "exit 3" --name three --no-autorestart --exit-code-from three
expect_rc 3
expect_err_has "started in"   # the daemon's log, even with PM2_SILENT
run tini -s -- sh -c "exit 3"
expect_rc 3
rt killed "sleep 1000" --name victim --no-autorestart --exit-code-from victim
wait_for 20 sh -c "[ -S '$TEND_HOME/tend.sock' ]"
wait_for 20 sh -c "[ \"\$('$TEND' pid victim 2>/dev/null)\" -gt 0 ]"
kill -KILL "$("$TEND" pid victim)"
rt_end
rc=$?
[ "$rc" = 137 ] || fail "--exit-code-from, app killed by SIGKILL: exit status $rc, expected 137"
tini -s -- sh -c 'kill -KILL $$'
rc=$?
[ "$rc" = 137 ] || fail "tini, the same case: $rc"

# ---- every app dead: 2, on pm2-runtime's timing (6 s, then three more checks 2 s apart) ---------------
start=$(date +%s)
run "$TEND" runtime "exit 1" --name crash
expect_rc 2
took=$(( $(date +%s) - start ))
[ "$took" -ge 11 ] || fail "auto-exit after ${took}s: pm2-runtime waits about 12 s"
expect_err_has "no app is online"
run "$TEND" runtime "exit 0" --name once --no-autorestart --exit-code-from once
expect_rc 0

# ---- events dropped while the runtime was not reading: it asks for the list --------------------------
# Stopped (SIGSTOP) while an app crash-loops to errored, the runtime misses more events than
# the daemon keeps for a subscriber, the last transition among them; woken, it is told how
# many it missed (at once, with no event after it), lists, and --exit-code-from ends it.
long=dropper-$(printf '%0190d' 0)
cat >gate.sh <<EOF
#!/bin/sh
while [ ! -e "$T/go" ]; do sleep 0.05; done
exit 7
EOF
chmod +x gate.sh
rt dropped ./gate.sh --name "$long" --max-restarts 2500 --min-uptime 60000 --restart-delay 0 --exit-code-from "$long"
wait_for 20 sh -c "[ -S '$TEND_HOME/tend.sock' ]"
wait_for 20 sh -c "[ \"\$('$TEND' pid '$long' 2>/dev/null)\" -gt 0 ]"
kill -STOP $RPID
touch "$T/go"
wait_for 300 sh -c "'$TEND' jlist | grep -q '\"status\":\"errored\"'"
kill -CONT $RPID
rt_end
rc=$?
[ "$rc" = 7 ] || fail "after dropped events: exit status $rc, expected the app's 7: $(grep -v '^20' "$T/dropped.err" | tail -n 3)"
has dropped.err "events were dropped: asking for the list"

# ---- the container's stdout is not read any more: TERM still ends it (docker stop) -------------------
# The runtime never blocks writing its output: with the reader stopped and the pipe full,
# it still takes the signal, stops the apps and exits 0; what it could not write waits.
mkfifo "$T/out.fifo"
cat "$T/out.fifo" >"$T/stalled.txt" &
reader=$!
track_pid $reader
"$TEND" runtime 'while :; do i=0; while [ $i -lt 100 ]; do echo "flood line $i ......................................................................"; i=$((i + 1)); done; sleep 0.01; done' \
	--name flood >"$T/out.fifo" 2>"$T/stalled.err" &
RPID=$!
track_pid $RPID
wait_for 20 test -s "$T/stalled.txt"
kill -STOP $reader
# bytes waiting in the pipe (FIONREAD), without reading them: past half its 64 KiB
# (small writes fill its pages unevenly: "full" reads about 48 KiB)
pipe_full() {
	"$PY" -c 'import fcntl, os, struct, sys, termios
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_NONBLOCK)
n = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]
sys.exit(0 if n >= 32768 else 1)' "$T/out.fifo"
}
wait_for 20 pipe_full
kill -TERM $RPID
wait_for 30 dead $RPID
wait $RPID
rc=$?
kill -CONT $reader
[ "$rc" = 0 ] || fail "stopped by TERM with its stdout stalled: exit status $rc: $(tail -n 3 "$T/stalled.err")"
wait_for 10 dead $reader

# ---- an app that ignores SIGINT, with children: killed at its kill_timeout, children too --------------
cat >stubborn.sh <<'EOF'
#!/bin/sh
trap '' INT
sleep 1000 &
echo "$!" >"$1"
sleep 1000 &
echo "$!" >>"$1"
echo ready
wait
EOF
chmod +x stubborn.sh
rt stub ./stubborn.sh --kill-timeout 1000 -- "$T/kids"
wait_for 20 grep -q ready "$T/stub.out"
kill -TERM $RPID
rt_end || fail "stubborn: exit status $?"
for k in $(cat "$T/kids"); do
	dead "$k" || fail "a child of the app that ignored SIGINT is alive: $k"
done

# ---- probes ------------------------------------------------------------------------------------------
port=$(free_port)
rt health ./app.sh --health "127.0.0.1:$port"
wait_for 20 grep -q "out-line 2" "$T/health.out"
[ "$(curl -s -o "$T/body" -w '%{http_code}' "http://127.0.0.1:$port/livez")" = 200 ] || fail "/livez: $(cat "$T/body")"
wait_for 20 sh -c "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$port/readyz)\" = 200 ]"
curl -s "http://127.0.0.1:$port/readyz?verbose" >"$T/body"
[ "$(cat "$T/body")" = '{"apps":[],"status":"ready"}' ] || fail "/readyz?verbose: $(cat "$T/body")"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/nope")" = 404 ] || fail "404"
kill -TERM $RPID
rt_end || fail "health: exit status $?"

# ---- PID 1 of a PID namespace: the orphan of an app is reaped; TERM stops it with 0 -----------------
cat >orphans.sh <<'EOF'
#!/bin/sh
sh -c 'sleep 0.2 & exit 0'      # its child is orphaned at once
sleep 1
z=$(grep -l '^State:.*Z' /proc/[0-9]*/status 2>/dev/null | wc -l)
echo "pid1=$(cat /proc/1/comm) zombies=$z"
exec sleep 1000
EOF
chmod +x orphans.sh
unshare --pid --fork --mount-proc "$TEND" runtime ./orphans.sh >"$T/ns.out" 2>"$T/ns.err" &
ns=$!
track_pid $ns
wait_for 30 grep -q "zombies=" "$T/ns.out"
has ns.out "pid1=$(basename "$TEND" | cut -c1-15) zombies=0"
ns_term $ns ns

# ---- a container without Docker: a root with only BusyBox and tend (FROM busybox, the
# README's Dockerfile), PID 1 of its namespace; a .sh app runs without bash ------------------
ROOTFS=$T/rootfs
mkdir -p "$ROOTFS/bin" "$ROOTFS/usr/local/bin" "$ROOTFS/app" "$ROOTFS/proc" "$ROOTFS/dev" "$ROOTFS/tmp"
file -L "$(command -v busybox)" | grep -q 'statically linked' || fail "busybox is not static (busybox-static, test/packages)"
cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
for applet in sh echo cat sleep; do ln -s busybox "$ROOTFS/bin/$applet"; done
mknod -m 666 "$ROOTFS/dev/null" c 1 3 || fail "mknod /dev/null"
cp "$TEND" "$ROOTFS/usr/local/bin/tend"
# (a sanitizer build is not static: its libraries come along)
ldd "$TEND" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
	mkdir -p "$ROOTFS$(dirname "$lib")" && cp -L "$lib" "$ROOTFS$lib"
done
printf '#!/bin/sh\necho "hello from PID 1 $(cat /proc/1/comm)"\nexec sleep 1000\n' >"$ROOTFS/app/app.sh"
chmod +x "$ROOTFS/app/app.sh"
unshare --pid --fork --mount --root="$ROOTFS" --mount-proc /usr/local/bin/tend runtime /app/app.sh -i 2 \
	>"$T/box.out" 2>"$T/box.err" &
box=$!
track_pid $box
wait_for 30 sh -c "[ \$(grep -c 'hello from PID 1 tend' '$T/box.out') = 2 ]"
ns_term $box box
