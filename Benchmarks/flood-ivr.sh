#!/usr/bin/env bash
# IVR key-3 throughput with `hotline flood` as the generator: each call hears the bench menu,
# presses 3 by SIP INFO after 1.5 s, hears the key-3 prompt and the server hangs up — with the
# prompts identified from the received audio. For each rate: calls started/succeeded/failed,
# setup time (INVITE→200) p50/p99, outbound RTP gap p99 as received, the generator's CPU and the
# server's CPU per call (user+system from /proc).
# Usage: Benchmarks/flood-ivr.sh [SECONDS] RATE...     Environment: HOTLINE_BIN, SERVER_ARGS.
# Loopback only; every step bounded by the flood's own drain timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}; shift || true
rates=("$@"); [ ${#rates[@]} -gt 0 ] || rates=(100 200 300)
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((17060 + RANDOM % 1000))
"$bin" serve --sip 127.0.0.1:$port --http off --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
  --rtp-ports 20000-39999 --max-calls 10000 --log-level warning ${SERVER_ARGS:-} > "$work/out" 2> "$work/err" &
server=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
printf "%-6s %-8s %-8s %-7s %-10s %-10s %-11s %-13s %-12s\n" rate started ok failed "setup p50" "setup p99" "rtp gap p99" "generator cpu" "server ms/call"
for rate in "${rates[@]}"; do
  before=$(cpu)
  "$bin" flood --target 127.0.0.1:$port --rate "$rate" --duration "${seconds}s" --keys 3 --dtmf info --audio none \
    --expect-prompts bench_menu,bench_key3 --language en --rtp-read batched --json --quiet --drain-timeout 30s \
    > "$work/flood-$rate.json" 2> "$work/flood-$rate.err" || true
  after=$(cpu)
  python3 - "$work/flood-$rate.json" "$rate" "$((after - before))" "$hz" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rate, ticks, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = r["calls"]; s = r.get("setup_ms", {}); g = r.get("rtp", {}).get("gap_ms", {})
ms = ticks * 1000 / hz / max(1, c["started"])
print(f'{rate:<6} {c["started"]:<8} {c["succeeded"]:<8} {c["failed"]:<7} {s.get("p50", 0):<10.2f} {s.get("p99", 0):<10.2f} '
      f'{g.get("p99", 0):<11.2f} {r["generator"]["cpu_percent_of_one_core"]:<13} {ms:<12.3f}')
PY
done
