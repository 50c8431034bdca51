# Every process an app ever started is stopped with it, also those that left its process
# group (setsid, a double fork): with a cgroup per process (root here) and, with
# TEND_CGROUPS=0, through the orphans the daemon adopts as a subreaper.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"

# A crash loop whose every run leaves a detached sleeper behind (setsid + double fork).
cat >leaky.sh <<'EOF'
#!/bin/sh
setsid sh -c 'sleep 1000 & exit 0' &
sleep 0.3
exit 1
EOF
# A server whose detached child keeps its listening socket: the next run cannot bind.
cat >holder.py <<'EOF'
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
print("listening", flush=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1000)
    os._exit(0)
time.sleep(0.4)
sys.exit(1)
EOF
chmod +x leaky.sh

# The processes of app NAME in this home, by the pm_id/name tend put in their environment.
procs_of() {
	n=0
	for p in /proc/[0-9]*; do
		env=$( { tr '\0' '\n' <"$p/environ"; } 2>/dev/null) || continue
		case $env in *"TEND_HOME=$TEND_HOME"*) ;; *) continue ;; esac
		printf '%s\n' "$env" | grep -qx "name=$1" || continue
		alive "${p#/proc/}" && n=$((n + 1))
	done
	echo "$n"
}
none_of() { [ "$(procs_of "$1")" = 0 ]; }
at_least() { [ "$(procs_of "$1")" -ge "$2" ]; }
restarts_over() { [ "$(jget "$1" 'e["restart_time"]')" -ge "$2" ] 2>/dev/null; }

for mode in cgroups orphans; do
	export TEND_HOME="$T/home-$mode"
	if [ "$mode" = orphans ]; then export TEND_CGROUPS=0; else unset TEND_CGROUPS; fi
	"$TEND" ping >/dev/null
	if [ "$mode" = cgroups ] && ! grep -q "apps run in cgroups" "$TEND_HOME/tend.log"; then
		[ "$(id -u)" = 0 ] && fail "root, but no cgroups: $(grep cgroups "$TEND_HOME/tend.log")"
		echo "no cgroups here: the cgroup half is skipped"
		"$TEND" kill >/dev/null
		continue
	fi
	"$TEND" start ./leaky.sh -n leaky --restart-delay 100 --min-uptime 0 -s || fail "$mode: start leaky"
	wait_for 20 restarts_over leaky 4
	n=$(procs_of leaky)
	# The current run: its shell, maybe its sleep and its just-detached sleeper.
	[ "$n" -le 3 ] || fail "$mode: $n processes of leaky after 4 restarts (the old runs' sleepers leaked)"
	"$TEND" delete leaky -s
	wait_for 15 none_of leaky

	port=$(free_port)
	"$TEND" start "$PY" -n holder --min-uptime 0 --restart-delay 200 -s -- "$T/holder.py" "$port" ||
		fail "$mode: start holder"
	wait_for 30 restarts_over holder 3
	listened() { [ "$(grep -c listening "$TEND_HOME/logs/holder-out.log")" -ge 4 ]; }
	wait_for 20 listened
	status=$(jget holder 'e["status"]')
	[ "$status" != errored ] || fail "$mode: holder errored: its old runs' children held the port"
	if grep -q "Address already in use" "$TEND_HOME/logs/holder-error.log"; then
		fail "$mode: a run found the port in use: $(grep -c 'Address already' "$TEND_HOME/logs/holder-error.log") times"
	fi
	"$TEND" delete holder -s
	wait_for 15 none_of holder

	# stop and kill take the escaped ones too.
	"$TEND" start "setsid sh -c 'sleep 1000 & exit 0'; exec sleep 1000" -n esc -s
	wait_for 15 at_least esc 2
	"$TEND" stop esc -s
	wait_for 15 none_of esc
	"$TEND" start esc -s
	wait_for 15 at_least esc 2
	"$TEND" kill
	[ "$(procs_of esc)" = 0 ] || fail "$mode: $(procs_of esc) processes of esc after kill"
	if [ "$mode" = cgroups ]; then
		dir=$(sed -n 's/.*apps run in cgroups under //p' "$TEND_HOME/tend.log" | tail -n 1)
		[ -n "$dir" ] || fail "no cgroup directory in the log"
		[ ! -e "$dir" ] || fail "the daemon's cgroups are still there after kill: $(ls "$dir")"
		[ -d "${dir%/*}" ] && [ -z "$(ls "${dir%/*}" | grep '^d')" ] &&
			fail "${dir%/*} kept after the last daemon of the home exited"
	fi
done
