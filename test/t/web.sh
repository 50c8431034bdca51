# tend web: the HTTP API as the app tend-web and in the foreground, with curl: the token,
# PM2's / JSON, the list without environments, actions (401 without the token and
# nothing changes), logs, probes, Prometheus text (promtool check metrics), CORS only when asked, loopback by
# default, and clients that misbehave (garbage, huge headers, a slow one, too many)
# while a normal one is still served.
. "$TEND_TOP/test/lib.sh"

command -v curl >/dev/null || fail "curl is needed (test/packages)"
cd "$T" || fail "cannot cd to $T"

port=$(free_port)
U=http://127.0.0.1:$port
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
body_has() { grep -q -- "$1" "$T/body" || fail "expected '$1' in: $(head -c 300 "$T/body")"; }
restarts() { "$TEND" jlist | python3 -c "import json,sys; print([p['pm2_env']['restart_time'] for p in json.load(sys.stdin) if p['name']=='$1'][0])"; }

# ---- the token --------------------------------------------------------------------------
run "$TEND" web --token
expect_rc 0
tok=$OUT
printf '%s' "$tok" | grep -qE '^[0-9a-f]{64}$' || fail "token: '$tok'"
[ "$(stat -c %a "$TEND_HOME/web.token")" = 600 ] || fail "web.token mode $(stat -c %a "$TEND_HOME/web.token")"
[ "$("$TEND" web --token)" = "$tok" ] || fail "a second --token made another token"
A="Authorization: Bearer $tok"

# ---- as the app tend-web ----------------------------------------------------------------
SECRET_VALUE=hunter2-xyz "$TEND" start "sleep 1000" -n sl -s || fail "start sl"
"$TEND" start 'i=0; while :; do i=$((i+1)); echo line-$i; echo oops-$i >&2; sleep 0.2; done' -n talk -s || fail "start talk"
run "$TEND" web "$port"
expect_rc 0
expect_out_has "http://127.0.0.1:$port/"
"$TEND" jlist | grep -q '"name":"tend-web"' || fail "tend-web is not in the list"
# loopback only by default (the listening sockets of /proc/net/tcp: state 0A)
grep -qi "0100007F:$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp || fail "not listening on 127.0.0.1:$port"
grep -qi "00000000:$(printf '%04X' "$port") 00000000:0000 0A" /proc/net/tcp && fail "listening on every address"

# / : PM2's keys, with the token only; no environment in it
[ "$(code "$U/")" = 401 ] || fail "/ without a token: $(cat "$T/body")"
[ "$(code -H "$A" "$U/")" = 200 ] || fail "/ with the token: $(cat "$T/body")"
python3 - "$T/body" <<'PY' || fail "/ is not PM2's shape"
import json, sys
d = json.load(open(sys.argv[1]))
assert set(d) == {"system_info", "monit", "processes"}, list(d)
assert set(d["system_info"]) >= {"hostname", "uptime"}, d["system_info"]
m = d["monit"]
assert set(m) >= {"loadavg", "total_mem", "free_mem", "cpu", "interfaces"}, list(m)
assert len(m["loadavg"]) == 3 and m["total_mem"] > m["free_mem"] > 0
assert m["cpu"] and set(m["cpu"][0]) >= {"model", "speed", "times"}, m["cpu"][:1]
assert "lo" in m["interfaces"] and m["interfaces"]["lo"][0]["internal"] is True, m["interfaces"].get("lo")
names = sorted(p["name"] for p in d["processes"])
assert names == ["sl", "talk", "tend-web"], names
PY
grep -q hunter2 "$T/body" && fail "/ shows an app's environment"

# the list, one app, unknown ones
[ "$(code -H "$A" "$U/api/processes")" = 200 ] || fail "list"
grep -q hunter2 "$T/body" && fail "the list shows an environment"
[ "$(code -H "$A" "$U/api/processes/sl")" = 200 ] || fail "one app"
python3 -c "import json,sys; d=json.load(open('$T/body')); assert [p['name'] for p in d] == ['sl'], d" || fail "/api/processes/sl"
[ "$(code -H "$A" "$U/api/processes/nosuch")" = 404 ] || fail "an unknown app: $(cat "$T/body")"
[ "$(code "$U/api/processes")" = 401 ] || fail "the list without a token"

# actions: nothing without the token; with it, done
before=$(restarts sl)
[ "$(code -X POST "$U/api/processes/sl/restart")" = 401 ] || fail "restart without a token"
[ "$(restarts sl)" = "$before" ] || fail "a restart without a token restarted"
[ "$(code -X POST -H "Authorization: Bearer nope" "$U/api/processes/sl/restart")" = 401 ] || fail "a wrong token"
[ "$(code -X POST -H "$A" "$U/api/processes/sl/restart")" = 200 ] || fail "restart: $(cat "$T/body")"
[ "$(restarts sl)" -gt "$before" ] || fail "restart did not restart"
[ "$(code -X POST -H "$A" "$U/api/processes/nosuch/restart")" = 404 ] || fail "restart of an unknown app"
[ "$(code -X POST -H "$A" "$U/api/processes/sl/explode")" = 404 ] || fail "an unknown action"
[ "$(code -H "$A" "$U/api/processes/sl/restart")" = 405 ] || fail "GET on an action"
[ "$(code -X POST -H "$A" -d '{"signal":"SIGWHAT"}' "$U/api/processes/sl/signal")" = 400 ] || fail "a bad signal"
[ "$(code -X POST -H "$A" -d '{"signal":"SIGUSR1"}' "$U/api/processes/talk/signal")" = 200 ] || fail "signal: $(cat "$T/body")"
[ "$(code -X POST -H "$A" "$U/api/processes/sl/stop")" = 200 ] || fail "stop"
[ "$("$TEND" jlist | python3 -c "import json,sys; print([p['pm2_env']['status'] for p in json.load(sys.stdin) if p['name']=='sl'][0])")" = stopped ] ||
	fail "stop did not stop"
[ "$(code -X POST -H "$A" "$U/api/processes/sl/start")" = 200 ] || fail "start"

# logs: the tail of each file, out and err apart
wait_for 10 grep -q line-5 "$TEND_HOME/logs/talk-out.log"
[ "$(code "$U/api/processes/talk/logs")" = 401 ] || fail "logs without a token"
[ "$(code -H "$A" "$U/api/processes/talk/logs?lines=3")" = 200 ] || fail "logs: $(cat "$T/body")"
python3 - "$T/body" <<'PY' || fail "logs: $(cat "$T/body")"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d) == 1 and d[0]["name"] == "talk", d
assert len(d[0]["out"]) == 3 and all(l.startswith("line-") for l in d[0]["out"]), d
assert len(d[0]["err"]) == 3 and all(l.startswith("oops-") for l in d[0]["err"]), d
PY
[ "$(code -H "$A" "$U/api/processes/talk/logs?type=err&lines=2")" = 200 ] || fail "logs type=err"
python3 -c "import json; d=json.load(open('$T/body')); assert 'out' not in d[0] and len(d[0]['err']) == 2, d" || fail "type=err"
[ "$(code -H "$A" "$U/api/processes/talk/logs?lines=0")" = 400 ] || fail "lines=0"

# probes
[ "$(code "$U/livez")" = 200 ] || fail "livez"
body_has '"ok"'
[ "$(code "$U/readyz")" = 200 ] || fail "readyz: $(cat "$T/body")"
"$TEND" start 'exit 3' -n crashy --max-restarts 1 --min-uptime 10000 -s
wait_for 20 sh -c "'$TEND' jlist | grep -q '\"status\":\"errored\"'"
[ "$(code "$U/readyz?verbose")" = 503 ] || fail "readyz with an errored app: $(cat "$T/body")"
body_has '"crashy"'
[ "$(code -X DELETE -H "$A" "$U/api/processes/crashy")" = 200 ] || fail "delete: $(cat "$T/body")"
"$TEND" jlist | grep -q '"name":"crashy"' && fail "delete left crashy"
[ "$(code "$U/readyz")" = 200 ] || fail "readyz after the delete: $(cat "$T/body")"
# launching (waiting for a readiness signal that does not come): 503, then online: 200
"$TEND" start "sleep 1000" -n slowready --wait-ready --listen-timeout 10000 -s &
bg=$!
track_pid $bg
readyz_is() { [ "$(code "$U/readyz?verbose")" = "$1" ]; }
wait_for 20 readyz_is 503
body_has '"slowready"'
body_has '"launching"'
wait_for 30 readyz_is 200
wait "$bg" || fail "start of slowready"

# Prometheus
[ "$(code "$U/metrics")" = 401 ] || fail "metrics without a token"
[ "$(code -H "$A" "$U/metrics")" = 200 ] || fail "metrics"
python3 - "$T/body" <<'PY' || fail "metrics: $(head -c 400 "$T/body")"
import re, sys, collections
text = open(sys.argv[1]).read()
typed = set(re.findall(r"^# TYPE (\S+) (?:gauge|counter)$", text, re.M))
need = {"tend_process_up", "tend_process_cpu_seconds_total", "tend_process_resident_memory_bytes",
        "tend_process_start_time_seconds", "tend_process_restarts_total",
        "tend_process_unstable_restarts_total", "tend_app_instances", "tend_app_status",
        "tend_host_load1", "tend_host_memory_total_bytes"}
assert need <= typed, need - typed
status = collections.Counter()
for line in text.splitlines():
    if line.startswith("#"):
        continue
    m = re.match(r'^([a-z_0-9]+)(\{[^}]*\})? (\S+)$', line)
    assert m, line
    float(m.group(3))
    assert m.group(1) in typed, line
    if m.group(1) == "tend_app_status":
        status[re.sub(r',status="[^"]*"', "", m.group(2))] += float(m.group(3))
assert status and all(v == 1 for v in status.values()), status
assert re.search(r'^tend_process_up\{name="sl",id="\d+",instance="0",namespace="default"\} 1$', text, re.M)
PY
grep -q '^pm2_up' "$T/body" && fail "pm2_* names without --pm2-metrics"
command -v promtool >/dev/null || fail "promtool is needed (Debian's prometheus, test/packages)"
promtool check metrics <"$T/body" >"$T/promtool.out" 2>&1 || fail "promtool: $(head -n 5 "$T/promtool.out")"
[ "$(code -X POST -H "$A" "$U/metrics")" = 405 ] || fail "POST /metrics"
[ "$(code -H "$A" "$U/nowhere")" = 404 ] || fail "an unknown path"

# no CORS header unless asked, even for a foreign Origin
curl -s -D "$T/headers" -o /dev/null -H "$A" -H "Origin: https://evil.example" "$U/api/processes"
grep -qi '^access-control' "$T/headers" && fail "a CORS header without --cors"

# ---- server-sent events: a restart's transitions, and a resume without a gap ---------------
[ "$(code "$U/api/events")" = 401 ] || fail "events without a token"
curl -s -N -H "$A" "$U/api/events" >"$T/sse1" 2>/dev/null &
sse=$!
track_pid $sse
wait_for 10 grep -q '^retry:' "$T/sse1"
"$TEND" restart sl -s
wait_for 10 grep -q '"name":"sl","from":"stopping","to":"stopped"' "$T/sse1"
wait_for 10 grep -q '^event: log' "$T/sse1"
kill "$sse"
grep -q '^event: state$' "$T/sse1" || fail "no state event: $(head -c 300 "$T/sse1")"
last=$(grep '^id: ' "$T/sse1" | sed -n 2p | cut -d' ' -f2)
# (token in the query, as a browser's EventSource sends it; Last-Event-ID as it resends it)
curl -s -N -H "Last-Event-ID: $last" "$U/api/events?token=$tok" >"$T/sse2" 2>/dev/null &
sse=$!
track_pid $sse
wait_for 10 sh -c "grep -c '^id: ' '$T/sse2' | grep -qv '^0$'"
kill "$sse"
first=$(grep '^id: ' "$T/sse2" | head -n 1 | cut -d' ' -f2)
[ "$first" = $((last + 1)) ] || fail "resumed at $first after $last"

# ---- misbehaving clients, a normal one still served ----------------------------------------
python3 - "$port" "$tok" <<'PY' || fail "misbehaving clients"
import socket, sys, time
port, tok = int(sys.argv[1]), sys.argv[2]
def ask(data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(data)
    out = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            out += b
            if b"\r\n\r\n" in out and b"Content-Length" in out:
                head, _, body = out.partition(b"\r\n\r\n")
                n = int([l.split(b":")[1] for l in head.split(b"\r\n") if l.lower().startswith(b"content-length")][0])
                if len(body) >= n:
                    break
    except socket.timeout:
        pass
    s.close()
    return out
def status(reply):
    return int(reply.split(b" ")[1]) if reply.startswith(b"HTTP/1.") else None
normal = b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n"
assert status(ask(b"garbage\r\n\r\n")) == 400
assert status(ask(b"GET / HTTP/1.1\r\nX-Big: " + b"a" * 40000 + b"\r\n\r\n")) == 431
assert status(ask(b"GET / HTTP/2.0\r\n\r\n")) == 505
assert status(ask(b"GET /\x00x HTTP/1.1\r\n\r\n")) == 400   # (found by fuzz_http)
assert status(ask(b"POST /api/processes/sl/restart HTTP/1.1\r\nContent-Length: 999999999\r\n\r\n")) == 413
# a slow client, one byte at a time, and a thousand idle ones (past --max-connections,
# 256: the longest idle make room): a normal request still answers
import resource
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
slow = socket.create_connection(("127.0.0.1", port))
slow.sendall(b"GET /livez HTTP/1.1\r\nHo")
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(1000)]
t = time.monotonic()
assert status(ask(normal)) == 200
assert time.monotonic() - t < 5, "a normal request waited behind the slow and idle ones"
# keep-alive: two requests on one connection; pipelined: two at once
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(normal + normal)
got = b""
while got.count(b"HTTP/1.1 200") < 2:
    b = s.recv(65536)
    assert b, got
    got += b
s.close()
for c in idle:
    c.close()
slow.close()
PY

# ---- stop ----------------------------------------------------------------------------------
run "$TEND" web stop
expect_rc 0
"$TEND" jlist | grep -q '"name":"tend-web"' && fail "tend-web after web stop"
wait_for 10 sh -c "! curl -s -o /dev/null $U/livez"
run "$TEND" web stop
expect_rc 1

# ---- in the foreground: --public-read, --cors, --pm2-metrics -------------------------------
port2=$(free_port)
U2=http://127.0.0.1:$port2
"$TEND" web "$port2" --foreground --public-read --cors https://app.example --pm2-metrics --expose-env \
	>"$T/fg.out" 2>&1 &
fg=$!
track_pid $fg
wait_for 10 sh -c "curl -s -o /dev/null $U2/livez"
[ "$(code "$U2/")" = 200 ] || fail "--public-read: / without a token"
grep -q hunter2 "$T/body" && fail "--expose-env showed an environment without the token"
[ "$(code -H "$A" "$U2/api/processes/sl")" = 200 ] || fail "--expose-env with the token"
grep -q hunter2 "$T/body" || fail "--expose-env: no environment with the token"
[ "$(code -X POST "$U2/api/processes/sl/restart")" = 401 ] || fail "--public-read allowed an action"
[ "$(code "$U2/api/processes/talk/logs")" = 401 ] || fail "--public-read allowed logs"
[ "$(code "$U2/metrics")" = 200 ] || fail "--public-read metrics"
body_has '^pm2_up{name="sl",instance="0"} 1$'
body_has '^pm2_instances{name="talk"} 1$'
promtool check metrics <"$T/body" >"$T/promtool.out" 2>&1 || fail "promtool, --pm2-metrics: $(head -n 5 "$T/promtool.out")"
curl -s -D "$T/headers" -o /dev/null -H "Origin: https://app.example" "$U2/api/processes"
grep -qi '^access-control-allow-origin: https://app.example' "$T/headers" || fail "--cors: $(cat "$T/headers")"
[ "$(code -X OPTIONS -H "Origin: https://app.example" "$U2/api/processes/sl/restart")" = 204 ] || fail "preflight"
kill -TERM "$fg"
wait_for 10 dead "$fg"
grep -q "stopping" "$T/fg.out" || fail "no word on SIGTERM: $(cat "$T/fg.out")"

# ---- HTTPS with a certificate made here (or, built without TLS, a clear refusal) ----------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/key.pem" -out "$T/cert.pem" -days 1 \
	-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" 2>/dev/null ||
	fail "openssl could not make a certificate"
port3=$(free_port)
if "$TEND" --version | grep -q mbedtls; then
	run "$TEND" web "$port3" --cert "$T/cert.pem" --key "$T/key.pem"
	expect_rc 0
	expect_out_has "https://127.0.0.1:$port3/"
	[ "$(code --cacert "$T/cert.pem" -H "$A" "https://127.0.0.1:$port3/api/processes/sl")" = 200 ] ||
		fail "HTTPS: $(cat "$T/body")"
	[ "$(code --cacert "$T/cert.pem" "https://127.0.0.1:$port3/api/processes")" = 401 ] || fail "HTTPS without a token"
	curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port3/livez" && fail "plain HTTP answered on the HTTPS port"
	[ "$(code --cacert "$T/cert.pem" "https://127.0.0.1:$port3/livez")" = 200 ] || fail "HTTPS after a plain request"
	"$TEND" web stop >/dev/null
else
	run "$TEND" web "$port3" --foreground --cert "$T/cert.pem" --key "$T/key.pem"
	expect_rc 1
	expect_err_has "no TLS"
fi
run "$TEND" web "$port3" --cert "$T/nope.pem" --key "$T/key.pem"
expect_rc 1
expect_err_line "^tend: web: --cert $T/nope.pem: No such file or directory$"
run "$TEND" web "$port3" --cert "$T/cert.pem"
expect_rc 2

# ---- as pm2 (a link, PM2_HOME): the server uses that home and its token ------------------------
mkdir -p "$T/bin"
ln -s "$TEND" "$T/bin/pm2"
port4=$(free_port)
(
	unset TEND_HOME
	export PM2_HOME="$T/home-pm2" HOME="$T"
	"$T/bin/pm2" web "$port4" >/dev/null || fail "pm2 web"
	ptok=$("$T/bin/pm2" web --token)
	[ "$(code -H "Authorization: Bearer $ptok" "http://127.0.0.1:$port4/api/processes")" = 200 ] ||
		fail "pm2 web: $(cat "$T/body")"
	grep -q '"name":"tend-web"' "$T/body" || fail "pm2 web does not list its own daemon's apps"
	[ ! -e "$T/.tend" ] || fail "pm2 web used ~/.tend"
	"$T/bin/pm2" kill >/dev/null
) || exit 1

# ---- bad usage -----------------------------------------------------------------------------
run "$TEND" web 70000
expect_rc 2
run "$TEND" web --max-connections 0
expect_rc 2
run "$TEND" web "$port2" --foreground --host 999.1.1.1
expect_rc 1
expect_err_has "999.1.1.1"
