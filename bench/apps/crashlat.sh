#!/bin/bash
# bench/apps/crashlat.sh FILE SECONDS: a crash every SECONDS, for bench/soak.sh's
# supervision latency. Appends "s TIME" when it starts, sleeps, appends "e TIME" and exits
# 1; TIME is bash's $EPOCHREALTIME (no fork). The next "s" minus the previous "e" is how
# late the restart came: the exit, the daemon's reaction, the fork and exec, bash's start.
# Start it with --interpreter none.
printf 's %s\n' "$EPOCHREALTIME" >>"$1"
sleep "$2"
printf 'e %s\n' "$EPOCHREALTIME" >>"$1"
exit 1
