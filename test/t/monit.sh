# monit in a real terminal: a detached tmux session of a fixed size, its screen read
# with capture-pane, keys typed with send-keys. The panes, live status and log lines,
# keys that act (restart, sort, filter, read-only), resize, ASCII and no-colour modes,
# no clear-screen after the first frame, the terminal given back, the daemon going
# away and coming back, a mouse click; --once and --json outside a terminal.
. "$TEND_TOP/test/lib.sh"

command -v tmux >/dev/null || fail "tmux is needed (test/packages)"
cd "$T" || fail "cannot cd to $T"
TM="tmux -S $T/tmux.sock"
on_exit "$TM kill-server 2>/dev/null"

# Apps whose names sort otherwise than their ids: zeta (0), alpha (1), mid (2).
printf 'for i in 1 2 3 4 5; do echo old-line-$i; done\nexec sleep 1000\n' >"$T/zeta.sh"
"$TEND" start "$T/zeta.sh" -n zeta -s || fail "start zeta"
"$TEND" start 'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done' -n alpha -s || fail "start alpha"
"$TEND" start "sleep 1000" -n mid -s || fail "start mid"
wait_for 10 grep -q old-line-5 "$TEND_HOME/logs/zeta-out.log"

screen() { $TM capture-pane -t "$1" -p; }
on_screen() { screen "$1" | grep -q -- "$2"; }
# The list pane's rows (the left column of the upper panes), app names in order.
list_names() { screen "$1" | sed -n '3,12p' | cut -c1-52 | grep -oE '^.[0-9]+ +[a-z]+' | awk '{ print $2 }' | tr '\n' ' '; }
# How many times the regex (Python's) matches in a file's bytes.
count() { python3 -c "import re, sys; print(len(re.findall(sys.argv[1].encode(), open(sys.argv[2], 'rb').read())))" "$1" "$2"; }
names_are() { [ "$(list_names "$1")" = "$2" ]; }
restarts() { "$TEND" jlist | python3 -c "import json,sys; print([p['pm2_env']['restart_time'] for p in json.load(sys.stdin) if p['name']=='$1'][0])"; }

# ---- a shell in a 100x30 terminal, monit in it ------------------------------------------
$TM new-session -d -s m -x 100 -y 30 "env -i PATH=$PATH HOME=$T TEND_HOME=$TEND_HOME LANG=C.UTF-8 TERM=xterm-256color PS1='prompt\$ ' sh"
wait_for 10 on_screen m 'prompt\$'
$TM send-keys -t m "stty -g > $T/stty.before; $TEND monit" Enter
wait_for 15 on_screen m 'Process List'
for w in 'Process List' 'Logs' 'Metrics' 'Metadata' zeta alpha mid 'load '; do
	wait_for 10 on_screen m "$w"
done
[ "$(list_names m)" = "zeta alpha mid " ] || fail "id order: '$(list_names m)'"

# Another shell stops an app: its status cell changes.
"$TEND" stop mid -s
wait_for 10 sh -c "$TM capture-pane -t m -p | grep -E '^.2 +mid +stopped'"

# s cycles the order (id, then cpu, mem, restarts, uptime, name); I inverts it.
$TM send-keys -t m s
wait_for 10 on_screen m 'Process List (cpu)'
$TM send-keys -t m s s s s
wait_for 10 on_screen m 'Process List (name)'
wait_for 10 names_are m 'alpha mid zeta '
$TM send-keys -t m I
wait_for 10 names_are m 'zeta mid alpha '

# / filters by name: only alpha is listed, and selected; its live lines show.
$TM send-keys -t m / a l p Enter
wait_for 10 names_are m 'alpha '
wait_for 10 on_screen m 'alpha Logs'
# A line alpha prints after this point appears in the logs pane.
last=$(grep -o 'tick-[0-9]*' "$TEND_HOME/logs/alpha-out.log" | tail -n 1 | cut -d- -f2)
want=$((last + 2))
wait_for 10 sh -c "$TM capture-pane -t m -p | grep -q 'tick-$want'"

# r restarts the selected app (restart count +1 in jlist), and says so.
before=$(restarts alpha)
$TM send-keys -t m r
more_restarts() { [ "$(restarts "$1")" -gt "$2" ]; }
wait_for 15 more_restarts alpha "$before"
wait_for 10 on_screen m 'restart alpha\[1\]: done'

# Esc clears the filter; a click on zeta's row selects it: its old lines are there.
$TM send-keys -t m / Escape
wait_for 10 on_screen m 'Process List (name desc)'
wait_for 10 names_are m 'zeta mid alpha '
# Down moves the selection to the next row (alpha was selected: it is the last).
$TM send-keys -t m Up
wait_for 10 on_screen m 'mid Logs'
$TM send-keys -t m Down
wait_for 10 on_screen m 'alpha Logs'
# zeta is the first row: screen row 4 (header, frame, column titles), column 5.
$TM send-keys -t m -l "$(printf '\033[<0;5;4M\033[<0;5;4m')"
wait_for 10 on_screen m 'zeta Logs'
wait_for 10 on_screen m 'old-line-1'
wait_for 10 on_screen m 'old-line-5'

# Resize to 80x24: everything reflows inside 80 columns.
$TM resize-window -t m -x 80 -y 24
wait_for 10 sh -c "[ \"\$($TM display -p -t m '#{window_width}')\" = 80 ]"
# (redrawn: the upper frame's right corner is in column 80)
frame_ends_at() { [ "$(screen "$1" | sed -n 2p | python3 -c 'import sys; l = sys.stdin.read().rstrip("\n"); print(len(l) if l.endswith("\u2510") else 0)')" = "$2" ]; }
wait_for 10 frame_ends_at m 80
screen m | python3 -c "
import sys
for n, l in enumerate(sys.stdin.read().split('\n')):
    if len(l) > 80: sys.exit('line %d is %d columns: %r' % (n, len(l), l))
" || fail "past column 80 after the resize"
on_screen m 'Process List' || fail "no list after the resize"

# Colours are on here (the NO_COLOR check below can see them).
$TM capture-pane -t m -p -e >"$T/m.screen"
[ "$(count '\x1b\[[0-9;]*(3[0-7]|9[0-7]|4[0-7]|38;5)[;m]' "$T/m.screen")" -gt 0 ] || fail "no colours by default"

# q gives the terminal back: the shell answers, the tty settings are the same.
$TM send-keys -t m q
$TM send-keys -t m "stty -g > $T/stty.after; echo back-\$((6*7))" Enter
wait_for 10 on_screen m 'back-42'
cmp -s "$T/stty.before" "$T/stty.after" || fail "stty settings changed: $(diff "$T/stty.before" "$T/stty.after" | head -n 4)"

# ---- LANG=C: ASCII only; NO_COLOR: no colour sequences ----------------------------------
$TM new-session -d -s c -x 100 -y 30 "env TEND_HOME=$TEND_HOME LANG=C LC_ALL= NO_COLOR=1 $TEND monit"
wait_for 15 on_screen c 'Metadata'
wait_for 10 on_screen c 'zeta'
screen c | LC_ALL=C grep -q '[^ -~]' && fail "LANG=C: bytes above 0x7f on screen: $(screen c | LC_ALL=C grep -m1 '[^ -~]')"
$TM capture-pane -t c -p -e >"$T/c.screen"
[ "$(count '\x1b\[[0-9;]*(3[0-7]|9[0-7]|4[0-7]|38;5)[;m]' "$T/c.screen")" = 0 ] ||
	fail "NO_COLOR: colour sequences on screen"
$TM capture-pane -t c -p | grep -q '^+-' || fail "LANG=C: no ASCII frame"
$TM send-keys -t c q
wait_for 10 sh -c "! $TM has-session -t c"

# ---- no clear-screen after the first frame (script records 5 s at 0.2 s refresh) ---------
$TM new-session -d -s r -x 100 -y 30 "env TEND_HOME=$TEND_HOME LANG=C.UTF-8 script -q -f -c '$TEND monit -d 2' $T/rec.out"
wait_for 15 on_screen r 'Metadata'
start=$(date +%s)
wait_for 20 sh -c "[ \$(( \$(date +%s) - $start )) -ge 5 ]"   # the recording's length
$TM send-keys -t r q
wait_for 10 sh -c "! $TM has-session -t r"
clears=$(count '\x1b\[2J' "$T/rec.out")
[ "$clears" = 1 ] || fail "$clears clear-screen sequences in 5 s (the first frame only: 1)"
moves=$(count '\x1b\[[0-9]+;[0-9]+H' "$T/rec.out")
[ "$moves" -gt 20 ] || fail "only $moves cursor moves in 5 s: not redrawing"

# ---- --readonly refuses r ---------------------------------------------------------------
$TM new-session -d -s ro -x 100 -y 30 "env TEND_HOME=$TEND_HOME LANG=C.UTF-8 $TEND monit --readonly"
wait_for 15 on_screen ro 'zeta'
before=$(restarts zeta)
$TM send-keys -t ro r
wait_for 10 on_screen ro 'read-only'
[ "$(restarts zeta)" = "$before" ] || fail "--readonly: r restarted zeta"
$TM send-keys -t ro q

# ---- the daemon goes away: monit says so and waits; it comes back ------------------------
$TM new-session -d -s g -x 100 -y 30 "env TEND_HOME=$TEND_HOME LANG=C.UTF-8 $TEND monit"
wait_for 15 on_screen g 'zeta'
"$TEND" save >/dev/null || fail "save"
"$TEND" kill >/dev/null
wait_for 15 on_screen g 'no daemon'
$TM has-session -t g || fail "monit ended with the daemon"
"$TEND" resurrect >/dev/null || fail "resurrect"
wait_for 20 on_screen g 'the daemon is back'
wait_for 20 on_screen g 'alpha'
$TM send-keys -t g q
wait_for 10 sh -c "! $TM has-session -t g"

# ---- ilogs: the logs full screen ------------------------------------------------------------
$TM new-session -d -s il -x 100 -y 30 "env TEND_HOME=$TEND_HOME LANG=C.UTF-8 $TEND ilogs"
wait_for 15 on_screen il 'Logs'
on_screen il 'Process List' && fail "ilogs shows the list"
$TM send-keys -t il l
wait_for 10 on_screen il 'Process List'
$TM send-keys -t il q

# ---- outside a terminal: a snapshot ---------------------------------------------------------
run "$TEND" monit
expect_rc 0
expect_out_has "host "
printf '%s\n' "$OUT" | grep -qE '^[0-9]+ +alpha +online' || fail "snapshot: $(_show "$OUT")"
run "$TEND" monit --once --json
expect_rc 0
printf '%s' "$OUT" | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['host']['cpus'] >= 1 and d['host']['total_mem'] > 0, d['host']
names = sorted(p['name'] for p in d['processes'])
assert names == ['alpha', 'mid', 'zeta'], names
for p in d['processes']:
    assert set(p) >= {'id', 'name', 'status', 'pid', 'cpu', 'memory', 'restarts', 'uptime'}, p
    assert p['status'] != 'online' or p['memory'] > 0, p
" || fail "monit --json: $(_show "$OUT")"
run "$TEND" monit --delay 0
expect_rc 2
expect_err_line '^tend: monit: --delay: expected tenths of a second'
run "$TEND" monit --sort bogus
expect_rc 2
run "$TEND" monit extra
expect_rc 2
