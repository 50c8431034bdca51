#!/bin/sh
# The include rule of core/'s layers, checked by the build:
#   core/lib/      includes lib/ only: the leaf library depends on nothing above it;
#   core/daemon/   includes lib/ and daemon/: the daemon never includes client code;
#   core/client/   includes lib/ and client/;
#   applets/, main.c  include lib/ and client/, and daemon/daemon.h (to run the daemon).
# Every quoted include of a core header names its layer ("lib/json.h"), so that the
# rule can be read off the line. Prints one line per break and exits 1 if there is any.
#
#   scripts/check-layers.sh FILE...
status=0
for f do
	case $f in
	core/lib/*) allowed='lib' ;;
	core/daemon/*) allowed='lib daemon' ;;
	core/client/*) allowed='lib client' ;;
	applets/* | main.c) allowed='lib client daemon/daemon.h' ;;
	*) continue ;;
	esac
	# shellcheck disable=SC2016
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f" | while read -r inc; do
		case $inc in
		*/*) ;;
		*)
			# an unprefixed name that is a core header hides its layer
			for d in core/lib core/daemon core/client; do
				[ -f "$d/$inc" ] && echo "tend: build: $f: include \"$inc\" without its layer (${d#core/}/$inc)"
			done
			continue
			;;
		esac
		layer=${inc%%/*}
		case $layer in lib | daemon | client) ;; *) continue ;; esac
		ok=
		for a in $allowed; do
			case $a in
			*/*) [ "$inc" = "$a" ] && ok=1 ;;
			*) [ "$layer" = "$a" ] && ok=1 ;;
			esac
		done
		[ -n "$ok" ] || echo "tend: build: $f: includes $inc; allowed there: $allowed"
	done
done >"${TMPDIR:-/tmp}/tend-layers.$$"
if [ -s "${TMPDIR:-/tmp}/tend-layers.$$" ]; then
	cat "${TMPDIR:-/tmp}/tend-layers.$$" >&2
	status=1
fi
rm -f "${TMPDIR:-/tmp}/tend-layers.$$"
exit $status
