# test/t/cluster.sh, test/t/update.sh and bench/cluster.sh: an HTTP server on the socket tend hands over (LISTEN_FDS, fd 3), for
# the python reload case. One request per connection (Connection: close). On SIGINT it
# stops accepting and exits once the request in hand is answered; connections still in
# the socket's backlog are left to the other instances (the socket stays open in tend).
import signal
import socket

s = socket.socket(fileno=3)
s.settimeout(0.05)
stopping = []
signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
while not stopping:
    try:
        c, _ = s.accept()
    except (socket.timeout, InterruptedError):
        continue
    try:
        c.settimeout(5)
        c.recv(65536)
        c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 6\r\n\r\nhello\n")
    except OSError:
        pass
    finally:
        c.close()
