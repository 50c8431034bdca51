# tend logs: the last lines of each file, then the live stream; --out/--err/--raw/--json/
# --timestamp/--nostream/--lines, apps started later, no line lost or repeated between the
# tail and the stream, a clean end when the reader goes away (head), and a reader too
# slow for a flood told how many lines it missed while the daemon stays small.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
L=$TEND_HOME/logs
lines_in() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }

# talk: out lines 1..20, err lines e1..e5, then quiet.
"$TEND" start 'i=1; while [ $i -le 20 ]; do echo $i; i=$((i+1)); done; for e in e1 e2 e3 e4 e5; do echo $e >&2; done; exec sleep 1000' \
	-n talk -s || fail "start talk"
wait_for 5 lines_in "$L/talk-out.log" 20
wait_for 5 lines_in "$L/talk-error.log" 5
id=$("$TEND" id talk)

# ---- the last lines, and the formats -------------------------------------------------------
run "$TEND" logs talk --nostream --lines 3
expect_rc 0
expect_out "$(printf '%s|talk | %s\n' "$id" 18 "$id" 19 "$id" 20 "$id" e3 "$id" e4 "$id" e5)"
run "$TEND" logs talk --nostream --lines 2 --out --raw
expect_out "$(printf '19\n20')"
run "$TEND" logs talk --nostream --lines 2 --err --raw
expect_out "$(printf 'e4\ne5')"
run "$TEND" logs talk --nostream --lines 0
expect_rc 0
expect_out ""
run "$TEND" logs talk --nostream --lines 100 --out --raw
expect_out "$(seq 1 20)"
run "$TEND" logs talk --nostream --lines 1 --out --timestamp
printf '%s\n' "$OUT" | grep -Eqx "$id\|talk \| [0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2} 20" ||
	fail "--timestamp: $OUT"
run "$TEND" logs --timestamp 'HH:mm' talk --nostream --lines 1 --err --raw
printf '%s\n' "$OUT" | grep -Eqx '[0-9]{2}:[0-9]{2} e5' || fail "--timestamp FORMAT: $OUT"
run "$TEND" logs talk --nostream --lines 2 --json
expect_rc 0
printf '%s\n' "$OUT" | "$PY" -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
assert [r["message"] for r in recs] == ["19", "20", "e4", "e5"], recs
assert [r["type"] for r in recs] == ["out", "out", "err", "err"], recs
assert all(r["app_name"] == "talk" and r["process_id"] == int(sys.argv[1]) for r in recs), recs
assert all(r["timestamp"].endswith("Z") for r in recs), recs
' "$id" || fail "--json: $OUT"

# ---- bad input ------------------------------------------------------------------------------
run "$TEND" logs nosuchapp --nostream
expect_rc 1
expect_err_line '^tend: logs: process or namespace not found: nosuchapp$'
run "$TEND" logs --lines many
expect_rc 2
expect_err_line '^tend: logs: --lines: expected a number'
run "$TEND" logs --out --err
expect_rc 2

# ---- colors on a terminal only -----------------------------------------------------------------
if command -v script >/dev/null; then
	script -qec "$TEND logs talk --nostream --lines 1 --out" /dev/null >tty.txt </dev/null
	grep -q "$(printf '\033')\[3[0-9]m$id|talk" tty.txt || fail "no color on a terminal: $(od -c tty.txt | head -3)"
	NO_COLOR=1 script -qec "$TEND logs talk --nostream --lines 1 --out" /dev/null >tty.txt </dev/null
	grep -q "$(printf '\033')" tty.txt && fail "NO_COLOR still colors"
fi

# ---- live: the tail and the stream meet without a gap or a repeat; head ends it ------------
"$TEND" start 'i=0; while :; do i=$((i+1)); echo $i; sleep 0.005; done' -n count -s || fail "start count"
wait_for 5 lines_in "$L/count-out.log" 20
{ timeout 20 "$TEND" logs count --raw --out --lines 10; echo $? >rc; } | head -n 300 >seam.txt
rcs=$(cat rc)
[ "$rcs" = 0 ] || fail "logs | head: logs exited $rcs"
[ "$(wc -l <seam.txt)" = 300 ] || fail "logs | head gave $(wc -l <seam.txt) lines"
"$PY" -c '
import sys
n = [int(l) for l in open(sys.argv[1])]
bad = [(a, b) for a, b in zip(n, n[1:]) if b != a + 1]
assert not bad, bad[:5]
' seam.txt || fail "lines lost or repeated between the tail and the stream: $(tr '\n' ' ' <seam.txt | head -c 300)"

# A quiet app: head has what it wants, and logs notices at once that its reader is gone.
{ timeout 10 "$TEND" logs talk --lines 2 --out --raw; echo $? >rc; } | head -n 1 >quiet.txt
rcs=$(cat rc)
[ "$rcs" = 0 ] || fail "logs | head on a quiet app: logs exited $rcs (124: it never ended)"
expect_out_file() { [ "$(cat "$1")" = "$2" ] || fail "$1: $(cat "$1")"; }
expect_out_file quiet.txt 19

# Without targets: apps started later are followed too, with their prefix.
"$TEND" logs --lines 0 >all.txt 2>all.err &
track_pid $!
logs_pid=$!
wait_for 10 test -s all.txt   # following: count's lines come
"$TEND" start 'echo late-line; exec sleep 1000' -n late -s || fail "start late"
wait_for 5 grep -q "^$("$TEND" id late)|late *| late-line$" all.txt
kill "$logs_pid"

# Each stream alone, live.
"$TEND" start 'i=0; while :; do i=$((i+1)); echo "o$i"; echo "e$i" >&2; sleep 0.05; done' -n both -s || fail "start both"
"$TEND" logs both --lines 0 --err --raw >err-only.txt &
track_pid $!
err_pid=$!
wait_for 5 lines_in err-only.txt 5
kill "$err_pid"
grep -qv '^e[0-9]*$' err-only.txt && fail "--err streamed other lines: $(head -c 200 err-only.txt)"
"$TEND" delete count both late -s

# ---- a reader that stops reading while an app floods ------------------------------------
# The daemon keeps at most about 1 MiB for it, drops the rest and says how many lines;
# the file gets everything.
cat >flood.py <<'EOF'
import os, sys, time
if os.path.exists("quiet"):          # the second run: a line now and then
    while True:
        print("flood done again", flush=True)
        time.sleep(0.2)
while not os.path.exists("go"):  # (the reader sees these once it follows)
    print("waiting", flush=True)
    time.sleep(0.05)
line = "x" * 99 + "\n"
for i in range(600000):        # 60 MB
    sys.stdout.write(line)
sys.stdout.flush()
print("flood done", flush=True)
time.sleep(1000)
EOF
"$TEND" start flood.py -n flood -s || fail "start flood"
"$TEND" logs flood --lines 0 --raw >slow.txt 2>slow.err &
track_pid $!
slow_pid=$!
wait_for 10 grep -q waiting slow.txt
kill -STOP "$slow_pid"
touch go
wait_for 60 grep -q 'flood done' "$L/flood-out.log"
[ "$(grep -c '^x*$' "$L/flood-out.log")" = 600000 ] || fail "the file lost lines: $(grep -c '^x*$' "$L/flood-out.log")"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$(cat "$TEND_HOME/tend.pid")/status")
# (under ASan, freed memory waits in its quarantine: a looser bound, still well under the
# 60 MB that buffering the flood for the reader would take)
limit=16384
is_asan && limit=49152
[ "$rss" -lt "$limit" ] || fail "daemon RSS ${rss} kB with a stalled reader (at most $limit)"
run "$TEND" ping
expect_out pong
kill -CONT "$slow_pid"
touch quiet
"$TEND" restart flood -s   # lines after the backlog: the notice comes with them
wait_for 60 grep -q 'flood done again' slow.txt
wait_for 5 grep -Eq '^tend: logs: missed [0-9]+ lines' slow.err
missed=$(grep -Eo 'missed [0-9]+' slow.err | awk '{s += $2} END {print s}')
got=$(grep -c '^x*$' slow.txt)
[ $((got + missed)) -ge 600000 ] || fail "received $got + missed $missed lines, fewer than were written"
kill "$slow_pid"
