# Keep-alive HTTP clients (threads) against 127.0.0.1:PORT until the file "stop" exists;
# prints "ok N errors N [first errors]". A response with "Connection: close" is followed
# by a new connection, as any client does; anything else that goes wrong is an error.
# "started" is made after the first answer; once the file "mark" exists, "marked" is made
# after 100 more answers (a test's "the load went on after the reload", without a sleep).
import http.client, os, sys, threading

port, nthreads = int(sys.argv[1]), int(sys.argv[2])
ok = [0] * nthreads
errors = []
after_mark = [0]
lock = threading.Lock()


def count_after_mark():
    if not os.path.exists("mark"):
        return
    with lock:
        after_mark[0] += 1
        if after_mark[0] == 100:
            open("marked", "w").close()

def worker(i):
    conn = None
    while not os.path.exists("stop"):
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/")
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                ok[i] += 1
                count_after_mark()
            else:
                errors.append("status %d" % r.status)
            if r.will_close:
                conn.close()
                conn = None
        except Exception as e:
            errors.append(repr(e))
            conn = None
        if i == 0 and ok[0] == 1:
            open("started", "w").close()

threads = [threading.Thread(target=worker, args=(i,)) for i in range(nthreads)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("ok %d errors %d %s" % (sum(ok), len(errors), errors[:3]))
