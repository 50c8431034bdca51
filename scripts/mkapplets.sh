#!/bin/sh
# Build the applet table from the registration lines that sit next to each applet:
#
#   //applet: NAME FUNCTION HELP FLAGS SUMMARY...
#
# FLAGS: "-" none; "a" an alias (SUMMARY names the applet it stands for); "c" the name
# clashes with a common system command, so --install links it as tend-NAME; "s" the
# applet takes PM2's -s/--silent itself; "o" what it prints on stdout is the data asked
# for, which the global -s leaves alone (main.c).
# Output is sorted by name (C locale, the order strcmp sees) for a binary search.
set -eu
grep -h '^//applet:' "$@" | LC_ALL=C sort -k2,2 | awk '
{
	if ($2 == last) { print "mkapplets: applet " $2 " registered twice" > "/dev/stderr"; exit 1 }
	last = $2
	s = ""
	for (i = 6; i <= NF; i++) s = s (i > 6 ? " " : "") $i
	gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s)
	printf "APPLET(\"%s\", %s, %s, \"%s\", \"%s\")\n", $2, $3, $4, $5, s
}'
