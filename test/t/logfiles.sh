# Log files: -o/-e/-l and their keys, parent directories created, /dev/null and NULL,
# per-instance names and merge_logs, --time and --log-date-format, log_type json,
# partial lines held then written, very long lines split but complete, bytes that are
# not UTF-8 kept as they are.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
L=$TEND_HOME/logs
# wait until FILE has at least N lines
lines_in() { [ -f "$1" ] && [ "$(wc -l <"$1")" -ge "$2" ]; }
# After an app made MARK (having printed first): two round trips to the daemon, so that
# its loop has been through the app's output before what follows looks for files.
ran() {
	wait_for 10 test -e "$1"
	"$TEND" ping >/dev/null && "$TEND" ping >/dev/null
}

# ---- paths ------------------------------------------------------------------------------
"$TEND" start 'echo to-out; echo to-err >&2; exec sleep 1000' -n paths \
	-o deep/dir/out.txt -e "$T/other/err.txt" -l both.log -s || fail "start paths"
wait_for 5 lines_in "$T/deep/dir/out.txt" 1
wait_for 5 lines_in "$T/other/err.txt" 1
wait_for 5 lines_in "$T/both.log" 2
[ "$(cat "$T/deep/dir/out.txt")" = to-out ] || fail "-o: $(cat "$T/deep/dir/out.txt")"
[ "$(cat "$T/other/err.txt")" = to-err ] || fail "-e: $(cat "$T/other/err.txt")"
grep -qx to-out "$T/both.log" && grep -qx to-err "$T/both.log" || fail "-l lacks a stream: $(cat "$T/both.log")"
[ "$(jget paths 'e["pm_log_path"]')" = "$T/both.log" ] || fail "pm_log_path $(jget paths 'e["pm_log_path"]')"
# /dev/null and NULL: nothing written, nothing created.
"$TEND" start "echo quiet; echo quiet >&2; touch '$T/quiet.ran'; exec sleep 1000" -n quiet -o /dev/null -e NULL -s || fail "start quiet"
ran "$T/quiet.ran"
[ ! -e "$L/quiet-out.log" ] && [ ! -e "$L/quiet-error.log" ] && [ ! -e NULL ] || fail "/dev/null or NULL created a file"
# Several instances: -ID per instance; merge_logs: one set of files.
"$TEND" start 'echo "i=$NODE_APP_INSTANCE"; exec sleep 1000' -n multi -i 2 -s || fail "start multi"
id0=$("$TEND" id multi | sed -n 1p)
id1=$("$TEND" id multi | sed -n 2p)
wait_for 5 lines_in "$L/multi-out-$id0.log" 1
wait_for 5 lines_in "$L/multi-out-$id1.log" 1
"$TEND" start 'echo "i=$NODE_APP_INSTANCE"; exec sleep 1000' -n merged -i 2 --merge-logs -s || fail "start merged"
wait_for 5 lines_in "$L/merged-out.log" 2
grep -qx i=0 "$L/merged-out.log" && grep -qx i=1 "$L/merged-out.log" || fail "merged log: $(cat "$L/merged-out.log")"
ls "$L" | grep -q '^merged-out-' && fail "merge_logs still made per-instance files"
"$TEND" delete all -s

# ---- timestamps -------------------------------------------------------------------------
"$TEND" start 'echo stamped; exec sleep 1000' -n iso --time -s || fail "start --time"
wait_for 5 lines_in "$L/iso-out.log" 1
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}: stamped$' "$L/iso-out.log" ||   # PM2's
	fail "--time: $(cat "$L/iso-out.log")"
"$TEND" start 'echo custom; exec sleep 1000' -n fmt --log-date-format 'YYYY/MM/DD [at] HH:mm:ss ZZ' -s ||
	fail "start --log-date-format"
wait_for 5 lines_in "$L/fmt-out.log" 1
grep -Eq '^[0-9]{4}/[0-9]{2}/[0-9]{2} at [0-9]{2}:[0-9]{2}:[0-9]{2} [+-][0-9]{4}: custom$' "$L/fmt-out.log" ||
	fail "--log-date-format: $(cat "$L/fmt-out.log")"
year=$(date +%Y)
grep -q "^$year/" "$L/fmt-out.log" || fail "the year is not this year: $(cat "$L/fmt-out.log")"

# ---- JSON records -----------------------------------------------------------------------
printf 'import sys, time\nprint("say \\"hi\\"\\tthere")\nsys.stdout.flush()\nsys.stderr.write("oops\\n")\nsys.stderr.flush()\nsys.stdout.buffer.write(b"raw \\xff\\xfe bytes\\n")\nsys.stdout.flush()\ntime.sleep(1000)\n' >records.py
"$TEND" start records.py -n js --log-type json -s || fail "start --log-type json"
wait_for 5 lines_in "$L/js-out.log" 2
wait_for 5 lines_in "$L/js-error.log" 1
"$PY" - "$L/js-out.log" "$L/js-error.log" "$("$TEND" id js)" <<'EOF' || fail "JSON log records are wrong"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
err = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
pid = int(sys.argv[3])
assert out[0]["message"] == 'say "hi"\tthere', out[0]
assert out[0]["type"] == "out" and out[0]["app_name"] == "js" and out[0]["process_id"] == pid, out[0]
assert out[0]["timestamp"].endswith("Z") and "T" in out[0]["timestamp"], out[0]
assert out[1]["message"] == "raw \ufffd\ufffd bytes", out[1]
assert err[0]["message"] == "oops" and err[0]["type"] == "err", err[0]
assert list(out[0]) == ["message", "timestamp", "type", "process_id", "app_name"], list(out[0])
EOF
"$TEND" delete all -s

# ---- lines: partial lines, long lines, raw bytes --------------------------------------
# A partial line is held, then written whole when its newline comes.
"$TEND" start 'printf "first half, "; sleep 0.2; echo "second half"; exec sleep 1000' -n half --time -s ||
	fail "start half"
wait_for 5 lines_in "$L/half-out.log" 1
grep -q ': first half, second half$' "$L/half-out.log" || fail "partial line split: $(cat "$L/half-out.log")"
# ... or written after a short wait when no newline comes.
"$TEND" start 'printf "no newline"; exec sleep 1000' -n nonl --time -s || fail "start nonl"
wait_for 5 lines_in "$L/nonl-out.log" 1
grep -q ': no newline$' "$L/nonl-out.log" || fail "held partial line: $(cat "$L/nonl-out.log")"
# A 300 KB line: split into timestamped pieces, no byte lost.
"$PY" -c 'import sys; sys.stdout.write("x" * 300000 + "\n")' >long.txt
"$TEND" start "cat $T/long.txt; exec sleep 1000" -n long --time -s || fail "start long"
wait_for 5 sh -c "[ \$(sed 's/^[^ ]*: //' '$L/long-out.log' | tr -d '\n' | wc -c) -ge 300000 ]"
[ "$(sed 's/^[^ ]*: //' "$L/long-out.log" | tr -d '\n' | wc -c)" = 300000 ] || fail "long line: bytes lost or added"
[ "$(wc -l <"$L/long-out.log")" -ge 2 ] || fail "a 300 KB line was not split"
# Without formatting, bytes pass through unchanged, invalid UTF-8 included.
printf 'caf\351 \377\376\n' >bytes.bin
"$TEND" start "cat $T/bytes.bin; exec sleep 1000" -n raw -s || fail "start raw"
wait_for 5 lines_in "$L/raw-out.log" 1
cmp -s bytes.bin "$L/raw-out.log" || fail "raw bytes changed"
"$TEND" delete all -s

# ---- the same through a declaration file -------------------------------------------
cat >logs.json <<EOF
[{"name": "declared", "script": "sh", "args": ["-c", "echo hello; exec sleep 1000"],
  "out_file": "logs/declared.out", "log_file": true, "time": true, "instances": 2,
  "merge_logs": true},
 {"name": "silent", "script": "sh", "args": ["-c", "echo nothing; touch silent.ran; exec sleep 1000"],
  "disable_logs": true}]
EOF
"$TEND" start logs.json -s || fail "start logs.json"
wait_for 5 lines_in "$T/logs/declared.out" 2
wait_for 5 lines_in "$L/declared.log" 2
[ "$(grep -c ': hello$' "$T/logs/declared.out")" = 2 ] || fail "declared.out: $(cat "$T/logs/declared.out")"
ran "$T/silent.ran"
[ ! -e "$L/silent-out.log" ] || fail "disable_logs wrote $L/silent-out.log"
"$TEND" delete all -s

# ---- rotation by size, with retention ---------------------------------------------------
cat >gen.sh <<'EOF2'
#!/bin/sh
i=0
while [ $i -lt 3000 ]; do echo "line $i xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; i=$((i + 1)); done
exec sleep 1000
EOF2
chmod +x gen.sh
"$TEND" start ./gen.sh -n rot --log-max-size 20K --log-retain 3 -s || fail "start rot"
wait_for 10 sh -c "tail -n 1 '$L/rot-out.log' 2>/dev/null | grep -q '^line 2999 '"
n=$(ls "$L" | grep -c '^rot-out__.*\.log$')
[ "$n" = 3 ] || fail "log_retain 3 kept $n rotated files: $(ls "$L" | tr '\n' ' ')"
for f in "$L"/rot-out__*.log; do
	[ "$(wc -c <"$f")" -le $((20 * 1024 + 65536)) ] || fail "$f is larger than max_size + one read"
done
# The newest lines are all there, in order, across the kept files (newest rotated
# file, then the current one): nothing lost at a rotation.
newest=$(ls -t "$L"/rot-out__*.log | head -n 1)
cat "$newest" "$L/rot-out.log" | awk '{print $2}' >"$T/seq"
first=$(head -n 1 "$T/seq")
seq "$first" 2999 | cmp -s - "$T/seq" || fail "lines lost or reordered across a rotation"
"$TEND" describe rot | grep -q "log bytes dropped *0" || fail "rotation dropped bytes"

# ---- flush, reloadLogs after an external rename ---------------------------------------
run "$TEND" flush rot
expect_rc 0
[ ! -s "$L/rot-out.log" ] || fail "flush left $(wc -c <"$L/rot-out.log") bytes"
run "$TEND" flush nosuchapp
expect_rc 1
"$TEND" start 'while :; do echo tick; sleep 0.05; done' -n ticker -s || fail "start ticker"
wait_for 5 lines_in "$L/ticker-out.log" 2
mv "$L/ticker-out.log" "$L/ticker-out.log.1"
moved=$(wc -l <"$L/ticker-out.log.1")
wait_for 10 lines_in "$L/ticker-out.log.1" $((moved + 2))   # still written, under its new name
[ ! -e "$L/ticker-out.log" ] || fail "a new file appeared before reloadLogs"
run "$TEND" reloadLogs
expect_rc 0
wait_for 5 lines_in "$L/ticker-out.log" 2
size=$(wc -c <"$L/ticker-out.log.1")
wait_for 10 lines_in "$L/ticker-out.log" 6   # a few more lines went to the new file
[ "$(wc -c <"$L/ticker-out.log.1")" = "$size" ] || fail "the renamed file still grows after reloadLogs"
# SIGUSR2 does the same.
mv "$L/ticker-out.log" "$L/ticker-out.log.2"
kill -USR2 "$(cat "$TEND_HOME/tend.pid")"
wait_for 5 lines_in "$L/ticker-out.log" 2
"$TEND" delete all -s

# ---- a log that cannot be written (/dev/full): the app and the daemon go on, the loss
# is counted in describe and reported once in the daemon log ------------------------------
"$TEND" start 'while :; do echo lost; sleep 0.01; done' -n full -o /dev/full -s || fail "start full"
dropped_over() { [ "$(jget full 'e["log_bytes_dropped"]')" -gt "$1" ] 2>/dev/null; }
wait_for 5 dropped_over 20
status_is full online || fail "an app whose log is full is $(jget full 'e["status"]')"
"$TEND" describe full | grep -Eq 'log bytes dropped +[1-9]' || fail "describe does not show the dropped bytes"
[ "$(grep -c 'full\[.*writing .* failed' "$TEND_HOME/tend.log")" = 1 ] || fail "the failure was not reported exactly once"
run "$TEND" ping
expect_out pong
