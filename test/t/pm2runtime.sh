# tend runtime's output against pm2-runtime's own (PM2 from npm, into build/test-deps/pm2
# once), for the same node app in each mode: raw (stdout and stderr), --formatted and
# --format line for line (timestamps aside), --json with the same keys per kind of
# object and the same lines. pm2-runtime's own messages ("...: PM2 log: ...") are left
# out of its side: tend prints its own on stderr only, which is the difference meant.
. "$TEND_TOP/test/lib.sh"

DEPS=$TOP/build/test-deps/pm2
RUNTIME=$DEPS/node_modules/.bin/pm2-runtime
mkdir -p "$DEPS"
# (deploy.sh installs the same: one at a time)
flock "$DEPS/.lock" sh -c "[ -x '$RUNTIME' ] || timeout 300 npm install --prefix '$DEPS' --no-audit --no-fund \
	--loglevel=error pm2@7" >"$T/npm.log" 2>&1 || fail "npm install pm2: $(tail -n 3 "$T/npm.log")"
cd "$T" || fail "cannot cd to $T"
cat >app.js <<'EOF'
console.log("out-line 1");
console.error("err-line 1");
console.log("out-line 2");
setInterval(() => {}, 1000);
EOF

# run_both MODE: each runtime on app.js in that mode until both lines arrived, then TERM;
# their output in pm2.MODE.out|err and tend.MODE.out|err
run_one() { # run_one TOOL MODE CMD...
	tool=$1 mode=$2
	shift 2
	"$@" >"$T/$tool.$mode.out" 2>"$T/$tool.$mode.err" &
	pid=$!
	track_pid $pid
	wait_for 60 sh -c "cat '$T/$tool.$mode.out' '$T/$tool.$mode.err' | grep -q out-line.2"
	wait_for 60 sh -c "cat '$T/$tool.$mode.out' '$T/$tool.$mode.err' | grep -q err-line.1"
	kill -TERM $pid
	wait_for 60 dead $pid
}
run_both() {
	flag=$1
	[ "$flag" = --raw ] && flag=
	# shellcheck disable=SC2086
	(export PM2_HOME="$T/pm2-home-$1"; unset TEND_HOME; run_one pm2 "$1" "$RUNTIME" app.js $flag) || exit 1
	# shellcheck disable=SC2086
	(export TEND_HOME="$T/tend-home-$1"; run_one tend "$1" "$TEND" runtime app.js $flag) || exit 1
	# (PM2 colours --formatted even into a file, when TERM says colours: set aside)
	for s in out err; do
		grep -v ': PM2 \(log\|error\|warn\|info\):' "$T/pm2.$1.$s" | sed 's/\x1b\[[0-9;]*m//g' \
			>"$T/pm2.$1.$s.apps" || true
	done
}

# raw: the same lines on the same streams
run_both --raw
for s in out err; do
	sort "$T/pm2.--raw.$s.apps" >"$T/a"
	grep -- '-line' "$T/tend.--raw.$s" | sort >"$T/b"
	cmp -s "$T/a" "$T/b" || fail "raw $s: pm2-runtime '$(tr '\n' '|' <"$T/a")', tend '$(tr '\n' '|' <"$T/b")'"
done

# --formatted: the same lines, prefix and padding included
run_both --formatted
sort "$T/pm2.--formatted.out.apps" >"$T/a"
sort "$T/tend.--formatted.out" >"$T/b"
cmp -s "$T/a" "$T/b" || fail "--formatted: pm2-runtime '$(tr '\n' '|' <"$T/a")', tend '$(tr '\n' '|' <"$T/b")'"

# --format: the same lines once the time is set aside (its format is checked in runtime.sh)
run_both --format
sed 's/^timestamp=[^ ]* //' "$T/pm2.--format.out.apps" | sort >"$T/a"
sed 's/^timestamp=[^ ]* //' "$T/tend.--format.out" | sort >"$T/b"
cmp -s "$T/a" "$T/b" || fail "--format: pm2-runtime '$(tr '\n' '|' <"$T/a")', tend '$(tr '\n' '|' <"$T/b")'"
head -n 1 "$T/pm2.--format.out.apps" | grep -q '^timestamp=[0-9-]*-[0-9:]*[+-][0-9]\{4\} ' ||
	fail "pm2-runtime's --format timestamp is not what runtime.sh expects: $(head -n 1 "$T/pm2.--format.out.apps")"

# --json: per kind of object the same keys in the same order, the same log lines
run_both --json
"$PY" - "$T/pm2.--json.out.apps" "$T/tend.--json.out" <<'PY' || fail "--json differs"
import json, sys
def read(path):
    keys, logs, events = {}, {}, set()
    for l in open(path).read().splitlines():
        o = json.loads(l)
        kind = o["type"] if o["type"] == "process_event" else "log"
        keys.setdefault(kind, list(o))
        assert list(o) == keys[kind], (path, o)
        if kind == "log":   # (pm2-runtime: one object per read, several lines run together)
            logs[(o["type"], o["process_id"], o["app_name"])] = logs.get((o["type"], o["process_id"], o["app_name"]), "") + o["message"]
        else:
            events.add(o["status"])
    return keys, logs, events
pk, pl, pe = read(sys.argv[1])
tk, tl, te = read(sys.argv[2])
assert pk == tk, (pk, tk)
assert pl == tl, (pl, tl)
assert {"start", "online"} <= pe and {"start", "online"} <= te, (pe, te)
assert te <= pe | {"stop", "exit", "delete", "restart", "restart overlimit"}, (pe, te)
PY
