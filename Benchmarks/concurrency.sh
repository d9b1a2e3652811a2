#!/usr/bin/env bash
# Held IVR calls with RTP flowing: SIPp places CALLS calls at RATE calls/s that never press a
# key (the bench menu repeats for ~30 s, then goodbye and the server's BYE), so at the peak
# every call is up and receiving prompt audio. Reports the peak of concurrent calls the server
# counted, its RSS at idle and at the peak, RSS per call above idle, RTP packets/s at the peak,
# and how many calls failed.
# Usage: Benchmarks/concurrency.sh [CALLS] [RATE]      (default 2000 calls at 200/s)
# Environment: HOTLINE_BIN (default .build/release/hotline). Loopback only; bounded (≤ 120 s).
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-2000}; rate=${2:-200}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((16060 + RANDOM % 1000)); http=$((18060 + RANDOM % 1000))
"$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
  --rtp-ports 20000-39999 --max-calls 10000 --log-level warning > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print $2}' /proc/$server/status; }
# Integer part: gauges print as floats ("3.0"), which bash arithmetic refuses.
metric() { curl -s "127.0.0.1:$http/metrics" | awk -v m="$1" '$1 == m {printf "%d\n", $2}'; }
idle=$(rss)
timeout 120 sipp 127.0.0.1:$port -sf Tests/IntegrationTests/Scenarios/no-input.xml -s 12345 -i 127.0.0.1 -mi 127.0.0.1 \
  -mp $((40000 + RANDOM % 10000)) -r "$rate" -m "$calls" -l 20000 -recv_timeout 60000 -timeout_error -max_retrans 3 \
  -nostdin -trace_stat -stf "$work/stat.csv" -fd 2 > /dev/null 2>&1 &
sipp=$!
peak=0 peak_rss=$idle pps=0
ramp=$(( calls / rate + 3 ))
for _ in $(seq $((ramp * 2))); do
  sleep 0.5
  active=$(metric hotline_active_calls); active=${active:-0}
  if [ "$active" -gt "$peak" ]; then
    peak=$active; peak_rss=$(rss)
    before=$(metric 'hotline_rtp_packets_total{direction="out"}'); sleep 1; after=$(metric 'hotline_rtp_packets_total{direction="out"}')
    pps=$(( ${after%.*} - ${before%.*} ))
  fi
done
wait $sipp || true
last=$(tail -n 1 "$work/stat.csv"); header=$(head -n 1 "$work/stat.csv")
col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
ok=$(echo "$last" | cut -d';' -f"$(col 'SuccessfulCall(C)')")
echo "calls placed $calls at $rate/s: successful $ok, failed $failed"
echo "peak concurrent calls: $peak"
echo "RSS idle: $((idle / 1024)) MiB, at peak: $((peak_rss / 1024)) MiB, per call above idle: $(( (peak_rss - idle) / (peak > 0 ? peak : 1) )) KiB"
echo "RTP packets/s sent at peak: $pps"
