# The everyday commands on three apps (two in namespace "work"): stop/restart/delete/reset
# by id, name, namespace, /regex/, all and several targets; unknown targets change
# nothing; list/jlist/prettylist/describe/id/pid/env/sendSignal; usage errors.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"

pid_of() { jl "by('$1')[0]['pid']"; }
restarts_of() { jl "by('$1')[0]['pm2_env']['restart_time']"; }
# states "alpha:online beta:stopped ...": every app's status, in name order.
states() { jl "' '.join('%s:%s' % (p['name'], p['pm2_env']['status']) for p in sorted(d, key=lambda p: p['name']))"; }
expect_states() { # expect_states WANT MSG
	got=$(states)
	[ "$got" = "$1" ] || fail "$2: states are '$got', expected '$1'"
}
all_online="alpha:online beta:online gamma:online"
# Bring every app back online between cases.
back_up() {
	run "$TEND" restart all -s
	expect_rc 0 "restart all"
	expect_states "$all_online" "after restart all"
}

# ---- three apps -------------------------------------------------------------------------
export TEND_T_LIST=seen   # the caller's environment, as jlist shows it
for spec in alpha: beta:work gamma:work; do
	name=${spec%%:*} ns=${spec#*:}
	if [ -n "$ns" ]; then
		run "$TEND" start sleep -n "$name" --namespace "$ns" -s -- 1000
	else
		run "$TEND" start sleep -n "$name" -s -- 1000
	fi
	expect_rc 0 "start $name"
done
expect_states "$all_online" "after start"
jl_is "[p['pm2_env']['namespace'] for p in sorted(d, key=lambda p: p['name'])]" '["default", "work", "work"]' "namespaces"
a_id=$(jl "by('alpha')[0]['pm_id']")
b_id=$(jl "by('beta')[0]['pm_id']")
g_id=$(jl "by('gamma')[0]['pm_id']")
[ "$a_id" != "$b_id" ] && [ "$b_id" != "$g_id" ] && [ "$a_id" != "$g_id" ] || fail "ids not distinct: $a_id $b_id $g_id"

# ---- stop: by id, name, namespace, /regex/, all, several -------------------------------
stop_case() { # stop_case WANT_STATES TARGET...
	want=$1
	shift
	before=$(jl "' '.join(str(p['pid']) for p in d)")
	run "$TEND" stop "$@" -s
	expect_rc 0 "stop $*"
	[ -z "$OUT" ] || fail "stop -s printed: $(_show "$OUT")"
	expect_states "$want" "stop $*"
	# Every app reported stopped has pid 0 and its old process is gone.
	for p in $before; do
		still=$(jl "[q['name'] for q in d if q['pid'] == $p]")
		[ "$still" != "[]" ] && continue
		dead "$p" || fail "stop $*: old pid $p is still alive"
	done
	jl_is "[p['pid'] for p in d if p['pm2_env']['status'] == 'stopped' and p['pid'] != 0]" "[]" "stop $*: stopped apps have pid 0"
	back_up
}
stop_case "alpha:stopped beta:online gamma:online" "$a_id"
stop_case "alpha:online beta:stopped gamma:online" beta
stop_case "alpha:online beta:stopped gamma:stopped" work
stop_case "alpha:stopped beta:online gamma:stopped" '/^(al|ga)/'
stop_case "alpha:stopped beta:stopped gamma:stopped" all
stop_case "alpha:stopped beta:online gamma:stopped" alpha gamma
stop_case "alpha:stopped beta:stopped gamma:stopped" "$a_id" work
# stop prints the table by default, -m the mini list.
run "$TEND" stop alpha -m
expect_rc 0
printf '%s\n' "$OUT" | grep -qx "$a_id alpha stopped 0" || fail "stop -m: $(_show "$OUT")"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 3 ] || fail "stop -m: expected one line per app: $(_show "$OUT")"
back_up

# ---- an unknown target: exit 1, one line, and nothing else named is touched -------------
run "$TEND" restart alpha -s
expect_rc 0
pids_before=$(jl "[p['pid'] for p in sorted(d, key=lambda p: p['name'])]")
rt_before=$(jl "[p['pm2_env']['restart_time'] for p in sorted(d, key=lambda p: p['name'])]")
[ "$rt_before" != "[0, 0, 0]" ] || fail "restart_time still 0 after restarts: $rt_before"
for cmd in stop restart delete del reset; do
	run "$TEND" $cmd alpha nosuch beta
	expect_rc 1 "$cmd with an unknown target"
	expect_err_line "^tend: (del|delete|$cmd): process or namespace not found: nosuch$"
	expect_states "$all_online" "$cmd alpha nosuch beta"
	jl_is "[p['pid'] for p in sorted(d, key=lambda p: p['name'])]" "$pids_before" "$cmd alpha nosuch beta: pids"
	jl_is "[p['pm2_env']['restart_time'] for p in sorted(d, key=lambda p: p['name'])]" "$rt_before" "$cmd alpha nosuch beta: restart_time"
done
run "$TEND" stop alpha '/^nomatch/'
expect_rc 1 "stop with a regex that matches nothing"
expect_err_line '^tend: stop: .*/\^nomatch/'
run "$TEND" stop 4242
expect_rc 1 "stop with an unknown id"
expect_err_line '^tend: stop: process or namespace not found: 4242$'
expect_states "$all_online" "after failed stops"
jl_is "[p['pid'] for p in sorted(d, key=lambda p: p['name'])]" "$pids_before" "after failed stops: pids"

# ---- restart: new pids, restart_time + 1, the others untouched --------------------------
a_pid=$(pid_of alpha) b_pid=$(pid_of beta) g_pid=$(pid_of gamma)
a_rt=$(restarts_of alpha) b_rt=$(restarts_of beta) g_rt=$(restarts_of gamma)
run "$TEND" restart alpha beta -s
expect_rc 0 "restart alpha beta"
expect_states "$all_online" "after restart alpha beta"
a2=$(pid_of alpha) b2=$(pid_of beta)
[ "$a2" != "$a_pid" ] && [ "$b2" != "$b_pid" ] || fail "restart kept pids: alpha $a_pid→$a2 beta $b_pid→$b2"
alive "$a2" && alive "$b2" || fail "restarted pids $a2 $b2 are not alive"
dead "$a_pid" && dead "$b_pid" || fail "old pids $a_pid $b_pid survived the restart"
[ "$(restarts_of alpha)" = $((a_rt + 1)) ] || fail "alpha restart_time $(restarts_of alpha), expected $((a_rt + 1))"
[ "$(restarts_of beta)" = $((b_rt + 1)) ] || fail "beta restart_time $(restarts_of beta), expected $((b_rt + 1))"
[ "$(pid_of gamma)" = "$g_pid" ] || fail "gamma was restarted too"
[ "$(restarts_of gamma)" = "$g_rt" ] || fail "gamma restart_time changed"
jl_is "by('alpha')[0]['pm2_env']['pm_uptime'] > by('gamma')[0]['pm2_env']['pm_uptime']" true "restart renews pm_uptime"
run "$TEND" restart work -m
expect_rc 0
printf '%s\n' "$OUT" | grep -Eq "^$g_id gamma online [0-9]+$" || fail "restart -m: $(_show "$OUT")"
[ "$(pid_of gamma)" != "$g_pid" ] || fail "restart work kept gamma's pid"

# ---- reset: restart_time back to 0, only for the targets --------------------------------
[ "$(restarts_of beta)" -gt 0 ] || fail "beta restart_time should be > 0 by now"
run "$TEND" reset alpha -s
expect_rc 0
jl_is "by('alpha')[0]['pm2_env']['restart_time']" 0 "reset alpha"
[ "$(restarts_of beta)" -gt 0 ] || fail "reset alpha also reset beta"
run "$TEND" reset all -s
expect_rc 0
jl_is "[p['pm2_env']['restart_time'] for p in d]" "[0, 0, 0]" "reset all"
jl_is "[p['pm2_env']['unstable_restarts'] for p in d]" "[0, 0, 0]" "reset all: unstable_restarts"
expect_states "$all_online" "reset does not stop anything"

# ---- list: header and rows, --sort, -m, aliases ------------------------------------------
run "$TEND" list --no-color
expect_rc 0
printf '%s\n' "$OUT" | head -n 1 | grep -Eq '^id +name +namespace +.*pid.*status' || fail "list header: $(_show "$OUT")"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 4 ] || fail "list: expected header + 3 rows: $(_show "$OUT")"
case $OUT in *"$(printf '\033')"*) fail "list prints colors to a non-terminal" ;; esac
for n in alpha beta gamma; do
	printf '%s\n' "$OUT" | grep -Eq "^[0-9]+ +$n +.* online " || fail "list has no online row for $n: $(_show "$OUT")"
done
rows() { printf '%s\n' "$OUT" | awk 'NR > 1 {print $2}' | tr '\n' ' '; }
run "$TEND" list --sort name:desc
expect_rc 0
[ "$(rows)" = "gamma beta alpha " ] || fail "--sort name:desc gave '$(rows)'"
run "$TEND" list --sort name
expect_rc 0
[ "$(rows)" = "alpha beta gamma " ] || fail "--sort name gave '$(rows)'"
run "$TEND" list --sort id:desc
expect_rc 0
[ "$(printf '%s\n' "$OUT" | awk 'NR > 1 {print $1}' | tr '\n' ' ')" = "$(printf '%s\n' "$a_id" "$b_id" "$g_id" | sort -rn | tr '\n' ' ')" ] || fail "--sort id:desc: $(_show "$OUT")"
run "$TEND" list --sort bogus
expect_rc 2 "list --sort bogus"
expect_err_line '^tend: list: .*bogus'
[ -z "$OUT" ] || fail "list --sort bogus printed a table"
run "$TEND" list --sort name:sideways
expect_rc 2 "list --sort name:sideways"
expect_err_line '^tend: list: '
want_mini=$(jl "'\n'.join('%d %s %s %d' % (p['pm_id'], p['name'], p['pm2_env']['status'], p['pid']) for p in sorted(d, key=lambda p: p['pm_id']))")
run "$TEND" list -m
expect_rc 0
expect_out "$want_mini"
for alias in ls l ps status; do
	run "$TEND" $alias -m
	expect_rc 0 "$alias -m"
	[ "$OUT" = "$want_mini" ] || fail "$alias -m differs from list -m: $(_show "$OUT")"
done

# ---- jlist: PM2's fields, with PM2's types ----------------------------------------------
run "$TEND" stop gamma -s
expect_rc 0
"$TEND" jlist >"$T/jlist.json" || fail "jlist failed"
problems=$("$PY" - "$T/jlist.json" <<'EOF'
import json, sys, time, os
d = json.load(open(sys.argv[1]))
bad = []
def want(cond, what):
    if not cond: bad.append(what)
want(isinstance(d, list) and len(d) == 3, "jlist is not a 3-element array")
now = time.time() * 1000
for p in d:
    n = p.get("name", "?")
    e = p.get("pm2_env", {})
    want(isinstance(p.get("pid"), int), n + ": pid not int")
    want(isinstance(p.get("pm_id"), int), n + ": pm_id not int")
    want(isinstance(p.get("monit"), dict), n + ": monit not an object")
    m = p.get("monit", {})
    want(isinstance(m.get("memory"), int), n + ": monit.memory not int")
    want(isinstance(m.get("cpu"), (int, float)) and not isinstance(m.get("cpu"), bool), n + ": monit.cpu not a number")
    want(e.get("name") == n and e.get("pm_id") == p.get("pm_id"), n + ": pm2_env name/pm_id differ")
    want(e.get("status") in ("online", "stopped"), n + ": status %r" % e.get("status"))
    for k in ("pm_uptime", "restart_time", "unstable_restarts", "instances", "created_at"):
        want(isinstance(e.get(k), int) and not isinstance(e.get(k), bool), n + ": %s not int: %r" % (k, e.get(k)))
    want(abs(e.get("pm_uptime", 0) - now) < 3600 * 1000, n + ": pm_uptime is not a recent epoch in ms: %r" % e.get("pm_uptime"))
    want(e.get("exec_mode") == "fork_mode", n + ": exec_mode %r" % e.get("exec_mode"))
    for k in ("pm_exec_path", "pm_cwd", "pm_out_log_path", "pm_err_log_path", "pm_pid_path"):
        want(isinstance(e.get(k), str) and e[k].startswith("/"), n + ": %s not an absolute path: %r" % (k, e.get(k)))
    want(e.get("pm_exec_path") == "/usr/bin/sleep" or os.path.basename(e.get("pm_exec_path", "")) == "sleep", n + ": pm_exec_path %r" % e.get("pm_exec_path"))
    want(isinstance(e.get("exec_interpreter"), str), n + ": exec_interpreter not str")
    want(isinstance(e.get("node_args"), list), n + ": node_args not a list")
    want(e.get("args") == ["1000"], n + ": args %r" % e.get("args"))
    want(e.get("pm_out_log_path", "").endswith("/logs/%s-out.log" % n), n + ": out log %r" % e.get("pm_out_log_path"))
    want(e.get("pm_err_log_path", "").endswith("/logs/%s-error.log" % n), n + ": err log %r" % e.get("pm_err_log_path"))
    want(e.get("pm_pid_path", "").endswith("/pids/%s-%d.pid" % (n, p.get("pm_id", -1))), n + ": pid path %r" % e.get("pm_pid_path"))
    want(isinstance(e.get("namespace"), str), n + ": namespace not str")
    want(e.get("autorestart") is True, n + ": autorestart %r" % e.get("autorestart"))
    env = e.get("env", {})
    # As PM2 has it: the variables, and the app-named key {} (its module configuration).
    want(isinstance(env, dict) and env.get(n) == {} and all(isinstance(v, str) for k, v in env.items() if k != n), n + ": env %r" % env)
    want(not any(k in env for k in ("pm_id", "NOTIFY_SOCKET", "NODE_CHANNEL_FD", "NODE_APP_INSTANCE")), n + ": tend's own variables in env")
    want(env.get("TEND_T_LIST") == "seen" and e.get("TEND_T_LIST") == "seen", n + ": the caller's variable, in env and copied to pm2_env")
    want(e.get("NODE_APP_INSTANCE") == 0 and e.get("instance_var") == "NODE_APP_INSTANCE", n + ": instance number")
    want("pm_log_path" not in e and None not in e.values(), n + ": keys PM2 omits (pm_log_path without -l, nulls)")
    want("exit_code" not in e or isinstance(e["exit_code"], int), n + ": exit_code %r" % e.get("exit_code"))
    if e.get("status") == "online":
        want(p["pid"] > 0 and os.path.exists("/proc/%d" % p["pid"]), n + ": online pid %r not in /proc" % p["pid"])
        want(m.get("memory", 0) > 0, n + ": online app with memory 0")
    else:
        want(p["pid"] == 0, n + ": stopped app with pid %r" % p["pid"])
        want(m.get("memory") == 0, n + ": stopped app with memory %r" % m.get("memory"))
print("; ".join(bad))
EOF
)
[ -z "$problems" ] || fail "jlist: $problems"

# prettylist: PM2's layout (node's util.inspect; byte for byte in pm2compat), so a grep
# over it finds what it finds over PM2's.
run "$TEND" prettylist
expect_rc 0
for n in alpha beta gamma; do
	printf '%s\n' "$OUT" | grep -qx "    name: '$n'," || fail "prettylist: no \"    name: '$n',\" line: $(_show "$OUT")"
done
[ "$(printf '%s\n' "$OUT" | grep -c "^      status: 'online',$")" = 2 ] || fail "prettylist: status lines"

# ---- describe ------------------------------------------------------------------------------
for alias in describe desc info show; do
	run "$TEND" $alias alpha
	expect_rc 0 "$alias alpha"
	expect_out_has "alpha"
	expect_out_has "online"
	expect_out_has "$(pid_of alpha)"
done
run "$TEND" describe gamma
expect_rc 0
expect_out_has "gamma"
expect_out_has "stopped"
run "$TEND" describe work
expect_rc 0
expect_out_has "beta"
expect_out_has "gamma"
run "$TEND" describe nosuch
expect_rc 1 "describe nosuch"
expect_err_line '^tend: describe: process or namespace not found: nosuch$'

# ---- id, pid, env ------------------------------------------------------------------------
run "$TEND" id alpha
expect_rc 0
expect_out "$a_id"
run "$TEND" start sleep -n twins -i 2 -s -- 1000
expect_rc 0
run "$TEND" id twins
expect_rc 0
expect_out "$(jl "'\n'.join(str(p['pm_id']) for p in by('twins'))")"
[ "$(printf '%s\n' "$OUT" | wc -l)" = 2 ] || fail "id twins: expected 2 ids: $(_show "$OUT")"
run "$TEND" id nosuch
expect_rc 0
expect_out ""
run "$TEND" pid alpha
expect_rc 0
apid=$OUT
[ "$apid" = "$(pid_of alpha)" ] || fail "pid alpha printed '$apid', jlist says $(pid_of alpha)"
case $(tr '\0' ' ' <"/proc/$apid/cmdline") in sleep\ 1000\ |*/sleep\ 1000\ ) ;; *) false ;; esac || fail "pid alpha: /proc/$apid is '$(tr '\0' ' ' <"/proc/$apid/cmdline")'"
[ "$(awk '/^PPid:/ {print $2}' "/proc/$apid/status")" = "$(cat "$TEND_HOME/tend.pid")" ] || fail "pid alpha: not a child of the daemon"
run "$TEND" pid gamma
expect_rc 0
expect_out 0
run "$TEND" pid twins
expect_rc 0
[ "$(printf '%s\n' "$OUT" | wc -l)" = 2 ] || fail "pid twins: $(_show "$OUT")"
run "$TEND" pid
expect_rc 0
[ "$(printf '%s\n' "$OUT" | wc -l)" = 5 ] || fail "pid with no target: expected 5 lines: $(_show "$OUT")"
run "$TEND" pid nosuch
expect_rc 1 "pid nosuch"
expect_err_line '^tend: pid: process or namespace not found: nosuch$'
run "$TEND" env "$b_id"
expect_rc 0
printf '%s\n' "$OUT" | grep -qx "pm_id=$b_id" || fail "env $b_id lacks pm_id=$b_id"
printf '%s\n' "$OUT" | grep -qx "name=beta" || fail "env $b_id lacks name=beta"
printf '%s\n' "$OUT" | grep -qx "NODE_APP_INSTANCE=0" || fail "env $b_id lacks NODE_APP_INSTANCE=0"
printf '%s\n' "$OUT" | LC_ALL=C sort -c 2>/dev/null || fail "env output is not sorted"
# The app's real environment matches what env prints for the variables tend sets.
bpid=$(pid_of beta)
tr '\0' '\n' <"/proc/$bpid/environ" | grep -qx "pm_id=$b_id" || fail "beta's /proc environ lacks pm_id=$b_id"
run "$TEND" env 4242
expect_rc 1 "env 4242"
expect_err_line '^tend: env: '
run "$TEND" env beta
expect_rc 2 "env NAME"
expect_err_line '^tend: env: '

# ---- sendSignal ------------------------------------------------------------------------------
printf 'trap "echo got-usr2" USR2\necho ready\nwhile :; do sleep 0.05; done\n' >"$T/trapper.sh"
run "$TEND" start "$T/trapper.sh" -s
expect_rc 0
wait_for 10 grep -qx ready "$TEND_HOME/logs/trapper-out.log"
got_n() { [ "$(grep -c '^got-usr2$' "$TEND_HOME/logs/trapper-out.log")" -ge "$1" ]; }
run "$TEND" sendSignal SIGUSR2 trapper
expect_rc 0 "sendSignal SIGUSR2 trapper"
wait_for 10 got_n 1
# The other spellings: USR2 and 12, and an id as the target.
run "$TEND" sendSignal USR2 trapper
expect_rc 0 "sendSignal USR2"
wait_for 10 got_n 2
run "$TEND" sendSignal 12 "$(jl "by('trapper')[0]['pm_id']")"
expect_rc 0 "sendSignal 12 ID"
wait_for 10 got_n 3
jl_is "by('trapper')[0]['pm2_env']['status']" online "trapper after signals"
run "$TEND" sendSignal SIGUSR2 gamma
expect_rc 1 "sendSignal to a stopped app"
expect_err_line '^tend: sendSignal: .*gamma.*not running'
run "$TEND" sendSignal SIGUSR2 nosuch
expect_rc 1 "sendSignal to an unknown target"
expect_err_line '^tend: sendSignal: process or namespace not found: nosuch$'
run "$TEND" sendSignal BOGUS trapper
expect_rc 2 "sendSignal BOGUS"
expect_err_line "^tend: sendSignal: .*BOGUS"

# ---- delete / del ------------------------------------------------------------------------------
g_pid=$(pid_of gamma)
run "$TEND" delete gamma -s
expect_rc 0
jl_is "len(by('gamma'))" 0 "delete gamma"
b_pid=$(pid_of beta)
run "$TEND" del beta -s
expect_rc 0
jl_is "len(by('beta'))" 0 "del beta"
dead "$b_pid" || fail "deleted beta (pid $b_pid) is still alive"
[ -f "$TEND_HOME/logs/beta-out.log" ] || fail "delete removed the log file"
[ ! -e "$TEND_HOME/pids/beta-$b_id.pid" ] || fail "delete left the pid file"
run "$TEND" delete twins -s
expect_rc 0
jl_is "sorted(p['name'] for p in d)" '["alpha", "trapper"]' "after deletes"
run "$TEND" delete beta
expect_rc 1 "delete of a deleted app"
expect_err_line '^tend: delete: process or namespace not found: beta$'
run "$TEND" delete all -s
expect_rc 0
jl_is "d" "[]" "delete all"

# ---- usage errors: missing arguments and unknown options exit 2, one line -----------------
for cmd in stop restart delete del reset describe id env sendSignal "sendSignal USR2"; do
	run "$TEND" $cmd
	expect_rc 2 "'$cmd' without arguments"
	expect_err_line "^tend: (delete|${cmd%% *}): "
done
for cmd in stop restart delete reset describe id pid env list jlist sendSignal; do
	run "$TEND" $cmd --no-such-option
	expect_rc 2 "$cmd --no-such-option"
	expect_err_line "^tend: $cmd: .*--no-such-option"
done

# ---- independent checks: each runs in a subshell, so that one failing does not hide the
# others; every failure is reported at the end ---------------------------------------------

run "$TEND" start sleep -n alpha -s -- 1000
run "$TEND" start sleep -n beta --namespace work -s -- 1000
run "$TEND" start sleep -n gamma --namespace work -s -- 1000
expect_states "$all_online" "started again for the last checks"
b_id=$(jl "by('beta')[0]['pm_id']")

# Overlapping targets: a target whose apps an earlier target already named still names
# them ("stop work beta" stops beta and gamma); it is not "not found".
overlap() { # overlap WANT_STATES TARGET...
	want=$1
	shift
	run "$TEND" stop "$@" -s
	expect_rc 0 "stop $*"
	expect_states "$want" "stop $*"
}
for targets in "work beta" "all $b_id" "beta beta" "/^bet/ beta"; do
	case $targets in
	all*) want="alpha:stopped beta:stopped gamma:stopped" ;;
	work*) want="alpha:online beta:stopped gamma:stopped" ;;
	*) want="alpha:online beta:stopped gamma:online" ;;
	esac
	part "stop $targets" overlap "$want" $targets
	back_up
done

# jlist is JSON, so UTF-8, even when an app's environment holds other bytes;
# prettylist (node's util.inspect form, not JSON) is UTF-8 text too.
utf8_jlist() {
	run env TEND_T_LATIN1="$(printf 'caf\351')" "$TEND" start sleep -n latin -s -- 1000
	expect_rc 0 "start with a non-UTF-8 variable"
	"$TEND" jlist >"$T/jlist.bin" || fail "jlist failed"
	"$PY" -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' "$T/jlist.bin" 2>"$T/.pyerr" ||
		fail "jlist is not UTF-8 JSON with a non-UTF-8 env value: $(tail -n 1 "$T/.pyerr")"
	"$TEND" prettylist >"$T/pretty.bin" || fail "prettylist failed"
	"$PY" -c 'import sys; t = open(sys.argv[1], "rb").read().decode("utf-8"); assert "TEND_T_LATIN1" in t and "caf" in t' "$T/pretty.bin" 2>"$T/.pyerr" ||
		fail "prettylist is not UTF-8 with a non-UTF-8 env value: $(tail -n 1 "$T/.pyerr")"
}
part "non-UTF-8 env" utf8_jlist

# list TARGET...: only those instances; a declaration file stands for its apps
list_targets() {
	"$TEND" start "sleep 1000" -n lt-a -s || fail "start lt-a"
	"$TEND" start "sleep 1000" -n lt-b -i 2 -s || fail "start lt-b"
	printf '{"apps": [{"name": "lt-b", "script": "sleep", "args": "1000"}]}\n' >"$T/lt.json"
	run "$TEND" list -m lt-a
	expect_rc 0
	[ "$(printf '%s\n' "$OUT" | awk '{ print $2 }' | sort -u)" = lt-a ] || fail "list lt-a: $OUT"
	run "$TEND" list -m "$T/lt.json"
	[ "$(printf '%s\n' "$OUT" | awk '$2 == "lt-b"' | wc -l)" = 2 ] || fail "list FILE: $OUT"
	printf '%s\n' "$OUT" | grep -q lt-a && fail "list FILE shows another app: $OUT"
	run "$TEND" list -m no-such-app
	expect_rc 1
	"$TEND" delete lt-a lt-b -s
}
part "list with targets" list_targets

# PM2's -s/--silent is global: every command takes it (and PM2_SILENT). Messages go,
# the data asked for stays, errors stay on stderr with their exit code.
silent_everywhere() {
	"$TEND" start "sleep 1000" -n quiet -s || fail "start quiet"
	for a in list ls status describe info flush reloadLogs ping sendSignal; do
		case $a in describe | info | flush) set -- quiet ;; sendSignal) set -- SIGCONT quiet ;; *) set -- ;; esac
		run "$TEND" "$a" "$@" -s
		expect_rc 0 "$a -s"
		[ -z "$OUT$ERR" ] || fail "$a -s printed: $(_show "$OUT$ERR")"
		run "$TEND" "$a" "$@" --silent
		expect_rc 0 "$a --silent"
		[ -z "$OUT" ] || fail "$a --silent printed: $(_show "$OUT")"
	done
	run "$TEND" jlist -s
	expect_rc 0
	expect_out_has '"name":"quiet"'
	run "$TEND" pid quiet --silent
	[ "$OUT" = "$(jl "by('quiet')[0]['pid']")" ] || fail "pid --silent gave '$OUT'"
	run env PM2_SILENT=true "$TEND" restart quiet
	expect_rc 0 "restart with PM2_SILENT"
	[ -z "$OUT" ] || fail "restart with PM2_SILENT printed the table: $(_show "$OUT")"
	run env PM2_SILENT=1 "$TEND" list
	[ -z "$OUT" ] || fail "list with PM2_SILENT printed: $(_show "$OUT")"
	run "$TEND" -s list   # before the applet, as "pm2 -s list"
	expect_rc 0 "tend -s list"
	[ -z "$OUT$ERR" ] || fail "tend -s list printed: $(_show "$OUT$ERR")"
	run "$TEND" --silent jlist
	expect_out_has '"name":"quiet"'
	run "$TEND" describe no-such-app -s
	expect_rc 1 "describe of a missing app with -s"
	expect_err_has "no-such-app"
	# after "--", -s is the app's argument
	run "$TEND" start sh -n quiet-args -s -- -c 'sleep 1000' -s
	expect_rc 0 "start with -s after --"
	[ "$(jl "by('quiet-args')[0]['pm2_env']['args'][-1]")" = "-s" ] || fail "the app lost its -s argument"
	"$TEND" delete quiet quiet-args -s
}
part "-s everywhere" silent_everywhere

part_report
exit 0
