# Helpers shared by bench/run.sh, bench/logs.sh and bench/cluster.sh, sourced first (they
# only define functions). The functions use the scripts' globals: TRACKED (pids we
# started), LOG (the tool's failure log), TOOL, BIN, R/NOTE (the results), H/PIDFILE (the
# daemon's home and pid file), WORK, ROOT, T0, SAY_TAG, EXTRA_ENV, DEPS/PM2_BIN/RESULTS.

bench_args() { # bench_args "$@": TEND_BIN [--only tend|pm2]; sets ARGV_STR, ONLY, TEND_BIN; cd ROOT
	local usage="usage: ${0#"$ROOT"/} TEND_BIN [--only tend|pm2]" arg
	ARGV_STR=$(printf '%q ' "$0" "$@")
	ARGV_STR=${ARGV_STR% }
	case ${1:--h} in -h|--help) echo "$usage" >&2; exit 2 ;; esac
	arg=$1
	shift
	ONLY=
	while [ $# -gt 0 ]; do
		case $1 in
		--only) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; ONLY=$2; shift 2 ;;
		--only=*) ONLY=${1#--only=}; shift ;;
		-h|--help) echo "$usage" >&2; exit 2 ;;
		*) echo "bench: unknown argument '$1'" >&2; echo "$usage" >&2; exit 2 ;;
		esac
	done
	case $ONLY in ''|tend|pm2) ;; *) echo "bench: --only takes tend or pm2" >&2; echo "$usage" >&2; exit 2 ;; esac
	case $arg in /*) TEND_BIN=$arg ;; *) TEND_BIN=$PWD/$arg ;; esac
	cd "$ROOT" || exit 1
}

bench_workdir() { # bench_workdir NAME: $RESULTS made; WORK (a temp dir), TRACKED, T0 set
	mkdir -p "$RESULTS"
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/tend-$1.XXXXXX") || exit 1
	TRACKED=$WORK/tracked
	: >"$TRACKED"
	T0=${EPOCHREALTIME/./}
}

say() { printf '[%s %4ds] %s\n' "${SAY_TAG:-bench}" $(( (${EPOCHREALTIME/./} - T0) / 1000000 )) "$*" >&2; }

t() { # t SECS ARGS...: run the tool in home $H (with EXTRA_ENV, if any) and a timeout; output in $WORK/out
	local secs=$1 rc
	shift
	env ${EXTRA_ENV[@]+"${EXTRA_ENV[@]}"} TEND_HOME="$H" PM2_HOME="$H" \
		timeout -k 5 "$secs" "$BIN" "$@" >"$WORK/out" 2>&1 </dev/null
	rc=$?
	if [ "$rc" != 0 ]; then
		{
			echo "== $(date '+%F %T') $TOOL $*: exit $rc$([ "$rc" = 124 ] && echo " (timeout ${secs}s)")"
			tail -n 40 "$WORK/out"
		} >>"$LOG"
	fi
	return "$rc"
}

install_pm2() { # PM2 from npm into $DEPS (pm2@7, else pm2@latest), once
	[ -x "$PM2_BIN" ] && return 0
	say "installing pm2 into bench/.deps (npm)"
	mkdir -p "$DEPS"
	timeout 300 npm install --prefix "$DEPS" --no-audit --no-fund --loglevel=error pm2@7 \
		>>"$RESULTS/install.log" 2>&1 ||
		timeout 300 npm install --prefix "$DEPS" --no-audit --no-fund --loglevel=error pm2@latest \
			>>"$RESULTS/install.log" 2>&1 ||
		say "npm install pm2 failed (see bench/results/install.log)"
}

cpu_ticks() { # cpu_ticks PID: utime + stime (fields 14, 15 of /proc/PID/stat), all threads
	local line
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	line=${line##*) }
	# shellcheck disable=SC2086
	set -- $line
	[[ ${12:-} =~ ^[0-9]+$ && ${13:-} =~ ^[0-9]+$ ]] || return 1
	echo $(( ${12} + ${13} ))
}

now_us() { # microseconds since the epoch
	if [ -n "${EPOCHREALTIME:-}" ]; then
		echo "${EPOCHREALTIME/./}"
	else
		echo $(( $(date +%s%N) / 1000 ))
	fi
}

median() { # median VALUE...; fails if there are none
	[ $# -gt 0 ] || return 1
	printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

proc_stat() { # proc_stat PID: PS_STATE, PS_START (fields 3, 22 of /proc/PID/stat); no fork
	local line
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	line=${line##*) }
	# shellcheck disable=SC2086
	set -- $line
	PS_STATE=$1 PS_START=${20:-}
	[ -n "$PS_START" ]
}

track_to() { # track_to FILE PID...: record PIDs (with start times) in FILE and $TRACKED
	local f=$1 p
	shift
	for p; do
		[[ $p =~ ^[0-9]+$ ]] || continue
		proc_stat "$p" || continue
		echo "$p $PS_START" >>"$TRACKED"
		[ "$f" = "$TRACKED" ] || echo "$p $PS_START" >>"$f"
	done
}

track() { track_to "$TRACKED" "$@"; }

alive_same() { # alive_same PID STARTTIME: still the process we recorded, and not a zombie
	proc_stat "$1" && [ "$PS_START" = "$2" ] && [ "$PS_STATE" != Z ] && [ "$PS_STATE" != X ]
}

descendants() { # descendants PID: every process below PID
	ps -e -o pid=,ppid= 2>/dev/null | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END { q = root; while (q != "") { n = split(q, a, " "); q = "";
			for (i = 1; i <= n; i++) { m = split(kids[a[i]], k, " ");
				for (j = 1; j <= m; j++) { print k[j]; q = q " " k[j] } } } }'
}

reap() { # reap WAIT_SECS [FILE]: wait for the pids in FILE ($TRACKED) to go, then SIGKILL
	local deadline=$(( $(now_us) + ${1:-0} * 1000000 )) f=${2:-$TRACKED} left p st
	[ -f "$f" ] || return 0
	while :; do
		left=0
		while read -r p st; do
			alive_same "$p" "$st" && left=$((left + 1))
		done <"$f"
		[ "$left" = 0 ] && return 0
		[ "$(now_us)" -ge "$deadline" ] && break
		sleep 0.1
	done
	while read -r p st; do
		alive_same "$p" "$st" || continue
		[ -n "$LOG" ] && echo "== still alive after ${1:-0} s, SIGKILL: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)" >>"$LOG"
		kill -9 "$p" 2>/dev/null
	done <"$f"
	return 0
}

fail() { # fail METRIC... -- MSG: the metrics get no value; MSG goes to the log
	local m msg
	for m; do [ "$m" = -- ] && break; done
	msg=${*: -1}
	echo "== FAILED: $msg" >>"$LOG"
	say "$TOOL: FAILED: $msg (see ${LOG#"$ROOT"/})"
	for m; do
		[ "$m" = -- ] && break
		[ -n "${R[$TOOL:$m]:-}" ] || NOTE[$TOOL:$m]=failed
	done
	return 1
}

await_dpid() { # await_dpid WHAT: DPID from the pid file of $H (up to 10 s), tracked
	local deadline=$(( $(now_us) + 10 * 1000000 ))
	while :; do
		DPID=$(cat "$H/$PIDFILE" 2>/dev/null)
		[[ $DPID =~ ^[0-9]+$ ]] && kill -0 "$DPID" 2>/dev/null && break
		if [ "$(now_us)" -ge "$deadline" ]; then
			echo "== no live daemon pid in $H/$PIDFILE after $1 (saw '$DPID')" >>"$LOG"
			DPID=
			return 1
		fi
		sleep 0.05
	done
	track "$DPID"
	return 0
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$H" ] && stop_daemon 2>/dev/null
	reap 0
	if [ -n "${BENCH_KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}

fmt() { # fmt VALUE: 3 significant-ish digits
	awk -v v="$1" 'BEGIN { a = v < 0 ? -v : v
		if (a >= 100) printf "%.0f", v; else if (a >= 10) printf "%.1f", v
		else if (a >= 1) printf "%.2f", v; else printf "%.3f", v }'
}

ratio() { # ratio METRIC: PM2 / tend
	local a=${R[tend:$1]:-} b=${R[pm2:$1]:-}
	if [ -n "$a" ] && [ -n "$b" ] && awk -v a="$a" 'BEGIN { exit !(a > 0) }'; then
		echo "$(fmt "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')")×"
	else
		echo "—"
	fi
}

version_of() { # version_of tend|pm2
	if [ "$1" = tend ]; then
		timeout 10 "$TEND_BIN" --version 2>/dev/null | head -n 1 | grep . || echo "n/a"
	else
		# Not `pm2 --version`: that spawns a daemon in ~/.pm2.
		"$NODE" -p "require('$DEPS/node_modules/pm2/package.json').version" 2>/dev/null || echo "n/a"
	fi
}

parse_wrk() { # parse_wrk FILE: W_RPS, W_P99 (ms), W_NON2XX, W_CONNECT..W_TIMEOUT, W_REQS
	local out
	out=$(awk '
		/Requests\/sec:/ { rps = $2 }
		/^[ \t]+99%/ {
			v = $2; u = v; sub(/^[0-9.]+/, "", u); n = v + 0
			if (u == "us") n /= 1000; else if (u == "s") n *= 1000
			else if (u == "m") n *= 60000; else if (u == "h") n *= 3600000
			p99 = n
		}
		/Socket errors:/ { gsub(/,/, ""); c = $4; r = $6; w = $8; to = $10 }
		/Non-2xx or 3xx responses:/ { non = $5 }
		/ requests in / { reqs = $1 }
		END {
			if (rps == "" || p99 == "") exit 1
			printf "%s %s %d %d %d %d %d %d\n", rps, p99, non, c, r, w, to, reqs
		}' "$1") || return 1
	# shellcheck disable=SC2086
	set -- $out
	W_RPS=$1 W_P99=$2 W_NON2XX=$3 W_CONNECT=$4 W_READ=$5 W_WRITE=$6 W_TIMEOUT=$7 W_REQS=$8
}

free_port() { # free_port: a port on 127.0.0.1 that nothing listens on now (asks the kernel, via node)
	"$NODE" -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
		() => { console.log(s.address().port); s.close(); })'
}

cpu_pct() { # cpu_pct PID SECS: % of one core the process used over the next SECS seconds (CLK_TCK set)
	local a b
	a=$(cpu_ticks "$1") || return 1
	sleep "$2"
	b=$(cpu_ticks "$1") || return 1
	awk -v a="$a" -v b="$b" -v s="$2" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz / s * 100 }'
}
