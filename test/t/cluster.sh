# Cluster mode: the daemon owns the listening socket and hands it to every instance as
# fd 3 (LISTEN_FDS); a python server that reads LISTEN_FDS and an unchanged node app
# (through the preload) both spread connections over their instances; the port stays
# open across a restart; a port in use is a clean error. Readiness: by IPC message, by
# sd_notify, by timeout; and the shutdown message.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
command -v curl >/dev/null || fail "curl is needed"
NODE=$(command -v node) || fail "node is needed"

cat >srv.py <<'EOF'
import os, socket, signal
# Serves the socket systemd-style: fd 3, when LISTEN_PID is this process. SIGINT: the
# request in hand is answered, then it exits; what it has not accepted stays in the
# shared backlog for the next instances (exiting in the handler lost a connection it
# had just accepted: seen under ASan).
assert os.environ["LISTEN_FDS"] == "1" and os.environ["LISTEN_PID"] == str(os.getpid())
s = socket.socket(fileno=3)
s.settimeout(0.1)
stopping = []
signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
while not stopping:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    c.settimeout(None)
    c.recv(65536)
    body = ("pid %d\n" % os.getpid()).encode()
    c.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    c.close()
os._exit(0)
EOF
cat >app.js <<'EOF'
const http = require('http');
http.createServer((req, res) => res.end('pid ' + process.pid + '\n')).listen(process.env.PORT || 3000);
EOF

# ---- python, LISTEN_FDS ------------------------------------------------------------------
P1=$(free_port)
run "$TEND" start srv.py -n py -i 2 --port "$P1" -s
expect_rc 0
[ "$(jget py 'e["exec_mode"]')" = cluster_mode ] || fail "exec_mode $(jget py 'e["exec_mode"]')"
serves "$P1" 2 || fail "python instances: connections did not reach both: $(sort -u seen.txt | tr '\n' ' ')"
id0=$("$TEND" id py | head -n 1)
pid0=$("$TEND" pid "$id0")
"$TEND" env "$id0" | grep -qx "LISTEN_PID=$pid0" || fail "tend env lacks LISTEN_PID=$pid0"
tr '\0' '\n' <"/proc/$pid0/environ" | grep -qx "LISTEN_FDNAMES=py" || fail "no LISTEN_FDNAMES"
tr '\0' '\n' <"/proc/$pid0/environ" | grep -qx "PORT=$P1" || fail "no PORT"

# The port stays open across a restart: connections made meanwhile wait in the
# daemon's backlog and are answered by the new instances.
"$TEND" restart py -s &
restart_pid=$!
track_pid $restart_pid
i=0
while [ $i -lt 20 ]; do
	# (a wait is allowed, not a failure: the new instances may take long to start on a
	# loaded machine, ASan's above all)
	out=$(curl -s --max-time 30 "http://127.0.0.1:$P1/") || fail "request $i during the restart failed"
	case $out in "pid "*) ;; *) fail "request $i during the restart: '$out'" ;; esac
	i=$((i + 1))
done
wait $restart_pid || fail "restart failed"
serves "$P1" 2 || fail "after restart, not both instances serve"

# A port someone else holds: one line, exit 1, nothing registered.
run "$TEND" start srv.py -n taken -i 2 --port "$P1" -s
expect_rc 0   # the same port as py: shared with it, by design (one socket per address)
"$TEND" delete taken -s
P2=$(free_port)
"$PY" -c 'import socket, time, sys
s = socket.socket(); s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); open("held", "w").close(); time.sleep(60)' "$P2" &
holder=$!
track_pid $holder
wait_for 5 test -e held
run "$TEND" start srv.py -n busy -i 2 --listen "127.0.0.1:$P2"
expect_rc 1
expect_err_line "^tend: start: busy: cannot listen: 127.0.0.1:$P2: Address (already )?in use$"
[ "$(jget busy 'p')" = None ] || fail "busy was registered"
run "$TEND" start srv.py -n bad -i 2 --listen "127.0.0.1:99999"
expect_rc 2
kill "$holder"

# ---- node, unchanged, through the preload --------------------------------------------------
P3=$(free_port)
run "$TEND" start app.js -n web -i 2 --port "$P3" -s
expect_rc 0
serves "$P3" 2 || fail "node instances: connections did not reach both: $(sort -u seen.txt | tr '\n' ' ')"
status_is web online || fail "web is $(jget web 'e["status"]')"
"$TEND" delete py web -s

# ---- readiness ---------------------------------------------------------------------------
# By IPC message: launching until process.send('ready').
cat >late.js <<'EOF'
const fs = require('fs');
const t = setInterval(() => { if (fs.existsSync('go-ipc')) { process.send('ready'); clearInterval(t); } }, 20);
setInterval(() => {}, 1000);
EOF
# The event stream says when it went online: after go-ipc was made, never before.
online_after() { # online_after NAME FILE: NAME's launching -> online came after FILE's mtime
	"$PY" - "$T/$1.events" "$1" "$2" <<'EOF'
import json, os, sys
evs = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
on = [e for e in evs if e.get("event") == "state" and e.get("name") == sys.argv[2] and e["to"] == "online"]
assert on, evs
told = os.stat(sys.argv[3]).st_mtime * 1000
assert on[0]["from"] == "launching" and on[0]["reason"] == "ready", on[0]
assert on[0]["at"] >= told - 5, (on[0]["at"], told)   # (ms clocks; the file's may round)
EOF
}
"$TEND" events --json ipc >"$T/ipc.events" 2>&1 &
track_pid $!
wait_for 10 sh -c "'$TEND' save >/dev/null && grep -q '\"save\"' '$T/ipc.events'"
"$TEND" start late.js -n ipc --wait-ready --listen-timeout 20s -s &
start_pid=$!
track_pid $start_pid
wait_for 5 status_is ipc launching
alive "$start_pid" || fail "start returned before the app was ready"
touch go-ipc
wait_for 5 status_is ipc online
wait "$start_pid" || fail "start of a wait_ready app failed"
wait_for 5 grep -q '"to":"online"' "$T/ipc.events"
online_after ipc go-ipc || fail "ipc went online before it said ready: $(cat "$T/ipc.events")"

# By sd_notify, from python: READY=1 on NOTIFY_SOCKET.
cat >notify.py <<'EOF'
import os, socket, time
while not os.path.exists("go-notify"):
    time.sleep(0.02)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b"STATUS=warming up\nREADY=1\n", os.environ["NOTIFY_SOCKET"])
time.sleep(1000)
EOF
"$TEND" events --json sdn >"$T/sdn.events" 2>&1 &
track_pid $!
wait_for 10 sh -c "'$TEND' save >/dev/null && grep -q '\"save\"' '$T/sdn.events'"
"$TEND" start notify.py -n sdn --wait-ready --listen-timeout 20s -s &
start_pid=$!
track_pid $start_pid
wait_for 5 status_is sdn launching
touch go-notify
wait_for 5 status_is sdn online
wait "$start_pid" || fail "start of an sd_notify app failed"
wait_for 5 grep -q '"to":"online"' "$T/sdn.events"
online_after sdn go-notify || fail "sdn went online before READY=1: $(cat "$T/sdn.events")"

# By timeout: never a word, online after listen_timeout (as PM2), and the log says so.
run "$TEND" start 'exec sleep 1000' -n mute --wait-ready --listen-timeout 300 -s
expect_rc 0
status_is mute online || fail "mute is $(jget mute 'e["status"]') after listen_timeout"
grep -q 'mute\[.*not ready after 300 ms' "$TEND_HOME/tend.log" || fail "the timeout is not in the daemon log"

# ---- shutdown_with_message: stop sends "shutdown" over IPC instead of a signal -------------
cat >polite.js <<'EOF'
process.on('SIGINT', () => { console.log('got SIGINT'); process.exit(0); });
process.on('message', (m) => { if (m === 'shutdown') { console.log('got shutdown'); process.exit(0); } });
console.log('up');
EOF
"$TEND" start polite.js -n polite --shutdown-with-message -s || fail "start polite"
wait_for 5 grep -q up "$TEND_HOME/logs/polite-out.log"
run "$TEND" stop polite -s
expect_rc 0
grep -q 'got shutdown' "$TEND_HOME/logs/polite-out.log" || fail "no shutdown message: $(cat "$TEND_HOME/logs/polite-out.log")"
grep -q 'got SIGINT' "$TEND_HOME/logs/polite-out.log" && fail "SIGINT sent as well"
true

# ---- rolling reload under load: zero failed requests ----------------------------------------
cp "$TOP/test/t/cluster-client.py" client.py
reload_under_load() { # APP PORT: two reloads while clients loop; no request may fail
	rm -f stop mark marked
	"$PY" client.py "$2" 8 >load.txt 2>&1 &
	client=$!
	track_pid $client
	wait_for 10 test -e started
	before=$("$TEND" pid "$1" | tr '\n' ' ')
	run "$TEND" reload "$1" -s
	expect_rc 0
	run "$TEND" reload "$1" -s
	expect_rc 0
	touch mark
	wait_for 30 test -e marked
	touch stop
	wait "$client"
	rm -f started
	grep -q '^ok [1-9][0-9]* errors 0 ' load.txt || fail "$1: requests failed during reload: $(cat load.txt)"
	after=$("$TEND" pid "$1" | tr '\n' ' ')
	[ "$before" != "$after" ] || fail "$1: the same pids after reload: $after"
	[ "$(jget "$1" 'e["restart_time"]')" = 2 ] || fail "$1: restart_time $(jget "$1" 'e["restart_time"]') after two reloads"
}
P4=$(free_port)
"$TEND" start app.js -n nodeweb -i 2 --port "$P4" -s || fail "start nodeweb"
reload_under_load nodeweb "$P4"
P5=$(free_port)
# The LISTEN_FDS server of the benchmark: finishes the request in hand on SIGINT, exits.
"$TEND" start "$TOP/bench/apps/lfd.py" -n pyweb -i 2 --port "$P5" -s || fail "start pyweb"
reload_under_load pyweb "$P5"

# ---- a replacement that never becomes ready, or crashes: the old process goes on -----------
cat >fragile.js <<'EOF'
const fs = require('fs');
if (fs.existsSync('crash')) process.exit(3);
require('http').createServer((q, s) => s.end('pid ' + process.pid + '\n')).listen(process.env.PORT, () => {
  if (!fs.existsSync('mute')) process.send('ready');
});
EOF
P6=$(free_port)
"$TEND" start fragile.js -n fragile --port "$P6" --lb fd --wait-ready --listen-timeout 1000 -s || fail "start fragile"
old=$("$TEND" pid fragile)
touch mute
run "$TEND" reload fragile
expect_rc 1
expect_err_has "not ready within 1000 ms (the old process goes on)"
[ "$("$TEND" pid fragile)" = "$old" ] || fail "after a failed reload the pid is $("$TEND" pid fragile), not $old"
status_is fragile online || fail "fragile is $(jget fragile 'e["status"]')"
[ "$(get "$P6")" = "pid $old" ] || fail "the old process does not serve after the failed reload"
rm mute
touch crash
run "$TEND" reload fragile
expect_rc 1
expect_err_has "exited with 3 before it was ready (the old process goes on)"
[ "$(get "$P6")" = "pid $old" ] || fail "the old process does not serve after a crashed replacement"
rm crash

# Reloads of one app do not overlap: the second is refused while the first waits (a
# long listen_timeout: the first must still be waiting, however slow this machine is).
"$TEND" start fragile.js -n patient --port "$(free_port)" --lb fd --wait-ready --listen-timeout 600000 -s ||
	fail "start patient"
touch mute
"$TEND" reload patient -s 2>/dev/null &
first=$!
track_pid $first
wait_for 10 status_is patient launching
run "$TEND" reload patient
expect_rc 1
expect_err_has "a reload of it is already in progress"
"$TEND" delete patient -s   # ends the first reload too
wait "$first"
rm mute
"$TEND" delete all -s
