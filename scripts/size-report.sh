#!/bin/sh
# size-report.sh MAP [N]: from the linker's map of a --gc-sections link, the bytes each
# object keeps in the binary (text, rodata, data; bss apart), largest first, N rows (40).
set -eu
awk -v rows="${2:-40}" '
function hex(s,   i, v) {
	v = 0
	s = tolower(substr(s, 3))
	for (i = 1; i <= length(s); i++)
		v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v
}
function add(size, file, sec) {
	if (file !~ /\.o\)?$/) return
	sub(/^.*\/build\//, "build/", file)
	if (sec ~ /^\.bss/) bss[file] += hex(size); else kept[file] += hex(size)
}
/^Discarded input sections/ { skip = 1 }
/^Linker script and memory map/ { skip = 0 }
skip { next }
/^ \.(text|rodata|data|bss)/ {
	if (NF >= 4 && $2 ~ /^0x/) add($3, $4, $1)
	else if (NF == 1) { pending = $1 }
	next
}
pending != "" && NF == 3 && $1 ~ /^0x/ { add($2, $3, pending); pending = ""; next }
{ pending = "" }
END {
	for (f in kept) { printf "%8d %8d  %s\n", kept[f], bss[f], f; total += kept[f] }
	printf "%8d %8s  (all objects, text+rodata+data; then bss)\n", total, "" > "/dev/stderr"
}' "$1" | sort -rn | head -n "${2:-40}"
