#!/usr/bin/env python3
"""http_idle_client.py HOST PORT N MODE HOLD_SECONDS

Client of the http_mem_idle and http_mem_partial scenarios.  Opens up to N
TCP connections to HOST:PORT, one after the other (5 s timeout per step,
60 s for all of them, gives up after 100 failures), and on each one:

  MODE idle:    sends one complete keep-alive request
                ("GET /100b HTTP/1.1", Host), reads the whole response
                (must be a 200 with a Content-Length), then sends nothing more;
  MODE partial: sends "GET / HTTP/1.1\\r\\nHost: x\\r\\n" without the final
                empty line, then sends nothing more;
  MODE tls_idle: as idle, over TLS (no certificate check).

Then prints "READY <held> <failed> <seconds> <last error>" and keeps the
connections open for HOLD_SECONDS (the harness normally stops it earlier by
pid).  On SIGUSR1 it checks, without blocking, every connection it holds and
prints "ALIVE <open> <closed> <data>": open = nothing received and not
closed by the peer; closed = the peer closed it (or reset it); data = the
peer sent something (e.g. a 408) since.
"""
import resource
import select
import signal
import socket
import ssl
import sys
import time

host, port, n, mode, hold = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
if mode not in ("idle", "partial", "tls_idle"):
    sys.exit("MODE must be idle, partial or tls_idle")
TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT) if mode == "tls_idle" else None
if TLS:
    TLS.check_hostname = False
    TLS.verify_mode = ssl.CERT_NONE
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if soft < hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

REQ = b"GET / HTTP/1.1\r\nHost: x\r\n" if mode == "partial" else b"GET /100b HTTP/1.1\r\nHost: x\r\n\r\n"


def read_response(s):
    """Reads one response with a Content-Length body; returns None or why it failed."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            return "closed before the response head (%r)" % buf[:80]
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        return "status line %r" % lines[0][:80]
    clen = None
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        if k.strip().lower() == b"content-length":
            clen = int(v.strip())
        if k.strip().lower() == b"connection" and b"close" in v.lower():
            return "response says Connection: close"
    if clen is None:
        return "no Content-Length in %r" % head[:200]
    while len(body) < clen:
        d = s.recv(65536)
        if not d:
            return "closed in the body"
        body += d
    if len(body) != clen:
        return "%d bytes of body for a Content-Length of %d" % (len(body), clen)
    return None


t0 = time.monotonic()
socks, failed, last_err = [], 0, ""
for _ in range(n):
    if time.monotonic() - t0 > 60 or failed >= 100:
        break
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, port))
        if TLS:
            s = TLS.wrap_socket(s)
        s.sendall(REQ)
        err = None if mode == "partial" else read_response(s)
    except OSError as e:
        err = str(e)
    if err:
        failed += 1
        last_err = err
        s.close()
    else:
        socks.append(s)
print("READY %d %d %.2f %s" % (len(socks), failed, time.monotonic() - t0, last_err), flush=True)

check = []
signal.signal(signal.SIGUSR1, lambda *_: check.append(1))
end = time.monotonic() + hold
while time.monotonic() < end:
    if check:
        check.clear()
        alive = closed = data = 0
        poller = select.poll()
        for s in socks:
            poller.register(s, select.POLLIN)
        ready = {fd for fd, _ in poller.poll(0)}
        for s in socks:
            if s.fileno() not in ready:
                alive += 1
                continue
            try:
                if TLS:
                    s.setblocking(False)
                    d = s.recv(1)
                else:
                    d = s.recv(1, socket.MSG_PEEK)
            except ssl.SSLWantReadError:
                alive += 1
                continue
            except OSError:
                d = b""
            if d:
                data += 1
            else:
                closed += 1
        print("ALIVE %d %d %d" % (alive, closed, data), flush=True)
    time.sleep(0.05)
