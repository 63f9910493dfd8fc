#!/usr/bin/env python3
"""idle_client.py HOST PORT N HOLD_SECONDS

Opens up to N TCP connections to HOST:PORT one after the other (3 s connect
timeout each, 60 s for all of them, gives up after 100 failures), prints
"READY <opened> <failed> <seconds>" and then keeps them open, sending
nothing, for HOLD_SECONDS (the harness normally stops it earlier by pid).
"""
import resource
import socket
import sys
import time

host, port, n, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
t0 = time.monotonic()
socks, failed, last_err = [], 0, ""
for _ in range(n):
    if time.monotonic() - t0 > 60 or failed >= 100:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        socks.append(s)
    except OSError as e:
        failed += 1
        last_err = str(e)
        s.close()
print("READY %d %d %.2f %s" % (len(socks), failed, time.monotonic() - t0, last_err), flush=True)
time.sleep(hold)
