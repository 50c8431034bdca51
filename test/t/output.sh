# Small things scripts and people rely on: logs reopened on SIGUSR2/SIGHUP after an
# external rename, colors only on a terminal, -x accepted.
. "$TEND_TOP/test/lib.sh"

printf 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.05; done\n' >"$T/talk.sh"
run "$TEND" start "$T/talk.sh" -n talk -x -s
expect_rc 0
log=$TEND_HOME/logs/talk-out.log
wait_for 5 grep -q "line 3" "$log"
dpid=$(cat "$TEND_HOME/tend.pid")
for sig in USR2 HUP; do
	mv "$log" "$log.rotated"
	kill -"$sig" "$dpid"
	wait_for 5 test -s "$log"
	n=$(grep -c . "$log.rotated") m=$(grep -c . "$log")
	wait_for 10 sh -c "[ \$(grep -c . '$log') -ge $((m + 3)) ]"   # more lines, in the new file
	[ "$(grep -c . "$log.rotated")" = "$n" ] || fail "SIG$sig: the renamed file still grows"
	rm "$log.rotated"
done
grep -q "app logs reopened" "$TEND_HOME/tend.log" || fail "reopen not logged"
alive "$dpid" || fail "daemon died on a signal"

# Colors: never into a pipe or with --no-color; on a terminal, the status is colored.
run "$TEND" list
case $OUT in *"$(printf '\033')"*) fail "colors in a pipe" ;; esac
if command -v script >/dev/null 2>&1; then
	script -qec "$TEND list" /dev/null >"$T/tty.out" 2>&1
	grep -q "$(printf '\033')\[32monline" "$T/tty.out" || fail "no color on a terminal: $(head -c 300 "$T/tty.out")"
	script -qec "$TEND list --no-color" /dev/null >"$T/tty2.out" 2>&1
	grep -q "$(printf '\033')" "$T/tty2.out" && fail "--no-color on a terminal still colors"
	NO_COLOR=1 script -qec "$TEND list" /dev/null >"$T/tty3.out" 2>&1
	grep -q "$(printf '\033')" "$T/tty3.out" && fail "NO_COLOR ignored"
fi
exit 0
