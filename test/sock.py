#!/usr/bin/env python3
"""Talk to a unix socket the way tests need to.

sock.py PATH                 send stdin, print everything the peer sends until it closes
                             or 5 s pass
sock.py --serve PATH REPLY   a fake daemon: answer every connection's first line with
                             REPLY and close (runs until killed)
"""
import os, socket, sys

def client(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(path)
    s.sendall(sys.stdin.buffer.read())
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
            if out.endswith(b"\n") and b'"ok":' in out.splitlines()[-1]:
                break
    except socket.timeout:
        pass
    sys.stdout.buffer.write(out)

def serve(path, reply):
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.listen(8)
    while True:
        c, _ = s.accept()
        data = b""
        while b"\n" not in data:
            chunk = c.recv(65536)
            if not chunk:
                break
            data += chunk
        c.sendall(reply.encode() + b"\n")
        c.close()

if sys.argv[1] == "--serve":
    serve(sys.argv[2], sys.argv[3])
else:
    client(sys.argv[1])
