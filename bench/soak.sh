#!/bin/bash
# Soak benchmark of the tend daemon: one daemon, four loads in a row, its memory and file
# descriptors watched from start to end.
#
#   bench/soak.sh TEND_BIN
#
# One daemon in a fresh temp home (TEND_HOME under a mktemp dir) lives through every part;
# its VmRSS (/proc/PID/status) and open fds (/proc/PID/fd) are taken before and after each
# part, and at the very end against the very start.
#   1 crash-restarts   SOAK_CRASH_APPS apps of bench/apps/crash.sh (exits 1 at once) from
#                      one ecosystem file, restart_delay 0, min_uptime 0 (every run stable)
#                      and a max_restarts no run reaches, until their restart counters
#                      (pm2_env.restart_time in jlist, polled every 0.5 s) add up to
#                      SOAK_RESTARTS: restarts per second, daemon CPU per restart, RSS/fds
#                      before, peak, after `delete`. The app appends a byte to a file of
#                      its own per run: after `stop`, restarts must equal runs minus one
#                      per app (plus at most one: a run stopped before its printf).
#   2 many apps        SOAK_APPS apps of bench/apps/sleep.sh from one ecosystem file:
#                      `start` until it returns and until jlist shows all online; RSS/fds
#                      with them; `jlist` latency (SOAK_JLIST_RUNS runs after 2 warmup,
#                      each under timeout(1), median and max); `delete all`; RSS/fds after.
#   3 output flood     SOAK_FLOOD_MB MiB through bench/apps/flood.js (100-byte lines) with
#                      --log-max-size SOAK_FLOOD_MAX_MB M --log-retain SOAK_FLOOD_RETAIN:
#                      every rotated file is seen (the logs dir is polled every 0.05 s; a
#                      rotated file no longer grows; it is known by inode and mtime, as
#                      tend may give a name again within a second) and its size noted
#                      before retention removes it, so bytes logged = rotated files + the
#                      current one, which must equal the bytes written; RSS before, peak during, after; daemon
#                      CPU per MiB; what stays on disk. Skipped with less than
#                      SOAK_FLOOD_FREE_MB MiB free.
#   4 request load     SOAK_CLIENTS connections (bench/apps/pipeline.py, SOAK_CLIENT_PROCS
#                      processes under nice -n 10) pipelining {"cmd":"ping"} and, one in
#                      SOAK_LIST_EVERY, {"cmd":"list","env":false} on each connection as
#                      fast as the socket takes them (SOAK_WINDOW > 0: at most that many
#                      unanswered per connection) for SOAK_SECONDS: requests answered,
#                      connections never answered, RSS peak (sampled every 0.2 s), fds
#                      after, daemon CPU, and `tend ping` meanwhile (once a second after
#                      the previous one answered, in the background). Supervision latency throughout: bench/apps/crashlat.sh
#                      runs SOAK_CRASH_MS ms and exits 1, restart_delay 0; it stamps its
#                      start and exit ($EPOCHREALTIME), and each restart's latency is the
#                      next start minus the previous exit: median, p99, max, for exits in
#                      SOAK_SECONDS without load (baseline, first) and in the load window.
# The table goes to stdout and bench/results/soak.md; failures (the command, its exit
# status and output) and raw figures go to bench/results/soak.log; a failed metric reads
# n/a. Nothing is judged here: the machine is assumed shared and noisy.
#
# Every process started is stopped at the end, also on failure or interrupt: the apps by
# the daemon, the daemon by `tend kill`, then anything still alive by pid (checked against
# its start time). Never by name.
#
# Knobs (environment), defaults: SOAK_RESTARTS=10000 SOAK_CRASH_APPS=4 SOAK_APPS=1000
# SOAK_JLIST_RUNS=10 SOAK_FLOOD_MB=1024 (0 skips part 3) SOAK_FLOOD_MAX_MB=64
# SOAK_FLOOD_RETAIN=4 SOAK_FLOOD_FREE_MB=4096 SOAK_CLIENTS=100 SOAK_CLIENT_PROCS=4
# SOAK_SECONDS=20 SOAK_WINDOW=0 SOAK_LIST_EVERY=4 SOAK_CRASH_MS=200 SOAK_TIMEOUT=300 (s,
# the bound of every wait), BENCH_KEEP=1 (keep the temp dir and home).
# A smoke run (half a minute): SOAK_RESTARTS=300 SOAK_APPS=50 SOAK_FLOOD_MB=64
# SOAK_FLOOD_MAX_MB=8 SOAK_CLIENTS=8 SOAK_SECONDS=3. Only part 4, bounded pipelining:
# SOAK_RESTARTS=0 SOAK_APPS=0 SOAK_FLOOD_MB=0 SOAK_WINDOW=16.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"   # arguments, time, medians, the pids we started, fail, cleanup, table cells
bench_args "$@"
[ "$ONLY" != pm2 ] || { echo "bench: soak.sh measures tend only" >&2; exit 2; }

KNOBS=(SOAK_RESTARTS SOAK_CRASH_APPS SOAK_APPS SOAK_JLIST_RUNS SOAK_FLOOD_MB SOAK_FLOOD_MAX_MB
	SOAK_FLOOD_RETAIN SOAK_FLOOD_FREE_MB SOAK_CLIENTS SOAK_CLIENT_PROCS SOAK_SECONDS SOAK_WINDOW
	SOAK_LIST_EVERY SOAK_CRASH_MS SOAK_TIMEOUT)
RESTARTS=${SOAK_RESTARTS:-10000}
CRASH_APPS=${SOAK_CRASH_APPS:-4}
NAPPS=${SOAK_APPS:-1000}
JL_RUNS=${SOAK_JLIST_RUNS:-10}
FLOOD_MB=${SOAK_FLOOD_MB:-1024}
FLOOD_MAX=${SOAK_FLOOD_MAX_MB:-64}
FLOOD_RETAIN=${SOAK_FLOOD_RETAIN:-4}
FLOOD_FREE=${SOAK_FLOOD_FREE_MB:-4096}
CLIENTS=${SOAK_CLIENTS:-100}
CLIENT_PROCS=${SOAK_CLIENT_PROCS:-4}
SECS=${SOAK_SECONDS:-20}
WINDOW=${SOAK_WINDOW:-0}
LIST_EVERY=${SOAK_LIST_EVERY:-4}
CRASH_MS=${SOAK_CRASH_MS:-200}
TMO=${SOAK_TIMEOUT:-300}
for knob in RESTARTS CRASH_APPS NAPPS JL_RUNS FLOOD_MB FLOOD_MAX FLOOD_RETAIN FLOOD_FREE CLIENTS \
	CLIENT_PROCS SECS WINDOW LIST_EVERY CRASH_MS TMO; do
	[[ ${!knob} =~ ^[0-9]+$ ]] || { echo "bench: $knob must be a whole number, not '${!knob}'" >&2; exit 2; }
done
[ "$CRASH_APPS" -ge 1 ] && [ "$JL_RUNS" -ge 1 ] && [ "$FLOOD_MAX" -ge 1 ] && [ "$CLIENT_PROCS" -ge 1 ] &&
	[ "$SECS" -ge 1 ] && [ "$CRASH_MS" -ge 1 ] && [ "$TMO" -ge 10 ] ||
	{ echo "bench: SOAK_CRASH_APPS, SOAK_JLIST_RUNS, SOAK_FLOOD_MAX_MB, SOAK_CLIENT_PROCS, SOAK_SECONDS, SOAK_CRASH_MS must be at least 1, SOAK_TIMEOUT at least 10" >&2; exit 2; }
[ "$CLIENT_PROCS" -le "$CLIENTS" ] || CLIENT_PROCS=$(( CLIENTS > 0 ? CLIENTS : 1 ))

RESULTS=$ROOT/bench/results
APP_CRASH=$ROOT/bench/apps/crash.sh
APP_LAT=$ROOT/bench/apps/crashlat.sh
APP_SLEEP=$ROOT/bench/apps/sleep.sh
APP_FLOOD=$ROOT/bench/apps/flood.js
APP_PIPE=$ROOT/bench/apps/pipeline.py
# Debian's python3 directly: a version manager's shim costs most of a second per call.
PY=$(command -v /usr/bin/python3 || command -v python3 || echo python3)
CLK_TCK=$(getconf CLK_TCK 2>/dev/null || echo 100)

# Anything that would move the daemon's files out of the home, or rotate logs on its own.
unset TEND_PID_FILE_PATH TEND_LOG_FILE_PATH TEND_LOG_MAX_SIZE TEND_LOG_RETAIN

bench_workdir soak

declare -A R      # R[tend:metric] = value, absent = failed
declare -A NOTE   # NOTE[tend:metric] = why it is missing (skipped, failed...)
TOOL=tend BIN=$TEND_BIN PIDFILE=tend.pid H='' DPID='' PS_STATE='' PS_START=''
LOG=$RESULTS/soak.log
EXTRA_ENV=()
SAY_TAG=soak

# ---- numbers, the daemon's resources ---------------------------------------------------

status_kb() { # status_kb PID FIELD: a kB field of /proc/PID/status (VmRSS, VmHWM)
	awk -v f="$2:" '$1 == f { print $2; ok = 1 } END { exit !ok }' "/proc/$1/status" 2>/dev/null
}

RSS_NOW=
rss_now() { # rss_now PID: RSS_NOW = VmRSS in kB, or empty (no fork: for tight polls)
	local k val rest
	RSS_NOW=
	{ while read -r k val rest; do
		[ "$k" = VmRSS: ] && { RSS_NOW=$val; break; }
	done <"/proc/$1/status"; } 2>/dev/null
}

nfds() { # nfds PID: open file descriptors (no fork)
	local -a f
	f=("/proc/$1/fd/"*)
	[ -e "${f[0]}" ] || return 1
	echo "${#f[@]}"
}

snap() { # snap KEY: R[rss_KEY] (kB) and R[fd_KEY] of the daemon now
	local kb n
	kb=$(status_kb "$DPID" VmRSS) && n=$(nfds "$DPID") ||
		{ fail "rss_$1" "fd_$1" -- "daemon $DPID gone (at $1)"; return 1; }
	R[tend:rss_$1]=$kb R[tend:fd_$1]=$n
	echo "== $1: VmRSS $kb kB, $n fds" >>"$LOG"
}

peak() { # peak VAR VALUE: VAR = max(VAR, VALUE)
	[ -n "$2" ] || return 0
	if [ -z "${!1}" ] || [ "$2" -gt "${!1}" ]; then printf -v "$1" '%s' "$2"; fi
}

div() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.6f", (b == 0 ? 0 : a / b) }'; }

has_tail() { # has_tail FILE TEXT: the last 256 bytes of FILE contain TEXT
	local end
	end=$(tail -c 256 "$1" 2>/dev/null) || return 1
	[[ $end == *"$2"* ]]
}

free_mb() { df -Pk "$1" | awk 'NR == 2 { print int($4 / 1024) }'; }

# Helpers in python, written once: jlist figures, and the latency of restarts.
cat >"$WORK/jl.py" <<'EOF'
import json, re, sys
# jl.py stats [REGEX] < jlist: "ONLINE TOTAL RESTARTS UNSTABLE_MAX ERRORED" of the matching apps
# jl.py pids < jlist: every pid > 0
s = sys.stdin.read()
i = s.find('[')
apps = json.loads(s[i:] if i >= 0 else s)
if sys.argv[1] == 'pids':
    print('\n'.join(str(p['pid']) for p in apps if isinstance(p.get('pid'), int) and p['pid'] > 0))
    sys.exit(0)
rx = re.compile(sys.argv[2]) if len(sys.argv) > 2 else None
apps = [p for p in apps if rx is None or rx.search(p.get('name', ''))]
env = [p.get('pm2_env', {}) for p in apps]
print(sum(e.get('status') == 'online' for e in env), len(apps),
      sum(int(e.get('restart_time') or 0) for e in env),
      max([int(e.get('unstable_restarts') or 0) for e in env] or [0]),
      sum(e.get('status') == 'errored' for e in env))
EOF
cat >"$WORK/lat.py" <<'EOF'
import sys
# lat.py STAMPS A0 A1 B0 B1 (us): for the restarts whose exit is in [A0, A1) and in
# [B0, B1): "N MEDIAN P99 MAX" in ms, one line each ("0 - - -" when none). A restart's
# latency is the next "s" stamp minus the "e" stamp before it.
ev = []
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 2 and f[0] in ('s', 'e'):
        try:
            ev.append((f[0], float(f[1]) * 1e6))
        except ValueError:
            pass
pairs = [(ev[i][1], ev[i + 1][1] - ev[i][1]) for i in range(len(ev) - 1)
         if ev[i][0] == 'e' and ev[i + 1][0] == 's']
w = [float(x) for x in sys.argv[2:6]]
for a, b in ((w[0], w[1]), (w[2], w[3])):
    v = sorted(d / 1000 for t, d in pairs if a <= t < b)
    if not v:
        print('0 - - -')
        continue
    n = len(v)
    med = v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2
    r = -(-99 * n // 100)   # nearest rank
    print(n, '%.3f' % med, '%.3f' % v[max(1, r) - 1], '%.3f' % v[-1])
EOF

jl() { # jl MODE [ARGS]: jlist of the home through jl.py
	t 30 jlist || return 1
	"$PY" "$WORK/jl.py" "$@" <"$WORK/out" 2>>"$LOG"
}

# ---- the daemon ----------------------------------------------------------------------------

start_daemon() { # the home $H, daemon up (started by `ping`), DPID set
	H=$WORK/home
	mkdir -p "$H" || return 1
	DPID=
	t 30 ping || return 1
	await_dpid ping
}

stop_daemon() { # stop the daemon and everything under it; anything left, by pid
	[ -n "$H" ] || return 0
	if [ -n "$DPID" ]; then
		# shellcheck disable=SC2046
		track "$DPID" $(descendants "$DPID")
	fi
	# shellcheck disable=SC2046
	track $(cat "$H"/pids/*.pid 2>/dev/null)
	t 60 kill || true
	reap 10
	H='' DPID=''
}

wait_stats() { # wait_stats REGEX ONLINE TOTAL SECS: until jlist shows that many of REGEX's apps
	local deadline=$(( $(now_us) + $4 * 1000000 )) got=
	while :; do
		got=$(jl stats "$1") && [ "${got% * * *}" = "$2 $3" ] && return 0
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== waited $4 s for $2 online of $3 ($1), last saw '$got'" >>"$LOG"
			return 1
		fi
		sleep 0.1
	done
}

# ---- 1: crash-restarts -------------------------------------------------------------------

phase_restarts() {
	local eco=$WORK/eco-crash.json i a b c0 c1 st got restarts=0 runs=0 n rp='' fp='' deadline
	local rx='^crash[0-9]+$' all=(rs_rate rs_cpu rs_total rs_check rss_p1_1 fd_p1_1)
	say "1: $RESTARTS crash-restarts over $CRASH_APPS apps"
	{
		printf '{"apps":['
		for ((i = 1; i <= CRASH_APPS; i++)); do
			: >"$WORK/runs-$i"
			printf '%s{"name":"crash%d","script":"%s","args":["%s"],"interpreter":"none",' \
				"$([ "$i" = 1 ] || echo ,)" "$i" "$APP_CRASH" "$WORK/runs-$i"
			printf '"restart_delay":0,"min_uptime":0,"max_restarts":1073741824}'
		done
		printf ']}\n'
	} >"$eco"
	snap p1_0 || return
	c0=$(cpu_ticks "$DPID")
	a=$(now_us)
	t 60 start "$eco" || { fail "${all[@]}" -- "start $eco"; return; }
	deadline=$(( a + (TMO + RESTARTS / 20) * 1000000 ))
	while :; do
		sleep 0.5
		peak rp "$(status_kb "$DPID" VmRSS)"
		peak fp "$(nfds "$DPID")"
		st=$(jl stats "$rx") || { fail "${all[@]}" -- "jlist during the restarts"; break; }
		b=$(now_us)
		# shellcheck disable=SC2086
		set -- $st
		restarts=$3
		[ "$restarts" -ge "$RESTARTS" ] && break
		[ "$5" = 0 ] || { fail "${all[@]}" -- "$5 crash apps errored after $restarts restarts ($st)"; break; }
		if [ "$b" -ge "$deadline" ]; then
			fail "${all[@]}" -- "only $restarts restarts after $(( (b - a) / 1000000 )) s"
			break
		fi
	done
	c1=$(cpu_ticks "$DPID")
	if [ "$restarts" -ge "$RESTARTS" ]; then
		R[tend:rs_rate]=$(div "$restarts" "$(div $(( b - a )) 1000000)")
		[ -n "$c0" ] && [ -n "$c1" ] &&
			R[tend:rs_cpu]=$(div $(( (c1 - c0) * 1000000 )) $(( CLK_TCK * restarts )))
	fi
	R[tend:rss_p1_peak]=$rp R[tend:fd_p1_peak]=$fp
	t 60 stop "/$rx/" || fail rs_total rs_check -- "stop the crash apps"
	if st=$(jl stats "$rx"); then
		# shellcheck disable=SC2086
		set -- $st
		for ((i = 1; i <= CRASH_APPS; i++)); do
			n=$(stat -c %s "$WORK/runs-$i" 2>/dev/null || echo 0)
			runs=$(( runs + n ))
		done
		# restarts = runs - apps; a last run stopped before its printf is one more restart.
		n=$(( $3 - (runs - CRASH_APPS) ))
		R[tend:rs_total]=$3 R[tend:rs_runs]=$runs R[tend:rs_unstable]=$4 R[tend:rs_errored]=$5
		if [ "$n" -ge 0 ] && [ "$n" -le "$CRASH_APPS" ]; then R[tend:rs_check]="yes"; else R[tend:rs_check]="NO"; fi
		R[tend:rs_check]="${R[tend:rs_check]} ($3 restarts, $runs runs of $CRASH_APPS apps)"
		echo "== restarts: $st (online total restarts unstable errored), $runs runs, rate ${R[tend:rs_rate]:-?}/s," \
			"$(( ${c1:-0} - ${c0:-0} )) ticks; peak VmRSS $rp kB, $fp fds" >>"$LOG"
	else
		fail rs_total rs_check -- "jlist after the restarts"
	fi
	t 60 delete "/$rx/" || fail rss_p1_1 fd_p1_1 -- "delete the crash apps"
	sleep 1
	snap p1_1
}

# ---- 2: many apps --------------------------------------------------------------------------

phase_apps() {
	local eco=$WORK/eco-apps.json i a b c c0 c1
	local -a v=()
	local all=(ap_cmd ap_online rss_p2_1 fd_p2_1 ap_jl ap_jlmax ap_del rss_p2_2 fd_p2_2)
	say "2: $NAPPS apps from one ecosystem file"
	{
		printf '{"apps":['
		for ((i = 1; i <= NAPPS; i++)); do
			printf '%s{"name":"s%04d","script":"%s","interpreter":"none"}' \
				"$([ "$i" = 1 ] || echo ,)" "$i" "$APP_SLEEP"
		done
		printf ']}\n'
	} >"$eco"
	snap p2_0 || return
	c0=$(cpu_ticks "$DPID")
	a=$(now_us)
	t "$TMO" start "$eco" || { fail "${all[@]}" -- "start $eco ($NAPPS apps)"; return; }
	c=$(now_us)
	c1=$(cpu_ticks "$DPID")
	R[tend:ap_cmd]=$(div $(( c - a )) 1000)
	[ -n "$c0" ] && [ -n "$c1" ] && R[tend:ap_cmdcpu]=$(div $(( (c1 - c0) * 1000 )) "$CLK_TCK")
	if wait_stats '^s[0-9]+$' "$NAPPS" "$NAPPS" "$TMO"; then
		b=$(now_us)
		R[tend:ap_online]=$(div $(( b - a )) 1000)
	else
		fail ap_online -- "$NAPPS apps not online"
	fi
	# shellcheck disable=SC2046
	jl pids >"$WORK/apps.pids" && : >"$WORK/apps.tracked" &&
		track_to "$WORK/apps.tracked" $(cat "$WORK/apps.pids")
	sleep 1
	snap p2_1
	say "2: jlist with $NAPPS apps ($JL_RUNS runs)"
	for ((i = 0; i < 2; i++)); do t 30 jlist || break; done
	c0=$(cpu_ticks "$DPID")
	for ((i = 0; i < JL_RUNS; i++)); do
		a=$(now_us)
		TEND_HOME=$H timeout -k 5 30 "$BIN" jlist >/dev/null 2>&1 </dev/null ||
			{ echo "== jlist failed in the timing loop" >>"$LOG"; v=(); break; }
		b=$(now_us)
		v+=("$(div $(( b - a )) 1000)")
	done
	c1=$(cpu_ticks "$DPID")
	if [ "${#v[@]}" -gt 0 ]; then
		[ -n "$c0" ] && [ -n "$c1" ] && R[tend:ap_jlcpu]=$(div $(( (c1 - c0) * 1000 )) $(( CLK_TCK * JL_RUNS )))
		R[tend:ap_jl]=$(median "${v[@]}")
		R[tend:ap_jlmax]=$(printf '%s\n' "${v[@]}" | sort -g | tail -n 1)
		echo "== jlist with $NAPPS apps (ms): ${v[*]}" >>"$LOG"
	else
		fail ap_jl ap_jlmax -- "jlist timing with $NAPPS apps"
	fi
	say "2: delete all"
	a=$(now_us)
	if t "$TMO" delete all; then
		b=$(now_us)
		R[tend:ap_del]=$(div $(( b - a )) 1000)
	else
		fail ap_del -- "delete all ($NAPPS apps)"
	fi
	wait_stats '.' 0 0 60 || fail rss_p2_2 fd_p2_2 -- "apps still listed after delete all"
	reap 30 "$WORK/apps.tracked"
	sleep 1
	snap p2_2
	echo "== $NAPPS apps: start returns ${R[tend:ap_cmd]:-?} ms, all online ${R[tend:ap_online]:-?} ms," \
		"delete all ${R[tend:ap_del]:-?} ms" >>"$LOG"
}

# ---- 3: output flood ------------------------------------------------------------------------

phase_flood() {
	local out err a b c0 c1 rp='' f s n fin='' total cur expect lines deadline maxrot=0 ondisk kept
	local all=(fl_s fl_bytes fl_check rss_p3_peak rss_p3_1 fd_p3_1 fl_cpu)
	local -A rot=() rotname=()
	local -a list
	say "3: $FLOOD_MB MiB through one app, --log-max-size ${FLOOD_MAX}M --log-retain $FLOOD_RETAIN"
	out=$H/logs/flood-out.log err=$H/logs/flood-error.log
	lines=$(( FLOOD_MB * 1048576 / 100 ))
	expect=$(( lines * 100 + 11 ))   # and "flood done\n"
	snap p3_0 || return
	c0=$(cpu_ticks "$DPID")
	a=$(now_us)
	t 60 start "$APP_FLOOD" --name flood --log-max-size "${FLOOD_MAX}M" --log-retain "$FLOOD_RETAIN" \
		-- "$FLOOD_MB" once 0 100 || { fail "${all[@]}" -- "start flood.js"; return; }
	deadline=$(( a + TMO * 1000000 ))
	local -a errlines
	while :; do
		rss_now "$DPID"
		peak rp "$RSS_NOW"
		errlines=()
		[ -f "$err" ] && mapfile -t errlines <"$err"
		# The last look at the rotated files comes after the last line is on disk.
		[[ ${errlines[*]+"${errlines[*]}"} == *"flood done"* ]] && has_tail "$out" "flood done" &&
			fin=1 b=$(now_us)
		list=("$H"/logs/flood-out__*.log)
		if [ -e "${list[0]}" ]; then
			# Keyed by inode and mtime, not by name: tend names a rotated file after the
			# second, and a name freed by retention can be given again within that second.
			while read -r f s n; do rot[$f]=$s rotname[$f]=${n##*/}; done \
				< <(stat -c '%i:%.9Y %s %n' "${list[@]}" 2>/dev/null)
		fi
		[ -n "$fin" ] && break
		if [ "$(now_us)" -ge "$deadline" ]; then
			fail "${all[@]}" -- "\"flood done\" not in $out after $TMO s"
			break
		fi
		sleep 0.05
	done
	[ -n "$fin" ] || b=$(now_us)
	c1=$(cpu_ticks "$DPID")
	R[tend:rss_p3_peak]=$rp
	if [ -z "${NOTE[tend:fl_s]:-}" ]; then
		R[tend:fl_s]=$(div $(( b - a )) 1000000)
		R[tend:fl_mbs]=$(div "$FLOOD_MB" "${R[tend:fl_s]}")
		[ -n "$c0" ] && [ -n "$c1" ] && R[tend:fl_cpu]=$(div $(( (c1 - c0) * 1000 )) $(( CLK_TCK * FLOOD_MB )))
		total=0
		for f in "${!rot[@]}"; do
			total=$(( total + rot[$f] ))
			[ "${rot[$f]}" -gt "$maxrot" ] && maxrot=${rot[$f]}
		done
		cur=$(stat -c %s "$out" 2>/dev/null || echo 0)
		total=$(( total + cur ))
		list=("$H"/logs/flood-out*.log)
		kept=${#list[@]}
		ondisk=$(cat "${list[@]}" 2>/dev/null | wc -c)
		R[tend:fl_bytes]=$total R[tend:fl_rot]=${#rot[@]} R[tend:fl_maxrot]=$maxrot
		R[tend:fl_kept]=$kept R[tend:fl_ondisk]=$ondisk
		if [ "$total" = "$expect" ]; then R[tend:fl_check]="yes"; else R[tend:fl_check]="NO"; fi
		R[tend:fl_check]="${R[tend:fl_check]} ($total of $expect bytes)"
		{
			echo "== flood: $(( b - a )) us, $(( ${c1:-0} - ${c0:-0} )) ticks, peak VmRSS $rp kB;" \
				"$total bytes logged of $expect written, ${#rot[@]} rotated files seen (largest $maxrot)," \
				"$kept files kept, $ondisk bytes on disk"
			for f in "${!rot[@]}"; do echo "   rotated ${f#*:} ${rotname[$f]} ${rot[$f]} (inode ${f%%:*})"; done | sort -g
			ls -l "$H"/logs/flood-*
		} >>"$LOG"
	fi
	sleep 1
	snap p3_1a
	t 60 delete flood || fail rss_p3_1 fd_p3_1 -- "delete flood"
	rm -f "$H"/logs/flood-*
	sleep 1
	snap p3_1
}

# ---- 4: request load, supervision latency -------------------------------------------------

phase_load() {
	local stamps=$WORK/lat.stamps i per a b c0 c1 cm='' l0 l1 lm='' rp='' fp='' pids=() n alive deadline ms
	local -a pv=()
	local all=(ld_answered ld_rate rss_p4_peak fd_p4_1 lat_base lat_load)
	say "4: supervision latency (a crash every $CRASH_MS ms), ${SECS} s without load"
	: >"$stamps"
	snap p4_0 || return
	t 60 start "$APP_LAT" --name lat --interpreter none --restart-delay 0 --min-uptime 0 \
		--max-restarts 1073741824 -- "$stamps" "$(div "$CRASH_MS" 1000)" ||
		{ fail "${all[@]}" -- "start crashlat.sh"; return; }
	sleep 1
	a=$(now_us)
	sleep "$SECS"
	b=$(now_us)
	say "4: $CLIENTS clients pipelining for ${SECS} s"
	rm -f "$WORK"/client.*.json
	c0=$(cpu_ticks "$DPID")
	l0=$(now_us)
	for ((i = 0; i < CLIENT_PROCS; i++)); do
		per=$(( CLIENTS / CLIENT_PROCS + (i < CLIENTS % CLIENT_PROCS ? 1 : 0) ))
		nice -n 10 "$PY" "$APP_PIPE" "$H/tend.sock" "$per" "$SECS" "$WINDOW" "$LIST_EVERY" \
			>"$WORK/client.$i.json" 2>>"$LOG" </dev/null &
		pids+=("$!")
	done
	# A user of the CLI while the load runs: `tend ping` once a second (after the last
	# one answered), in the background so that the samples go on while it waits.
	(
		until [ "$(now_us)" -ge $(( l0 + SECS * 1000000 )) ]; do
			sleep 1
			ms=$(now_us)
			TEND_HOME=$H timeout -k 5 30 "$BIN" ping >/dev/null 2>&1 </dev/null || { echo 30000; continue; }
			div $(( $(now_us) - ms )) 1000
			echo
		done >"$WORK/pings"
	) &
	pids+=("$!")
	track "${pids[@]}"
	deadline=$(( l0 + (SECS + 40) * 1000000 ))
	while :; do
		alive=0
		for n in "${pids[@]}"; do kill -0 "$n" 2>/dev/null && alive=$((alive + 1)); done
		[ "$alive" = 0 ] && break
		rss_now "$DPID"
		peak rp "$RSS_NOW"
		peak fp "$(nfds "$DPID")"
		if [ -z "$lm" ] && [ "$(now_us)" -ge $(( l0 + SECS * 1000000 )) ]; then
			lm=$(now_us) cm=$(cpu_ticks "$DPID")
		fi
		if [ "$(now_us)" -ge "$deadline" ]; then
			fail ld_answered ld_rate -- "clients still running $(( SECS + 40 )) s after their start; SIGKILL"
			for n in "${pids[@]}"; do kill -9 "$n" 2>/dev/null; done
			break
		fi
		sleep 0.2
	done
	l1=$(now_us)
	c1=$(cpu_ticks "$DPID")
	echo "== clients and pings ran $(( (l1 - l0) / 1000 )) ms; daemon $(( ${c1:-0} - ${c0:-0} )) ticks in all," \
		"$(( ${cm:-0} - ${c0:-0} )) in the first $(( (${lm:-$l0} - l0) / 1000 )) ms" >>"$LOG"
	[ -n "$c0" ] && [ -n "$cm" ] &&
		R[tend:ld_cpu]=$(div $(( (cm - c0) * 100000000 )) $(( CLK_TCK * (lm - l0) )))
	wait "${pids[@]}" 2>/dev/null
	R[tend:rss_p4_peak]=$rp R[tend:fd_p4_peak]=$fp
	mapfile -t pv < <(grep . "$WORK/pings" 2>/dev/null)
	if [ "${#pv[@]}" -gt 0 ]; then
		R[tend:ld_ping]=$(median "${pv[@]}")
		R[tend:ld_pingmax]=$(printf '%s\n' "${pv[@]}" | sort -g | tail -n 1)
	fi
	# The clients' figures, summed.
	if n=$(cat "$WORK"/client.*.json 2>/dev/null | "$PY" -c '
import json, sys
t = {}
for line in sys.stdin:
    for k, v in json.loads(line).items():
        t[k] = max(t.get(k, 0), v) if k == "seconds" else t.get(k, 0) + v
print(t.get("conns", 0), t.get("connect_failed", 0), t.get("sent", 0), t.get("answered", 0),
      t.get("failed", 0), t.get("closed_by_daemon", 0), t.get("bytes_in", 0), t.get("bytes_out", 0),
      t.get("seconds", 0), t.get("unanswered_conns", 0))' 2>>"$LOG") && [ -n "$n" ]; then
		# shellcheck disable=SC2086
		set -- $n
		R[tend:ld_conns]=$1 R[tend:ld_connfail]=$2 R[tend:ld_sent]=$3 R[tend:ld_answered]=$4
		R[tend:ld_failed]=$5 R[tend:ld_closed]=$6 R[tend:ld_in]=$7 R[tend:ld_out]=$8 R[tend:ld_starved]=${10}
		R[tend:ld_rate]=$(div "$4" "$SECS")
		echo "== load: conns connect_failed sent answered failed closed_by_daemon bytes_in bytes_out seconds unanswered_conns: $n;" \
			"peak VmRSS $rp kB, $fp fds; tend ping during it (ms): ${pv[*]:-}" >>"$LOG"
	else
		fail ld_answered ld_rate -- "no figures from the clients"
	fi
	sleep 1
	snap p4_1
	n=$(now_us)
	t 60 ping && R[tend:ld_after]=$(div $(( $(now_us) - n )) 1000)
	t 60 delete lat || fail lat_base lat_load -- "delete lat"
	# The exits during the baseline, and during the load (from the clients' start to the
	# end of their sending).
	if n=$("$PY" "$WORK/lat.py" "$stamps" "$a" "$b" "$l0" $(( l0 + SECS * 1000000 )) 2>>"$LOG"); then
		R[tend:lat_base]=$(sed -n 1p <<<"$n") R[tend:lat_load]=$(sed -n 2p <<<"$n")
		echo "== supervision latency (n median p99 max ms): baseline ${R[tend:lat_base]}; load ${R[tend:lat_load]}" >>"$LOG"
	else
		fail lat_base lat_load -- "no latency figures from $stamps"
	fi
	sleep 1
	snap p4_2
}

# ---- cleanup -------------------------------------------------------------------------------

trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- main ----------------------------------------------------------------------------------

: >"$LOG"
CMD_STR=
for knob in "${KNOBS[@]}"; do [ -n "${!knob:-}" ] && CMD_STR+="$knob=${!knob} "; done
CMD_STR+=$ARGV_STR
echo "== $(date '+%F %T') $CMD_STR ($BIN, $(version_of tend))" >>"$LOG"
[ -x "$BIN" ] || { echo "bench: $BIN is not executable" >&2; exit 1; }

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
say "daemon in $WORK/home"
start_daemon || { say "FAILED: the daemon did not start (see ${LOG#"$ROOT"/})"; exit 1; }
sleep 1
snap start || exit 1
pv=()
for ((i = 0; i < JL_RUNS + 2; i++)); do
	a=$(now_us)
	t 30 ping || { pv=(); break; }
	[ "$i" -ge 2 ] && pv+=("$(div $(( $(now_us) - a )) 1000)")
done
[ "${#pv[@]}" -gt 0 ] && R[tend:ping0]=$(median "${pv[@]}") && echo "== tend ping, idle (ms): ${pv[*]}" >>"$LOG"
R[tend:hwm_start]=$(status_kb "$DPID" VmHWM)

if [ "$RESTARTS" -gt 0 ]; then phase_restarts; else NOTE[tend:p1]=skipped; fi
if [ "$NAPPS" -gt 0 ]; then phase_apps; else NOTE[tend:p2]=skipped; fi
FREE=$(free_mb "$WORK")
if [ "$FLOOD_MB" -eq 0 ]; then
	NOTE[tend:p3]=skipped
elif [ -z "$FREE" ] || [ "$FREE" -lt "$FLOOD_FREE" ]; then
	say "3: only ${FREE:-?} MiB free under $WORK (fewer than SOAK_FLOOD_FREE_MB=$FLOOD_FREE): no flood"
	echo "== only ${FREE:-?} MiB free under $WORK: flood skipped" >>"$LOG"
	NOTE[tend:p3]=skipped
else
	phase_flood
fi
if [ "$CLIENTS" -gt 0 ]; then phase_load; else NOTE[tend:p4]=skipped; fi

sleep 1
snap end
R[tend:hwm_end]=$(status_kb "$DPID" VmHWM)
kill -0 "$DPID" 2>/dev/null && R[tend:alive]=yes || R[tend:alive]=NO
stop_daemon
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- report --------------------------------------------------------------------------------

v() { # v METRIC [DIVISOR [PHASE]]: the value (divided, formatted), "skipped" or "n/a"
	local val=${R[tend:$1]:-}
	if [ -n "$val" ]; then
		if [ -z "${2:-}" ]; then echo "$val"; else fmt "$(awk -v v="$val" -v d="$2" 'BEGIN { print v / d }')"; fi
	elif [ -n "${3:-}" ] && [ "${NOTE[tend:$3]:-}" = skipped ]; then echo "skipped"
	else echo "n/a"; fi
}

mem() { # mem KEY [PHASE]: "RSS MiB / fds"
	echo "$(v "rss_$1" 1024 "${2:-}") / $(v "fd_$1" "" "${2:-}")"
}

lat() { # lat KEY PHASE: "median / p99 / max (n)" from "N MED P99 MAX"
	local s=${R[tend:$1]:-}
	if [ -z "$s" ]; then v "$1" "" "$2"; return; fi
	# shellcheck disable=SC2086
	set -- $s
	if [ "$1" = 0 ]; then echo "none"; else echo "$(fmt "$2") / $(fmt "$3") / $(fmt "$4") (n=$1)"; fi
}

row() { printf '| %s | %s |\n' "$1" "$2"; }

{
	echo "## tend: soak"
	echo
	echo "$(date -u '+%F %T UTC') · Linux $(uname -r) $(uname -m) · $(nproc) CPUs ·" \
		"load average $LOAD0 at the start, $LOAD1 at the end · $(version_of tend) · \`$CMD_STR\`"
	echo
	echo "| metric | tend |"
	echo "|---|---:|"
	row "daemon at the start: VmRSS (MiB) / fds" "$(mem start)"
	row "\`tend ping\`, idle daemon (ms, median of $JL_RUNS)" "$(v ping0 1)"
	row "**1.** $CRASH_APPS crash apps until $RESTARTS restarts: restarts per second" "$(v rs_rate 1 p1)"
	row "... daemon CPU per restart (µs)" "$(v rs_cpu 1 p1)"
	row "... restart counters (jlist) = runs − $CRASH_APPS (the apps count their runs)" "$(v rs_check "" p1)"
	row "... unstable restarts (max) / errored apps" "$(v rs_unstable "" p1) / $(v rs_errored "" p1)"
	row "... daemon before / peak / after \`delete\`: VmRSS (MiB) / fds" \
		"$(mem p1_0 p1) → $(mem p1_peak p1) → $(mem p1_1 p1)"
	row "**2.** $NAPPS apps from one file: \`start\` returns (ms)" "$(v ap_cmd 1 p2)"
	row "... daemon CPU until \`start\` returns (ms)" "$(v ap_cmdcpu 1 p2)"
	row "... \`jlist\` shows all online (ms)" "$(v ap_online 1 p2)"
	row "... \`jlist\` with $NAPPS apps (ms, median / max of $JL_RUNS)" "$(v ap_jl 1 p2) / $(v ap_jlmax 1 p2)"
	row "... daemon CPU per \`jlist\` (ms, mean of $JL_RUNS)" "$(v ap_jlcpu 1 p2)"
	row "... \`delete all\` (ms)" "$(v ap_del 1 p2)"
	row "... daemon before / with $NAPPS apps / after \`delete all\`: VmRSS (MiB) / fds" \
		"$(mem p2_0 p2) → $(mem p2_1 p2) → $(mem p2_2 p2)"
	row "**3.** $FLOOD_MB MiB through one app, rotated at ${FLOOD_MAX} MiB: \`start\` until all on disk (s)" "$(v fl_s 1 p3)"
	row "... MiB/s / daemon CPU (ms per MiB)" "$(v fl_mbs 1 p3) / $(v fl_cpu 1 p3)"
	row "... bytes logged (rotated files + current) = bytes written" "$(v fl_check "" p3)"
	row "... rotated files (largest, MiB) / files kept (retain $FLOOD_RETAIN) / MiB on disk" \
		"$(v fl_rot "" p3) ($(v fl_maxrot 1048576 p3)) / $(v fl_kept "" p3) / $(v fl_ondisk 1048576 p3)"
	row "... daemon VmRSS before / peak / after (MiB)" \
		"$(v rss_p3_0 1024 p3) / $(v rss_p3_peak 1024 p3) / $(v rss_p3_1a 1024 p3)"
	row "... daemon after \`delete\`: VmRSS (MiB) / fds" "$(mem p3_1 p3)"
	row "**4.** supervision latency, no load: exit → next start (ms, median / p99 / max)" "$(lat lat_base p4)"
	row "... with $CLIENTS clients pipelining (ms, median / p99 / max)" "$(lat lat_load p4)"
	row "... requests answered in ${SECS} s (per second)" "$(v ld_answered "" p4) ($(v ld_rate 1 p4))"
	row "... requests sent / answered {\"ok\":false} / connections closed by the daemon / refused" \
		"$(v ld_sent "" p4) / $(v ld_failed "" p4) / $(v ld_closed "" p4) / $(v ld_connfail "" p4)"
	row "... connections that got no reply at all" "$(v ld_starved "" p4) of $(v ld_conns "" p4)"
	row "... \`tend ping\` during the load (ms, median / max)" "$(v ld_ping 1 p4) / $(v ld_pingmax 1 p4)"
	row "... \`tend ping\` right after (ms)" "$(v ld_after 1 p4)"
	row "... daemon CPU while the clients sent (% of one CPU)" "$(v ld_cpu 1 p4)"
	row "... daemon before / peak / 1 s after / ~3 s after: VmRSS (MiB) / fds" \
		"$(mem p4_0 p4) → $(mem p4_peak p4) → $(mem p4_1 p4) → $(mem p4_2 p4)"
	row "daemon at the end: VmRSS (MiB) / fds (start: $(mem start))" "$(mem end)"
	row "daemon VmHWM over the whole soak (MiB) / still running at the end" "$(v hwm_end 1024) / $(v alive)"
	echo
	echo "One daemon for all four parts, in a fresh temp home. RSS: VmRSS of the daemon pid;" \
		"fds: entries of /proc/PID/fd; \"peak\" is the largest of samples (0.5 s apart in part 1," \
		"0.05 s in part 3, 0.2 s in part 4). Skipped parts: a knob set to 0. 1: bench/apps/crash.sh (dash, exits 1 at once)," \
		"restart_delay 0, min_uptime 0; the rate is restarts counted by jlist over the time since" \
		"\`start\`. 2: bench/apps/sleep.sh (\`--interpreter none\`); jlist timed as \`timeout 30 tend" \
		"jlist >/dev/null\`. 3: bench/apps/flood.js, 100-byte lines, a rotated file's size noted" \
		"when first seen (it no longer grows). 4: bench/apps/pipeline.py, $CLIENT_PROCS processes" \
		"(nice -n 10), ping with one list (env false) in $LIST_EVERY, \`tend ping\` once a second" \
		"in the background; window" \
		"$([ "$WINDOW" = 0 ] && echo "unbounded" || echo "$WINDOW requests"); latency from" \
		"bench/apps/crashlat.sh's own stamps (bash \$EPOCHREALTIME), so it includes the fork, exec" \
		"and bash's start; p99 is the nearest rank. n/a: failed, see bench/results/soak.log."
} >"$RESULTS/soak.md.new"
mv "$RESULTS/soak.md.new" "$RESULTS/soak.md"
cat "$RESULTS/soak.md"
say "total $(( ($(now_us) - T0) / 1000000 )) s; table in bench/results/soak.md"
