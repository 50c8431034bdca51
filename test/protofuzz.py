#!/usr/bin/env python3
"""Protocol fuzzer for a live tend daemon (see tend-protocol(7)).

    protofuzz.py --socket SOCK --home HOME [--pid PID] [--seconds 40] [--seed N]
                 [--workers 4] [--log FILE] [--avoid LIST] [--mix A=W,...]
                 [--cmds C=W,...] [--mutate valid=W,struct=W,bytes=W]
    protofuzz.py --socket SOCK --home HOME --cleanup    delete every app, wait until gone
    protofuzz.py --socket SOCK --home HOME --replay LOG [--conns 3,17] [--speed 1]

Workers open connections and send a random mix of requests of every command but kill:
valid ones with random arguments, structurally mutated ones (wrong types, huge numbers,
deep nesting, duplicate keys, \\u escapes, invalid UTF-8, long strings), byte-mutated
ones (bit flips, truncation, splices) and garbage; pipelined, dribbled a few bytes per
write, cut in half, never read, subscribed to logs and left unread; plus connection
churn and floods of connections. Every byte sent goes to the request log (--log) before
it is sent, so a crash can be replayed (--replay).

Meanwhile a monitor pings on a fresh connection every second (a reply within
--ping-deadline seconds, or the daemon hangs), samples the daemon's RSS, fds and CPU,
and reads its log for sanitizer reports and floods of one message; a janitor deletes
apps when more than --max-procs instances exist. At the end: every app deleted, the
daemon alive and answering, no sanitizer report. The counts are printed; exit status 1
on any failure or anomaly (a reply that breaks the protocol).

Safety: nothing is sent that the daemon would run as kill, nor an app that could do
harm or load the machine: before a line is sent, it is parsed the way the daemon parses
it (a port of jsmn as the daemon builds it, and of its JSON helpers), and refused when
its cmd is kill (or update), or it starts an app with more than 8 instances, a program
other than /bin/sleep, /bin/true, /bin/false or /bin/sh with one of a few fixed command
lines, a cwd or watch path outside --work (beside the home), a log or pid file outside
the home, a listening socket, a long kill_timeout, or a tight restart loop. A key given
twice is checked with each of its values.

Known bugs each have a name (fixed in d963ba6 and 772181d: kept as regression paths);
--avoid NAME,... leaves their paths out:
  scale-overlap   two scale requests at once (while one is still stopping instances)
  logs-twice      two logs stream requests on one connection
  all-empty       the target "all" (stop all with no apps: qsort(NULL, 0))
  pipeline-flood  tens of thousands of requests pipelined on one connection
  evil-regex      regex targets with nested counted repetition
  emfile          more connections than the daemon can hold fds for
  known           all of the above
and those this fuzzer found:
  big-env         an app env of 65536 variables (the documented limit): the daemon
                  stalls for seconds (quadratic env_set in core/daemon/spec.c)
  deep-nesting    arrays nested 100000 deep: jsmn closes brackets by walking up the
                  parent links, quadratic in the depth (a 4 MiB line: hours)
  unread-replies  clients that leave replies or log messages unread: once 64 MiB wait
                  in all (OUT_GLOBAL, core/daemon/clients.c), no request of anyone runs
  control-echo    error messages echo the request's control characters (a newline in
                  "unknown command: ..."): checked only when not avoided
  found           all of these
Not avoidable: a stop or delete reply waits on ids and current states, so an id freed and
taken by a new instance, or an instance another client restarts, keeps it waiting (the
fuzzer reports "no reply in time" after 90 s).
"""
import argparse, base64, collections, errno, os, random, re, resource, select, socket
import shutil, subprocess, sys, threading, time, traceback, zlib, json, ast, copy, faulthandler

KNOWN = ["scale-overlap", "logs-twice", "all-empty", "pipeline-flood", "evil-regex", "emfile"]
FOUND = ["big-env", "deep-nesting", "unread-replies", "control-echo"]   # found by this fuzzer

ACTIONS = {   # default weights of what a worker does next
    "session": 30, "pipeline": 10, "dribble": 6, "half": 6, "noread": 6, "logsub": 5,
    "churn": 8, "garbage": 5, "big": 1, "flood": 1, "fdflood": 0.3,
}
COMMANDS = {  # default weights of the commands requests carry
    "ping": 6, "list": 8, "start": 12, "scale": 5, "stop": 8, "restart": 6, "reload": 4,
    "delete": 8, "reset": 3, "flush": 3, "signal": 5, "logs": 3, "save": 2, "cleardump": 1,
    "resurrect": 2, "reload_logs": 2, "events": 2, "unknown": 2,
}
WAITING = {b"start", b"stop", b"restart", b"reload", b"delete", b"resurrect", b"scale"}

# ---- the daemon's JSON parser, ported (vendor jsmn, JSMN_STRICT + JSMN_PARENT_LINKS) -----
J_OBJ, J_ARR, J_STR, J_PRIM = 1, 2, 4, 8
E_NOMEM, E_INVAL, E_PART = -1, -2, -3
_STR_STOP = re.compile(rb'["\\\x00]')
_PRIM_STOP = re.compile(rb'[\x00-\x20,\]}\x7f-\xff]')
_HEX = frozenset(b"0123456789abcdefABCDEF")


def jsmn_parse(js):
    """Tokens [type, start, end, size, parent] as jsmn_parse gives them, or an error < 0."""
    toks = []
    n = len(js)
    pos = 0
    sup = -1
    skip = {}   # closed token -> an ancestor, every token between them closed (jsmn walks
    #             these one by one: quadratic in the depth; the answer is the same)
    while pos < n and js[pos] != 0:
        c = js[pos]
        if c == 0x7B or c == 0x5B:                      # { [
            if sup != -1:
                t = toks[sup]
                if t[0] == J_OBJ:
                    return E_INVAL
                t[3] += 1
            toks.append([J_OBJ if c == 0x7B else J_ARR, pos, -1, 0, sup])
            sup = len(toks) - 1
        elif c == 0x7D or c == 0x5D:                    # } ]
            typ = J_OBJ if c == 0x7D else J_ARR
            if not toks:
                return E_INVAL
            i = len(toks) - 1
            path = []
            while True:
                t = toks[i]
                if t[1] != -1 and t[2] == -1:
                    if t[0] != typ:
                        return E_INVAL
                    t[2] = pos + 1
                    sup = t[4]
                    break
                if t[4] == -1:
                    if t[0] != typ or sup == -1:
                        return E_INVAL
                    break
                path.append(i)
                i = skip.get(i, t[4])
            for k in path:
                skip[k] = i
        elif c == 0x22:                                 # "
            p = pos + 1
            while True:
                m = _STR_STOP.search(js, p)
                if not m or js[m.start()] == 0:
                    return E_PART
                p = m.start()
                if js[p] == 0x22:
                    break
                if p + 1 >= n:
                    return E_PART
                p += 1
                e = js[p]
                if e in b'"/\\bfrnt':
                    p += 1
                elif e == 0x75:
                    p += 1
                    i = 0
                    while i < 4 and p < n and js[p] != 0:
                        if js[p] not in _HEX:
                            return E_INVAL
                        p += 1
                        i += 1
                else:
                    return E_INVAL
            toks.append([J_STR, pos + 1, p, 0, sup])
            if sup != -1:
                toks[sup][3] += 1
            pos = p
        elif c in (0x09, 0x0D, 0x0A, 0x20):
            pass
        elif c == 0x3A:                                 # :
            sup = len(toks) - 1
        elif c == 0x2C:                                 # ,
            if sup != -1 and toks[sup][0] not in (J_ARR, J_OBJ):
                sup = toks[sup][4]
        elif c == 0x2D or 0x30 <= c <= 0x39 or c in (0x74, 0x66, 0x6E):
            if sup != -1:
                t = toks[sup]
                if t[0] == J_OBJ or (t[0] == J_STR and t[3] != 0):
                    return E_INVAL
            m = _PRIM_STOP.search(js, pos)
            if not m:
                return E_PART
            p = m.start()
            ch = js[p]
            if ch == 0:
                return E_PART
            if ch not in b"\t\r\n ,]}":
                return E_INVAL
            toks.append([J_PRIM, pos, p, 0, sup])
            if sup != -1:
                toks[sup][3] += 1
            pos = p - 1
        else:
            return E_INVAL
        pos += 1
    for t in toks:
        if t[1] != -1 and t[2] == -1:
            return E_PART
    return toks


def _u16(s, i):
    if len(s) - i < 4 or any(b not in _HEX for b in s[i:i + 4]):
        return None
    return int(s[i:i + 4], 16)


def _utf8(cp):
    if cp < 0x80:
        return bytes([cp])
    if cp < 0x800:
        return bytes([0xC0 | cp >> 6, 0x80 | (cp & 0x3F)])
    if cp < 0x10000:
        return bytes([0xE0 | cp >> 12, 0x80 | (cp >> 6 & 0x3F), 0x80 | (cp & 0x3F)])
    return bytes([0xF0 | cp >> 18, 0x80 | (cp >> 12 & 0x3F), 0x80 | (cp >> 6 & 0x3F), 0x80 | (cp & 0x3F)])


_SIMPLE_ESC = {0x22: b'"', 0x5C: b"\\", 0x2F: b"/", 0x62: b"\b", 0x66: b"\f", 0x6E: b"\n",
               0x72: b"\r", 0x74: b"\t"}


def json_unescape(s):
    """core/lib/json.c json_unescape: bytes, or None where the daemon gets -1."""
    if b"\\" not in s:
        return s
    out = bytearray()
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            return None
        e = s[i]
        if e in _SIMPLE_ESC:
            out += _SIMPLE_ESC[e]
        elif e == 0x75:
            cp = _u16(s, i + 1)
            if cp is None:
                return None
            i += 4
            if 0xD800 <= cp < 0xDC00 and i + 6 < n and s[i + 1] == 0x5C and s[i + 2] == 0x75:
                lo = _u16(s, i + 3)
                if lo is not None and 0xDC00 <= lo < 0xE000:
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00)
                    i += 6
            out += _utf8(cp)
        else:
            return None
        i += 1
    return bytes(out)


_DEC = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEXF = re.compile(rb"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?)")


def c_strtod(s):
    """strtod over a whole primitive: its value, or None (not all consumed, or ERANGE)."""
    try:
        if _DEC.fullmatch(s):
            v = float(s)
        elif _HEXF.fullmatch(s):
            m = _HEXF.fullmatch(s)
            v = float.fromhex((m.group(1) + b"0x" + m.group(2)).decode())
        else:
            return None
    except (ValueError, OverflowError):
        return None
    if v != v or v in (float("inf"), float("-inf")):
        return None
    return v


JSON_MAX_DEPTH = 512


def too_deep(js):
    """core/lib/json.c too_deep: nested past JSON_MAX_DEPTH anywhere, strings skipped."""
    if js.count(b"[") + js.count(b"{") <= JSON_MAX_DEPTH:
        return False
    depth, i, n, in_string = 0, 0, len(js), False
    while i < n:
        c = js[i]
        if in_string:
            if c == 0x5C:
                i += 1
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x5B, 0x7B):
            depth += 1
            if depth > JSON_MAX_DEPTH:
                return True
        elif c in (0x5D, 0x7D):
            depth -= 1
        i += 1
    return False


class Doc:
    """A parsed line and the accessors of core/lib/json.c over it."""

    def __init__(self, js):
        self.js = js
        r = E_INVAL if too_deep(js) else jsmn_parse(js)
        self.err = r if isinstance(r, int) else (0 if not r else None)   # 0: empty document
        self.t = r if isinstance(r, list) else []

    def ok(self):
        return self.err is None

    def next(self, i):
        t, n = self.t, len(self.t)
        if i < 0 or i >= n:
            return n
        end = t[i][2]
        i += 1
        while i < n and t[i][1] < end:
            i += 1
        return i

    def child(self, c, k):
        t = self.t
        if c < 0 or c >= len(t) or k < 0 or k >= t[c][3]:
            return -1
        i = c + 1
        while k > 0:
            if t[c][0] == J_OBJ:
                i = self.next(i)
            i = self.next(i)
            k -= 1
        return i

    def elems(self, arr):
        if arr < 0 or arr >= len(self.t):
            return []
        out, e = [], arr + 1
        for _ in range(self.t[arr][3]):
            out.append(e)
            e = self.next(e)
        return out

    def get(self, obj, key):
        """core/lib/json.c json_get: a key given twice, the last one counts."""
        t, n = self.t, len(self.t)
        if obj < 0 or obj >= n or t[obj][0] != J_OBJ:
            return -1
        i, found = obj + 1, -1
        for _ in range(t[obj][3]):
            if i + 1 >= n:
                break
            if self.eq(i, key):
                found = i + 1
            i = self.next(i + 1)
        return found

    def get_all(self, obj, key):
        """Every value of key in obj, in order (json_get's walk, not stopping)."""
        t, n = self.t, len(self.t)
        if obj < 0 or obj >= n or t[obj][0] != J_OBJ:
            return []
        out, i = [], obj + 1
        for _ in range(t[obj][3]):
            if i + 1 >= n:
                break
            if self.eq(i, key):
                out.append(i + 1)
            i = self.next(i + 1)
        return out

    def misshapen(self):
        """core/lib/json.c misshapen() (since 5cacf5b): the first token of a member without a
        key or a value, or of a second root; -1 if none. Predictions only: the guard
        takes what older daemons take too."""
        stack = []   # [members left, is an object]
        for i, tok in enumerate(self.t):
            key = bool(stack) and stack[-1][1]
            if (not stack and i > 0) or (key and (tok[0] != J_STR or tok[3] != 1)) or \
                    (not key and tok[0] in (J_STR, J_PRIM) and tok[3] != 0):
                return i
            if stack:
                stack[-1][0] -= 1
            if tok[3] > 0:
                stack.append([tok[3], tok[0] == J_OBJ])
            while stack and stack[-1][0] == 0:
                stack.pop()
        return len(self.t) - 1 if stack else -1

    def typ(self, i):
        return self.t[i][0] if 0 <= i < len(self.t) else 0

    def raw(self, i):
        return self.js[self.t[i][1]:self.t[i][2]]

    def eq(self, i, key):
        """json_eq: compared as written, or unescaped when the key has a backslash
        ("c\\u006dd" is "cmd", since 50f3c01)."""
        if self.typ(i) != J_STR:
            return False
        raw = self.raw(i)
        if b"\\" not in raw:
            return raw == key
        return self.dup(i) == key

    def is_null(self, i):
        return self.typ(i) == J_PRIM and self.js[self.t[i][1]] == 0x6E

    def dup(self, i):
        """json_dup, as a C string (cut at the first NUL), or None."""
        ty = self.typ(i)
        if ty in (0, J_OBJ, J_ARR) or self.is_null(i):
            return None
        s = self.raw(i)
        if ty == J_STR:
            s = json_unescape(s)
            if s is None:
                return None
        return s.split(b"\0", 1)[0]

    def str_of(self, obj, key):
        """spec.c get_str: the string, None when absent/null/not a string."""
        t = self.get(obj, key)
        if t < 0 or self.typ(t) != J_STR:
            return None
        return self.dup(t)

    def as_ll(self, i):
        if self.typ(i) != J_PRIM:
            return None
        v = c_strtod(self.raw(i))
        if v is None or v != int(v) or abs(v) > 9.0e18:
            return None
        return int(v)

    def int_of(self, obj, key, default):
        t = self.get(obj, key)
        if t < 0 or self.is_null(t):
            return default
        v = self.as_ll(t)
        return default if v is None else v

    def as_bool(self, i):
        if self.typ(i) != J_PRIM:
            return None
        c = self.js[self.t[i][1]]
        return True if c == 0x74 else False if c == 0x66 else None

    def bool_of(self, obj, key, default):
        v = self.as_bool(self.get(obj, key))
        return default if v is None else v

    def strv_of(self, obj, key):
        t = self.get(obj, key)
        if self.typ(t) != J_ARR:
            return None
        return [self.dup(e) if self.typ(e) == J_STR else None for e in self.elems(t)]


def parse_int(s, lo, hi):
    """core/lib/util.c parse_int (strtoll base 10, all consumed)."""
    m = re.fullmatch(rb"[ \t\n\v\f\r]*([+-]?\d+)", s or b"")
    if not m or len(m.group(1).lstrip(b"+-0")) > 19:
        return None   # (strtoll: ERANGE)
    v = int(m.group(1))
    return v if lo <= v <= hi else None


# ---- safety: what may be sent --------------------------------------------------------
SAFE_SHELL = [
    "exit 3",
    "sleep 1000",
    "echo out; echo err >&2; exec sleep 1000",
    "while :; do echo tick; echo tock >&2; sleep 0.2; done",
    "seq 1 100000; exec sleep 1000",
    "trap '' INT TERM HUP; exec sleep 1000",
    "sleep 1000 & sleep 1000 & wait",
    "(setsid sleep 30 &); exec sleep 1000",
    "printf 'no newline at the end'; exec sleep 1000",
    "printf '\\377\\376 not utf-8\\n'; exec sleep 1000",
]
SAFE_BIN = [b"/bin/sleep", b"/bin/true", b"/bin/false"]
SAFE_INTERP = [b"/bin/true", b"/bin/false"]
_KILL = re.compile(rb"kill(?![_A-Za-z0-9])")
_LENIENT_U = re.compile(rb"\\u([0-9a-fA-F]{4})")


def _lenient_decode(b):
    b = _LENIENT_U.sub(lambda m: _utf8(int(m.group(1), 16)) if int(m.group(1), 16) < 0xD800 else b"?", b)
    return b.replace(b"\\", b"")


class Guard:
    """Decides what may be sent. A key given twice may mean its first value (json_get of
    HEAD) or its last (JavaScript's rule): every value of a key is checked, and a line
    is refused if any reading of it is unsafe."""

    def __init__(self, home, work, avoid):
        self.home = os.fsencode(os.path.realpath(home))
        self.work = os.fsencode(os.path.realpath(work))
        self.avoid = avoid
        self.safe_shell = set(s.encode() for s in SAFE_SHELL)
        self.files_ok = set([self.work + b"/notexec", self.home, self.work, b"/nonexistent/pf-bin"])

    @staticmethod
    def exists(path):
        """A file by that path, from / or (not starting with /) in PATH."""
        if os.path.lexists(os.path.join(b"/", path)):
            return True
        return not path.startswith(b"/") and shutil.which(os.fsdecode(path)) is not None

    def under(self, path, base):
        p = os.path.normpath(path)
        return p == base or p.startswith(base + b"/")

    # every reading of a key: its string values; its possible numbers or booleans
    @staticmethod
    def strs(d, o, key):
        return [d.dup(t) for t in d.get_all(o, key) if d.typ(t) == J_STR and d.dup(t) is not None]

    @staticmethod
    def ints(d, o, key, default):
        ts = d.get_all(o, key)
        out = set(v for v in (d.as_ll(t) for t in ts) if v is not None)
        if not out or any(d.is_null(t) for t in ts):
            out.add(default)   # (none valid: the app is refused, whatever is chosen)
        return out

    @staticmethod
    def bools(d, o, key, default):
        ts = d.get_all(o, key)
        out = set(v for v in (d.as_bool(t) for t in ts) if v is not None)
        if not out or any(d.is_null(t) for t in ts):
            out.add(default)
        return out

    def line(self, line, ctx):
        """None if the daemon may get this line, else why not."""
        if _KILL.search(line) or _KILL.search(_lenient_decode(line)):
            return "kill"
        d = Doc(line)
        if not d.ok() or d.typ(0) != J_OBJ:
            return None
        cmds = set(d.dup(t) for t in d.get_all(0, b"cmd")) - {None}
        if cmds & {b"kill", b"update"}:
            return "kill"
        why = self.targets(d)
        if why:
            return why
        if b"start" in cmds:
            for apps in d.get_all(0, b"apps"):
                if d.typ(apps) != J_ARR:
                    continue
                if d.t[apps][3] > 6:
                    return "too many apps"
                for e in d.elems(apps):
                    if d.typ(e) == J_OBJ:
                        why = self.app(d, e)
                        if why:
                            return why
        if b"scale" in cmds:
            if "scale-overlap" in self.avoid and not ctx.get("scale_lock"):
                return "scale without the scale lock"
            for t in d.get_all(0, b"instances"):
                text = d.dup(t)
                if text is None:
                    continue
                rel = text[:1] in (b"+", b"-")
                v = parse_int(text[1:] if text[:1] == b"+" else text, -4096, 4096)
                if v is not None and v > (4 if rel else 8):
                    return "scale too far"
        if b"logs" in cmds and True in self.bools(d, 0, b"stream", True):
            if "logs-twice" in self.avoid and ctx.get("subscribed"):
                return "second logs stream"
        return None

    def targets(self, d):
        for t in d.get_all(0, b"targets"):
            if d.typ(t) != J_ARR:
                continue
            for e in d.elems(t):
                w = d.dup(e) if d.typ(e) == J_STR else None
                if w is None:
                    continue
                if w == b"all" and "all-empty" in self.avoid:
                    return "all"
                if len(w) >= 2 and w[:1] == b"/" and w[-1:] == b"/" and "evil-regex" in self.avoid:
                    pat = w[1:-1]
                    if b"{" in pat or pat.count(b"(") > 2 or len(pat) > 64:
                        return "regex"
        return None

    def app(self, d, o):
        ints, bools, strs = self.ints, self.bools, self.strs
        if max(ints(d, o, b"instances", 1)) > 8:
            return "instances"
        for key in (b"kill_timeout", b"listen_timeout"):
            if max(ints(d, o, key, 0)) > 5000:
                return key.decode()
        for key in (b"listen", b"lb"):
            if any(not d.is_null(t) for t in d.get_all(o, key)):
                return key.decode()
        if any(v.startswith(b"cluster") for v in strs(d, o, b"exec_mode")):
            return "cluster"
        scripts = strs(d, o, b"script")
        for interp in strs(d, o, b"exec_interpreter"):
            if interp not in SAFE_INTERP and self.exists(interp):
                return "interpreter"
        for script in scripts:
            if True in bools(d, o, b"shell", False) and script not in self.safe_shell | set(SAFE_BIN) | \
                    self.files_ok | {b"/bin/sh"}:
                return "shell script"
            if script in SAFE_BIN or script in self.files_ok:
                continue
            if script == b"/bin/sh":
                for t in d.get_all(o, b"args"):
                    args = [d.dup(e) if d.typ(e) == J_STR else None for e in d.elems(t)] \
                        if d.typ(t) == J_ARR else None
                    if args and not (len(args) == 2 and args[0] == b"-c" and args[1] in self.safe_shell):
                        return "sh args"
            elif self.exists(script):
                return "script"
        for cwd in strs(d, o, b"cwd"):
            if not self.under(cwd, self.work + b"/c") and os.path.lexists(os.path.join(b"/", cwd)):
                return "cwd"
        for t in d.get_all(o, b"watch"):
            for e in d.elems(t) if d.typ(t) == J_ARR else []:
                w = d.dup(e) if d.typ(e) == J_STR else None
                if w is not None and not self.under(w, self.work + b"/w") and os.path.lexists(os.path.join(b"/", w)):
                    return "watch"
        for key in (b"out_file", b"error_file", b"log_file", b"pid_file"):
            for p in strs(d, o, key):
                if p not in (b"/dev/null", b"NULL") and (not p.startswith(b"/") or not self.under(p, self.home)):
                    return key.decode()
        if True in bools(d, o, b"autorestart", True) and min(ints(d, o, b"restart_delay", 0)) < 300 and \
                0 in ints(d, o, b"exp_backoff_restart_delay", 0) and \
                (min(ints(d, o, b"min_uptime", 1000)) < 300 or max(ints(d, o, b"max_restarts", 16)) > 30):
            return "restart loop"
        if any(0 < m < 1 << 28 for m in ints(d, o, b"max_memory_restart", 0)) and \
                min(ints(d, o, b"memory_check_interval", 1000)) < 1000:
            return "memory restarts"
        if any(0 < m < 4096 for m in ints(d, o, b"log_max_size", 0)) and \
                not all(0 <= r <= 5 for r in ints(d, o, b"log_retain", -1)):
            return "log rotation"
        return None


# ---- JSON writer with the means to break it -------------------------------------------
class Raw:
    """Bytes written as they are, in place of a value."""
    __slots__ = ("b",)

    def __init__(self, b):
        self.b = b


class RawStr:
    """A string whose body (between the quotes) is written as these bytes."""
    __slots__ = ("b",)

    def __init__(self, b):
        self.b = b


class Obj:
    """An object as a list of pairs: keys may repeat, order is kept."""
    __slots__ = ("pairs",)

    def __init__(self, pairs):
        self.pairs = pairs


def enc_str(s, r=None):
    """A JSON string; with r, sometimes with \\u escapes where none are needed (the daemon
    matches keys and enumerations such as "existing" as written, not unescaped)."""
    b = json.dumps(s, ensure_ascii=bool(r and r.random() < 0.2)).encode("utf-8", "surrogatepass")
    if r and r.random() < 0.05 and len(b) < 200:     # escape some ASCII too
        body = b[1:-1]
        out = bytearray()
        i = 0
        while i < len(body):
            c = body[i]
            if c == 0x5C:
                j = i + (6 if body[i + 1:i + 2] == b"u" else 2)
                out += body[i:j]
                i = j
                continue
            out += (b"\\u%04x" % c) if c < 0x80 and r.random() < 0.5 else bytes([c])
            i += 1
        b = b'"' + bytes(out) + b'"'
    return b


def enc(v, r=None, ws=False, esc_keys=False):
    """JSON bytes of v; with r, strings are sometimes written with \\u escapes (keys
    too with esc_keys: the daemon matches keys as written), with ws, blanks between
    tokens."""
    sp = (lambda: r.choice([b"", b" ", b"\t", b"\r", b"  "])) if ws and r else (lambda: b"")
    kr = r if esc_keys else None
    if isinstance(v, Raw):
        return v.b
    if isinstance(v, RawStr):
        return b'"' + v.b + b'"'
    if v is None:
        return b"null"
    if v is True:
        return b"true"
    if v is False:
        return b"false"
    if isinstance(v, int):
        return str(v).encode()
    if isinstance(v, float):
        return repr(v).encode() if v == v and abs(v) != float("inf") else b"1e999"
    if isinstance(v, str):
        return enc_str(v, r)
    if isinstance(v, bytes):
        return b'"' + v + b'"'
    if isinstance(v, dict):
        v = Obj(list(v.items()))
    if isinstance(v, Obj):
        return b"{" + sp() + b",".join(sp() + enc_str(k, kr) + sp() + b":" + sp() + enc(x, r, ws, esc_keys) + sp()
                                       for k, x in v.pairs) + sp() + b"}"
    if isinstance(v, (list, tuple)):
        return b"[" + b",".join(sp() + enc(x, r, ws, esc_keys) + sp() for x in v) + b"]"
    raise TypeError(type(v))


# ---- shared state, counts, the request log -----------------------------------------------
class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.c = collections.Counter()
        self.by_cmd = collections.Counter()
        self.codes = collections.Counter()
        self.msgs = collections.Counter()
        self.anomalies = []
        self.anomaly_kinds = collections.Counter()
        self.mismatch = []

    def add(self, key, n=1):
        with self.lock:
            self.c[key] += n

    def anomaly(self, kind, detail):
        with self.lock:
            self.anomaly_kinds[kind] += 1
            if self.anomaly_kinds[kind] <= 5:
                self.anomalies.append((kind, detail))


def short(b, n=300):
    if isinstance(b, str):
        b = b.encode("utf-8", "surrogateescape")
    r = repr(b[:n])
    return r + ("...(%d bytes)" % len(b) if len(b) > n else "")


class ReqLog:
    """Every connection event and every byte sent, in order; the recent ones in memory."""

    def __init__(self, path, t0):
        self.f = open(path, "w", buffering=1 << 16) if path else None
        self.t0 = t0
        self.lock = threading.Lock()
        self.recent = collections.deque(maxlen=400)   # what was sent, opened, closed

    def event(self, conn, what, data=None):
        t = time.monotonic() - self.t0
        if data is None:
            line = "%.3f c%d %s\n" % (t, conn, what)
        elif what == "recv":
            line = "%.3f c%d recv %r\n" % (t, conn, data)
        elif len(data) <= 4096:
            line = "%.3f c%d %s %d r:%r\n" % (t, conn, what, len(data), data)
        else:
            line = "%.3f c%d %s %d z:%s\n" % (t, conn, what, len(data),
                                              base64.b64encode(zlib.compress(data, 6)).decode())
        with self.lock:
            if self.f:
                self.f.write(line)
            if what != "recv":
                self.recent.append((t, conn, what, data[:600] if data else None, len(data or b"")))

    def note(self, text):
        with self.lock:
            if self.f:
                self.f.write("%.3f note %s\n" % (time.monotonic() - self.t0, text))

    def flush(self):
        with self.lock:
            if self.f:
                self.f.flush()

    def last(self, since, n=25):
        with self.lock:
            items = [x for x in self.recent if x[0] >= since and x[2] in ("send", "open", "close", "shut")]
        return items[-n:]


class Closed(Exception):
    pass


class Conn:
    """One connection: sends through the guard and the log, reads reply lines."""

    def __init__(self, fz, timeout=5.0):
        self.fz = fz
        self.id = fz.next_conn()
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.partial = b""
        self.ctx = {}
        self.pending = collections.deque()   # expected replies, in order
        self.too_long = False
        self.refused = False
        self.closed = False
        self.shut = False
        fz.log.event(self.id, "open")
        try:
            self.sock.connect(fz.sock_path)
        except OSError:
            self.sock.close()
            fz.log.event(self.id, "close")
            raise
        fz.stats.add("connections")

    def check(self, data):
        """Guard every line data completes; the lines as (line, Doc) or None if refused."""
        full = self.partial + data
        parts = full.split(b"\n")
        lines = []
        for ln in parts[:-1]:
            why = self.fz.guard.line(ln, self.ctx) if len(ln) <= 8 << 20 else None
            if why:
                self.fz.stats.add("guarded")
                self.fz.stats.add("guarded: " + why)
                return None
            lines.append(ln)
        return lines

    def send(self, data, chunks=None):
        """Send data (in pieces of the given sizes); False if the guard refused it."""
        lines = self.check(data)
        if lines is None:
            return False
        self.partial = (self.partial + data).rsplit(b"\n", 1)[-1] if b"\n" in data else self.partial + data
        for ln in lines:
            self.expect(ln)
        self.fz.log.event(self.id, "send", data)
        self.fz.stats.add("bytes sent", len(data))
        self.sock.settimeout(30)
        if not chunks:
            self.sock.sendall(data)
        else:
            i = 0
            for n in chunks:
                if i >= len(data):
                    break
                self.sock.sendall(data[i:i + n])
                i += n
            if i < len(data):
                self.sock.sendall(data[i:])
        return True

    def expect(self, ln):
        if not ln:
            return
        self.fz.stats.add("lines")
        if len(ln) > 4 << 20:   # the limit: 4 MiB, or 16 MiB (PROTOCOL_MAX_REQUEST) since 772181d
            self.too_long = True
            self.pending.append({"cmd": b"(too long)", "line": ln[:200], "sent": time.monotonic()})
            return
        d = Doc(ln) if len(ln) <= 8 << 20 else None
        e = {"line": ln[:2000], "sent": time.monotonic()}
        if not d.ok() or d.misshapen() >= 0:
            e["cmd"] = b"(parse error)"
        elif d.typ(0) != J_OBJ:
            e["cmd"] = b"(not an object)"
        else:
            cmds = d.get_all(0, b"cmd")   # the last counts (since 6bc1e63; the first before)
            cmd = d.dup(cmds[-1]) if cmds else None
            e["cmd"] = cmd if cmd is not None else b"(no cmd)"
            e["build"] = d.get(0, b"build") >= 0 or d.get(0, b"proto") >= 0
            if (cmd == b"logs" and d.bool_of(0, b"stream", True)) or cmd == b"events":
                self.ctx["subscribed"] = True
        self.fz.stats.by_cmd[e["cmd"].decode("utf-8", "replace")[:24]] += 1
        self.pending.append(e)

    def shutdown(self):
        self.fz.log.event(self.id, "shut")
        self.shut = True
        try:
            self.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self):
        if not self.closed:
            self.closed = True
            self.fz.log.event(self.id, "close")
            try:
                self.sock.close()
            except OSError:
                pass

    def read_line(self, deadline):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 1:]
                return line
            left = min(deadline, self.fz.hard_end) - time.monotonic()
            if left <= 0:
                raise socket.timeout()
            self.sock.settimeout(min(left, 5.0))
            try:
                chunk = self.sock.recv(1 << 16)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                raise Closed()
            self.fz.stats.add("bytes read", len(chunk))
            self.buf += chunk

    def wait_for(self, e):
        return 90.0 if e["cmd"] in WAITING else 20.0

    def replies(self, deadline=None, stream_for=0.0):
        """Read until every expected reply came, then stream_for seconds more of stream
        messages. Checks each line against the protocol."""
        data = []
        while self.pending:
            e = self.pending[0]
            # each reply gets its time from when the one before it came
            dl = deadline or e.setdefault("deadline", time.monotonic() + self.wait_for(e))
            try:
                line = self.read_line(dl)
            except socket.timeout:
                if time.monotonic() >= dl:
                    self.fz.stats.anomaly("no reply in time", "%.0f s for %s on c%d after %s" % (
                        time.monotonic() - e["sent"], e["cmd"], self.id, short(e["line"])))
                raise
            except Closed:
                if not self.too_long and not self.shut and not self.refused and not self.fz.dead:
                    self.fz.stats.anomaly("closed before the reply", "c%d, %d replies missing, "
                                          "next for %s" % (self.id, len(self.pending), short(e["line"])))
                raise
            self.fz.check_line(self, line, e, data)
        if stream_for:
            end = time.monotonic() + stream_for
            while True:
                try:
                    line = self.read_line(end)
                except socket.timeout:
                    return
                self.fz.check_line(self, line, None, data)


# ---- request generation ----------------------------------------------------------------
# (glibc's regcomp of "/(.*){1,32000}[bc]/" took 17 GB: nothing bigger than the known one)
EVIL_REGEX = ["/(a{1,255}){1,255}/", "/((((((a*)*)*)*)*)*b/", "/(x+x+)+y/", "/(a|aa)+$/", "/^(a+)+$/"]
SAFE_REGEX = ["/^pf/", "/pfa|pfb/", "/^pf[0-9]x/", "/./", "/^$/", "/é/", "/\\(/", "/x*/", "/^pfa$/",
              "/ /", "/pf.*[13579]$/", "/pf\\d+x/", "/^pf(a|b)$/"]
BAD_REGEX = ["/(/", "/[/", "//", "/[/]/", "/a\\/", "/[[:alpha:]]/", "/a**/", "/(?<x>a)/", "/\\k<x>/",
             "/a{2,1}/", "/[z-a]/", "/(a)\\2/"]
WEIRD_WORDS = ["", " ", "-1", "99999999999999999999", "2147483647", "2147483648", "/", "0x1", "1e2",
               "é", "pf\u0000a", "ALL", "all ", " all", "default", "\ud800", "0", "+1", "00", "\t",
               "x" * 300, "pf" * 3000, "\u00e9" * 150, "a/b", "*", "null", "NaN"]
SIGNALS = ["SIGUSR1", "USR2", "HUP", "SIGCONT", "CONT", "WINCH", "sigwinch", "0", "-1", "64", "65",
           "999999999999", "SIGKILL", "9", 15, 10, 1.5, True, None, "NOPE", "", "SIG", "SIGRTMIN",
           "SIGRTMIN+1", "34", "SIGSTOP", "STOP", "TSTP", "SIGINT", "term", "SIGTERM", "usr1", " 10"]
CRONS = ["*/5 * * * * *", "0 0 30 2 *", "0 0 31 2 *", "@daily", "*/1000000 * * * * *", "0 0 29 2 1",
         "* * ? * ?", "0 0 1 jan-dec mon-fri", "0-59/7 * * * * *", "0 0 * * 7", "@HOURLY"]
BAD_CRONS = ["*/0 * * * *", "61 * * * *", "5-1 * * * *", "@reboot", "@every", "* * *", "1,,2 * * * *",
             "? * * * *", "L * * * *", "99999999999999999999 * * * *", "", "@yearly extra", "* * * * * * *"]


class Gen:
    def __init__(self, fz, r, wid):
        self.fz, self.r, self.w = fz, r, wid
        self.n = 0

    # -- words -----------------------------------------------------------------------
    def own_name(self):
        self.n = (self.n + 1) % 40
        return "pf%dx%d" % (self.w, self.n)

    def name(self):
        r = self.r.random()
        names = self.fz.names
        if r < 0.3:
            return self.r.choice(["pfa", "pfb", "pfc"])
        if r < 0.75 and names:
            return self.r.choice(names)
        if r < 0.95:
            return self.own_name()
        return self.r.choice(["pf.dot", "pf sp", "pf-\u00e9", "pf\u0001ctl", "9pf", "-pf", "pf" * 100,
                              "\u00e9" * 200, "\U0001F600" * 60, "pf\\x", "pf\"q", "1234"])

    def target(self):
        r = self.r.random()
        allow_all = "all-empty" not in self.fz.avoid
        if r < 0.2 and self.fz.ids:
            return str(self.r.choice(self.fz.ids))
        if r < 0.25:
            return str(self.r.randrange(0, 300))
        if r < 0.55:
            return self.name()
        if r < 0.62:
            return self.r.choice(["pfns1", "pfns2", "default"])
        if r < 0.72 and allow_all:
            return "all"
        if r < 0.81:
            return self.r.choice(SAFE_REGEX)
        self.bad = True   # may be refused with code 2
        if r < 0.84:
            return self.r.choice(BAD_REGEX)
        if r < 0.87 and "evil-regex" not in self.fz.avoid:
            return self.r.choice(EVIL_REGEX)
        return self.r.choice(WEIRD_WORDS)

    def targets(self):
        k = self.r.choice([1, 1, 1, 1, 2, 2, 3, 5])
        return [self.target() for _ in range(k)]

    # -- apps ------------------------------------------------------------------------
    def ch(self, good, bad=()):
        """A value from good, or now and then from bad (and the request is then not valid)."""
        if bad and self.r.random() < 0.25:
            self.bad = True
            return self.r.choice(bad)
        return self.r.choice(good)

    def app(self, name):
        r, ch = self.r, self.ch
        home, work = self.fz.home, self.fz.work
        a = {"name": name, "cwd": r.choice([work + "/c", work + "/c/sub"]),
             "kill_timeout": r.choice([0, 50, 200, 500, 800, 1600])}
        kind = r.choice(["sleep"] * 6 + ["true", "exit3", "shell", "shell", "missing", "notexec",
                                         "dir", "interp", "sleepargs"])
        if name in ("pfa", "pfb", "pfc") and r.random() < 0.4:
            kind = "slowstop"   # the apps every worker touches: stops that take a while
        if kind == "slowstop":
            a.update(script="/bin/sh", args=["-c", "trap '' INT TERM HUP; exec sleep 1000"],
                     kill_timeout=r.choice([300, 800, 1600]))
        elif kind == "sleep":
            a.update(script="/bin/sleep", args=["1000"])
        elif kind == "sleepargs":
            a.update(script="/bin/sleep", args=r.choice([["0.5"], ["x"], [], ["inf"], ["1000", "2000"],
                                                         ["-1"], ["1000"] * 500]))
        elif kind == "true":
            a.update(script=r.choice(["/bin/true", "/bin/false"]))
        elif kind == "exit3":
            a.update(script="/bin/sh", args=["-c", "exit 3"])
            if r.random() < 0.5:
                a["stop_exit_codes"] = [3]
        elif kind == "shell":
            if r.random() < 0.5:
                a.update(script=r.choice(SAFE_SHELL), shell=True)
            else:
                a.update(script="/bin/sh", args=["-c", r.choice(SAFE_SHELL)])
        elif kind == "missing":
            a.update(script="/nonexistent/pf-bin")
        elif kind == "notexec":
            a.update(script=work + "/notexec")
        elif kind == "dir":
            a.update(script=home)
        elif kind == "interp":
            a.update(script="/bin/sleep", exec_interpreter=r.choice(["/bin/true", "/nonexistent/interp"]),
                     interpreter_args=["-x"], args=["1000"])
        if r.random() < 0.5:
            a["instances"] = r.choice([1, 1, 2, 2, 3, 4, 8] if kind in ("sleep", "shell", "slowstop")
                                      else [1, 1, 2, 3])
        if kind not in ("sleep", "shell", "slowstop") and r.random() < 0.7:   # exits at once: fewer respawns
            a.update(r.choice([{"restart_delay": 500}, {"autorestart": False}, {"exp_backoff_restart_delay": 200},
                               {"max_restarts": 3}]))
        if r.random() < 0.3:
            a["namespace"] = r.choice(["pfns1", "pfns2", "default"])
        opt = [
            ("env", lambda: ch([{"A": "1", "B": None, "N": 5, "T": True, "U": "\u00e9x"}],
                               [{"U": "\u00e9\u0000x"}])),   # (\u0000 refused since 6bc1e63)
            ("shell_env", lambda: {"PATH": "/usr/bin:/bin", "HOME": home}),
            ("kill_signal", lambda: ch(["SIGTERM", "TERM", "15", "INT", "SIGKILL", "HUP", "SIGUSR1", "SIGWINCH"],
                                       ["NOPE", "0", "65"])),
            ("max_restarts", lambda: r.choice([0, 1, 5, 16, 30])),
            ("min_uptime", lambda: r.choice([300, 1000, 5000])),
            ("restart_delay", lambda: r.choice([0, 300, 1000, 100000])),
            ("exp_backoff_restart_delay", lambda: r.choice([0, 100, 1000])),
            ("autorestart", lambda: r.random() < 0.5),
            ("autostart", lambda: r.random() < 0.7),
            ("status", lambda: r.choice(["stopped", "online", "x"])),
            ("treekill", lambda: r.random() < 0.8),
            ("cron_restart", lambda: ch(CRONS, BAD_CRONS)),
            ("watch", lambda: r.choice([[work + "/w"], [work + "/w", work + "/c/sub"], [work + "/w/none"]])),
            ("ignore_watch", lambda: ["*.tmp", "[", "**"]),
            ("watch_delay", lambda: r.choice([0, 100, 1000])),
            ("instance_var", lambda: ch(["INSTANCE_ID"], ["", "A=B"])),
            ("increment_var", lambda: r.choice(["N", "A", "PORT", "X"])),
            ("max_memory_restart", lambda: r.choice([1, 1 << 30, 1 << 30])),
            ("time", lambda: True),
            ("log_date_format", lambda: ch(["YYYY-MM-DD HH:mm:ss", "x" * 128, "%s%n"], ["[YYYY", "x" * 129])),
            ("log_type", lambda: ch(["json", "raw"], ["xml"])),
            ("merge_logs", lambda: r.random() < 0.5),
            ("out_file", lambda: r.choice([home + "/logs/pf-custom-out.log", "/dev/null", "NULL",
                                           home + "/logs/deep/er/pf.log"])),
            ("error_file", lambda: r.choice([home + "/logs/pf-custom-err.log", "/dev/null"])),
            ("log_file", lambda: r.choice([True, False, home + "/logs/pf-combined.log"])),
            ("pid_file", lambda: home + "/pids/pf-custom.pid"),
            ("log_max_size", lambda: r.choice([1000, 4096, 1 << 20])),
            ("uid", lambda: r.choice([65534, 0, -1, 12345])),
            ("gid", lambda: r.choice([65534, 0, -1])),
            ("username", lambda: "pf-user"),
            ("wait_ready", lambda: True),
            ("listen_timeout", lambda: r.choice([0, 100, 1000, 2000])),
            ("exec_mode", lambda: ch(["fork", "fork_mode"], ["x"])),
            ("port", lambda: r.choice([0, 65535, 8])),
            ("force", lambda: r.random() < 0.3),
            ("unknown_key", lambda: {"nested": [1, 2, {"x": None}]}),
        ]
        for key, f in opt:
            if r.random() < 0.07:
                a[key] = f()
        if "max_memory_restart" in a:
            a["memory_check_interval"] = r.choice([2000, 5000])
        if "log_max_size" in a:
            a["log_retain"] = r.choice([0, 1, 5])
        if "max_restarts" in a or "min_uptime" in a:
            a.setdefault("min_uptime", 1000)
        return a

    # -- commands ----------------------------------------------------------------------
    def request(self, cmd=None, conn=None):
        """(obj, valid): a request object, and whether it is well formed."""
        r = self.r
        self.bad = False
        cmd = cmd or self.fz.pick_cmd(r)
        if cmd == "ping":
            o = {"cmd": "ping"}
            if r.random() < 0.2:
                o["build"] = r.choice([self.fz.build or "x", "000000000000", "", None])
            if r.random() < 0.2:
                o["proto"] = r.choice([0, 1, 2, 3, -1, "2", 1e9, 2.5, None, 2 ** 63])
            return o, False
        if cmd == "list":
            o = {"cmd": "list"}
            if r.random() < 0.5:
                o["targets"] = self.targets()
            if r.random() < 0.7:
                o["env"] = r.random() < 0.3
            return o, not self.bad
        if cmd == "start":
            k = r.choice([1, 1, 1, 2, 3])
            names = []
            while len(names) < k:
                n = self.name()
                if n not in names:
                    names.append(n)
            o = {"cmd": "start", "apps": [self.app(n) for n in names]}
            if any(len(n.encode("utf-8", "surrogatepass")) > 200 or re.search("[\x00-\x1f\x7f\ud800-\udfff]", n)
                   for n in names):
                self.bad = True   # (too long, control characters, not UTF-8: refused since 6bc1e63)
            if r.random() < 0.5:
                o["existing"] = r.choice(["error", "skip", "restart", "update"])
            if r.random() < 0.15:
                o["force"] = r.random() < 0.5
            if r.random() < 0.1:
                o["reload"] = True
                o["parallel"] = r.choice([1, 2, 4096])
            return o, not self.bad
        if cmd == "scale":
            name = self.r.choice(["pfa", "pfb", "pfc"]) if r.random() < 0.5 else self.name()
            inst = r.choice(["+1", "+2", "-1", "-2", "1", "2", "3", 2, "+0", "-0", "0", "4097", "x", "",
                             " 2", "0x2", "1e1", None, "+-1", "--1", "++1", 1.0, "2 "])
            o = {"cmd": "scale", "name": name, "instances": inst}
            return o, inst in ("+1", "+2", "1", "2", "3", 2)
        if cmd in ("stop", "restart", "reload", "delete", "reset"):
            o = {"cmd": cmd, "targets": self.targets()}
            if cmd in ("stop", "restart") and r.random() < 0.2:
                o["watch"] = r.random() < 0.5
            if cmd in ("restart", "reload") and r.random() < 0.2:
                o["shell_env"] = {"PATH": "/usr/bin:/bin", "PF": "1"}
            if cmd == "reload" and r.random() < 0.3:
                o["parallel"] = r.choice([1, 2, 3, 4096])
            if cmd in ("stop", "delete") and r.random() < 0.3:
                o["force"] = r.random() < 0.7
            return o, not self.bad
        if cmd == "flush":
            o = {"cmd": "flush"}
            if r.random() < 0.6:
                o["targets"] = self.targets()
            return o, not self.bad
        if cmd == "signal":
            sig = r.choice(SIGNALS)
            return {"cmd": "signal", "signal": sig, "targets": self.targets()}, False
        if cmd == "events":
            o = {"cmd": "events"}
            if r.random() < 0.5:
                o["targets"] = self.targets()
            if r.random() < 0.5:
                o["samples"] = r.choice([100, 250, 1000, 0, 50, -1, 3600001, "1000", 1.5, None])
                if o["samples"] not in (100, 250, 1000, 0):
                    return o, False   # refused, code 2
            return o, not self.bad
        if cmd == "logs":
            o = {"cmd": "logs", "stream": False}
            if r.random() < 0.6:
                o["targets"] = self.targets()
            for k in ("out", "err"):
                if r.random() < 0.3:
                    o[k] = r.random() < 0.5
            return o, not self.bad
        if cmd == "save":
            o = {"cmd": "save"}
            if r.random() < 0.5:
                o["force"] = r.random() < 0.5
            return o, not self.bad
        if cmd in ("cleardump", "resurrect", "reload_logs"):
            return {"cmd": cmd}, True
        return {"cmd": r.choice(["pong", "PING", "ping ", "Ping", "start\u0000", "list\t", "", "\u00e9",
                                 "x" * 100, "reload-logs", "sendSignal", "jlist", "describe",
                                 "ping\u0000junk", "scale\u0000", "lis", "listx"])}, False

    # -- mutation ------------------------------------------------------------------------
    def evil_value(self):
        r = self.r
        c = r.randrange(26)
        if c == 0: return None
        if c == 1: return r.choice([True, False])
        if c == 2: return r.choice([0, -1, 1, 2 ** 31, 2 ** 31 - 1, 2 ** 63, -2 ** 63 - 1, 4096, 4097, 65536,
                                    86400001, 10 ** 30])
        if c == 3: return Raw(r.choice([b"1e999", b"-0", b"0x10", b"1.0", b"1e2", b"00012", b"-", b"1.",
                                        b"tru", b"nul", b"fals", b"9223372036854775808", b"-1e-400",
                                        b"0x1p3", b"1e+", b"--1", b"nan", b"-inf", b"2.5", b"8.0", b"1E0"]))
        if c == 4: return ""
        if c == 5: return "x" * r.choice([201, 4096, 65536])
        if c == 6: return "x" * r.choice([1 << 20, 3 << 20]) if r.random() < 0.1 else "y" * 1000
        if c == 7: return RawStr(r.choice([b"\\u0000", b"a\\u0000b", b"\\ud800", b"\\udfff", b"\\ud83d\\ude00",
                                           b"\\ud800\\u0041", b"\\u00", b"\\x", b"\\", b"\\uD800\\uDBFF",
                                           b"\\/\\b\\f\\n\\r\\t", b"\\u0061ll", b"\\\\"]))
        if c == 8: return RawStr(r.choice([b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"a\xffb",
                                           b"\xf4\x90\x80\x80", b"\x01\x02\x1f", b"\x7f"]))
        deep = "deep-nesting" not in self.fz.avoid
        if c == 9:
            depth = r.choice([10, 100, 1000, 100000 if deep and r.random() < 0.2 else 5000])
            return Raw(b"[" * depth + b"]" * depth)
        if c == 10:
            depth = r.choice([10, 1000, 20000 if deep else 2000])
            return Raw(b'{"a":' * depth + b"1" + b"}" * depth)
        if c == 11: return Raw(b"[" * r.choice([1, 5, 1000]))
        if c == 12: return [r.choice([1, "a", None, [], {}]) for _ in range(r.choice([0, 1, 100, 70000]))]
        if c == 13: return {"k%d" % i: "v" for i in range(r.choice([0, 1, 100, 66000]))}
        if c == 14: return []
        if c == 15: return {}
        if c == 16: return [[[[[[]]]]]]
        if c == 17: return "\u00e9\U0001F600\u0000\u2028"
        if c == 18: return Raw(b"")
        if c == 19: return Raw(r.choice([b"}", b"]", b"{", b",", b":", b'"', b"\x00", b"true false",
                                         b"1 2", b'"a" "b"', b"{}{}", b"[1,]", b"{,}"]))
        if c == 20: return 1.5
        if c == 21: return Raw(b"1" * r.choice([20, 400, 5000]))
        if c == 22: return Raw(b'"' + b"\\u0041" * r.choice([10, 10000]) + b'"')
        if c == 23: return ["/bin/sleep", "1000"]
        if c == 24: return Obj([("a", 1), ("a", 2)])
        return self.r.choice(["all", "/./", "0", "pfa", "stopped", "-1", "SIGTERM"])

    def mutate_obj(self, o):   # noqa: C901 (one case per kind of damage)
        """One to three structural changes to a request object (a copy)."""
        r = self.r
        o = copy.deepcopy(o)
        for _ in range(r.choice([1, 1, 1, 2, 3])):
            op = r.randrange(9)
            if op <= 2:   # replace a value somewhere
                parent, key = self.pick_slot(o)
                if parent is not None:
                    parent[key] = self.evil_value()
            elif op == 3:   # drop a member
                parent, key = self.pick_slot(o, dicts_only=True)
                if parent is not None:
                    parent.pop(key, None)
            elif op == 4:   # add a member
                parent, _ = self.pick_slot(o, dicts_only=True)
                if parent is not None:
                    parent[r.choice(["cmd", "targets", "apps", "name", "script", "instances", "build",
                                     "stream", "env", "args", "extra", "", "\u0000", "x" * 300])] = self.evil_value()
            elif op == 5:   # change cmd
                o["cmd"] = r.choice([None, 1, [], {}, "start", "stop", "logs", "list", "scale", "ping",
                                     RawStr(b"pin\\u0067"), RawStr(b"ping\\u0000junk"),
                                     RawStr(b"\\u0070ing"), self.evil_value()])
            elif op == 6:   # duplicate a key
                keys = list(o.keys())
                if keys:
                    k = r.choice(keys)
                    pairs = list(o.items())
                    pairs.insert(r.randrange(len(pairs) + 1), (k, self.evil_value()))
                    return Obj(pairs)
            elif op == 7:   # wrap or replace the root
                return r.choice([[o], "str", 1, None, Raw(b"[" + enc(o) + b"]"), Obj([("", o)]),
                                 Raw(enc(o) + b" " + enc(o)), Raw(enc(o) + b"garbage")])
            else:   # nested duplicate of an app / target list
                if isinstance(o.get("apps"), list) and o["apps"]:
                    o["apps"].append(copy.deepcopy(o["apps"][0]))
                elif isinstance(o.get("targets"), list) and len(o["targets"]) < 100:
                    # (a target already replaced by a 70,000-element list, times 3000: the
                    # worker spent minutes encoding it, and the run failed as "still busy")
                    k = r.choice([2, 50, 3000])
                    if len(enc(o["targets"])) * k <= 4 << 20:
                        o["targets"] = o["targets"] * k
        return o

    def pick_slot(self, o, dicts_only=False):
        """A random (container, key) inside o."""
        r = self.r
        slots = []

        def walk(x, depth):
            if depth > 4:
                return
            if isinstance(x, dict):
                for k in x:
                    slots.append((x, k))
                    walk(x[k], depth + 1)
            elif isinstance(x, list) and not dicts_only:
                for i in range(min(len(x), 8)):
                    slots.append((x, i))
                    walk(x[i], depth + 1)
            elif isinstance(x, list):
                for i in range(min(len(x), 8)):
                    walk(x[i], depth + 1)
        walk(o, 0)
        if dicts_only:
            slots = [s for s in slots if isinstance(s[0], dict)]
        if not slots:
            return (o, "cmd") if isinstance(o, dict) else (None, None)
        return r.choice(slots)

    def mutate_bytes(self, b):
        r = self.r
        b = bytearray(b)
        for _ in range(r.choice([1, 1, 2, 3, 5])):
            if not b:
                b = bytearray(b"{")
            op = r.randrange(10)
            i = r.randrange(len(b))
            if op <= 2:
                b[i] ^= 1 << r.randrange(8)
            elif op == 3:
                b[i] = r.choice(b'\x00\xff"\\{}[],:\r\t 0-ntf\x7f')
            elif op == 4:
                del b[i:i + r.randrange(1, 20)]
            elif op == 5:
                j = min(len(b), i + r.randrange(1, 40))
                b[i:i] = b[i:j] * r.choice([1, 2, 10, 200])
            elif op == 6:
                b[i:i] = bytes(r.randrange(256) for _ in range(r.randrange(1, 8)))
            elif op == 7:
                b[i:i] = r.choice([b"{", b"}", b"[", b"]", b'"', b"\\", b"\\u", b"\\ud800", b"\x00", b"\n",
                                   b"\r", b"\xff", b",", b":", b'"cmd":', b'"ping"', b"\xc3"])
            elif op == 8:
                del b[i:]
            else:
                other, _ = self.request()
                ob = enc(other)
                b = b[:i] + ob[r.randrange(len(ob)):]
        return bytes(b)

    def line(self, cmd=None, kind=None, conn=None):
        """One request line (with its newline): (bytes, kind, valid)."""
        r = self.r
        kind = kind or self.fz.pick_mutation(r)
        for _ in range(4):
            o, valid = self.request(cmd, conn)
            if kind == "valid":
                esc = r.random() < 0.2
                b = enc(o, r if esc else None, ws=r.random() < 0.1)
                valid = valid and not esc
            elif kind == "struct":
                m = self.mutate_obj(o)
                b = enc(m)
                if len(b) < 100000:   # (blanks and escapes for small ones: they cost per token)
                    b = enc(m, r, ws=r.random() < 0.2, esc_keys=r.random() < 0.2)
                valid = False
            else:
                b = enc(o, r)
                if len(b) < 65536:
                    b = self.mutate_bytes(b)
                    valid = False
            if len(b) > 8 << 20:
                continue
            ctx = conn.ctx if conn else {}
            if all(not self.fz.guard.line(ln, ctx) for ln in b.split(b"\n")):
                return b + r.choice([b"\n"] * 20 + [b"\r\n", b"\n\n"]), kind, valid
            self.fz.stats.add("regenerated")
        return b'{"cmd":"ping"}\n', "valid", True

    def garbage(self):
        r = self.r
        c = r.randrange(5)
        if c == 0:
            return os.urandom(r.choice([1, 10, 100, 4096, 65536]))
        if c == 1:
            return bytes(r.randrange(32, 127) for _ in range(r.randrange(1, 2000))) + b"\n"
        if c == 2:   # token soup
            toks = [b"{", b"}", b"[", b"]", b'"cmd"', b'"ping"', b":", b",", b"1", b"true", b"null", b'"x"',
                    b"\\", b" ", b'"targets"', b'"all"', b"-", b"\x00"]
            return b"".join(r.choice(toks) for _ in range(r.randrange(1, 200))) + b"\n"
        if c == 3:
            return b"\n" * r.randrange(1, 100) + b"\r\n" * r.randrange(0, 10)
        return b"".join(self.line()[0] for _ in range(3)).replace(b"\n", b"") + b"\n"


# ---- the fuzzer ----------------------------------------------------------------------------
def weights(spec, defaults, what):
    w = dict(defaults)
    for item in filter(None, (spec or "").split(",")):
        k, _, v = item.partition("=")
        if k not in w:
            sys.exit("protofuzz: unknown %s %r (known: %s)" % (what, k, ", ".join(sorted(w))))
        w[k] = float(v)
    return w


class Fuzzer:
    def __init__(self, a):
        self.a = a
        self.sock_path = a.socket
        self.home = os.path.realpath(a.home)
        self.avoid = set()
        for x in filter(None, (a.avoid or "").split(",")):
            if x == "known":
                self.avoid.update(KNOWN)
            elif x == "found":
                self.avoid.update(FOUND)
            elif x in KNOWN or x in FOUND:
                self.avoid.add(x)
            elif x != "none":
                sys.exit("protofuzz: unknown --avoid %r (known: %s)" % (x, ", ".join(KNOWN + FOUND + ["known", "found"])))
        self.actions = weights(a.mix, ACTIONS, "action")
        if "pipeline-flood" in self.avoid:
            self.actions["flood"] = 0
        self.cmds = weights(a.cmds, COMMANDS, "command")
        self.muts = weights(a.mutate, {"valid": 60, "struct": 25, "bytes": 15}, "mutation")
        # apps' cwd and watched files: beside the home (the daemon never watches its home)
        self.work = os.path.realpath(a.work or os.path.join(os.path.dirname(self.home), "pf-work"))
        self.guard = Guard(self.home, self.work, self.avoid)
        self.t0 = time.monotonic()
        self.log = ReqLog(a.log, self.t0)
        self.stats = Stats()
        self.conn_lock = threading.Lock()
        self.nconn = 0
        self.names = []
        self.ids = []
        self.build = None
        self.pid = a.pid
        self.dead = False
        self.stop = threading.Event()
        self.failures = []
        self.scale_lock = threading.Lock()
        self.held = []              # (deadline, Conn): clients that do not read
        self.held_lock = threading.Lock()
        self.samples = []           # (t, rss_kib, fds, cpu_ticks)
        self.ping_ms = []
        self.log_off = 0
        self.log_hits = []
        self.tend_log = os.path.join(self.home, "tend.log")
        self.fuzzer_errors = set()
        self.stall_notes = []
        self.probes = 0
        self.stalls = 0
        self.hard_end = float("inf")   # no conversation waits past this

    def next_conn(self):
        with self.conn_lock:
            self.nconn += 1
            return self.nconn

    def pick(self, r, w):
        keys = [k for k in w if w[k] > 0]
        return r.choices(keys, [w[k] for k in keys])[0]

    def pick_cmd(self, r):
        return self.pick(r, self.cmds)

    def pick_mutation(self, r):
        return self.pick(r, self.muts)

    def fail(self, what):
        if what not in self.failures:
            self.failures.append(what)
            print("protofuzz: FAIL at %.1f s: %s" % (time.monotonic() - self.t0, what), file=sys.stderr)
            self.log.note("FAIL " + what)
            self.log.flush()

    # -- replies ---------------------------------------------------------------------
    def check_line(self, conn, line, e, data):
        st = self.stats
        self.log.event(conn.id, "recv", line[:300])
        try:
            v = json.loads(line.decode("utf-8", "surrogateescape"))
        except ValueError:
            if line.startswith(b'{"ok":'):
                st.anomaly("reply not JSON", "c%d: %s" % (conn.id, short(line)))
            elif e is None or e["cmd"] not in (b"list",):
                st.anomaly("data line not JSON", "c%d: %s after %s" % (conn.id, short(line), e and short(e["line"])))
            v = None
        if line.startswith(b'{"log":') or line.startswith(b'{"missed":') or line.startswith(b'{"event":'):
            st.add("stream messages")
            if isinstance(v, dict) and "event" in v:
                if not (v["event"] in ("state", "exit", "delete", "daemon", "sample") and
                        isinstance(v.get("at"), int) and (v["event"] == "daemon" or isinstance(v.get("id"), int))):
                    st.anomaly("bad event", "c%d: %s" % (conn.id, short(line)))
            elif isinstance(v, dict) and "log" in v:
                m = v["log"]
                if not (isinstance(m, dict) and isinstance(m.get("id"), int) and m.get("stream") in ("out", "err")
                        and isinstance(m.get("data"), str) and m["data"].endswith("\n")):
                    st.anomaly("bad log message", "c%d: %s" % (conn.id, short(line)))
            elif isinstance(v, dict) and not (isinstance(v.get("missed"), int) and v["missed"] > 0):
                st.anomaly("bad missed notice", "c%d: %s" % (conn.id, short(line)))
            if not conn.ctx.get("subscribed"):
                st.anomaly("stream message without a subscription", "c%d: %s" % (conn.id, short(line)))
            return
        if not line.startswith(b'{"ok":'):
            data.append(v)
            if e is None:
                st.anomaly("data line with no request pending", "c%d: %s" % (conn.id, short(line)))
            return
        # a final line
        if line.startswith(b'{"ok":false,"error":"the daemon is out of file descriptors') or \
                line.startswith(b'{"ok":false,"error":"too many connections'):
            st.add("connections refused by the daemon")
            conn.refused = True
            conn.pending.clear()
            return
        if e is None:
            st.anomaly("reply with no request pending", "c%d: %s" % (conn.id, short(line)))
            return
        conn.pending.popleft()
        cmd = e["cmd"]
        st.add("replies")
        if not isinstance(v, dict) or not isinstance(v.get("ok"), bool):
            st.anomaly("bad final line", "c%d: %s" % (conn.id, short(line)))
            data.clear()
            return
        if v["ok"]:
            st.codes["ok"] += 1
            self.check_ok(conn, e, v, data)
        else:
            code = v.get("code")
            st.codes[code if code in (1, 2, 3) else repr(code)] += 1
            msg = v.get("error")
            if code not in (1, 2, 3) or not isinstance(msg, str):
                st.anomaly("bad error reply", "c%d: %s" % (conn.id, short(line)))
            elif re.search(r"[\x00-\x1f\x7f]", msg) and "control-echo" not in self.avoid:
                st.anomaly("control characters in an error message", "c%d: %s" % (conn.id, short(line)))
            else:
                key = re.sub(r"\d+", "N", msg)[:70]
                with st.lock:
                    st.msgs["%d %s" % (code, key)] += 1
            if code == 3 and not e.get("build"):
                st.anomaly("code 3 without a build or proto", "c%d: %s for %s" % (conn.id, short(line), short(e["line"])))
            if isinstance(msg, str) and "shutting down" in msg:
                st.anomaly("the daemon is shutting down", "c%d after %s" % (conn.id, short(e["line"])))
            if e.get("valid") and code == 2:
                st.anomaly("valid request refused with code 2", "c%d: %s -> %s" % (conn.id, short(e["line"]), short(line)))
            self.check_prediction(conn, e, msg, code)
            if data:
                st.anomaly("data lines before an error", "c%d: %d before %s" % (conn.id, len(data), short(line)))
        if e["cmd"] == b"(too long)" and len(e["line"]) > 16 << 20 and \
                not (isinstance(v.get("error"), str) and "too long" in v["error"]):
            st.anomaly("long line not refused", "c%d: %s" % (conn.id, short(line)))
        data.clear()

    def check_prediction(self, conn, e, msg, code):
        """The parse the guard relies on must agree with the daemon's."""
        cmd = e["cmd"]
        if not isinstance(msg, str):
            return
        parse_err = msg.startswith("bad request: ") and ": " in msg[13:]
        if (cmd == b"(parse error)") != parse_err and not (cmd == b"(too long)"):
            with self.stats.lock:
                self.stats.c["parser mismatches"] += 1
                if len(self.stats.mismatch) < 5:
                    self.stats.mismatch.append("predicted %s, daemon said %r for %s" % (cmd, msg, short(e["line"])))
        if cmd == b"(not an object)" and msg != "bad request: expected an object":
            self.stats.add("parser mismatches")

    def check_ok(self, conn, e, v, data):
        st = self.stats
        cmd = e["cmd"]
        if cmd == b"(too long)":
            return
        if cmd in (b"(parse error)", b"(not an object)", b"(no cmd)"):
            with self.stats.lock:
                self.stats.c["parser mismatches"] += 1
                if len(self.stats.mismatch) < 5:
                    self.stats.mismatch.append("predicted %s, daemon said ok for %s" % (cmd, short(e["line"])))
            return
        if cmd == b"ping":
            if self.pid and v.get("pid") != self.pid:
                st.anomaly("ping from another pid", "c%d: %r" % (conn.id, v))
            if not self.build and isinstance(v.get("build"), str):
                self.build = v["build"]
        if cmd == b"list":
            if len(data) != 1 or not isinstance(data[0], list):
                st.anomaly("list without one array", "c%d: %d data lines for %s" % (conn.id, len(data), short(e["line"])))
            else:
                for p in data[0]:
                    if isinstance(p, dict) and isinstance(p.get("pm_id"), int):
                        if p["pm_id"] not in self.ids:
                            self.ids.append(p["pm_id"])
                            if len(self.ids) > 200:
                                del self.ids[:100]
                ids = [p.get("pm_id") for p in data[0] if isinstance(p, dict)]
                if not all(isinstance(i, int) for i in ids) or len(set(ids)) != len(ids):
                    st.anomaly("list with bad ids", "c%d: %r" % (conn.id, ids[:50]))
        elif cmd == b"logs":
            for x in data:
                if not (isinstance(x, dict) and isinstance(x.get("id"), int) and "out" in x and "err" in x):
                    st.anomaly("bad logs header", "c%d: %s" % (conn.id, short(json.dumps(x))))
                    break
        elif data:
            st.anomaly("data lines before ok", "c%d: %d for %s" % (conn.id, len(data), short(e["line"])))
        ids = v.get("ids")
        if ids is not None:
            if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
                st.anomaly("bad ids", "c%d: %r" % (conn.id, v))
            elif ids != sorted(set(ids)) and cmd not in (b"start", b"resurrect", b"scale"):
                st.anomaly("ids not ascending and unique", "c%d: %r for %s" % (conn.id, ids[:40], short(e["line"])))
            else:
                for i in ids:
                    if i not in self.ids:
                        self.ids.append(i)
                if len(self.ids) > 200:
                    del self.ids[:100]
        if cmd == b"start":
            try:
                d = json.loads(e["line"].decode("utf-8", "surrogateescape"))
                for a in d.get("apps", []):
                    n = a.get("name")
                    if isinstance(n, str) and n not in self.names and len(self.names) < 200:
                        self.names.append(n)
            except (ValueError, AttributeError, TypeError):
                pass
        if cmd in (b"save", b"cleardump"):
            path = v.get("path")
            if not isinstance(path, str) or not os.path.realpath(path).startswith(self.home + "/"):
                st.anomaly("dump outside the home", "c%d: %r" % (conn.id, v))

    # -- conversations ------------------------------------------------------------------
    def send_line(self, conn, g, cmd=None, kind=None):
        b, kind, valid = g.line(cmd, kind, conn)
        before = len(conn.pending)
        if not conn.send(b):
            return False
        self.stats.add("requests")
        self.stats.add("requests " + kind)
        if valid and len(conn.pending) == before + 1:
            conn.pending[-1]["valid"] = True
        return True

    def act_session(self, r, g):
        c = Conn(self)
        try:
            for _ in range(r.choice([1, 1, 2, 3, 5, 8])):
                cmd = self.pick_cmd(r)
                lock = None
                if cmd == "scale" and "scale-overlap" in self.avoid:
                    if not self.scale_lock.acquire(blocking=False):
                        cmd = "list"
                    else:
                        lock = self.scale_lock
                        c.ctx["scale_lock"] = True
                try:
                    self.send_line(c, g, cmd)
                    c.replies()
                finally:
                    if lock:
                        c.ctx["scale_lock"] = False
                        lock.release()
        finally:
            c.close()

    def act_pipeline(self, r, g):
        c = Conn(self)
        try:
            n = r.choice([2, 3, 4, 8, 16])
            payload = b""
            for _ in range(n):
                cmd = self.pick_cmd(r)
                if cmd == "scale":
                    cmd = "ping"
                b, kind, valid = g.line(cmd, None, c)
                payload += b
            if r.random() < 0.5:
                c.send(payload)
            else:
                c.send(payload, chunks=[r.randrange(1, 4096) for _ in range(64)])
            self.stats.add("requests", n)
            self.stats.add("pipelines")
            c.replies()
        finally:
            c.close()

    def act_dribble(self, r, g):
        c = Conn(self)
        try:
            for _ in range(r.choice([1, 2, 3])):
                b, kind, valid = g.line(r.choice(["ping", "list", "start", "stop", "logs", "flush"]), None, c)
                if len(b) > 20000:
                    b = b'{"cmd":"ping"}\n'
                sizes = [r.choice([1, 1, 2, 3, 7]) for _ in range(len(b))]
                lines = c.check(b)
                if lines is None:
                    continue
                c.partial = b""
                for ln in lines:
                    c.expect(ln)
                c.fz.log.event(c.id, "send", b)
                i = 0
                for n in sizes:
                    if i >= len(b):
                        break
                    c.sock.sendall(b[i:i + n])
                    i += n
                    if r.random() < 0.05:
                        time.sleep(0.001)
                self.stats.add("requests")
                self.stats.add("dribbled")
                c.replies()
        finally:
            c.close()

    def act_half(self, r, g):
        c = Conn(self)
        try:
            if r.random() < 0.3:
                self.send_line(c, g)
                c.replies()
            b, _, _ = g.line()
            cut = b[:r.randrange(1, max(2, len(b) - 1))].replace(b"\n", b"")
            # the cut line is never completed: the guard need not pass it, but it must
            # not hide a complete line either
            if c.send(cut):
                self.stats.add("half requests")
            how = r.random()
            if how < 0.6:
                c.close()
            elif how < 0.8:
                c.shutdown()
                try:
                    # EOF expected, nothing else (but what a subscription of the whole
                    # request before it streams)
                    deadline = time.monotonic() + 5
                    line = c.read_line(deadline)
                    while line.startswith((b'{"event":', b'{"log":', b'{"missed":')):
                        line = c.read_line(deadline)
                    if not line.startswith(b'{"ok":false,"error":"the daemon is out of file descriptors') and \
                            not line.startswith(b'{"ok":false,"error":"too many connections'):
                        self.stats.anomaly("reply to a half request", "c%d: %s after %s" % (c.id, short(line),
                                                                                           short(cut)))
                except (Closed, socket.timeout, OSError):
                    pass
            else:
                self.hold(c, r.uniform(0, 3))
                return
        finally:
            if not any(h[1] is c for h in self.held):
                c.close()

    def act_noread(self, r, g):
        c = Conn(self)
        light = "unread-replies" in self.avoid
        n = r.choice([1, 5, 20, 50] if not light else [1, 2, 5])
        payload = b""
        for _ in range(n):
            cmd = r.choice(["list", "list", "ping", "logs", "flush", "reset", "stop", "start"] if not light
                           else ["ping", "flush", "reset", "stop", "start"])
            payload += g.line(cmd, "valid" if r.random() < 0.7 else None, c)[0]
        try:
            c.send(payload)
            self.stats.add("requests", n)
            self.stats.add("non-reading clients")
        except OSError:
            c.close()
            return
        self.hold(c, r.choice([0.1, 1, 3, 8]))

    def act_logsub(self, r, g):
        c = Conn(self)
        keep = False
        try:
            o = {"cmd": "logs"}
            if r.random() < 0.5:
                o["targets"] = g.targets()
            if r.random() < 0.2:
                o[r.choice(["out", "err"])] = False
            if r.random() < 0.3 and "pfa" not in self.names:
                self.send_line(c, g, "start")
                c.replies()
            if not c.send(enc(o) + b"\n"):
                return
            self.stats.add("requests")
            self.stats.add("log subscriptions")
            c.replies()
            mode = r.random()
            if "unread-replies" in self.avoid and len(self.held) > 20:
                mode = 0   # (many subscribers not reading stop every request: a finding)
            if mode < 0.35:
                c.replies(stream_for=r.uniform(0.2, 3))
            elif mode < 0.7:
                keep = True
                self.hold(c, r.uniform(1, 20))
            else:
                for _ in range(r.choice([1, 2, 4])):
                    cmd = r.choice(["ping", "list", "logs", "flush", "start", "stop"])
                    if cmd == "logs" and "logs-twice" not in self.avoid:
                        o2 = {"cmd": "logs"}
                        if c.send(enc(o2) + b"\n"):
                            self.stats.add("second subscriptions")
                    else:
                        self.send_line(c, g, cmd)
                    c.replies(stream_for=r.uniform(0, 1))
        finally:
            if not keep:
                c.close()

    def act_churn(self, r, g):
        how = r.randrange(4)
        c = Conn(self)
        self.stats.add("churn")
        if how == 1:
            c.send(b'{"cmd":"ping"}\n')
        elif how == 2:
            c.send(g.garbage()[:200])
        elif how == 3:
            c.send(b'{"cmd":"list","env":true}\n' * 3)
        c.close()

    def act_garbage(self, r, g):
        c = Conn(self)
        try:
            b = g.garbage()
            if not c.send(b):
                return
            self.stats.add("garbage")
            if b.endswith(b"\n") or r.random() < 0.5:
                c.send(b"\n")
                c.replies()
        finally:
            c.close()

    def act_big(self, r, g):
        c = Conn(self, timeout=30)
        try:
            k = r.randrange(4)
            if k == 0:
                b = b'{"cmd":"ping","pad":"' + b"x" * r.choice([1 << 20, 3 << 20]) + b'"}\n'
            elif k == 1:
                b = b'{"cmd":"ping","pad":"' + b"x" * ((4 << 20) + 10) + b'"}\n'
            elif k == 2:   # env at and past the limit
                n = r.choice([65536, 65537]) if "big-env" not in self.avoid else r.choice([2000, 65537])
                app = g.app(g.own_name())
                app["env"] = {"K%d" % i: "1" for i in range(n)}
                b = enc({"cmd": "start", "apps": [app]}) + b"\n"
            else:
                b = b'{"cmd":"list","targets":[' + b",".join([b'"/^pf/"'] * 50000) + b"]}\n"
            if c.send(b):
                self.stats.add("requests")
                self.stats.add("big requests")
                try:
                    c.replies()
                except Closed:
                    if not c.too_long:
                        raise
        finally:
            c.close()

    def act_flood(self, r, g):
        """Known bug: pipelining without limit."""
        c = Conn(self, timeout=60)
        try:
            n = r.choice([20000, 100000])
            head = b'{"cmd":"stop","targets":["pfa"]}\n' if r.random() < 0.5 else b""
            payload = head + b'{"cmd":"ping"}\n' * n
            t = time.monotonic()
            if c.send(payload):
                self.stats.add("requests", n)
                self.stats.add("floods")
                c.replies(deadline=time.monotonic() + 120)
                self.log.note("flood of %d answered in %.1f s" % (n, time.monotonic() - t))
        finally:
            c.close()

    def act_fdflood(self, r, g):
        want = 1100 if "emfile" not in self.avoid else 200
        conns = []
        until = time.monotonic() + 10
        try:
            while len(conns) < want and time.monotonic() < until:
                try:
                    conns.append(Conn(self, timeout=2))
                except OSError:
                    break
            self.stats.add("fd floods")
            self.log.note("fd flood: %d connections open" % len(conns))
            time.sleep(r.uniform(0.5, 2))   # the flood is held open this long (load, not sync)
        finally:
            for c in conns:
                c.close()

    def hold(self, c, secs):
        with self.held_lock:
            self.held.append((time.monotonic() + secs, c))
            if len(self.held) > 150:
                self.held.sort(key=lambda h: h[0])
                _, old = self.held.pop(0)
                old.close()

    # -- the threads -----------------------------------------------------------------------
    def worker(self, wid, seed, end):
        r = random.Random(seed)
        g = Gen(self, r, wid)
        acts = {k: getattr(self, "act_" + k) for k in self.actions}
        while time.monotonic() < end and not self.stop.is_set():
            act = self.pick(r, self.actions)
            try:
                acts[act](r, g)
                self.stats.add("actions " + act)
            except (Closed, socket.timeout):
                self.stats.add("conversations cut")
            except OSError as ex:
                self.stats.add("socket errors: " + (errno.errorcode.get(ex.errno, str(ex.errno))
                                                     if ex.errno else type(ex).__name__))
                if ex.errno in (errno.ECONNREFUSED, errno.ENOENT) and not self.daemon_alive():
                    self.dead = True
                    self.fail("the daemon died (pid %d)" % self.pid)
                    self.stop.set()
            except Exception:   # a bug of the fuzzer: say so once per kind, go on
                kind = traceback.format_exc().strip().split("\n")[-1]
                self.stats.add("fuzzer errors")
                if kind not in self.fuzzer_errors:
                    self.fuzzer_errors.add(kind)
                    print("protofuzz: internal error:\n" + traceback.format_exc(), file=sys.stderr)

    def dump_daemon(self):
        """What the daemon holds, for a stall no log explains (CI's seed 8357: connections
        that never got a byte back): its fds, and the end of its log."""
        if self.pid:
            try:
                fds = sorted(os.listdir("/proc/%d/fd" % self.pid), key=int)
                print("daemon fds:", " ".join("%s:%s" % (fd, os.readlink("/proc/%d/fd/%s" % (self.pid, fd)))
                                              for fd in fds if os.path.exists("/proc/%d/fd/%s" % (self.pid, fd))),
                      file=sys.stderr)
            except OSError as ex:
                print("daemon fds: %s" % ex, file=sys.stderr)
        try:
            with open(os.path.join(self.home, "tend.log"), "rb") as f:
                tail = f.read()[-6000:]
            print("tend.log, the end:\n" + tail.decode("utf-8", "replace"), file=sys.stderr)
        except OSError as ex:
            print("tend.log: %s" % ex, file=sys.stderr)

    def daemon_alive(self):
        if not self.pid:
            return os.path.exists(self.sock_path)
        try:
            with open("/proc/%d/stat" % self.pid) as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            return state not in ("Z", "X")
        except OSError:
            return False

    def ping(self, deadline):
        """Ping on a fresh connection until deadline; the reply time in ms, or None."""
        t = time.monotonic()
        while time.monotonic() < deadline:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.settimeout(max(0.05, deadline - time.monotonic()))
                s.connect(self.sock_path)
                s.sendall(b'{"cmd":"ping"}\n')
                buf = b""
                while not buf.endswith(b"\n"):
                    s.settimeout(max(0.05, deadline - time.monotonic()))
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    buf += chunk
                if buf.startswith(b'{"ok":true') and b'"pid":' in buf:
                    return (time.monotonic() - t) * 1000
            except socket.timeout:
                return None
            except OSError:
                pass
            finally:
                s.close()
            if self.pid and not self.daemon_alive():
                return None
            time.sleep(0.05)   # refused (too many connections?): try again
        return None

    def sample(self):
        if not self.pid:
            return
        self.sample_once()
        if self.samples and self.samples[-1][1] > self.a.max_rss * 1024 and not self.stop.is_set():
            self.fail("the daemon's RSS passed %d MiB: fuzzing stopped" % self.a.max_rss)
            self.stop.set()

    def sample_once(self):
        try:
            with open("/proc/%d/status" % self.pid) as f:
                rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
            fds = len(os.listdir("/proc/%d/fd" % self.pid))
            with open("/proc/%d/stat" % self.pid) as f:
                st = f.read().rsplit(")", 1)[1].split()
            self.samples.append((time.monotonic() - self.t0, rss, fds, int(st[11]) + int(st[12])))
        except (OSError, AttributeError):
            pass

    def scan_log(self):
        """New lines of the daemon's log: sanitizer reports, and one message flooding it."""
        try:
            size = os.path.getsize(self.tend_log)
        except OSError:
            return
        if size < self.log_off:
            self.log_off = 0   # rotated: what the old file had since the last look is lost,
            #                    but a report ends a process; it is in the newest file
        if size == self.log_off:
            return
        with open(self.tend_log, "rb") as f:
            f.seek(self.log_off)
            chunk = f.read(min(size - self.log_off, 32 << 20))
        self.log_off += len(chunk)
        if re.search(rb"Sanitizer|runtime error:", chunk):
            i = re.search(rb"Sanitizer|runtime error:", chunk).start()
            self.log_hits.append(chunk[max(0, chunk.rfind(b"\n", 0, i)):i + 3000])
            self.fail("sanitizer report in the daemon's log")
        lines = collections.Counter(re.sub(rb"^\S+ |\d+", b"", ln)[:80] for ln in chunk.split(b"\n") if ln)
        for msg, n in lines.items():
            if n > 2000:
                self.stats.anomaly("log flood", "%d x %r in %.1f s" % (n, msg, self.a.ping_interval))

    def stall_probe(self, done):
        """While a ping is late: what the daemon is doing (state, wchan, syscall), and with
        --stall-gdb one backtrace."""
        if done.wait(min(2.0, self.a.ping_deadline / 2)) or not self.pid:
            return
        seen = collections.Counter()
        for _ in range(20):
            try:
                with open("/proc/%d/stat" % self.pid) as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
                with open("/proc/%d/wchan" % self.pid) as f:
                    wchan = f.read().strip() or "-"
                with open("/proc/%d/syscall" % self.pid) as f:
                    sc = f.read().split()[0]
                seen["%s wchan=%s syscall=%s" % (state, wchan, sc)] += 1
            except (OSError, IndexError):
                pass
            if done.wait(0.1):
                break
        self.stall_notes.append("daemon while a ping was late: " +
                                ", ".join("%s x%d" % kv for kv in seen.most_common(3)))
        self.log.note(self.stall_notes[-1])
        if self.a.stall_perf and not done.is_set() and shutil.which("perf") and self.probes < 6:
            self.probes += 1
            out = "%s/perf-%d.data" % (os.path.dirname(self.a.log or "/tmp/x") or ".", self.probes)
            try:
                subprocess.run(["perf", "record", "-q", "-F", "997", "-g", "-p", str(self.pid), "-o", out, "--",
                                "sleep", "2"], capture_output=True, timeout=30)
                rep = subprocess.run(["perf", "report", "-i", out, "--stdio", "--no-children", "-g", "none",
                                      "--percent-limit", "2"], capture_output=True, timeout=60, text=True,
                                     errors="replace").stdout
                top = [ln.strip() for ln in rep.splitlines() if ln.strip() and not ln.startswith("#")][:12]
                self.stall_notes.append("perf while late:\n  " + "\n  ".join(top))
                self.log.note("perf while late: " + " | ".join(top))
            except (OSError, subprocess.SubprocessError):
                pass
        if self.a.stall_gdb and not done.is_set() and shutil.which("gdb") and self.probes < 6:
            self.probes += 1
            try:
                bt = subprocess.run(["gdb", "-p", str(self.pid), "-batch", "-ex", "bt 25"], capture_output=True,
                                    timeout=30, text=True, errors="replace").stdout
                bt = "\n".join(ln for ln in bt.splitlines() if ln.startswith("#"))
                self.stall_notes.append("backtrace:\n" + bt)
                self.log.note("backtrace: " + bt.replace("\n", " | "))
            except (OSError, subprocess.SubprocessError):
                pass

    def monitor(self, end):
        late = False
        probe = None
        while not self.stop.is_set() and time.monotonic() < end:
            t = time.monotonic()
            done = threading.Event()
            if probe is None or not probe.is_alive():   # (perf or gdb may outlast a ping)
                probe = threading.Thread(target=self.stall_probe, args=(done,), daemon=True)
                probe.start()
            ms = self.ping(t + self.a.ping_deadline)
            done.set()
            if ms is None:
                if self.pid and not self.daemon_alive():
                    self.dead = True
                    self.fail("the daemon died (pid %d)" % self.pid)
                    self.report_recent(t - self.t0 - 3)
                    self.scan_log()
                    self.stop.set()
                    break
                if not late:
                    self.fail("no ping reply within %.0f s (daemon hung or busy)" % self.a.ping_deadline)
                    self.stalls += 1
                    self.log.note("stall: no ping reply within %.0f s" % self.a.ping_deadline)
                    if self.stalls <= 2:
                        self.report_recent(t - self.t0 - 3)
                    late = True
            else:
                self.ping_ms.append(ms)
                if late:
                    self.log.note("ping answered again after a stall")
                late = False
            self.sample()
            self.scan_log()
            if self.log_hits:
                self.report_recent(t - self.t0 - 3)
                self.stop.set()
                break
            self.reap_held()
            self.log.flush()
            self.stop.wait(max(0.0, self.a.ping_interval - (time.monotonic() - t)))

    def reap_held(self, all_=False):
        now = time.monotonic()
        with self.held_lock:
            due = [h for h in self.held if all_ or h[0] <= now]
            self.held = [h for h in self.held if not (all_ or h[0] <= now)]
        for _, c in due:
            c.close()

    def report_recent(self, since):
        print("protofuzz: what was sent in the 3 s before (see the log for all):", file=sys.stderr)
        for t, conn, what, data, n in self.log.last(since):
            print("  %8.3f c%-6d %s %s" % (t, conn, what, short(data, 200) if data is not None else ""),
                  file=sys.stderr)

    def janitor(self, end):
        """Keep the number of instances bounded: delete apps past --max-procs."""
        r = random.Random(self.a.seed ^ 0x5A5A)
        while not self.stop.wait(2.0) and time.monotonic() < end:
            try:
                procs = self.list_all(20)
                if procs is None:
                    continue
                if not any(p.get("name") == "pflog" for p in procs):   # log traffic for subscribers
                    self.call({"cmd": "start", "existing": "skip", "apps": [{
                        "name": "pflog", "script": "/bin/sh", "cwd": self.work + "/c", "kill_timeout": 200,
                        "args": ["-c", "while :; do echo tick; echo tock >&2; sleep 0.2; done"]}]}, 20)
                if r.random() < 0.3:
                    try:
                        with open(os.path.join(self.work, "w", "touch"), "a") as f:
                            f.write("x")
                    except OSError:
                        pass
                if len(procs) > self.a.max_procs:
                    ids = sorted(p["pm_id"] for p in procs)
                    drop = ids[:len(ids) - self.a.max_procs // 2]
                    self.stats.add("janitor deletes", len(drop))
                    self.delete_ids(drop, 60)
            except (OSError, ValueError, Closed):
                pass

    def call(self, obj, secs):
        """One request on its own connection: (data lines, final reply)."""
        c = Conn(self, timeout=secs)
        try:
            c.send(enc(obj) + b"\n")
            deadline = time.monotonic() + secs
            data = []
            while True:
                line = c.read_line(deadline)
                if line.startswith(b'{"ok":'):
                    return data, json.loads(line)
                data.append(json.loads(line.decode("utf-8", "surrogateescape")))
        finally:
            c.close()

    def list_all(self, secs):
        try:
            data, rep = self.call({"cmd": "list", "env": False}, secs)
        except (socket.timeout, Closed):
            return None
        return data[0] if rep.get("ok") and data else None

    def delete_ids(self, ids, secs):
        for i in range(0, len(ids), 100):
            try:
                self.call({"cmd": "delete", "force": True, "targets": [str(x) for x in ids[i:i + 100]]}, secs)
            except (socket.timeout, Closed, ValueError):
                pass

    def cleanup(self, secs=60):
        """Delete every app (by id: "all" of nothing is a known bug) until none is left."""
        deadline = time.monotonic() + secs
        while time.monotonic() < deadline:
            procs = self.list_all(20)
            if procs == []:
                return True
            if procs:
                self.delete_ids(sorted(p["pm_id"] for p in procs), 30)
            else:
                time.sleep(0.2)   # the list failed: the daemon is busy; ask again
        return False

    def setup_home(self):
        for d in ("c", "c/sub", "w"):
            os.makedirs(os.path.join(self.work, d), exist_ok=True)
        p = os.path.join(self.work, "notexec")
        with open(p, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(p, 0o644)

    def run(self):
        a = self.a
        try:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
        self.setup_home()
        self.log.note("seed=%d seconds=%s workers=%d avoid=%s mix=%s" % (
            a.seed, a.seconds, a.workers, ",".join(sorted(self.avoid)) or "none", a.mix or ""))
        if self.ping(time.monotonic() + a.ping_deadline) is None:
            self.fail("the daemon does not answer ping at the start")
            return self.report()
        try:
            self.scan_log()
            self.call({"cmd": "ping"}, 5)
        except (OSError, Closed, ValueError):
            pass
        self.sample()
        end = self.t0 + a.seconds
        self.hard_end = end + 100
        threads = [threading.Thread(target=self.monitor, args=(end,), daemon=True),
                   threading.Thread(target=self.janitor, args=(end,), daemon=True)]
        for i in range(a.workers):
            threads.append(threading.Thread(target=self.worker, args=(i, a.seed * 1000 + i, end), daemon=True))
        for t in threads:
            t.start()
        for t in threads[2:]:
            t.join(max(0, self.hard_end - time.monotonic()) + 10)
            if t.is_alive():
                self.fail("a worker is still busy 110 s after the end")
                faulthandler.dump_traceback(all_threads=True)
                self.dump_daemon()
                break
        self.hard_end = float("inf")
        self.stop.set()
        for t in threads[:2]:
            t.join(30)
        self.reap_held(all_=True)
        self.scan_log()
        if not self.dead:
            self.finish()
        return self.report()

    def finish(self):
        a = self.a
        if not a.no_cleanup and not self.cleanup(90):
            self.fail("apps still listed 90 s after deleting them")
        ms = self.ping(time.monotonic() + a.ping_deadline)
        if ms is None:
            self.fail("no ping reply at the end")
        if self.pid and not self.daemon_alive():
            self.fail("the daemon died (pid %d)" % self.pid)
        self.scan_log()
        self.sample()
        if self.pid:
            # idle CPU: with no client and no app, the daemon must not spin
            t0 = self.samples[-1] if self.samples else None
            time.sleep(1.0)   # a measuring window, not a wait for something
            self.sample()
            if t0 and self.samples[-1][3] - t0[3] > 50:
                self.fail("the daemon uses CPU while idle: %d ticks in 1 s" % (self.samples[-1][3] - t0[3]))
            left = self.children()
            if left:
                self.stats.anomaly("processes left after delete", " ".join(left))

    def children(self):
        """The daemon's children, besides orphans it adopted on purpose (sleep 30)."""
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/stat" % p) as f:
                    st = f.read().rsplit(")", 1)[1].split()
                if int(st[1]) != self.pid or st[0] == "Z":
                    continue
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    cmd = f.read().replace(b"\0", b" ").strip().decode("utf-8", "replace")
            except (OSError, IndexError):
                continue
            if cmd != "sleep 30":
                out.append("%s(%s)" % (p, cmd[:40]))
        return out

    def report(self):
        st, a = self.stats, self.a
        took = time.monotonic() - self.t0
        c = st.c
        out = []
        out.append("protofuzz: seed %d, %.1f s, %d workers, avoid: %s" % (
            a.seed, took, a.workers, ",".join(sorted(self.avoid)) or "none"))
        out.append("requests %d (lines %d: valid %d, struct %d, bytes %d; garbage %d, half %d, dribbled %d), "
                   "guard refused %d, regenerated %d" % (
                       c["requests"], c["lines"], c["requests valid"], c["requests struct"], c["requests bytes"],
                       c["garbage"], c["half requests"], c["dribbled"], c["guarded"], c["regenerated"]))
        out.append("connections %d (churn %d, non-reading %d, log subscriptions %d, second %d, pipelines %d, "
                   "big %d, floods %d, fd floods %d), cut %d" % (
                       c["connections"], c["churn"], c["non-reading clients"], c["log subscriptions"],
                       c["second subscriptions"], c["pipelines"], c["big requests"], c["floods"], c["fd floods"],
                       c["conversations cut"]))
        out.append("as parsed: " + ", ".join("%s %d" % kv for kv in st.by_cmd.most_common(24)))
        out.append("replies %d: %s; stream messages %d; bytes sent %d, read %d" % (
            c["replies"], ", ".join("%s %d" % (k if k == "ok" else "code %s" % k, v)
                                    for k, v in st.codes.most_common()),
            c["stream messages"], c["bytes sent"], c["bytes read"]))
        for msg, n in st.msgs.most_common(12):
            out.append("  %6d  %s" % (n, msg))
        errs = sorted(k for k in c if k.startswith("socket errors") or k.startswith("guarded: "))
        if errs:
            out.append("; ".join("%s %d" % (k, c[k]) for k in errs))
        if c["janitor deletes"]:
            out.append("janitor deleted %d instances" % c["janitor deletes"])
        if self.ping_ms:
            pm = sorted(self.ping_ms)
            out.append("liveness: %d pings, median %.0f ms, max %.0f ms" % (len(pm), pm[len(pm) // 2], pm[-1]))
        if self.samples:
            s0, s1 = self.samples[0], self.samples[-1]
            out.append("daemon: rss %.1f -> %.1f MiB (peak %.1f), fds %d -> %d (peak %d), cpu %.1f s" % (
                s0[1] / 1024, s1[1] / 1024, max(s[1] for s in self.samples) / 1024, s0[2], s1[2],
                max(s[2] for s in self.samples), (s1[3] - s0[3]) / os.sysconf("SC_CLK_TCK")))
        if c["parser mismatches"]:
            out.append("parser mismatches (the guard's parse disagreed with the daemon) %d:" % c["parser mismatches"])
            out.extend("  " + m for m in st.mismatch)
        for kind, detail in st.anomalies:
            out.append("ANOMALY %s (%d): %s" % (kind, st.anomaly_kinds[kind], detail))
        if self.stalls:
            out.append("stalls (ping unanswered for %.0f s): %d" % (a.ping_deadline, self.stalls))
        out.extend(self.stall_notes[:6])
        for h in self.log_hits:
            out.append("daemon log:\n" + h.decode("utf-8", "replace"))
        ok = not self.failures and not st.anomalies
        for f in self.failures:
            out.append("FAIL " + f)
        out.append("RESULT: " + ("ok" if ok else "FAILED") + (" (request log: %s)" % a.log if a.log else ""))
        print("\n".join(out))
        self.log.flush()
        return 0 if ok else 1


# ---- replay ----------------------------------------------------------------------------------
def replay(a):
    """Send a request log again: same connections, same bytes, same order (and pace)."""
    only = set(int(x) for x in a.conns.split(",")) if a.conns else None
    socks = {}
    lock = threading.Lock()
    stop = threading.Event()
    t_start = time.monotonic()

    def drain():
        while not stop.is_set():
            with lock:
                live = {s: c for c, s in socks.items() if s.fileno() >= 0}
            if not live:
                time.sleep(0.01)
                continue
            rd, _, _ = select.select(list(live), [], [], 0.05)
            for s in rd:
                try:
                    got = s.recv(1 << 16)
                except OSError:
                    continue
                if a.verbose:
                    print("%8.3f c%d recv %s" % (time.monotonic() - t_start, live[s],
                                                 short(got, 200) if got else "EOF"))
    threading.Thread(target=drain, daemon=True).start()
    for line in open(a.replay):
        m = re.match(r"([\d.]+) c(\d+) (\w+)(?: (\d+) ([rz]):(.*))?$", line.rstrip("\n"))
        if not m:
            continue
        t, conn, what = float(m.group(1)), int(m.group(2)), m.group(3)
        if only is not None and conn not in only:
            continue
        if a.speed > 0:
            delay = t / a.speed - (time.monotonic() - t_start)
            if delay > 0:
                time.sleep(delay)
        if what == "open":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                s.connect(a.socket)
            except OSError as ex:
                print("c%d: connect: %s" % (conn, ex))
                continue
            with lock:
                socks[conn] = s
        elif conn in socks:
            s = socks[conn]
            if what == "send":
                data = ast.literal_eval(m.group(6)) if m.group(5) == "r" else zlib.decompress(base64.b64decode(m.group(6)))
                if a.verbose:
                    print("%8.3f c%d send %s" % (time.monotonic() - t_start, conn, short(data, 120)))
                try:
                    s.settimeout(5)
                    s.sendall(data)
                except OSError as ex:
                    print("c%d: send: %s" % (conn, ex))
            elif what == "shut":
                try:
                    s.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            elif what == "close":
                with lock:
                    del socks[conn]
                s.close()
    time.sleep(1.0)   # let the last replies arrive before closing what is left
    stop.set()
    for s in socks.values():
        s.close()
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--socket", required=True)
    p.add_argument("--home", help="the daemon's TEND_HOME (default: the socket's directory)")
    p.add_argument("--work", help="the apps' cwd and watched files (default: HOME/../pf-work)")
    p.add_argument("--pid", type=int, default=0, help="the daemon's pid (default: from tend.pid)")
    p.add_argument("--seconds", type=float, default=40)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--workers", type=int, default=4)
    p.add_argument("--log", help="request log file")
    p.add_argument("--avoid", default="", help="bugs to leave out: " + ",".join(KNOWN + FOUND) + ",known,found")
    p.add_argument("--mix", default="", help="action weights, e.g. session=30,flood=0 (%s)" % ",".join(ACTIONS))
    p.add_argument("--cmds", default="", help="command weights, e.g. scale=20 (%s)" % ",".join(COMMANDS))
    p.add_argument("--mutate", default="", help="valid=60,struct=25,bytes=15")
    p.add_argument("--max-procs", type=int, default=30, help="instances the janitor allows")
    p.add_argument("--ping-deadline", type=float, default=5.0)
    p.add_argument("--max-rss", type=int, default=1024, help="MiB of daemon RSS that stop the run")
    p.add_argument("--stall-gdb", action="store_true", help="a gdb backtrace of the daemon when a ping is late")
    p.add_argument("--stall-perf", action="store_true", help="perf's top functions of the daemon when a ping is late")
    p.add_argument("--ping-interval", type=float, default=1.0)
    p.add_argument("--no-cleanup", action="store_true")
    p.add_argument("--cleanup", action="store_true", help="only delete every app")
    p.add_argument("--replay", help="send the requests of a log again")
    p.add_argument("--conns", help="with --replay: only these connections (3,17)")
    p.add_argument("--speed", type=float, default=1.0, help="with --replay: pace factor (0: at once)")
    p.add_argument("-v", "--verbose", action="store_true")
    a = p.parse_args()
    a.home = a.home or os.path.dirname(os.path.abspath(a.socket))
    if a.seed is None:
        a.seed = int(time.time()) % 100000
    if not a.pid:
        try:
            with open(os.path.join(a.home, "tend.pid")) as f:
                a.pid = int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            a.pid = 0
    if a.replay:
        return replay(a)
    fz = Fuzzer(a)
    if a.cleanup:
        return 0 if fz.cleanup(120) else 1
    return fz.run()


if __name__ == "__main__":
    sys.exit(main())
