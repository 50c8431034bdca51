# save / resurrect / cleardump: round trips with stopped apps, environment and cron
# kept, the .bak, the corrupt-dump fallback, the empty-save guard, kill and SIGTERM
# leaving the dump alone, and kill -9 of the daemon: resurrect replaces the apps it
# left running instead of duplicating them.
. "$TEND_TOP/test/lib.sh"

cd "$T" || fail "cd $T"
DUMP=$TEND_HOME/dump.json
printf '#!/bin/sh\nexec sleep 1000\n' >"$T/app.sh"
chmod +x "$T/app.sh"
cat >apps.json <<'EOF'
[{"name": "web", "script": "app.sh", "instances": 2, "env": {"COLOR": "blue"}},
 {"name": "jobs", "script": "app.sh", "cron_restart": "0 4 * * *"},
 {"name": "idle", "script": "app.sh"}]
EOF
summary() { "$TEND" jlist | "$PY" -c 'import json,sys; print(" ".join("%s:%s" % (p["name"], p["pm2_env"]["status"]) for p in sorted(json.load(sys.stdin), key=lambda p: (p["name"], p["pm_id"]))))'; }

# Nothing saved yet: resurrect says so.
run "$TEND" resurrect
expect_rc 1
expect_err_has "dump.json: No such file or directory"

SAVED_VAR=kept "$TEND" start apps.json -s || fail "start apps.json"
"$TEND" stop idle -s
run "$TEND" save -s   # PM2's --silent, which every PM2 command takes
expect_rc 0
expect_out ""
[ -s "$DUMP" ] || fail "save -s wrote no dump"
run "$TEND" save
expect_rc 0
expect_out "saved 3 apps to $DUMP"
"$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [a["name"] for a in d["apps"]] == ["web","jobs","idle"], d' "$DUMP" ||
	fail "dump.json does not list the apps in order"
[ "$(stat -c %a "$DUMP")" = 600 ] || fail "dump.json mode $(stat -c %a "$DUMP")"
want="idle:stopped jobs:online web:online web:online"
[ "$(summary)" = "$want" ] || fail "before: $(summary)"

# kill and SIGTERM never write the dump.
cp "$DUMP" "$T/saved.json"
"$TEND" kill || fail "kill"
cmp -s "$DUMP" "$T/saved.json" || fail "kill changed dump.json"
run "$TEND" resurrect -s
expect_rc 0
[ "$(summary)" = "$want" ] || fail "after resurrect: $(summary), expected $want"
"$TEND" env "$("$TEND" id web | head -n 1)" | grep -qx SAVED_VAR=kept || fail "resurrect lost the saved environment"
"$TEND" env "$("$TEND" id web | head -n 1)" | grep -qx COLOR=blue || fail "resurrect lost env"
[ "$(jget jobs 'e["cron_restart"]')" = "0 4 * * *" ] || fail "resurrect lost cron_restart"
[ -n "$(jget jobs 'e.get("next_cron_restart")')" ] && [ "$(jget jobs 'e.get("next_cron_restart")')" != None ] ||
	fail "cron not armed after resurrect"
# Twice changes nothing.
pids=$("$TEND" pid)
run "$TEND" resurrect -s
expect_rc 0
[ "$("$TEND" pid)" = "$pids" ] || fail "a second resurrect restarted apps"
[ "$(summary)" = "$want" ] || fail "a second resurrect: $(summary)"
kill -TERM "$(cat "$TEND_HOME/tend.pid")"
wait_for 10 sh -c "! [ -S '$TEND_HOME/tend.sock' ]"
cmp -s "$DUMP" "$T/saved.json" || fail "SIGTERM changed dump.json"

# save keeps the previous dump as .bak.
"$TEND" resurrect -s || fail "resurrect"
"$TEND" delete idle -s
"$TEND" save >/dev/null || fail "save"
cmp -s "$DUMP.bak" "$T/saved.json" || fail "dump.json.bak is not the previous dump"

# A corrupt dump falls back to the .bak, with a warning; both corrupt is an error.
"$TEND" kill
head -c 40 "$T/saved.json" >"$DUMP"
run "$TEND" resurrect -s
expect_rc 0
expect_err_line "^tend: resurrect: warning: $DUMP: corrupt \(.*\); using $DUMP.bak; the corrupt dump is now $DUMP.corrupt-[0-9-]+\$"
[ "$(summary)" = "$want" ] || fail "resurrect from .bak: $(summary)"
[ ! -e "$DUMP" ] || fail "the corrupt dump stayed in place"
[ "$(cat "$DUMP".corrupt-*)" = "$(head -c 40 "$T/saved.json")" ] || fail "the corrupt dump was not kept aside"
"$TEND" kill
head -c 40 "$T/saved.json" >"$DUMP"
echo '{"apps": 3}' >"$DUMP.bak"
run "$TEND" resurrect
expect_rc 1
expect_err_line "^tend: resurrect: $DUMP: corrupt .*; $DUMP.bak: corrupt"
[ "$(summary)" = "" ] || fail "a failed resurrect started $(summary)"

# An empty list does not overwrite a saved one without --force.
cp "$T/saved.json" "$DUMP"
run "$TEND" save
expect_rc 1
expect_err_line "^tend: save: no apps to save, and $DUMP holds 3; use --force to empty it\$"
cmp -s "$DUMP" "$T/saved.json" || fail "a refused save changed dump.json"
run "$TEND" save --force
expect_rc 0
"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["apps"] == []' "$DUMP" || fail "save --force"
cp "$T/saved.json" "$DUMP"
run "$TEND" cleardump
expect_rc 0
"$PY" -c 'import json,sys; assert json.load(open(sys.argv[1]))["apps"] == []' "$DUMP" || fail "cleardump"
cmp -s "$DUMP.bak" "$T/saved.json" || fail "cleardump did not keep the .bak"
run "$TEND" resurrect -s
expect_rc 0
[ "$(summary)" = "" ] || fail "resurrect of an empty dump started $(summary)"

# An app started with -f is saved without it: resurrecting twice does not add copies.
"$TEND" kill
rm -f "$DUMP"
"$TEND" start "$T/app.sh" -n forced -f -s || fail "start -f"
"$TEND" save >/dev/null || fail "save"
"$TEND" kill
"$TEND" resurrect -s && "$TEND" resurrect -s || fail "resurrect forced"
[ "$(summary)" = "forced:online" ] || fail "resurrect of a -f app twice: $(summary)"
"$TEND" delete all -s

# kill -9 of the daemon: the apps run on; resurrect replaces them, no duplicates.
cp "$T/saved.json" "$DUMP"
"$TEND" resurrect -s || fail "resurrect"
old=$("$TEND" pid | grep -v '^0$' | sort)
daemon=$(cat "$TEND_HOME/tend.pid")
kill -9 "$daemon"
wait_for 5 dead "$daemon"
for p in $old; do alive "$p" || fail "app $p died with the daemon"; track_pid "$p"; done
rm -f "$TEND_HOME/tend.sock"   # what a killed daemon leaves behind does not matter
run "$TEND" resurrect -s
expect_rc 0
[ "$(summary)" = "$want" ] || fail "resurrect after kill -9: $(summary)"
for p in $old; do wait_for 5 dead "$p"; done
new=$("$TEND" pid | grep -v '^0$' | sort)
[ "$(echo "$new" | wc -l)" = 3 ] || fail "after kill -9 and resurrect: pids $new"
for p in $new; do
	echo "$old" | grep -qx "$p" && fail "pid $p is an old instance, not a replacement"
done
# Only one copy of each app's process runs: no duplicates among sleep processes in the tree.
n=0
for p in /proc/[0-9]*; do
	tr '\0' '\n' <"$p/environ" 2>/dev/null | grep -qx "TEND_HOME=$TEND_HOME" || continue
	case $(cat "$p/comm" 2>/dev/null) in sleep) n=$((n + 1)) ;; esac
done
[ "$n" = 3 ] || fail "$n app processes of this home run, expected 3"
[ "$(jget web 'e["restart_time"]')" = 0 ] || fail "a replacement counts as a restart"
grep -q "left running by a previous daemon" "$TEND_HOME/tend.log" || fail "replacement not logged"
