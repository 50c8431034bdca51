# Invoked as pm2 (a symlink): $PM2_HOME (default ~/.pm2) with PM2's file names
# (pm2.pid, pm2.log, logs/, pids/NAME-ID.pid), never $TEND_HOME;
# PM2_PID_FILE_PATH / PM2_LOG_FILE_PATH move the daemon's pid file and log.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"
mkdir "$T/bin"
ln -s "$TEND" "$T/bin/pm2"
PM2=$T/bin/pm2
H=$T/home-pm2   # lib.sh's cleanup stops the daemon of every $T/home* (its tend.sock)
export PM2_HOME="$H"
real_tend=$(readlink -f "$TEND")


# ---- pm2 start: the daemon lives in $PM2_HOME, with PM2's names -------------------------
[ -n "$TEND_HOME" ] || fail "lib.sh should have set TEND_HOME"
run "$PM2" start "echo hello-pm2; echo oops-pm2 >&2; exec sleep 1000" -n pz
expect_rc 0 "pm2 start"
expect_out_has "pz"
[ -S "$H/tend.sock" ] || fail "no socket $H/tend.sock"
[ -f "$H/pm2.pid" ] || fail "no $H/pm2.pid: $(ls "$H")"
dpid=$(cat "$H/pm2.pid")
case $dpid in '' | *[!0-9]*) fail "pm2.pid holds '$dpid'" ;; esac
track_pid "$dpid"
alive "$dpid" || fail "the daemon in pm2.pid ($dpid) is not alive"
[ "$(readlink -f "/proc/$dpid/exe")" = "$real_tend" ] || fail "pid $dpid is not tend: $(readlink "/proc/$dpid/exe")"
[ -f "$H/pm2.log" ] || fail "no $H/pm2.log"
grep -q "$dpid" "$H/pm2.log" || fail "pm2.log does not mention daemon $dpid: $(head -c 300 "$H/pm2.log")"
for f in tend.pid tend.log; do
	[ ! -e "$H/$f" ] || fail "pm2 mode wrote $H/$f (PM2's name is ${f%%.*}→pm2)"
done
[ ! -e "$TEND_HOME" ] || fail "invoked as pm2, tend used TEND_HOME ($TEND_HOME): $(ls -A "$TEND_HOME")"
wait_for 10 grep -qx hello-pm2 "$H/logs/pz-out.log"
wait_for 10 grep -qx oops-pm2 "$H/logs/pz-error.log"

# pm2 jlist: the app, with PM2 paths under $PM2_HOME.
run "$PM2" jlist
expect_rc 0
printf '%s\n' "$OUT" >"$T/jlist.json"
[ "$(jl_file "$T/jlist.json" "[(p['name'], p['pm2_env']['status']) for p in d]")" = '[["pz", "online"]]' ] ||
	fail "pm2 jlist: $(_show "$OUT")"
apid=$(jl_file "$T/jlist.json" "by('pz')[0]['pid']")
id=$(jl_file "$T/jlist.json" "by('pz')[0]['pm_id']")
track_pid "$apid"
alive "$apid" || fail "app pid $apid is not alive"
[ "$id" = 0 ] || fail "first app's pm_id is $id"
[ -f "$H/pids/pz-0.pid" ] || fail "no $H/pids/pz-0.pid: $(ls "$H/pids")"
[ "$(cat "$H/pids/pz-0.pid")" = "$apid" ] || fail "pids/pz-0.pid holds '$(cat "$H/pids/pz-0.pid")', app pid is $apid"
[ "$(jl_file "$T/jlist.json" "by('pz')[0]['pm2_env']['pm_out_log_path']")" = "$H/logs/pz-out.log" ] || fail "pm_out_log_path not under PM2_HOME"
[ "$(jl_file "$T/jlist.json" "by('pz')[0]['pm2_env']['pm_err_log_path']")" = "$H/logs/pz-error.log" ] || fail "pm_err_log_path not under PM2_HOME"
[ "$(jl_file "$T/jlist.json" "by('pz')[0]['pm2_env']['pm_pid_path']")" = "$H/pids/pz-0.pid" ] || fail "pm_pid_path not under PM2_HOME"
run "$PM2" ls -m
expect_rc 0
expect_out "0 pz online $apid"
run "$PM2" pid pz
expect_rc 0
expect_out "$apid"

# The same binary as tend, with TEND_HOME: a different home, which knows nothing of pz.
run "$TEND" jlist
expect_rc 0
expect_out "[]"
[ -S "$TEND_HOME/tend.sock" ] || fail "tend did not use TEND_HOME"
tdpid=$(cat "$TEND_HOME/tend.pid")
track_pid "$tdpid"
[ "$tdpid" != "$dpid" ] || fail "tend and pm2 share a daemon"
run "$TEND" kill
expect_rc 0
wait_for 10 dead "$tdpid"
alive "$dpid" || fail "tend kill stopped the pm2 daemon"

# ---- pm2 kill: the app and the daemon stop; socket and pid file go ------------------------
run "$PM2" kill
expect_rc 0 "pm2 kill"
wait_for 10 dead "$dpid"
dead "$apid" || fail "pm2 kill left the app (pid $apid) running"
[ ! -e "$H/pm2.pid" ] || fail "pm2 kill left $H/pm2.pid"
[ ! -e "$H/tend.sock" ] || fail "pm2 kill left $H/tend.sock"
[ -f "$H/logs/pz-out.log" ] || fail "pm2 kill removed the app's log"
run "$PM2" kill
expect_rc 0 "pm2 kill with no daemon"

# ---- PM2_PID_FILE_PATH / PM2_LOG_FILE_PATH move the daemon's pid file and log ----------------
export PM2_PID_FILE_PATH="$T/custom.pid" PM2_LOG_FILE_PATH="$T/custom.log"
run "$PM2" start sleep -n pc -s -- 1000
expect_rc 0 "pm2 start with PM2_PID_FILE_PATH"
[ -f "$T/custom.pid" ] || fail "no daemon pid file at PM2_PID_FILE_PATH ($T/custom.pid)"
cpid=$(cat "$T/custom.pid")
case $cpid in '' | *[!0-9]*) fail "custom.pid holds '$cpid'" ;; esac
track_pid "$cpid"
alive "$cpid" || fail "the daemon in custom.pid ($cpid) is not alive"
[ "$(readlink -f "/proc/$cpid/exe")" = "$real_tend" ] || fail "pid $cpid is not tend"
[ ! -e "$H/pm2.pid" ] || fail "with PM2_PID_FILE_PATH, $H/pm2.pid was written too"
[ -f "$T/custom.log" ] && grep -q "$cpid" "$T/custom.log" || fail "daemon log not at PM2_LOG_FILE_PATH"
run "$PM2" pid pc
expect_rc 0
track_pid "$OUT"
[ "$(cat "$H/pids/pc-0.pid")" = "$OUT" ] || fail "pids/pc-0.pid does not hold the app pid $OUT"
run "$PM2" kill
expect_rc 0
wait_for 10 dead "$cpid"
[ ! -e "$T/custom.pid" ] || fail "pm2 kill left PM2_PID_FILE_PATH ($T/custom.pid)"
unset PM2_PID_FILE_PATH PM2_LOG_FILE_PATH

# ---- no PM2_HOME: ~/.pm2 ---------------------------------------------------------------------
FH=$T/home-fake   # a fake $HOME; its .pm2 is stopped below (and by track_pid)
mkdir "$FH"
run env -u PM2_HOME HOME="$FH" "$PM2" ping
expect_rc 0 "pm2 ping without PM2_HOME"
expect_out_has "pong"
[ -f "$FH/.pm2/pm2.pid" ] || fail "without PM2_HOME, no \$HOME/.pm2/pm2.pid: $(ls -A "$FH")"
fpid=$(cat "$FH/.pm2/pm2.pid")
track_pid "$fpid"
alive "$fpid" || fail "the daemon in ~/.pm2/pm2.pid is not alive"
[ -S "$FH/.pm2/tend.sock" ] || fail "no ~/.pm2/tend.sock"
[ ! -e "$FH/.tend" ] || fail "pm2 mode created ~/.tend"
run env -u PM2_HOME HOME="$FH" "$PM2" kill
expect_rc 0
wait_for 10 dead "$fpid"

# ---- a relative PM2_HOME ------------------------------------------------------------------
# It must name the same directory for the daemon (which runs in /) as for the caller. The
# caller runs in $T/x with PM2_HOME=REL; were the daemon to resolve REL from /, it would
# land in $T/home-rel (lib.sh's cleanup stops it there) instead of $T/x/REL.
rel_home() {
	rel=${T#/}/home-rel
	mkdir -p "$T/x"
	want=$T/x/$rel
	run sh -c 'cd "$1" && PM2_HOME="$2" timeout 20 "$3" ping' sh "$T/x" "$rel" "$PM2"
	[ -f "$T/home-rel/pm2.pid" ] && track_pid "$(cat "$T/home-rel/pm2.pid")"
	[ -f "$want/pm2.pid" ] && track_pid "$(cat "$want/pm2.pid")"
	expect_rc 0 "pm2 ping with a relative PM2_HOME"
	expect_out_has pong
	[ -S "$want/tend.sock" ] || fail "relative PM2_HOME: no socket in $want"
	[ ! -e "$T/home-rel" ] || fail "relative PM2_HOME was resolved from / by the daemon"
	rpid=$(cat "$want/pm2.pid")
	alive "$rpid" || fail "relative PM2_HOME: daemon $rpid not alive"
	run env PM2_HOME="$want" "$PM2" kill
	expect_rc 0
	wait_for 10 dead "$rpid"
}
if [ ${#T} -lt 30 ]; then
	rel_home
else
	echo "note: \$T too long for a nested socket path: relative PM2_HOME not tested"
fi
exit 0
