#!/usr/bin/env bash
# Outbound calls/s beside inbound, one server, one run: the same 3 s notice (Benchmarks/lib/
# outbound-bench.yaml) placed by the server through a trunk where SIPp answers as the citizens'
# phones (campaign API: one campaign, RATE*SECONDS numbers, paced at RATE), then received from
# SIPp calling 12345 at the same RATE for SECONDS. For each rate and direction: calls, answered,
# failed, the achieved rate (outbound: attempts' first to last start, from the store), and the
# server's CPU per call (/proc/PID/stat). Pass = 0 failed.
#
# Usage: Benchmarks/outbound-calls.sh [SECONDS] RATE...      e.g.  Benchmarks/outbound-calls.sh 30 100 200 400
# Environment: HOTLINE_BIN (default .build/release/hotline). Bounded: each phase at most
# SECONDS + 60 s; loopback only. Run under `flock /tmp/bench.lock` beside other benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${1:-30}; shift || true
rates=("$@"); [ ${#rates[@]} -gt 0 ] || rates=(100 200)
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release --product hotline >/dev/null
command -v sipp >/dev/null || { echo "needs sipp (apt-get install sip-tester)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "needs sqlite3" >&2; exit 2; }
work=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill -INT $server 2>/dev/null; rm -rf "$work"' EXIT
hz=$(getconf CLK_TCK)
scenarios=$root/Tests/IntegrationTests/Scenarios
printf "%-9s %-5s %-7s %-8s %-7s %-12s %-12s\n" direction rate calls answered failed "calls/s" "cpu ms/call"
for rate in "${rates[@]}"; do
  calls=$((rate * duration))
  port=$((15060 + RANDOM % 1000)); http=$((17060 + RANDOM % 1000)); trunk=$((19060 + RANDOM % 1000))
  printf 'trunks:\n  - {name: carrier, uri: "sip:127.0.0.1:%s", caller_id: "12345", calls_per_second: %s, max_concurrent: 20000}\n' \
    "$trunk" "$rate" > "$work/trunks.yaml"
  rm -f "$work/t.sqlite"*
  "$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan Benchmarks/lib/outbound-bench.yaml --db "$work/t.sqlite" \
    --rtp-ports 20000-39999 --trunks "$work/trunks.yaml" --outbound-pace "$rate" --outbound-max 20000 --return-visits off \
    --log-level warning > "$work/server.out" 2> "$work/server.err" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
  cpu() { awk '{print $14 + $15}' /proc/$server/stat; }

  # Outbound: SIPp answers (agent-answer: 180, 200, ACK, the server's BYE).
  timeout $((duration + 60)) sipp -sf "$scenarios/agent-answer.xml" -p "$trunk" -i 127.0.0.1 -mi 127.0.0.1 \
    -mp $((12000 + (RANDOM % 1000) * 4)) -m "$calls" -l 20000 -nostdin -recv_timeout 20000 -timeout_error \
    -trace_stat -stf "$work/out-$rate.csv" -fd 5 > /dev/null 2>&1 &
  uas=$!
  curl -s --max-time 5 -X POST "127.0.0.1:$http/api/campaigns" -d "{\"id\":\"bench\",\"flow\":\"notice\",\"calls_per_second\":$rate,\"max_attempts\":1}" > /dev/null
  before=$(cpu)
  python3 - "$http" "$calls" <<'PY'
import json, sys, urllib.request
http, calls = sys.argv[1], int(sys.argv[2])
for start in range(0, calls, 10000):
    numbers = [{"number": "139%08d" % i} for i in range(start, min(calls, start + 10000))]
    urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{http}/api/campaigns/bench/jobs",
                           data=json.dumps({"jobs": numbers}).encode(), method="POST"), timeout=30).read()
PY
  deadline=$((SECONDS + duration + 60))
  while [ $SECONDS -lt $deadline ]; do
    done_count=$(curl -s --max-time 5 "127.0.0.1:$http/api/campaigns/bench" | python3 -c 'import json,sys; p=json.load(sys.stdin)["progress"]["by_state"]; print(p["completed"]+p["failed"])' 2>/dev/null || echo 0)
    [ "$done_count" -ge "$calls" ] && break
    sleep 1
  done
  after=$(cpu)
  wait $uas 2>/dev/null || true
  read -r answered failed first last < <(sqlite3 -separator ' ' "$work/t.sqlite" \
    "SELECT sum(outcome = 'answered'), sum(outcome <> 'answered'), min(started_at), max(started_at) FROM outbound_attempts")
  failed=$((failed + calls - answered - failed))
  achieved=$(python3 -c "from datetime import datetime as d; f=lambda s: d.strptime(s, '%Y-%m-%dT%H:%M:%S.%fZ'); a, b = f('$first'), f('$last'); print('%.1f' % (($answered - 1) / max(0.001, (b - a).total_seconds())))")
  awk -v t=$((after - before)) -v hz="$hz" -v n="$calls" -v r="$rate" -v ok="$answered" -v f="$failed" -v a="$achieved" \
    'BEGIN { printf "%-9s %-5s %-7s %-8s %-7s %-12s %-12.3f\n", "outbound", r, n, ok, f, a, t * 1000 / hz / n }'

  # Inbound: SIPp calls 12345 and waits for the server's BYE (caller-overflow), same rate.
  before=$(cpu); t0=$(date +%s.%N)
  timeout $((duration + 60)) sipp 127.0.0.1:$port -sf "$scenarios/caller-overflow.xml" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 \
    -mp $((16000 + (RANDOM % 1000) * 4)) -r "$rate" -m "$calls" -l 20000 -recv_timeout 20000 -timeout_error -max_retrans 3 \
    -nostdin -trace_stat -stf "$work/in-$rate.csv" -fd 5 > /dev/null 2>&1 || true
  t1=$(date +%s.%N); after=$(cpu)
  last=$(tail -n 1 "$work/in-$rate.csv"); header=$(head -n 1 "$work/in-$rate.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
  ok=$(echo "$last" | cut -d';' -f"$(col 'SuccessfulCall(C)')"); bad=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
  awk -v t=$((after - before)) -v hz="$hz" -v n="$calls" -v r="$rate" -v ok="$ok" -v f="$bad" -v w0="$t0" -v w1="$t1" -v d="$duration" \
    'BEGIN { printf "%-9s %-5s %-7s %-8s %-7s %-12.1f %-12.3f\n", "inbound", r, n, ok, f, ok / (w1 - w0 - 3.2 > 0 ? w1 - w0 - 3.2 : 1), t * 1000 / hz / n }'
  kill -INT $server; wait $server 2>/dev/null || true; server=
done
