#!/usr/bin/env bash
# IVR key-3 throughput: SIPp places calls at a fixed rate exactly as the conformance scenario
# ivr-key3-info (menu, key 3 by SIP INFO after 1.5 s, ~1.5 s prompt, server BYE), against
# `hotline serve --dialplan Dialplans/bench.yaml` (release build). For each rate it reports
# calls placed, successful and failed (SIPp's counts), the server's CPU time per call (from
# /proc/PID/stat, user+system) and its share of one core, and the session request delay
# (RFC 6076 SRD: INVITE -> 200, SIPp's "setup" timer) average and SIPp's per-call p50/p99,
# beside the server's own share of it (its hotline_call_setup_seconds histogram: INVITE read
# to 200 written) and how late its 20 ms RTP tick ran (p99), both from /metrics.
#
# Usage: Benchmarks/ivr-key3.sh [SECONDS_PER_RATE] RATE...     e.g.  Benchmarks/ivr-key3.sh 30 50 100 200
# Default settings (the --max-calls the machine carries), except the RTP port range.
# Environment: HOTLINE_BIN (default .build/release/hotline), SERVER_ARGS (extra `serve` flags),
# SCENARIO (default ivr-key3-info; ivr-key3-info-or-503 counts 503s as clean refusals).
# Bounded: each step runs at most SECONDS + 30 s; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${1:-30}; shift || true
rates=("$@"); [ ${#rates[@]} -gt 0 ] || rates=(50 100 200)
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
scenario=${SCENARIO:-ivr-key3-info}
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 2; }
work=$(mktemp -d)
trap 'kill -INT $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((15060 + RANDOM % 1000)); http=$((17060 + RANDOM % 1000))
"$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
  --rtp-ports 20000-39999 --log-level warning ${SERVER_ARGS:-} > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
metrics() { curl -s --max-time 5 "127.0.0.1:$http/metrics" > "$1" || true; }
quantiles() { python3 Benchmarks/lib/histogram-quantiles.py "$work/m-before" "$work/m-after" "$@"; }
printf "%-6s %-8s %-8s %-8s %-12s %-10s %-9s %-8s %-8s %-15s %-13s\n" rate placed ok failed "cpu ms/call" "cpu %core" "SRD avg" "SRD p50" "SRD p99" "server p50/p99" "tick late p99"
for rate in "${rates[@]}"; do
  calls=$((rate * duration))
  metrics "$work/m-before"; before=$(cpu); t0=$(date +%s.%N)
  # -trace_rtt: every call's INVITE -> 200 time (whole ms) in $scenario_<pid>_rtt.csv, written to
  # the current directory, hence the subshell in $work.
  (cd "$work" && rm -f "${scenario}"_*_rtt.csv && timeout $((duration + 30)) sipp 127.0.0.1:$port -sf "$root/Tests/IntegrationTests/Scenarios/$scenario.xml" -s 12345 \
    -i 127.0.0.1 -mi 127.0.0.1 -mp $((12000 + (RANDOM % 2000) * 4)) -r "$rate" -m "$calls" -l 20000 \
    -recv_timeout 15000 -timeout_error -max_retrans 3 -nostdin -trace_stat -stf "$work/stat-$rate.csv" -fd 5 \
    -trace_rtt -rtt_freq 200 >/dev/null 2>&1) || true
  t1=$(date +%s.%N); after=$(cpu); metrics "$work/m-after"
  server_setup=$(quantiles hotline_call_setup_seconds 0.5 0.99 | tr ' ' /)
  tick_late=$(quantiles hotline_rtp_tick_lateness_seconds 0.99)
  last=$(tail -n 1 "$work/stat-$rate.csv")
  header=$(head -n 1 "$work/stat-$rate.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
  ok=$(echo "$last" | cut -d';' -f"$(col 'SuccessfulCall(C)')")
  failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
  placed=$(echo "$last" | cut -d';' -f"$(col 'TotalCallCreated')")
  # SIPp prints times as HH:MM:SS:microseconds
  srd=$(echo "$last" | cut -d';' -f"$(col 'ResponseTimesetup(C)')" | awk -F: '{ printf "%.1f", ($1*3600 + $2*60 + $3) * 1000 + $4 / 1000 }')
  # Percentiles of the setup times (nearest rank).
  read -r p50 p99 < <(cat "$work/${scenario}"_*_rtt.csv 2>/dev/null | awk -F';' '$3 == "setup" { print $2 }' | sort -n |
    awk '{ v[NR] = $1 } END { if (NR == 0) { print "- -"; exit } i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999); print v[i50], v[i99] }')
  ticks=$((after - before))
  awk -v t="$ticks" -v hz="$hz" -v n="$placed" -v r="$rate" -v ok="$ok" -v f="$failed" -v s="$srd" -v w0="$t0" -v w1="$t1" -v p50="$p50" -v p99="$p99" -v ss="$server_setup" -v tl="$tick_late" \
    'BEGIN { ms = t * 1000 / hz; printf "%-6s %-8s %-8s %-8s %-12.3f %-10.1f %-9s %-8s %-8s %-15s %-13s\n", r, n, ok, f, (n > 0 ? ms / n : 0), 100 * ms / 1000 / (w1 - w0), s, p50, p99, ss, tl }'
done
