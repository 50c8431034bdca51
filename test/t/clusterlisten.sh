# Cluster mode for a node app that picks its own port, as under PM2: `-i 4` with no
# --port, and the app calls listen(PORT) (or listen(PATH)) itself. The preload asks the
# daemon for the socket; every instance gets the same one, which the daemon holds while
# the app exists: all instances serve, the port stays open across restarts, reloads and
# `tend update`, a reload under load fails no request, delete lets the port go. A
# port someone else holds reaches the app as node's own EADDRINUSE error.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
command -v curl >/dev/null || fail "curl is needed"
command -v node >/dev/null || fail "node is needed"

cat >own.js <<'EOF'
const http = require('http');
const server = http.createServer((req, res) => res.end('pid ' + process.pid + '\n'));
server.on('error', (e) => { console.error('server error ' + e.code); process.exit(7); });
server.listen(Number(process.argv[2]), () => console.log('listening'));
EOF
cat >unix.js <<'EOF'
require('http').createServer((req, res) => res.end('pid ' + process.pid + '\n'))
  .listen(process.argv[2], () => console.log('listening'));
EOF

# hold PORT APP: every running instance of APP has the socket listening on PORT (the
# kernel spreads connections over the processes that accept on it, and favours some:
# that each one serves is left to chance, that each one holds the socket is not).
hold() {
	"$PY" - "$1" $("$TEND" pid "$2") <<'EOF'
import os, sys
port, pids = int(sys.argv[1]), sys.argv[2:]
inodes = set()
for f in ("/proc/net/tcp", "/proc/net/tcp6"):
    for line in open(f).readlines()[1:]:
        p = line.split()
        if int(p[1].rsplit(":", 1)[1], 16) == port and p[3] == "0A":
            inodes.add("socket:[%s]" % p[9])
def holds(pid):
    d = "/proc/%s/fd" % pid
    return any(os.readlink(os.path.join(d, fd)) in inodes for fd in os.listdir(d))
missing = [pid for pid in pids if not holds(pid)]
if not inodes or not pids or missing:
    sys.exit("port %d: sockets %s, instances %s, without it: %s" % (port, sorted(inodes), pids, missing))
EOF
}

# ---- four instances, one port, chosen by the app ---------------------------------------
P=$(free_port)
run "$TEND" start own.js -n own -i 4 -s -- "$P"
expect_rc 0
[ "$(jget own 'e["exec_mode"]')" = cluster_mode ] || fail "exec_mode $(jget own 'e["exec_mode"]')"
wait_for 20 sh -c "[ \$(cat \"$TEND_HOME\"/logs/own-out-*.log | grep -c listening) = 4 ]"
serves "$P" 2 || fail "connections do not reach several instances: $(sort -u seen.txt | tr '\n' ' ')"
wait_for 20 hold "$P" own
[ "$(jget own 'e["restart_time"]')" = 0 ] || fail "instances restarted: $("$TEND" ls)"
grep -q "own\[[0-9]*\]: listens on \[::\]:$P" "$TEND_HOME/tend.log" || fail "tend.log: $(tail -n 5 "$TEND_HOME/tend.log")"
# IPv6 too: node's listen(PORT) takes every address, and so does the daemon's socket.
if curl -s --max-time 5 "http://[::1]:$P/" >v6.txt 2>/dev/null; then
	grep -q '^pid ' v6.txt || fail "over IPv6: $(cat v6.txt)"
fi

# The port stays open across a restart: requests meanwhile wait in the backlog.
"$TEND" restart own -s &
restart_pid=$!
track_pid $restart_pid
i=0
while [ $i -lt 20 ]; do
	out=$(get "$P") || fail "request $i during the restart failed"
	case $out in "pid "*) ;; *) fail "request $i during the restart: '$out'" ;; esac
	i=$((i + 1))
done
wait $restart_pid || fail "restart failed"
wait_for 20 hold "$P" own
serves "$P" 2 || fail "after the restart: $(sort -u seen.txt | tr '\n' ' ')"

# Reloads under load: the replacement waits until it listens; no request fails.
rm -f stop started
"$PY" "$TEND_TOP/test/t/cluster-client.py" "$P" 8 >load.txt 2>&1 &
client=$!
track_pid $client
wait_for 10 test -e started
before=$("$TEND" pid own | tr '\n' ' ')
run "$TEND" reload own -s
expect_rc 0
run "$TEND" reload own -s
expect_rc 0
touch stop
wait "$client"
grep -q '^ok [1-9][0-9]* errors 0 ' load.txt || fail "requests failed during reload: $(cat load.txt)"
[ "$before" != "$("$TEND" pid own | tr '\n' ' ')" ] || fail "the same pids after reload"

# Across `tend update` (the daemon re-executes itself): the socket goes along, and the
# app still holds it (a new instance after the update gets the same socket).
run "$TEND" update
expect_rc 0
wait_for 20 hold "$P" own
serves "$P" 2 || fail "after update: $(sort -u seen.txt | tr '\n' ' ')"
run "$TEND" scale own 5 -s
expect_rc 0
wait_for 20 hold "$P" own   # the fifth, started by the updated daemon, too

# ---- a unix socket path -----------------------------------------------------------------
S=$T/app.sock
run "$TEND" start unix.js -n sock -i 2 -s -- "$S"
expect_rc 0
wait_for 20 sh -c "[ \$(cat \"$TEND_HOME\"/logs/sock-out-*.log | grep -c listening) = 2 ]"
: >useen.txt
i=0
while [ $i -lt 60 ] && [ "$(sort -u useen.txt | grep -c 'pid ')" -lt 2 ]; do
	curl -s --max-time 5 --unix-socket "$S" http://x/ >>useen.txt
	i=$((i + 1))
done
[ "$(sort -u useen.txt | grep -c 'pid ')" = 2 ] || fail "unix socket: $(sort -u useen.txt | tr '\n' ' ')"
run "$TEND" delete sock -s
expect_rc 0
[ -e "$S" ] && fail "the socket file outlived the app"

# ---- delete lets the port go: a plain fork app can bind it afterwards -------------------
run "$TEND" delete own -s
expect_rc 0
run "$TEND" start own.js -n solo -s -- "$P"
expect_rc 0
wait_for 20 grep -q listening "$TEND_HOME/logs/solo-out.log"
[ "$(get "$P")" = "pid $("$TEND" pid solo)" ] || fail "fork app on the freed port: $(get "$P")"

# ---- the app's own children are not tend's: no preload, no variables, their own ports ----
cat >parent.js <<'EOF'
if (process.argv[2] === 'child') {
  console.log('child execArgv ' + JSON.stringify(process.execArgv) + ' cluster ' + (process.env.TEND_CLUSTER || 'unset'));
  require('http').createServer((q, s) => s.end('child\n')).listen(Number(process.argv[3]), () => console.log('child listening'));
} else {
  const c = require('child_process').fork(__filename, ['child', process.argv[2]]);
  c.on('message', (m) => console.log('parent got ' + JSON.stringify(m)));
  setInterval(() => {}, 1000);
}
EOF
P2=$(free_port)
run "$TEND" start parent.js -n parent -i 1 -s -- "$P2"
expect_rc 0
[ "$(jget parent 'e["exec_mode"]')" = cluster_mode ] || fail "parent: exec_mode $(jget parent 'e["exec_mode"]')"
wait_for 20 grep -q 'child listening' "$TEND_HOME/logs/parent-out.log"
grep -qxF 'child execArgv [] cluster unset' "$TEND_HOME/logs/parent-out.log" ||
	fail "the child inherited tend's preload: $(cat "$TEND_HOME/logs/parent-out.log")"
[ "$(get "$P2")" = child ] || fail "the child's own port: $(get "$P2")"
grep -q 'parent got' "$TEND_HOME/logs/parent-out.log" && fail "the child sent tend's messages to the app"
"$TEND" delete parent -s

# ---- a port held elsewhere: node's own error, in the app ---------------------------------
run "$TEND" start own.js -n clash -i 2 --max-restarts 0 -s -- "$P"
wait_for 20 grep -q 'server error EADDRINUSE' "$TEND_HOME/logs/clash-error-0.log" \
	"$TEND_HOME/logs/clash-error-1.log"
grep -q "clash\[[0-9]*\]: listen: .*$P.*in use" "$TEND_HOME/tend.log" || fail "tend.log: $(tail -n 3 "$TEND_HOME/tend.log")"
[ "$(get "$P")" = "pid $("$TEND" pid solo)" ] || fail "the fork app lost its port"
true
