#!/bin/sh
# test/cross.sh ARCH [TEST...]: the suite against build/musl-ARCH/tend (and its unit
# tests) under qemu-user, through binfmt_misc: a foreign binary runs as a native one,
# so the daemon, the apps it execs and the applets that exec tend again all work. The
# apps the tests start (sh, node, python) are this machine's: they are not under test.
# Without tests named: every test but those listed in test/cross-skip with why (printed).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
arch=${1:?usage: test/cross.sh ARCH [TEST...]}
shift
bin=$top/build/musl-$arch/tend
[ -x "$bin" ] || { echo "cross: $bin: build it first (make ARCH=$arch tend unit)" >&2; exit 2; }
qemu=$(case $arch in armv7) echo arm ;; *) echo "$arch" ;; esac)

# binfmt_misc: mounted, and qemu's handler for this target registered and enabled
if [ ! -e /proc/sys/fs/binfmt_misc/status ]; then
	mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
		{ echo "cross: cannot mount binfmt_misc (root is needed)" >&2; exit 1; }
fi
if [ ! -e "/proc/sys/fs/binfmt_misc/qemu-$qemu" ]; then
	"$top/vendor/deps.sh" pkgs qemu-user-static binfmt-support >&2 || exit 1
	update-binfmts --import "qemu-$qemu" >/dev/null 2>&1 || true
	update-binfmts --enable "qemu-$qemu" >/dev/null 2>&1 || true
fi
"$bin" --version >/dev/null 2>&1 || { echo "cross: $bin does not run under qemu-$qemu" >&2; exit 1; }
echo "cross: $("$bin" --version) on $arch, under $(readlink -f "$(command -v "qemu-$qemu-static")" 2>/dev/null || echo qemu)"

if [ $# = 0 ]; then
	# every test, but those that cannot pass under emulation: said, not hidden
	while read -r name why; do
		case $name in '' | '#'*) continue ;; esac
		echo "cross: skipped on $arch: $name: $why"
		skip="${skip:-} $name"
	done <"$top/test/cross-skip"
	for u in "$top/build/musl-$arch/unit"/*; do [ -x "$u" ] && set -- "$@" "$u"; done
	for t in "$top"/test/t/*.sh; do
		n=$(basename "$t" .sh)
		case " ${skip:-} " in *" $n "*) continue ;; esac
		set -- "$@" "$t"
	done
fi
TEND_BIN=$bin UNIT_DIR=$top/build/musl-$arch/unit exec "$top/test/run.sh" -j "${J:-2}" "$@"
