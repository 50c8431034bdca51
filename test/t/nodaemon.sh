# --no-daemon and the daemon applet: the supervisor in the foreground, for containers.
. "$TEND_TOP/test/lib.sh"

cat >"$T/app.sh" <<'SH'
trap 'echo "bye"; exit 0' INT
echo "up $$"
while :; do sleep 0.05; done
SH
"$TEND" start "$T/app.sh" -n fg --no-daemon >"$T/fg.out" 2>&1 &
fg=$!
track_pid $fg
wait_for 5 test -S "$TEND_HOME/tend.sock"
wait_for 5 status_is fg online
[ "$(cat "$TEND_HOME/tend.pid")" = "$fg" ] || fail "the foreground process is not the daemon"
app=$(jget fg 'p["pid"]')
wait_for 5 grep -q "up $app" "$TEND_HOME/logs/fg-out.log"
# Other commands talk to it as to any daemon.
run "$TEND" start "sleep 1000" -n other -s
expect_rc 0
other=$(jget other 'p["pid"]')
# The daemon's log goes to stdout.
grep -q "daemon $fg started" "$T/fg.out" || fail "no daemon log on stdout: $(cat "$T/fg.out")"
# SIGTERM: every app stopped, then it exits 0.
kill -TERM "$fg"
wait "$fg"
rc=$?
[ "$rc" = 0 ] || fail "foreground daemon exited $rc"
dead "$app" || fail "app $app survived"
dead "$other" || fail "app $other survived"
grep -q bye "$TEND_HOME/logs/fg-out.log" || fail "app not stopped gracefully"
[ ! -e "$TEND_HOME/tend.sock" ] || fail "socket left behind"

# A bad app in --no-daemon: a clear error, exit 2 (bad input), no daemon left running.
run "$TEND" start "$T/missing.sh" --no-daemon
expect_rc 2
expect_err_line "missing.sh: No such file or directory"

# tend daemon: same loop, SIGINT ends it.
"$TEND" daemon >"$T/d.out" 2>&1 &
d=$!
track_pid $d
wait_for 5 test -S "$TEND_HOME/tend.sock"
"$TEND" start "sleep 1000" -n s -s
s=$(jget s 'p["pid"]')
kill -INT "$d"
wait "$d"
[ $? = 0 ] || fail "tend daemon did not exit 0 on SIGINT"
dead "$s" || fail "app survived the daemon"
run "$TEND" daemon extra
expect_rc 2
