#!/usr/bin/env python3
"""summary.py RESULTS_TSV SUMMARY_TSV [MODE [CONCURRENT_SCENARIOS [SYSCALLS_TSV]]]

Reads the per-run results (scenario, metric, proxy, round, value; proxy is
"haproxy", "rs" or "direct"), prints the comparison table, the per-syscall
breakdown of the syscalls scenario and the targets table, and writes the
medians and ratios to SUMMARY_TSV.

MODE is "concurrent" or "alternate"; CONCURRENT_SCENARIOS is the comma list of
the scenarios in which both proxies ran at the same time.  For those, the
ratio shown is the median of the per-round paired ratios (each round's two
figures come from the same seconds on the same CPU); elsewhere it is the
ratio of the medians.  SYSCALLS_TSV has one row per proxy, round and syscall:
proxy, round, syscall, calls, errors, connections.
"""
import os
import statistics
import sys
from collections import OrderedDict

results, out_path = sys.argv[1], sys.argv[2]
mode = sys.argv[3] if len(sys.argv) > 3 else "alternate"
concurrent = set(filter(None, (sys.argv[4] if len(sys.argv) > 4 else "").split(",")))
syscalls_tsv = sys.argv[5] if len(sys.argv) > 5 else ""

# metric -> (label shown, "higher"/"lower" is better or None = informational, decimals or None = auto)
METRICS = OrderedDict([
    ("Gbit_s", ("Gbit/s", "higher", None)),
    ("cpu_ms_per_GB", ("proxy CPU ms/GB", "lower", None)),
    ("conn_s", ("conn/s", "higher", None)),
    ("cpu_us_per_conn", ("proxy CPU us/conn", "lower", None)),
    ("req_s", ("req/s", "higher", None)),
    ("cpu_us_per_req", ("proxy CPU us/req", "lower", None)),
    ("sys_us_per_req", ("  of which kernel us/req", "lower", None)),
    ("p50_ms", ("p50 latency ms", "lower", None)),
    ("p99_ms", ("p99 latency ms", "lower", None)),
    ("MB_s", ("MB/s", "higher", None)),
    ("srv_conns_per_req", ("server conns opened/req", None, 3)),
    ("proxy_cpu_pct", ("proxy CPU % of a core", None, None)),
    ("errors", ("wrk errors", None, None)),
    ("rss_idle_KiB", ("RSS idle KiB", "lower", None)),
    ("rss_conns_KiB", ("RSS with conns KiB", "lower", None)),
    ("bytes_per_conn", ("RSS bytes/idle conn", "lower", None)),
    ("conns", ("idle conns proxied", None, None)),
    ("proxy_fds_per_conn", ("proxy fds/client conn", None, 2)),
    ("srv_conns_per_conn", ("server conns held/client conn", None, 2)),
    ("syscalls_per_conn", ("syscalls/conn", "lower", 2)),
    ("allocs_per_conn", ("heap allocs/conn", "lower", 1)),
    ("alloc_bytes_per_conn", ("heap bytes allocated/conn", "lower", 0)),
    ("allocs_startup", ("heap allocs, start+stop", None, 0)),
    ("failures", ("failed requests", "lower", 0)),
    ("reload_ms_p50", ("SIGUSR2 -> new worker serving, median ms", "lower", None)),
    ("reload_ms_max", ("SIGUSR2 -> new worker serving, max ms", "lower", None)),
    ("reload_proc_ms_p50", ("SIGUSR2 -> new worker in show proc, median ms", "lower", None)),
    ("reloads", ("reloads measured", None, 0)),
    ("reloads_failed", ("reloads without a serving new worker", None, 0)),
])
# which direct-loopback figure a throughput scenario is compared with
DIRECT_OF = {"tcp_bulk": "Gbit_s_1", "tcp_splice": "Gbit_s_1",
             "tcp_bulk_p10": "Gbit_s_10", "tcp_splice_p10": "Gbit_s_10",
             "tcp_splice_shared": "Gbit_s_1_shared", "tcp_splice_p10_shared": "Gbit_s_10_shared"}
# the figures of the final table, per scenario
KEY_METRICS = OrderedDict([
    ("tcp_bulk", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_bulk_p10", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_splice", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_splice_p10", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_splice_shared", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_splice_p10_shared", ["Gbit_s", "cpu_ms_per_GB"]),
    ("tcp_connrate", ["conn_s", "cpu_us_per_conn"]),
    ("http_ka_100", ["req_s", "cpu_us_per_req", "p99_ms"]),
    ("http_ka_64k", ["req_s", "cpu_us_per_req", "p99_ms"]),
    ("http_close_100", ["req_s", "cpu_us_per_req", "srv_conns_per_req"]),
    ("http_close_64k", ["req_s", "cpu_us_per_req", "srv_conns_per_req"]),
    ("http_rules", ["req_s", "cpu_us_per_req", "p99_ms"]),
    ("mem_idle", ["bytes_per_conn", "rss_idle_KiB"]),
    ("http_mem_idle", ["bytes_per_conn", "srv_conns_per_conn"]),
    ("http_mem_partial", ["bytes_per_conn"]),
    ("http_tls_hs_ecdsa", ["req_s", "cpu_us_per_req"]),
    ("http_tls_hs_rsa", ["req_s", "cpu_us_per_req"]),
    ("http_tls_ka", ["req_s", "cpu_us_per_req", "p99_ms"]),
    ("http_mem_tls_idle", ["bytes_per_conn"]),
    ("reload_storm", ["req_s", "cpu_us_per_req", "failures", "reload_ms_p50", "reload_ms_max"]),
    ("syscalls", ["syscalls_per_conn"]),
    ("allocs", ["allocs_per_conn"]),
])
# (scenario, metric) -> (what, "ratio" or "rs" (haproxy-rs's own figure), operator, bound)
TARGETS = {
    ("tcp_bulk", "Gbit_s"): ("TCP throughput", "ratio", ">=", 1.0),
    ("tcp_bulk_p10", "Gbit_s"): ("TCP throughput", "ratio", ">=", 1.0),
    ("tcp_connrate", "cpu_us_per_conn"): ("CPU per new connection", "ratio", "<=", 0.85),
    ("mem_idle", "bytes_per_conn"): ("memory per idle proxied connection", "ratio", "<=", 0.35),
    ("allocs", "allocs_per_conn"): ("allocations per connection", "rs", "=", 0.0),
    ("syscalls", "syscalls_per_conn"): ("syscalls per connection", "rs", "<=", 22.0),
    ("http_ka_100", "cpu_us_per_req"): ("keep-alive CPU per request", "ratio", "<=", 0.9),
    ("http_ka_100", "p99_ms"): ("keep-alive p99 latency", "ratio", "<=", 1.0),
    ("http_ka_64k", "cpu_us_per_req"): ("64 KiB keep-alive CPU per request", "ratio", "<=", 0.8),
    ("http_ka_64k", "p99_ms"): ("keep-alive p99 latency", "ratio", "<=", 1.0),
    ("http_close_100", "cpu_us_per_req"): ("client-close CPU per request", "ratio", "<=", 0.5),
    ("http_close_64k", "cpu_us_per_req"): ("client-close CPU per request", "ratio", "<=", 0.5),
    ("http_rules", "cpu_us_per_req"): ("rules CPU per request (50 ACLs, 20 use_backend, 10k map)", "ratio", "<=", 0.9),
    ("http_mem_idle", "bytes_per_conn"): ("memory per idle keep-alive client connection", "ratio", "<=", 0.45),
    ("http_mem_partial", "bytes_per_conn"): ("memory per connection holding a partial request", "ratio", "<=", 1.0),
    ("http_tls_hs_ecdsa", "cpu_us_per_req"): ("CPU per full TLS 1.3 handshake (ECDSA P-256)", "ratio", "<=", 0.95),
    ("http_tls_hs_rsa", "cpu_us_per_req"): ("CPU per full TLS 1.3 handshake (RSA 2048)", "ratio", "<=", 0.95),
    ("http_tls_ka", "cpu_us_per_req"): ("keep-alive HTTPS CPU per request", "ratio", "<=", 0.9),
    ("http_mem_tls_idle", "bytes_per_conn"): ("memory per idle TLS connection", "ratio", "<=", 0.8),
    ("reload_storm", "req_s"): ("throughput during a reload storm", "ratio", ">=", 1.0),
    ("reload_storm", "failures"): ("failed requests during a reload storm", "rs", "=", 0.0),
    ("reload_storm", "reload_ms_p50"): ("reload latency (SIGUSR2 -> new worker serving)", "ratio", "<=", 1.0),
}
for s in ("tcp_splice", "tcp_splice_p10", "tcp_splice_shared", "tcp_splice_p10_shared"):
    TARGETS[(s, "cpu_ms_per_GB")] = ("splice CPU per GB", "ratio", "<=", 0.9)

data = OrderedDict()          # (scen, metric) -> proxy -> {round: value}
with open(results) as f:
    next(f, None)             # header
    for line in f:
        scen, metric, proxy, rnd, val = line.rstrip("\n").split("\t")
        data.setdefault((scen, metric), {}).setdefault(proxy, {})[int(rnd)] = float(val)


def med(d):
    return statistics.median(d.values()) if d else None


def fmt(v, dec=None):
    if v is None:
        return "-"
    if dec is not None:
        return f"{v:.{dec}f}"
    if v == 0:
        return "0"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 100 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"


def table(hdr, rows, group=True):
    w = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
    line = "  ".join(f"{hdr[i]:<{w[i]}}" for i in range(len(hdr))).rstrip()
    print(line)
    print("-" * len(line))
    prev = None
    for x in rows:
        cells = list(x)
        if group and x[0] == prev:
            cells[0] = ""
        prev = x[0]
        print("  ".join(f"{cells[i]:<{w[i]}}" for i in range(len(hdr))).rstrip())


def ratio_of(scen, metric):
    """(ratio, paired ratios): median of the paired ratios for concurrent
    scenarios, ratio of the medians otherwise."""
    per = data.get((scen, metric), {})
    h, r = per.get("haproxy", {}), per.get("rs", {})
    paired = [r[k] / h[k] for k in sorted(h) if k in r and h[k]]
    mh, mr = med(h), med(r)
    if scen in concurrent and paired:
        return statistics.median(paired), paired
    return (mr / mh if mh and mr is not None else None), paired


direct = {m: med(data.get(("direct", m), {}).get("direct", {}))
          for m in ("Gbit_s_1", "Gbit_s_10", "Gbit_s_1_shared", "Gbit_s_10_shared")}
rows, tsv = [], []
for (scen, metric), per in data.items():
    if scen == "direct" or metric not in METRICS:
        continue
    label, better, dec = METRICS[metric]
    h, r = per.get("haproxy", {}), per.get("rs", {})
    mh, mr = med(h), med(r)
    ratio, paired = ratio_of(scen, metric) if better else (None, [])
    spread = ""
    if better and len(paired) > 1:
        pm = statistics.median(paired)
        dev = max(abs(x / pm - 1) for x in paired) if pm else 0
        vals = " ".join(f"{x:.2f}" for x in paired) if len(paired) <= 6 else f"{min(paired):.2f}-{max(paired):.2f}"
        spread = f"{vals} (±{100 * dev:.1f}%)"
    dh = dr = None
    dref = direct.get(DIRECT_OF.get(scen, ""), None)
    if metric == "Gbit_s" and dref:
        dh = mh / dref if mh is not None else None
        dr = mr / dref if mr is not None else None
    arrow = {"higher": "^", "lower": "v"}.get(better, " ")
    pct = lambda x: "-" if x is None else f"{100 * x:.0f}%"
    how = "both" if scen in concurrent else "alone"
    rows.append((scen, how, f"{label} {arrow}", fmt(mh, dec), fmt(mr, dec),
                 "-" if ratio is None else f"{ratio:.3f}", spread or "-",
                 pct(dh) if dref else "", pct(dr) if dref else ""))
    tsv.append((scen, how, metric, better or "info", fmt(mh, dec), fmt(mr, dec),
                "" if ratio is None else f"{ratio:.4f}", " ".join(f"{x:.4f}" for x in paired),
                "" if dh is None else f"{dh:.4f}", "" if dr is None else f"{dr:.4f}",
                str(max(len(h), len(r)))))

print()
print(f"mode {mode}: " + (
    "the CPU-cost scenarios marked 'both' ran haproxy-rs and HAProxy AT THE SAME TIME, pinned on the same"
    " proxy CPU, each with its own load generator; their Gbit/s and conn/s are each proxy's SHARE of that one"
    " core, and rs/HAProxy is the median of the per-round paired ratios. Scenarios marked 'alone' ran one"
    " proxy at a time, alternating the order; rs/HAProxy is the ratio of the medians."
    if concurrent else ("no CPU-cost scenario selected, so " if mode == "concurrent" else "") +
    "one proxy at a time, alternating the order each round; rs/HAProxy is the ratio of the medians."))
if any(direct.values()):
    flows = "; per flow, 2 flows at once" if mode == "concurrent" else ""
    for sfx, where in (("", "iperf3 client and server both on the load CPU, unless PIN=0"),
                       ("_shared", "iperf3 client and server free to use every CPU")):
        figs = [f"{n} stream(s) {fmt(direct[f'Gbit_s_{n}{sfx}'])} Gbit/s"
                for n in (1, 10) if direct.get(f"Gbit_s_{n}{sfx}")]
        if figs:
            print(f"direct loopback{sfx.replace('_', ' ')} (no proxy, {where}{flows}): " + ", ".join(figs))
hdr = ("scenario", "run", "metric", "HAProxy", "haproxy-rs", "rs/HAProxy", "per-round rs/HAProxy (spread)",
       "HAP/direct", "rs/direct")
if rows:
    table(hdr, rows)
    print("medians over rounds; ^ higher is better, v lower is better; per-round = the paired ratio of each round"
          " (spread = largest distance from their median); */direct = throughput as a fraction of direct loopback"
          + (" (in concurrent mode: each proxy's share against one of two direct flows running at once)"
             if mode == "concurrent" else ""))

# ------------------------------------------------------- syscalls breakdown
if syscalls_tsv and os.path.exists(syscalls_tsv) and os.path.getsize(syscalls_tsv):
    sc = {}                   # proxy -> round -> name -> (calls/conn, errors/conn)
    with open(syscalls_tsv) as f:
        for line in f:
            who, rnd, name, calls, errs, n = line.rstrip("\n").split("\t")
            sc.setdefault(who, {}).setdefault(int(rnd), {})[name] = (int(calls) / int(n), int(errs) / int(n))
    names = sorted({nm for rr in sc.values() for d in rr.values() for nm in d})

    def per(who, name):       # median over rounds of calls/conn and errors/conn
        rr = sc.get(who, {})
        if not rr:
            return None
        c = statistics.median(d.get(name, (0, 0))[0] for d in rr.values())
        e = statistics.median(d.get(name, (0, 0))[1] for d in rr.values())
        return c, e

    def cell(x):
        if x is None:
            return "-"
        return f"{x[0]:.2f}" + (f" ({x[1]:.2f} failed)" if x[1] >= 0.005 else "")

    srows = []
    for nm in sorted(names, key=lambda nm: -max((per(w, nm) or (0, 0))[0] for w in ("haproxy", "rs"))):
        a, b = per("haproxy", nm), per("rs", nm)
        srows.append((nm, cell(a), cell(b), f"{b[0] - a[0]:+.2f}" if a and b else "-"))
    tot = {w: statistics.median(sum(c for c, _ in d.values()) for d in sc[w].values()) for w in sc}
    srows.append(("total", f"{tot['haproxy']:.2f}" if "haproxy" in tot else "-",
                  f"{tot['rs']:.2f}" if "rs" in tot else "-",
                  f"{tot['rs'] - tot['haproxy']:+.2f} (rs/HAProxy {tot['rs'] / tot['haproxy']:.3f})"
                  if "rs" in tot and "haproxy" in tot and tot["haproxy"] else "-"))
    print()
    print("syscalls per proxied TCP connection (strace -f -c on the proxy; median over rounds; "
          "'failed' = calls that returned an error, e.g. EAGAIN, EINPROGRESS):")
    table(("syscall", "HAProxy", "haproxy-rs", "rs - HAProxy"), srows, group=False)

# ---------------------------------------------------------- targets table
trows = []
for scen, metrics in KEY_METRICS.items():
    for metric in metrics:
        per = data.get((scen, metric))
        if not per:
            continue
        label, better, dec = METRICS[metric]
        mh, mr = med(per.get("haproxy", {})), med(per.get("rs", {}))
        ratio, paired = ratio_of(scen, metric) if better else (None, [])
        tgt, status = "", ""
        t = TARGETS.get((scen, metric))
        if t:
            what, kind, op, bound = t
            v = ratio if kind == "ratio" else mr
            tgt = f"{what}: {'rs/HAProxy' if kind == 'ratio' else 'haproxy-rs'} {op} {bound:g}"
            if v is None:
                status = "no data"
            else:
                vr = round(v, dec if dec is not None else 3)
                ok = vr >= bound if op == ">=" else vr <= bound if op == "<=" else vr == bound
                status = "met" if ok else "NOT MET"
                # a ratio that misses its bound while some rounds are on the other side of it
                if not ok and kind == "ratio" and len(paired) > 1 and min(paired) <= bound <= max(paired):
                    status += " (bound within the per-round spread)"
        trows.append((scen, f"{label} {dict(higher='^', lower='v').get(better, ' ')}", fmt(mh, dec), fmt(mr, dec),
                      "-" if ratio is None else f"{ratio:.3f}", tgt, status))
if trows:
    print()
    print("SUMMARY: haproxy-rs / HAProxy 2.6 per scenario, with the targets")
    table(("scenario", "figure", "HAProxy", "haproxy-rs", "rs/HAProxy", "target", "status"), trows)

with open(out_path, "w") as f:
    f.write("scenario\trun\tmetric\tbetter\thaproxy_median\trs_median\trs_over_haproxy\tper_round_ratios"
            "\thaproxy_of_direct\trs_of_direct\trounds\n")
    for t in tsv:
        f.write("\t".join(t) + "\n")
