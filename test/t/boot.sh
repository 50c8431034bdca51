# The services startup writes, run by the real supervisors: runit (runsvdir), s6
# (s6-svscan) and BusyBox init as PID 1 of a PID namespace. Each brings tend up in the
# foreground, which resurrects the saved apps (the stopped one stays stopped); stopping
# the service stops the apps and leaves the dump as it was; starting it again brings them
# back (a reboot). And systemd's side of Type=notify: READY=1 comes once the apps are
# back, STOPPING=1 when they are being stopped.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"
for tool in runsvdir sv s6-svscan s6-svc busybox unshare; do
	command -v "$tool" >/dev/null || fail "$tool is needed (runit, s6, busybox, util-linux: test/packages)"
done
H=$T/h
export TEND_HOME="$H/.tend"

# the apps to bring back: a runs, b is stopped
"$TEND" start "sleep 1000" -n a -s || fail "start a"
"$TEND" start "sleep 1000" -n b -s || fail "start b"
"$TEND" stop b -s || fail "stop b"
"$TEND" save -s || fail "save"
"$TEND" kill >/dev/null || fail "kill"
dump=$(md5sum <"$TEND_HOME/dump.json")

socket_up() { [ -S "$TEND_HOME/tend.sock" ]; }
apps_back() { [ "$(jl '[(p["name"], p["pm2_env"]["status"]) for p in d]')" = '[["a", "online"], ["b", "stopped"]]' ]; }
# wait for the service's daemon (its socket first: a client must not start one of its own)
wait_back() {
	wait_for 30 socket_up
	wait_for 30 apps_back
}
daemon_pid() { cat "$TEND_HOME/tend.pid"; }
parent_comm() { ps -o comm= -p "$(ps -o ppid= -p "$1" | tr -d ' ')"; }
# after a stop: the daemon and the app gone, the dump untouched
# (named waits, so that a timeout says which process did not end)
daemon_dead() { dead "$1"; }
app_dead() { dead "$1"; }
supervisor_dead() { dead "$1"; }
namespace_dead() { dead "$1"; }
check_stopped() { # check_stopped DAEMON_PID APP_PID WHAT
	wait_for 30 daemon_dead "$1"
	wait_for 30 app_dead "$2"
	[ "$(md5sum <"$TEND_HOME/dump.json")" = "$dump" ] || fail "$3 changed the dump"
}

# cycle KIND PARENT DOWN UP END: under its supervisor (PARENT), the service brought the
# apps back; DOWN stops them and keeps the dump, UP brings them back, END (the supervisor
# going away) stops them again
cycle() {
	wait_back
	d1=$(daemon_pid)
	[ "$(parent_comm "$d1")" = "$2" ] || fail "$1: the daemon's parent is $(parent_comm "$d1"), not $2"
	a1=$(jget a 'p["pid"]')
	eval "$3" >/dev/null || fail "$1: $3"
	check_stopped "$d1" "$a1" "$1: $3"
	eval "$4" >/dev/null || fail "$1: $4"
	wait_back
	[ "$(jget a 'p["pid"]')" != "$a1" ] || fail "$1: a was not started again"
	d2=$(daemon_pid)
	a2=$(jget a 'p["pid"]')
	eval "$5" || fail "$1: $5"
	check_stopped "$d2" "$a2" "$1: $5"
}

# ---- runit ----------------------------------------------------------------------------------------
R=$T/r-runit
mkdir -p "$R/etc/sv" "$R/etc/service" "$T/scan-runit"
"$TEND" startup runit --root "$R" --hp "$H" >/dev/null 2>&1 || fail "startup runit"
ln -s "$R/etc/sv/tend-root" "$T/scan-runit/tend-root"
runsvdir -P "$T/scan-runit" >"$T/runsvdir.log" 2>&1 &
rsd=$!
track_pid $rsd
# (runsvdir on SIGHUP: every service down, then it exits)
cycle runit runsv 'sv -w 30 down "$T/scan-runit/tend-root"' 'sv up "$T/scan-runit/tend-root"' \
	'kill -HUP $rsd && wait_for 30 supervisor_dead $rsd'

# ---- s6 -------------------------------------------------------------------------------------------
R=$T/r-s6
mkdir -p "$R/etc/s6/sv" "$R/run/service" "$T/scan-s6"
"$TEND" startup s6 --root "$R" --hp "$H" >/dev/null 2>&1 || fail "startup s6"
ln -s "$R/etc/s6/sv/tend-root" "$T/scan-s6/tend-root"
s6-svscan "$T/scan-s6" >"$T/s6-svscan.log" 2>&1 &
svscan=$!
track_pid $svscan
cycle s6 s6-supervise 's6-svc -wd -T 30000 -d "$T/scan-s6/tend-root"' 's6-svc -u "$T/scan-s6/tend-root"' \
	's6-svscanctl -t "$T/scan-s6" && wait_for 30 supervisor_dead $svscan'

# ---- BusyBox init, PID 1 of its own PID namespace (its /etc the startup root's) -----------------
R=$T/r-bb
mkdir -p "$R/etc"
printf '::shutdown:/bin/true\n' >"$R/etc/inittab"
"$TEND" startup busybox --root "$R" --hp "$H" >/dev/null 2>&1 || fail "startup busybox"
unshare --pid --fork --mount --mount-proc true 2>"$T/unshare.err" ||
	fail "unshare --pid (root is needed for the BusyBox init case): $(cat "$T/unshare.err")"
boot() {
	unshare --pid --fork --mount --mount-proc \
		sh -c 'mount --bind "$1/etc" /etc && exec busybox init' sh "$R" >"$T/init-$1.log" 2>&1 &
	ns=$!
	track_pid $ns
	wait_back
	init=$(ps -o pid= --ppid $ns | tr -d ' ')
	[ "$(ps -o comm= -p "$init")" = busybox ] || fail "boot $1: PID 1 of the namespace is $(ps -o comm= -p "$init")"
}
boot 1
[ "$(cat "$TEND_HOME/tend.pid")" != 1 ] || fail "tend is PID 1: init should be"
kill -TERM "$init"   # BusyBox init: reboot (TERM to all, then KILL, then gone)
wait_for 30 namespace_dead $ns
[ "$(md5sum <"$TEND_HOME/dump.json")" = "$dump" ] || fail "a reboot changed the dump"
boot 2
kill -TERM "$init"
wait_for 30 namespace_dead $ns

# ---- systemd's notify protocol, without systemd: a datagram socket as NOTIFY_SOCKET ---------------
"$PY" - "$TEND" "$T/notify" "$TEND_HOME" <<'PY' || fail "Type=notify"
import json, os, socket, subprocess, sys
tend, path, home = sys.argv[1:]
for where in (path, "@tend-test-%d" % os.getpid()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(where if where[0] == "/" else "\0" + where[1:])
    s.settimeout(30)
    p = subprocess.Popen([tend, "resurrect", "--no-daemon"], env=dict(os.environ, NOTIFY_SOCKET=where),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert s.recv(100) == b"READY=1"
    # READY=1 came once resurrect was done: the apps are back already
    l = json.loads(subprocess.run([tend, "jlist"], capture_output=True, text=True, check=True).stdout)
    assert [(a["name"], a["pm2_env"]["status"]) for a in l] == [("a", "online"), ("b", "stopped")], l
    # systemd's socket is the daemon's own: the apps get tend's
    env = subprocess.run([tend, "env", "a"], capture_output=True, text=True).stdout
    assert where not in env, env
    p.terminate()
    assert s.recv(100) == b"STOPPING=1"
    assert p.wait(30) == 0
    s.close()
PY
[ "$(md5sum <"$TEND_HOME/dump.json")" = "$dump" ] || fail "the notify runs changed the dump"
