# Helpers for tend's shell tests. A test sources this file, then runs real commands.
# Every test gets its own temp dir and TEND_HOME; on exit, every process it started
# is stopped by pid (the daemon through `tend kill`, then SIGKILL by pid if needed).
#
#   run CMD...            run, keeping $OUT (stdout), $ERR (stderr), $RC
#   expect_rc N           $RC must be N
#   expect_out TEXT       $OUT must equal TEXT
#   expect_out_has TEXT   $OUT must contain TEXT (fixed string)
#   expect_err_has TEXT   $ERR must contain TEXT
#   expect_err_line RE    $ERR must be exactly one line matching the ERE
#   check COND_CMD... -- MSG     fail with MSG unless COND_CMD succeeds
#   wait_for SECS CMD...  poll CMD (every 20 ms) until it succeeds, else fail
#   track_pid PID         kill PID at exit
#   on_exit CMD           eval CMD at exit, after the apps are stopped (umount, chattr)
#   fail MSG              stop the test with MSG as its reason
set -u

: "${TEND_BIN:?TEND_BIN must name the binary under test}"
TEND=$TEND_BIN
TOP=${TEND_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
T=$(mktemp -d "${TMPDIR:-/tmp}/tend-t.XXXXXX")
export TEND_HOME="$T/home"
unset PM2_HOME TEND_PID_FILE_PATH TEND_LOG_FILE_PATH PM2_PID_FILE_PATH PM2_LOG_FILE_PATH
OUT= ERR= RC=0
_tracked=

fail() {
	echo "$*" >&2
	exit 1
}

track_pid() { _tracked="$_tracked $*"; }
_on_exit=
on_exit() { _on_exit="$_on_exit
$*"; }

_stop_home() { # _stop_home HOME: stop the daemon of that home and all its apps, by pid
	home=$1
	[ -d "$home" ] || return 0
	pids=$(cat "$home"/pids/*.pid "$home"/*.pid 2>/dev/null)
	if [ -S "$home/tend.sock" ]; then
		TEND_HOME=$home PM2_HOME=$home timeout 10 "$TEND" kill >/dev/null 2>&1
	fi
	for p in $pids; do
		case $p in *[!0-9]*|'') continue ;; esac
		alive "$p" && kill -9 "$p" 2>/dev/null
	done
	return 0
}

_cleanup() {
	rc=$?
	for p in $_tracked; do kill -9 "$p" 2>/dev/null; done
	for h in "$T"/home*; do _stop_home "$h"; done
	eval "$_on_exit"
	# A sanitizer report from a daemon lands in its log: that fails the test. (UBSan
	# that aborts says only "runtime error:".)
	if grep -lE 'Sanitizer|runtime error:' "$T"/home*/tend.log* "$T"/home*/pm2.log* >/dev/null 2>&1; then
		grep -hE -A 12 'Sanitizer|runtime error:' "$T"/home*/tend.log* "$T"/home*/pm2.log* 2>/dev/null | head -n 40 >&2
		echo "sanitizer report in a daemon log" >&2
		rc=1
	fi
	if [ "$rc" = 0 ] || [ -z "${KEEP_TMP:-}" ]; then
		rm -rf "$T"
	else
		echo "kept $T" >&2
	fi
	exit "$rc"
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

run() {
	"$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(cat "$T/.out")
	ERR=$(cat "$T/.err")
	return 0
}

_show() { printf '%s' "$1" | head -c 300 | tr '\n' '|'; }

expect_rc() {
	[ "$RC" = "$1" ] || fail "${2:-exit status} $RC, expected $1 (stdout: $(_show "$OUT")) (stderr: $(_show "$ERR"))"
}

expect_out() {
	[ "$OUT" = "$1" ] || fail "stdout was '$(_show "$OUT")', expected '$(_show "$1")'"
}

expect_out_has() {
	case $OUT in *"$1"*) ;; *) fail "stdout lacks '$1': '$(_show "$OUT")'" ;; esac
}

expect_err_has() {
	case $ERR in *"$1"*) ;; *) fail "stderr lacks '$1': '$(_show "$ERR")'" ;; esac
}

expect_err_line() {
	n=$(printf '%s\n' "$ERR" | grep -c .)
	[ "$n" = 1 ] || fail "stderr should be one line, was $n: '$(_show "$ERR")'"
	printf '%s\n' "$ERR" | grep -Eq "$1" || fail "stderr '$ERR' does not match /$1/"
}

check() {
	cmd=
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		cmd="$cmd '$(printf '%s' "$1" | sed "s/'/'\\\\''/g")'"
		shift
	done
	[ "${1:-}" = "--" ] && shift
	eval "$cmd" >/dev/null 2>&1 || fail "${*:-check failed:$cmd}"
}

wait_for() {
	secs=$1
	shift
	deadline=$(( $(date +%s) + secs ))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && fail "timed out after ${secs}s waiting for: $*"
		sleep 0.02
	done
}

# The binary under test built with AddressSanitizer (slower, bigger, its own SEGV report).
is_asan() { grep -q __asan_init "$TEND" 2>/dev/null; }

# A zombie counts as dead: it holds nothing, and some init processes reap slowly.
alive() {
	[ -r "/proc/$1/stat" ] || return 1
	case $(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) in Z|X|'') return 1 ;; esac
	return 0
}
dead() { ! alive "$1"; }

# python3 may be a slow shim (pyenv): find the real interpreter once.
PY=$(python3 -c 'import sys; print(sys.executable)' 2>/dev/null) || PY=python3

# jl_file FILE EXPR: a Python expression over the JSON array in FILE (d; by(NAME) picks
# the entries of that name). Strings print raw, anything else as JSON (true, 3, [0, 1]).
jl_file() {
	"$PY" - "$1" "$2" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1]))
def by(name): return [p for p in d if p["name"] == name]
r = eval(sys.argv[2])
print(r if isinstance(r, str) else json.dumps(r))
PYEOF
}

# jl EXPR: the same over a fresh jlist.
jl() {
	"$TEND" jlist >"$T/.jl" 2>"$T/.jlerr" || fail "jlist failed: $(cat "$T/.jlerr")"
	jl_file "$T/.jl" "$1"
}

# jl_is EXPR VALUE MSG: jl EXPR must print VALUE.
jl_is() {
	got=$(jl "$1")
	[ "$got" = "$2" ] || fail "$3: $1 is '$got', expected '$2'"
}

# part DESC CMD...: an independent check in a subshell, so that one failing does not
# hide the others; part_report fails the test with every failure, at the end.
_failed=
part() {
	desc=$1
	shift
	msg=$( ("$@") 2>&1 >/dev/null ) ||
		_failed="$_failed${_failed:+ | }$desc: $(printf '%s\n' "$msg" | tail -n 1)"
}
part_report() { [ -z "$_failed" ] || fail "$_failed"; }

# jget TARGET EXPR: a python expression over the first jlist entry whose name or pm_id
# is TARGET (p: the entry, e: its pm2_env); "None" when there is no such entry.
jget() {
	"$TEND" jlist | "$PY" -c '
import json, sys
l = [p for p in json.load(sys.stdin) if p["name"] == sys.argv[1] or str(p["pm_id"]) == sys.argv[1]]
p = l[0] if l else None
e = p["pm2_env"] if p else None
print(eval(sys.argv[2]) if p else None)' "$1" "$2"
}
status_is() { [ "$(jget "$1" 'e["status"]')" = "$2" ]; }

# ---- HTTP apps (cluster mode) -----------------------------------------------------------
# A free port: the kernel picks one, we let it go and take it.
free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
get() { curl -s --max-time 5 "http://127.0.0.1:$1/"; }
# serves PORT N [TRIES]: within TRIES requests (60), N distinct answers naming a pid
# ("... pid N"); the answers are left in seen.txt. Where the kernel picks the instance
# (a shared socket), it favours some: give more tries.
serves() {
	: >seen.txt
	_i=0
	while [ $_i -lt "${3:-60}" ]; do
		get "$1" >>seen.txt
		_i=$((_i + 1))
		[ "$(sort -u seen.txt | grep -c 'pid ')" -ge "$2" ] && return 0
	done
	return 1
}
