#!/usr/bin/env python3
"""echo_server.py PORT MAX_SECONDS

A tiny HTTP/1.1 backend for checks, not for load: for each connection it
reads one request head and answers 200 with that head, as the proxy
forwarded it, as the body (Connection: close).  The http_rules scenario uses
it to see what each proxy sent to its server (e.g. the X-Map header its map
lookup set).  Exits after MAX_SECONDS.
"""
import socket
import sys
import time

port, max_s = int(sys.argv[1]), float(sys.argv[2])
deadline = time.monotonic() + max_s
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(64)
print("READY", flush=True)
while time.monotonic() < deadline:
    ls.settimeout(max(0.1, deadline - time.monotonic()))
    try:
        c, _ = ls.accept()
    except socket.timeout:
        break
    with c:
        c.settimeout(5)
        data = b""
        try:
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
            head = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      b"Connection: close\r\n\r\n" % len(head) + head)
        except OSError:
            pass
