# tend events: instance transitions with reasons and pids, exits, deletes, daemon
# events, samples of the whole process tree; bounded for a subscriber that never reads.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"

# A follower in the background: its output in FILE, its pid tracked.
follow() { # follow FILE ARGS...
	f=$1
	shift
	"$TEND" events "$@" >"$f" 2>"$f.err" &
	track_pid $!
	echo $!
}
# The line of FILE matching RE, after the line matching AFTER (both EREs).
line_after() { awk -v a="$2" -v re="$3" 'found && $0 ~ re { print; exit } $0 ~ a { found = 1 }' "$1"; }

"$TEND" start "sleep 1000" -n sl -s || fail "start sl"
follow ev.txt >/dev/null
follow evj.json --json sl >/dev/null
# Daemon events go to every subscriber: once both show a save, both are subscribed.
wait_for 10 sh -c "'$TEND' save >/dev/null && grep -q 'daemon.*save' ev.txt && grep -q '\"save\"' evj.json"
old=$("$TEND" pid sl)
run "$TEND" restart sl -s
expect_rc 0
new=$("$TEND" pid sl)
[ "$old" != "$new" ] || fail "restart kept pid $old"
wait_for 10 grep -q "stopped -> online pid $new" ev.txt
grep -q "sl\[0\] online -> stopping pid $old (restart)" ev.txt || fail "no stopping with the old pid: $(cat ev.txt)"
grep -q "sl\[0\] exit pid $old code 130 SIGINT" ev.txt || fail "no exit of $old: $(cat ev.txt)"
grep -q "sl\[0\] stopping -> stopped (every process gone; starting again)" ev.txt || fail "no stopped: $(cat ev.txt)"
line_after ev.txt "stopping -> stopped" "stopped -> online pid $new \\(restart\\)" | grep -q . ||
	fail "online not after stopped, or not for the restart: $(cat ev.txt)"
# --json: the protocol's objects, only for the target.
wait_for 10 grep -q "\"to\":\"online\",\"reason\":\"restart\",\"pid\":$new" evj.json
"$PY" - evj.json "$old" "$new" <<'EOF' || fail "events --json: $(head -c 600 evj.json)"
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
old, new = int(sys.argv[2]), int(sys.argv[3])
states = [(e["from"], e["to"], e["pid"]) for e in evs if e["event"] == "state"]
assert states[:3] == [("online", "stopping", old), ("stopping", "stopped", 0), ("stopped", "online", new)], states
ex = [e for e in evs if e["event"] == "exit"][0]
assert ex["pid"] == old and ex["exit_code"] == 130 and ex["signal"] == "SIGINT" and ex["id"] == 0, ex
assert all(e["name"] == "sl" for e in evs if "name" in e), evs
assert all(isinstance(e["at"], int) and e["at"] > 1.6e12 for e in evs), evs
EOF

# ---- a crash loop ends errored, with its reason --------------------------------------
run "$TEND" start "exit 3" -n crashy --max-restarts 2 --restart-delay 50 -s
wait_for 15 grep -q "crashy\[1\] online -> errored (exited before min_uptime (1000 ms) 3 times in a row)" ev.txt
grep -q "crashy\[1\] online -> waiting restart (exited with 3; restart in 50 ms)" ev.txt || fail "no waiting: $(cat ev.txt)"
grep -q "crashy\[1\] waiting restart -> online pid [0-9]* (restart delay over)" ev.txt || fail "no restart after the delay: $(cat ev.txt)"
! grep -q crashy evj.json || fail "events sl showed crashy"

# ---- a target that names no app yet follows it once it is started ----------------------
follow late.txt late >/dev/null
wait_for 10 sh -c "'$TEND' save >/dev/null && grep -q 'daemon.*save' late.txt"
"$TEND" start "sleep 1000" -n late -s || fail "start late"
wait_for 10 grep -q "late\[[0-9]*\] stopped -> online pid [0-9]* (start)" late.txt
"$TEND" delete late -s

# ---- daemon events and deletes ---------------------------------------------------------
run "$TEND" save
expect_rc 0
wait_for 10 grep -q "daemon\[[0-9]*\] save (2 app(s) in $TEND_HOME/dump.json)" ev.txt
run "$TEND" delete crashy -s
wait_for 10 grep -q "crashy\[1\] deleted" ev.txt

# ---- samples: the whole tree's memory, at the rate asked --------------------------------
cat >tree.sh <<'EOF'
sleep 1000 &
sleep 1000 &
wait
EOF
"$TEND" start tree.sh -n tree -s || fail "start tree"
follow samples.json --json --samples 100 tree >/dev/null
wait_for 10 sh -c '[ "$(grep -c "\"event\":\"sample\"" samples.json)" -ge 5 ]'
"$PY" - samples.json "$("$TEND" pid tree)" <<'EOF' || fail "samples: $(head -c 600 samples.json)"
import json, sys
leader = int(sys.argv[2])
s = [json.loads(l) for l in open(sys.argv[1]) if '"sample"' in l]
last = s[-1]
assert last["name"] == "tree" and last["status"] == "online" and last["pid"] == leader, last
rss = {}
for line in open("/proc/%d/status" % leader):
    if line.startswith("VmRSS:"):
        own = int(line.split()[1]) * 1024
# bash and two sleeps: the tree holds more than the leader alone
assert last["memory"] > own, (last["memory"], own)
assert isinstance(last["cpu"], (int, float)) and last["cpu"] >= 0, last
assert last["restarts"] == 0 and last["uptime"] > 0, last
gaps = [b["at"] - a["at"] for a, b in zip(s, s[1:])]
assert sorted(gaps)[len(gaps) // 2] < 1000, gaps   # about every 100 ms, not every second
EOF

# ---- bad input ----------------------------------------------------------------------------
run "$TEND" events --samples 5
expect_rc 2
expect_err_line "^tend: events: --samples: expected milliseconds from 100 to 3600000, got '5'$"
run "$TEND" events /a{1,255}{1,255}{1,255}/
expect_rc 2
expect_err_has "bad regular expression"
out=$(printf '{"cmd":"events","samples":50}\n' | "$PY" "$TEND_TOP/test/sock.py" "$TEND_HOME/tend.sock")
[ "$out" = '{"ok":false,"error":"events: samples: 50 ms: expected 100 to 3600000","code":2}' ] ||
	fail "samples 50 over the socket: $out"

# ---- a subscriber that never reads: the daemon neither waits nor grows past its cap --------
dpid=$(cat "$TEND_HOME/tend.pid")
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$dpid/status"; }
i=0
while [ $i -lt 60 ]; do printf '{"name":"b%d","script":"sleep","args":["1000"],"exec_interpreter":"none"}\n' $i; i=$((i + 1)); done |
	"$PY" -c 'import sys, json; print(json.dumps({"apps": [json.loads(l) for l in sys.stdin]}))' >many.json
"$TEND" start many.json -s || fail "start 60 apps"
before=$(rss)
"$PY" - "$TEND_HOME/tend.sock" >stuck.out 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
# 20 subscriptions on this one connection: samples of 62 instances, 20 times over,
# every 100 ms, pile up much faster than the 1 MiB the daemon may queue for it.
s.sendall(b'{"cmd":"events","samples":100}\n' * 20)
time.sleep(8)             # never reads meanwhile
s.settimeout(10)
seen, buf, deadline = False, b"", time.time() + 20
while time.time() < deadline and not seen:
    try:
        chunk = s.recv(1 << 20)
    except socket.timeout:
        break
    if not chunk:
        break
    buf += chunk
    seen = b'{"missed":' in buf
print("missed" if seen else "no missed notice in %d bytes" % len(buf))
EOF
stuck=$!
track_pid $stuck
# Meanwhile the daemon answers at once and stays small: what it queues for the stuck
# reader is capped (1 MiB), not the 1.5 MB/s of samples it is asked for.
t0=$(date +%s)
while [ $(( $(date +%s) - t0 )) -lt 6 ]; do
	timeout 5 "$TEND" ping >/dev/null || fail "ping failed or took over 5 s while a subscriber does not read"
	sleep 0.2
done
after=$(rss)
# (Under ASan freed memory sits in its quarantine, so RSS says nothing there.)
is_asan || [ $((after - before)) -lt 8192 ] ||
	fail "the daemon grew from $before to $after kB for a reader that does not read"
wait $stuck
grep -q '^missed$' stuck.out || fail "the slow reader was not told what it missed: $(cat stuck.out)"
"$TEND" delete all -s
