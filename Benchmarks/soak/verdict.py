#!/usr/bin/env python3
"""Benchmarks/soak.sh: the verdict of one soak run, from the files it left in OUT.

Usage: verdict.py OUT MINUTES RATE LABEL
Reads OUT/samples.csv (one row per sample), OUT/ivr.csv and OUT/queue.csv (SIPp's -trace_stat
files of the key-3 and the queue callers) and OUT/ivr-rtt.csv (SIPp's -trace_rtt: every key-3
call's INVITE -> 200 time); prints the verdict and writes it to OUT/summary.txt. Exit 0 when
every check passes, 1 otherwise.
"""
import csv
import statistics
import sys

out, minutes, rate, label = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
warm = 5.0 if minutes >= 15 else minutes / 3       # minutes of warm-up before the growth mark
window = 5.0 if minutes >= 30 else minutes / 6     # minutes compared for setup p99

rows = list(csv.DictReader(open(f"{out}/samples.csv")))


def series(name):
    return [(float(r["t_s"]) / 60, float(r[name])) for r in rows if r.get(name) not in (None, "", "-")]


def mean_between(points, lo, hi):
    vals = [v for t, v in points if lo <= t < hi]
    return statistics.mean(vals) if vals else None


lines = [f"soak of build {label}: {minutes:g} min at {rate} calls/s; growth from minute {warm:g} to the end, "
         f"setup p99 of the first {window:g} min against the last {window:g} min"]
ok = True


def check(name, passed, text):
    global ok
    ok = ok and passed
    lines.append(f"{'PASS' if passed else 'FAIL'}  {name:<24} {text}")


for name, column, unit in [("RSS", "rss_kb", "KiB"), ("timers pending", "timers_pending", ""),
                           ("timers stored", "timers_stored", ""), ("open descriptors", "fds", "")]:
    points = series(column)
    if not points:
        lines.append(f"n/a   {name:<24} not exported by this build")
        continue
    start = mean_between(points, warm, warm + 1)
    end = mean_between(points, minutes - 1, minutes + 1)
    if start is None or end is None:
        check(name, False, "too few samples")
        continue
    growth = (end - start) / start * 100 if start else (0.0 if end == 0 else float("inf"))
    check(name, growth < 5, f"{start:,.0f} -> {end:,.0f} {unit} ({growth:+.1f} %)")


def p99(values):
    values = sorted(values)
    return values[max(0, -(-len(values) * 99 // 100) - 1)] if values else None


rtt = []
try:
    for line in open(f"{out}/ivr-rtt.csv"):
        parts = line.strip().split(";")
        if len(parts) >= 3 and parts[2] == "setup":
            try:
                rtt.append((float(parts[0]), float(parts[1])))
            except ValueError:
                pass
except FileNotFoundError:
    pass
if rtt:
    t0 = min(t for t, _ in rtt)  # ms: the first call's 200
    first = p99([v for t, v in rtt if (t - t0) / 60000 < window])
    last = p99([v for t, v in rtt if (t - t0) / 60000 >= minutes - window])
    if first is None or last is None:
        check("setup p99", False, "no calls in one of the windows")
    else:
        # SIPp counts whole milliseconds: a 1 ms floor keeps 0 ms from making any change "infinite".
        check("setup p99", last <= 1.5 * max(first, 1), f"first {window:g} min {first:g} ms, last {window:g} min {last:g} ms")
else:
    check("setup p99", False, "no SIPp setup times (ivr-rtt.csv)")


def sipp_counts(path):
    with open(path) as f:
        reader = list(csv.reader(f, delimiter=";"))
    header, last = reader[0], reader[-1]
    col = {name: i for i, name in enumerate(header)}
    get = lambda name: int(last[col[name]])
    return get("TotalCallCreated"), get("SuccessfulCall(C)"), get("FailedCall(C)")


for name, path in [("key-3 calls", f"{out}/ivr.csv"), ("queue calls", f"{out}/queue.csv")]:
    try:
        placed, good, failed = sipp_counts(path)
        check(name, failed == 0 and good == placed and placed > 0, f"{placed:,} placed, {good:,} completed, {failed:,} failed")
    except (FileNotFoundError, IndexError, KeyError, ValueError) as e:
        check(name, False, f"no SIPp statistics ({e})")

legs = series("agent_legs_up")
if legs:
    lines.append(f"info  {'agent legs up':<24} max {max(v for _, v in legs):.0f}, mean {statistics.mean(v for _, v in legs):.1f}")
cpu = series("cpu_pct")
if cpu:
    lines.append(f"info  {'server CPU':<24} median {statistics.median(v for _, v in cpu):.0f} % of one core")
lines.append("verdict: " + ("PASS" if ok else "FAIL"))
text = "\n".join(lines)
print(text)
open(f"{out}/summary.txt", "w").write(text + "\n")
sys.exit(0 if ok else 1)
