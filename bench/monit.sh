#!/bin/bash
# What the dashboard costs, tend monit side by side with pm2 monit.
#
#   bench/monit.sh TEND_BIN [--only tend|pm2]
#
# For each tool, in a fresh daemon with a fresh temp home (TEND_HOME / PM2_HOME under a
# mktemp dir), with BENCH_MONIT_APPS apps from one JSON file (bench/apps/sleep.sh, the
# first two replaced by bench/apps/ticker.sh, which prints a line every 100 ms):
#   daemon CPU, no monit          utime+stime of the daemon pid (/proc/PID/stat 14+15)
#                                 over BENCH_MONIT_SECONDS, as % of one core
#   monit CPU                     the same for `TOOL monit` in a detached tmux session
#                                 of 120x40 at its default refresh, over the same length,
#                                 after BENCH_MONIT_SETTLE seconds from its first frame
#   daemon CPU, one monit         the daemon meanwhile
#   monit RSS, start and growth   VmRSS of the monit process at the start and the end
#                                 of that window (BENCH_MONIT_SECONDS=600: 10 minutes)
# The table goes to stdout and bench/results/monit.md; failures to
# bench/results/monit-TOOL.log. No thresholds: the machine is shared and noisy.
#
# PM2 comes from npm into bench/.deps, tmux from Debian (test/packages). Every process
# started is stopped at the end by pid (the daemons by `TOOL kill`), never by name.
#
# Knobs (environment): BENCH_MONIT_APPS=100, BENCH_MONIT_SECONDS=60,
# BENCH_MONIT_SETTLE=5, BENCH_KEEP=1 (keep the temp dir).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"
bench_args "$@"

NAPPS=${BENCH_MONIT_APPS:-100}
SECS=${BENCH_MONIT_SECONDS:-60}
SETTLE=${BENCH_MONIT_SETTLE:-5}
for knob in NAPPS SECS SETTLE; do
	[[ ${!knob} =~ ^[0-9]+$ && ${!knob} -ge 1 ]] || { echo "bench: $knob must be a whole number from 1" >&2; exit 2; }
done
[ "$NAPPS" -ge 3 ] || { echo "bench: BENCH_MONIT_APPS must be at least 3" >&2; exit 2; }
command -v tmux >/dev/null || { echo "bench: tmux is needed (vendor/deps.sh pkgs tmux)" >&2; exit 2; }

DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
NODE=$(command -v node || echo /usr/bin/node)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
SAY_TAG=monitbench
declare -A R NOTE
TOOL= BIN= PIDFILE= H= LOG= DPID= PS_STATE= PS_START=

bench_workdir monit
trap cleanup EXIT
trap 'exit 130' INT TERM
TM="tmux -S $WORK/tmux.sock"

use_tool() {
	TOOL=$1
	LOG=$RESULTS/monit-$TOOL.log
	: >"$LOG"
	if [ "$TOOL" = tend ]; then BIN=$TEND_BIN PIDFILE=tend.pid; else BIN=$PM2_BIN PIDFILE=pm2.pid; fi
}

rss_kb() { awk '/^VmRSS:/ { print $2; f = 1 } END { exit !f }' "/proc/$1/status" 2>/dev/null; }

online() { # how many apps jlist shows online
	t 30 jlist || return 1
	"$NODE" -e 'let d = JSON.parse(require("fs").readFileSync(0, "utf8"));
		console.log(d.filter((p) => p.pm2_env.status === "online").length)' <"$WORK/out" 2>>"$LOG"
}

write_file() {
	local i sep=
	{
		echo '{"apps": ['
		for ((i = 0; i < NAPPS; i++)); do
			if [ "$i" -lt 2 ]; then
				printf '%s{"name": "tick%d", "script": "%s", "interpreter": "none"}\n' "$sep" "$i" "$ROOT/bench/apps/ticker.sh"
			else
				printf '%s{"name": "app%d", "script": "%s", "interpreter": "none"}\n' "$sep" "$i" "$ROOT/bench/apps/sleep.sh"
			fi
			sep=,
		done
		echo ']}'
	} >"$WORK/apps.json"
}

stop_daemon() {
	[ -n "$H" ] || return 0
	# shellcheck disable=SC2046
	[ -n "$DPID" ] && track "$DPID" $(descendants "$DPID")
	# shellcheck disable=SC2046
	track $(cat "$H"/pids/*.pid 2>/dev/null)
	t 120 kill || true
	reap 10
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$H"
	H= DPID=
}

measure() { # measure tend|pm2
	use_tool "$1"
	local m metrics="dcpu0 mcpu dcpu1 mrss mgrow" deadline got mpid rss0 rss1
	if [ "$TOOL" = pm2 ] && [ ! -x "$PM2_BIN" ]; then
		for m in $metrics; do NOTE[$TOOL:$m]="pm2 not installed"; done
		return
	fi
	H=$(mktemp -d "$WORK/$TOOL-home.XXXXXX")
	say "$TOOL: $NAPPS apps"
	t 60 ping && await_dpid ping && t 300 start "$WORK/apps.json" || { fail $metrics -- "start failed"; stop_daemon; return; }
	deadline=$(( $(now_us) + 300 * 1000000 ))
	until got=$(online) && [ "$got" = "$NAPPS" ]; do
		[ "$(now_us)" -ge "$deadline" ] && { fail $metrics -- "only $got of $NAPPS online"; stop_daemon; return; }
		sleep 0.5
	done
	say "$TOOL: daemon CPU without monit, ${SECS}s"
	sleep "$SETTLE"
	R[$TOOL:dcpu0]=$(cpu_pct "$DPID" "$SECS")
	$TM new-session -d -s "$TOOL" -x 120 -y 40 \
		"exec env TEND_HOME=$H PM2_HOME=$H LANG=C.UTF-8 TERM=xterm-256color $BIN monit"
	deadline=$(( $(now_us) + 60 * 1000000 ))
	until $TM capture-pane -t "$TOOL" -p 2>/dev/null | grep -q 'app[0-9]'; do
		[ "$(now_us)" -ge "$deadline" ] && { fail mcpu dcpu1 mrss mgrow -- "monit showed no app in 60 s"; stop_daemon; return; }
		sleep 0.2
	done
	mpid=$($TM display -p -t "$TOOL" '#{pane_pid}')
	track "$mpid"
	sleep "$SETTLE"
	say "$TOOL: monit attached, ${SECS}s"
	rss0=$(rss_kb "$mpid")
	local d0 d1
	d0=$(cpu_ticks "$DPID")
	R[$TOOL:mcpu]=$(cpu_pct "$mpid" "$SECS")
	d1=$(cpu_ticks "$DPID")
	rss1=$(rss_kb "$mpid")
	R[$TOOL:dcpu1]=$(awk -v a="$d0" -v b="$d1" -v s="$SECS" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }')
	R[$TOOL:mrss]=$(awk -v k="$rss0" 'BEGIN { printf "%.2f", k / 1024 }')
	R[$TOOL:mgrow]=$(( rss1 - rss0 ))
	$TM kill-session -t "$TOOL" 2>/dev/null
	reap 5
	stop_daemon
}

write_file
[ "$ONLY" = tend ] || install_pm2
for tool in tend pm2; do
	if [ -n "$ONLY" ] && [ "$ONLY" != "$tool" ]; then
		for m in dcpu0 mcpu dcpu1 mrss mgrow; do NOTE[$tool:$m]=skipped; done
		continue
	fi
	measure "$tool"
done
$TM kill-server 2>/dev/null

cell() { if [ -n "${R[$1:$2]:-}" ]; then echo "${R[$1:$2]}"; else echo "${NOTE[$1:$2]:-n/a}"; fi; }
out=$RESULTS/monit.md
{
	echo "Measured by \`$ARGV_STR\` ($(version_of tend), PM2 $(version_of pm2), $(date -u '+%F'), $NAPPS apps, ${SECS} s windows)."
	echo
	echo "| metric | tend | PM2 | ratio (PM2/tend) |"
	echo "|---|---:|---:|---:|"
	echo "| daemon CPU, no monit (% of a core) | $(cell tend dcpu0) | $(cell pm2 dcpu0) | $(ratio dcpu0) |"
	echo "| monit's own CPU (% of a core) | $(cell tend mcpu) | $(cell pm2 mcpu) | $(ratio mcpu) |"
	echo "| daemon CPU, one monit attached (% of a core) | $(cell tend dcpu1) | $(cell pm2 dcpu1) | $(ratio dcpu1) |"
	echo "| monit RSS (MiB) | $(cell tend mrss) | $(cell pm2 mrss) | $(ratio mrss) |"
	echo "| monit RSS growth over the window (KiB) | $(cell tend mgrow) | $(cell pm2 mgrow) | — |"
	echo
	echo "Apps: $((NAPPS - 2)) × bench/apps/sleep.sh and 2 × bench/apps/ticker.sh (a line every 100 ms), from one JSON file. monit runs in a detached tmux session of 120x40 at its default refresh (tend: 1 s; PM2's own); CPU is utime+stime from /proc/PID/stat over the window."
} >"$out"
cat "$out"
say "table in ${out#"$ROOT"/}"
