#!/bin/bash
# Side-by-side benchmark of tend and PM2 (`make bench` runs `bench/run.sh ./tend`).
#
#   bench/run.sh TEND_BIN [--only tend|pm2]
#
# For each tool, with the same apps (bench/apps/) and a fresh temp home per daemon
# (TEND_HOME / PM2_HOME under a mktemp dir), it measures:
#   daemon RSS idle and with 100 apps     VmRSS of the daemon pid from <home>/{tend,pm2}.pid
#   jlist latency with 10 and 1000 apps   median of hyperfine runs (own loop if no hyperfine)
#   start 50 apps until all online        wall time, median of BENCH_REPS repetitions
#   delete all (50 apps)                  wall time of the one command, median likewise
#   start an ecosystem file of 50 apps    the same JSON file for both tools (node apps, then
#                                         sleep apps): until the command returns, until
#                                         jlist shows all online; then delete all
#   startOrRestart, save, resurrect       50 sleep apps from that file: startOrRestart with
#                                         all running, save, then kill and resurrect (until
#                                         the command returns, until all online)
# The 1000-app case runs for tend only unless BENCH_PM2_1000=1 (PM2 needs minutes for it).
# The table goes to stdout and bench/results/latest.md; each tool's failures (the command,
# its exit status and output) go to bench/results/TOOL.log, and a failed metric reads n/a.
#
# PM2 comes from npm into bench/.deps (pm2@7, else pm2@latest), hyperfine from Debian
# (vendor/deps.sh pkgs hyperfine). Every process started is stopped at the end: the
# daemon by `TOOL kill`, then anything still alive by pid (checked against its start time).
#
# Knobs (environment): BENCH_RUNS=30 (jlist runs), BENCH_WARMUP=3, BENCH_REPS=3,
# BENCH_PM2_1000=0, BENCH_N_RSS=100, BENCH_N_JLIST=10, BENCH_N_BIG=1000, BENCH_N_START=50,
# BENCH_NO_HYPERFINE=1 (use the own loop), BENCH_KEEP=1 (keep the temp dir).
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"   # arguments, time, medians, the pids we started, fail, cleanup, table cells
bench_args "$@"

RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
REPS=${BENCH_REPS:-3}
N_RSS=${BENCH_N_RSS:-100}
N_JL=${BENCH_N_JLIST:-10}
N_BIG=${BENCH_N_BIG:-1000}
N_START=${BENCH_N_START:-50}
PM2_1000=${BENCH_PM2_1000:-0}

DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
APP_IDLE=$ROOT/bench/apps/idle.js
APP_SLEEP=$ROOT/bench/apps/sleep.sh
JLIST_JS=$ROOT/bench/lib/jlist.js
NODE=$(command -v node || echo /usr/bin/node)

# Anything that would move a pid or log file out of the home we point the tools at.
unset TEND_PID_FILE_PATH TEND_LOG_FILE_PATH PM2_PID_FILE_PATH PM2_LOG_FILE_PATH

bench_workdir bench

declare -A R      # R[tool:metric] = value, absent = failed
METRICS=(rss_idle rss_100 jl_10 jl_1000 rss_1000 start50 delall50 cmdnode startnode delallnode
	cmdsh startsh delallsh sorsh savesh rescmdsh resupsh)
declare -A NOTE   # NOTE[tool:metric] = why it is missing (skipped, failed...)
TOOL= BIN= PIDFILE= H= LOG= DPID= PS_STATE= PS_START=

# ---- running a tool ----------------------------------------------------------------------

use_tool() { # use_tool tend|pm2
	TOOL=$1
	LOG=$RESULTS/$TOOL.log
	if [ "$TOOL" = tend ]; then BIN=$TEND_BIN PIDFILE=tend.pid; else BIN=$PM2_BIN PIDFILE=pm2.pid; fi
}

jl_count() { # prints "ONLINE TOTAL"
	t 30 jlist || return 1
	"$NODE" "$JLIST_JS" count <"$WORK/out" 2>>"$LOG"
}

jl_pids() {
	t 30 jlist || return 1
	"$NODE" "$JLIST_JS" pids <"$WORK/out" 2>>"$LOG"
}

wait_count() { # wait_count ONLINE TOTAL SECS: until jlist shows that many
	local want="$1 $2" deadline=$(( $(now_us) + $3 * 1000000 )) got=
	while :; do
		got=$(jl_count) && [ "$got" = "$want" ] && return 0
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== waited $3 s for '$want' (online total), last saw '$got'" >>"$LOG"
			return 1
		fi
		sleep 0.05
	done
}

rss_kb() { # rss_kb PID
	awk '/^VmRSS:/ { print $2; f = 1 } END { exit !f }' "/proc/$1/status" 2>/dev/null
}

start_daemon() { # new home $H, daemon up, DPID set
	H=$(mktemp -d "$WORK/$TOOL-home.XXXXXX") || return 1
	DPID=
	t 30 ping || return 1
	await_dpid ping
}

stop_daemon() { # stop the daemon of $H and everything under it
	[ -n "$H" ] || return 0
	if [ -n "$DPID" ]; then
		# shellcheck disable=SC2046
		track "$DPID" $(descendants "$DPID")
	fi
	# shellcheck disable=SC2046
	track $(cat "$H"/pids/*.pid 2>/dev/null)
	t 60 kill || true
	reap 10
	H= DPID=
}

start_apps() { # start_apps FROM TO SCRIPT [ARGS...]: one `start` per app, names b0001...
	local i=$1 to=$2 script=$3
	shift 3
	while [ "$i" -le "$to" ]; do
		t 30 start "$script" --name "$(printf 'b%04d' "$i")" "$@" || return 1
		i=$((i + 1))
	done
}

jlist_ms() { # jlist_ms: median jlist latency in ms, in the current home
	local json=$WORK/hf.json i a b
	local -a v=()
	if [ -z "${BENCH_NO_HYPERFINE:-}" ] && command -v hyperfine >/dev/null 2>&1; then
		rm -f "$json"
		TEND_HOME=$H PM2_HOME=$H timeout -k 5 600 hyperfine -N --style basic \
			--runs "$RUNS" --warmup "$WARMUP" --export-json "$json" "$BIN jlist" \
			>>"$LOG" 2>&1 </dev/null || { echo "== hyperfine failed" >>"$LOG"; return 1; }
		"$NODE" -e 'const r = require(process.argv[1]).results[0];
			console.log((r.median * 1000).toFixed(3))' "$json" 2>>"$LOG"
		return
	fi
	for ((i = 0; i < WARMUP; i++)); do t 30 jlist || return 1; done
	for ((i = 0; i < RUNS; i++)); do
		a=$(now_us)
		TEND_HOME=$H PM2_HOME=$H timeout -k 5 30 "$BIN" jlist >/dev/null 2>&1 </dev/null ||
			{ echo "== jlist failed in the timing loop" >>"$LOG"; return 1; }
		b=$(now_us)
		v+=("$(awk -v d=$((b - a)) 'BEGIN { printf "%.3f", d / 1000 }')")
	done
	median "${v[@]}"
}

# ---- the measurements ----------------------------------------------------------------------

phase_rss_jlist() { # idle RSS, jlist with N_JL apps, RSS with N_RSS apps
	local kb ms
	say "$TOOL: daemon, idle RSS"
	start_daemon || { fail rss_idle jl_10 rss_100 -- "daemon did not start"; return; }
	sleep 2
	kb=$(rss_kb "$DPID") && R[$TOOL:rss_idle]=$kb || fail rss_idle -- "no VmRSS for $DPID"
	say "$TOOL: starting $N_JL apps"
	start_apps 1 "$N_JL" "$APP_IDLE" && wait_count "$N_JL" "$N_JL" 60 ||
		{ fail jl_10 rss_100 -- "$N_JL apps not online"; stop_daemon; return; }
	say "$TOOL: jlist with $N_JL apps"
	ms=$(jlist_ms) && R[$TOOL:jl_10]=$ms || fail jl_10 -- "jlist timing with $N_JL apps"
	say "$TOOL: starting $((N_RSS - N_JL)) more apps"
	start_apps $((N_JL + 1)) "$N_RSS" "$APP_IDLE" && wait_count "$N_RSS" "$N_RSS" 120 ||
		{ fail rss_100 -- "$N_RSS apps not online"; stop_daemon; return; }
	sleep 2
	kb=$(rss_kb "$DPID") && R[$TOOL:rss_100]=$kb || fail rss_100 -- "no VmRSS for $DPID"
	say "$TOOL: stopping"
	stop_daemon
}

phase_start_delete() { # start N_START apps until online; delete all; REPS times
	local rep a b pids=
	local -a st=() dl=()
	start_daemon || { fail start50 delall50 -- "daemon did not start"; return; }
	for ((rep = 1; rep <= REPS; rep++)); do
		say "$TOOL: start $N_START apps until online, delete all ($rep/$REPS)"
		a=$(now_us)
		start_apps 1 "$N_START" "$APP_IDLE" && wait_count "$N_START" "$N_START" 120 ||
			{ fail start50 delall50 -- "$N_START apps not online (rep $rep)"; break; }
		b=$(now_us)
		st+=("$(awk -v d=$((b - a)) 'BEGIN { printf "%.3f", d / 1e6 }')")
		pids=$(jl_pids)
		: >"$WORK/rep.pids"
		# shellcheck disable=SC2086
		track_to "$WORK/rep.pids" $pids
		a=$(now_us)
		t 120 delete all || { fail delall50 -- "delete all (rep $rep)"; break; }
		b=$(now_us)
		dl+=("$(awk -v d=$((b - a)) 'BEGIN { printf "%.3f", d / 1e6 }')")
		wait_count 0 0 30 || { fail delall50 -- "apps still listed after delete all (rep $rep)"; break; }
		reap 20 "$WORK/rep.pids"   # the deleted apps are gone before the next repetition
	done
	echo "== start $N_START: ${st[*]:-} s; delete all: ${dl[*]:-} s" >>"$LOG"
	# Only complete sets of repetitions count.
	[ "${#st[@]}" = "$REPS" ] && R[$TOOL:start50]=$(median "${st[@]}")
	[ "${#dl[@]}" = "$REPS" ] && R[$TOOL:delall50]=$(median "${dl[@]}")
	stop_daemon
}

write_eco() { # write_eco FILE APP [INTERPRETER]: PM2's ecosystem JSON, N_START fork apps
	local f=$1 app=$2 interp=${3:-} i
	{
		printf '{"apps":['
		for ((i = 1; i <= N_START; i++)); do
			printf '%s{"name":"e%04d","script":"%s","exec_mode":"fork"%s}' \
				"$([ "$i" = 1 ] || echo ,)" "$i" "$app" \
				"$([ -n "$interp" ] && printf ',"interpreter":"%s"' "$interp")"
		done
		printf ']}\n'
	} >"$f"
}

ms_since() { # ms_since A [B]: milliseconds from A to B (now) in microseconds
	awk -v d=$(( ${2:-$(now_us)} - $1 )) 'BEGIN { printf "%.3f", d / 1e3 }'
}

# One command that starts N_START apps: `start eco.json`, the same ecosystem file of
# N_START fork-mode apps for both tools, then `delete all`.
#   phase_start_one KEY APP [INTERPRETER]: metrics cmdKEY, startKEY, delallKEY
phase_start_one() {
	local key=$1 app=$2 interp=${3:-} rep a b c pids=
	local -a st=() sc=() dl=()
	write_eco "$WORK/eco-$key.json" "$app" "$interp"
	start_daemon || { fail "start$key" "cmd$key" "delall$key" -- "daemon did not start"; return; }
	for ((rep = 1; rep <= REPS; rep++)); do
		say "$TOOL: start an ecosystem file of $N_START apps ($(basename "$app")), delete all ($rep/$REPS)"
		a=$(now_us)
		t 120 start "$WORK/eco-$key.json" && c=$(now_us) && wait_count "$N_START" "$N_START" 120 ||
			{ fail "start$key" "cmd$key" "delall$key" -- "$N_START apps not online (rep $rep)"; break; }
		b=$(now_us)
		st+=("$(awk -v d=$((b - a)) 'BEGIN { printf "%.3f", d / 1e3 }')")
		sc+=("$(awk -v d=$((c - a)) 'BEGIN { printf "%.3f", d / 1e3 }')")
		pids=$(jl_pids)
		: >"$WORK/rep.pids"
		# shellcheck disable=SC2086
		track_to "$WORK/rep.pids" $pids
		a=$(now_us)
		t 120 delete all || { fail "delall$key" -- "delete all (rep $rep)"; break; }
		b=$(now_us)
		dl+=("$(awk -v d=$((b - a)) 'BEGIN { printf "%.3f", d / 1e3 }')")
		wait_count 0 0 30 || { fail "delall$key" -- "apps still listed after delete all (rep $rep)"; break; }
		reap 20 "$WORK/rep.pids"
	done
	echo "== one command, $N_START apps of $app: ${st[*]:-} ms; delete all: ${dl[*]:-} ms" >>"$LOG"
	[ "${#st[@]}" = "$REPS" ] && R[$TOOL:start$key]=$(median "${st[@]}")
	[ "${#sc[@]}" = "$REPS" ] && R[$TOOL:cmd$key]=$(median "${sc[@]}")
	[ "${#dl[@]}" = "$REPS" ] && R[$TOOL:delall$key]=$(median "${dl[@]}")
	stop_daemon
}

# Declarations and persistence, N_START sleep apps from one ecosystem file, per repetition
# in a fresh home: `start eco.json` (until online), `startOrRestart eco.json` with all of
# them running, `save`, `kill` (its apps and daemon gone before going on), `resurrect`
# until the command returns and until jlist shows all online, then the daemon is stopped.
# Metrics sorsh, savesh, rescmdsh, resupsh (ms). tend's resurrect returns once every
# instance runs; PM2's may return before its apps are online, hence the second figure.
phase_persist() {
	local eco=$WORK/eco-persist.json rep a b c pids= ok
	local -a so=() sv=() rs=() ru=()
	local all=(sorsh savesh rescmdsh resupsh)
	write_eco "$eco" "$APP_SLEEP" none
	for ((rep = 1; rep <= REPS; rep++)); do
		say "$TOOL: $N_START apps of a file: startOrRestart, save, kill, resurrect ($rep/$REPS)"
		ok=
		while :; do   # one pass; break out at the first failure
			start_daemon || { fail "${all[@]}" -- "daemon did not start (rep $rep)"; break; }
			t 120 start "$eco" && wait_count "$N_START" "$N_START" 120 ||
				{ fail "${all[@]}" -- "$N_START apps of the file not online (rep $rep)"; break; }
			a=$(now_us)
			t 120 startOrRestart "$eco" || { fail "${all[@]}" -- "startOrRestart (rep $rep)"; break; }
			so+=("$(ms_since "$a")")
			wait_count "$N_START" "$N_START" 120 ||
				{ fail "${all[@]}" -- "apps not online after startOrRestart (rep $rep)"; break; }
			a=$(now_us)
			t 60 save || { fail savesh rescmdsh resupsh -- "save (rep $rep)"; break; }
			sv+=("$(ms_since "$a")")
			# Everything of this daemon is gone before resurrect: no jlist in between (it
			# would start a daemon), the pids are waited for (SIGKILL after 20 s, logged).
			pids=$(jl_pids)
			: >"$WORK/rep.pids"
			# shellcheck disable=SC2046,SC2086
			track_to "$WORK/rep.pids" "$DPID" $(descendants "$DPID") $pids
			t 60 kill || { fail rescmdsh resupsh -- "kill (rep $rep)"; break; }
			reap 20 "$WORK/rep.pids"
			DPID=
			a=$(now_us)
			t 120 resurrect || { fail rescmdsh resupsh -- "resurrect (rep $rep)"; break; }
			c=$(now_us)
			wait_count "$N_START" "$N_START" 120 ||
				{ fail rescmdsh resupsh -- "apps not online after resurrect (rep $rep)"; break; }
			b=$(now_us)
			rs+=("$(ms_since "$a" "$c")")
			ru+=("$(ms_since "$a" "$b")")
			ok=1
			break
		done
		[ -z "$DPID" ] && [ -n "$H" ] && await_dpid resurrect
		stop_daemon
		[ -n "$ok" ] || break
	done
	echo "== $N_START apps of a file: startOrRestart ${so[*]:-} ms; save ${sv[*]:-} ms;" \
		"resurrect returns ${rs[*]:-} ms, all online ${ru[*]:-} ms" >>"$LOG"
	[ "${#so[@]}" = "$REPS" ] && R[$TOOL:sorsh]=$(median "${so[@]}")
	[ "${#sv[@]}" = "$REPS" ] && R[$TOOL:savesh]=$(median "${sv[@]}")
	[ "${#rs[@]}" = "$REPS" ] && R[$TOOL:rescmdsh]=$(median "${rs[@]}")
	[ "${#ru[@]}" = "$REPS" ] && R[$TOOL:resupsh]=$(median "${ru[@]}")
}

phase_big() { # N_BIG one-process apps: jlist latency (and daemon RSS)
	local kb ms
	start_daemon || { fail jl_1000 rss_1000 -- "daemon did not start"; return; }
	say "$TOOL: starting $N_BIG apps"
	start_apps 1 "$N_BIG" "$APP_SLEEP" --interpreter none && wait_count "$N_BIG" "$N_BIG" 180 ||
		{ fail jl_1000 rss_1000 -- "$N_BIG apps not online"; stop_daemon; return; }
	sleep 1
	kb=$(rss_kb "$DPID") && R[$TOOL:rss_1000]=$kb || fail rss_1000 -- "no VmRSS for $DPID"
	say "$TOOL: jlist with $N_BIG apps"
	ms=$(jlist_ms) && R[$TOOL:jl_1000]=$ms || fail jl_1000 -- "jlist timing with $N_BIG apps"
	say "$TOOL: stopping $N_BIG apps"
	stop_daemon
}

bench_tool() { # bench_tool tend|pm2
	use_tool "$1"
	: >"$LOG"
	echo "== $(date '+%F %T') $ARGV_STR: $TOOL ($BIN)" >>"$LOG"
	if ! [ -x "$BIN" ]; then
		fail "${METRICS[@]}" -- "$BIN is not executable"
		return
	fi
	phase_rss_jlist
	phase_start_delete
	phase_start_one node "$APP_IDLE"
	phase_start_one sh "$APP_SLEEP" none
	phase_persist
	if [ "$TOOL" = tend ] || [ "$PM2_1000" = 1 ]; then
		phase_big
	else
		NOTE[$TOOL:jl_1000]=skipped NOTE[$TOOL:rss_1000]=skipped
	fi
	say "$TOOL: done"
}

# ---- dependencies ------------------------------------------------------------------------

install_hyperfine() {
	command -v hyperfine >/dev/null 2>&1 && return 0
	say "installing hyperfine (vendor/deps.sh pkgs hyperfine)"
	timeout 300 "$ROOT/vendor/deps.sh" pkgs hyperfine >>"$RESULTS/install.log" 2>&1 ||
		say "no hyperfine (see bench/results/install.log); timing jlist with a shell loop"
}

# ---- cleanup -------------------------------------------------------------------------------

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- main ----------------------------------------------------------------------------------

[ "$ONLY" = tend ] || install_pm2
install_hyperfine

TOOLS=()
[ "$ONLY" = pm2 ] || TOOLS+=(tend)
[ "$ONLY" = tend ] || TOOLS+=(pm2)
for tool in tend pm2; do
	case " ${TOOLS[*]} " in *" $tool "*) ;; *)
		for m in "${METRICS[@]}"; do
			NOTE[$tool:$m]=skipped
		done ;;
	esac
done
for tool in "${TOOLS[@]}"; do bench_tool "$tool"; done

# ---- report --------------------------------------------------------------------------------

cell() { # cell TOOL METRIC DIVISOR
	local v=${R[$1:$2]:-}
	if [ -n "$v" ]; then fmt "$(awk -v v="$v" -v d="$3" 'BEGIN { print v / d }')"
	elif [ "${NOTE[$1:$2]:-}" = skipped ]; then echo "skipped"
	else echo "n/a"; fi
}

row() { # row LABEL METRIC DIVISOR
	printf '| %s | %s | %s | %s |\n' "$1" "$(cell tend "$2" "$3")" "$(cell pm2 "$2" "$3")" "$(ratio "$2")"
}

if command -v hyperfine >/dev/null 2>&1 && [ -z "${BENCH_NO_HYPERFINE:-}" ]; then
	how="hyperfine -N, $RUNS runs after $WARMUP warmup"
else
	how="shell loop, $RUNS runs after $WARMUP warmup"
fi
{
	echo "## tend vs PM2"
	echo
	echo "$(date -u '+%F %T UTC') · Linux $(uname -r) $(uname -m) · $(nproc) CPUs ·" \
		"node $("$NODE" --version 2>/dev/null || echo n/a) · pm2 $(version_of pm2) ·" \
		"$(version_of tend) · \`$ARGV_STR\`"
	echo
	echo "| metric | tend | PM2 | ratio (PM2/tend) |"
	echo "|---|---:|---:|---:|"
	row "daemon RSS, idle (MiB)" rss_idle 1024
	row "daemon RSS, $N_RSS apps (MiB)" rss_100 1024
	row "\`jlist\`, $N_JL apps (ms, median)" jl_10 1
	row "\`jlist\`, $N_BIG apps (ms, median)" jl_1000 1
	row "daemon RSS, $N_BIG apps (MiB)" rss_1000 1024
	row "start $N_START apps until all online (s, median of $REPS)" start50 1
	row "\`delete all\`, $N_START apps (s, median of $REPS)" delall50 1
	row "\`start\` an ecosystem file of $N_START node apps: the command returns (ms, median of $REPS)" cmdnode 1
	row "... and \`jlist\` shows all online (ms, median of $REPS)" startnode 1
	row "\`delete all\` of those $N_START (ms, median of $REPS)" delallnode 1
	row "\`start\` an ecosystem file of $N_START \`sleep\` apps: the command returns (ms, median of $REPS)" cmdsh 1
	row "... and \`jlist\` shows all online (ms, median of $REPS)" startsh 1
	row "\`delete all\` of those $N_START (ms, median of $REPS)" delallsh 1
	row "\`startOrRestart\` of the same file, all $N_START running: the command returns (ms, median of $REPS)" sorsh 1
	row "\`save\` with $N_START apps (ms, median of $REPS)" savesh 1
	row "\`resurrect\` of $N_START apps after \`kill\`: the command returns (ms, median of $REPS)" rescmdsh 1
	row "... and \`jlist\` shows all online (ms, median of $REPS)" resupsh 1
	echo
	echo "Apps: bench/apps/idle.js (node, exits on SIGINT) for every row except the $N_BIG-app" \
		"ones, which use bench/apps/sleep.sh (\`--interpreter none\`, execs \`sleep\`)." \
		"One \`start\` per app, sequential, except the ecosystem-file rows: both tools start the" \
		"same JSON file of $N_START fork-mode apps (\`start eco.json\`); the \`startOrRestart\`," \
		"\`save\` and \`resurrect\` rows use its \`sleep\` variant, each repetition in a fresh home" \
		"(start the file, startOrRestart it, save, kill, resurrect). \"All online\" is polled with the" \
		"tool's jlist parsed by node, which adds that poll's own time (about 0.1 s for tend," \
		"0.3 s for PM2). jlist latency: $how." \
		"RSS: VmRSS of the daemon pid. PM2 with $N_BIG apps runs only with BENCH_PM2_1000=1." \
		"n/a: the tool failed; see bench/results/tend.log, bench/results/pm2.log."
} >"$RESULTS/latest.md.new"
mv "$RESULTS/latest.md.new" "$RESULTS/latest.md"
cat "$RESULTS/latest.md"
say "total $(( ($(now_us) - T0) / 1000000 )) s; table in bench/results/latest.md"
