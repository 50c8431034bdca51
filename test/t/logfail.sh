# Logs that cannot be written, and what the daemon does about it: a full disk (a tiny
# tmpfs), a deleted log directory, a file that cannot be opened again (immutable); each
# time the app and the daemon go on, the loss is counted and reported once, and logging
# resumes by itself. And the daemon's own log rotates.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
dropped_over() { [ "$(jget "$1" 'e["log_bytes_dropped"]')" -gt "$2" ] 2>/dev/null; }
in_log() { grep -q "$1" "$TEND_HOME/tend.log"; }
reports() { grep -c "$1" "$TEND_HOME/tend.log"; }
bigger() { [ "$(stat -c %s "$1")" -gt "$2" ]; }
COUNTER='i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.01; done'

# ---- a full disk: a 256 KiB tmpfs, filled up, then freed --------------------------------
mkdir tiny
if mount -t tmpfs -o size=256k tmpfs tiny 2>"$T/mount.err"; then
	on_exit "umount -l '$T/tiny'"
	# Long lines: the last page of the file fills within a second even on a slow machine.
	PADDED='i=0; while :; do i=$((i+1)); echo "line $i ................................................................................"; sleep 0.01; done'
	"$TEND" start "$PADDED" -n disk -o tiny/out.log -s || fail "start disk"
	wait_for 5 test -s tiny/out.log
	dd if=/dev/zero of=tiny/filler bs=4k 2>/dev/null   # until the disk is full
	wait_for 10 dropped_over disk 100
	status_is disk online || fail "an app whose disk is full is $(jget disk 'e["status"]')"
	run "$TEND" ping
	expect_out pong
	[ "$(reports 'disk\[.*writing .*out.log failed')" = 1 ] || fail "the full disk was not reported exactly once"
	size=$(stat -c %s tiny/out.log)
	rm tiny/filler
	wait_for 10 in_log 'disk\[.*writing .*out.log works again'
	wait_for 5 bigger tiny/out.log "$size"
	wait_for 5 sh -c 'tail -n 3 tiny/out.log | head -n 1 | grep -Eqx "line [0-9]+ \.+"'
	"$TEND" delete disk -s
elif [ "$(id -u)" = 0 ]; then
	fail "root cannot mount a tmpfs: $(cat "$T/mount.err")"
fi

# ---- the log directory deleted under a running app: a new file appears --------------------
"$TEND" start "$COUNTER" -n gone -o gone/dir/out.log -s || fail "start gone"
wait_for 5 test -s gone/dir/out.log
rm -rf gone
wait_for 5 test -s gone/dir/out.log
wait_for 5 sh -c 'tail -n 2 gone/dir/out.log | head -n 1 | grep -Eqx "line [0-9]+"'
in_log 'gone\[.*out.log was deleted' || fail "the deletion is not in the daemon log"
status_is gone online || fail "gone is $(jget gone 'e["status"]')"
"$TEND" delete gone -s

# ---- a file that cannot be opened again (immutable), reopened by reloadLogs -------------
mkdir ro
if chattr -i ro 2>/dev/null; then
	"$TEND" start "$COUNTER" -n ro -o ro/out.log -s || fail "start ro"
	wait_for 5 test -s ro/out.log
	chattr +i ro/out.log
	on_exit "chattr -i '$T/ro/out.log' 2>/dev/null"
	run "$TEND" reloadLogs
	expect_rc 0
	wait_for 5 dropped_over ro 50
	status_is ro online || fail "ro is $(jget ro 'e["status"]')"
	[ "$(reports 'ro\[.*writing .*out.log failed')" = 1 ] || fail "the failure was not reported exactly once"
	"$TEND" describe ro | grep -Eq 'log bytes dropped +[1-9]' || fail "describe does not show the dropped bytes"
	size=$(stat -c %s ro/out.log)
	chattr -i ro/out.log
	wait_for 5 in_log 'ro\[.*writing .*out.log works again'
	wait_for 5 bigger ro/out.log "$size"
	"$TEND" delete ro -s
fi

# ---- the daemon's own log rotates: TEND_LOG_MAX_SIZE and TEND_LOG_RETAIN -----------------
H2=$T/home2
TEND_HOME=$H2 TEND_LOG_MAX_SIZE=2K TEND_LOG_RETAIN=2 "$TEND" ping >/dev/null || fail "ping home2"
i=0
while [ $i -lt 200 ]; do   # each one logs a line of about 45 bytes
	TEND_HOME=$H2 "$TEND" reloadLogs >/dev/null || fail "reloadLogs $i"
	i=$((i + 1))
done
[ "$(stat -c %s "$H2/tend.log")" -le 2200 ] || fail "tend.log is $(stat -c %s "$H2/tend.log") bytes, past 2K"
[ "$(ls "$H2" | grep -c '^tend__.*\.log$')" = 2 ] || fail "rotated daemon logs kept: $(ls "$H2" | tr '\n' ' ')"
grep -q 'log files reopened' "$H2/tend.log" || fail "the new tend.log is not written"
run env TEND_HOME="$H2" "$TEND" ping
expect_out pong
