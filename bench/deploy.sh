#!/bin/bash
# Deploys side by side: tend deploy (one host after another, and all at once) against
# pm2 deploy (PM2's pm2-deploy, one after another: it has no other way) to 1, 4 and 8
# loopback hosts, each a real sshd on 127.0.0.N with its own port and HOME.
#
#   bench/deploy.sh TEND_BIN [--only tend|pm2]
#
# Both tools deploy the same repository (a bare git repo here, a few files) with the same
# pre-deploy hook (BENCH_DEPLOY_HOOK, default "sleep 1": the work a host does besides
# git) and a post-deploy of "true"; tend's health gate is off (PM2 has none). Each
# (tool, hosts, mode) is set up once, then deployed BENCH_DEPLOY_RUNS times (5): the
# median wall time goes in the table (stdout and bench/results/deploy.md). No
# thresholds: the machine is shared and noisy.
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"
. "$ROOT/test/lib/sshd.sh"
bench_args "$@"

RUNS=${BENCH_DEPLOY_RUNS:-5}
HOOK=${BENCH_DEPLOY_HOOK:-sleep 1}
[[ $RUNS =~ ^[0-9]+$ ]] && [ "$RUNS" -ge 1 ] || { echo "bench: BENCH_DEPLOY_RUNS must be a whole number" >&2; exit 2; }
DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
LOG=$RESULTS/deploy.log
SAY_TAG=deploybench
NODE=$(command -v node || echo /usr/bin/node)
H=   # (no daemon of the bench's own: cleanup has none to stop)
declare -A R NOTE

bench_workdir deploy
trap cleanup EXIT
trap 'exit 130' INT TERM
: >"$LOG"

[ -x /usr/sbin/sshd ] || timeout 300 "$ROOT/vendor/deps.sh" pkgs openssh-server openssh-client git >>"$RESULTS/install.log" 2>&1
[ -x /usr/sbin/sshd ] || { say "no sshd"; exit 1; }
[ "$ONLY" = tend ] || install_pm2
mkdir -p /run/sshd "$WORK/bin"
ln -s "$TEND_BIN" "$WORK/bin/tend"
ssh-keygen -q -t ed25519 -N '' -f "$WORK/id"

# ---- eight hosts: one port on eight addresses (pm2-deploy takes one port for all), and
# one path that is each host's own (pm2-deploy takes one path for all): each sshd has a
# mount namespace with its own tmpfs on $WORK/mnt ----------------------------------------------------
PORT=$(free_port)
mkdir -p "$WORK/mnt"
for i in 1 2 3 4 5 6 7 8; do
	h=$WORK/host$i
	sshd_host "$h" "127.0.0.$((i + 1))" "$PORT" "$WORK/id.pub" "$WORK/bin" || exit 1
	unshare --mount sh -c 'mount -t tmpfs tmpfs "$1" && exec /usr/sbin/sshd -D -e -f "$2"' sh \
		"$WORK/mnt" "$h/sshd_config" 2>>"$LOG" &
	track $!
	disown $!   # (its end at cleanup is ours: no word from the shell about it)
done
for i in 1 2 3 4 5 6 7 8; do
	deadline=$(( $(now_us) + 20000000 ))
	until ssh -i "$WORK/id" -p "$PORT" -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
		-o UserKnownHostsFile="$WORK/known_hosts" "root@127.0.0.$((i + 1))" true 2>/dev/null; do
		[ "$(now_us)" -lt "$deadline" ] || { say "host $i does not answer"; exit 1; }
		sleep 0.2
	done
done

# ---- the repository -------------------------------------------------------------------------------
git init -q --bare "$WORK/repo.git"
git clone -q "$WORK/repo.git" "$WORK/src" 2>/dev/null
(
	cd "$WORK/src" || exit 1
	git config user.email b@example.com && git config user.name bench
	for f in 1 2 3 4 5 6 7 8 9 10; do head -c 20000 /dev/urandom | base64 >"file$f.txt"; done
	echo '{"apps": []}' >ecosystem.json
	git add -A && git commit -qm bench && git push -q origin HEAD:master
) 2>>"$LOG" || { say "the repository could not be made"; exit 1; }

# conf TOOL N: the deploy file for the first N hosts (the port a string: pm2-deploy's
# config reader skips numbers)
conf() {
	local tool=$1 n=$2 i hosts= sep=
	for ((i = 1; i <= n; i++)); do
		hosts="$hosts$sep\"127.0.0.$((i + 1))\""
		sep=", "
	done
	mkdir -p "$WORK/$tool-$n"
	cat >"$WORK/$tool-$n/ecosystem.json" <<EOF
{"apps": [], "deploy": {"bench": {
  "user": "root", "host": [$hosts], "port": "$PORT", "key": "$WORK/id",
  "ssh_options": ["UserKnownHostsFile=$WORK/known_hosts", "StrictHostKeyChecking=accept-new", "BatchMode=yes"],
  "ref": "origin/master", "repo": "$WORK/repo.git", "path": "$WORK/mnt/$tool-$n",
  "pre-deploy": "$HOOK", "post-deploy": "true", "health": false
}}}
EOF
}

deploy_once() { # deploy_once TOOL N MODE [setup]: wall ms in $MS; 0 on success
	local tool=$1 n=$2 mode=$3 cmd=${4:-} start rc
	start=$(now_us)
	if [ "$tool" = tend ]; then
		(cd "$WORK/tend-$n" && timeout 600 "$TEND_BIN" deploy ecosystem.json bench $cmd --force \
			$([ "$mode" = parallel ] && echo --parallel all)) >>"$LOG" 2>&1
	else
		(cd "$WORK/pm2-$n" && PM2_HOME="$WORK/pm2home" timeout 600 "$PM2_BIN" deploy ecosystem.json bench $cmd --force) \
			>>"$LOG" 2>&1
	fi
	rc=$?
	MS=$(( ($(now_us) - start) / 1000 ))
	return $rc
}

measure() { # measure TOOL N MODE: R[TOOL:N:MODE] = median ms
	local tool=$1 n=$2 mode=$3 k ms=()
	conf "$tool" "$n"
	say "$tool: $n host(s), $mode: setup"
	deploy_once "$tool" "$n" "$mode" setup || { NOTE[$tool:$n:$mode]="setup failed"; return; }
	for ((k = 0; k < RUNS; k++)); do
		if ! deploy_once "$tool" "$n" "$mode"; then
			NOTE[$tool:$n:$mode]="failed (bench/results/deploy.log)"
			return
		fi
		ms+=("$MS")
	done
	R[$tool:$n:$mode]=$(median "${ms[@]}")
	say "$tool: $n host(s), $mode: ${R[$tool:$n:$mode]} ms"
}

for n in 1 4 8; do
	if [ "$ONLY" != pm2 ]; then
		measure tend "$n" sequential
		measure tend "$n" parallel   # (on the same setup: a deploy is a deploy)
	fi
	[ "$ONLY" = tend ] || measure pm2 "$n" sequential
done

cell() { if [ -n "${R[$1]:-}" ]; then printf '%s' "$(fmt "$(awk -v v="${R[$1]}" 'BEGIN { print v / 1000 }')")"; else printf '%s' "${NOTE[$1]:-n/a}"; fi; }
edge() { # edge A B: B / A as N×
	if [ -n "${R[$1]:-}" ] && [ -n "${R[$2]:-}" ]; then
		printf '%s×' "$(fmt "$(awk -v a="${R[$1]}" -v b="${R[$2]}" 'BEGIN { print b / a }')")"
	else
		printf '—'
	fi
}
out=$RESULTS/deploy.md
{
	echo "Measured by \`$ARGV_STR\` ($(version_of tend), PM2 $(version_of pm2), $(date -u '+%F'); pre-deploy \"$HOOK\", median of $RUNS deploys, seconds)."
	echo
	echo "| hosts | tend, one after another | tend --parallel all | pm2 deploy | tend's edge (sequential / parallel) |"
	echo "|---:|---:|---:|---:|---:|"
	for n in 1 4 8; do
		echo "| $n | $(cell "tend:$n:sequential") | $(cell "tend:$n:parallel") | $(cell "pm2:$n:sequential") | $(edge "tend:$n:sequential" "pm2:$n:sequential") / $(edge "tend:$n:parallel" "pm2:$n:sequential") |"
	done
} >"$out"
cat "$out"
say "table in ${out#"$ROOT"/}"
