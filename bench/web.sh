#!/bin/bash
# The web API side by side: tend web against PM2's own HttpInterface (lib/HttpInterface.js,
# what `pm2 web` ran), over the same apps.
#
#   bench/web.sh TEND_BIN [--only tend|pm2]
#
# For each tool, in a fresh home, with N apps (bench/apps/sleep.sh from one JSON file) for
# N in 10 and BENCH_WEB_BIG (1000; PM2 only with BENCH_PM2_1000=1, it takes minutes):
#   GET / and GET /metrics        wrk -t2 -c16 -dBENCH_WEB_SECONDS s --latency: req/s and
#                                 p99 (tend with its token; PM2 has no /metrics)
#   RSS of the web process        VmRSS after the runs
#   daemon CPU, a dashboard open  tend: utime+stime of the daemon over BENCH_WEB_SECONDS
#                                 with and without one /api/events client (what the
#                                 dashboard keeps open), 10 apps
# The table goes to stdout and bench/results/web.md; failures to bench/results/web-TOOL.log.
# No thresholds: the machine is shared and noisy.
#
# Knobs: BENCH_WEB_SECONDS=10, BENCH_WEB_BIG=1000, BENCH_PM2_1000=0, BENCH_KEEP=1.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"
bench_args "$@"

SECS=${BENCH_WEB_SECONDS:-10}
BIG=${BENCH_WEB_BIG:-1000}
PM2_BIG=${BENCH_PM2_1000:-0}
for knob in SECS BIG PM2_BIG; do
	[[ ${!knob} =~ ^[0-9]+$ ]] || { echo "bench: $knob must be a whole number" >&2; exit 2; }
done
DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
NODE=$(command -v node || echo /usr/bin/node)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
SAY_TAG=webbench
declare -A R NOTE
TOOL= BIN= PIDFILE= H= LOG= DPID= PS_STATE= PS_START= WPID= TOKEN=

bench_workdir web
trap cleanup EXIT
trap 'exit 130' INT TERM

use_tool() {
	TOOL=$1
	LOG=$RESULTS/web-$TOOL.log
	if [ "$TOOL" = tend ]; then BIN=$TEND_BIN PIDFILE=tend.pid; else BIN=$PM2_BIN PIDFILE=pm2.pid; fi
}

rss_mib() { awk '/^VmRSS:/ { printf "%.2f", $2 / 1024; f = 1 } END { exit !f }' "/proc/$1/status" 2>/dev/null; }

apps_file() { # apps_file N: a JSON file of N sleep apps
	local i sep=
	{
		echo '{"apps": ['
		for ((i = 0; i < $1; i++)); do
			printf '%s{"name": "app%d", "script": "%s", "interpreter": "none"}\n' "$sep" "$i" "$ROOT/bench/apps/sleep.sh"
			sep=,
		done
		echo ']}'
	} >"$WORK/apps-$1.json"
}

stop_daemon() {
	[ -n "$WPID" ] && kill "$WPID" 2>/dev/null
	WPID=
	[ -n "$H" ] || return 0
	# shellcheck disable=SC2046
	[ -n "$DPID" ] && track "$DPID" $(descendants "$DPID")
	# shellcheck disable=SC2046
	track $(cat "$H"/pids/*.pid 2>/dev/null)
	t 300 kill || true
	reap 10
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$H"
	H= DPID=
}

web_up() { # web_up PORT: the tool's web interface on PORT; WPID, TOKEN set
	TOKEN=
	if [ "$TOOL" = tend ]; then
		t 60 web "$1" || return 1
		TOKEN=$(TEND_HOME="$H" "$BIN" web --token)
		WPID=$(TEND_HOME="$H" "$BIN" pid tend-web 2>/dev/null)
	else
		(exec env PM2_HOME="$H" PM2_WEB_PORT="$1" "$NODE" "$DEPS/node_modules/pm2/lib/HttpInterface.js" \
			>>"$LOG" 2>&1 </dev/null) &
		WPID=$!
		track "$WPID"
	fi
	local deadline=$(( $(now_us) + 60 * 1000000 ))
	until curl -s -o /dev/null --max-time 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$1/"; do
		[ "$(now_us)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

load() { # load PORT PATH METRIC: wrk against it; R[TOOL:METRIC_rps], R[TOOL:METRIC_p99]
	local out=$WORK/wrk.out
	timeout -k 5 $((SECS + 30)) wrk -t2 -c16 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" \
		"http://127.0.0.1:$1$2" >"$out" 2>&1 </dev/null
	{ echo "== wrk $2 ($3)"; cat "$out"; } >>"$LOG"
	if parse_wrk "$out" && [ "$W_NON2XX" = 0 ]; then
		R[$TOOL:${3}_rps]=$(fmt "$W_RPS")
		R[$TOOL:${3}_p99]=$(fmt "$W_P99")
	else
		fail "${3}_rps" "${3}_p99" -- "wrk $2: $(grep -E 'Non-2xx|error' "$out" | head -n 2 | tr '\n' ' ')"
	fi
}

measure() { # measure TOOL N
	use_tool "$1"
	local n=$2 port sse
	H=$(mktemp -d "$WORK/$TOOL-home.XXXXXX")
	say "$TOOL: $n apps"
	apps_file "$n"
	if ! { t 60 ping && await_dpid ping && t 900 start "$WORK/apps-$n.json"; }; then
		fail "root$n"_rps "root$n"_p99 -- "start failed"
		stop_daemon
		return
	fi
	port=$(free_port)
	if ! web_up "$port"; then
		fail "root$n"_rps "root$n"_p99 "metrics$n"_rps "metrics$n"_p99 -- "the web interface did not answer"
		stop_daemon
		return
	fi
	say "$TOOL: GET / with $n apps, ${SECS}s"
	load "$port" / "root$n"
	if [ "$TOOL" = tend ]; then
		say "$TOOL: GET /metrics with $n apps, ${SECS}s"
		load "$port" /metrics "metrics$n"
	else
		NOTE[$TOOL:metrics${n}_rps]="none" NOTE[$TOOL:metrics${n}_p99]="none"
	fi
	R[$TOOL:rss$n]=$(rss_mib "$WPID")
	if [ "$TOOL" = tend ] && [ "$n" -le 10 ]; then
		say "$TOOL: daemon CPU without and with a dashboard's event stream, ${SECS}s each"
		R[$TOOL:dcpu0]=$(cpu_pct "$DPID" "$SECS")
		curl -s -N -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/api/events" >/dev/null 2>&1 &
		sse=$!
		track "$sse"
		sleep 3
		R[$TOOL:dcpu1]=$(cpu_pct "$DPID" "$SECS")
		kill "$sse" 2>/dev/null
	fi
	stop_daemon
}

command -v wrk >/dev/null || timeout 300 "$ROOT/vendor/deps.sh" pkgs wrk >>"$RESULTS/install.log" 2>&1
command -v wrk >/dev/null || { say "no wrk"; exit 1; }
[ "$ONLY" = tend ] || install_pm2
for tool in tend pm2; do
	if [ -n "$ONLY" ] && [ "$ONLY" != "$tool" ]; then
		for m in root10_rps root10_p99 metrics10_rps metrics10_p99 rss10 "root${BIG}_rps" "root${BIG}_p99" \
			"metrics${BIG}_rps" "metrics${BIG}_p99" "rss$BIG" dcpu0 dcpu1; do NOTE[$tool:$m]=skipped; done
		continue
	fi
	measure "$tool" 10
	if [ "$tool" = tend ] || [ "$PM2_BIG" = 1 ]; then
		measure "$tool" "$BIG"
	else
		for m in "root${BIG}_rps" "root${BIG}_p99" "rss$BIG"; do NOTE[$tool:$m]="BENCH_PM2_1000=1"; done
	fi
done
for m in metrics10_rps metrics10_p99 "metrics${BIG}_rps" "metrics${BIG}_p99" dcpu0 dcpu1; do
	[ -n "${NOTE[pm2:$m]:-}" ] || NOTE[pm2:$m]="none"
done

cell() { if [ -n "${R[$1:$2]:-}" ]; then echo "${R[$1:$2]}"; else echo "${NOTE[$1:$2]:-n/a}"; fi; }
inv() { # PM2/tend for latencies, tend/PM2 for rates: above 1, tend is ahead
	local a=${R[tend:$1]:-} b=${R[pm2:$1]:-}
	if [ -n "$a" ] && [ -n "$b" ]; then
		case $1 in *_rps) echo "$(fmt "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')")×" ;;
		*) echo "$(fmt "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')")×" ;; esac
	else
		echo "—"
	fi
}
out=$RESULTS/web.md
{
	echo "Measured by \`$ARGV_STR\` ($(version_of tend), PM2 $(version_of pm2), $(date -u '+%F'); wrk -t2 -c16 -d${SECS}s on the same machine)."
	echo
	echo "| metric | tend | PM2 HttpInterface | tend's edge |"
	echo "|---|---:|---:|---:|"
	for n in 10 "$BIG"; do
		echo "| GET /, $n apps: req/s | $(cell tend "root${n}_rps") | $(cell pm2 "root${n}_rps") | $(inv "root${n}_rps") |"
		echo "| ... p99 (ms) | $(cell tend "root${n}_p99") | $(cell pm2 "root${n}_p99") | $(inv "root${n}_p99") |"
		echo "| GET /metrics, $n apps: req/s | $(cell tend "metrics${n}_rps") | $(cell pm2 "metrics${n}_rps") | — |"
		echo "| ... p99 (ms) | $(cell tend "metrics${n}_p99") | $(cell pm2 "metrics${n}_p99") | — |"
		echo "| RSS of the web process after the runs, $n apps (MiB) | $(cell tend "rss$n") | $(cell pm2 "rss$n") | $(inv "rss$n") |"
	done
	echo "| daemon CPU, 10 apps, no dashboard (% of a core) | $(cell tend dcpu0) | — | — |"
	echo "| ... one dashboard's event stream open (% of a core) | $(cell tend dcpu1) | — | — |"
} >"$out"
cat "$out"
say "table in ${out#"$ROOT"/}"
