# tend update: the daemon executes a new build in its own place. Same pid, every app
# keeps running (same pids, counters), no log line lost or repeated, no failed HTTP
# request (fd handoff for node and python, the proxy), log followers and idle clients
# stay connected. A client of another build works with the daemon (protocol version),
# and the daemon refuses what it cannot take over with.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
command -v curl >/dev/null || fail "curl is needed"
NODE=$(command -v node) || fail "node is needed"

# Two builds: this one, and a copy whose build id differs (what an older tend looks like
# to the protocol).
cp "$TEND" new-tend
id=$("$TEND" version | sed 's/.*build \([0-9a-f]*\).*/\1/')
"$PY" - "$TEND" old-tend "$id" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
assert data.count(sys.argv[3].encode()) == 1, "the build id is not in the binary once"
open(sys.argv[2], "wb").write(data.replace(sys.argv[3].encode(), b"0123456789ab"))
PY
chmod +x old-tend new-tend
OLD=$T/old-tend NEW=$T/new-tend
[ "$("$OLD" version | sed 's/.*build \([0-9a-f]*\).*/\1/')" = 0123456789ab ] || fail "old-tend build"

cat >count.py <<'EOF'
import sys, time
i = 0
while True:
    i += 1
    print(i, flush=True)
    time.sleep(0.0005)
EOF
cat >proxied.py <<'EOF'
import http.server, os, signal
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("pid %d\n" % os.getpid()).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body))); self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
signal.signal(signal.SIGINT, lambda *_: os._exit(0))
http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H).serve_forever()
EOF
cat >app.js <<'EOF'
const http = require('http');
http.createServer((req, res) => res.end('pid ' + process.pid + '\n')).listen(process.env.PORT || 3000);
EOF

"$OLD" start "$PY" -n counter -s -- "$T/count.py" || fail "start counter"
P1=$(free_port) P2=$(free_port) P3=$(free_port)
"$OLD" start "$TOP/bench/apps/lfd.py" -n py -i 2 --port "$P1" -s || fail "start py"
"$OLD" start app.js -n node -i 2 --port "$P2" -s || fail "start node"
"$OLD" start proxied.py -n px -i 2 --port "$P3" --lb proxy -s || fail "start px"
"$OLD" start "exit 3" -n crashy --restart-delay 200 --min-uptime 0 -s 2>/dev/null
wait_for 20 sh -c "[ \"\$(\"$OLD\" jlist | \"$PY\" -c 'import json,sys; print([p for p in json.load(sys.stdin) if p[\"name\"]==\"crashy\"][0][\"pm2_env\"][\"restart_time\"])')\" -ge 2 ]"
"$OLD" start /bin/sleep -n held -s -- 1000 && "$OLD" stop held -s
dpid=$(cat "$TEND_HOME/tend.pid")
answers() { get "$1" | grep -q pid; }
wait_for 10 answers "$P2"
wait_for 10 answers "$P3"
before=$("$OLD" jlist | "$PY" -c '
import json, sys
for p in json.load(sys.stdin):
    if p["name"] != "crashy":
        print(p["pm_id"], p["name"], p["pid"], p["pm2_env"]["status"], p["pm2_env"]["restart_time"])')

# A follower of the counter's log, through the whole update.
"$NEW" logs counter --raw --out --lines 0 >follow.txt 2>follow.err &
follower=$!
track_pid $follower
wait_for 10 test -s follow.txt
# A follower of the node app's events by its script's path (relative to this directory):
# the new program must resolve it as the old one did.
"$NEW" events app.js >events-follow.txt 2>&1 &
track_pid $!

# Clients hammering the three ports.
"$PY" - "$P1" "$P2" "$P3" >load.txt 2>&1 <<'PY' &
import sys, threading, time, urllib.request
ports = sys.argv[1:]
stop = time.time() + 6
counts = {p: [0, 0] for p in ports}
def run(port):
    while time.time() < stop:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%s/" % port, timeout=10) as r:
                ok = r.status == 200 and r.read().endswith(b"\n")
        except Exception as e:
            ok = False
            print("port", port, "error:", e, flush=True)
        counts[port][0 if ok else 1] += 1
threads = [threading.Thread(target=run, args=(p,)) for p in ports for _ in range(2)]
for t in threads: t.start()
for t in threads: t.join()
for p in ports:
    print("port", p, "ok", counts[p][0], "failed", counts[p][1])
PY
load=$!
track_pid $load
sleep 2   # the load runs before, during and after the update (not a synchronization)

# An idle client, connected across the update, still gets answers.
"$PY" -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
time.sleep(4)
s.sendall(b"{\"cmd\":\"ping\",\"proto\":2}\n"); s.settimeout(10)
print(s.recv(4096).decode())' "$TEND_HOME/tend.sock" >idle.txt 2>&1 &
idle=$!
track_pid $idle

run "$NEW" update
expect_rc 0
expect_out_has "daemon $dpid updated in place: build 0123456789ab -> $id"
[ "$(readlink "/proc/$dpid/exe")" = "$NEW" ] || fail "the daemon runs $(readlink "/proc/$dpid/exe")"
run "$NEW" ping
expect_out pong
grep -q "daemon $dpid updated in place: build 0123456789ab -> $id" "$TEND_HOME/tend.log" || fail "not logged"

wait "$load"
cat load.txt
grep -q "error" load.txt && fail "requests failed during the update: $(grep error load.txt | head -n 3)"
for p in "$P1" "$P2" "$P3"; do
	grep -Eq "^port $p ok [1-9][0-9]* failed 0$" load.txt || fail "port $p: $(grep "^port $p ok" load.txt)"
done
wait "$idle" || fail "the idle client: $(cat idle.txt)"
grep -q '"ok":true' idle.txt || fail "an idle client across the update: $(cat idle.txt)"

after=$("$NEW" jlist | "$PY" -c '
import json, sys
for p in json.load(sys.stdin):
    if p["name"] != "crashy":
        print(p["pm_id"], p["name"], p["pid"], p["pm2_env"]["status"], p["pm2_env"]["restart_time"])')
[ "$before" = "$after" ] || fail "apps changed across the update: before: $before | after: $after"
# The crash loop goes on being supervised by the new program.
r0=$(jget crashy 'e["restart_time"]')
wait_for 20 sh -c "[ \"\$(\"$NEW\" jlist | \"$PY\" -c 'import json,sys; print([p for p in json.load(sys.stdin) if p[\"name\"]==\"crashy\"][0][\"pm2_env\"][\"restart_time\"])')\" -gt $r0 ]"

# Not a line lost nor repeated: in the file, and in what the follower saw.
"$NEW" stop counter -s
"$PY" - "$TEND_HOME/logs/counter-out.log" follow.txt <<'PY' || fail "log lines across the update"
import sys
nums = [int(l) for l in open(sys.argv[1]) if l.strip()]
assert nums == list(range(1, len(nums) + 1)), "the log file skips or repeats"
seen = [int(l) for l in open(sys.argv[2]) if l.strip()]
assert len(seen) > 100 and seen == list(range(seen[0], seen[0] + len(seen))), "the follower skipped or repeated"
print(len(nums), "lines in the file,", len(seen), "followed")
PY
kill "$follower" 2>/dev/null
! grep -q "node\[" events-follow.txt || fail "the events follower saw node change before the restart: $(head -c 300 events-follow.txt)"
"$NEW" restart node -s || fail "restart node"
wait_for 10 grep -q "node\[" events-follow.txt

# The older build's commands still work with the newer daemon, and the update back.
run "$OLD" jlist
expect_rc 0
run "$OLD" update -s
expect_rc 0
[ "$(readlink "/proc/$dpid/exe")" = "$OLD" ] || fail "the update back: the daemon runs $(readlink "/proc/$dpid/exe")"
[ "$(jget py 'p["pid"]')" = "$(echo "$before" | awk '$2 == "py" {print $3; exit}')" ] || fail "py restarted by the second update"
status_is held stopped || fail "held is $(jget held 'e["status"]')"

# What cannot work is refused, and changes nothing.
reply=$(printf '{"cmd":"update","exe":"/bin/true","proto":2}\n' | "$PY" "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'"ok":false'*'not a tend that can take over'*) ;; *) fail "update to /bin/true: $reply" ;; esac
reply=$(printf '{"cmd":"update","exe":"relative","proto":2}\n' | "$PY" "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'"code":2'*) ;; *) fail "update to a relative path: $reply" ;; esac
cat >fragile.js <<'EOF'
if (!require('fs').existsSync('mute')) process.send('ready');
setInterval(() => {}, 1000);
EOF
"$NEW" start fragile.js -n patient --port "$(free_port)" --lb fd --wait-ready --listen-timeout 600000 -s ||
	fail "start patient"
touch mute
"$NEW" reload patient -s 2>/dev/null &
reloading=$!
track_pid $reloading
wait_for 10 status_is patient launching
reply=$(printf '{"cmd":"update","exe":"%s","proto":2}\n' "$NEW" | "$PY" "$TOP/test/sock.py" "$TEND_HOME/tend.sock")
case $reply in *'"ok":false'*'not now:'*'being reloaded'*) ;; *) fail "update during a reload: $reply" ;; esac
"$NEW" delete patient -s
wait "$reloading"
[ "$(cat "$TEND_HOME/tend.pid")" = "$dpid" ] && alive "$dpid" || fail "the daemon did not survive the refusals"

# No daemon: nothing to update, the next command starts this build.
"$NEW" kill
run "$NEW" update
expect_rc 0
expect_out "no daemon is running: the next command starts this build"
[ ! -S "$TEND_HOME/tend.sock" ] || fail "update started a daemon"
