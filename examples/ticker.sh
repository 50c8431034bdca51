#!/bin/sh
# A shell loop: one line every 2 seconds, on stdout and stderr.
n=0
while :; do
	n=$((n + 1))
	echo "tick $n"
	[ $((n % 5)) = 0 ] && echo "tick $n: a warning for the error log" >&2
	sleep 2
done
