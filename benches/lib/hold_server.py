#!/usr/bin/env python3
"""hold_server.py PORT MAX_SECONDS

Idle-connection backend for the mem_idle scenario: listens on 127.0.0.1:PORT,
accepts every connection and keeps it open (data received is discarded, a
connection is closed when its peer closes it).  Exits by itself after
MAX_SECONDS; the harness normally stops it earlier by pid.
"""
import errno
import selectors
import socket
import sys
import time

port, max_s = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(4096)
ls.setblocking(False)
sel = selectors.DefaultSelector()
sel.register(ls, selectors.EVENT_READ)
deadline = time.monotonic() + max_s
while time.monotonic() < deadline:
    for key, _ in sel.select(timeout=1.0):
        sock = key.fileobj
        if sock is ls:
            for _ in range(512):
                try:
                    conn, _addr = ls.accept()
                except BlockingIOError:
                    break
                except OSError as e:  # EMFILE/ENFILE: retry on the next loop
                    if e.errno in (errno.EMFILE, errno.ENFILE):
                        time.sleep(0.05)
                    break
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
        else:
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                sel.unregister(sock)
                sock.close()
