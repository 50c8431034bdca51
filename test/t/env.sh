# Environments: precedence (caller < env < env_NAME < tend's own), what `tend env`
# prints is what the process really got (/proc/PID/environ), restart keeps the
# environment, --update-env takes the caller's (removed variables disappear),
# restarting through a file re-reads it, null and filter_env remove variables,
# instance_var, increment_var and port.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
printf '#!/bin/sh\nexec sleep 1000\n' >"$T/app.sh"
chmod +x "$T/app.sh"

# The environment a running instance really has, sorted, one VAR=value per line.
real_env() { tr '\0' '\n' <"/proc/$("$TEND" pid "$1" | head -n 1)/environ" | sort; }
has() { real_env "$1" | grep -qx "$2"; }
hasnt() { ! real_env "$1" | grep -q "^$2="; }

cat >env.json <<'EOF'
{"apps": [{
  "name": "envapp", "script": "app.sh",
  "env": {"LAYER": "env", "ONLY_ENV": "1", "pm_id": "spoofed", "DROPME": null},
  "env_production": {"LAYER": "production"}
}]}
EOF
LAYER=shell SHELL_ONLY=yes DROPME=inherited "$TEND" start env.json --env production -s ||
	fail "start env.json"
id=$("$TEND" id envapp)
has envapp LAYER=production || fail "env_production does not win over env: $(real_env envapp | grep LAYER)"
has envapp ONLY_ENV=1 || fail "env lost"
has envapp SHELL_ONLY=yes || fail "the caller's environment is missing"
has envapp "pm_id=$id" || fail "tend's pm_id does not win: $(real_env envapp | grep pm_id)"
has envapp name=envapp || fail "name variable"
has envapp NODE_APP_INSTANCE=0 || fail "NODE_APP_INSTANCE"
hasnt envapp DROPME || fail "env null did not remove DROPME"
# tend env prints exactly what the process got.
"$TEND" env "$id" >"$T/tend-env.txt"
real_env envapp >"$T/real-env.txt"
diff "$T/tend-env.txt" "$T/real-env.txt" >"$T/env.diff" || fail "tend env differs from /proc: $(head -c 300 "$T/env.diff")"

# restart keeps what it was started with, whatever the caller has now.
LAYER=other SHELL_ONLY=changed "$TEND" restart envapp -s || fail "restart"
has envapp SHELL_ONLY=yes || fail "restart changed the environment: $(real_env envapp | grep SHELL_ONLY)"
# --update-env takes the caller's: changed values change, unset ones disappear.
env -u SHELL_ONLY NEW_VAR=fresh "$TEND" restart envapp --update-env -s || fail "restart --update-env"
has envapp NEW_VAR=fresh || fail "--update-env: NEW_VAR missing"
hasnt envapp SHELL_ONLY || fail "--update-env: SHELL_ONLY still there (PM2 #3486)"
has envapp LAYER=production || fail "--update-env: declared env lost"
env -u NEW_VAR "$TEND" restart envapp -a -s || fail "restart -a"
hasnt envapp NEW_VAR || fail "-a: NEW_VAR still there"

# Restarting through the file re-reads it: a variable removed from the file goes.
cat >env.json <<'EOF'
{"apps": [{"name": "envapp", "script": "app.sh", "env": {"LAYER": "edited"}}]}
EOF
"$TEND" restart env.json -s || fail "restart env.json"
has envapp LAYER=edited || fail "restart env.json: LAYER is $(real_env envapp | grep LAYER)"
hasnt envapp ONLY_ENV || fail "restart env.json: ONLY_ENV (removed from the file) is still set"
"$TEND" delete all -s

# filter_env, PM2's rules: true drops the caller's environment; a list drops the
# variables whose names contain one of its words; a string drops that one variable.
cat >filter.json <<'EOF'
[{"name": "nofilter", "script": "app.sh"},
 {"name": "bare", "script": "app.sh", "filter_env": true, "env": {"KEEP": "1"}},
 {"name": "some", "script": "app.sh", "filter_env": ["SECRET_"]},
 {"name": "one", "script": "app.sh", "filter_env": "SECRET_TOKEN"}]
EOF
SECRET_TOKEN=x MY_SECRET_KEY=z SECRET_TOKEN2=w OTHER=y "$TEND" start filter.json -s || fail "start filter.json"
has nofilter SECRET_TOKEN=x || fail "no filter_env: SECRET_TOKEN missing"
hasnt bare OTHER || fail "filter_env true: OTHER inherited"
has bare KEEP=1 || fail "filter_env true: declared env lost"
hasnt some SECRET_TOKEN || fail "filter_env [SECRET_]: SECRET_TOKEN inherited"
hasnt some MY_SECRET_KEY || fail "filter_env [SECRET_]: MY_SECRET_KEY (contains it) inherited"
has some OTHER=y || fail "filter_env [SECRET_]: OTHER missing"
hasnt one SECRET_TOKEN || fail "filter_env SECRET_TOKEN: inherited"
has one SECRET_TOKEN2=w || fail "filter_env SECRET_TOKEN (a string: that variable only): SECRET_TOKEN2 dropped"
"$TEND" delete all -s
# On the command line, repeated flags add up, as PM2 collects them.
A_ONE=1 B_TWO=2 C_THREE=3 "$TEND" start app.sh -n cli --filter-env A_ --filter-env TWO -s || fail "start --filter-env x2"
hasnt cli A_ONE || fail "--filter-env A_: A_ONE inherited"
hasnt cli B_TWO || fail "--filter-env TWO (the second flag): B_TWO inherited"
has cli C_THREE=3 || fail "--filter-env: C_THREE dropped"
"$TEND" delete all -s

# instance_var, increment_var, port.
cat >inst.json <<'EOF'
[{"name": "inst", "script": "app.sh", "instances": 3, "instance_var": "INSTANCE_ID",
  "increment_var": "WORKER_PORT", "env": {"WORKER_PORT": "9000"}},
 {"name": "ported", "script": "app.sh", "instances": 2, "port": 4100, "increment_var": "PORT"}]
EOF
"$TEND" start inst.json -s || fail "start inst.json"
for n in 0 1 2; do
	pid=$("$TEND" pid inst | sed -n "$((n + 1))p")
	env=$(tr '\0' '\n' <"/proc/$pid/environ")
	printf '%s\n' "$env" | grep -qx "INSTANCE_ID=$n" || fail "instance $n: INSTANCE_ID"
	printf '%s\n' "$env" | grep -qx "WORKER_PORT=$((9000 + n))" || fail "instance $n: WORKER_PORT"
	printf '%s\n' "$env" | grep -q "^NODE_APP_INSTANCE=" && fail "instance_var set: NODE_APP_INSTANCE should not be"
done
for n in 0 1; do
	pid=$("$TEND" pid ported | sed -n "$((n + 1))p")
	tr '\0' '\n' <"/proc/$pid/environ" | grep -qx "PORT=$((4100 + n))" || fail "ported $n: PORT"
done
# --port on the command line.
"$TEND" start "$T/app.sh" -n cliport --port 5555 -s || fail "start --port"
has cliport PORT=5555 || fail "--port: PORT"
