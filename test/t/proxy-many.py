# Open N connections to 127.0.0.1:PORT at once, then send one HTTP request on each and
# read every answer, all connections held open together; touch "held" and wait for
# the file "stop" before closing them. Prints "ok N failed N".
import os, resource, selectors, socket, sys, time

port, n = int(sys.argv[1]), int(sys.argv[2])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
sel = selectors.DefaultSelector()
socks = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    s.connect_ex(("127.0.0.1", port))
    socks.append(s)
    sel.register(s, selectors.EVENT_WRITE, [i, b""])
ok = failed = 0
deadline = time.time() + 60
while ok + failed < n and time.time() < deadline:
    for key, ev in sel.select(timeout=1):
        s, st = key.fileobj, key.data
        if ev & selectors.EVENT_WRITE:
            try:
                s.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                sel.modify(s, selectors.EVENT_READ, st)
            except OSError:
                failed += 1
                sel.unregister(s)
            continue
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        st[1] += data
        if b"\r\n\r\n" in st[1] and st[1].endswith(b"\n") and b"pid " in st[1]:
            ok += 1 if st[1].startswith(b"HTTP/1.1 200") else 0
            failed += 0 if st[1].startswith(b"HTTP/1.1 200") else 1
            sel.unregister(s)
        elif not data:
            failed += 1
            sel.unregister(s)
print("ok %d failed %d" % (ok, failed), flush=True)
open("held", "w").close()
while not os.path.exists("stop") and time.time() < deadline + 60:
    time.sleep(0.05)
for s in socks:
    s.close()
