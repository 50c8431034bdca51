# tend deploy against real sshd hosts: three `sshd -D` on 127.0.0.2, .3 and .4, each
# with its own host key, port and HOME (so "~/..." paths differ), logged into with a key
# made here; the repository is a bare git repo made here; tend on the hosts is the
# binary under test. Setup and deploy (the layout, .deploys, curr, prev, list), two
# deploys and revert 1 twice (no flip-flop), exec, a numeric port, a path with blanks
# and a hook with quotes, a failing post-deploy on the second of three hosts (sequential
# and --parallel 3 --keep-going), parallel hosts at once, the lock, the health gate
# (a release that dies: current back, the old app answering all along), PM2's layout.
. "$TEND_TOP/test/lib.sh"
. "$TEND_TOP/test/lib/sshd.sh"

for tool in ssh ssh-keygen git curl; do
	command -v "$tool" >/dev/null || fail "$tool is needed (openssh-client, git, curl: test/packages)"
done
[ -x /usr/sbin/sshd ] || fail "sshd is needed (openssh-server, test/packages)"
command -v node >/dev/null || fail "node is needed"
cd "$T" || fail "cannot cd to $T"
mkdir -p /run/sshd   # sshd's privilege separation directory (the package's tmpfiles make it at boot)

# ---- the hosts ------------------------------------------------------------------------------------
mkdir -p bin
ln -s "$TEND" bin/tend
ssh-keygen -q -t ed25519 -N '' -f "$T/id" || fail "ssh-keygen"
PORTS=
for i in 1 2 3; do
	h=$T/host$i
	port=$(free_port)
	sshd_host "$h" "127.0.0.$((i + 1))" "$port" "$T/id.pub" "$T/bin" || fail "sshd_host $i"
	/usr/sbin/sshd -D -e -f "$h/sshd_config" 2>"$h/sshd.log" &
	track_pid $!
	PORTS="$PORTS $port"
	eval "PORT$i=$port"
done
ssh_ok() { ssh -i "$T/id" -p "$2" -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
	-o UserKnownHostsFile="$T/known_hosts" "root@$1" true 2>/dev/null; }
for i in 1 2 3; do
	eval "p=\$PORT$i"
	wait_for 20 ssh_ok "127.0.0.$((i + 1))" "$p"
done
H1=$T/host1/home H2=$T/host2/home H3=$T/host3/home
# the apps the hosts run: tend there, each host its own home (~/.tend)
on_host() { (export TEND_HOME="$1/.tend"; shift; "$TEND" "$@"); }
on_exit "for h in $H1 $H2 $H3; do TEND_HOME=\$h/.tend \"$TEND\" kill >/dev/null 2>&1; done"

# ---- the repository and the ecosystem file --------------------------------------------------------
git init -q --bare repo.git
git clone -q repo.git work 2>/dev/null
cd work || fail "cd work"
git config user.email t@example.com
git config user.name t
APP_PORT=$(free_port)
cat >server.js <<'EOF'
require('http').createServer((q, r) => r.end('v=' + process.env.V + '\n')).listen(process.env.PORT);
EOF
# deploy_file HOSTS [KEY: VALUE...]: ecosystem.json with one env "prod" for those hosts
deploy_file() {
	hosts=$1
	shift
	extra=
	for kv in "$@"; do extra="$extra, $kv"; done
	cat >ecosystem.json <<EOF
{
  "apps": [{"name": "web", "script": "server.js", "exec_mode": "cluster", "instances": 1,
            "port": $APP_PORT, "env": {"V": "$(cat version)"}}],
  "deploy": {
    "prod": {
      "user": "root", "host": [$hosts], "key": "$T/id",
      "ssh_options": ["UserKnownHostsFile=$T/known_hosts", "StrictHostKeyChecking=accept-new"],
      "ref": "origin/master", "repo": "$T/repo.git", "path": "~/my app"$extra
    }
  }
}
EOF
}
host() { eval "echo \"{\\\"host\\\": \\\"127.0.0.$(($1 + 1))\\\", \\\"port\\\": \$PORT$1}\""; }
commit() { # commit VERSION: the app says v=VERSION
	echo "$1" >version
	deploy_file "$(host 1)" "$(cat extra 2>/dev/null)"
	git add -A && git commit -qm "$1" && git push -q origin HEAD:master 2>/dev/null || fail "push $1"
}
: >extra
commit one
D="$TEND deploy"

# ---- PM2's check: local changes not committed stop a deploy, unless --force ------------------------
echo '// draft' >>server.js
run $D prod
expect_rc 1
expect_err_has "commit or stash your changes before deploying"
git checkout -q server.js
# from here the deploy section changes locally between runs, as it does for PM2 users: --force
D="$TEND deploy --force"

# ---- setup, deploy: the layout, .deploys, curr, prev, list ------------------------------------------
run $D prod setup
expect_rc 0
[ -d "$H1/my app/repo" ] && [ -d "$H1/my app/releases" ] && [ -d "$H1/my app/shared" ] || fail "setup's layout: $(ls -a "$H1/my app")"
run $D prod
expect_rc 0
expect_out_has "deployed "
cur1=$(readlink "$H1/my app/current")
case $cur1 in releases/*-*) ;; *) fail "current -> '$cur1'" ;; esac
[ "$(curl -s "http://127.0.0.1:$APP_PORT/")" = "v=one" ] || fail "the app does not answer v=one"
sha1=$(git rev-parse HEAD)
awk -F '\t' -v s="$sha1" 'NF == 6 && $1 == s && $5 == "ok" { f = 1 } END { exit !f }' "$H1/my app/.deploys" ||
	fail ".deploys: $(cat "$H1/my app/.deploys")"
commit two
run $D prod
expect_rc 0
[ "$(curl -s "http://127.0.0.1:$APP_PORT/")" = "v=two" ] || fail "the second deploy does not answer v=two"
sha2=$(git rev-parse HEAD)
run $D prod curr
expect_rc 0
[ "$(printf '%s' "$OUT" | cut -f1)" = "$(git rev-parse --short HEAD)" ] || fail "curr: $OUT"
run $D prod prev
[ "$(printf '%s' "$OUT" | cut -f1)" = "$sha1" ] || fail "prev: $OUT"
run $D prod list
[ "$(printf '%s\n' "$OUT" | cut -f1,2 | tr '\t\n' ' ')" = "0 $sha2 1 $sha1 " ] || fail "list: $OUT"

# ---- revert 1 twice: back one release, then no further (no flip-flop) --------------------------------
run $D prod revert 1
expect_rc 0
[ "$(readlink "$H1/my app/current")" = "$cur1" ] || fail "revert 1: current -> $(readlink "$H1/my app/current")"
[ "$(curl -s "http://127.0.0.1:$APP_PORT/")" = "v=one" ] || fail "after revert the app is not v=one"
run $D prod revert 1
expect_rc 1
expect_out_has "failed: revert 1: only 0 successful release(s) before"
[ "$(readlink "$H1/my app/current")" = "$cur1" ] || fail "a second revert moved current"
run $D prod   # (forward again: the file's ref)
expect_rc 0

# ---- ref REF and a bare REF: that commit instead of the file's ref --------------------------------------
run $D prod ref "$sha1"
expect_rc 0
case $(readlink "$H1/my app/current") in *-"$(printf '%.7s' "$sha1")") ;; *) fail "ref $sha1: current -> $(readlink "$H1/my app/current")" ;; esac
[ "$(curl -s "http://127.0.0.1:$APP_PORT/")" = "v=one" ] || fail "ref: the app is not v=one"
run $D prod master
expect_rc 0
case $(readlink "$H1/my app/current") in *-"$(printf '%.7s' "$sha2")") ;; *) fail "a bare ref: current -> $(readlink "$H1/my app/current")" ;; esac
run $D prod revert 1   # (back to the release of ref sha1, for what follows)
expect_rc 0
cur1=$(readlink "$H1/my app/current")

# ---- exec; a hook with quotes; the path with a blank ---------------------------------------------------
deploy_file "$(host 1)" '"env": {"GREETING": "hi there", "QUOTED": "it'"'"'s"}'
run $D prod exec 'echo "home=$HOME dir=$(pwd) $GREETING $QUOTED"'
expect_rc 0
[ "$OUT" = "home=$H1 dir=$H1/my app/current hi there it's" ] || fail "exec: $OUT"
"$PY" -c 'import json, sys; print("\"pre-deploy\": " + json.dumps("echo \"it'"'"'s \\\"quoted\\\" $HOME\" >\"%s/hook out.txt\"" % sys.argv[1]))' "$T" >extra
commit three
run $D prod
expect_rc 0
[ "$(cat "$T/hook out.txt")" = "it's \"quoted\" $H1" ] || fail "the hook with quotes wrote: $(cat "$T/hook out.txt")"
: >extra

# ---- three hosts: the second fails its post-deploy -------------------------------------------------------
deploy_three() { # deploy_three EXTRA...: the file for three hosts
	deploy_file "$(host 1), $(host 2), $(host 3)" "$@"
}
# (the three hosts are this machine: their apps would want the same port; not started here)
fail_on_2='"post-deploy": "case $HOME in *host2*) exit 7;; esac", "health": ""'
deploy_three
run $D prod setup
expect_rc 0
deploy_three "$fail_on_2"
before2=$(readlink "$H2/my app/current" 2>/dev/null)
run $D prod
expect_rc 1
printf '%s\n' "$OUT" | grep -q "^root@127.0.0.2:$PORT1 .* ok$" || fail "host 1: $OUT"
printf '%s\n' "$OUT" | grep -q "^root@127.0.0.3:$PORT2 .*failed: " || fail "host 2 did not fail: $OUT"
printf '%s\n' "$OUT" | grep -q "^root@127.0.0.4:$PORT3 .*skipped" || fail "host 3 was not skipped: $OUT"
[ "$(readlink "$H2/my app/current" 2>/dev/null)" = "$before2" ] || fail "host 2's current changed"
[ ! -e "$H3/my app/current" ] || fail "host 3 was touched"
expect_out_has "[root@127.0.0.2:$PORT1] "
run $D prod --parallel 3 --keep-going
expect_rc 1
printf '%s\n' "$OUT" | grep -q "^root@127.0.0.4:$PORT3 .* ok$" || fail "host 3 with --keep-going: $OUT"

# ---- at once: three hosts with a 2 s hook take about 2 s, not 6 -----------------------------------------
deploy_three '"pre-deploy": "sleep 2"' '"post-deploy": "true"' '"health": ""'
start=$(date +%s%N)
run $D prod --parallel 3
expect_rc 0
took=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$took" -lt 6000 ] || fail "--parallel 3 took ${took} ms: the hosts did not run at once"

# ---- the lock: a second deploy to the same path fails fast and says who holds it -----------------------
deploy_file "$(host 1)" '"pre-deploy": "sleep 3"'
$D prod >"$T/first.out" 2>&1 &
first=$!
wait_for 20 test -d "$H1/my app/.deploy.lock"
run $D prod
expect_rc 1
expect_out_has "locked: "
expect_err_has "another deploy to"
wait $first || fail "the first deploy failed: $(cat "$T/first.out")"
[ ! -e "$H1/my app/.deploy.lock" ] || fail "the lock stayed"
# a lock a dead deploy left: refused until --force-unlock
mkdir "$H1/my app/.deploy.lock" && echo "gone@elsewhere pid 1" >"$H1/my app/.deploy.lock/owner"
deploy_file "$(host 1)" '"post-deploy": "true"' '"health": false'
run $D prod
expect_rc 1
expect_err_has "gone@elsewhere pid 1"
run $D prod --force-unlock
expect_rc 0
[ ! -e "$H1/my app/.deploy.lock" ] || fail "--force-unlock left the lock"

# the same commit twice at once: two releases, both recorded
n0=$(ls "$H1/my app/releases" | wc -l)
run $D prod
expect_rc 0
run $D prod
expect_rc 0
[ "$(ls "$H1/my app/releases" | wc -l)" -ge $((n0 < 4 ? n0 + 1 : 5)) ] || fail "two quick deploys: $(ls "$H1/my app/releases")"

# ---- the gate as a command and as a URL ---------------------------------------------------------------
deploy_file "$(host 1)" '"post-deploy": "true"' '"health": "test -f ready-flag"' '"health_timeout": 3'
kept=$(readlink "$H1/my app/current")
run $D prod
expect_rc 1
[ "$(readlink "$H1/my app/current")" = "$kept" ] || fail "a failing health command left current moved"
deploy_file "$(host 1)" '"post-deploy": "touch ready-flag"' '"health": "test -f ready-flag"'
run $D prod
expect_rc 0
expect_out_has "health: passed"
APP_URL=http://127.0.0.1:$APP_PORT/
deploy_file "$(host 1)" "\"health\": \"$APP_URL\""
run $D prod
expect_rc 0
expect_out_has "health: waiting for $APP_URL"
deploy_file "$(host 1)" '"post-deploy": "true"' '"health": "http://127.0.0.1:9/nothing"' '"health_timeout": 2'
run $D prod
expect_rc 1

# ---- the health gate: a release whose app dies at once; the old one answers all along -----------------
deploy_file "$(host 1)"
run $D prod
expect_rc 0
good=$(readlink "$H1/my app/current")
cat >"$T/loop.py" <<'EOF'
import os, sys, time, urllib.request
port, stop = sys.argv[1], sys.argv[2]
ok = bad = 0
while not os.path.exists(stop):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/" % port, timeout=5).read(); ok += 1
    except Exception as e:
        bad += 1; print("failed:", e, flush=True)
print("ok=%d bad=%d" % (ok, bad), flush=True)
EOF
"$PY" "$T/loop.py" "$APP_PORT" "$T/stop" >"$T/loop.out" &
loop=$!
track_pid $loop
echo 'process.exit(3);' >server.js
printf '"post-deploy": "tend startOrReload ecosystem.json --env prod", "health_timeout": 5' >extra
commit dies
run $D prod
expect_rc 1
[ "$(readlink "$H1/my app/current")" = "$good" ] || fail "the failed release left current -> $(readlink "$H1/my app/current")"
expect_out_has "back to"
touch "$T/stop"
wait $loop
grep -q '^ok=[1-9][0-9]* bad=0$' "$T/loop.out" || fail "requests failed during the failed deploy: $(tail -n 3 "$T/loop.out")"
awk -F '\t' '$5 == "failed"' "$H1/my app/.deploys" | grep -q . || fail "the failure is not in .deploys"
# the gate itself: a release that comes up, then dies half a second later, over and over
cat >server.js <<'EOF'
require('http').createServer((q, r) => r.end('v=' + process.env.V + '\n')).listen(process.env.PORT);
setTimeout(() => process.exit(1), 500);
EOF
commit flaps
run $D prod
expect_rc 1
expect_out_has "health: waiting for apps"
[ "$(readlink "$H1/my app/current")" = "$good" ] || fail "the flapping release left current -> $(readlink "$H1/my app/current")"
[ "$(curl -s "http://127.0.0.1:$APP_PORT/")" = "v=fixed-before" ] || [ "$(curl -s "http://127.0.0.1:$APP_PORT/")" != "" ] ||
	fail "nothing answers after the rollback"
git checkout -q HEAD~2 -- server.js && : >extra && commit fixed

# ---- shared entries: links into PATH/shared, kept across releases; old releases pruned ------------------
deploy_file "$(host 1)" '"shared": ["data", "conf/app.env"]' '"keep_releases": 2'
run $D prod
expect_rc 0
[ "$(readlink "$H1/my app/current/data")" = "$H1/my app/shared/data" ] || fail "shared data: $(ls -l "$H1/my app/current/")"
[ "$(readlink "$H1/my app/current/conf/app.env")" = "$H1/my app/shared/conf/app.env" ] || fail "shared conf/app.env"
echo kept >"$H1/my app/current/data/file"
run $D prod
expect_rc 0
[ "$(cat "$H1/my app/current/data/file")" = kept ] || fail "shared data did not carry over"
[ "$(ls "$H1/my app/releases" | wc -l)" -le 2 ] || fail "keep_releases 2: $(ls "$H1/my app/releases")"

# ---- layout "pm2": PM2's tree ----------------------------------------------------------------------------
deploy_file "$(host 2)" '"layout": "pm2"' '"path": "~/pm2 app"' '"post-deploy": "true"' '"health": ""'
sed -i 's|"path": "~/my app",|"path": "~/pm2 app",|; s|, "path": "~/pm2 app"}|}|' ecosystem.json
run $D prod setup
expect_rc 0
run $D prod
expect_rc 0
P2="$H2/pm2 app"
[ "$(readlink "$P2/current")" = "$P2/source" ] || fail "pm2 layout: current -> $(readlink "$P2/current")"
[ -d "$P2/source/.git" ] && [ -d "$P2/shared/logs" ] && [ -d "$P2/shared/pids" ] || fail "pm2 layout: $(ls -aR "$P2" | head -n 20)"
[ "$(cat "$P2/.deploys")" = "$(git rev-parse HEAD)" ] || fail "pm2 layout .deploys: $(cat "$P2/.deploys")"
[ "$(ls -A "$P2" | tr '\n' ' ')" = ".deploys current shared source " ] || fail "pm2 layout, more than PM2's: $(ls -A "$P2")"
# the same tree as PM2's own deploy leaves (pm2 from npm, against the same host)
DEPS=$TOP/build/test-deps/pm2
mkdir -p "$DEPS"
flock "$DEPS/.lock" sh -c "[ -x '$DEPS/node_modules/.bin/pm2' ] || timeout 300 npm install --prefix '$DEPS' \
	--no-audit --no-fund --loglevel=error pm2@7" >"$T/npm.log" 2>&1 || fail "npm install pm2: $(tail -n 3 "$T/npm.log")"
mkdir -p "$T/pm2side"
"$PY" - "$T" "$PORT2" <<'PY' >"$T/pm2side/ecosystem.json"
import json, sys
t, port = sys.argv[1], sys.argv[2]
print(json.dumps({"apps": [], "deploy": {"prod": {
    "user": "root", "host": "127.0.0.3", "port": port, "key": t + "/id",
    "ssh_options": ["UserKnownHostsFile=" + t + "/known_hosts", "StrictHostKeyChecking=accept-new", "BatchMode=yes"],
    "ref": "origin/master", "repo": t + "/repo.git", "path": t + "/host2/home/pm2-made", "post-deploy": "true"}}}))
PY
(cd "$T/pm2side" && PM2_HOME="$T/pm2home" "$DEPS/node_modules/.bin/pm2" deploy ecosystem.json prod setup &&
	PM2_HOME="$T/pm2home" "$DEPS/node_modules/.bin/pm2" deploy ecosystem.json prod --force) >"$T/pm2deploy.out" 2>&1 ||
	fail "pm2 deploy: $(tail -n 5 "$T/pm2deploy.out")"
tree() { (cd "$1" && find . -path ./source -prune -o -printf '%p %y\n' | sort; readlink current | sed "s|^$1|PATH|"; cat .deploys); }
tree "$H2/pm2-made" >"$T/tree.pm2"
tree "$P2" >"$T/tree.tend"
diff "$T/tree.pm2" "$T/tree.tend" >"$T/tree.diff" || fail "layout pm2 differs from PM2's own: $(cat "$T/tree.diff")"

# ---- a file with a deploy section and no apps is a deploy file all the same ---------------------------
"$PY" -c 'import json; d = json.load(open("ecosystem.json")); d["apps"] = []; json.dump(d, open("deploy-only.json", "w"))'
run $D deploy-only.json prod list
expect_rc 0
[ "$(printf '%s' "$OUT" | cut -f2)" = "$(git rev-parse HEAD)" ] || fail "list from a file without apps: $OUT"

# ---- bad input: exit 2, one line ---------------------------------------------------------------------------
run $D nosuch
expect_rc 2
expect_err_has "no environment nosuch"
expect_err_has "there: prod"
deploy_file "$(host 1)" '"port": "x"'
sed -i 's/"port": [0-9]*}/}/' ecosystem.json
run $D prod
expect_rc 2
expect_err_has "port: expected a number"
run $D prod revert x
expect_rc 2
run $D prod exec
expect_rc 2
(cd "$T" && "$TEND" deploy prod) >/dev/null 2>"$T/nofile.err"
[ $? = 2 ] || fail "no file: not exit 2"
run $D help
expect_rc 0
expect_out_has "usage: tend deploy"
