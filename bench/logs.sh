#!/bin/bash
# Side-by-side benchmark of the log pipeline of tend and PM2.
#
#   bench/logs.sh TEND_BIN [--only tend|pm2]
#
# Every app is bench/apps/flood.js (node, the same file for both tools), which writes
# 100-byte lines to stdout as fast as its stdout takes them. Each case runs in a fresh
# daemon with a fresh temp home (TEND_HOME / PM2_HOME under a mktemp dir), so the peak
# RSS of a case is that case's. For each tool it measures:
#   log throughput                BENCH_LOG_MB MiB of lines, plain and with `--time`
#                                 (both tools), BENCH_REPS repetitions: seconds from
#                                 `start` until the line "flood done" (written after the
#                                 last line) is in <home>/logs/flood-out.log; MiB/s from
#                                 that median; daemon CPU (utime+stime of the daemon pid,
#                                 /proc/PID/stat fields 14+15 over CLK_TCK, after minus
#                                 before `start`) per MiB; daemon VmHWM. Afterwards the
#                                 file is checked: lines that are not an intact
#                                 "flood xxx...x" line (lost or cut) are counted.
#   jlist / list latency          `TOOL jlist >/dev/null` and `TOOL list >/dev/null`, each
#                                 BENCH_RUNS runs timed one by one (hyperfine -N, else an
#                                 own loop): median and p95, with one idle app
#                                 (bench/apps/idle.js), then with one app flooding its
#                                 stdout without end. Between runs the flood's log is
#                                 truncated once past BENCH_TRUNC_MB (both tools open it
#                                 O_APPEND); the bytes logged meanwhile give the log
#                                 throughput during that flood.
#   daemon RSS over a long flood  BENCH_RSS_GB GiB through one app, tend only unless
#                                 BENCH_PM2_GB=1: VmRSS of the daemon before `start`,
#                                 after each 256 MiB (the app says so on stderr), at the
#                                 end, and VmHWM. tend rotates the log itself
#                                 (TEND_LOG_MAX_SIZE=100M TEND_LOG_RETAIN=2 for that
#                                 daemon); PM2 has no rotation without a module, so it gets
#                                 `--output /dev/null` (it still reads the pipe, formats
#                                 and emits each chunk on its bus, but writes nothing).
# The table goes to stdout and bench/results/logs.md; each tool's failures (the command,
# its exit status and output) and the raw per-repetition figures go to
# bench/results/logs-TOOL.log, and a failed metric reads n/a. Timing is never judged here:
# no thresholds, the machine is assumed shared and noisy, hence medians.
#
# PM2 comes from npm into bench/.deps (pm2@7, else pm2@latest), as for bench/run.sh.
# Every process started is stopped at the end: the daemon by `TOOL kill`, then anything
# still alive by pid (checked against its start time). Never by name.
#
# Knobs (environment): BENCH_REPS=3, BENCH_LOG_MB=100 (MiB per throughput run),
# BENCH_RUNS=30 and BENCH_WARMUP=3 (jlist/list runs), BENCH_RSS_GB=1 (whole GiB),
# BENCH_PM2_GB=0, BENCH_TRUNC_MB=256, BENCH_FLOOD_BATCH=100 (lines per write() of the
# app), BENCH_POLL=0.01 (s between looks at the log), BENCH_LOG_TIMEOUT=300 (s per
# flood), BENCH_NO_HYPERFINE=1 (own loop), BENCH_KEEP=1 (keep the temp dir and homes).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"   # arguments, time, medians, the pids we started, fail, cleanup, table cells
bench_args "$@"

REPS=${BENCH_REPS:-3}
LOG_MB=${BENCH_LOG_MB:-100}
RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
RSS_GB=${BENCH_RSS_GB:-1}
PM2_GB=${BENCH_PM2_GB:-0}
TRUNC_MB=${BENCH_TRUNC_MB:-256}
BATCH=${BENCH_FLOOD_BATCH:-100}
POLL=${BENCH_POLL:-0.01}
FLOOD_TIMEOUT=${BENCH_LOG_TIMEOUT:-300}
STEP_MB=256   # RSS sample interval of the long flood
for knob in REPS LOG_MB RUNS WARMUP RSS_GB PM2_GB TRUNC_MB BATCH FLOOD_TIMEOUT; do
	[[ ${!knob} =~ ^[0-9]+$ ]] || { echo "bench: $knob must be a whole number, not '${!knob}'" >&2; exit 2; }
done
[[ $POLL =~ ^[0-9]*\.?[0-9]+$ ]] || { echo "bench: BENCH_POLL must be a number of seconds" >&2; exit 2; }
[ "$REPS" -ge 1 ] && [ "$LOG_MB" -ge 1 ] && [ "$RUNS" -ge 1 ] && [ "$BATCH" -ge 1 ] ||
	{ echo "bench: BENCH_REPS, BENCH_LOG_MB, BENCH_RUNS, BENCH_FLOOD_BATCH must be at least 1" >&2; exit 2; }

DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
APP_FLOOD=$ROOT/bench/apps/flood.js
APP_IDLE=$ROOT/bench/apps/idle.js
NODE=$(command -v node || echo /usr/bin/node)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)
LINES=$(( LOG_MB * 1048576 / 100 ))      # payload lines of a throughput run
INTACT_RE='flood x\{93\}$'               # an intact payload line, with or without a time prefix

# Anything that would move a pid or log file out of the home we point the tools at, or
# rotate the logs of the throughput runs.
unset TEND_PID_FILE_PATH TEND_LOG_FILE_PATH PM2_PID_FILE_PATH PM2_LOG_FILE_PATH
unset TEND_LOG_MAX_SIZE TEND_LOG_RETAIN PM2_LOG_MAX_SIZE PM2_LOG_RETAIN

bench_workdir logbench

declare -A R      # R[tool:metric] = value, absent = failed
declare -A NOTE   # NOTE[tool:metric] = why it is missing (skipped, failed...)
TOOL= BIN= PIDFILE= H= LOG= DPID= PS_STATE= PS_START=
EXTRA_ENV=()      # environment for the tool's commands (and so its daemon), VAR=value
LAT_MED= LAT_P95=

SAY_TAG=logbench

# ---- time, numbers ---------------------------------------------------------------------

p95() { # p95 VALUE...: nearest rank (the ceil(0.95 n)-th smallest)
	[ $# -gt 0 ] || return 1
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { r = int(0.95 * NR); if (r < 0.95 * NR) r++; if (r < 1) r = 1; print a[r] }'
}

maxof() { printf '%s\n' "$@" | sort -g | tail -n 1; }

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", a / b }'; }

# ---- running a tool ----------------------------------------------------------------------

use_tool() { # use_tool tend|pm2
	TOOL=$1
	LOG=$RESULTS/logs-$TOOL.log
	if [ "$TOOL" = tend ]; then BIN=$TEND_BIN PIDFILE=tend.pid; else BIN=$PM2_BIN PIDFILE=pm2.pid; fi
}

status_kb() { # status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM)
	awk -v f="$2:" '$1 == f { print $2; ok = 1 } END { exit !ok }' "/proc/$1/status" 2>/dev/null
}

start_daemon() { # new home $H, daemon up (started by `ping`, with EXTRA_ENV), DPID set
	H=$(mktemp -d "$WORK/$TOOL-home.XXXXXX") || return 1
	DPID=
	t 30 ping || return 1
	await_dpid ping
}

stop_daemon() { # stop the daemon of $H and everything under it; the home goes (unless BENCH_KEEP)
	[ -n "$H" ] || return 0
	if [ -n "$DPID" ]; then
		# shellcheck disable=SC2046
		track "$DPID" $(descendants "$DPID")
	fi
	# shellcheck disable=SC2046
	track $(cat "$H"/pids/*.pid 2>/dev/null)
	t 60 kill || true
	reap 10
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$H"
	H= DPID=
}

start_flood() { # start_flood [OPTIONS...] -- FLOOD_ARGS...: the app "flood" in $H
	local -a opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift
	t 60 start "$APP_FLOOD" --name flood ${opts[@]+"${opts[@]}"} -- "$@"
}

has_tail() { # has_tail FILE TEXT: the last 256 bytes of FILE contain TEXT
	local end
	end=$(tail -c 256 "$1" 2>/dev/null) || return 1
	[[ $end == *"$2"* ]]
}

wait_tail() { # wait_tail FILE TEXT SECS: until has_tail, polling every $POLL s
	local deadline=$(( $(now_us) + $3 * 1000000 ))
	until has_tail "$1" "$2"; do
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== waited $3 s for '$2' at the end of $1 ($(stat -c %s "$1" 2>/dev/null || echo no) bytes)" >>"$LOG"
			return 1
		fi
		sleep "$POLL"
	done
}

wait_data() { # wait_data FILE SECS: until FILE is not empty, polling every $POLL s (no fork)
	local deadline=$(( $(now_us) + $2 * 1000000 ))
	until [ -s "$1" ]; do
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== waited $2 s for a first byte in $1" >>"$LOG"
			return 1
		fi
		sleep "$POLL"
	done
}

file_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# ---- the measurements ----------------------------------------------------------------------

# phase_throughput KEY [OPTIONS...]: metrics KEY_s, KEY_mbs, KEY_mbs1, KEY_cpu, KEY_hwm, KEY_bad
phase_throughput() {
	local key=$1 rep a f b c0 c1 hwm out size intact total
	shift
	local -a sec=() sec1=() cpu=() hw=() bad=()
	local all=("${key}_s" "${key}_cpu" "${key}_hwm" "${key}_bad")
	for ((rep = 1; rep <= REPS; rep++)); do
		say "$TOOL: $LOG_MB MiB of lines${1:+ ($*)} until on disk ($rep/$REPS)"
		while :; do   # one pass; break out at the first failure
			start_daemon || { fail "${all[@]}" -- "daemon did not start (rep $rep)"; break; }
			out=$H/logs/flood-out.log
			c0=$(cpu_ticks "$DPID") || { fail "${all[@]}" -- "no /proc/$DPID/stat"; break; }
			a=${EPOCHREALTIME/./}
			start_flood "$@" -- "$LOG_MB" once 0 "$BATCH" ||
				{ fail "${all[@]}" -- "start flood.js (rep $rep)"; break; }
			wait_data "$out" "$FLOOD_TIMEOUT" || { fail "${all[@]}" -- "nothing in $out (rep $rep)"; break; }
			f=${EPOCHREALTIME/./}
			wait_tail "$out" "flood done" "$FLOOD_TIMEOUT" ||
				{ fail "${all[@]}" -- "\"flood done\" not in $out (rep $rep)"; break; }
			b=${EPOCHREALTIME/./}
			c1=$(cpu_ticks "$DPID") && hwm=$(status_kb "$DPID" VmHWM) ||
				{ fail "${all[@]}" -- "daemon $DPID gone after the flood (rep $rep)"; break; }
			size=$(file_size "$out")
			intact=$(grep -c "$INTACT_RE" "$out")
			total=$(wc -l <"$out")
			echo "== $key rep $rep: $(( b - a )) us ($(( b - f )) from the first byte), $(( c1 - c0 )) ticks, VmHWM $hwm kB;" \
				"$size bytes, $total lines, $intact of $LINES intact" >>"$LOG"
			sec+=("$(div $(( b - a )) 1000000)")
			sec1+=("$(div $(( b - f )) 1000000)")
			cpu+=("$(div $(( (c1 - c0) * 1000 )) $(( CLK_TCK * LOG_MB )))")
			hw+=("$hwm")
			bad+=($(( LINES - intact )))
			break
		done
		stop_daemon
		[ "${#sec[@]}" = "$rep" ] || break
	done
	[ "${#sec[@]}" = "$REPS" ] || return
	R[$TOOL:${key}_s]=$(median "${sec[@]}")
	R[$TOOL:${key}_mbs]=$(div "$LOG_MB" "${R[$TOOL:${key}_s]}")
	R[$TOOL:${key}_mbs1]=$(div "$LOG_MB" "$(median "${sec1[@]}")")
	R[$TOOL:${key}_cpu]=$(median "${cpu[@]}")
	R[$TOOL:${key}_hwm]=$(median "${hw[@]}")
	R[$TOOL:${key}_bad]=$(maxof "${bad[@]}")
}

write_trim() { # the --prepare of hyperfine (and the own loop): truncate a big flood log
	cat >"$WORK/trim.sh" <<-'EOF'
	#!/bin/sh
	# trim.sh LOG MAX_BYTES TALLY: past MAX_BYTES, note LOG's size in TALLY and empty it
	s=$(stat -c %s "$1" 2>/dev/null) || exit 0
	[ "$s" -gt "$2" ] || exit 0
	echo "$s" >>"$3"
	truncate -s 0 "$1"
	EOF
	chmod +x "$WORK/trim.sh"
}

logged_bytes() { # logged_bytes LOG TALLY: bytes logged so far (truncated ones included)
	local s=0 n
	if [ -f "$2" ]; then
		while read -r n; do s=$((s + n)); done <"$2"
	fi
	echo $(( s + $(file_size "$1") ))
}

time_cmd() { # time_cmd CMD FLOODLOG: RUNS timings of `TOOL CMD >/dev/null`; LAT_MED, LAT_P95 (ms)
	local cmd=$1 flog=$2 i a b json=$WORK/hf.json lat
	local trim=("$WORK/trim.sh" "$flog" $(( TRUNC_MB * 1048576 )) "$WORK/tally")
	local -a v=()
	LAT_MED= LAT_P95=
	if [ -z "${BENCH_NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
		rm -f "$json"
		TEND_HOME=$H PM2_HOME=$H timeout -k 5 900 hyperfine -N --style basic \
			--runs "$RUNS" --warmup "$WARMUP" --prepare "${trim[*]}" \
			--export-json "$json" "$BIN $cmd" \
			>>"$LOG" 2>&1 </dev/null || { echo "== hyperfine $cmd failed" >>"$LOG"; return 1; }
		lat=$("$NODE" -e 'const t = require(process.argv[1]).results[0].times.slice().sort((a, b) => a - b);
			const r = Math.max(1, Math.ceil(0.95 * t.length)), m = t.length >> 1;
			const med = t.length % 2 ? t[m] : (t[m - 1] + t[m]) / 2;
			console.log((med * 1000).toFixed(3), (t[r - 1] * 1000).toFixed(3))' "$json" 2>>"$LOG") ||
			return 1
		LAT_MED=${lat% *} LAT_P95=${lat#* }
		return 0
	fi
	for ((i = 0; i < WARMUP; i++)); do "${trim[@]}"; t 30 "$cmd" || return 1; done
	for ((i = 0; i < RUNS; i++)); do
		"${trim[@]}"
		a=${EPOCHREALTIME/./}
		TEND_HOME=$H PM2_HOME=$H timeout -k 5 30 "$BIN" "$cmd" >/dev/null 2>&1 </dev/null ||
			{ echo "== $cmd failed in the timing loop" >>"$LOG"; return 1; }
		b=${EPOCHREALTIME/./}
		v+=("$(div $(( b - a )) 1000)")
	done
	LAT_MED=$(median "${v[@]}") LAT_P95=$(p95 "${v[@]}")
}

# jlist and list with one idle app, then with one app flooding without end.
# Metrics jl_KIND_med, jl_KIND_p95, ls_KIND_med, ls_KIND_p95 (KIND idle, flood), flood_mbs.
phase_latency() {
	local kind flog a b b0 b1 m
	write_trim
	for kind in idle flood; do
		say "$TOOL: jlist and list, one app ($kind)"
		rm -f "$WORK/tally"
		while :; do
			start_daemon || { fail "jl_${kind}_med" "ls_${kind}_med" -- "daemon did not start ($kind)"; break; }
			flog=$H/logs/flood-out.log
			if [ "$kind" = idle ]; then
				t 60 start "$APP_IDLE" --name flood || { fail "jl_${kind}_med" "ls_${kind}_med" -- "start idle.js"; break; }
			else
				start_flood -- 0 forever 0 "$BATCH" ||
					{ fail "jl_${kind}_med" "ls_${kind}_med" flood_mbs -- "start flood.js forever"; break; }
			fi
			sleep 1   # past the app's start, the flood going
			a=${EPOCHREALTIME/./}
			b0=$(logged_bytes "$flog" "$WORK/tally")
			for m in jlist list; do
				local k='jl'
				[ "$m" = list ] && k='ls'
				if time_cmd "$m" "$flog"; then
					R[$TOOL:${k}_${kind}_med]=$LAT_MED R[$TOOL:${k}_${kind}_p95]=$LAT_P95
					echo "== $m, $kind: median $LAT_MED ms, p95 $LAT_P95 ms" >>"$LOG"
				else
					fail "${k}_${kind}_med" "${k}_${kind}_p95" -- "timing $m ($kind)"
				fi
			done
			b=${EPOCHREALTIME/./}
			b1=$(logged_bytes "$flog" "$WORK/tally")
			if [ "$kind" = flood ]; then
				echo "== flood during the jlist/list runs: $(( b1 - b0 )) bytes in $(( b - a )) us" >>"$LOG"
				if [ "$b1" -gt "$b0" ]; then
					R[$TOOL:flood_mbs]=$(div $(( b1 - b0 )) "$(div $(( (b - a) * 1048576 )) 1000000)")
				else
					fail flood_mbs -- "no bytes logged during the flood"
				fi
			fi
			break
		done
		stop_daemon
	done
}

# RSS_GB GiB through one app; VmRSS before, every STEP_MB, at the end; VmHWM.
# Metrics gb_0, gb_1 .. gb_STEPS, gb_end, gb_hwm, gb_s, gb_mbs.
phase_gb() {
	local mb=$(( RSS_GB * 1024 )) steps=$(( RSS_GB * 1024 / STEP_MB )) seen=0 n a b err out deadline line
	local -a lines=() opts=()
	local all=(gb_0 gb_end gb_hwm gb_s)
	for ((n = 1; n <= steps; n++)); do all+=("gb_$n"); done
	if [ "$TOOL" = tend ]; then
		EXTRA_ENV=(TEND_LOG_MAX_SIZE=100M TEND_LOG_RETAIN=2)
	else
		opts=(--output /dev/null)
	fi
	say "$TOOL: $mb MiB through one app, daemon RSS"
	while :; do
		start_daemon || { fail "${all[@]}" -- "daemon did not start"; break; }
		err=$H/logs/flood-error.log out=$H/logs/flood-out.log
		sleep 0.5
		R[$TOOL:gb_0]=$(status_kb "$DPID" VmRSS) || { fail "${all[@]}" -- "no VmRSS for $DPID"; break; }
		a=${EPOCHREALTIME/./}
		start_flood ${opts[@]+"${opts[@]}"} -- "$mb" once "$STEP_MB" "$BATCH" ||
			{ fail "${all[@]}" -- "start flood.js ($mb MiB)"; break; }
		deadline=$(( a + FLOOD_TIMEOUT * 1000000 ))
		while :; do   # the app's stderr: "flood progress N MiB" lines, then "flood done"
			lines=()
			[ -f "$err" ] && mapfile -t lines <"$err"
			n=0
			for line in ${lines[@]+"${lines[@]}"}; do
				[[ $line == *"flood progress"* ]] && n=$((n + 1))
			done
			while [ "$seen" -lt "$n" ]; do
				seen=$((seen + 1))
				R[$TOOL:gb_$seen]=$(status_kb "$DPID" VmRSS)
			done
			[[ ${lines[*]+"${lines[*]}"} == *"flood done"* ]] && break
			if [ "${EPOCHREALTIME/./}" -ge "$deadline" ]; then
				fail "${all[@]}" -- "no \"flood done\" in $err after $FLOOD_TIMEOUT s"
				break 2
			fi
			sleep 0.05
		done
		# The app has written everything; tend: until the last line is in the (rotated) log.
		if [ "$TOOL" = tend ] && ! wait_tail "$out" "flood done" 60; then
			fail gb_end gb_hwm gb_s -- "\"flood done\" not in $out"
			break
		fi
		b=${EPOCHREALTIME/./}
		R[$TOOL:gb_end]=$(status_kb "$DPID" VmRSS) && R[$TOOL:gb_hwm]=$(status_kb "$DPID" VmHWM) ||
			{ fail gb_end gb_hwm gb_s -- "daemon $DPID gone after the flood"; break; }
		R[$TOOL:gb_s]=$(div $(( b - a )) 1000000)
		R[$TOOL:gb_mbs]=$(div "$mb" "${R[$TOOL:gb_s]}")
		{
			echo "== $mb MiB: $(( b - a )) us; VmRSS kB before ${R[$TOOL:gb_0]}," \
				"then $(for ((n = 1; n <= steps; n++)); do printf '%s ' "${R[$TOOL:gb_$n]:-?}"; done)," \
				"end ${R[$TOOL:gb_end]}, VmHWM ${R[$TOOL:gb_hwm]}"
			echo "== logs dir at the end:"
			ls -l "$H/logs"
		} >>"$LOG"
		break
	done
	stop_daemon
	EXTRA_ENV=()
}

bench_tool() { # bench_tool tend|pm2
	use_tool "$1"
	: >"$LOG"
	echo "== $(date '+%F %T') $ARGV_STR: $TOOL ($BIN)" >>"$LOG"
	if ! [ -x "$BIN" ]; then
		fail plain_s time_s jl_idle_med jl_flood_med ls_idle_med ls_flood_med gb_0 -- "$BIN is not executable"
		return
	fi
	phase_throughput plain
	phase_throughput time --time
	phase_latency
	if [ "$TOOL" = pm2 ] && [ "$PM2_GB" != 1 ]; then
		NOTE[$TOOL:gb]=skipped
	elif [ "$RSS_GB" -lt 1 ]; then
		NOTE[$TOOL:gb]=skipped
	elif [ "$(df -Pk "$WORK" | awk 'NR == 2 { print int($4 / 1024) }')" -lt 1024 ]; then
		say "$TOOL: less than 1 GiB free under $WORK: no long flood"
		echo "== less than 1 GiB free under $WORK, no long flood" >>"$LOG"
		NOTE[$TOOL:gb]=skipped
	else
		phase_gb
	fi
	say "$TOOL: done"
}

# ---- cleanup -------------------------------------------------------------------------------

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- main ----------------------------------------------------------------------------------

[ "$ONLY" = tend ] || install_pm2

free_mb=$(df -Pk "$WORK" | awk 'NR == 2 { print int($4 / 1024) }')
say "free under $WORK: ${free_mb:-?} MiB"
if [ -n "$free_mb" ] && [ "$free_mb" -lt $(( 2 * LOG_MB + TRUNC_MB + 512 )) ]; then
	say "not enough disk for BENCH_LOG_MB=$LOG_MB and BENCH_TRUNC_MB=$TRUNC_MB; stopping"
	exit 1
fi

TOOLS=()
[ "$ONLY" = pm2 ] || TOOLS+=(tend)
[ "$ONLY" = tend ] || TOOLS+=(pm2)
for tool in "${TOOLS[@]}"; do bench_tool "$tool"; done

# ---- report --------------------------------------------------------------------------------

ran() { case " ${TOOLS[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

cell() { # cell TOOL METRIC DIVISOR [GROUP]: GROUP's note (skipped) covers a whole phase
	local val=${R[$1:$2]:-}
	if [ -n "$val" ]; then
		if [ "$3" = int ]; then echo "$val"; else fmt "$(awk -v v="$val" -v d="$3" 'BEGIN { print v / d }')"; fi
	elif ! ran "$1" || [ "${NOTE[$1:${4:-$2}]:-}" = skipped ]; then echo "skipped"
	else echo "n/a"; fi
}

row() { # row LABEL METRIC DIVISOR [GROUP] [noratio]
	local r
	if [ "${5:-}" = noratio ]; then r="—"; else r=$(ratio "$2"); fi
	printf '| %s | %s | %s | %s |\n' "$1" "$(cell tend "$2" "$3" "${4:-}")" "$(cell pm2 "$2" "$3" "${4:-}")" "$r"
}

if command -v hyperfine >/dev/null 2>&1 && [ -z "${BENCH_NO_HYPERFINE:-}" ]; then
	how="hyperfine -N, $RUNS runs after $WARMUP warmup"
else
	how="a shell loop (each run under timeout(1)), $RUNS runs after $WARMUP warmup"
fi
GB_MB=$(( RSS_GB * 1024 ))
{
	echo "## tend vs PM2: logs"
	echo
	echo "$(date -u '+%F %T UTC') · Linux $(uname -r) $(uname -m) · $(nproc) CPUs ·" \
		"node $("$NODE" --version 2>/dev/null || echo n/a) · pm2 $(version_of pm2) ·" \
		"$(version_of tend) · \`$ARGV_STR\`"
	echo
	echo "| metric | tend | PM2 | ratio (PM2/tend) |"
	echo "|---|---:|---:|---:|"
	for key in plain time; do
		if [ "$key" = plain ]; then what="plain"; else what="\`--time\`"; fi
		row "$LOG_MB MiB of lines, $what: \`start\` until all on disk (s, median of $REPS)" "${key}_s" 1
		row "... MiB/s (from that median)" "${key}_mbs" 1
		row "... MiB/s from the first byte on disk to the last (median of $REPS)" "${key}_mbs1" 1
		row "... daemon CPU (ms per MiB, median of $REPS)" "${key}_cpu" 1
		row "... daemon peak RSS, VmHWM (MiB, median of $REPS)" "${key}_hwm" 1024
		row "... lines lost or cut, of $LINES (worst of $REPS)" "${key}_bad" int "" noratio
	done
	row "\`jlist\`, 1 idle app (ms, median)" jl_idle_med 1
	row "\`jlist\`, 1 idle app (ms, p95)" jl_idle_p95 1
	row "\`jlist\`, 1 app flooding stdout (ms, median)" jl_flood_med 1
	row "\`jlist\`, 1 app flooding stdout (ms, p95)" jl_flood_p95 1
	row "\`list\`, 1 idle app (ms, median)" ls_idle_med 1
	row "\`list\`, 1 idle app (ms, p95)" ls_idle_p95 1
	row "\`list\`, 1 app flooding stdout (ms, median)" ls_flood_med 1
	row "\`list\`, 1 app flooding stdout (ms, p95)" ls_flood_p95 1
	row "... log throughput meanwhile (MiB/s)" flood_mbs 1
	row "$GB_MB MiB through one app: daemon VmRSS before \`start\` (MiB)" gb_0 1024 gb
	for ((n = 1; n <= GB_MB / STEP_MB; n++)); do
		row "... after $((n * STEP_MB)) MiB (MiB)" "gb_$n" 1024 gb
	done
	row "... at the end (MiB)" gb_end 1024 gb
	row "... VmHWM (MiB)" gb_hwm 1024 gb
	row "... \`start\` until the end (s)" gb_s 1 gb
	row "... MiB/s" gb_mbs 1 gb
	echo
	echo "App: bench/apps/flood.js (node, the same file for both tools): 100-byte lines" \
		"(\"flood \" + 93 \"x\"), $BATCH per write(), as fast as the pipe takes them." \
		"Throughput: a fresh daemon per repetition; \"on disk\" = the line \"flood done\", written" \
		"after the last one, is at the end of <home>/logs/flood-out.log (looked at every ${POLL} s;" \
		"\"from the first byte\" leaves out the app's start);" \
		"daemon CPU = utime+stime of the daemon pid (/proc/PID/stat, CLK_TCK $CLK_TCK) over the run." \
		"\"Lines lost or cut\" = $LINES minus the lines ending in an intact payload." \
		"jlist/list latency: \`TOOL jlist|list >/dev/null\`, $how, one app (idle.js," \
		"then flood.js writing without end, a fresh daemon each); the flood's log is truncated" \
		"between runs past $TRUNC_MB MiB. Long flood: tend with TEND_LOG_MAX_SIZE=100M" \
		"TEND_LOG_RETAIN=2 (it rotates); PM2 only with BENCH_PM2_GB=1, and then" \
		"\`--output /dev/null\` (no rotation without a module: it still reads and formats every" \
		"chunk, but writes nothing). RSS: the daemon pid's VmRSS / VmHWM." \
		"n/a: the tool failed; see bench/results/logs-tend.log, bench/results/logs-pm2.log."
} >"$RESULTS/logs.md.new"
mv "$RESULTS/logs.md.new" "$RESULTS/logs.md"
cat "$RESULTS/logs.md"
say "total $(( ($(now_us) - T0) / 1000000 )) s; table in bench/results/logs.md"
