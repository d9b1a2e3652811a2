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
metric() { awk -v n="$1" '$1 == n || index($1, n "{") == 1 { s += $2 } END { print s + 0 }' "$2"; }
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
      if ! kill -0 $server 2>/dev/null; then
        cp "$work/server.err" "${CRASH_LOG:-/tmp/rss-churn-crash.log}"
        echo "$bin exited during the run (log: ${CRASH_LOG:-/tmp/rss-churn-crash.log})" >&2; kill $sipp 2>/dev/null; server=; exit 1
      fi
      curl -s --max-time 2 "127.0.0.1:$http/metrics" > "$work/m" || true
      echo "$s $(rss_kb) $(metric hotline_active_calls "$work/m") $(metric hotline_sip_transactions "$work/m")" >> "$work/samples"
    done
    wait $sipp || true
    last=$(tail -n 1 "$work/stat.csv"); header=$(head -n 1 "$work/stat.csv")
    col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
    failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
    kill -INT $server; wait $server 2>/dev/null || true; server=
    python3 - "$work/samples" "$bin" "$rate" "$failed" "$idle" "$duration" <<'PY'
import statistics, sys
path, binary, rate, failed, idle, duration = sys.argv[1:]
rows = [tuple(float(x) for x in line.split()) for line in open(path) if line.strip()]
half = [r for r in rows if r[0] > int(duration) // 2]
up = statistics.median(r[2] for r in half)
tx = statistics.median(r[3] for r in half)
idle, end = float(idle), rows[-1][1]
slope = (end - half[0][1]) / 1024 / ((rows[-1][0] - half[0][0]) / 60)
print(f"{binary:<40} {rate:<6} {failed:<8} {idle / 1024:<9.1f} {end / 1024:<9.1f} {up:<8.0f} {tx:<10.0f} {(end - idle) / max(up, 1):<12.1f} {slope:<10.1f}")
PY
  done
done
