#!/usr/bin/env python3
"""summary.py RESULTS_TSV SUMMARY_TSV

Reads the per-run results (scenario, metric, proxy, round, value; proxy is
"haproxy", "rs" or "direct"), prints the comparison table and writes the
medians and ratios to SUMMARY_TSV.
"""
import statistics
import sys
from collections import OrderedDict

results, out_path = sys.argv[1], sys.argv[2]

# metric -> (label shown, "higher"/"lower" is better, or None = informational)
METRICS = OrderedDict([
    ("Gbit_s", ("Gbit/s", "higher")),
    ("cpu_ms_per_GB", ("proxy CPU ms/GB", "lower")),
    ("conn_s", ("conn/s", "higher")),
    ("cpu_us_per_conn", ("proxy CPU us/conn", "lower")),
    ("proxy_cpu_pct", ("proxy CPU % of a core", None)),
    ("errors", ("wrk errors", None)),
    ("rss_idle_KiB", ("RSS idle KiB", "lower")),
    ("rss_conns_KiB", ("RSS with conns KiB", "lower")),
    ("bytes_per_conn", ("RSS bytes/idle conn", "lower")),
    ("conns", ("idle conns proxied", None)),
])
# which direct-loopback figure a throughput scenario is compared with
DIRECT_OF = {"tcp_bulk": "Gbit_s_1", "tcp_splice": "Gbit_s_1",
             "tcp_bulk_p10": "Gbit_s_10", "tcp_splice_p10": "Gbit_s_10",
             "tcp_splice_shared": "Gbit_s_1_shared", "tcp_splice_p10_shared": "Gbit_s_10_shared"}

data = OrderedDict()          # (scen, metric) -> proxy -> {round: value}
with open(results) as f:
    next(f, None)             # header
    for line in f:
        scen, metric, proxy, rnd, val = line.rstrip("\n").split("\t")
        data.setdefault((scen, metric), {}).setdefault(proxy, {})[int(rnd)] = float(val)


def med(d):
    return statistics.median(d.values()) if d else None


def fmt(v):
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    return f"{v:.0f}" if a >= 1000 else f"{v:.1f}" if a >= 100 else f"{v:.2f}" if a >= 1 else f"{v:.3f}"


direct = {m: med(data.get(("direct", m), {}).get("direct", {})) for m in ("Gbit_s_1", "Gbit_s_10", "Gbit_s_1_shared", "Gbit_s_10_shared")}
rows, tsv = [], []
for (scen, metric), per in data.items():
    if scen == "direct" or metric not in METRICS:
        continue
    label, better = METRICS[metric]
    h, r = per.get("haproxy", {}), per.get("rs", {})
    mh, mr = med(h), med(r)
    ratio = mr / mh if mh and mr is not None and better else None
    paired = [r[k] / h[k] for k in h if k in r and h[k]]
    spread = f"{min(paired):.2f}-{max(paired):.2f}" if better and len(paired) > 1 else ""
    dh = dr = None
    dref = direct.get(DIRECT_OF.get(scen, ""), None)
    if metric == "Gbit_s" and dref:
        dh = mh / dref if mh is not None else None
        dr = mr / dref if mr is not None else None
    arrow = {"higher": "^", "lower": "v"}.get(better, " ")
    pct = lambda x: "-" if x is None else f"{100 * x:.0f}%"
    rows.append((scen, f"{label} {arrow}", fmt(mh), fmt(mr),
                 "-" if ratio is None else f"{ratio:.3f}", spread or "-",
                 pct(dh) if dref else "", pct(dr) if dref else ""))
    tsv.append((scen, metric, better or "info", fmt(mh), fmt(mr),
                "" if ratio is None else f"{ratio:.4f}",
                "" if dh is None else f"{dh:.4f}", "" if dr is None else f"{dr:.4f}",
                str(max(len(h), len(r)))))

print()
if any(direct.values()):
    for sfx, where in (("", "iperf3 client and server both on the load CPU, unless PIN=0"),
                       ("_shared", "iperf3 client and server free to use every CPU")):
        figs = [f"{n} stream(s) {fmt(direct[f'Gbit_s_{n}{sfx}'])} Gbit/s"
                for n in (1, 10) if direct.get(f"Gbit_s_{n}{sfx}")]
        if figs:
            print(f"direct loopback{sfx.replace('_', ' ')} (no proxy, {where}): " + ", ".join(figs))
hdr = ("scenario", "metric", "HAProxy", "haproxy-rs", "rs/HAProxy", "per-round", "HAP/direct", "rs/direct")
if rows:
    w = [max(len(x[i]) for x in rows + [hdr]) for i in range(len(hdr))]
    line = "  ".join(f"{hdr[i]:<{w[i]}}" for i in range(len(hdr)))
    print(line)
    print("-" * len(line))
    prev = None
    for x in rows:
        cells = list(x)
        if x[0] == prev:
            cells[0] = ""
        prev = x[0]
        print("  ".join(f"{cells[i]:<{w[i]}}" for i in range(len(hdr))).rstrip())
    print("medians over rounds; ^ higher is better, v lower is better; rs/HAProxy = ratio of medians"
          " (per-round = min-max of the paired per-round ratios); */direct = throughput as a"
          " fraction of direct loopback")
with open(out_path, "w") as f:
    f.write("scenario\tmetric\tbetter\thaproxy_median\trs_median\trs_over_haproxy"
            "\thaproxy_of_direct\trs_of_direct\trounds\n")
    for t in tsv:
        f.write("\t".join(t) + "\n")
