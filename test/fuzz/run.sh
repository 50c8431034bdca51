#!/bin/sh
# Run fuzz targets one after another, each for a fixed time from a copy of its seeds,
# and report like test/run.sh: one line per target, then "N passed, N failed" alone on
# the last line. Exit status 1 if any target crashed, timed out, leaked or ran out
# of memory.
#
#   test/fuzz/run.sh [-s SECONDS] [-d BUILD_DIR] [NAME...]
#
# NAME is a target (build/fuzz/fuzz_NAME); none given: every built one. The corpus a
# run grows stays in BUILD_DIR/run/NAME/corpus; an input that failed is saved there as
# crash-*, timeout-*, leak-* or oom-*, and the last lines of the log are printed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
seconds=60 dir=$top/build/fuzz
while [ $# -gt 0 ]; do
	case $1 in
	-s) seconds=$2; shift 2 ;;
	-d) dir=$2; shift 2 ;;
	*) break ;;
	esac
done
case $dir in /*) ;; *) dir=$top/$dir ;; esac
if [ $# = 0 ]; then
	for b in "$dir"/fuzz_*; do
		case $b in *.d) continue ;; esac
		[ -x "$b" ] && set -- "$@" "${b##*/fuzz_}"
	done
fi
# The declaration harnesses write a file per input: on tmpfs when there is one.
tmp_root=/dev/shm
[ -d "$tmp_root" ] && [ -w "$tmp_root" ] || tmp_root=
# A smaller quarantine than ASan's 256 MB: fresh pages cost more than the fuzzing
# (page faults were a third of the time); use-after-free is still caught.
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=32}"

passed=0 failed=0
for name do
	bin=$dir/fuzz_$name
	work=$dir/run/$name
	if [ ! -x "$bin" ]; then
		echo "FAIL fuzz $name: $bin not built"
		failed=$((failed + 1))
		continue
	fi
	rm -rf "$work"
	mkdir -p "$work/corpus" "$work/tmp"
	[ -d "$top/test/fuzz/corpus/$name" ] && cp "$top/test/fuzz/corpus/$name"/* "$work/corpus/" 2>/dev/null
	dict=
	[ -f "$top/test/fuzz/$name.dict" ] && dict=-dict=$top/test/fuzz/$name.dict
	ftmp=$work/tmp
	[ -n "$tmp_root" ] && ftmp=$(mktemp -d "$tmp_root/tend-fuzz-$name.XXXXXX")
	# shellcheck disable=SC2086
	FUZZ_TMP=$ftmp timeout -k 10 $((seconds + 120)) nice -n 10 "$bin" \
		-max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" $dict "$work/corpus" >"$work/log" 2>&1
	rc=$?
	[ -n "$tmp_root" ] && rm -rf "$ftmp"
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log" | tail -n 1)
	units=$(ls "$work/corpus" | wc -l)
	artifact=$(ls "$work" | grep -E '^(crash|timeout|leak|oom)-' | head -n 1)
	if [ $rc = 0 ] && [ -z "$artifact" ]; then
		echo "ok fuzz $name: ${execs:-0} execs, ${rate:-0}/s, $units corpus units (${seconds}s)"
		passed=$((passed + 1))
	else
		why=$(grep -m 1 -E '^SUMMARY|ERROR: libFuzzer|invariant broken' "$work/log")
		[ $rc = 124 ] && why="hung past ${seconds}s + 120s"
		echo "FAIL fuzz $name: ${why:-exit status $rc} after ${execs:-?} execs; input: $work/${artifact:-?}"
		# the report's first lines, and the frames in tend's own code
		{ grep -E 'invariant broken|runtime error|^SUMMARY|ERROR:' "$work/log" | head -n 4
		  grep -E '^ +#[0-9]+ .* in [A-Za-z_].* [^ ]*(core|test/fuzz)/' "$work/log" | head -n 8
		} | sed 's/^ */    | /'
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
