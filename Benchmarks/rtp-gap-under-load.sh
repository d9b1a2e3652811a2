#!/usr/bin/env bash
# Outbound RTP pacing and answer time while the server carries a load: SIPp places the IVR
# key-3 flow (ivr-key3-info) at RATE calls/s for SECONDS + 10 s, and a light probe — `hotline
# flood` at PROBE_RATE calls/s (default 5) of the same flow, reading its RTP sockets as packets
# arrive (`--rtp-read precise`) — measures, from the 5th second on, what a caller receives: the
# gap between consecutive RTP packets of a prompt, jitter, setup time (INVITE -> 200). The
# probe is light so the measurement is the server's pacing, not the probe's own CPU starvation
# (a flood at the full rate would saturate the cores itself). Also SIPp's failed calls and the
# server's CPU per call. And the spacing on the wire: dumpcap (from tshark) captures the RTP the
# server sends to a sample of SIPp's calls (those on server ports 20000-20799) on loopback,
# where the capture timestamp is taken in the send path, so neither receiver's scheduling
# plays a part (Benchmarks/lib/rtp-gaps.py).
# Usage: Benchmarks/rtp-gap-under-load.sh [SECONDS] RATE...   Environment: HOTLINE_BIN,
# SERVER_ARGS, PROBE_RATE. Loopback only; every step bounded (SIPp and the probe have timeouts).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-30}; shift || true
rates=("$@"); [ ${#rates[@]} -gt 0 ] || rates=(200 400)
probe=${PROBE_RATE:-5}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((18060 + RANDOM % 1000))
"$bin" serve --sip 127.0.0.1:$port --http off --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
  --rtp-ports 20000-31999 --max-calls 10000 --log-level warning ${SERVER_ARGS:-} > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
command -v dumpcap >/dev/null || { echo "needs dumpcap (apt-get install tshark)" >&2; exit 2; }
printf "%-6s %-10s %-12s %-12s %-13s %-13s %-12s %-14s %-s\n" rate "sipp fail" "probe calls" "probe fail" "rtp gap p99" "jitter p99" "setup p99" "server ms/call" "on the wire (gaps ms)"
for rate in "${rates[@]}"; do
  total=$((seconds + 10))
  before=$(cpu)
  mp=$((12000 + (RANDOM % 2000) * 4))
  dumpcap -q -i lo -P -B 64 -f "udp and dst port $mp and src portrange 20000-20799" -a duration:$((total + 5)) \
    -w "$work/wire-$rate.pcap" >/dev/null 2>&1 &
  capture=$!
  sleep 1
  (cd "$work" && timeout $((total + 30)) sipp 127.0.0.1:$port -sf "$root/Tests/IntegrationTests/Scenarios/ivr-key3-info.xml" \
    -s 12345 -i 127.0.0.1 -mi 127.0.0.1 -mp $mp -r "$rate" -m $((rate * total)) -l 20000 \
    -recv_timeout 15000 -timeout_error -max_retrans 3 -nostdin -trace_stat -stf "$work/stat-$rate.csv" -fd 5 \
    >/dev/null 2>&1) &
  sipp_pid=$!
  sleep 5
  "$bin" flood --target 127.0.0.1:$port --rate "$probe" --duration "${seconds}s" --keys 3 --dtmf info --audio none \
    --expect-prompts bench_menu,bench_key3 --language en --rtp-read precise --json --quiet --drain-timeout 30s \
    > "$work/probe-$rate.json" 2> "$work/probe-$rate.err" || true
  wait $sipp_pid || true
  after=$(cpu)
  wait $capture || true
  wire=$(python3 Benchmarks/lib/rtp-gaps.py "$work/wire-$rate.pcap" 5 2>/dev/null || echo "-")
  last=$(tail -n 1 "$work/stat-$rate.csv"); header=$(head -n 1 "$work/stat-$rate.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
  failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
  placed=$(echo "$last" | cut -d';' -f"$(col 'TotalCallCreated')")
  python3 - "$work/probe-$rate.json" "$rate" "$failed" "$((after - before))" "$hz" "$placed" "$wire" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate, failed, ticks, hz, placed = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
wire = sys.argv[7]
c = r["calls"]; s = r.get("setup_ms", {}); rtp = r.get("rtp", {})
g = rtp.get("gap_ms", {}); j = rtp.get("jitter_ms", {})
ms = ticks * 1000 / hz / max(1, placed + c["started"])
print(f'{rate:<6} {failed:<10} {c["started"]:<12} {c["failed"]:<12} {g.get("p99", 0):<13.2f} {j.get("p99", 0):<13.2f} {s.get("p99", 0):<12.2f} {ms:<14.3f} {wire}')
PY
done
