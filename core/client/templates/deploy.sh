# The remote half of `tend deploy`, run by `sh -s` on each host over ssh. tend puts the
# settings before this text, every value quoted for the shell:
#   CMD (setup, update, revert, curr, prev, list, exec), ARG (revert's N, exec's command),
#   P (the path), REPO, REF, LAYOUT (releases or pm2), KEEP, DEPTH ("" or --depth=5),
#   FILE (the ecosystem file, relative to a release), TEND (tend or pm2 on the host),
#   GATE ("" none, "apps", a URL or a command), GATE_SECONDS, WHO (who deploys),
#   FORCE_UNLOCK (1 or ""), the hooks HOOK_PRE_SETUP, HOOK_POST_SETUP, HOOK_PRE_DEPLOY,
#   HOOK_POST_DEPLOY, the shared entries as "$@", and the exports of the env section.
# It prints what it does, one line each; the last line of a failure says why. Exit
# status: 0 done, 1 failed, 3 another deploy holds the lock.
set -u
umask 022

say() { printf '%s\n' "$*"; }
die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

case $P in
"~") P=$HOME ;;
"~/"*) P=$HOME/${P#"~/"} ;;
esac
SHARED=$P/shared
export SHARED

# run_hook NAME DIR TEXT: the hook's text in DIR, with the env section's variables;
# hook ends the script when it fails, hook_ok returns its status
run_hook() {
	[ -n "$3" ] || return 0
	say "$1: $3"
	(cd "$2" && sh -c "$3")
}
hook() { run_hook "$@" || die "$1 failed"; }
hook_ok() {
	run_hook "$@" || {
		say "$1 failed"
		return 1
	}
}

# ---- the lock: one deploy at a time per path --------------------------------------------------
LOCKED=
lock() {
	mkdir -p "$P" || die "cannot make $P"
	[ "$FORCE_UNLOCK" = 1 ] && rm -rf "$P/.deploy.lock"
	if ! mkdir "$P/.deploy.lock" 2>/dev/null; then
		printf 'error: locked: another deploy to %s is under way (%s); --force-unlock if it is gone\n' \
			"$P" "$(cat "$P/.deploy.lock/owner" 2>/dev/null || echo 'owner unknown')" >&2
		exit 3
	fi
	LOCKED=1
	printf '%s pid %s since %s ref %s\n' "$WHO" "$$" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$REF" \
		>"$P/.deploy.lock/owner"
	trap 'unlock' EXIT
	trap 'exit 1' INT TERM HUP
}
unlock() {
	[ -n "$LOCKED" ] && rm -rf "$P/.deploy.lock"
	LOCKED=
}

# ---- the health gate: the apps online and staying so, or the URL or command passing ------------
# (twice in a row, a second apart, within GATE_SECONDS)
gate_once() {
	case $GATE in
	apps)
		[ -f "$1/$FILE" ] || return 0
		out=$(cd "$1" && "$TEND" list -m "$FILE" 2>&1) || return 1
		[ -n "$out" ] || return 1
		printf '%s\n' "$out" | awk '$3 != "online" { bad = 1 } END { exit bad }' || return 1
		pids=$(printf '%s\n' "$out" | awk '{ print $4 }' | tr '\n' ' ')
		;;
	http://* | https://*)
		if command -v curl >/dev/null; then
			curl -fsS -o /dev/null --max-time 5 "$GATE" 2>/dev/null || return 1
		else
			wget -q -O /dev/null -T 5 "$GATE" 2>/dev/null || return 1
		fi
		;;
	*) (cd "$1" && sh -c "$GATE") >/dev/null 2>&1 || return 1 ;;
	esac
}
gate() {
	[ -n "$GATE" ] || return 0
	say "health: waiting for $GATE (up to ${GATE_SECONDS}s)"
	end=$(($(date +%s) + GATE_SECONDS))
	passed=0 last=
	while :; do
		pids=
		if gate_once "$1"; then
			if [ "$passed" -gt 0 ] && [ "$pids" = "$last" ]; then
				say "health: passed"
				return 0
			fi
			passed=1 last=$pids
		else
			passed=0
		fi
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 1
	done
}

# ---- the releases layout ------------------------------------------------------------------------
# P/repo (a mirror of REPO), P/releases/TIME-SHA (one checkout each), P/shared, P/current ->
# releases/NAME, P/.deploys: SHA TIME WHO REF RESULT RELEASE, tab-separated.

current_release() { readlink "$P/current" 2>/dev/null | sed 's|.*/||'; }

record() { # record SHA RESULT RELEASE
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$WHO" "$REF" "$2" "$3" \
		>>"$P/.deploys" || die "cannot write $P/.deploys"
}

# switch NAME: P/current -> releases/NAME, in one rename
switch() {
	ln -s "releases/$1" "$P/current.new" || die "cannot link $P/current.new"
	mv -T "$P/current.new" "$P/current" 2>/dev/null || {
		rm -f "$P/current.new"
		ln -sfn "releases/$1" "$P/current" || die "cannot switch $P/current"
	}
	say "current -> releases/$1"
}

# The successful releases that still exist, oldest first.
good_releases() {
	[ -f "$P/.deploys" ] || return 0
	awk -F '\t' '$5 == "ok" { print $6 }' "$P/.deploys" | while read -r r; do
		[ -d "$P/releases/$r" ] && printf '%s\n' "$r"
	done | awk '!seen[$0]++'
}

releases_setup() {
	hook pre-setup "$HOME" "$HOOK_PRE_SETUP"
	mkdir -p "$P/releases" "$P/shared" || die "cannot make $P/releases and $P/shared"
	if [ -d "$P/repo" ]; then
		say "$P/repo is there: kept"
		git -C "$P/repo" remote set-url origin "$REPO" || die "cannot set the repository"
	else
		say "cloning $REPO"
		git clone -q --mirror "$REPO" "$P/repo" || die "cannot clone $REPO"
	fi
	hook post-setup "$P" "$HOOK_POST_SETUP"
	say "setup done"
}

link_shared() { # link_shared RELEASE_DIR: each shared entry a link into P/shared
	for s in "$@"; do
		[ -n "$s" ] || continue
		if [ ! -e "$SHARED/$s" ]; then
			mkdir -p "$(dirname "$SHARED/$s")"
			if [ -e "$REL/$s" ]; then cp -R "$REL/$s" "$SHARED/$s"; else mkdir -p "$SHARED/$s"; fi
		fi
		rm -rf "${REL:?}/$s"
		mkdir -p "$(dirname "$REL/$s")"
		ln -s "$SHARED/$s" "$REL/$s" || die "cannot link $s"
	done
}

# prune: the KEEP newest successful releases stay, the current one always
prune() {
	cur=$(current_release)
	keep=$(good_releases | tail -n "$KEEP")
	for d in "$P"/releases/*; do
		[ -d "$d" ] || continue
		r=${d##*/}
		[ "$r" = "$cur" ] && continue
		printf '%s\n' "$keep" | grep -qx "$r" && continue
		rm -rf "$d" && say "removed old release $r"
	done
}

releases_update() {
	lock
	[ -d "$P/repo" ] || die "$P is not set up: tend deploy ENV setup"
	prev=$(current_release)
	dir=$P
	[ -n "$prev" ] && dir=$P/current
	hook pre-deploy "$dir" "$HOOK_PRE_DEPLOY"
	say "fetching $REPO"
	git -C "$P/repo" remote update --prune >/dev/null 2>&1 || die "cannot fetch $REPO"
	sha=$(git -C "$P/repo" rev-parse -q --verify "$REF^{commit}" 2>/dev/null ||
		git -C "$P/repo" rev-parse -q --verify "${REF#*/}^{commit}" 2>/dev/null) ||
		die "$REF: no such branch, tag or commit in $REPO"
	base=$(date -u +%Y%m%dT%H%M%SZ)-$(printf '%.7s' "$sha")
	name=$base n=1
	while [ -e "$P/releases/$name" ]; do   # (the same commit twice in a second)
		n=$((n + 1))
		name=$base-$n
	done
	REL=$P/releases/$name
	say "release $name: $REF at $sha"
	git clone -q --no-checkout "$P/repo" "$REL" && git -C "$REL" checkout -q "$sha" ||
		die "cannot check $sha out into $REL"
	link_shared "$@"
	switch "$name"
	if hook_ok post-deploy "$REL" "$HOOK_POST_DEPLOY" && gate "$REL"; then
		record "$sha" ok "$name"
		prune
		say "deployed $name"
		return 0
	fi
	say "the release failed: back to ${prev:-nothing}"
	if [ -n "$prev" ] && [ -d "$P/releases/$prev" ]; then
		switch "$prev"
		hook_ok post-deploy "$P/releases/$prev" "$HOOK_POST_DEPLOY" || say "the post-deploy of $prev failed too"
	else
		rm -f "$P/current"
	fi
	record "$sha" failed "$name"
	rm -rf "$REL"
	die "deploy of $REF failed; current is ${prev:-gone}"
}

# revert N: current goes to the Nth successful release before it; nothing is fetched or
# checked out, history is not rewritten: a second revert 1 goes one further back.
releases_revert() {
	lock
	cur=$(current_release)
	[ -n "$cur" ] || die "no current release"
	list=$(good_releases)
	pos=$(printf '%s\n' "$list" | grep -nx "$cur" | cut -d: -f1)
	[ -n "$pos" ] || die "the current release $cur is not one deployed with success"
	want=$((pos - ARG))
	[ "$want" -ge 1 ] || die "revert $ARG: only $((pos - 1)) successful release(s) before $cur"
	target=$(printf '%s\n' "$list" | sed -n "${want}p")
	REL=$P/releases/$target
	switch "$target"
	if hook_ok post-deploy "$REL" "$HOOK_POST_DEPLOY" && gate "$REL"; then
		record "$(git -C "$REL" rev-parse HEAD)" revert "$target"
		say "reverted to $target"
		return 0
	fi
	switch "$cur"
	hook_ok post-deploy "$P/releases/$cur" "$HOOK_POST_DEPLOY" || true
	die "revert to $target failed; current is $cur again"
}

releases_curr() {
	cur=$(current_release)
	[ -n "$cur" ] || die "no current release"
	printf '%s\t%s\n' "$(git -C "$P/releases/$cur" rev-parse --short HEAD)" "$cur"
}

releases_prev() {
	cur=$(current_release)
	prev=$(good_releases | grep -vx "$cur" | awk -v c="$cur" '$0 < c' | tail -n 1)
	[ -n "$prev" ] || die "no release before $cur"
	printf '%s\t%s\n' "$(git -C "$P/releases/$prev" rev-parse HEAD)" "$prev"
}

releases_list() {
	[ -f "$P/.deploys" ] || die "no deploys yet"
	awk -F '\t' '{ l[NR] = $0 } END { for (i = NR; i >= 1; i--) printf "%d\t%s\n", NR - i, l[i] }' "$P/.deploys"
}

# ---- PM2's layout, as pm2 deploy leaves it --------------------------------------------------------
# P/source (one clone, reset to each ref), P/current -> P/source, P/shared/{logs,pids},
# P/.deploys: one full SHA per line; a revert deploys that SHA again.

pm2_setup() {
	hook pre-setup "$HOME" "$HOOK_PRE_SETUP"
	mkdir -p "$P/shared/logs" "$P/shared/pids" "$P/source" || die "setup paths failed"
	say "cloning $REPO"
	git clone -q $DEPTH --branch "${REF#*/}" "$REPO" "$P/source" || die "failed to clone"
	ln -sfn "$P/source" "$P/current" || die "symlink failed"
	hook post-setup "$P/current" "$HOOK_POST_SETUP"
	say "setup done"
}

pm2_update() {
	lock
	[ -d "$P/source" ] || die "$P is not set up: tend deploy ENV setup"
	hook pre-deploy "$P/current" "$HOOK_PRE_DEPLOY"
	say "fetching updates"
	(cd "$P/source" && git fetch -q $DEPTH --all --tags) || die "fetch failed"
	say "resetting HEAD to $REF"
	(cd "$P/source" && git reset -q --hard "$REF") || die "git reset failed"
	ln -sfn "$P/source" "$P/current" || die "symlink failed"
	(cd "$P/source" && git rev-parse HEAD) >>"$P/.deploys" || die "deploy log append failed"
	hook post-deploy "$P/current" "$HOOK_POST_DEPLOY"
	gate "$P/current" || die "health: failed within ${GATE_SECONDS}s"
	say "deployed $REF"
}

pm2_revert() {
	sha=$(tail -n $((ARG + 1)) "$P/.deploys" 2>/dev/null | head -n 1)
	[ -n "$sha" ] || die "no deploy to revert to"
	REF=$sha
	pm2_update
}

pm2_curr() { (cd "$P/source" && git rev-parse --short HEAD); }
pm2_prev() { tail -n 2 "$P/.deploys" | head -n 1; }
pm2_list() { awk '{ l[NR] = $0 } END { for (i = NR; i >= 1; i--) printf "%d\t%s\n", NR - i, l[i] }' "$P/.deploys"; }

# ---- the command ---------------------------------------------------------------------------------
case $CMD in
setup) ${LAYOUT}_setup ;;
update) ${LAYOUT}_update "$@" ;;
revert) ${LAYOUT}_revert ;;
curr) ${LAYOUT}_curr ;;
prev) ${LAYOUT}_prev ;;
list) ${LAYOUT}_list ;;
exec)
	cd "$P/current" 2>/dev/null || cd "$P" || die "no $P"
	sh -c "$ARG"
	;;
*) die "unknown command $CMD" ;;
esac
