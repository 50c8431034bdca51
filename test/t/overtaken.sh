# What the protocol fuzzer found (issue 11): requests overtaken by other clients' still
# get their answer; costly inputs (a huge environment, deep nesting) cost linear time;
# clients that do not read their replies never hold up the others; save keeps forced
# copies.
. "$TEND_TOP/test/lib.sh"
cd "$T" || fail "cd $T"
"$TEND" ping >/dev/null
dpid=$(cat "$TEND_HOME/tend.pid")

"$PY" - "$TEND_HOME/tend.sock" "$dpid" <<'PY' || fail "overtaken requests"
import json, socket, sys, time
sock, dpid = sys.argv[1], int(sys.argv[2])
def conn():
    s = socket.socket(socket.AF_UNIX); s.connect(sock); return s
def send(s, req):
    s.sendall((json.dumps(req) if isinstance(req, dict) else req).encode() + b"\n")
def final(s, t=20):
    s.settimeout(t); buf = b""
    while True:
        try:
            c = s.recv(1 << 20)
        except socket.timeout:
            return None
        if not c:
            return None
        buf += c
        for ln in buf.split(b"\n"):
            if ln.startswith(b'{"ok":'):
                return json.loads(ln)
def call(req, t=20):
    s = conn(); send(s, req); r = final(s, t); s.close(); return r
stubborn = lambda name: {"name": name, "script": "/bin/sh", "kill_timeout": 1000,
                         "args": ["-c", "trap '' INT TERM; echo up; exec sleep 1000"]}
def check(what, cond):
    if not cond:
        sys.exit(what)

# A stop whose instance another client restarts while it stops: answered.
check("start x", call({"cmd": "start", "apps": [stubborn("x")]})["ok"])
time.sleep(0.5)          # the shell's trap is set (it is not interrupted by the stop either way)
a = conn(); send(a, {"cmd": "stop", "targets": ["x"]})
time.sleep(0.2)
check("restart x", call({"cmd": "restart", "targets": ["x"]})["ok"])
r = final(a)
check("the overtaken stop got no answer", r is not None and r["ok"])

# A delete whose freed id a new app takes at once: answered.
a = conn(); send(a, {"cmd": "delete", "targets": ["x"]})
time.sleep(0.2)
c = conn(); send(c, '{"cmd":"delete","targets":["x"],"force":true}\n' + json.dumps({"cmd": "start", "apps": [stubborn("z")]}))
check("the second delete", final(c) is not None)
r = final(a)
check("the delete whose id was given out again got no answer", r is not None and r["ok"])
call({"cmd": "delete", "targets": ["all"], "force": True})

# 65,536 variables, the most an app may have: linear (the daemon stays responsive).
env = {"V%d" % i: "x" for i in range(65536)}
t0 = time.time()
check("start big env", call({"cmd": "start", "apps": [{"name": "big", "script": "/bin/sleep", "args": ["1000"], "env": env}]}, 60)["ok"])
call({"cmd": "delete", "targets": ["big"]})

# Nesting 100,000 deep: refused before jsmn walks it.
r = call('{"cmd":"ping","x":' + "[" * 100000 + "]" * 100000 + "}")
check("deep nesting: %r" % r, r and not r["ok"] and "nested deeper than 512 levels" in r["error"])

# Sixty clients that leave their list replies unread: others are still served.
check("start many", call({"cmd": "start", "apps": [{"name": "m", "script": "/bin/sleep", "args": ["1000"], "instances": 100, "exec_mode": "fork"}]}, 60)["ok"])
idle = []
for i in range(60):
    s = conn(); s.setblocking(False)
    try:
        s.send(b'{"cmd":"list"}\n' * 200)
    except BlockingIOError:
        pass
    idle.append(s)
time.sleep(2)
for i in range(5):
    r = call({"cmd": "ping"}, 10)
    check("a ping while 60 clients do not read: %r" % r, r is not None and r["ok"])
for s in idle:
    s.close()
call({"cmd": "delete", "targets": ["m"]}, 60)
PY
alive "$dpid" || fail "the daemon died"

# save keeps a forced copy; resurrect brings both back.
"$TEND" start /bin/sleep -n dup -s -- 1000
"$TEND" start /bin/sleep -n dup -f -s -- 2000
"$TEND" save >/dev/null || fail "save"
"$TEND" delete dup -s
run "$TEND" resurrect -s
expect_rc 0
[ "$(jl '[p["pm2_env"]["args"] for p in by("dup")]')" = '[["1000"], ["2000"]]' ] ||
	fail "the forced copy after save and resurrect: $(jl '[p["pm2_env"]["args"] for p in by("dup")]')"
