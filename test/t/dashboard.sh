# tend web's /dashboard in a real browser: Debian's Chromium, headless, driven from node
# with puppeteer-core (npm, into build/test-deps once). The page asks for the token,
# shows the apps, restarts one (the restart count in jlist goes up), shows old and live
# log lines; screenshots (laptop and phone) are kept in build/test-artifacts/.
. "$TEND_TOP/test/lib.sh"

command -v chromium >/dev/null || fail "chromium is needed (test/packages)"
DEPS=$TOP/build/test-deps
if [ ! -d "$DEPS/node_modules/puppeteer-core" ]; then
	mkdir -p "$DEPS"
	PUPPETEER_SKIP_DOWNLOAD=1 timeout 300 npm install --prefix "$DEPS" --no-audit --no-fund \
		--loglevel=error puppeteer-core@24 >"$T/npm.log" 2>&1 || fail "npm install puppeteer-core: $(tail -n 3 "$T/npm.log")"
fi
cd "$T" || fail "cannot cd to $T"
"$TEND" start "sleep 1000" -n sl -s || fail "start sl"
"$TEND" start 'i=0; while :; do i=$((i+1)); echo line-$i; sleep 0.3; done' -n talk -s || fail "start talk"
port=$(free_port)
"$TEND" web "$port" >/dev/null || fail "web"
tok=$("$TEND" web --token)

# The page: small, self-contained (no address outside itself), public (it holds no data).
run curl -s -D "$T/h" "http://127.0.0.1:$port/dashboard"
expect_rc 0
grep -qi '^content-type: text/html' "$T/h" || fail "content type: $(cat "$T/h")"
grep -qi '^content-security-policy' "$T/h" || fail "no CSP"
printf '%s' "$OUT" | grep -qE '(src|href)="?https?:' && fail "the page loads something from elsewhere"
size=$(printf '%s' "$OUT" | wc -c)
[ "$size" -lt 20000 ] || fail "the page weighs $size bytes"

restarts() { "$TEND" jlist | python3 -c "import json,sys; print([p['pm2_env']['restart_time'] for p in json.load(sys.stdin) if p['name']=='$1'][0])"; }
before=$(restarts sl)
mkdir -p "$TOP/build/test-artifacts"
shot=$TOP/build/test-artifacts/dashboard.png
NODE_PATH=$DEPS/node_modules timeout 120 node "$TOP/test/browser.js" "http://127.0.0.1:$port/dashboard" "$tok" "$shot" \
	>"$T/browser.out" 2>&1 || fail "$(tail -n 5 "$T/browser.out")"
grep -q '^apps: .*sl' "$T/browser.out" || fail "the table: $(cat "$T/browser.out")"
[ "$(restarts sl)" -gt "$before" ] || fail "Restart in the page did not restart sl"
grep -q '^live log line: line-' "$T/browser.out" || fail "no live log line: $(cat "$T/browser.out")"
[ -s "$shot" ] && [ -s "${shot%.png}-phone.png" ] || fail "no screenshots"
"$TEND" web stop >/dev/null
