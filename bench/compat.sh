#!/bin/bash
# Side by side with PM2: the same command sequence against PM2 (from npm, bench/.deps)
# and against tend through a link named pm2, each in a fresh PM2_HOME with the same
# environment and the same app files. Compares every command's exit status, and the
# key paths and value types of `jlist` (bench/lib/keydiff.js), app by app.
#
#   bench/compat.sh TEND_BIN
#
# A difference that bench/compat.allow explains (a key tend leaves out on purpose, with
# why) is reported as ok; any other makes the exit status 1. The table goes to stdout and
# bench/results/compat.md; each tool's output per step to bench/results/compat-TOOL.log.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/bench/lib/common.sh"
bench_args "$@"
[ -z "$ONLY" ] || { echo "bench: compat.sh compares both tools; no --only" >&2; exit 2; }

DEPS=$ROOT/bench/.deps
PM2_BIN=$DEPS/node_modules/.bin/pm2
RESULTS=$ROOT/bench/results
NODE=$(command -v node) || { echo "bench: compat.sh needs node" >&2; exit 1; }
SAY_TAG=compat
unset TEND_PID_FILE_PATH TEND_LOG_FILE_PATH PM2_PID_FILE_PATH PM2_LOG_FILE_PATH TEND_HOME

bench_workdir compat
trap 'cleanup' EXIT
trap 'exit 130' INT TERM
H= TOOL= LOG=
cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	[ -n "$H" ] && stop_tool
	reap 10
	if [ -n "${BENCH_KEEP:-}" ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
	exit "$rc"
}

install_pm2
[ -x "$PM2_BIN" ] || { say "no PM2 to compare with"; exit 1; }

# ---- the apps, the same files for both -------------------------------------------------
A=$WORK/apps
mkdir -p "$A"
PORT_BASE=$(( 20000 + RANDOM % 20000 ))
cat >"$A/app.js" <<'EOF'
const t = setInterval(() => {}, 60000);
process.on('SIGUSR2', () => console.log('usr2'));
process.on('SIGINT', () => { clearInterval(t); process.exit(0); });
EOF
cat >"$A/http.js" <<'EOF'
require('http').createServer((q, s) => s.end('ok ' + process.pid + '\n'))
	.listen(Number(process.env.PORT) || 0);
process.on('SIGINT', () => process.exit(0));
EOF
cat >"$A/worker.sh" <<'EOF'
#!/bin/bash
trap 'exit 0' INT TERM
while :; do sleep 1; done
EOF
cat >"$A/worker.py" <<'EOF'
import signal, sys, time
signal.signal(signal.SIGINT, lambda *a: sys.exit(0))
while True:
    time.sleep(1)
EOF
chmod +x "$A/worker.sh"
cat >"$A/eco.json" <<EOF
{"apps": [
 {"name": "api", "script": "http.js", "instances": 2, "exec_mode": "cluster",
  "increment_var": "PORT", "env": {"PORT": $((PORT_BASE + 10)), "NODE_ENV": "development"},
  "env_production": {"NODE_ENV": "production"}},
 {"name": "job", "script": "worker.sh", "cron_restart": "0 3 * * *", "max_memory_restart": "200M",
  "env": {"CONF": "a=1"}},
 {"name": "py", "script": "worker.py", "interpreter": "python3", "args": ["--x", "1"]}
]}
EOF

# ---- the sequence -------------------------------------------------------------------------
# Each line: a label (what the row says), then the arguments. "@wait N" polls jlist until
# N apps are online; "@jlist NAME" keeps jlist's output for the comparison; "@web NAME"
# keeps what the tool's web interface answers for / (PM2: its lib/HttpInterface.js, run
# by node as `pm2 web` used to; tend: `pm2 web PORT`, with the token).
STEPS=$(cat <<EOF
start app.js --name web
start worker.sh --name worker
start http.js -i 2 --name clu
start eco.json --env production
@wait 8
@jlist running
@web running
prettylist
describe web
pid web
id web
sendSignal SIGUSR2 web extra-word
stop web
restart web
reload clu
scale clu 3
@wait 9
stop nosuch
restart nosuch
delete nosuch
describe nosuch
start missing.js
stop app.js
restart app.js
save
delete all
stop all
restart all
resurrect
@wait 9
@jlist resurrected
delete all
EOF
)

declare -A RC      # RC[tool:step number]

web_compare() { # web_compare NAME: the two / documents, side by side
	local p=$WORK/web-pm2-$1 t=$WORK/web-tend-$1
	[ -s "$p" ] && [ -s "$t" ] || { echo "DIFF no / document from $([ -s "$p" ] || echo pm2) $([ -s "$t" ] || echo tend)"; return 1; }
	"$NODE" -e '
		const fs = require("fs");
		const [p, t] = process.argv.slice(1).map((f) => JSON.parse(fs.readFileSync(f, "utf8")));
		const paths = (v, path, out) => {
			const ty = v === null ? "null" : Array.isArray(v) ? "array" : typeof v;
			out.set(path, ty);
			if (ty === "array") v.forEach((e) => paths(e, path + "[]", out));
			else if (ty === "object") for (const k of Object.keys(v)) paths(v[k], path ? path + "." + k : k, out);
			return out;
		};
		const a = new Map(), b = new Map();
		for (const k of Object.keys(p)) if (k !== "processes") paths(p[k], k, a);
		for (const k of Object.keys(t)) if (k !== "processes") paths(t[k], k, b);
		let bad = 0;
		for (const [k, ty] of a) if (!b.has(k)) { console.log("DIFF only-pm2 " + k + " " + ty); bad++; }
			else if (b.get(k) !== ty) { console.log("DIFF type " + k + " " + ty + " " + b.get(k)); bad++; }
		for (const [k, ty] of b) if (!a.has(k)) console.log("only-tend " + k + " " + ty);
		// tend leaves the environment out of every app, and PM2 copies each variable of
		// it into pm2_env too: those copies go with it. tend-web is the server itself.
		for (const app of p.processes) {
			const env = app.pm2_env && app.pm2_env.env;
			if (env) for (const k of Object.keys(env)) if (k in app.pm2_env && k !== "env") delete app.pm2_env[k];
		}
		fs.writeFileSync(process.argv[1] + ".jl", JSON.stringify(p.processes));
		fs.writeFileSync(process.argv[2] + ".jl", JSON.stringify(t.processes.filter((a) => a.name !== "tend-web")));
		console.log(bad ? bad + " differences outside processes" : "outside processes: the same key paths and types");
		process.exit(bad ? 1 : 0);' "$p" "$t" || return 1
	{ cat "$ROOT/bench/compat.allow"
	  printf 'pm2_env.env\ttend web strips environments unless --expose-env (PM2 strips them only with WEB_STRIP_ENV_VARS)\n'
	} >"$WORK/web.allow"
	"$NODE" "$ROOT/bench/lib/keydiff.js" "$p.jl" "$t.jl" "$WORK/web.allow" 2>&1
}
stop_tool() {
	# shellcheck disable=SC2046
	track $(cat "$H"/pm2.pid "$H"/pids/*.pid 2>/dev/null) $(descendants "$(cat "$H/pm2.pid" 2>/dev/null)" 2>/dev/null)
	pm2 kill >/dev/null 2>&1
	reap 10
	H=
}

pm2() { # pm2 ARGS...: the tool under test, in $H, in the apps folder, fixed environment
	(cd "$A" && env -i PATH="$WORK/bin-$TOOL:/usr/local/bin:/usr/bin:/bin" HOME="$WORK/user" \
		LANG=C.UTF-8 PM2_HOME="$H" timeout -k 5 60 pm2 "$@" </dev/null)
}

wait_online() { # wait_online N: up to 60 s
	local deadline=$(( $(now_us) + 60 * 1000000 )) got=
	while :; do
		got=$(pm2 jlist 2>/dev/null | "$NODE" "$ROOT/bench/lib/jlist.js" count 2>/dev/null)
		[ "${got%% *}" = "$1" ] && return 0
		[ "$(now_us)" -ge "$deadline" ] && { echo "== waited for $1 online, saw '$got'" >>"$LOG"; return 1; }
		sleep 0.2
	done
}

web_fetch() { # web_fetch NAME: / of the tool's web interface into $WORK/web-TOOL-NAME
	local port=$((PORT_BASE + 50 + ${#TOOL})) pid= auth=() deadline rc=1
	if [ "$TOOL" = pm2 ]; then
		(cd "$A" && exec env -i PATH="/usr/local/bin:/usr/bin:/bin" HOME="$WORK/user" LANG=C.UTF-8 \
			PM2_HOME="$H" PM2_WEB_PORT=$port "$NODE" "$DEPS/node_modules/pm2/lib/HttpInterface.js" \
			>>"$LOG" 2>&1 </dev/null) &
		pid=$!
		track "$pid"
	else
		pm2 web "$port" >>"$LOG" 2>&1 || return 1
		auth=(-H "Authorization: Bearer $(pm2 web --token)")
	fi
	deadline=$(( $(now_us) + 30 * 1000000 ))
	while [ "$(now_us)" -lt "$deadline" ]; do
		if curl -sf --max-time 5 ${auth[@]+"${auth[@]}"} "http://127.0.0.1:$port/" >"$WORK/web-$TOOL-$1" 2>>"$LOG"; then
			rc=0
			break
		fi
		sleep 0.2
	done
	if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; else pm2 web stop >>"$LOG" 2>&1; fi
	return "$rc"
}

run_tool() { # run_tool pm2|tend
	TOOL=$1 LOG=$RESULTS/compat-$1.log
	: >"$LOG"
	mkdir -p "$WORK/bin-$TOOL" "$WORK/user"
	if [ "$TOOL" = tend ]; then ln -sf "$TEND_BIN" "$WORK/bin-$TOOL/pm2"; else ln -sf "$PM2_BIN" "$WORK/bin-$TOOL/pm2"; fi
	H=$WORK/home-$TOOL
	mkdir -p "$H"
	say "$TOOL: $(echo "$STEPS" | wc -l) steps"
	local n=0 line rc
	while IFS= read -r line; do
		n=$((n + 1))
		case $line in
		'@wait '*) wait_online "${line#@wait }"; rc=$? ;;
		'@jlist '*) pm2 jlist >"$WORK/jlist-$TOOL-${line#@jlist }" 2>>"$LOG"; rc=$? ;;
		'@web '*) web_fetch "${line#@web }"; rc=$? ;;
		*)
			# shellcheck disable=SC2086
			pm2 $line >>"$LOG" 2>&1
			rc=$?
			;;
		esac
		echo "== step $n: $line: exit $rc" >>"$LOG"
		RC[$TOOL:$n]=$rc
	done <<<"$STEPS"
	stop_tool
}

run_tool pm2
run_tool tend

# ---- the report -----------------------------------------------------------------------------
out=$RESULTS/compat.md
status=0
{
	echo "Measured by \`$ARGV_STR\` (PM2 $("$NODE" -p "require('$DEPS/node_modules/pm2/package.json').version"), tend $("$TEND_BIN" --version 2>/dev/null | head -n 1), $(date -u '+%F'))."
	echo
	echo "| step | PM2 exit | tend exit | |"
	echo "|---|---:|---:|---|"
	n=0
	while IFS= read -r line; do
		n=$((n + 1))
		a=${RC[pm2:$n]} b=${RC[tend:$n]} mark=same
		if [ "$a" != "$b" ]; then
			# compat.allow may explain it: "exit:STEP<TAB>TEND_EXIT<TAB>why"
			why=$(awk -F'\t' -v s="exit:$line" -v c="$b" '$1 == s && $2 == c { print $3 }' "$ROOT/bench/compat.allow")
			if [ -n "$why" ]; then mark="on purpose: $why"; else mark=DIFFERENT; status=1; fi
		fi
		echo "| \`$line\` | $a | $b | $mark |"
	done <<<"$STEPS"
	for s in running resurrected; do
		echo
		echo "jlist key paths and types, $s apps (\`bench/lib/keydiff.js\`):"
		echo
		echo '```'
		"$NODE" "$ROOT/bench/lib/keydiff.js" "$WORK/jlist-pm2-$s" "$WORK/jlist-tend-$s" \
			"$ROOT/bench/compat.allow" 2>&1 || status=1
		echo '```'
	done
	echo
	echo "PM2's \`pm2 web\` document (\`GET /\`): key paths and types outside \`processes\`, then"
	echo "\`processes\` as jlist (tend leaves out \`pm2_env.env\`, and so PM2's copies of its variables in"
	echo "\`pm2_env\`, unless \`--expose-env\`; tend-web, the server itself, is not compared):"
	echo
	echo '```'
	web_compare running || status=1
	echo '```'
	echo
	if [ "$status" = 0 ]; then echo "No unexplained difference."; else echo "Unexplained differences: see DIFF and DIFFERENT above."; fi
} >"$out"
cat "$out"
grep -q '^No unexplained difference' "$out"
