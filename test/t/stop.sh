# Stopping: the kill signal to the group, SIGKILL after kill_timeout, descendants that
# escaped the group, ports released, parallel stops, the subreaper.
. "$TEND_TOP/test/lib.sh"

# Graceful: SIGINT reaches the app, which says goodbye; stop returns once it is gone.
cat >"$T/polite.sh" <<'SH'
trap 'echo "bye from $$"; exit 0' INT
echo "hello from $$"
while :; do sleep 0.05; done
SH
"$TEND" start "$T/polite.sh" -n polite -s
pid=$(jget polite 'p["pid"]')
wait_for 5 grep -q "hello from $pid" "$TEND_HOME/logs/polite-out.log"
run "$TEND" stop polite -s
expect_rc 0
dead "$pid" || fail "polite ($pid) still alive after stop returned"
grep -q "bye from $pid" "$TEND_HOME/logs/polite-out.log" || fail "the app did not get SIGINT"
status_is polite stopped || fail "status $(jget polite 'e["status"]')"
[ ! -e "$TEND_HOME/pids/polite-0.pid" ] || fail "pid file left after stop"

# Stubborn: ignores SIGINT and SIGTERM; SIGKILL after kill_timeout (300 ms).
cat >"$T/stubborn.sh" <<'SH'
trap '' INT TERM
echo ready
while :; do sleep 0.05; done
SH
"$TEND" start "$T/stubborn.sh" -n stubborn -k 300 -s
pid=$(jget stubborn 'p["pid"]')
wait_for 5 grep -q ready "$TEND_HOME/logs/stubborn-out.log"
run "$TEND" stop stubborn -s
expect_rc 0
dead "$pid" || fail "stubborn survived stop"
[ "$(jget stubborn 'e["exit_signal"]')" = SIGKILL ] || fail "exit_signal $(jget stubborn 'e["exit_signal"]')"
grep -q "stubborn.*SIGKILL" "$TEND_HOME/tend.log" || fail "SIGKILL not logged"

# A grandchild that left the process group (setsid) and holds a listening port: after
# stop, the port is free and the grandchild is gone.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/forker.py" <<PY
import os, socket, sys, time
if os.fork() == 0:
    os.setsid()
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", $port)); s.listen(5)
    open("$T/grandchild.pid", "w").write(str(os.getpid()))
    while True: time.sleep(1)
while True: time.sleep(1)
PY
"$TEND" start "$T/forker.py" -n forker -k 500 -s
wait_for 10 test -s "$T/grandchild.pid"
gc=$(cat "$T/grandchild.pid")
track_pid "$gc"
wait_for 5 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
run "$TEND" stop forker -s
expect_rc 0
dead "$gc" || fail "grandchild $gc survived the stop"
python3 -c "
import socket
s = socket.socket(); s.bind(('127.0.0.1', $port)); s.listen(1)" || fail "port $port still taken after stop"

# --no-treekill: only the main process is signalled; the escaped grandchild lives on.
rm -f "$T/grandchild.pid"
"$TEND" start "$T/forker.py" -n lonely --no-treekill -s
wait_for 10 test -s "$T/grandchild.pid"
gc=$(cat "$T/grandchild.pid")
track_pid "$gc"
"$TEND" stop lonely -s
alive "$gc" || fail "--no-treekill still killed the grandchild"
# It was reparented to the daemon (a subreaper), which reaps it when it dies.
dpid=$(cat "$TEND_HOME/tend.pid")
[ "$(awk '/^PPid/{print $2}' "/proc/$gc/status")" = "$dpid" ] || fail "orphan not reparented to the daemon"
kill "$gc"
wait_for 5 dead "$gc"
wait_for 5 sh -c "! test -e /proc/$gc"   # reaped, not left a zombie

# The stop signal: --kill-signal per app, TEND_KILL_SIGNAL for the daemon's default.
cat >"$T/which.sh" <<'SH'
trap 'echo got-term; exit 0' TERM
trap 'echo got-int; exit 0' INT
echo ready
while :; do sleep 0.05; done
SH
"$TEND" start "$T/which.sh" -n term --kill-signal SIGTERM -s
wait_for 5 grep -q ready "$TEND_HOME/logs/term-out.log"
"$TEND" stop term -s
grep -q got-term "$TEND_HOME/logs/term-out.log" || fail "--kill-signal SIGTERM not used"
"$TEND" kill
TEND_KILL_SIGNAL=SIGTERM "$TEND" start "$T/which.sh" -n envterm -s
wait_for 5 grep -q ready "$TEND_HOME/logs/envterm-out.log"
"$TEND" stop envterm -s
grep -q got-term "$TEND_HOME/logs/envterm-out.log" || fail "TEND_KILL_SIGNAL not honoured"
"$TEND" kill

# Stops run in parallel: 8 apps that ignore SIGINT, kill_timeout 1 s each, deleted at
# once, take about 1 s, not 8 (the bound is loose on purpose: a shared machine).
for i in 1 2 3 4 5 6 7 8; do "$TEND" start "$T/stubborn.sh" -n "s$i" -k 1000 -s; done
start=$(date +%s%N)
run "$TEND" delete all -s
expect_rc 0
ms=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$ms" -lt 5000 ] || fail "delete all of 8 stubborn apps took ${ms} ms: stops are not parallel"
run "$TEND" jlist
expect_out "[]"

# kill stops every app before the daemon exits.
"$TEND" start "$T/polite.sh" -n last -s
pid=$(jget last 'p["pid"]')
wait_for 5 grep -q "hello from $pid" "$TEND_HOME/logs/last-out.log"
"$TEND" kill
dead "$pid" || fail "kill left app $pid running"
grep -q "bye from $pid" "$TEND_HOME/logs/last-out.log" || fail "kill did not stop the app gracefully"
