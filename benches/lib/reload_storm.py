#!/usr/bin/env python3
"""reload_storm.py MASTER_PID MASTER_SOCK PORT SECONDS INTERVAL PIDS_FILE

The reload side of the reload_storm scenario: a master-worker proxy
(started as `BIN -W -S MASTER_SOCK -f CFG`, its frontend on
127.0.0.1:PORT, every response carrying `x-pid: <pid of the worker>`)
is reloaded by SIGUSR2 every INTERVAL seconds during SECONDS seconds
while another client loads it.

For each reload: t0 = just before the SIGUSR2; then every ~2 ms, `show
proc` on the master CLI until a worker pid never seen before is listed in
its "# workers" section (t_proc); then every ~2 ms one HTTP request
(`Connection: close`) to PORT until one is answered 200 with `x-pid:
<that new pid>` (t_serve).  A reload is given RELOAD_TIMEOUT s (10) in
all; the next SIGUSR2 is never sent before the previous reload has been
measured (a signal that reached a master in the middle of its
re-execution could kill it), so a slow reload delays the schedule; no
reload is started after SECONDS.

Prints one line per reload:
  RELOAD k proc_ms serve_ms probes_served_by_old probe_errors
or `RELOAD_FAILED k why`, the probe errors as `PROBE_ERROR k what`, and at
the end
  STORM_RESULT reloads_ok reloads_failed probe_errors p50_serve_ms max_serve_ms p50_proc_ms max_proc_ms
Every worker pid it ever saw (first ones included) is appended to
PIDS_FILE as soon as it is seen, so that the caller can make sure none is
left behind.
"""
import os
import signal
import socket
import statistics
import sys
import time

master, msock, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
seconds, interval, pids_file = float(sys.argv[4]), float(sys.argv[5]), sys.argv[6]
RELOAD_TIMEOUT = 10.0
POLL = 0.002
REQ = b"GET /100b HTTP/1.1\r\nHost: storm\r\nConnection: close\r\n\r\n"

seen = set()


def note_pids(pids):
    new = [p for p in pids if p not in seen]
    if new:
        seen.update(new)
        with open(pids_file, "a") as f:
            f.write("".join(f"{p}\n" for p in new))


def recv_all(s):
    """Everything `s` sends until it closes; closes it."""
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return data


def show_proc():
    """-> (current workers, all workers listed) or None if the master CLI did not answer."""
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(0.5)
        s.connect(msock)
        s.sendall(b"show proc\n")
        s.shutdown(socket.SHUT_WR)
        data = recv_all(s)
    except OSError:
        return None
    cur, allw, sect = [], [], None
    for line in data.decode("latin-1").splitlines():
        if line.startswith("#"):
            sect = line.strip("# ").strip()
            continue
        f = line.split()
        if len(f) >= 2 and f[0].isdigit() and f[1] == "worker":
            allw.append(int(f[0]))
            if sect == "workers":
                cur.append(int(f[0]))
    if not cur and not allw:
        return None
    return cur, allw


def probe():
    """-> (pid that served it, None) or (None, error text)"""
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=1.0)
        s.settimeout(2.0)
        s.sendall(REQ)
        data = recv_all(s)
    except OSError as e:
        return None, f"{type(e).__name__}: {e}"
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    if not head or not head[0].startswith("HTTP/1.1 200"):
        return None, f"status line {head[0]!r}" if head and head[0] else "empty reply"
    for h in head[1:]:
        k, _, v = h.partition(":")
        if k.strip().lower() == "x-pid" and v.strip().isdigit():
            return int(v.strip()), None
    return None, "no x-pid header"


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


# the first worker
t_end = time.monotonic() + RELOAD_TIMEOUT
sp = None
while time.monotonic() < t_end:
    sp = show_proc()
    if sp and sp[0]:
        break
    time.sleep(0.01)
if not sp or not sp[0]:
    print("RELOAD_FAILED 0 the master CLI never listed a worker", flush=True)
    print("STORM_RESULT 0 1 0 - - - -", flush=True)
    sys.exit(1)
note_pids(sp[1])

serve, proc, failed, perrs = [], [], 0, 0
n = max(1, int(seconds / interval) - 1)
t_start = time.monotonic()
for k in range(1, n + 1):
    at = t_start + (k - 0.5) * interval
    now = time.monotonic()
    if now - t_start > seconds:     # slow reloads: the load is over, stop here
        print(f"STORM_CUT {k - 1} reloads done in {seconds:g} s", flush=True)
        break
    if at > now:
        time.sleep(at - now)
    if not alive(master):
        print(f"RELOAD_FAILED {k} the master (pid {master}) is gone", flush=True)
        failed += 1
        break
    known = set(seen)
    t0 = time.monotonic()
    os.kill(master, signal.SIGUSR2)
    deadline = t0 + RELOAD_TIMEOUT
    new = None
    while time.monotonic() < deadline:
        sp = show_proc()
        if sp:
            fresh = [p for p in sp[0] if p not in known]
            note_pids(sp[1])
            if fresh:
                new = fresh[0]
                break
        time.sleep(POLL)
    if new is None:
        print(f"RELOAD_FAILED {k} no new worker in show proc {RELOAD_TIMEOUT:.0f} s after SIGUSR2", flush=True)
        failed += 1
        continue
    t_proc = time.monotonic()
    old_served = errs = 0
    t_serve = None
    while time.monotonic() < deadline:
        pid, err = probe()
        if pid == new:
            t_serve = time.monotonic()
            break
        if err:
            errs += 1
            print(f"PROBE_ERROR {k} {err}", flush=True)
        else:
            old_served += 1
            if pid not in seen:
                note_pids([pid])
        time.sleep(POLL)
    perrs += errs
    if t_serve is None:
        print(f"RELOAD_FAILED {k} new worker {new} listed after {1e3 * (t_proc - t0):.1f} ms"
              f" but served no probe within {RELOAD_TIMEOUT:.0f} s", flush=True)
        failed += 1
        continue
    proc.append(1e3 * (t_proc - t0))
    serve.append(1e3 * (t_serve - t0))
    print(f"RELOAD {k} {proc[-1]:.2f} {serve[-1]:.2f} {old_served} {errs} new={new}", flush=True)


def f(v):
    return f"{v:.2f}" if v is not None else "-"


print("STORM_RESULT %d %d %d %s %s %s %s" % (
    len(serve), failed, perrs,
    f(statistics.median(serve) if serve else None), f(max(serve) if serve else None),
    f(statistics.median(proc) if proc else None), f(max(proc) if proc else None)), flush=True)
