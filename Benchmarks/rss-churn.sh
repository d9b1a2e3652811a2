#!/usr/bin/env bash
# Memory under churn (issue 17): does the server's RSS follow the calls in progress, or the call
# rate? SIPp places the key-3 flow (conformance scenario ivr-key3-info: ~3.5 s per call) at RATE
# calls/s for SECONDS against `hotline serve --dialplan Dialplans/bench.yaml`; every second the
# script samples the server's VmRSS (/proc) and, from /metrics, the calls up
# (hotline_active_calls) and SIP server+client transactions (hotline_sip_transactions: they
# linger 32 s after a call on UDP, Timers J and L). It reports the idle RSS, the RSS at the end
# of the run (RSS is a high-water mark: glibc rarely gives memory back), the median calls up in
# the second half, and (end - idle) / calls up: the figure the issue bounds at 32 KB.
# Several binaries in HOTLINE_BIN ("A B") run one after another, ROUNDS times, interleaved.
#
# Usage: Benchmarks/rss-churn.sh [SECONDS] [RATE] [ROUNDS]     default 60 400 1
# Bounded: each run lasts at most SECONDS + 40 s; loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${1:-60}; rate=${2:-400}; rounds=${3:-1}
bins=(${HOTLINE_BIN:-.build/release/hotline})
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 2; }
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill -INT $server 2>/dev/null; rm -rf "$work"' EXIT
metric() { awk -v n="$1" '$1 == n { s += $2 } END { print s + 0 }' "$2"; }
rss_kb() { awk '/^VmRSS/ { print $2 }' /proc/$server/status; }
printf "%-40s %-6s %-8s %-9s %-9s %-8s %-10s %-12s %-10s\n" binary rate failed "idle MB" "end MB" "calls up" "SIP tx" "KB/call up" "MB/min 2nd half"
for round in $(seq "$rounds"); do
  for bin in "${bins[@]}"; do
    port=$((15060 + RANDOM % 1000)); http=$((17060 + RANDOM % 1000))
    rm -f "$work"/t.sqlite*
    "$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
      --rtp-ports 20000-39999 --max-calls 5000 --log-level warning > "$work/server.out" 2> "$work/server.err" &
    server=$!
    for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
    idle=$(rss_kb)
    (cd "$work" && timeout $((duration + 40)) sipp 127.0.0.1:$port -sf "$root/Tests/IntegrationTests/Scenarios/ivr-key3-info.xml" -s 12345 \
      -i 127.0.0.1 -mi 127.0.0.1 -mp $((12000 + (RANDOM % 2000) * 4)) -r "$rate" -m $((rate * duration)) -l 20000 \
      -recv_timeout 15000 -timeout_error -max_retrans 3 -nostdin -trace_stat -stf "$work/stat.csv" -fd 5 >/dev/null 2>&1) &
    sipp=$!
    : > "$work/samples"
    for s in $(seq "$duration"); do
      sleep 1
      curl -s --max-time 2 "127.0.0.1:$http/metrics" > "$work/m" || true
      echo "$s $(rss_kb) $(metric hotline_active_calls "$work/m") $(metric hotline_sip_transactions "$work/m")" >> "$work/samples"
    done
    wait $sipp || true
    last=$(tail -n 1 "$work/stat.csv"); header=$(head -n 1 "$work/stat.csv")
    col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
    failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
    kill -INT $server; wait $server 2>/dev/null || true; server=
    awk -v bin="$bin" -v rate="$rate" -v failed="$failed" -v idle="$idle" -v d="$duration" '
      { t[NR] = $1; r[NR] = $2; c[NR] = $3; x[NR] = $4 }
      END {
        h = int(d / 2); n = 0
        for (i = h + 1; i <= NR; i++) { cs[++n] = c[i]; xs[n] = x[i] }
        asort(cs); asort(xs); cu = cs[int((n + 1) / 2)]; tx = xs[int((n + 1) / 2)]
        endmb = r[NR] / 1024; slope = (r[NR] - r[h + 1]) / 1024 / ((t[NR] - t[h + 1]) / 60)
        printf "%-40s %-6s %-8s %-9.1f %-9.1f %-8d %-10d %-12.1f %-10.1f\n", bin, rate, failed, idle / 1024, endmb, cu, tx, (r[NR] - idle) / (cu > 0 ? cu : 1), slope
      }' "$work/samples"
  done
done
