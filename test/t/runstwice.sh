# Nothing runs twice: what a killed daemon left running is found by every later daemon
# until it is replaced (also with a custom pid_file), and a daemon's death is reported.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
mkdir piddir
cat >apps.json <<EOF
[{"name": "web", "script": "/bin/sleep", "args": ["1000"], "instances": 2, "exec_mode": "fork"},
 {"name": "custom", "script": "/bin/sleep", "args": ["1001"], "pid_file": "$T/piddir/custom.pid"},
 {"name": "plain", "script": "/bin/sleep", "args": ["1002"]}]
EOF
# The app processes of this home: sleeps whose environment names it.
count_apps() {
	n=0
	for p in /proc/[0-9]*; do
		{ tr '\0' '\n' <"$p/environ"; } 2>/dev/null | grep -qx "TEND_HOME=$TEND_HOME" || continue
		case $(cat "$p/comm" 2>/dev/null) in sleep) n=$((n + 1)) ;; esac
	done
	echo $n
}
"$TEND" start apps.json -s || fail "start"
"$TEND" save >/dev/null || fail "save"
[ "$(count_apps)" = 4 ] || fail "$(count_apps) app processes at first, expected 4"
[ -s piddir/custom-2.pid ] || fail "no custom pid file (custom-2.pid, PM2's naming)"
old=$("$TEND" pid | grep -v '^0$' | sort)
for p in $old; do track_pid "$p"; done

# kill -9, a command that starts a new daemon (which finds the orphans), kill -9 again.
d1=$(cat "$TEND_HOME/tend.pid")
kill -9 "$d1"
wait_for 5 dead "$d1"
run "$TEND" list
expect_rc 0
expect_err_has "the previous daemon (pid $d1) ended without shutting down"
expect_err_has "4 of its app processes still run"
grep -q "custom: pid .* was left running" "$TEND_HOME/tend.log" || fail "the custom pid_file app was not found"
d2=$(cat "$TEND_HOME/tend.pid")
kill -9 "$d2"
wait_for 5 dead "$d2"
run "$TEND" ping
expect_err_has "4 of its app processes still run"
# resurrect replaces the four, rather than starting four more.
run "$TEND" resurrect -s
expect_rc 0
for p in $old; do wait_for 10 dead "$p"; done
[ "$(count_apps)" = 4 ] || fail "$(count_apps) app processes after two kill -9 and resurrect, expected 4"
[ "$(jl 'len([p for p in d if p["pm2_env"]["status"] == "online"])')" = 4 ] || fail "not 4 online"
new=$(cat piddir/custom-*.pid)
[ "$new" = "$(jget custom 'p["pid"]')" ] || fail "custom pid file $new is not the new process"
# Once replaced, they are forgotten: the next daemon finds nothing of the old ones.
"$TEND" kill
run "$TEND" ping
case $ERR in *"still run"*) fail "replaced orphans were found again: $ERR" ;; esac
[ "$(count_apps)" = 0 ] || fail "$(count_apps) app processes after kill"
ls "$TEND_HOME/pids" | grep -q . && fail "pid records left after kill: $(ls "$TEND_HOME/pids")"

# A daemon that dies of a fatal signal says so, in its log and to the next command.
if ! is_asan; then
	d3=$(cat "$TEND_HOME/tend.pid")
	kill -SEGV "$d3"
	wait_for 5 dead "$d3"
	grep -q "daemon $d3: fatal signal SIGSEGV" "$TEND_HOME/tend.log" || fail "no fatal line in tend.log"
	run "$TEND" ping
	expect_rc 0
	expect_err_line "^tend: ping: the previous daemon \\(pid $d3\\) died of SIGSEGV at "
	grep -q "the previous daemon (pid $d3) died of SIGSEGV" "$TEND_HOME/tend.log" || fail "not in the new daemon's log"
	run "$TEND" ping
	[ -z "$ERR" ] || fail "told twice: $ERR"
fi
