# The control protocol under a fuzzer (test/protofuzz.py): mutated requests of every
# command, concurrent connections, half requests, clients that never read, log
# subscribers that stop reading, connection floods, for PROTOFUZZ_SECONDS (default 40).
# The daemon must stay the same process, answer ping within 5 s throughout, report no
# sanitizer error, and once the fuzzer's apps and connections are gone, be back near its
# idle fds and within an RSS bound.
#   PROTOFUZZ_SECONDS=600 PROTOFUZZ_SEED=42 sh test/t/protofuzz.sh     a longer run
#   PROTOFUZZ_AVOID=known,found      leave out the paths of bugs already reported
#   PROTOFUZZ_ARGS="--workers 8 --mix flood=0"                          anything else
# A failed run keeps its request log (protofuzz.py --replay replays it).
. "$TEND_TOP/test/lib.sh"

secs=${PROTOFUZZ_SECONDS:-40}
seed=${PROTOFUZZ_SEED:-$(( $(date +%s) % 100000 ))}
avoid=${PROTOFUZZ_AVOID:-}
sock="$TEND_HOME/tend.sock"

# A low fd limit lets the fuzzer's floods of connections reach it (the EMFILE path).
case ",$avoid," in
*,emfile,* | *,known,*) "$TEND" ping >/dev/null || fail "the daemon did not start" ;;
*) (ulimit -n 768 && "$TEND" ping >/dev/null) || fail "the daemon did not start" ;;
esac
pid=$(cat "$TEND_HOME/tend.pid")
alive "$pid" || fail "no daemon"
fds() { ls "/proc/$pid/fd" | wc -l; }
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$pid/status"; }
base_fds=$(fds)

# The sanitizer build keeps freed memory in quarantine (256 MiB by default).
if grep -q libasan "/proc/$pid/maps" 2>/dev/null; then max_rss_mib=600; else max_rss_mib=48; fi
max_rss_mib=${PROTOFUZZ_MAX_RSS_MB:-$max_rss_mib}

log="$T/protofuzz.log"
started=$(date +%s)
# shellcheck disable=SC2086 # PROTOFUZZ_ARGS is a list of options
nice -n 10 "$PY" "$TOP/test/protofuzz.py" --socket "$sock" --home "$TEND_HOME" --pid "$pid" \
	--seconds "$secs" --seed "$seed" --avoid "$avoid" --log "$log" ${PROTOFUZZ_ARGS:-} >"$T/fuzz.out" 2>&1
rc=$?
cat "$T/fuzz.out"
echo "protofuzz: $(($(date +%s) - started)) s in all"
if [ "$rc" != 0 ]; then
	keep="${TMPDIR:-/tmp}/protofuzz-$seed.log"
	cp "$log" "$keep" 2>/dev/null && echo "request log kept: $keep (replay: protofuzz.py --replay)"
	fail "protofuzz failed (seed $seed): $(grep -E '^(FAIL|ANOMALY)' "$T/fuzz.out" | head -n 3 | tr '\n' ' ')"
fi

# The same daemon, alive and answering.
alive "$pid" || fail "the daemon died"
[ "$(cat "$TEND_HOME/tend.pid")" = "$pid" ] || fail "another daemon runs now"
run "$TEND" ping
expect_rc 0
expect_out pong
"$TEND" jlist >"$T/jl" || fail "jlist failed"
"$PY" -c 'import json, sys; l = json.load(open(sys.argv[1])); sys.exit(0 if l == [] else 1)' "$T/jl" ||
	fail "jlist is not an empty JSON array after the fuzzer deleted its apps: $(head -c 300 "$T/jl")"
! grep -Eq 'Sanitizer|runtime error' "$TEND_HOME"/tend.log* || fail "sanitizer report in tend.log"

# Its connections and the apps' pipes and log files are given back (a few fds of slack
# for what a pass may still hold).
deadline=$(($(date +%s) + 30))
while [ "$(fds)" -gt $((base_fds + 4)) ]; do
	[ "$(date +%s)" -lt "$deadline" ] ||
		fail "the daemon holds $(fds) fds 30 s after the run, $base_fds before it: $(ls -l "/proc/$pid/fd" | sed 's/.*-> //' | sort | uniq -c | sort -rn | head -n 5 | tr '\n' ' ')"
	sleep 0.1
done
rss=$(rss_kib)
[ "$rss" -le $((max_rss_mib * 1024)) ] || fail "daemon RSS ${rss} KiB after the run (bound ${max_rss_mib} MiB)"
