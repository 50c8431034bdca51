# startup and unstartup with --root: each platform's files and commands against the
# golden copies in test/golden/startup/ (TEND_GOLDEN_UPDATE=1 rewrites them), quoting of
# a home with a blank and a quote, systemd-analyze verify on the units, sh -n on every
# script; running twice is harmless; unstartup leaves the tree as it was; a file tend did
# not write is neither replaced nor removed; not root: the sudo line and exit 1; bad
# platforms and options: exit 2.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cannot cd to $T"
GOLDEN=$TEND_TOP/test/golden/startup
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
unset TEND_HOME

# A root like a real system's: the directories exist, inittab has a line of its own.
make_root() {
	rm -rf "$1"
	mkdir -p "$1/etc/systemd/system" "$1/etc/init" "$1/etc/init.d" "$1/etc/sv" "$1/etc/service" \
		"$1/etc/s6/sv" "$1/run/service"
	printf '::sysinit:/etc/init.d/rcS\n::shutdown:/bin/umount -a -r\n' >"$1/etc/inittab"
}
# Every file under a root with its mode and contents: the tree's state.
snapshot() { (cd "$1" && find . -printf '%p %m %y\n' | sort && find . -type f -exec md5sum {} + | sort); }
# What startup printed and wrote, with this machine's paths in words.
normalize() { sed -e "s|$TEND|@TEND@|g" -e "s|$T|@T@|g"; }

R=$T/root
HP="$T/srv/my app's"
for p in systemd upstart systemv openrc runit s6 busybox procd; do
	make_root "$R"
	before=$(snapshot "$R")
	"$TEND" startup "$p" --root "$R" -u nobody --hp "$HP" --wait-ip >"$T/out" 2>"$T/err" ||
		fail "startup $p: $(cat "$T/err")"
	{
		normalize <"$T/out"
		(cd "$R" && find . -type f | sort) | while read -r f; do
			case $f in ./etc/inittab) [ "$p" = busybox ] || continue ;; esac
			[ "$f" != ./etc/inittab ] && printf '%s\n' "$before" | grep -qF "$f " && continue
			printf '==== %s (%s)\n' "$f" "$(stat -c %a "$R/$f")"
			normalize <"$R/$f"
		done
	} >"$T/got-$p"
	if [ -n "${TEND_GOLDEN_UPDATE:-}" ]; then
		mkdir -p "$GOLDEN" && cp "$T/got-$p" "$GOLDEN/$p"
	fi
	diff -u "$GOLDEN/$p" "$T/got-$p" >"$T/diff" || fail "startup $p differs from test/golden/startup/$p:
$(head -n 40 "$T/diff")"
	# the scripts parse; the unit passes systemd's own check
	for f in $(cd "$R" && find . -type f -perm -u+x); do
		sh -n "$R/$f" 2>"$T/shn" || fail "sh -n $p $f: $(cat "$T/shn")"
	done
	if [ "$p" = systemd ]; then
		command -v systemd-analyze >/dev/null || fail "systemd-analyze is needed (systemd, test/packages)"
		systemd-analyze verify --man=no "$R/etc/systemd/system/tend-nobody.service" >"$T/verify" 2>&1 ||
			fail "systemd-analyze verify: $(cat "$T/verify")"
	fi
	# twice: the same files, exit 0
	snap1=$(snapshot "$R")
	"$TEND" startup "$p" --root "$R" -u nobody --hp "$HP" --wait-ip >/dev/null 2>&1 || fail "startup $p twice"
	[ "$(snapshot "$R")" = "$snap1" ] || fail "startup $p twice changed the tree"
	# unstartup: the tree as it was, twice too
	"$TEND" unstartup "$p" --root "$R" -u nobody --hp "$HP" >"$T/out" 2>"$T/err" || fail "unstartup $p: $(cat "$T/err")"
	printf '%s\n' "$before" >"$T/before"
	snapshot "$R" >"$T/after"
	diff "$T/before" "$T/after" >"$T/diff" || fail "unstartup $p left the tree changed: $(head -n 20 "$T/diff")"
	"$TEND" unstartup "$p" --root "$R" -u nobody --hp "$HP" >/dev/null 2>&1 || fail "unstartup $p twice"
done

# the quoting held: the home with a blank and a quote reaches the shell and systemd whole
make_root "$R"
"$TEND" startup runit --root "$R" -u nobody --hp "$HP" >/dev/null 2>&1 || fail "startup runit"
grep '^export TEND_HOME' "$R/etc/sv/tend-nobody/run" >"$T/envline"
got=$(sh -c '. "$1"; printf "%s" "$TEND_HOME"' sh "$T/envline")
[ "$got" = "$HP/.tend" ] || fail "runit's TEND_HOME is '$got'"
"$TEND" startup systemd --root "$R" -u nobody --hp "$HP" >/dev/null 2>&1 || fail "startup systemd"
systemd-analyze verify --man=no "$R/etc/systemd/system/tend-nobody.service" >/dev/null 2>&1 || fail "verify"

# root by default, the service name, PM2's aliases
make_root "$R"
run "$TEND" startup ubuntu --root "$R" --service-name boot-apps
expect_rc 0
expect_out_has "init system: systemd"
grep -q '^User=root$' "$R/etc/systemd/system/boot-apps.service" || fail "default user"
grep -q '^After=network.target$' "$R/etc/systemd/system/boot-apps.service" || fail "without --wait-ip"
run "$TEND" startup gentoo --root "$R"
expect_out_has "init system: openrc"
grep -q 'use net' "$R/etc/init.d/tend-root" || fail "openrc without --wait-ip"

# a file tend did not write: not replaced, not removed
make_root "$R"
echo "mine" >"$R/etc/init.d/tend-root"
run "$TEND" startup openrc --root "$R"
expect_rc 1
expect_err_has "tend: startup: $R/etc/init.d/tend-root exists and tend did not write it: remove it, or choose --service-name"
[ "$(cat "$R/etc/init.d/tend-root")" = mine ] || fail "a foreign file was replaced"
run "$TEND" unstartup openrc --root "$R"
[ "$(cat "$R/etc/init.d/tend-root")" = mine ] || fail "a foreign file was removed"
expect_err_has "not written by tend"
# BusyBox without /etc/inittab: told, nothing written
rm "$R/etc/inittab"
run "$TEND" startup busybox --root "$R"
expect_rc 1
expect_err_has "built-in entries"
[ ! -e "$R/etc/tend" ] || [ -z "$(ls "$R/etc/tend")" ] || fail "busybox wrote its run file without an inittab"

# not root: the sudo line, exit 1, nothing written
if command -v setpriv >/dev/null; then
	chmod 755 "$T"
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TEND" startup systemd --hp /srv/x
	expect_rc 1
	expect_err_has "needs root"
	printf '%s\n' "$OUT" | grep -q "^sudo env PATH=$PATH $TEND startup systemd -u nobody --hp /srv/x\$" ||
		fail "the sudo line: $OUT"
fi

# bad input: exit 2, a line that says why
run "$TEND" startup launchd
expect_rc 2
expect_err_line "^tend: startup: launchd: not supported on Linux"
run "$TEND" startup nosuch
expect_rc 2
expect_err_has "no such platform"
run "$TEND" startup systemd --hp relative/dir --root "$R"
expect_rc 2
run "$TEND" startup systemd -u 'no such' --root "$R"
expect_rc 2
run "$TEND" startup systemd --service-name 'a/b' --root "$R"
expect_rc 2
run "$TEND" startup systemd --root relative
expect_rc 2
run "$TEND" unstartup systemd extra --root "$R"
expect_rc 2
