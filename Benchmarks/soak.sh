#!/usr/bin/env bash
# Soak: does the server stay flat when it runs for a long time at a steady rate? A 12345 line
# runs for months without a restart, so memory, timers and descriptors must follow the calls in
# progress, never the calls served so far.
#
# One `hotline serve` (release build) on Benchmarks/soak/soak.yaml carries, for MINUTES:
#   - the bench contract's key-3 flow (12345) at RATE calls/s, placed by SIPp exactly as the
#     conformance scenario ivr-key3-info does (menu, key 3 by SIP INFO, prompt, server BYE);
#   - the contact centre: AGENTS agents (sip_username 3001..., password pw-<user>) registered
#     with digest from one UDP port (Expires 3600) and logged in through the admin API; one SIPp
#     UAS there is their phones (Benchmarks/soak/agent-phone.xml: answers the server's OPTIONS
#     keep-alives and its agent legs, echoes the RTP); queue callers dial 12400 (the operator
#     queue) at QUEUE_RATE calls/s and talk TALK_SECONDS (PCMA speech), so some wait in the queue
#     with music and every one is bridged to an agent.
# Every SAMPLE seconds (10) it records: RSS and open descriptors of the server (from /proc),
# threads, CPU, and from /metrics: calls up, timers pending and stored (if the build exports
# them), ticket writes pending, the server's call-setup p50/p99 over the last interval
# (hotline_call_setup_seconds), and agent legs up. At the end it prints a verdict:
#   - RSS, pending timers and descriptors grow < 5 % from the warm-up mark (minute 5, or a
#     third of a run shorter than 15 min) to the end (each the mean of one minute's samples);
#   - setup p99 (SIPp's INVITE -> 200 of every key-3 call) in the last WINDOW minutes within
#     1.5x the first WINDOW minutes (WINDOW = 5, or a sixth of a run shorter than 30 min);
#   - zero failed calls (both SIPp callers, SIPp's own counts).
# and writes samples.csv, summary.txt and soak.png (a plot of every series) into OUT.
#
# Usage: Benchmarks/soak.sh MINUTES RATE                 e.g.  Benchmarks/soak.sh 30 400
# Environment: HOTLINE_BIN (default .build/release/hotline), OUT (default var/soak-<date>),
# AGENTS (10), QUEUE_RATE (1), TALK_SECONDS (8), SAMPLE (10), SERVER_ARGS (extra serve flags),
# LABEL (a name for this build in the plot and summary).
# Needs sipp (sip-tester, with /usr/share/sip-tester/g711a.pcap), python3 with matplotlib (for
# the plot: pip install matplotlib), curl, md5sum, sha256sum; play_pcap_audio needs root or
# CAP_NET_RAW. Loopback only. Bounded: every SIPp run has a timeout of MINUTES + 3 min, every
# poll a count. Exit status 0 when the verdict passes, 1 when it fails, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[ $# -ge 2 ] || { echo "usage: $0 MINUTES RATE" >&2; exit 2; }
minutes=$1; rate=$2
agents=${AGENTS:-10}; queue_rate=${QUEUE_RATE:-1}; talk=${TALK_SECONDS:-8}; sample=${SAMPLE:-10}
bin=${HOTLINE_BIN:-.build/release/hotline}
label=${LABEL:-$(git rev-parse --short HEAD 2>/dev/null || echo build)}
out=${OUT:-var/soak-$(date +%Y%m%d-%H%M%S)}
[ -x "$bin" ] || swift build -c release >/dev/null
for tool in sipp python3 curl md5sum sha256sum; do
  command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
python3 -c 'import matplotlib' 2>/dev/null || { echo "needs matplotlib for the plot: pip install matplotlib" >&2; exit 2; }
mkdir -p "$out"; out=$(cd "$out" && pwd)
seconds=$((minutes * 60))
here=Benchmarks/soak

work=$(mktemp -d)
server=""; pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [ -n "$server" ]; then
    kill -INT "$server" 2>/dev/null || true # SIGINT: hang up and exit now (SIGTERM drains)
    for _ in $(seq 100); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }

# Agents (as Benchmarks/bridge.sh makes them) and their registration for the whole run.
Benchmarks/lib/agents-yaml.sh "$agents" home > "$work/agents.yaml"
sed 's/Expires: 600/Expires: 3600/' Benchmarks/bridge/agent-register.xml > "$work/agent-register.xml"
[ "$minutes" -le 55 ] || echo "note: registrations last 3600 s (the registrar's maximum); agents expire after 60 min" >&2
python3 Benchmarks/bridge/pcap20.py "$work/talk.pcap" $((talk + 1))
sed "s|play_pcap_audio=\"BENCH_PCAP\"|play_pcap_audio=\"$work/talk.pcap\"|" Benchmarks/bridge/caller.xml > "$work/caller.xml"

port=$((15060 + RANDOM % 2000)); http=$((18060 + RANDOM % 2000))
agent_port=$((21060 + RANDOM % 2000))
"$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan $here/soak.yaml \
  --agents "$work/agents.yaml" --queues Tests/IntegrationTests/Dialplans/acd/queues.yaml \
  --db "$work/t.sqlite" --prompts Prompts --rtp-ports 20000-39999 --max-calls 5000 --log-level warning \
  ${SERVER_ARGS:-} > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q listening "$work/server.out" || fail "server did not start: $(tail -n 5 "$work/server.err")"

for i in $(seq "$agents"); do
  timeout 10 sipp 127.0.0.1:$port -sf "$work/agent-register.xml" -s $((3000 + i)) -au $((3000 + i)) -ap "pw-$((3000 + i))" \
    -i 127.0.0.1 -p $agent_port -m 1 -recv_timeout 5000 -timeout_error -max_retrans 3 -nostdin > /dev/null 2>&1 \
    || fail "agent $((3000 + i)) did not register"
done
limit=$((seconds + 180))
(cd "$work" && exec timeout $limit sipp 127.0.0.1:$port -sf "$root/$here/agent-phone.xml" -i 127.0.0.1 -p $agent_port \
  -mi 127.0.0.1 -mp 44000 -rtp_echo -nostdin -trace_stat -stf "$work/agents.csv" -fd 5 > /dev/null 2>&1) &
pids+=("$!")
for i in $(seq "$agents"); do
  status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -XPOST "127.0.0.1:$http/api/agents/a$((3000 + i))/login")
  [ "$status" = 200 ] || fail "login of a$((3000 + i)) answered $status"
done

hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
# IVR callers: -trace_rtt writes every call's INVITE -> 200 time (ms) with its wall-clock date.
(cd "$work" && exec timeout $limit sipp 127.0.0.1:$port -sf "$root/Tests/IntegrationTests/Scenarios/ivr-key3-info.xml" -s 12345 \
  -i 127.0.0.1 -mi 127.0.0.1 -mp 12000 -r "$rate" -m $((rate * seconds)) -l 20000 \
  -recv_timeout 15000 -timeout_error -max_retrans 3 -nostdin -trace_stat -stf "$work/ivr.csv" -fd 5 \
  -trace_rtt -rtt_freq 1 > /dev/null 2>&1) &
ivr=$!; pids+=("$ivr")
queue_calls=$(awk -v r="$queue_rate" -v s="$seconds" -v t="$talk" 'BEGIN { printf "%d", r * (s - t - 5) }')
(cd "$work" && exec timeout $limit sipp 127.0.0.1:$port -sf "$work/caller.xml" -s 12400 -i 127.0.0.1 -mi 127.0.0.1 -mp 36000 \
  -d $((talk * 1000)) -r "$queue_rate" -m "$queue_calls" -l 200 -recv_timeout $(((talk + 60) * 1000)) -timeout_error \
  -max_retrans 3 -nostdin -trace_stat -stf "$work/queue.csv" -fd 5 > /dev/null 2>&1) &
queue=$!; pids+=("$queue")

echo "soak: $minutes min at $rate calls/s (+ $queue_rate queue calls/s, $agents agents), build $label, server pid $server; results in $out" >&2
metric() { awk -v m="$1" '$1 == m { print $2; found = 1 } END { if (!found) print "" }' "$2"; }
echo "t_s,rss_kb,fds,threads,cpu_pct,calls_up,timers_pending,timers_stored,ticket_writes_pending,agent_legs_up,setup_p50_ms,setup_p99_ms" > "$out/samples.csv"
curl -s --max-time 5 "127.0.0.1:$http/metrics" > "$work/m-prev" || true
start=$(date +%s.%N); prev_cpu=$(cpu); prev_t=$start
for n in $(seq 1 $((seconds / sample))); do
  # Absolute deadlines, so the samples do not drift by the time a sample takes.
  target=$(awk -v s="$start" -v n="$n" -v p="$sample" 'BEGIN { printf "%.3f", s + n * p }')
  now=$(date +%s.%N)
  wait_s=$(awk -v a="$target" -v b="$now" 'BEGIN { d = a - b; printf "%.3f", (d > 0 ? d : 0) }')
  sleep "$wait_s"
  kill -0 "$server" 2>/dev/null || fail "the server died at sample $n: $(tail -n 5 "$work/server.err")"
  t=$(date +%s.%N); c=$(cpu)
  curl -s --max-time 5 "127.0.0.1:$http/metrics" > "$work/m-now" || true
  rss=$(awk '/^VmRSS:/ { print $2 }' /proc/$server/status)
  threads=$(awk '/^Threads:/ { print $2 }' /proc/$server/status)
  fds=$(ls /proc/$server/fd | wc -l)
  cpu_pct=$(awk -v c="$((c - prev_cpu))" -v hz="$hz" -v a="$t" -v b="$prev_t" 'BEGIN { printf "%.1f", 100 * c / hz / (a - b) }')
  read -r p50 p99 < <(python3 Benchmarks/lib/histogram-quantiles.py "$work/m-prev" "$work/m-now" hotline_call_setup_seconds 0.5 0.99 2>/dev/null || echo "- -")
  printf "%d,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n" $((n * sample)) "$rss" "$fds" "$threads" "$cpu_pct" \
    "$(metric hotline_active_calls "$work/m-now")" "$(metric hotline_timers_pending "$work/m-now")" \
    "$(metric hotline_timers_stored "$work/m-now")" "$(metric hotline_ticket_writes_pending "$work/m-now")" \
    "$(metric hotline_agent_legs_up "$work/m-now")" "${p50:-}" "${p99:-}" >> "$out/samples.csv"
  mv "$work/m-now" "$work/m-prev"; prev_cpu=$c; prev_t=$t
done
# The callers stop by themselves: their last calls end within a minute of the last INVITE.
for p in $ivr $queue; do
  for _ in $(seq 1800); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
cp "$work/ivr.csv" "$work/queue.csv" "$out/" 2>/dev/null || true
cat "$work"/ivr-key3-info_*_rtt.csv > "$out/ivr-rtt.csv" 2>/dev/null || true
cp "$work/server.err" "$out/server.err"
status=0
python3 $here/verdict.py "$out" "$minutes" "$rate" "$label" || status=$?
python3 $here/plot.py "$out/soak.png" "$out"
exit $status
