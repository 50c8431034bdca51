#!/bin/sh
# tend's test runner. Runs C unit tests and shell tests, one line per test, then
# "N passed, N failed" alone on the last line. Exit status 1 if anything failed.
#
#   test/run.sh [-j JOBS] [TEST...]
#
# A TEST is a shell script (test/t/NAME.sh) or a unit test binary. With none given:
# every binary in $UNIT_DIR and every test/t/*.sh. Environment: TEND_BIN (the binary
# under test, required), UNIT_DIR, TEST_TIMEOUT (seconds per test, default 300).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
jobs=1
if [ "${1:-}" = "--one" ]; then
	# One test: run it with its own log and report one line.
	t=$2 results=$3
	name=$(basename "$t" .sh)
	log=$results/$name.log
	start=$(date +%s)
	case $t in
	*.sh) timeout -k 5 "${TEST_TIMEOUT:-300}" sh "$t" >"$log" 2>&1 </dev/null ;;
	*) timeout -k 5 "${TEST_TIMEOUT:-300}" "$t" >"$log" 2>&1 </dev/null ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	if [ $rc = 0 ]; then
		echo "ok $name (${secs}s)" | tee "$results/$name.res"
	else
		reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
		[ $rc = 124 ] && reason="timed out after ${TEST_TIMEOUT:-300}s"
		echo "FAIL $name: ${reason:-exit status $rc}" | tee "$results/$name.res"
		tail -n 25 "$log" | sed 's/^/    | /'
	fi
	exit 0
fi
while [ $# -gt 0 ]; do
	case $1 in
	-j) jobs=$2; shift 2 ;;
	-j*) jobs=${1#-j}; shift ;;
	*) break ;;
	esac
done
: "${TEND_BIN:?TEND_BIN must name the tend binary under test}"
export TEND_BIN TEND_TOP="$top"
if [ $# = 0 ]; then
	set --
	if [ -n "${UNIT_DIR:-}" ] && [ -d "$UNIT_DIR" ]; then
		for u in "$UNIT_DIR"/*; do [ -x "$u" ] && set -- "$@" "$u"; done
	fi
	for t in "$top"/test/t/*.sh; do set -- "$@" "$t"; done
fi
# A bare name means test/t/NAME.sh or the unit test NAME.
for t do
	shift
	if [ ! -e "$t" ] && [ -e "$top/test/t/$t.sh" ]; then t=$top/test/t/$t.sh
	elif [ ! -e "$t" ] && [ -x "${UNIT_DIR:-/nonexistent}/$t" ]; then t=$UNIT_DIR/$t
	fi
	set -- "$@" "$t"
done
results=$(mktemp -d "${TMPDIR:-/tmp}/tend-results.XXXXXX")
printf '%s\n' "$@" | xargs -P "$jobs" -I{} sh "$0" --one {} "$results"
passed=$(cat "$results"/*.res 2>/dev/null | grep -c '^ok ')
failed=$(cat "$results"/*.res 2>/dev/null | grep -c '^FAIL ')
missing=$(( $# - passed - failed ))
[ $missing -gt 0 ] && failed=$(( failed + missing ))
rm -rf "$results"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
