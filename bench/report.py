#!/usr/bin/env python3
"""Combines ys-loadgen's JSON results into one file, prints the figures side by side, and plots them.

report.py --out results.json --plot results.png RUN.json...
"""
import argparse
import datetime
import json
import os
import sys


def phases(run, kind):
    return [p for p in run.get("phases", []) if p.get("kind") == kind]


def fmt(v, digits=0):
    if v is None:
        return "-"
    return f"{v:,.{digits}f}"


def summary_rows(runs):
    rows, fanouts = [], []
    for r in runs:
        scenario, _, server = r.get("label", "?").rpartition("-")
        connect = (phases(r, "connect") or [{}])[0]
        storm = (phases(r, "storm") or [{}])[0]
        rows.append({
            "scenario": scenario, "server": server, "ok": r.get("ok"), "errors": r.get("errors", []),
            "connections": r.get("setup", {}).get("connections"),
            "instances": r.get("setup", {}).get("servers"),
            "connect_per_s": connect.get("connections_per_second"),
            "all_authenticated_s": connect.get("seconds_to_all_authenticated"),
            "rss_per_conn_b": connect.get("server_rss_bytes_per_connection"),
            "storm_s": storm.get("seconds_to_all_authenticated"),
            "storm_failed_attempts": storm.get("failed_attempts"),
            "storm_listen_overflows": storm.get("tcp_counters", {}).get("ListenOverflows"),
            "loadavg": r.get("machine", {}).get("loadavg_at_start"),
        })
        for p in phases(r, "fanout"):
            fanouts.append({
                "scenario": scenario, "server": server, "phase": p["name"],
                "target": p.get("target_deliveries_per_second") or None,
                "got": p.get("deliveries_per_second"),
                "p50_ms": p["latency_us"]["p50"] / 1000, "p99_ms": p["latency_us"]["p99"] / 1000,
                "p999_ms": p["latency_us"]["p999"] / 1000, "max_ms": p["latency_us"]["max"] / 1000,
                "server_cpu": p.get("server_cpu_share"), "loadgen_cpu": p.get("loadgen_cpu_share"),
                "server_kernel_cpu": p.get("server_system_cpu_share"),
                "us_per_delivery": p.get("server_cpu_us_per_delivery"),
                "lost": p.get("lost", 0), "duplicated": p.get("duplicated", 0),
                "misdelivered": p.get("misdelivered", 0), "drained": p.get("drained", True),
            })
    return rows, fanouts


def burst_rows(runs):
    """burst:SECONDS phases: publishing as fast as redis takes it, then the drain, and the server's memory."""
    out = []
    for r in runs:
        scenario, _, server = r.get("label", "?").rpartition("-")
        for p in phases(r, "burst"):
            out.append({
                "scenario": scenario, "server": server, "phase": p["name"],
                "published_per_s": p.get("notifications_per_second_published"),
                "published_deliveries_per_s": p.get("deliveries_per_second_published"),
                "expected": p.get("deliveries_expected"), "received": p.get("deliveries_received"),
                "delivered_per_s": p.get("deliveries_per_second_with_drain"),
                "to_last_delivery_s": p.get("seconds_to_last_delivery"), "drain_s": p.get("drain_seconds"),
                "rss_before_kb": p.get("server_rss_kb_before"), "rss_peak_kb": p.get("server_rss_kb_peak"),
                "server_cpu": p.get("server_cpu_share"), "loadgen_cpu": p.get("loadgen_cpu_share"),
                "lost": p.get("lost", 0), "duplicated": p.get("duplicated", 0),
                "misdelivered": p.get("misdelivered", 0), "drained": p.get("drained", True),
            })
    return out


def publishing(f):
    """A fixed rate, or max with the phase's window of deliveries in flight when it set one (fanout:max:S:W)."""
    if f["target"]:
        return fmt(f["target"]) + "/s"
    parts = f["phase"].split(":")
    return f"max, {int(parts[3]):,} in flight" if len(parts) == 4 else "max"


def print_table(head, table):
    table = [head] + table
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))


def print_tables(rows, fanouts):
    print_table(["scenario", "server", "conns", "inst", "connect/s", "all auth s", "RSS B/conn", "storm s",
                 "storm overflows", "ok"],
                [[r["scenario"], r["server"], fmt(r["connections"]), fmt(r["instances"]), fmt(r["connect_per_s"]),
                  fmt(r["all_authenticated_s"], 2), fmt(r["rss_per_conn_b"]), fmt(r["storm_s"], 2),
                  fmt(r["storm_listen_overflows"]), "yes" if r["ok"] else "NO"] for r in rows])
    print()
    print_table(["scenario", "server", "publishing", "deliveries/s", "p50 ms", "p99 ms", "p99.9 ms", "max ms",
                 "server cpu", "of it kernel", "loadgen cpu", "us/delivery", "lost+dup"],
                [[f["scenario"], f["server"], publishing(f), fmt(f["got"]),
                  fmt(f["p50_ms"], 2), fmt(f["p99_ms"], 2), fmt(f["p999_ms"], 2), fmt(f["max_ms"], 2),
                  f"{f['server_cpu']:.0%}",
                  "-" if f["server_kernel_cpu"] is None else f"{f['server_kernel_cpu']:.0%}", f"{f['loadgen_cpu']:.0%}", fmt(f["us_per_delivery"], 1),
                  fmt(f["lost"] + f["duplicated"] + f["misdelivered"])] for f in fanouts])


def print_bursts(bursts):
    if not bursts:
        return
    print()
    print_table(["scenario", "server", "phase", "published/s", "deliveries published/s", "delivered", "delivered/s",
                 "to last s", "drain s", "RSS before MB", "RSS peak MB", "server cpu", "loadgen cpu", "lost+dup"],
                [[b["scenario"], b["server"], b["phase"], fmt(b["published_per_s"]),
                  fmt(b["published_deliveries_per_s"]), f"{fmt(b['received'])} of {fmt(b['expected'])}",
                  fmt(b["delivered_per_s"]), fmt(b["to_last_delivery_s"], 2), fmt(b["drain_s"], 2),
                  fmt((b["rss_before_kb"] or 0) / 1024, 1), fmt((b["rss_peak_kb"] or 0) / 1024, 1),
                  f"{b['server_cpu']:.0%}", f"{b['loadgen_cpu']:.0%}",
                  fmt(b["lost"] + b["duplicated"] + b["misdelivered"])] for b in bursts])


def plot(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    colors = {"yunity": "tab:blue", "baseline": "tab:orange", "norecovery": "tab:green", "streams": "tab:purple"}
    styles = ["-", "--", ":", "-."]

    # Latency: the share of deliveries slower than x, per fixed-rate fan-out phase (log-log shows the tail).
    ax = axes[0][0]
    scenarios = sorted({r["label"].rpartition("-")[0] for r in runs})
    # The latency targets are set at 10k connections: with that scenario at hand, only its phases, for legibility.
    latency_scenarios = {"10k"} if "10k" in scenarios else set(scenarios)
    for r in runs:
        scenario, _, server = r["label"].rpartition("-")
        if scenario not in latency_scenarios:
            continue
        for p in phases(r, "fanout"):
            if p.get("target_deliveries_per_second", 0) <= 0 or not p.get("latency_histogram_us"):
                continue
            total = sum(c for _, c in p["latency_histogram_us"])
            xs, ys, seen = [], [], 0
            for us, c in p["latency_histogram_us"]:
                seen += c
                xs.append(us / 1000.0)
                ys.append(max(1.0 - seen / total, 1e-6))
            ax.step(xs, ys, where="post", color=colors.get(server), linestyle=styles[scenarios.index(scenario) % 4],
                    label=f"{server} {scenario} @ {p['target_deliveries_per_second']:,.0f}/s")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("publish-to-receive latency (ms)")
    ax.set_ylabel("share of deliveries slower")
    ax.set_title("Latency distribution at a fixed delivery rate")
    ax.axvline(5, color="grey", linewidth=0.8)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)

    # Throughput over time, publishing as fast as the window allows.
    ax = axes[0][1]
    for r in runs:
        scenario, _, server = r["label"].rpartition("-")
        for p in phases(r, "fanout"):
            if p.get("target_deliveries_per_second", 0) != 0:
                continue
            # Runs before the loadgen's fix could hold bogus points where a counter was read across the phase
            # reset (the previous phase's count, or a wrapped difference): nothing real is 20 times the mean.
            raw = p.get("throughput_series", [])
            limit = 20 * max(p.get("deliveries_per_second", 0), 1000)
            series = [(t, v) for t, v in raw if v < limit]
            ax.plot([t for t, _ in series], [v / 1000 for _, v in series], color=colors.get(server),
                    linestyle=styles[scenarios.index(scenario) % 4],
                    label=f"{server} {scenario}: {p['deliveries_per_second']:,.0f}/s")
    ax.set_xlabel("seconds")
    ax.set_ylabel("deliveries per second (thousands)")
    ax.set_title("Fan-out throughput, publishing as fast as possible")
    ax.axhline(500, color="grey", linewidth=0.8)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)

    # Memory per idle connection, and the reconnect storm.
    def bars(ax, key, title, ylabel, target):
        labels, values, cols = [], [], []
        for r in runs:
            scenario, _, server = r["label"].rpartition("-")
            value = None
            if key == "rss":
                c = (phases(r, "connect") or [{}])[0]
                value = c.get("server_rss_bytes_per_connection")
                value = value / 1024 if value is not None else None
            else:
                s = phases(r, "storm")
                value = s[0].get("seconds_to_all_authenticated") if s else None
                if s and s[0].get("authenticated", 0) < s[0].get("clients", 0):
                    scenario += f"\n{s[0]['authenticated']:,} of {s[0]['clients']:,}"
            if value is None:
                continue
            labels.append(f"{scenario}\n{server}")
            values.append(value)
            cols.append(colors.get(server))
        ax.bar(range(len(values)), values, color=cols)
        ax.set_xticks(range(len(values)))
        ax.set_xticklabels(labels, fontsize=8)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
        ax.axhline(target, color="grey", linewidth=0.8)
        ax.grid(True, axis="y", alpha=0.3)

    bars(axes[1][0], "rss", "Server RSS per authenticated connection (all instances)", "KiB", 4)
    bars(axes[1][1], "storm", "Reconnect storm: every client at once, until all authenticated", "seconds", 3)
    fig.suptitle("yunity-sockets (blue) vs socket.io 4 baseline (orange), server on one core")
    fig.tight_layout()
    fig.savefig(path, dpi=90)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--plot")
    ap.add_argument("runs", nargs="+")
    args = ap.parse_args()
    runs = []
    for path in args.runs:
        if not os.path.exists(path):
            print(f"report.py: {path} is missing", file=sys.stderr)
            continue
        with open(path) as f:
            runs.append(json.load(f))
    rows, fanouts = summary_rows(runs)
    bursts = burst_rows(runs)
    with open(args.out, "w") as f:
        json.dump({"generated": datetime.datetime.now().isoformat(timespec="seconds"), "summary": rows,
                   "fanout": fanouts, "burst": bursts, "runs": runs}, f, indent=1)
        f.write("\n")
    print_tables(rows, fanouts)
    print_bursts(bursts)
    if args.plot and runs:
        plot(runs, args.plot)
        print(f"plot: {args.plot}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
