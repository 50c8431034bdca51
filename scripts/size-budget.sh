#!/bin/sh
# size-budget.sh BINARY BUDGET: print the binary's size; fail past the budget (bytes).
set -eu
size=$(stat -c %s "$1")
if [ "$size" -gt "$2" ]; then
	echo "  SIZE    $1: $size bytes, over the budget of $2 (Makefile BUDGET_*; make size shows what weighs)" >&2
	rm -f "$1"
	exit 1
fi
echo "  SIZE    $1: $size bytes (budget $2)"
