#!/bin/bash
# Each target's binary under emulation, next to x86_64: its size, the daemon's memory idle
# and with 100 apps, and the time of `tend list` with 10 apps (qemu-user through
# binfmt_misc: emulation overhead, not a board's figure).
#
#   bench/targets.sh [ARCH...]     (default: x86_64 aarch64 armv7 riscv64; build them first:
#                                   make tend; make cross)
#
# Memory under qemu is the qemu process's VmRSS, which holds qemu itself: the table gives
# it, qemu's own (qemu running `tend --version`, max RSS) and the difference, tend's part.
# Median of BENCH_TARGETS_RUNS (21) `tend list`. Table to stdout and
# bench/results/targets.md.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${BENCH_TARGETS_RUNS:-21}
RESULTS=$ROOT/bench/results
mkdir -p "$RESULTS"
[ $# -gt 0 ] || set -- x86_64 aarch64 armv7 riscv64
WORK=$(mktemp -d "${TMPDIR:-/tmp}/tend-targets.XXXXXX")
DPIDS=
trap 'for d in $DPIDS; do kill "$d" 2>/dev/null; done; rm -rf "$WORK"' EXIT

bin_of() { [ "$1" = x86_64 ] && echo "$ROOT/build/musl/tend" || echo "$ROOT/build/musl-$1/tend"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

python3 - "$WORK/apps.json" "$ROOT/bench/apps/sleep.sh" <<'PY'
import json, sys
json.dump({"apps": [{"name": "s%d" % i, "script": sys.argv[2], "interpreter": "none"} for i in range(100)]},
          open(sys.argv[1], "w"))
PY

out=$RESULTS/targets.md
{
	echo "Measured by \`bench/targets.sh $*\` ($(date -u +%F); qemu $(qemu-aarch64-static --version 2>/dev/null | head -n 1 | awk '{ print $3 }'))."
	echo
	echo "| target | size (bytes) | daemon idle (MB) | with 100 apps (MB) | qemu alone (MB) | tend's part, idle / 100 apps (MB) | \`tend list\`, 10 apps (ms) |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$out"
for arch; do
	b=$(bin_of "$arch")
	[ -x "$b" ] || { echo "targets: $b: build it first" >&2; continue; }
	export TEND_HOME=$WORK/home-$arch
	"$b" ping >/dev/null || { echo "targets: $arch: no daemon" >&2; continue; }
	d=$(cat "$TEND_HOME/tend.pid")
	DPIDS="$DPIDS $d"
	sleep 1   # (let it settle: the figure is the idle daemon's)
	idle=$(rss_kb "$d")
	"$b" start "$WORK/apps.json" -s
	sleep 2
	full=$(rss_kb "$d")
	"$b" delete all -s
	for i in 1 2 3 4 5 6 7 8 9 10; do "$b" start "sleep 1000" -n "l$i" -s; done
	list=$(python3 - "$b" "$RUNS" <<'PY'
import statistics, subprocess, sys, time
xs = []
for _ in range(int(sys.argv[2])):
    s = time.perf_counter()
    subprocess.run([sys.argv[1], "list"], stdout=subprocess.DEVNULL, check=True)
    xs.append(time.perf_counter() - s)
print("%.1f" % (statistics.median(xs) * 1000))
PY
)
	"$b" kill >/dev/null
	if [ "$arch" = x86_64 ]; then
		base=0 basecell="—"
	else
		base=$(/usr/bin/time -f %M "$b" --version 2>&1 >/dev/null | tail -n 1)
		basecell=$(mb "$base")
	fi
	echo "| $arch | $(stat -c %s "$b") | $(mb "$idle") | $(mb "$full") | $basecell | $(mb $((idle - base))) / $(mb $((full - base))) | $list |" >>"$out"
done
cat "$out"
