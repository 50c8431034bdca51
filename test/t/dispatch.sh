# Multicall dispatch: argv[1], applet links, tend-APPLET, pm2, unknown applets, --install.
. "$TEND_TOP/test/lib.sh"

run "$TEND" --version
expect_rc 0
expect_out_has "tend "
version=$OUT

run "$TEND" version
expect_rc 0
expect_out "$version"

# The same applet reached as a link named after it, as tend-NAME, and through pm2.
mkdir "$T/bin"
ln -s "$TEND" "$T/bin/version"
ln -s "$TEND" "$T/bin/tend-version"
ln -s "$TEND" "$T/bin/pm2"
cp "$TEND" "$T/bin/tend-copy"
for cmd in "$T/bin/version" "$T/bin/tend-version" "$T/bin/pm2 version" "$T/bin/pm2 --version" \
	"$T/bin/tend-copy version"; do
	run $cmd
	expect_rc 0
	[ "$OUT" = "$version" ] || fail "$cmd printed '$OUT', expected '$version'"
done

# Help: the list, and per applet.
run "$TEND" --help
expect_rc 0
expect_out_has "applets:"
expect_out_has "version"
run "$TEND" version --help
expect_rc 0
expect_out_has "usage: tend version"
run "$T/bin/tend-version" -h
expect_out_has "usage: tend version"
run "$TEND" help version
expect_out_has "usage: tend version"

# Every applet listed by --list answers --help with a usage line, exit 0.
run "$TEND" --list
expect_rc 0
list=$OUT
[ -n "$list" ] || fail "--list printed nothing"
for a in $list; do
	run "$TEND" "$a" --help
	expect_rc 0 "$a --help: exit status"
	case $OUT in usage:*) ;; *) fail "$a --help does not start with usage: '$OUT'" ;; esac
done
# --list is sorted (the table is binary-searched).
printf '%s\n' "$list" | LC_ALL=C sort -c || fail "--list is not sorted"

# Unknown applet: one line naming the closest applet, exit 2.
run "$TEND" verison
expect_rc 2
expect_err_line '^tend: verison: unknown applet \(did you mean version\?\)$'
run "$TEND" --bogus
expect_rc 2
expect_err_line '^tend: tend: unknown option --bogus'
run "$TEND"
expect_rc 2
expect_err_has "usage:"
run "$TEND" version extra
expect_rc 2
expect_err_line "^tend: version: unexpected argument 'extra'$"

# --install: one link per applet, clashing names as tend-NAME, never replacing a file.
mkdir "$T/inst"
echo keep >"$T/inst/version"
run "$TEND" --install "$T/inst" -s
expect_rc 0
[ "$(cat "$T/inst/version")" = keep ] || fail "--install replaced an existing file"
n=0
for a in $list; do
	[ "$a" = version ] && continue
	if [ -L "$T/inst/$a" ] || [ -L "$T/inst/tend-$a" ]; then n=$((n + 1)); else fail "no link for $a"; fi
done
mkdir "$T/hard"
run "$TEND" --install "$T/hard"
expect_rc 0
[ -f "$T/hard/version" ] && [ ! -L "$T/hard/version" ] || fail "--install without -s should make hard links"
run "$T/hard/version"
expect_out "$version"
run "$TEND" --install "$T/nonexistent"
expect_rc 2
expect_err_line 'not a directory'
run "$TEND" --install
expect_rc 2

# ---- declare once: start's app options, their help and the manual come from one table ----
# Every app option start --help lists is accepted by start (and restart), and documented
# in tend(1); restart and reload list the same ones.
run "$TEND" start --help
expect_rc 0
start_help=$OUT
opts=$(printf '%s\n' "$start_help" | sed -n '/^  -n, --name/,/^      --filter-env/p' |
	grep -o -- '--[a-z][a-z-]*' | sort -u)
[ "$(printf '%s\n' "$opts" | wc -l)" -ge 40 ] || fail "start --help lists too few app options: $opts"
for o in $opts; do
	man=$(printf '%s' "$o" | sed 's/-/\\\\-/g')
	grep -q -- "$man" "$TOP/man/tend.1" || fail "$o is in start --help but not in tend(1)"
	# an option that takes no value, or one that does: either way, not "unknown option"
	run "$TEND" start "$o" x --no-such-file-xyz
	case $ERR in *"unknown option $o"*) fail "start --help lists $o, start refuses it" ;; esac
done
for applet in restart reload; do
	run "$TEND" "$applet" --help
	for o in $opts; do
		printf '%s\n' "$OUT" | grep -q -- "$o" || fail "$applet --help does not list $o"
	done
done

# ---- every applet is in the manual: its section, or its synopsis in another's -----------------
for a in $("$TEND" --help | sed -n '/^applets:/,$p' | awk 'NR > 1 && /^  [a-zA-Z]/ { print $1 }'); do
	grep -q -e "^\.SS $a\$" -e "^\.B tend $a\$" "$TOP/man/tend.1" || fail "applet $a has no place in tend(1)"
done
