#!/usr/bin/env python3
"""Benchmarks/soak.sh: plots one or more soak runs (overlaid, one colour per run) to a PNG.

Usage: plot.py OUT.png RUN_DIR [RUN_DIR ...]
Each RUN_DIR is a soak's OUT directory (samples.csv, summary.txt); the legend names each run by
the build label on the first line of its summary.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

target, runs = sys.argv[1], sys.argv[2:]
panels = [("rss_kb", "RSS (MiB)", 1 / 1024), ("timers_stored", "timers held in heaps", 1),
          ("timers_pending", "timers pending (live)", 1), ("fds", "open descriptors", 1),
          ("setup_p99_ms", "server setup p99 per 10 s (ms)", 1), ("calls_up", "calls in progress", 1),
          ("cpu_pct", "server CPU (% of a core)", 1), ("agent_legs_up", "agent legs up", 1)]
fig, axes = plt.subplots(2, 4, figsize=(18, 7.5))
for index, run in enumerate(runs):
    rows = list(csv.DictReader(open(f"{run}/samples.csv")))
    try:
        name = open(f"{run}/summary.txt").readline().split(":")[0].replace("soak of build ", "")
    except FileNotFoundError:
        name = run
    for ax, (column, title, scale) in zip(axes.flat, panels):
        pts = [(float(r["t_s"]) / 60, float(r[column]) * scale) for r in rows if r.get(column) not in (None, "", "-")]
        if pts:
            ax.plot([t for t, _ in pts], [v for _, v in pts], label=name, linewidth=1, color=f"C{index}")  # one colour per run in every panel
# Axes are set once every run is drawn: setting a limit earlier stops autoscaling for the rest.
for ax, (_, title, _) in zip(axes.flat, panels):
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("minutes")
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
axes.flat[0].legend(fontsize=8)
fig.suptitle("Benchmarks/soak.sh: " + " vs ".join(runs if len(runs) < 3 else [f"{len(runs)} runs"]), fontsize=10)
fig.tight_layout()
fig.savefig(target, dpi=80)
print(f"plot: {target}")
