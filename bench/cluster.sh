#!/bin/bash
# Side-by-side benchmark of cluster mode: tend and PM2 serving HTTP with wrk as the load.
#
#   bench/cluster.sh TEND_BIN [--only tend|pm2]
#
# One node app for every node case, bench/apps/web.js (answers "hello\n", listens on
# $PORT), BENCH_INSTANCES (2) instances, a fresh temp home per daemon (TEND_HOME /
# PM2_HOME under a mktemp dir), ports picked free on 127.0.0.1. Load: wrk -tBENCH_THREADS
# -cBENCH_CONNS -dBENCH_DURATION --latency against http://127.0.0.1:PORT/.
#   steady load        req/s and p99 latency (wrk's 99% line), medians of BENCH_REPS runs,
#                      after one warm-up run of BENCH_WARMUP_S s per case, for:
#                        direct    `node web.js`, one process, no manager (the baseline)
#                        tend fd   `tend start web.js -i 2 --port P`: the daemon binds the
#                                  socket, every instance accepts on it (fd handoff)
#                        PM2       `PORT=P pm2 start web.js -i 2` (node's cluster master in
#                                  PM2's daemon)
#                        tend proxy `... --lb proxy` (instances on private ports, the daemon
#                                  forwards); "skipped" if this tend refuses the option
#                      The servers of all cases run side by side and the repetitions are
#                      interleaved (direct, tend fd, PM2, tend proxy, then again), so that
#                      the machine's drift hits every case alike. Daemon CPU = utime+stime
#                      of the daemon pid (/proc/PID/stat, fields 14+15) over the wrk run,
#                      as % of one CPU.
#   reload under load  a wrk run of BENCH_DURATION s, and `TOOL reload NAME` at 30% and
#                      60% of it (~3 s and ~6 s): req/s, non-2xx responses, socket errors
#                      (connect, read, write, timeout; wrk prints nothing when there are
#                      none), whether each reload command exited 0 and replaced every pid
#                      (pid files before and after it, and `TOOL pid NAME` before and after
#                      the run), the reload command's wall time. Cases: tend node (fd
#                      handoff), tend python (bench/apps/lfd.py, LISTEN_FDS), PM2 node,
#                      tend proxy node (if available). BENCH_RELOAD_REPS runs each: req/s
#                      median, errors summed.
# The table goes to stdout and bench/results/cluster.md; failures (the command, its exit
# status and output) and every wrk output go to bench/results/cluster-TOOL.log
# (TOOL: direct, tend, pm2); a failed metric reads n/a. No thresholds: the machine is
# assumed shared and noisy. With only 2 CPUs, wrk and the servers compete for them.
#
# PM2 comes from npm into bench/.deps (pm2@7, else pm2@latest) as for bench/run.sh, wrk from
# Debian (vendor/deps.sh pkgs wrk). Every process started is stopped at the end: the
# daemons by `TOOL kill`, then anything still alive by pid (checked against its start
# time). Never by name.
#
# Knobs (environment): BENCH_REPS=3, BENCH_DURATION=10 (s per wrk run, at least 3),
# BENCH_WARMUP_S=2, BENCH_RELOAD_REPS=2, BENCH_THREADS=2, BENCH_CONNS=64,
# BENCH_INSTANCES=2, BENCH_KEEP=1 (keep the temp dir and homes).
# Smoke run: BENCH_REPS=1 BENCH_DURATION=3 BENCH_WARMUP_S=1 BENCH_RELOAD_REPS=1.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"   # arguments, time, medians, the pids we started, fail, cleanup, table cells
bench_args "$@"

REPS=${BENCH_REPS:-3}
DURATION=${BENCH_DURATION:-10}
WARM_S=${BENCH_WARMUP_S:-2}
RELOAD_REPS=${BENCH_RELOAD_REPS:-2}
THREADS=${BENCH_THREADS:-2}
CONNS=${BENCH_CONNS:-64}
INSTANCES=${BENCH_INSTANCES:-2}
for knob in REPS DURATION WARM_S RELOAD_REPS THREADS CONNS INSTANCES; do
	[[ ${!knob} =~ ^[0-9]+$ ]] || { echo "bench: $knob must be a whole number, not '${!knob}'" >&2; exit 2; }
done
[ "$REPS" -ge 1 ] && [ "$RELOAD_REPS" -ge 1 ] && [ "$THREADS" -ge 1 ] && [ "$INSTANCES" -ge 1 ] &&
	[ "$CONNS" -ge "$THREADS" ] && [ "$DURATION" -ge 3 ] ||
	{ echo "bench: BENCH_REPS, BENCH_RELOAD_REPS, BENCH_THREADS, BENCH_INSTANCES at least 1," \
		"BENCH_CONNS at least BENCH_THREADS, BENCH_DURATION at least 3" >&2; exit 2; }

DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
APP_WEB=$ROOT/bench/apps/web.js
APP_LFD=$ROOT/bench/apps/lfd.py
NODE=$(command -v node || echo /usr/bin/node)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Anything that would move a pid or log file out of the home we point the tools at; a PORT
# of the caller's must not reach the daemons or the apps.
unset TEND_PID_FILE_PATH TEND_LOG_FILE_PATH PM2_PID_FILE_PATH PM2_LOG_FILE_PATH PORT

bench_workdir clbench

declare -A R      # R[tool:metric] = value, absent = failed
declare -A NOTE   # NOTE[tool:metric] = why it is missing (skipped, failed, na)
declare -A V      # V[case:metric] = per-repetition values, space-separated
declare -A HOME_OF DPID_OF
DIRECT_PID=
TOOL= BIN= PIDFILE= H= LOG= DPID= PS_STATE= PS_START=
W_RPS= W_P99= W_NON2XX= W_CONNECT= W_READ= W_WRITE= W_TIMEOUT= W_REQS=

# ---- tools and daemons ---------------------------------------------------------------------

use_tool() { # use_tool direct|tend|pm2: that tool's home, daemon pid and log become current
	if [ -n "$TOOL" ] && [ "$TOOL" != direct ]; then HOME_OF[$TOOL]=$H DPID_OF[$TOOL]=$DPID; fi
	TOOL=$1
	LOG=$RESULTS/cluster-$TOOL.log
	case $TOOL in
	tend) BIN=$TEND_BIN PIDFILE=tend.pid ;;
	pm2) BIN=$PM2_BIN PIDFILE=pm2.pid ;;
	*) BIN= PIDFILE= ;;
	esac
	H=${HOME_OF[$TOOL]:-} DPID=${DPID_OF[$TOOL]:-}
}

start_daemon() { # a new home $H for $TOOL, its daemon up, DPID set
	H=$(mktemp -d "$WORK/$TOOL-home.XXXXXX") || return 1
	DPID=
	t 30 ping || return 1
	await_dpid ping
}

stop_daemon() { # stop the daemon of $H and everything under it (those pids waited for)
	local f=$WORK/stop-$TOOL.pids
	[ -n "$H" ] || return 0
	: >"$f"
	if [ -n "$DPID" ]; then
		# shellcheck disable=SC2046
		track_to "$f" "$DPID" $(descendants "$DPID")
	fi
	# shellcheck disable=SC2046
	track_to "$f" $(pids_in "$H"/pids/*.pid)
	t 60 kill || true
	reap 10 "$f"
	H= DPID=
	HOME_OF[$TOOL]= DPID_OF[$TOOL]=
}

stop_all() { # the direct node, every daemon, then anything we started still alive
	local tool
	if [ -n "$DIRECT_PID" ]; then
		kill "$DIRECT_PID" 2>/dev/null
		wait "$DIRECT_PID" 2>/dev/null
		DIRECT_PID=
	fi
	for tool in tend pm2; do
		use_tool "$tool"
		stop_daemon 2>/dev/null
	done
	TOOL= H= DPID=
	reap 5
}

on_exit() { # stop_all, then common.sh's cleanup with the script's exit status
	local rc=$?
	trap - EXIT
	stop_all
	(exit "$rc")
	cleanup
}

app_pids() { # app_pids NAME: the pids of an app's instances, sorted, one line
	t 30 pid "$1" || return 1
	grep -Eo '^[0-9]+' "$WORK/out" | grep -v '^0$' | sort -n | tr '\n' ' '
}

pids_in() { # pids_in FILE...: the pid in each pid file, sorted, one line
	local f p
	for f; do   # one by one: a pid file may lack its newline
		p=
		{ read -r p <"$f"; } 2>/dev/null
		[[ $p =~ ^[0-9]+$ ]] && echo "$p"
	done | sort -n | tr '\n' ' '
}

pidfile_pids() { # pidfile_pids NAME: an app's pids from the pid files in the home (no command)
	pids_in "$H/pids/$1"-[0-9]*.pid
}

http_ok() { # http_ok PORT: one GET answered 200
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 2 -o /dev/null "http://127.0.0.1:$1/" 2>/dev/null
	else
		"$NODE" -e 'require("http").get("http://127.0.0.1:" + process.argv[1] + "/",
			(r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))
			.setTimeout(2000, () => process.exit(1))' "$1" 2>/dev/null
	fi
}

wait_http() { # wait_http PORT SECS
	local deadline=$(( $(now_us) + $2 * 1000000 ))
	until http_ok "$1"; do
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== nothing answers on port $1 after $2 s" >>"$LOG"
			return 1
		fi
		sleep 0.1
	done
}

sleep_until() { # sleep_until US: until that time (microseconds since the epoch)
	local left=$(( $1 - $(now_us) ))
	[ "$left" -gt 0 ] && sleep "$(awk -v d="$left" 'BEGIN { printf "%.3f", d / 1e6 }')"
	return 0
}

# ---- wrk -----------------------------------------------------------------------------------

WRK_ARGS=()
wrk_args() { # wrk_args SECS
	WRK_ARGS=(-t"$THREADS" -c"$CONNS" -d"${1}s" --latency)
}

run_wrk() { # run_wrk PORT SECS FILE: one wrk run, parsed; its output appended to $LOG
	wrk_args "$2"
	timeout -k 5 $(( $2 + 30 )) wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$1/" >"$3" 2>&1 </dev/null
	local rc=$?
	{ echo "== wrk ${WRK_ARGS[*]} http://127.0.0.1:$1/: exit $rc"; cat "$3"; } >>"$LOG"
	[ "$rc" = 0 ] && parse_wrk "$3"
}

add() { V[$1]="${V[$1]:-} $2"; }   # add CASE:METRIC VALUE

# ---- the servers ---------------------------------------------------------------------------

# Each case: CASE_TOOL[case] (whose home and log), CASE_PORT[case], CASE_UP[case]=1 if up.
declare -A CASE_TOOL CASE_PORT CASE_UP
CASES=(direct tfd pm2 tpx)
CASE_TOOL=([direct]=direct [tfd]=tend [pm2]=pm2 [tpx]=tend)

up_direct() {
	local p
	use_tool direct
	p=$(free_port) || { fail d_rps d_p99 -- "no free port"; return 1; }
	say "direct: node web.js on port $p"
	PORT=$p "$NODE" "$APP_WEB" >>"$LOG" 2>&1 </dev/null &
	DIRECT_PID=$!
	track "$DIRECT_PID"
	wait_http "$p" 20 || { fail d_rps d_p99 -- "node web.js does not answer on $p"; return 1; }
	CASE_PORT[direct]=$p CASE_UP[direct]=1
}

up_tend() { # the tend daemon; app web (fd handoff), app webpx (--lb proxy) if available
	local p rc
	use_tool tend
	start_daemon || { fail rps p99 dcpu px_rps px_p99 px_dcpu -- "tend daemon did not start"; return 1; }
	p=$(free_port) || return 1
	say "tend: web.js -i $INSTANCES --port $p"
	if t 60 start "$APP_WEB" -n web -i "$INSTANCES" --port "$p" -s && wait_http "$p" 20; then
		# shellcheck disable=SC2046
		track $(app_pids web)
		CASE_PORT[tfd]=$p CASE_UP[tfd]=1
	else
		fail rps p99 dcpu -- "tend start web.js -i $INSTANCES --port $p"
	fi
	p=$(free_port) || return 1
	say "tend: web.js -i $INSTANCES --port $p --lb proxy"
	t 60 start "$APP_WEB" -n webpx -i "$INSTANCES" --port "$p" --lb proxy -s
	rc=$?
	if [ "$rc" = 2 ]; then
		say "tend: --lb proxy refused (exit 2): proxy rows skipped"
		echo "== --lb proxy refused: $(head -n 3 "$WORK/out")" >>"$LOG"
		local m
		for m in px_rps px_p99 px_dcpu px_err rlpx_rps rlpx_non2xx rlpx_sock rlpx_detail rlpx_ok rlpx_ms; do
			NOTE[tend:$m]=skipped NOTE[pm2:$m]=na
		done
	elif [ "$rc" = 0 ] && wait_http "$p" 20; then
		# shellcheck disable=SC2046
		track $(app_pids webpx)
		CASE_PORT[tpx]=$p CASE_UP[tpx]=1
	else
		fail px_rps px_p99 px_dcpu -- "tend start web.js -i $INSTANCES --port $p --lb proxy (exit $rc)"
	fi
}

up_pm2() {
	local p
	use_tool pm2
	start_daemon || { fail rps p99 dcpu -- "PM2 daemon did not start"; return 1; }
	p=$(free_port) || return 1
	say "pm2: PORT=$p pm2 start web.js -i $INSTANCES"
	if PORT=$p t 90 start "$APP_WEB" -n web -i "$INSTANCES" && wait_http "$p" 30; then
		# shellcheck disable=SC2046
		track $(app_pids web)
		CASE_PORT[pm2]=$p CASE_UP[pm2]=1
	else
		fail rps p99 dcpu -- "PORT=$p pm2 start web.js -i $INSTANCES"
	fi
}

# ---- steady load ---------------------------------------------------------------------------

steady_run() { # steady_run CASE REP: one wrk run against the case's server
	local c=$1 rep=$2 k0 k1 a b dp=
	use_tool "${CASE_TOOL[$c]}"
	[ "$c" != direct ] && dp=$DPID
	say "$c: wrk ${DURATION} s ($rep/$REPS)"
	[ -n "$dp" ] && k0=$(cpu_ticks "$dp")
	a=$(now_us)
	if ! run_wrk "${CASE_PORT[$c]}" "$DURATION" "$WORK/wrk.out"; then
		echo "== FAILED: wrk against $c (rep $rep)" >>"$LOG"
		say "$c: wrk failed (see ${LOG#"$ROOT"/})"
		return 1
	fi
	b=$(now_us)
	add "$c:rps" "$W_RPS"
	add "$c:p99" "$W_P99"
	add "$c:err" $(( W_NON2XX + W_CONNECT + W_READ + W_WRITE + W_TIMEOUT ))
	if [ -n "$dp" ] && k1=$(cpu_ticks "$dp") && [ -n "${k0:-}" ]; then
		add "$c:dcpu" "$(awk -v k=$(( k1 - k0 )) -v hz="$CLK_TCK" -v d=$(( b - a )) \
			'BEGIN { printf "%.2f", k / hz / (d / 1e6) * 100 }')"
	fi
	echo "== $c rep $rep: $W_RPS req/s, p99 $W_P99 ms, non-2xx $W_NON2XX, socket errors" \
		"$W_CONNECT/$W_READ/$W_WRITE/$W_TIMEOUT" >>"$LOG"
}

vals_median() { # vals_median CASE:METRIC N: the median of its values if there are N
	local n=$2
	# shellcheck disable=SC2086
	set -- ${V[$1]:-}
	[ $# = "$n" ] && median "$@"
}

vals_sum() { # vals_sum CASE:METRIC N: their sum, likewise
	local n=$2
	# shellcheck disable=SC2086
	set -- ${V[$1]:-}
	[ $# = "$n" ] && printf '%s\n' "$@" | awk '{ s += $1 } END { print s }'
}

phase_steady() {
	local c rep
	for c in "${CASES[@]}"; do
		[ -n "${CASE_UP[$c]:-}" ] || continue
		use_tool "${CASE_TOOL[$c]}"
		say "$c: warm-up, wrk ${WARM_S} s"
		[ "$WARM_S" -gt 0 ] && run_wrk "${CASE_PORT[$c]}" "$WARM_S" "$WORK/wrk.out" >/dev/null
	done
	for ((rep = 1; rep <= REPS; rep++)); do
		for c in "${CASES[@]}"; do
			[ -n "${CASE_UP[$c]:-}" ] || continue
			steady_run "$c" "$rep"
		done
	done
	# case -> (tool, metric prefix)
	local key m v tool
	for c in "${CASES[@]}"; do
		case $c in
		direct) tool=tend key=d_ ;; tfd) tool=tend key= ;; pm2) tool=pm2 key= ;; tpx) tool=tend key=px_ ;;
		esac
		[ -n "${CASE_UP[$c]:-}" ] || continue
		for m in rps p99 dcpu; do
			[ "$c" = direct ] && [ "$m" = dcpu ] && continue
			if v=$(vals_median "$c:$m" "$REPS"); then R[$tool:$key$m]=$v
			else use_tool "${CASE_TOOL[$c]}"; fail "$key$m" -- "$c: $m missing in some repetition"; fi
		done
		v=$(vals_sum "$c:err" "$REPS") && R[$tool:${key}err]=$v
	done
}

# ---- reload under load ---------------------------------------------------------------------

# reload_case KEY TOOL NAME PORT: BENCH_RELOAD_REPS wrk runs of DURATION s with a reload at
# 30% and 60%; metrics KEY_rps (median), KEY_non2xx, KEY_sock (sums), KEY_detail (socket
# errors connect/read/write/timeout), KEY_ok ("R/N exit 0, P/N new pids"), KEY_ms (reload
# command wall time, median).
reload_case() {
	local key=$1 tool=$2 name=$3 port=$4 rep at a b rc wpid t0 before after p0 p1 new
	local nrel=0 okrc=0 okpid=0 same
	local -a rps=() ms=()
	local non=0 cn=0 rd=0 wr=0 to=0
	use_tool "$tool"
	for ((rep = 1; rep <= RELOAD_REPS; rep++)); do
		say "$tool: reload $name twice under wrk ${DURATION} s ($rep/$RELOAD_REPS)"
		before=$(app_pids "$name") || { fail "${key}_rps" -- "$tool pid $name"; return 1; }
		wrk_args "$DURATION"
		t0=$(now_us)
		timeout -k 5 $(( DURATION + 30 )) wrk "${WRK_ARGS[@]}" "http://127.0.0.1:$port/" \
			>"$WORK/wrk-reload.out" 2>&1 </dev/null &
		wpid=$!
		track "$wpid"
		for at in 3 6; do
			# shellcheck disable=SC2046
			[ "$at" = 3 ] && track $(descendants "$wpid")   # wrk itself, under timeout
			sleep_until $(( t0 + DURATION * at * 100000 ))
			p0=$(pidfile_pids "$name")
			a=$(now_us)
			t 120 reload "$name"
			rc=$?
			b=$(now_us)
			p1=$(pidfile_pids "$name")
			nrel=$((nrel + 1))
			ms+=("$(awk -v d=$(( b - a )) 'BEGIN { printf "%.1f", d / 1e3 }')")
			[ "$rc" = 0 ] && okrc=$((okrc + 1))
			# every pid after the reload is new, as many as before
			same=0
			for new in $p1; do case " $p0 " in *" $new "*) same=1 ;; esac; done
			if [ "$same" = 0 ] && [ -n "$p1" ] && [ "$(wc -w <<<"$p0")" = "$(wc -w <<<"$p1")" ]; then
				okpid=$((okpid + 1))
			else
				echo "== reload $name at ${at}0%: pid files before '$p0', after '$p1'" >>"$LOG"
			fi
			echo "== reload $name at ${at}0% of the run: exit $rc, ${ms[-1]} ms, pids '$p0' -> '$p1'" >>"$LOG"
		done
		wait "$wpid"
		rc=$?
		{ echo "== wrk ${WRK_ARGS[*]} http://127.0.0.1:$port/ with reloads: exit $rc"; cat "$WORK/wrk-reload.out"; } >>"$LOG"
		after=$(app_pids "$name")
		# shellcheck disable=SC2086
		track $after
		if [ "$rc" != 0 ] || ! parse_wrk "$WORK/wrk-reload.out"; then
			fail "${key}_rps" "${key}_non2xx" "${key}_sock" -- "wrk during the reloads of $name (rep $rep)"
			return 1
		fi
		same=
		for new in $after; do case " $before " in *" $new "*) same="$same $new" ;; esac; done
		[ -z "$same" ] || echo "== $name: pids not replaced over the run:$same (before '$before', after '$after')" >>"$LOG"
		rps+=("$W_RPS")
		non=$((non + W_NON2XX)) cn=$((cn + W_CONNECT)) rd=$((rd + W_READ)) wr=$((wr + W_WRITE)) to=$((to + W_TIMEOUT))
		echo "== $key rep $rep: $W_RPS req/s, $W_REQS requests, non-2xx $W_NON2XX, socket errors" \
			"connect $W_CONNECT read $W_READ write $W_WRITE timeout $W_TIMEOUT; pids '$before' -> '$after'" >>"$LOG"
	done
	R[$tool:${key}_rps]=$(median "${rps[@]}")
	R[$tool:${key}_non2xx]=$non
	R[$tool:${key}_sock]=$(( cn + rd + wr + to ))
	R[$tool:${key}_detail]="$cn / $rd / $wr / $to"
	R[$tool:${key}_ok]="$okrc/$nrel exit 0, $okpid/$nrel new pids"
	R[$tool:${key}_ms]=$(median "${ms[@]}")
}

phase_reload() {
	local p
	if [ -n "${CASE_UP[tfd]:-}" ]; then reload_case rl tend web "${CASE_PORT[tfd]}"; fi
	if [ -n "${CASE_UP[pm2]:-}" ]; then reload_case rl pm2 web "${CASE_PORT[pm2]}"; fi
	if [ -n "${CASE_UP[tpx]:-}" ]; then reload_case rlpx tend webpx "${CASE_PORT[tpx]}"; fi
	if [ -n "${HOME_OF[tend]:-}" ]; then
		use_tool tend
		if ! command -v python3 >/dev/null 2>&1; then
			fail rlpy_rps -- "no python3"
		elif p=$(free_port) && say "tend: lfd.py -i $INSTANCES --port $p" &&
			t 60 start "$APP_LFD" -n lfd -i "$INSTANCES" --port "$p" -s && wait_http "$p" 20; then
			# shellcheck disable=SC2046
			track $(app_pids lfd)
			reload_case rlpy tend lfd "$p"
		else
			fail rlpy_rps -- "tend start lfd.py -i $INSTANCES --port ${p:-?}"
		fi
	fi
}

# ---- dependencies --------------------------------------------------------------------------

install_wrk() {
	command -v wrk >/dev/null 2>&1 && return 0
	say "installing wrk (vendor/deps.sh pkgs wrk)"
	timeout 300 "$ROOT/vendor/deps.sh" pkgs wrk >>"$RESULTS/install.log" 2>&1
	command -v wrk >/dev/null 2>&1 || { say "no wrk (see bench/results/install.log); stopping"; exit 1; }
}

# ---- main ----------------------------------------------------------------------------------

trap on_exit EXIT
trap 'exit 130' INT TERM

install_wrk
[ "$ONLY" = tend ] || install_pm2

for tool in direct tend pm2; do
	use_tool "$tool"
	: >"$LOG"
	echo "== $(date '+%F %T') $ARGV_STR: $TOOL${BIN:+ ($BIN)}" >>"$LOG"
done
RUN_TEND=1 RUN_PM2=1
[ "$ONLY" = pm2 ] && RUN_TEND=
[ "$ONLY" = tend ] && RUN_PM2=
ALL_METRICS=(rps p99 dcpu err rl_rps rl_non2xx rl_sock rl_detail rl_ok rl_ms d_rps d_p99 d_err
	px_rps px_p99 px_dcpu px_err rlpx_rps rlpx_non2xx rlpx_sock rlpx_detail rlpx_ok rlpx_ms
	rlpy_rps rlpy_non2xx rlpy_sock rlpy_detail rlpy_ok rlpy_ms)
for m in "${ALL_METRICS[@]}"; do
	case $m in d_*|px_*|rlpx_*|rlpy_*) NOTE[pm2:$m]=na ;; esac
	[ -n "$RUN_TEND" ] || NOTE[tend:$m]=skipped
	[ -n "$RUN_PM2" ] || [ -n "${NOTE[pm2:$m]:-}" ] || NOTE[pm2:$m]=skipped
done
if [ -n "$RUN_TEND" ] && ! [ -x "$TEND_BIN" ]; then
	use_tool tend
	fail "${ALL_METRICS[@]}" -- "$TEND_BIN is not executable"
	RUN_TEND=
fi

up_direct
[ -n "$RUN_TEND" ] && up_tend
[ -n "$RUN_PM2" ] && up_pm2
phase_steady
phase_reload
say "stopping everything"
stop_all

# ---- report --------------------------------------------------------------------------------

cell() { # cell TOOL METRIC DIVISOR|raw|int
	local v=${R[$1:$2]:-}
	if [ -n "$v" ]; then
		case $3 in
		raw|int) echo "$v" ;;
		*) fmt "$(awk -v v="$v" -v d="$3" 'BEGIN { print v / d }')" ;;
		esac
	else
		case ${NOTE[$1:$2]:-} in
		skipped) echo "skipped" ;;
		na) echo "—" ;;
		*) echo "n/a" ;;
		esac
	fi
}

# The ratio reads as tend's edge: PM2/tend for times, tend/PM2 for req/s ("more": more
# is better). Above 1: tend is ahead.
row() { # row LABEL METRIC DIVISOR [noratio|more]
	local r a=${R[tend:$2]:-} b=${R[pm2:$2]:-}
	case ${4:-} in
	noratio) r="—" ;;
	more)
		if [ -n "$a" ] && [ -n "$b" ] && awk -v b="$b" 'BEGIN { exit !(b > 0) }'; then
			r="$(fmt "$(awk -v a="$a" -v b="$b" 'BEGIN { print a / b }')")×"
		else
			r="—"
		fi ;;
	*) r=$(ratio "$2") ;;
	esac
	printf '| %s | %s | %s | %s |\n' "$1" "$(cell tend "$2" "$3")" "$(cell pm2 "$2" "$3")" "$r"
}

# The proxy rows read "skipped (proxy not available)" when tend refused --lb proxy.
px_label() { [ "${NOTE[tend:px_rps]:-}" = skipped ] && echo " — skipped (proxy not available)"; }

WRK_V=$(wrk --version 2>&1 | head -n 1 | awk '{ print $2 }')
LOAD="wrk -t$THREADS -c$CONNS -d${DURATION}s"
{
	echo "## tend vs PM2: cluster mode"
	echo
	echo "$(date -u '+%F %T UTC') · Linux $(uname -r) $(uname -m) · $(nproc) CPUs ·" \
		"node $("$NODE" --version 2>/dev/null || echo n/a) · pm2 $(version_of pm2) ·" \
		"$(version_of tend) · wrk ${WRK_V:-?} · \`$ARGV_STR\`"
	echo
	echo "| metric | tend | PM2 | tend's edge (PM2/tend for times, tend/PM2 for req/s) |"
	echo "|---|---:|---:|---:|"
	row "direct \`node web.js\`, 1 process, no manager: req/s (median of $REPS)" d_rps 1 noratio
	row "... p99 latency (ms, median of $REPS)" d_p99 1 noratio
	row "cluster -i $INSTANCES (tend: fd handoff; PM2: node cluster): req/s (median of $REPS)" rps 1 more
	row "... p99 latency (ms, median of $REPS)" p99 1
	row "... daemon CPU during the run (% of one CPU, median of $REPS)" dcpu 1 noratio
	row "... errors: non-2xx + socket errors (sum over $REPS runs)" err int noratio
	row "tend \`--lb proxy\` -i $INSTANCES: req/s (median of $REPS)$(px_label)" px_rps 1 noratio
	row "... p99 latency (ms, median of $REPS)" px_p99 1 noratio
	row "... daemon CPU during the run (% of one CPU, median of $REPS)" px_dcpu 1 noratio
	row "... errors: non-2xx + socket errors (sum over $REPS runs)" px_err int noratio
	for k in rl rlpy rlpx; do
		case $k in
		rl) what="node, cluster -i $INSTANCES (tend fd handoff / PM2)" ;;
		rlpy) what="tend python \`lfd.py\` -i $INSTANCES (LISTEN_FDS)" ;;
		rlpx) what="tend \`--lb proxy\` node -i $INSTANCES$(px_label)" ;;
		esac
		row "reload ×2 under load, $what: req/s (median of $RELOAD_REPS)" "${k}_rps" 1 "$([ "$k" = rl ] && echo more || echo noratio)"
		row "... non-2xx responses (sum of $RELOAD_REPS runs)" "${k}_non2xx" int noratio
		row "... socket errors (sum of $RELOAD_REPS runs)" "${k}_sock" int noratio
		row "... of which connect / read / write / timeout" "${k}_detail" raw noratio
		row "... reload commands" "${k}_ok" raw noratio
		row "... reload command wall time (ms, median)" "${k}_ms" 1 "$([ "$k" = rl ] || echo noratio)"
	done
	echo
	echo "App: bench/apps/web.js (node, answers \"hello\\n\", the same file everywhere), bench/apps/lfd.py" \
		"(python, accepts on fd 3, one request per connection, \`Connection: close\`)." \
		"Load: \`$LOAD --latency http://127.0.0.1:PORT/\` on the same 2-CPU machine as the servers;" \
		"req/s and the 99% latency from wrk. Steady rows: one warm-up run of ${WARM_S} s per server, then" \
		"$REPS runs each, interleaved across the servers (all up side by side). The direct row is one" \
		"node process with no manager (in the tend column; no ratio). Daemon CPU = utime+stime of the" \
		"daemon pid (/proc/PID/stat, CLK_TCK $CLK_TCK) over the wrk run, as % of one CPU: tend's daemon" \
		"only holds the socket in fd mode; PM2's daemon is node's cluster master, which accepts every" \
		"connection and passes it to a worker (wrk keeps its $CONNS connections alive, so that is" \
		"few); in proxy mode tend's daemon relays every byte. Reload rows: \`TOOL reload NAME\` at" \
		"30% and 60% of a ${DURATION}-s wrk run; \"socket errors\" are wrk's (a reset or closed connection counts as read)," \
		"\"new pids\" = every pid file of the app names a new process after that reload." \
		"n/a: the tool failed; see bench/results/cluster-{direct,tend,pm2}.log."
} >"$RESULTS/cluster.md.new"
mv "$RESULTS/cluster.md.new" "$RESULTS/cluster.md"
cat "$RESULTS/cluster.md"
say "total $(( ($(now_us) - T0) / 1000000 )) s; table in bench/results/cluster.md"
