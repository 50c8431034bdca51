# The filesystem is hostile when tend runs as root: another user's symlinks and files in
# a directory they can write never turn root's writes (pid files, logs) into theirs; a
# home another user made or can write is refused; the node preload is rewritten when it
# is not ours alone.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
[ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 0; }
id nobody >/dev/null 2>&1 || fail "no user nobody"
chmod 755 "$T"

# A root-owned file the attacker wants root to write into.
printf 'precious\n' >precious
before=$(sha256sum precious)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# ---- a shared directory (0777, not sticky): refused outright -------------------------------
mkdir shared && chmod 0777 shared
as_nobody ln -s "$T/precious" shared/out.log
as_nobody ln -s "$T/precious" shared/app.pid
run "$TEND" start /bin/sleep -n a -o shared/out.log -- 1000
expect_rc 1
expect_err_line "^tend: start: a: out_file: .*shared: other users can write in this directory"
run "$TEND" start /bin/sleep -n b -p shared/app.pid -- 1000
expect_rc 1
expect_err_line "^tend: start: b: pid_file: .*shared: other users can write in this directory"
[ "$(jl 'len(d)')" = 0 ] || fail "a refused app was registered"

# ---- a sticky shared directory (like /tmp): symlinks are not followed, their files not used
mkdir sticky && chmod 1777 sticky
as_nobody ln -s "$T/precious" sticky/out.log
as_nobody sh -c "printf 'theirs\n' >'$T/sticky/err.log'"
as_nobody ln -s "$T/precious" sticky/app.pid
run "$TEND" start /bin/sleep -n c -o sticky/out.log -- 1000
expect_rc 1
expect_err_line "^tend: start: c: out_file: .*sticky/out.log: a symlink in a directory other users can write"
run "$TEND" start /bin/sleep -n d -e sticky/err.log -- 1000
expect_rc 1
expect_err_line "another user's file in a directory other users can write"
run "$TEND" start /bin/sleep -n e -p sticky/app.pid -- 1000
expect_rc 1
expect_err_line "sticky/app.pid: a symlink in a directory other users can write"
# Files of our own there are fine, and a pid file is replaced, never written through.
run "$TEND" start /bin/sleep -n f -o sticky/f-out.log -p sticky/f.pid -s -- 1000
expect_rc 0
fid=$(jget f 'p["pm_id"]')   # PM2's naming: f.pid becomes f-ID.pid
[ "$(cat sticky/f-$fid.pid)" = "$(jget f 'p["pid"]')" ] || fail "pid file of f"
# A symlink planted after the start, where the pid file will be written again.
rm -f sticky/f-$fid.pid
as_nobody ln -s "$T/precious" sticky/f-$fid.pid
as_nobody ln -s "$T/precious" sticky/f-$fid.pid.new
run "$TEND" restart f -s
expect_rc 0
[ ! -L sticky/f-$fid.pid ] || fail "the planted pid file symlink is still there"
[ "$(cat sticky/f-$fid.pid)" = "$(jget f 'p["pid"]')" ] || fail "pid file of f after restart"
[ "$(sha256sum precious)" = "$before" ] || fail "root wrote through another user's symlink: $(cat precious)"
"$TEND" delete f -s

# ---- a home made by another user, or one others can write: refused, nothing written ------
mkdir theirs && chown nobody theirs && chmod 0700 theirs
run env TEND_HOME="$T/theirs" "$TEND" ping
expect_rc 1
expect_err_line "^tend: ping: .*theirs: owned by uid [0-9]+, not by this user \\(uid 0\\): refusing to use it"
[ -z "$(ls -A theirs)" ] || fail "something was written in another user's home: $(ls -A theirs)"
mkdir -p open/home && chmod 0777 open/home
chown nobody open/home
run env TEND_HOME="$T/open/home" "$TEND" list
expect_rc 1
expect_err_has "refusing to use it"
# A daemon run directly checks it too.
run env TEND_HOME="$T/theirs" "$TEND" daemon
expect_rc 1
expect_err_has "refusing to use it"

# ---- the node preload: a copy that is not ours alone is written anew --------------------
"$TEND" kill >/dev/null
pre=$TEND_HOME/node-preload.js
[ -f "$pre" ] || fail "no preload written"
orig=$(sha256sum <"$pre")
chown nobody "$pre"
"$TEND" ping >/dev/null
[ "$(stat -c %u "$pre")" = 0 ] || fail "the preload is still owned by uid $(stat -c %u "$pre")"
[ "$(sha256sum <"$pre")" = "$orig" ] || fail "the preload changed"
[ "$(sha256sum precious)" = "$before" ] || fail "precious changed: $(cat precious)"
