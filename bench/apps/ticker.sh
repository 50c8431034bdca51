#!/bin/sh
# bench/apps/ticker.sh: a line on stdout every 100 ms, for benchmarks that watch logs
# (bench/monit.sh); start it with --interpreter none. Dies on SIGINT.
i=0
while :; do
	i=$((i + 1))
	echo "tick $i"
	sleep 0.1
done
