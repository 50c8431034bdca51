#!/bin/sh
# bench/apps/sleep.sh: the lightest app, one process per app (sh execs sleep), for the
# 1000-app case; start it with --interpreter none. sleep dies on SIGINT (default action).
exec sleep 100000
