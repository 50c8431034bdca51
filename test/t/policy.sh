# Keeping apps alive: restart on exit, crash loops become errored, slow crashes do not,
# no-autorestart, stop exit codes, restart delay and exponential backoff.
. "$TEND_TOP/test/lib.sh"

# A crash loop: exits at once; 3 restarts allowed, then errored, and it stays down.
"$TEND" start "exit 1" -n crashy --min-uptime 1000 --max-restarts 3 -s
wait_for 10 status_is crashy errored
[ "$(jget crashy 'e["restart_time"]')" = 3 ] || fail "crashy restarted $(jget crashy 'e["restart_time"]') times, expected 3"
[ "$(jget crashy 'e["unstable_restarts"]')" = 4 ] || fail "unstable_restarts $(jget crashy 'e["unstable_restarts"]')"
[ "$(jget crashy 'e["exit_code"]')" = 1 ] || fail "exit_code $(jget crashy 'e["exit_code"]')"
[ "$(jget crashy 'p["pid"]')" = 0 ] || fail "errored app has a pid"
grep -q "crashy.*errored" "$TEND_HOME/tend.log" || fail "errored not logged"
# start brings an errored app back, with fresh counters.
run "$TEND" restart crashy -s
# it was spawned anew (exit 0), or, on a loaded machine, crash-looped to errored again
# before restart saw it run (exit 1, saying so)
[ "$RC" = 0 ] || { [ "$RC" = 1 ] && [ "$ERR" = "tend: restart: crashy[0] errored" ]; } ||
	fail "restart of an errored app: exit status $RC: $ERR"
wait_for 10 status_is crashy errored   # ...and crash-looped again

# A slow crasher (runs 300 ms, more than min_uptime 100 ms) is never errored.
"$TEND" start "sleep 0.3; exit 2" -n slow --min-uptime 100 --max-restarts 1 -s
wait_for 10 sh -c "[ \"\$(\"$TEND\" jlist | python3 -c 'import json,sys; print([p for p in json.load(sys.stdin) if p[\"name\"]==\"slow\"][0][\"pm2_env\"][\"restart_time\"])')\" -ge 4 ]"
status_is slow errored && fail "a slow crasher was errored"
"$TEND" delete slow -s
# (the slow crasher's four runs took over a second: crashy stayed errored meanwhile)
status_is crashy errored || fail "errored app came back by itself"

# --no-autorestart: an exit leaves it stopped with its exit code.
"$TEND" start "exit 7" -n once --no-autorestart -s
wait_for 5 status_is once stopped
[ "$(jget once 'e["exit_code"]')" = 7 ] || fail "exit code $(jget once 'e["exit_code"]'), expected 7"
[ "$(jget once 'e["restart_time"]')" = 0 ] || fail "no-autorestart app restarted"

# stop_exit_codes: 3 means done; 4 is a crash.
printf 'n=$(cat %s/count 2>/dev/null || echo 0); echo $((n+1)) >%s/count\n[ $n -ge 2 ] && exit 3\nexit 4\n' "$T" "$T" >"$T/codes.sh"
"$TEND" start "$T/codes.sh" -n codes --stop-exit-codes 3 --min-uptime 0 -s
wait_for 10 status_is codes stopped
[ "$(jget codes 'e["exit_code"]')" = 3 ] || fail "codes exit $(jget codes 'e["exit_code"]')"
[ "$(jget codes 'e["restart_time"]')" = 2 ] || fail "codes restarted $(jget codes 'e["restart_time"]') times, expected 2"

# restart_delay: "waiting restart" between runs.
"$TEND" start "exit 1" -n delayed --restart-delay 800 --max-restarts 100 -s
wait_for 5 status_is delayed "waiting restart"
[ "$(jget delayed 'p["pid"]')" = 0 ] || fail "waiting app has a pid"
# stop during the wait cancels it.
run "$TEND" stop delayed -s
expect_rc 0
status_is delayed stopped || fail "stop did not cancel the wait"
# delayed2 begins the same wait after that stop: once it has restarted, delayed's wait
# would have ended too
"$TEND" start "exit 1" -n delayed2 --restart-delay 800 --max-restarts 100 -s
wait_for 10 sh -c "[ \"\$('$TEND' jlist | '$PY' -c 'import json,sys; print([p for p in json.load(sys.stdin) if p[\"name\"]==\"delayed2\"][0][\"pm2_env\"][\"restart_time\"])')\" -ge 1 ]"
status_is delayed stopped || fail "a stopped app restarted after its delay"
"$TEND" delete delayed2 -s

# Exponential backoff: 400, 600, 900 ms... read from the event stream, which says each
# wait as it begins (sampling the list missed some on a loaded machine).
"$TEND" events backoff >"$T/backoff.events" 2>&1 &
track_pid $!
wait_for 10 sh -c "'$TEND' save >/dev/null && grep -q 'daemon.*save' '$T/backoff.events'"   # subscribed
"$TEND" start "exit 1" -n backoff --exp-backoff-restart-delay 400 --max-restarts 100 -s
wait_for 15 grep -q "restart in 900 ms" "$T/backoff.events"
seen=$(sed -n 's/.*-> waiting restart (exited with 1; restart in \([0-9]*\) ms).*/\1/p' "$T/backoff.events" | head -n 3 | tr '\n' ' ')
[ "$seen" = "400 600 900 " ] || fail "backoff delays seen: $seen (expected 400 600 900)"
"$TEND" stop backoff -s

# The counters can be reset.
run "$TEND" reset codes
expect_rc 0
[ "$(jget codes 'e["restart_time"]')" = 0 ] || fail "reset left restart_time $(jget codes 'e["restart_time"]')"
