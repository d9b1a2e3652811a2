#!/usr/bin/env python3
"""Quantiles of a Prometheus histogram between two /metrics snapshots.

Usage: histogram-quantiles.py BEFORE AFTER METRIC [Q ...]    (Q default 0.5 0.99)
Prints each quantile in milliseconds as the upper bound of the bucket holding it (nearest
rank), so figures are upper estimates as coarse as the server's buckets; '-' when empty.
"""
import re
import sys


def buckets(path, metric):
    out = {}
    pattern = re.compile(r'^' + re.escape(metric) + r'_bucket\{le="([^"]+)"\} (\d+)')
    try:
        for line in open(path):
            m = pattern.match(line)
            if m:
                out[m.group(1)] = int(m.group(2))
    except FileNotFoundError:
        pass
    return out


before, after, metric = sys.argv[1:4]
qs = [float(q) for q in sys.argv[4:]] or [0.5, 0.99]
b, a = buckets(before, metric), buckets(after, metric)
bounds = sorted((k for k in a if k != "+Inf"), key=float) + ["+Inf"]
cumulative = [(k, a.get(k, 0) - b.get(k, 0)) for k in bounds if k in a]
total = cumulative[-1][1] if cumulative else 0
values = []
for q in qs:
    if total == 0:
        values.append("-")
        continue
    rank = max(1, -(-int(total * q * 1000) // 1000))
    hit = next((k for k, n in cumulative if n >= rank), "+Inf")
    values.append(">5000" if hit == "+Inf" else f"{float(hit) * 1000:g}")
print(" ".join(values))
