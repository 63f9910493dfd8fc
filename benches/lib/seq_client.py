#!/usr/bin/env python3
"""seq_client.py HOST PORT N MAX_SECONDS [REQUEST]

Short-connection load for the syscalls and allocs scenarios: N TCP
connections to HOST:PORT strictly one after the other.  Each one connects,
sends REQUEST (default: an HTTP/1.1 GET of /100b with "Connection: close"),
reads the reply until EOF and closes.  Every socket operation has a 5 s
timeout; the whole run stops after MAX_SECONDS or 20 failures.

Prints "SEQ_RESULT <ok> <failed> <reply_bytes_of_the_last_ok> <seconds> [last error]".
Exit status 0 when every connection got a non-empty reply ending in EOF.
"""
import socket
import sys
import time

host, port, n, max_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
req = (sys.argv[5] if len(sys.argv) > 5 else
       "GET /100b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").encode()
t0 = time.monotonic()
ok = failed = last_len = 0
last_err = ""
for _ in range(n):
    if time.monotonic() - t0 > max_s or failed >= 20:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        s.sendall(req)
        got = 0
        while True:
            b = s.recv(65536)
            if not b:
                break
            got += len(b)
        if got == 0:
            raise OSError("empty reply")
        ok += 1
        last_len = got
    except OSError as e:
        failed += 1
        last_err = str(e) or type(e).__name__
    finally:
        s.close()
print("SEQ_RESULT %d %d %d %.3f %s" % (ok, failed, last_len, time.monotonic() - t0, last_err), flush=True)
sys.exit(0 if ok == n else 1)
