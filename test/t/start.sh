# start: interpreters and logs, the app's environment, instances, --cwd, pid files,
# app arguments, --interpreter/--interpreter-args, smart start and -f, bad input,
# --uid, and what an app inherits (fds, stdin, session).
. "$TEND_TOP/test/lib.sh"

L=$TEND_HOME/logs
A=$T/apps
mkdir "$A"
cd "$T" || fail "cannot cd to $T"

# An fd the first tend call (the one that spawns the daemon) holds: it must not reach
# the daemon's apps. Checked at the end, with the other descriptor checks.
exec 7>"$T/inherited-fd"

# ---- bad input: right exit status, one line on stderr, nothing registered --------
printf 'console.log("x")\n' >"$A/ok.js"
echo 'just text' >"$A/data.xyz"   # no known extension, not executable

bad() { # bad RC ERE ARGS...
	want_rc=$1 want_err=$2
	shift 2
	run "$TEND" start "$@"
	expect_rc "$want_rc" "start $*: exit status"
	expect_err_line "$want_err"
	[ -z "$OUT" ] || fail "start $*: failed, yet printed on stdout: $(_show "$OUT")"
}
bad 2 '^tend: start: .*nonexistent\.js.*(No such file|not found)' "$A/nonexistent.js"
bad 2 '^tend: start: .*no-such-interp.*not found' "$A/ok.js" --interpreter no-such-interp
bad 2 '^tend: start: .*data\.xyz.*not executable' "$A/data.xyz"
bad 2 '^tend: start: unknown option --bogus' "$A/ok.js" --bogus
bad 2 '^tend: start: --instances: .*four' "$A/ok.js" -i four
bad 2 '^tend: start: --min-uptime: .*5x' "$A/ok.js" --min-uptime 5x
bad 2 '^tend: start: --kill-signal: .*SIGNOPE' "$A/ok.js" --kill-signal SIGNOPE
bad 2 '^tend: start: no script given'
bad 2 "^tend: start: --name: '\\.\\.' must not be \\. or \\.\\.$" "$A/ok.js" --name ..
bad 2 '^tend: start: --uid: no such user' "$A/ok.js" --uid no-such-user-xyz
bad 2 '^tend: start: --cwd .*not a directory' "$A/ok.js" --cwd "$T/no-such-dir"
run "$TEND" jlist
expect_rc 0
[ "$OUT" = "[]" ] || fail "bad starts registered something: $(_show "$OUT")"

# ---- every installed interpreter: stdout and stderr reach the log files --------------
printf 'console.log("out-js"); console.error("err-js"); setInterval(() => {}, 1000);\n' >"$A/js.js"
printf 'import sys, time\nprint("out-py")\nprint("err-py", file=sys.stderr)\ntime.sleep(1000)\n' >"$A/py.py"
printf 'echo "out-sh $BASH_VERSION"; echo err-sh >&2; exec sleep 1000\n' >"$A/sh.sh"
printf '$| = 1; print "out-pl\\n"; print STDERR "err-pl\\n"; sleep 1000;\n' >"$A/pl.pl"
printf '#!/bin/sh\necho out-bin; echo err-bin >&2; exec sleep 1000\n' >"$A/bin-app"
chmod +x "$A/bin-app"

apps=
for spec in js:node py:python3 sh:bash pl:perl; do
	name=${spec%%:*} interp=${spec#*:}
	if ! command -v "$interp" >/dev/null 2>&1; then
		echo "note: $interp not installed, .$name not tested"
		continue
	fi
	# Python: tend itself must make stdout unbuffered, whatever the caller's environment.
	run env -u PYTHONUNBUFFERED "$TEND" start "$A/$name.$name" -s
	expect_rc 0 "start $name.$name: exit status"
	[ -z "$OUT" ] || fail "start -s printed: $(_show "$OUT")"
	jl_is "by('$name')[0]['pm2_env']['exec_interpreter'].rsplit('/', 1)[-1]" "$interp" ".$name interpreter"
	apps="$apps $name"
done
run "$TEND" start "$A/bin-app" -s
expect_rc 0
jl_is "by('bin-app')[0]['pm2_env']['exec_interpreter']" none "an executable runs directly"
run "$TEND" start "echo out-cmd; echo err-cmd >&2; exec sleep 1000" -n cmd -s
expect_rc 0
for name in $apps bin cmd; do
	log=$name
	[ "$name" = bin ] && log=bin-app
	wait_for 10 grep -qx "out-$name.*" "$L/$log-out.log"
	wait_for 10 grep -qx "err-$name" "$L/$log-error.log"
	! grep -q "err-$name" "$L/$log-out.log" || fail "$name: stderr went to the out log"
	! grep -q "out-$name" "$L/$log-error.log" || fail "$name: stdout went to the error log"
done
grep -q 'out-sh [0-9]' "$L/sh-out.log" || fail ".sh did not run under bash: $(cat "$L/sh-out.log")"
jl_is "sorted(set(p['pm2_env']['status'] for p in d))" '["online"]' "every app runs"
jl_is "len(d)" "$(( $(echo $apps | wc -w) + 2 ))" "one entry per app"

# ---- the environment: tend's variables and the caller's -------------------------------
printf 'env >"$1.tmp" && mv "$1.tmp" "$1"; exec sleep 1000\n' >"$A/envdump.sh"
export TEND_T_VAR='spaced "quoted" $dollar'
# A caller's own pm_id/name must not hide tend's.
run env pm_id=999 name=impostor "$TEND" start "$A/envdump.sh" -s -- "$T/env.txt"
unset TEND_T_VAR
expect_rc 0
wait_for 10 test -s "$T/env.txt"
id=$(jl "by('envdump')[0]['pm_id']")
grep -qx "pm_id=$id" "$T/env.txt" || fail "app env lacks pm_id=$id: $(grep pm_id "$T/env.txt")"
grep -qx "name=envdump" "$T/env.txt" || fail "app env lacks name=envdump: $(grep '^name=' "$T/env.txt")"
grep -qx "NODE_APP_INSTANCE=0" "$T/env.txt" || fail "app env lacks NODE_APP_INSTANCE=0"
grep -qxF 'TEND_T_VAR=spaced "quoted" $dollar' "$T/env.txt" || fail "the caller's variable did not reach the app: $(grep TEND_T_VAR "$T/env.txt")"
[ "$(grep -c '^pm_id=' "$T/env.txt")" = 1 ] || fail "pm_id set more than once in the app env"
jl_is "by('envdump')[0]['pm2_env']['env']['TEND_T_VAR']" 'spaced "quoted" $dollar' "jlist env"

# ---- -i 3: three instances, NODE_APP_INSTANCE 0..2, a log file pair each ----------------
printf 'echo "instance=$NODE_APP_INSTANCE pm_id=$pm_id name=$name"; exec sleep 1000\n' >"$A/inst.sh"
run "$TEND" start "$A/inst.sh" -i 3 -s
expect_rc 0
jl_is "len(by('inst'))" 3 "-i 3"
jl_is "sorted(p['pm2_env']['NODE_APP_INSTANCE'] for p in by('inst'))" "[0, 1, 2]" "-i 3 instance numbers"
jl_is "sorted(set(p['pm2_env']['instances'] for p in by('inst')))" "[3]" "-i 3 instances field"
jl_is "len(set(p['pid'] for p in by('inst') if p['pid'] > 0))" 3 "-i 3: three live pids"
for line in $(jl "' '.join('%d:%d:%d' % (p['pm_id'], p['pm2_env']['NODE_APP_INSTANCE'], p['pid']) for p in by('inst'))"); do
	id=${line%%:*} rest=${line#*:}
	k=${rest%%:*} pid=${rest#*:}
	wait_for 10 grep -qx "instance=$k pm_id=$id name=inst" "$L/inst-out-$id.log"
	[ -f "$L/inst-error-$id.log" ] || fail "no $L/inst-error-$id.log"
	[ "$(cat "$TEND_HOME/pids/inst-$id.pid" 2>/dev/null)" = "$pid" ] || fail "pids/inst-$id.pid does not hold $pid"
	alive "$pid" || fail "instance $id (pid $pid) is not alive"
done
[ ! -e "$L/inst-out.log" ] || fail "with 3 instances, inst-out.log should not exist"

# -i max and 0: one instance per CPU; -1: one less (at least one).
ncpu=$(getconf _NPROCESSORS_ONLN)
less=$((ncpu > 1 ? ncpu - 1 : 1))
for spec in "max:$ncpu" "0:$ncpu" "-1:$less"; do
	n=${spec%%:*} want=${spec#*:}
	run "$TEND" start sleep -n "cpus$n" -i "$n" -s -- 1000
	expect_rc 0 "-i $n"
	jl_is "len(by('cpus$n'))" "$want" "-i $n with $ncpu CPUs"
	jl_is "sorted(set(p['pm2_env']['status'] for p in by('cpus$n')))" '["online"]' "-i $n status"
	run "$TEND" delete "cpus$n" -s
	expect_rc 0
done

# ---- --cwd, -p pidfile, app arguments after -- ------------------------------------------
mkdir "$T/wd"
printf 'pwd >cwd-seen.txt; printf "[%%s]\\n" "$@"; exec sleep 1000\n' >"$A/where.sh"
# After --, words that look like options (and an empty one) are the app's, verbatim.
run "$TEND" start "$A/where.sh" --cwd "$T/wd" -p my.pid -s -- "one two" three -n --bogus ""
expect_rc 0
wait_for 10 test -s "$T/wd/cwd-seen.txt"
[ "$(cat "$T/wd/cwd-seen.txt")" = "$(cd "$T/wd" && pwd -P)" ] || fail "--cwd: app ran in $(cat "$T/wd/cwd-seen.txt")"
jl_is "by('where')[0]['pm2_env']['pm_cwd']" "$T/wd" "--cwd in jlist"
pid=$(jl "by('where')[0]['pid']")
id=$(jl "by('where')[0]['pm_id']")
# PM2's naming: my.pid becomes my-ID.pid, whatever the number of instances.
wait_for 5 test -s "$T/my-$id.pid"
[ "$(cat "$T/my-$id.pid")" = "$pid" ] || fail "-p my.pid: my-$id.pid holds '$(cat "$T/my-$id.pid")', app pid is $pid"
jl_is "by('where')[0]['pm2_env']['pm_pid_path']" "$(pwd -P)/my-$id.pid" "-p (relative to the caller's directory) in jlist"
wait_for 10 grep -qx '\[\]' "$L/where-out.log"
[ "$(cat "$L/where-out.log")" = "$(printf '[one two]\n[three]\n[-n]\n[--bogus]\n[]')" ] || fail "app arguments: $(cat "$L/where-out.log")"
jl_is "by('where')[0]['pm2_env']['args']" '["one two", "three", "-n", "--bogus", ""]' "args in jlist"
jl_is "len(by('where'))" 1 "-n after -- named an app"

# ---- --interpreter none / bash, --interpreter-args --------------------------------------
# A .sh file that is really a node script: only --interpreter none runs it right.
printf '#!/usr/bin/env node\nconsole.log("node-ran-sh-file"); setInterval(() => {}, 1000);\n' >"$A/nodefile.sh"
chmod +x "$A/nodefile.sh"
run "$TEND" start "$A/nodefile.sh" --interpreter none -s
expect_rc 0
wait_for 10 grep -qx node-ran-sh-file "$L/nodefile-out.log"
jl_is "by('nodefile')[0]['pm2_env']['exec_interpreter']" none "--interpreter none"
# A .js file that is really a shell script, run with --interpreter bash.
printf 'echo "bash-ran ${BASH_VERSION:-none}"; exec sleep 1000\n' >"$A/shellfile.js"
run "$TEND" start "$A/shellfile.js" --interpreter bash -s
expect_rc 0
wait_for 10 grep -q '^bash-ran [0-9]' "$L/shellfile-out.log"
jl_is "by('shellfile')[0]['pm2_env']['exec_interpreter'].rsplit('/', 1)[-1]" bash "--interpreter bash"
printf 'console.log("argv " + JSON.stringify(process.execArgv)); setInterval(() => {}, 1000);\n' >"$A/iargs.js"
run "$TEND" start "$A/iargs.js" --interpreter-args "--max-old-space-size=64 --no-deprecation" -s
expect_rc 0
wait_for 10 grep -qxF 'argv ["--max-old-space-size=64","--no-deprecation"]' "$L/iargs-out.log"
jl_is "by('iargs')[0]['pm2_env']['node_args']" '["--max-old-space-size=64", "--no-deprecation"]' "--interpreter-args in jlist"

# ---- smart start: running → error; stopped → restarted in place; -f → a second copy -----
printf 'while :; do sleep 0.2; done\n' >"$A/smart.sh"
run "$TEND" start "$A/smart.sh" -s
expect_rc 0
smart_id=$(jl "by('smart')[0]['pm_id']")
spid=$(jl "by('smart')[0]['pid']")
run "$TEND" start "$A/smart.sh"
expect_rc 1 "starting a running name again"
expect_err_line '^tend: start: smart: already running'
jl_is "len(by('smart'))" 1 "a refused start added an instance"
jl_is "by('smart')[0]['pid']" "$spid" "a refused start touched the running instance"
run "$TEND" stop smart -s
expect_rc 0
jl_is "by('smart')[0]['pm2_env']['status']" stopped "after stop"
dead "$spid" || fail "stopped app (pid $spid) is still alive"
run "$TEND" start "$A/smart.sh" -s
expect_rc 0 "starting a stopped name"
jl_is "len(by('smart'))" 1 "starting a stopped name added an instance"
jl_is "by('smart')[0]['pm_id']" "$smart_id" "starting a stopped name: pm_id"
jl_is "by('smart')[0]['pm2_env']['status']" online "starting a stopped name: status"
spid2=$(jl "by('smart')[0]['pid']")
[ "$spid2" != "$spid" ] && alive "$spid2" || fail "restarted smart has pid $spid2 (old $spid)"
run "$TEND" start "$A/smart.sh" -f -s
expect_rc 0 "-f on a running name"
jl_is "len(by('smart'))" 2 "-f starts a duplicate"
jl_is "sorted(set(p['pm2_env']['status'] for p in by('smart')))" '["online"]' "-f duplicate status"
jl_is "len(set(p['pm_id'] for p in by('smart')))" 2 "-f duplicate gets its own pm_id"

# ---- --uid nobody (as root): the app runs as that user -----------------------------------
if [ "$(id -u)" = 0 ] && nuid=$(id -u nobody 2>/dev/null); then
	run "$TEND" start sleep -n asnobody --uid nobody -s -- 1000
	expect_rc 0 "--uid nobody"
	pid=$(jl "by('asnobody')[0]['pid']")
	uids=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	[ "$uids" = "$nuid $nuid $nuid $nuid" ] || fail "--uid nobody: Uid line is '$uids', expected $nuid x4"
	ngid=$(id -g nobody)
	gids=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status")
	[ "$gids" = "$ngid $ngid $ngid $ngid" ] || fail "--uid nobody: Gid line is '$gids', expected $ngid x4"
	jl_is "by('asnobody')[0]['pm2_env']['username']" nobody "--uid in jlist"
	# A node app as nobody: node runs the preload, which the 0700 home keeps from
	# nobody; it gets a copy it can read (/run/tend, root's, by build).
	mkdir "$T/pub" && chmod 755 "$T" "$T/pub"
	printf 'console.log("uid=" + process.getuid()); setInterval(() => {}, 1000);\n' >"$T/pub/who.js"
	chmod 644 "$T/pub/who.js"
	run "$TEND" start "$T/pub/who.js" -n nodenobody --uid nobody -s
	expect_rc 0 "node app with --uid nobody"
	wait_for 10 grep -q "^uid=$nuid$" "$TEND_HOME/logs/nodenobody-out.log"
	jl_is "by('nodenobody')[0]['pm2_env']['status']" online "node app as nobody"
else
	echo "note: not root or no user nobody: --uid not tested"
fi

# ---- what an app inherits: stdin /dev/null, its own session ------------------------------
run "$TEND" start sleep -n sleeper -s -- 1000
expect_rc 0
pid=$(jl "by('sleeper')[0]['pid']")
alive "$pid" || fail "sleeper (pid $pid) is not alive"
[ "$(readlink "/proc/$pid/fd/0")" = /dev/null ] || fail "stdin is $(readlink "/proc/$pid/fd/0"), not /dev/null"
sid=$(sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $4}')   # field 6 of stat
[ "$sid" = "$pid" ] || fail "app session id is $sid, expected its own pid $pid"
case $(readlink "/proc/$pid/fd/1") in pipe:*) ;; *) fail "stdout is $(readlink "/proc/$pid/fd/1"), expected a pipe to the daemon" ;; esac

# ---- independent checks: each runs in a subshell, so that one failing does not hide the
# others; every failure is reported at the end ---------------------------------------------

# PM2's smart start by name and by id: `pm2 start NAME|ID` restarts a known app.
start_by_name() {
	run "$TEND" stop smart -s
	expect_rc 0
	mkdir -p "$T/elsewhere"
	cd "$T/elsewhere" || fail "cd"
	run "$TEND" start smart -s
	expect_rc 0 "start NAME of a stopped app"
	jl_is "len(by('smart'))" 2 "start NAME added instances"
	jl_is "sorted(set(p['pm2_env']['status'] for p in by('smart')))" '["online"]' "start NAME: status"
	run "$TEND" stop "$smart_id" -s
	expect_rc 0
	run "$TEND" start "$smart_id" -s
	expect_rc 0 "start ID of a stopped app"
	jl_is "[p['pm2_env']['status'] for p in d if p['pm_id'] == $smart_id]" '["online"]' "start ID: status"
}

# No descriptor of the daemon, or of the shell that started it, leaks into an app.
app_fds() {
	fds=$(ls "/proc/$pid/fd" | sort -n | tr '\n' ' ')
	[ "$fds" = "0 1 2 " ] && return 0
	detail=
	for f in $fds; do
		case $f in 0|1|2) continue ;; esac
		detail="$detail $f->$(readlink "/proc/$pid/fd/$f")"
	done
	fail "app (sleep, pid $pid) has fds '$fds', expected exactly 0 1 2; extra:$detail"
}

# The daemon does not keep the descriptors of the tend call that spawned it.
daemon_fds() {
	dpid=$(cat "$TEND_HOME/tend.pid")
	alive "$dpid" || fail "no daemon at pid $dpid"
	for f in /proc/"$dpid"/fd/*; do
		[ "$(readlink "$f")" = "$T/inherited-fd" ] &&
			fail "the daemon kept fd ${f##*/} of the shell that started it ($T/inherited-fd)"
	done
	return 0
}

# An exec that fails in the child (a bad #! line) is reported by start, exit 1, and
# the app is errored rather than restarted in a loop.
exec_failure() {
	printf '#!/nonexistent/interpreter\necho never\n' >"$T/badshebang"
	chmod +x "$T/badshebang"
	run "$TEND" start "$T/badshebang" -n badexec -s
	expect_rc 1
	expect_err_line '^tend: start: badexec\[[0-9]+\] errored: exec .*badshebang: No such file or directory$'
	status_is badexec errored || fail "badexec is $(jget badexec 'e["status"]')"
	# a second one goes through the same failure meanwhile: time enough for a restart
	run "$TEND" start "$T/badshebang" -n badexec2 -s
	expect_rc 1
	[ "$(jget badexec 'e["restart_time"]')" = 0 ] || fail "a failed exec was restarted"
	"$TEND" delete badexec badexec2 -s
}

part "exec failure" exec_failure
part "start by name/id" start_by_name
part "app fds" app_fds
part "daemon fds" daemon_fds
part_report
exit 0
