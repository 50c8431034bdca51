#!/bin/sh
# Obtain tend's build dependencies from Debian's archive, and nothing else.
#
#   vendor/deps.sh tools            musl-tools and libjsmn-dev installed, jsmn.h verified
#   vendor/deps.sh mbedtls FLAVOUR CC
#                                   mbedtls (Debian source package) verified and built
#                                   with CC into vendor/build/mbedtls-FLAVOUR
#   vendor/deps.sh pkgs PKG...      Debian packages installed when missing (tests, CI)
#   vendor/deps.sh cross ARCH       for ARCH (aarch64, armv7, riscv64): Debian's cross gcc
#                                   installed, and musl (Debian source package) verified
#                                   and built with it into vendor/build/musl-ARCH, whose
#                                   bin/musl-gcc then builds static binaries for ARCH
#
# Versions and checksums are pinned in vendor/PINS. A file whose checksum differs is
# refused. Everything fetched lands in vendor/build/, which git ignores.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=$here/build
export DEBIAN_FRONTEND=noninteractive
# Run from make, the makes below would inherit its command line (ARCH=armv7 would
# override musl's own ARCH): they get none of it.
unset MAKEFLAGS MFLAGS MAKELEVEL

say() { printf 'vendor: %s\n' "$*" >&2; }
die() { printf 'vendor: %s\n' "$*" >&2; exit 1; }

pin() { # pin NAME FIELD: field 3 version, 4 file, 5 sha256
	awk -v n="$1" -v f="$2" '$1 == n { print $f }' "$here/PINS"
}

sha_ok() { # sha_ok FILE SUM
	[ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]
}

need_root() {
	[ "$(id -u)" = 0 ] && return 0
	die "$1: run as root: $2"
}

# apt-get install, refreshing the package lists once if the first try fails
# (a fresh Debian image ships with empty lists).
apt_install() {
	need_root "missing packages $*" "apt-get update && apt-get install -y $*"
	if ! apt-get install -y -q --no-install-recommends "$@" >"$build/apt.log" 2>&1; then
		say "apt-get update"
		apt-get update -q >>"$build/apt.log" 2>&1 || true
		apt-get install -y -q --no-install-recommends "$@" >>"$build/apt.log" 2>&1 ||
			{ tail -n 20 "$build/apt.log" >&2; die "apt-get install $* failed"; }
	fi
}

pkg_missing() { # prints the packages of "$@" that dpkg does not have installed
	for p; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			printf '%s ' "$p"
	done
}

tools() {
	missing=
	command -v musl-gcc >/dev/null 2>&1 || missing="musl-tools"
	[ -f /usr/include/jsmn.h ] || missing="$missing libjsmn-dev"
	if [ -n "$missing" ]; then
		say "installing ${missing# }"
		# shellcheck disable=SC2086
		apt_install $missing
	fi
	sum=$(pin jsmn 5)
	sha_ok /usr/include/jsmn.h "$sum" ||
		die "/usr/include/jsmn.h does not match the sha256 pinned in vendor/PINS (libjsmn-dev $(pin jsmn 3))"
	mkdir -p "$build/include"
	if ! sha_ok "$build/include/jsmn.h" "$sum"; then
		cp /usr/include/jsmn.h "$build/include/jsmn.h.new"
		mv "$build/include/jsmn.h.new" "$build/include/jsmn.h"
	fi
}

has_deb_src() {
	grep -qsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources >/dev/null 2>&1
}

# Add a deb-src entry for the configured suite, using the mirror the machine already uses.
add_deb_src() {
	need_root "no deb-src entry for apt-get source" \
		"add a deb-src line for your Debian suite to /etc/apt/sources.list, then apt-get update"
	suite=$( . /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-}")
	[ -n "$suite" ] || die "cannot tell the Debian suite from /etc/os-release"
	uri=$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
	[ -n "$uri" ] || uri=$(awk '$1 == "deb" && $2 !~ /^\[/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)
	[ -n "$uri" ] || uri=http://deb.debian.org/debian
	say "adding deb-src $uri $suite main (/etc/apt/sources.list.d/tend-deb-src.sources)"
	cat >/etc/apt/sources.list.d/tend-deb-src.sources <<EOF
Types: deb-src
URIs: $uri
Suites: $suite
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
	apt-get update -q >"$build/apt.log" 2>&1 || { tail -n 20 "$build/apt.log" >&2; die "apt-get update failed"; }
}

fetch_source() { # fetch_source NAME: the pinned .orig tarball of Debian's source package NAME
	name=$1 ver=$(pin "$1" 3) file=$(pin "$1" 4) sum=$(pin "$1" 5)
	dl=$build/dl
	mkdir -p "$dl"
	sha_ok "$dl/$file" "$sum" && return 0
	has_deb_src || add_deb_src
	say "apt-get source $name=$ver"
	# The pinned Debian revision first; a later revision of the same upstream release
	# carries the same .orig tarball, which the checksum below accepts.
	( cd "$dl" && { apt-get source -q --download-only "$name=$ver" ||
		{ apt-get update -q && apt-get source -q --download-only "$name=$ver"; } ||
		apt-get source -q --download-only "$name"; } ) >"$build/apt.log" 2>&1 ||
		{ tail -n 20 "$build/apt.log" >&2; die "apt-get source $name failed"; }
	sha_ok "$dl/$file" "$sum" || die "$file: sha256 differs from vendor/PINS; refusing it"
}

fetch_mbedtls() { fetch_source mbedtls; }

# The GNU triple of Debian's cross gcc for each target tend builds for.
triple() {
	case $1 in
	aarch64) echo aarch64-linux-gnu ;;
	armv7) echo arm-linux-gnueabihf ;;
	riscv64) echo riscv64-linux-gnu ;;
	*) die "unknown ARCH '$1': aarch64, armv7 or riscv64" ;;
	esac
}

cross() {
	arch=$1 t=$(triple "$1")
	out=$build/musl-$arch
	command -v "$t-gcc" >/dev/null 2>&1 || pkgs "gcc-$t"
	[ -x "$out/bin/musl-gcc" ] && return 0
	fetch_source musl
	say "building musl for $arch ($t-gcc)"
	rm -rf "$out.src" "$out"
	mkdir -p "$out.src"
	tar xzf "$build/dl/$(pin musl 4)" -C "$out.src" --strip-components=1
	extra=
	[ "$arch" = armv7 ] && extra="-march=armv7-a -mfpu=vfpv3-d16 -mfloat-abi=hard"
	( cd "$out.src" && ./configure --prefix="$out" --target="$t" CC="$t-gcc" CFLAGS="-Os $extra" \
		--disable-shared --enable-wrapper=gcc && make -j"$(nproc)" && make install ) \
		>"$build/musl-$arch.log" 2>&1 || { tail -n 30 "$build/musl-$arch.log" >&2; die "musl build failed"; }
	rm -rf "$out.src"
	# the wrapper's gcc is the cross one, with armv7's float settings
	[ -n "$extra" ] && sed -i "s|exec \"\\\${REALGCC:-$t-gcc}\" \"\\\$@\"|exec \"\\\${REALGCC:-$t-gcc}\" $extra \"\\\$@\"|" "$out/bin/musl-gcc"
	"$out/bin/musl-gcc" -static -o "$out/hello" -x c - <<EOF || die "musl-gcc for $arch does not link"
int main(void) { return 0; }
EOF
	rm -f "$out/hello"
}

mbedtls() {
	flavour=$1 cc=$2
	out=$build/mbedtls-$flavour
	[ -f "$out/library/libmbedtls.a" ] && return 0
	fetch_mbedtls
	say "building mbedtls ($flavour, $cc)"
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp"
	tar xzf "$build/dl/$(pin mbedtls 4)" -C "$out.tmp" --strip-components=1
	cflags="-Os -ffunction-sections -fdata-sections"
	case $flavour in musl*) ;; *) cflags="-O1 -g" ;; esac
	ar=ar
	case $flavour in musl-*) ar=$(triple "${flavour#musl-}")-ar ;; esac
	make -s -C "$out.tmp/library" CC="$cc" AR="$ar" CFLAGS="$cflags" -j"$(nproc)" static \
		>"$build/mbedtls-$flavour.log" 2>&1 ||
		{ tail -n 30 "$build/mbedtls-$flavour.log" >&2; die "mbedtls build failed"; }
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

pkgs() {
	missing=$(pkg_missing "$@")
	[ -z "$missing" ] && return 0
	say "installing $missing"
	# shellcheck disable=SC2086
	apt_install $missing
}

mkdir -p "$build"
cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
tools) tools ;;
mbedtls) [ $# = 2 ] || die "usage: deps.sh mbedtls FLAVOUR CC"; mbedtls "$@" ;;
pkgs) pkgs "$@" ;;
cross) [ $# = 1 ] || die "usage: deps.sh cross ARCH"; cross "$1" ;;
*) die "usage: deps.sh tools | mbedtls FLAVOUR CC | pkgs PKG... | cross ARCH" ;;
esac
