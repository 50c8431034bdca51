#!/bin/sh
# bench/apps/crash.sh [COUNT_FILE]: the cheapest crashing app, for bench/soak.sh's restart
# soak: exits 1 at once. With COUNT_FILE, it first appends one byte to it, so the file's
# size is the number of times it ran (to check the daemon's restart counter against).
# Start it with --interpreter none (dash runs it: printf is a builtin, no fork).
[ -n "${1:-}" ] && printf . >>"$1"
exit 1
