# Proxy mode (lb proxy): each instance listens on a private PORT, the daemon accepts on
# the public one and forwards round-robin to the instances that are ready; an instance
# still launching gets nothing; thousands of connections at once; the port stays open
# across restart and reload, and a reload under load fails no request; bad input.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
command -v curl >/dev/null || fail "curl is needed"
command -v node >/dev/null || fail "node is needed"
# The daemon and the apps it starts inherit this: a thousand connections per instance.
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

cat >web.py <<'EOF'
import http.server, os, signal, time
# A plain HTTP server on $PORT; instance 1 waits for the file "go" before it listens.
if os.environ.get("NODE_APP_INSTANCE") == "1" and os.environ.get("WAIT_GO"):
    while not os.path.exists("go"):
        time.sleep(0.02)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("pid %d\n" % os.getpid()).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
# On SIGINT: finish the request in hand, then exit.
stopping = []
signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
srv = http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), H)
srv.timeout = 0.05
while not stopping:
    srv.handle_request()
EOF
cat >app.js <<'EOF'
require('http').createServer((req, res) => res.end('pid ' + process.pid + '\n')).listen(process.env.PORT);
EOF

# ---- round-robin over three python instances -------------------------------------------
P1=$(free_port)
run "$TEND" start web.py -n py -i 3 --port "$P1" --lb proxy -s
expect_rc 0
[ "$(jget py 'e["lb"]')" = proxy ] || fail "lb is $(jget py 'e["lb"]')"
[ "$(jget py 'e["listen"]')" = "0.0.0.0:$P1" ] || fail "listen is $(jget py 'e["listen"]')"
# Each instance got a private port of its own as PORT, and listens there.
ports=""
for id in $("$TEND" id py); do
	pid=$("$TEND" pid "$id")
	port=$(tr '\0' '\n' <"/proc/$pid/environ" | sed -n 's/^PORT=//p')
	[ -n "$port" ] && [ "$port" != "$P1" ] || fail "instance $id has PORT '$port'"
	ports="$ports $port"
	[ "$(get "$port")" = "pid $pid" ] || fail "instance $id does not answer on its private port $port"
done
[ "$(echo $ports | tr ' ' '\n' | sort -u | wc -l)" = 3 ] || fail "private ports not distinct: $ports"
"$TEND" describe py | grep -q "load balancing *proxy" || fail "describe lacks the load balancing line"
: >seen.txt
i=0
while [ $i -lt 30 ]; do
	get "$P1" >>seen.txt || fail "request $i failed"
	i=$((i + 1))
done
counts=$(sort seen.txt | uniq -c | awk '{print $1}' | tr '\n' ' ')
[ "$counts" = "10 10 10 " ] || fail "30 requests over 3 instances, not round-robin: $(sort seen.txt | uniq -c | tr '\n' ' ')"
[ "$(jget py 'e["proxy_accepted"]')" -ge 30 ] || fail "proxy_accepted $(jget py 'e["proxy_accepted"]')"

# The port stays open across a restart: connections wait until an instance is ready.
"$TEND" restart py -s &
bg=$!
track_pid $bg
i=0
while [ $i -lt 15 ]; do
	case $(get "$P1") in "pid "*) ;; *) fail "request $i during the restart failed" ;; esac
	i=$((i + 1))
done
wait $bg || fail "restart py failed"
# With every instance stopped, a connection waits until one is started again.
"$TEND" stop py -s
# (it waits in the listening socket's backlog, connected as far as the client can tell)
connected() { ss -Htn state established "( dport = :$P1 )" | grep -q .; }
connected && fail "a connection to $P1 is open before the test makes one"
get "$P1" >late.txt &
bg=$!
track_pid $bg
wait_for 10 connected
"$TEND" start py -s || fail "start py again"
wait $bg
grep -q "^pid " late.txt || fail "a connection made while py was stopped was not answered once it started"
"$TEND" delete py -s

# ---- an instance that is not ready gets no connection ----------------------------------
P2=$(free_port)
WAIT_GO=1 "$TEND" start web.py -n slow -i 3 --port "$P2" --lb proxy --listen-timeout 30000 -s &
bg=$!
track_pid $bg
wait_for 10 sh -c "[ \$('$TEND' jlist | grep -o '\"status\":\"online\"' | wc -l) -ge 2 ]" || fail "two instances never online"
id1=$("$TEND" jlist | "$PY" -c 'import json, sys
print([p["pm_id"] for p in json.load(sys.stdin) if p["pm2_env"]["NODE_APP_INSTANCE"] == 1][0])')
[ "$(jget "$id1" 'e["status"]')" = launching ] || fail "instance 1 is $(jget "$id1" 'e["status"]'), not launching"
slow1=$("$TEND" pid "$id1")
: >seen.txt
i=0
while [ $i -lt 12 ]; do
	get "$P2" >>seen.txt || fail "request $i to slow failed"
	i=$((i + 1))
done
grep -q "pid $slow1\$" seen.txt && fail "the launching instance got a connection"
[ "$(sort -u seen.txt | wc -l)" = 2 ] || fail "not both ready instances served: $(sort -u seen.txt | tr '\n' ' ')"
touch go
wait $bg || fail "start slow failed once instance 1 listened"
status_is "$id1" online || fail "instance 1 is $(jget "$id1" 'e["status"]') after it listened"
: >seen.txt
i=0
while [ $i -lt 9 ]; do get "$P2" >>seen.txt; i=$((i + 1)); done
[ "$(sort -u seen.txt | wc -l)" = 3 ] || fail "after it listened, not all three serve: $(sort -u seen.txt | tr '\n' ' ')"
"$TEND" delete slow -s

# ---- thousands of connections at once ------------------------------------------------
P3=$(free_port)
run "$TEND" start app.js -n many -i 2 --port "$P3" --lb proxy -s
expect_rc 0
rm -f held stop
"$PY" "$TEND_TOP/test/t/proxy-many.py" "$P3" 3000 >many.txt 2>&1 &
bg=$!
track_pid $bg
wait_for 60 test -e held || fail "3000 connections: the client never finished: $(cat many.txt)"
grep -qx "ok 3000 failed 0" many.txt || fail "3000 connections at once: $(cat many.txt)"
open=$(jget many 'e["proxy_connections"]')
[ "$open" -ge 2900 ] || fail "only $open connections open through the proxy while 3000 are held"
touch stop
wait $bg
wait_for 10 sh -c "[ \$('$TEND' jlist | grep -o '\"proxy_connections\":0' | wc -l) -ge 1 ]" ||
	fail "connections still open after the client closed them: $(jget many 'e["proxy_connections"]')"
"$TEND" ping >/dev/null || fail "the daemon died"

# ---- reload under load: node through the preload, no request fails --------------------
rm -f stop started mark marked
"$PY" "$TEND_TOP/test/t/cluster-client.py" "$P3" 8 >load.txt 2>&1 &
client=$!
track_pid $client
wait_for 10 test -e started || fail "the load never started: $(cat load.txt)"
before=$("$TEND" pid many | tr '\n' ' ')
run "$TEND" reload many -s
expect_rc 0
run "$TEND" reload many -s
expect_rc 0
touch mark
wait_for 30 test -e marked
touch stop
wait $client
grep -q '^ok [1-9][0-9]* errors 0 ' load.txt || fail "requests failed during reload through the proxy: $(cat load.txt)"
[ "$before" != "$("$TEND" pid many | tr '\n' ' ')" ] || fail "the same pids after reload"

# ---- IPv6: the public address on ::1, handed over and proxied ---------------------------
if "$PY" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
	P5=$(free_port)
	run "$TEND" start app.js -n v6fd -i 2 --listen "[::1]:$P5" -s
	expect_rc 0
	[ "$(jget v6fd 'e["listen"]')" = "[::1]:$P5" ] || fail "listen is $(jget v6fd 'e["listen"]')"
	case $(curl -s --max-time 5 -g "http://[::1]:$P5/") in "pid "*) ;; *) fail "no answer on [::1]:$P5 (fd)" ;; esac
	P6=$(free_port)
	run "$TEND" start app.js -n v6px -i 2 --listen "[::1]:$P6" --lb proxy -s
	expect_rc 0
	case $(curl -s --max-time 5 -g "http://[::1]:$P6/") in "pid "*) ;; *) fail "no answer on [::1]:$P6 (proxy)" ;; esac
	"$TEND" delete v6fd v6px -s
fi

# ---- bad input -------------------------------------------------------------------------
run "$TEND" start app.js -n bad --port "$(free_port)" --lb nope
expect_rc 2
expect_err_line "tend: start: --lb: expected fd or proxy, got 'nope'"
run "$TEND" start app.js -n bad --lb proxy
expect_rc 2
expect_err_has "needs a port"
P4=$(free_port)
"$TEND" start app.js -n handed -i 2 --port "$P4" -s || fail "start handed"
run "$TEND" start app.js -n proxied --port "$P4" --lb proxy
expect_rc 1
expect_err_has "is already used by an app whose lb is \"fd\""
[ -z "$("$TEND" id proxied)" ] || fail "a refused app was registered"
