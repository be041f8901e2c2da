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
    rows = []
    for r in runs:
        label = r.get("label", "?")
        scenario, _, server = label.rpartition("-")
        connect = (phases(r, "connect") or [{}])[0]
        storm = (phases(r, "storm") or [{}])[0]
        fixed = [p for p in phases(r, "fanout") if p.get("target_deliveries_per_second", 0) > 0]
        best = [p for p in phases(r, "fanout") if p.get("target_deliveries_per_second", 0) == 0]
        row = {
            "scenario": scenario, "server": server, "ok": r.get("ok"),
            "connections": r.get("setup", {}).get("connections"),
            "instances": r.get("setup", {}).get("servers"),
            "connect_per_s": connect.get("connections_per_second"),
            "all_authenticated_s": connect.get("seconds_to_all_authenticated"),
            "rss_per_conn_b": connect.get("server_rss_bytes_per_connection"),
            "storm_s": storm.get("seconds_to_all_authenticated"),
        }
        if fixed:
            f = fixed[0]
            row.update({"rate": f.get("target_deliveries_per_second"), "rate_got": f.get("deliveries_per_second"),
                        "p50": f["latency_us"]["p50"], "p99": f["latency_us"]["p99"],
                        "p999": f["latency_us"]["p999"], "max": f["latency_us"]["max"],
                        "cpu_us": f.get("server_cpu_us_per_delivery")})
        if best:
            row.update({"max_rate": best[0].get("deliveries_per_second"),
                        "max_p99": best[0]["latency_us"]["p99"],
                        "max_cpu_us": best[0].get("server_cpu_us_per_delivery")})
        row["lost"] = sum(p.get("lost", 0) + p.get("duplicated", 0) + p.get("misdelivered", 0)
                          for p in phases(r, "fanout"))
        rows.append(row)
    return rows


def print_table(rows):
    head = ["scenario", "server", "conns", "inst", "conn/s", "auth s", "RSS B/conn", "fixed rate", "p50 us",
            "p99 us", "p99.9 us", "max us", "us/deliv", "max deliv/s", "p99@max", "storm s", "lost+dup", "ok"]
    table = [head]
    for r in rows:
        table.append([r["scenario"], r["server"], fmt(r["connections"]), fmt(r["instances"]), fmt(r["connect_per_s"]),
                      fmt(r["all_authenticated_s"], 2), fmt(r["rss_per_conn_b"]),
                      fmt(r.get("rate_got")), fmt(r.get("p50")), fmt(r.get("p99")), fmt(r.get("p999")),
                      fmt(r.get("max")), fmt(r.get("cpu_us"), 2), fmt(r.get("max_rate")), fmt(r.get("max_p99")),
                      fmt(r["storm_s"], 2), fmt(r["lost"]), "yes" if r["ok"] else "NO"])
    widths = [max(len(str(row[i])) for row in table) for i in range(len(head))]
    for row in table:
        print("  ".join(str(c).rjust(w) for c, w in zip(row, widths)))


def plot(runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(15, 10))
    colors = {"yunity": "tab:blue", "baseline": "tab:orange"}
    styles = ["-", "--", ":", "-."]

    # Latency: the share of deliveries slower than x, per fixed-rate fan-out phase (log-log shows the tail).
    ax = axes[0][0]
    scenarios = sorted({r["label"].rpartition("-")[0] for r in runs})
    for r in runs:
        scenario, _, server = r["label"].rpartition("-")
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
            series = p.get("throughput_series", [])
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
    rows = summary_rows(runs)
    with open(args.out, "w") as f:
        json.dump({"generated": datetime.datetime.now().isoformat(timespec="seconds"), "summary": rows,
                   "runs": runs}, f, indent=1)
        f.write("\n")
    print_table(rows)
    if args.plot and runs:
        plot(runs, args.plot)
        print(f"plot: {args.plot}")
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
