#!/usr/bin/env python3
"""bench/apps/pipeline.py SOCKET CONNS SECONDS [WINDOW [LIST_EVERY]]: control-socket load
for bench/soak.sh.

Opens CONNS connections to the daemon's unix socket (tend.sock) and, on each, pipelines
requests as fast as the socket takes them for SECONDS: {"cmd":"ping"} lines, with every
LIST_EVERY-th one {"cmd":"list","env":false} (0: pings only), reading the replies as they
come (the final line of a reply starts with {"ok":). WINDOW > 0 caps the requests sent
and not yet answered per connection; WINDOW 0 (the default) sends without waiting: the
daemon sees as much as the socket buffer holds. After SECONDS it stops sending, reads
what is still coming for up to 2 s, closes everything and prints one JSON line:
  conns, connect_failed, sent (requests written whole), answered, failed ({"ok":false}),
  closed_by_daemon (EOF or reset before the end), bytes_in, bytes_out, seconds,
  unanswered_conns (connections that got no reply at all).
One process, non-blocking sockets, selectors: bench/soak.sh runs several of them.
"""
import json
import os
import selectors
import socket
import sys
import time

OK = b'{"ok":'
FAILED = b'{"ok":false'


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__.splitlines()[0] + "\n")
        return 2
    path, nconn, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    window = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    list_every = int(sys.argv[5]) if len(sys.argv) > 5 else 4

    ping = b'{"cmd":"ping"}\n'
    lst = b'{"cmd":"list","env":false}\n'
    cycle = [ping] * max(0, list_every - 1) + [lst] if list_every > 0 else [ping]
    block = b"".join(cycle * max(1, 16384 // len(b"".join(cycle))))

    sel = selectors.DefaultSelector()
    conns = []
    failed_connect = 0
    for _ in range(nconn):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            failed_connect += 1
            s.close()
            continue
        s.setblocking(False)
        c = {"s": s, "off": 0, "sent": 0, "answered": 0, "failed": 0, "tail_ok": b"", "tail_bad": b"",
             "open": True, "wr": True}
        conns.append(c)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    t0 = time.monotonic()
    end = t0 + secs
    drain_end = end + 2.0
    sending = True
    tot = {"bytes_in": 0, "bytes_out": 0, "closed_by_daemon": 0}

    def want_write(c):
        return sending and c["open"] and (window <= 0 or c["sent"] - c["answered"] < window)

    def set_events(c):
        w = want_write(c)
        if w != c["wr"]:
            c["wr"] = w
            sel.modify(c["s"], selectors.EVENT_READ | (selectors.EVENT_WRITE if w else 0), c)

    def close(c, by_daemon):
        if not c["open"]:
            return
        c["open"] = False
        if by_daemon:
            tot["closed_by_daemon"] += 1
        sel.unregister(c["s"])
        c["s"].close()

    while True:
        now = time.monotonic()
        if sending and now >= end:
            sending = False
            for c in conns:
                if c["open"]:
                    set_events(c)
        if not sending:
            if now >= drain_end or all(not c["open"] or c["answered"] >= c["sent"] for c in conns):
                break
        if not any(c["open"] for c in conns):
            break
        timeout = (end if sending else drain_end) - now
        for key, ev in sel.select(max(0.0, min(timeout, 0.5))):
            c = key.data
            if not c["open"]:
                continue
            if ev & selectors.EVENT_READ:
                try:
                    d = c["s"].recv(262144)
                except (BlockingIOError, InterruptedError):
                    d = None
                except OSError:
                    close(c, True)
                    continue
                if d is not None:
                    if not d:
                        close(c, True)
                        continue
                    tot["bytes_in"] += len(d)
                    # A marker may straddle two reads: look at the last bytes of the
                    # previous read too, one fewer than the marker (never counted twice).
                    ok = c["tail_ok"] + d
                    c["answered"] += ok.count(OK)
                    c["tail_ok"] = ok[-(len(OK) - 1):]
                    bad = c["tail_bad"] + d
                    c["failed"] += bad.count(FAILED)
                    c["tail_bad"] = bad[-(len(FAILED) - 1):]
            if ev & selectors.EVENT_WRITE and want_write(c):
                chunk = block[c["off"]:]
                if window > 0:
                    # Only as many whole requests as the window still allows.
                    room = window - (c["sent"] - c["answered"])
                    cut, n = 0, 0
                    while n < room:
                        i = chunk.find(b"\n", cut)
                        if i < 0:
                            break
                        cut, n = i + 1, n + 1
                    chunk = chunk[:cut] if cut else b""
                if chunk:
                    try:
                        k = c["s"].send(chunk)
                    except (BlockingIOError, InterruptedError):
                        k = 0
                    except OSError:
                        close(c, True)
                        continue
                    tot["bytes_out"] += k
                    c["sent"] += chunk.count(b"\n", 0, k)
                    c["off"] = (c["off"] + k) % len(block)
            set_events(c)

    for c in conns:
        close(c, False)
    out = {
        "conns": len(conns), "connect_failed": failed_connect,
        "sent": sum(c["sent"] for c in conns), "answered": sum(c["answered"] for c in conns),
        "failed": sum(c["failed"] for c in conns), "seconds": round(time.monotonic() - t0, 3),
        "unanswered_conns": sum(c["answered"] == 0 for c in conns),
    }
    out.update(tot)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
