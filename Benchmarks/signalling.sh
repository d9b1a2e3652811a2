#!/usr/bin/env bash
# Signalling-only calls (INVITE, 200, ACK, BYE, 200; no media from the caller) with
# `hotline flood` as the generator, side by side in one run against: hotline (bench dialplan;
# it still opens an RTP socket per call), SIPp's built-in UAS (`sipp -sn uas`), and Kamailio
# answering statelessly (Benchmarks/kamailio-stateless-uas.cfg) — the C reference ceilings.
# Reports, per target: calls started/succeeded/failed, setup p50/p99, the generator's CPU and
# the target's CPU per call.
# Usage: Benchmarks/signalling.sh [SECONDS] [RATE]     (default 20 s at 1000 calls/s)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}; rate=${2:-1000}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; pkill -f "$work/kamailio.cfg" 2>/dev/null || true; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
cputotal() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/$p/stat 2>/dev/null || echo 0))); done; echo $t; }
printf "%-10s %-8s %-8s %-7s %-10s %-10s %-14s %-12s\n" target started ok failed "setup p50" "setup p99" "generator cpu" "target ms/call"
run_flood() { # name port pids...
  local name=$1 port=$2; shift 2
  local before; before=$(cputotal "$@")
  "$bin" flood --target 127.0.0.1:$port --rate "$rate" --duration "${seconds}s" --hangup caller --hold 0s --audio none \
    --prompts none --rtp-read batched --json --quiet --drain-timeout 10s > "$work/$name.json" 2> "$work/$name.err" || true
  local after; after=$(cputotal "$@")
  python3 - "$work/$name.json" "$name" "$((after - before))" "$hz" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); name, ticks, hz = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
c = r["calls"]; s = r.get("setup_ms", {})
ms = ticks * 1000 / hz / max(1, c["started"])
print(f'{name:<10} {c["started"]:<8} {c["succeeded"]:<8} {c["failed"]:<7} {s.get("p50", 0):<10.2f} {s.get("p99", 0):<10.2f} '
      f'{r["generator"]["cpu_percent_of_one_core"]:<14} {ms:<12.3f}')
PY
}
# hotline
port=$((19060 + RANDOM % 500))
"$bin" serve --sip 127.0.0.1:$port --http off --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" \
  --rtp-ports 20000-39999 --max-calls 10000 --log-level warning > "$work/out" 2> "$work/err" &
pids+=($!); hotline=$!
for _ in $(seq 50); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
run_flood hotline $port $hotline
kill $hotline; wait $hotline 2>/dev/null || true
# sipp -sn uas
port=$((19560 + RANDOM % 400))
sipp -sn uas -i 127.0.0.1 -p $port -nostdin -bg > /dev/null 2>&1 || true
sleep 0.5; sippid=$(pgrep -f "sipp -sn uas -i 127.0.0.1 -p $port" | head -1)
pids+=($sippid)
run_flood sipp-uas $port $sippid
kill $sippid 2>/dev/null || true
# kamailio, stateless
port=$((19960 + RANDOM % 40))
sed "s/KAMAILIO_PORT/$port/g" Benchmarks/kamailio-stateless-uas.cfg > "$work/kamailio.cfg"
kamailio -f "$work/kamailio.cfg" -L /usr/lib/x86_64-linux-gnu/kamailio/modules -P "$work/kamailio.pid" -m 64 -M 8 \
  -w "$work" > "$work/kamailio.log" 2>&1
sleep 1
kpids=$(pgrep -f "$work/kamailio.cfg" | tr '\n' ' ')
run_flood kamailio $port $kpids
