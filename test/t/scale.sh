# 1,000 apps on one daemon: all online, listed, stopped and deleted.
. "$TEND_TOP/test/lib.sh"

run "$TEND" start sleep -n many -i 1000 -s -- 100000
expect_rc 0
count() {
	"$TEND" jlist | python3 -c "import json,sys; print(sum(1 for p in json.load(sys.stdin) if p['pm2_env']['status']=='$1'))"
}
[ "$(count online)" = 1000 ] || fail "$(count online) of 1000 online"
run "$TEND" list
[ "$(printf '%s\n' "$OUT" | grep -c ' online ')" = 1000 ] || fail "list does not show 1000 online rows"
# The daemon still answers promptly and stays small (no hard timing: just sane).
dpid=$(cat "$TEND_HOME/tend.pid")
rss=$(awk '/^VmRSS/{print $2}' "/proc/$dpid/status")
is_asan || [ "$rss" -lt 20000 ] || fail "daemon RSS ${rss} kB with 1000 apps"
fds=$(ls "/proc/$dpid/fd" | wc -l)
[ "$fds" -ge 2000 ] || fail "daemon holds $fds fds: expected two pipes per app"
# Crash one in the middle; it comes back, the others are untouched.
victim=$(jget 500 'p["pid"]')
kill -9 "$victim"
wait_for 10 sh -c "[ \"\$(\"$TEND\" pid 500)\" != $victim ] && [ \"\$(\"$TEND\" pid 500)\" != 0 ]"
[ "$(count online)" = 1000 ] || fail "after one crash: $(count online) online"
run "$TEND" stop all -s
expect_rc 0
[ "$(count stopped)" = 1000 ] || fail "$(count stopped) of 1000 stopped"
run "$TEND" delete all -s
expect_rc 0
run "$TEND" jlist
expect_out "[]"
