#!/usr/bin/env bash
# Bridged calls: the server's CPU per call-second of talk when a queued caller is bridged to an
# agent whose phone answers with PCMA (G.711 relayed untouched) or with Opus (the server
# transcodes both ways), against a baseline of the same callers held in the queue with music
# and no agent (the same dialplan, queue and caller traffic, no bridge).
#
# Each round starts a fresh `hotline serve` on the queue test dialplan (12345 -> operator
# queue) with AGENTS generated agents (sip_username 3001..., password pw-<username>, skill
# general), registers them all from one UDP port with SIPp (agent-register.xml, one run per
# agent), logs them in through the admin API, starts one SIPp UAS on that port that
# answers every INVITE (agent-answer-pcma.xml or agent-answer-opus.xml) and echoes the RTP it
# gets (-rtp_echo), then places AGENTS callers at RATE calls/s (caller.xml): each is answered
# by the queue, talks after 1 s (g711a.pcap's speech as 20 ms PCMA frames, 50 packets/s) and
# hangs up after TALK_SECONDS. Once every caller is bridged and talking, the server's user +
# system CPU (/proc/PID/stat) and /metrics are read at the start and end of a WINDOW_SECONDS
# window in which all AGENTS calls stay bridged. The baseline round skips the agents (the queue
# takes callers with nobody logged in: join_when_empty), so its callers hear the queue's music
# while they talk. Rounds interleave the variants (baseline, g711, opus, baseline, ...) so they
# share the machine's noise; the summary gives medians over the rounds and ratios.
#
# Every round checks that bridging happened (hotline_agent_legs_up = AGENTS at both ends of the
# window, hotline_agent_rtp_packets_total grew by at least 80 % of 50 packets/s per call each
# way, the server logged AGENTS "agent answered" with the expected codec), and that the
# baseline did not bridge; it fails loudly (exit 1) otherwise, as it does if any SIPp call fails.
#
# Each round also reports the server's CPU over the callers' whole run (from the first INVITE to
# the last BYE, agent legs included, registration and login not) per call.
#
# Usage: Benchmarks/bridge.sh [ROUNDS] [AGENTS] [RATE]         (default 3 rounds, 20 agents, 10/s)
# Environment: HOTLINE_BIN (default .build/release/hotline), TALK_SECONDS (12), WINDOW_SECONDS
# (8; must end before the first caller hangs up: WINDOW <= TALK - AGENTS/RATE - 1.5),
# VARIANTS ("baseline g711 opus"), KEEP=1 keeps the work directory (logs, SIPp traces),
# PERF=1 profiles the server with `perf record -g` during each window and prints the top symbols
# (perf's own cost inflates those rounds' CPU: profile in a separate run, e.g.
# `PERF=1 VARIANTS=opus Benchmarks/bridge.sh 1`).
# Needs sipp (sip-tester, with /usr/share/sip-tester/g711a.pcap), python3, curl, md5sum,
# sha256sum; play_pcap_audio needs root or CAP_NET_RAW. Loopback only. Bounded: every SIPp
# run has a timeout, every poll a count; a round takes about TALK_SECONDS + 6 s (under the
# server's 30 s OPTIONS keep-alive, which the SIPp agent would not expect).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; agents=${2:-20}; rate=${3:-10}
talk=${TALK_SECONDS:-12}; window=${WINDOW_SECONDS:-8}
variants=${VARIANTS:-baseline g711 opus}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
for tool in sipp python3 curl md5sum sha256sum; do
  command -v $tool >/dev/null || { echo "needs $tool" >&2; exit 2; }
done
here=Benchmarks/bridge
if awk -v w="$window" -v t="$talk" -v n="$agents" -v r="$rate" 'BEGIN { exit !(w > t - n / r - 1.5) }'; then
  echo "WINDOW_SECONDS=$window is too long: the first callers hang up before it ends (TALK $talk s, $agents calls at $rate/s)" >&2
  exit 2
fi

work=$(mktemp -d)
server=""; pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -z "$server" ] || kill -INT "$server" 2>/dev/null || true # SIGINT: hang up and exit now (SIGTERM drains)
  if [ -n "$server" ]; then
    for _ in $(seq 50); do kill -0 "$server" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server" 2>/dev/null || true
  fi
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
fail() { echo "FAILED: $*" >&2; echo "(logs: $work; set KEEP=1 to keep them)" >&2; exit 1; }

# Agents (password pw-<sip_username>), queues that take callers with nobody logged in, the talk.
Benchmarks/lib/agents-yaml.sh "$agents" on_site > "$work/agents.yaml"
sed 's/^\(    wrap_up: 0s\)$/\1\n    join_when_empty: true/' Tests/IntegrationTests/Dialplans/acd/queues.yaml > "$work/queues.yaml"
grep -q join_when_empty "$work/queues.yaml" || fail "could not add join_when_empty to the test queues"
python3 "$here/pcap20.py" "$work/talk.pcap" $((talk + 1))
sed "s|play_pcap_audio=\"BENCH_PCAP\"|play_pcap_audio=\"$work/talk.pcap\"|" "$here/caller.xml" > "$work/caller.xml"

hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$server/stat; }
metrics() { curl -s --max-time 5 "127.0.0.1:$http/metrics"; }
metric() { awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}' <<<"$2" | cut -d. -f1; }
legs_up() { metric hotline_agent_legs_up "$(metrics)"; }
active() { metric hotline_active_calls "$(metrics)"; }

# One round of one variant; appends "variant round cpu_ms calls window_s rtp_in rtp_out agent_in agent_out whole_ms" to results.
run_round() {
  local variant=$1 round=$2 dir="$work/$1-$2"
  mkdir -p "$dir"
  port=$((15060 + RANDOM % 2000)); http=$((18060 + RANDOM % 2000))
  local agent_port=$((21060 + RANDOM % 2000)) agent_media=$((30000 + RANDOM % 1000 * 4)) caller_media=$((36000 + RANDOM % 1000 * 4))
  local rtp_base=$((40000 + RANDOM % 10 * 2000))
  "$bin" serve --sip 127.0.0.1:$port --http 127.0.0.1:$http --dialplan Tests/IntegrationTests/Dialplans/queue.yaml \
    --agents "$work/agents.yaml" --queues "$work/queues.yaml" --db "$dir/t.sqlite" --prompts Prompts \
    --rtp-ports $rtp_base-$((rtp_base + 1999)) --log-level info > "$dir/server.out" 2> "$dir/server.err" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$dir/server.out" 2>/dev/null && break; sleep 0.1; done
  grep -q listening "$dir/server.out" || fail "$variant round $round: server did not start: $(tail -n 5 "$dir/server.err")"

  local uas=""
  if [ "$variant" != baseline ]; then
    local codec=pcma; [ "$variant" = opus ] && codec=opus
    # One SIPp run per agent (SIPp 3.6 takes no injected fields inside [authentication]).
    for i in $(seq "$agents"); do
      timeout 10 sipp 127.0.0.1:$port -sf "$here/agent-register.xml" -s $((3000 + i)) -au $((3000 + i)) -ap "pw-$((3000 + i))" \
        -i 127.0.0.1 -p $agent_port -m 1 -recv_timeout 5000 -timeout_error -max_retrans 3 -nostdin \
        -trace_err -error_file "$dir/register-errors.log" > "$dir/register.out" 2>&1 \
        || fail "$variant round $round: agent $((3000 + i)) did not register (see $dir/register-errors.log)"
    done
    timeout $((talk + 40)) sipp 127.0.0.1:$port -sf "$here/agent-answer-$codec.xml" -i 127.0.0.1 -p $agent_port \
      -mi 127.0.0.1 -mp $agent_media -rtp_echo -m "$agents" -nostdin \
      -trace_err -error_file "$dir/agent-errors.log" > "$dir/agent.out" 2>&1 &
    uas=$!; pids+=("$uas")
    for i in $(seq "$agents"); do
      local status
      status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -XPOST "127.0.0.1:$http/api/agents/a$((3000 + i))/login")
      [ "$status" = 200 ] || fail "$variant round $round: login of a$((3000 + i)) answered $status"
    done
  fi

  local whole0; whole0=$(cpu)
  timeout $((talk + 40)) sipp 127.0.0.1:$port -sf "$work/caller.xml" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 -mp $caller_media \
    -d $((talk * 1000)) -r "$rate" -m "$agents" -l "$agents" -recv_timeout $(((talk + 15) * 1000)) -timeout_error \
    -max_retrans 3 -nostdin -trace_err -error_file "$dir/caller-errors.log" > "$dir/caller.out" 2>&1 &
  local callers=$!; pids+=("$callers")

  # All callers placed, answered and talking (the last one starts talking 1 s after its 200).
  sleep "$(awk -v n="$agents" -v r="$rate" 'BEGIN { print (n - 1) / r + 1.5 }')"
  local want up
  for _ in $(seq 30); do
    if [ "$variant" = baseline ]; then up=$(active); else up=$(legs_up); fi
    [ "$up" = "$agents" ] && break
    sleep 0.1
  done
  [ "$up" = "$agents" ] || fail "$variant round $round: $up of $agents calls $([ "$variant" = baseline ] && echo up || echo bridged) before the window"

  local m0 m1 c0 c1 t0 t1
  m0=$(metrics); c0=$(cpu); t0=$(date +%s.%N)
  if [ "${PERF:-0}" = 1 ]; then
    perf record -q -F 499 -g -p $server -o "$dir/perf.data" -- sleep "$window" > /dev/null 2>&1
  else
    sleep "$window"
  fi
  c1=$(cpu); t1=$(date +%s.%N); m1=$(metrics)
  if [ "$variant" = baseline ]; then up=$(metric hotline_active_calls "$m1"); else up=$(metric hotline_agent_legs_up "$m1"); fi
  [ "$up" = "$agents" ] || fail "$variant round $round: only $up of $agents calls still up at the end of the window"
  local legs_end; legs_end=$(metric hotline_agent_legs_up "$m1")

  local rc=0
  wait "$callers" || rc=$?
  [ $rc = 0 ] || fail "$variant round $round: SIPp callers exited $rc: $(tail -n 3 "$dir/caller-errors.log" 2>/dev/null)"
  local whole1; whole1=$(cpu)
  if [ -n "$uas" ]; then
    rc=0; wait "$uas" || rc=$?
    [ $rc = 0 ] || fail "$variant round $round: SIPp agents exited $rc: $(tail -n 3 "$dir/agent-errors.log" 2>/dev/null)"
  fi
  pids=()
  kill -TERM $server; for _ in $(seq 100); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
  kill -KILL $server 2>/dev/null || true; wait $server 2>/dev/null || true; server=""

  local d_in d_out a_in a_out
  d_in=$(( $(metric 'hotline_rtp_packets_total{direction="in"}' "$m1") - $(metric 'hotline_rtp_packets_total{direction="in"}' "$m0") ))
  d_out=$(( $(metric 'hotline_rtp_packets_total{direction="out"}' "$m1") - $(metric 'hotline_rtp_packets_total{direction="out"}' "$m0") ))
  a_in=$(( $(metric 'hotline_agent_rtp_packets_total{direction="in"}' "$m1") - $(metric 'hotline_agent_rtp_packets_total{direction="in"}' "$m0") ))
  a_out=$(( $(metric 'hotline_agent_rtp_packets_total{direction="out"}' "$m1") - $(metric 'hotline_agent_rtp_packets_total{direction="out"}' "$m0") ))
  local floor; floor=$(awk -v n="$agents" -v w="$window" 'BEGIN { printf "%d", 0.8 * n * w * 50 }')
  local answered; answered=$(cat "$dir/server.err" "$dir/server.out" | grep -c "agent answered" || true)
  if [ "$variant" = baseline ]; then
    [ "$a_in" = 0 ] && [ "$a_out" = 0 ] && [ "$legs_end" = 0 ] && [ "$answered" = 0 ] \
      || fail "baseline round $round bridged: agent RTP in $a_in out $a_out, legs up $legs_end, answered $answered"
  else
    [ "$a_in" -ge "$floor" ] && [ "$a_out" -ge "$floor" ] \
      || fail "$variant round $round: agent-leg RTP in the window in $a_in, out $a_out (expected >= $floor each way)"
    [ "$answered" = "$agents" ] || fail "$variant round $round: $answered agents answered, expected $agents"
    local codec_name=PCMA; [ "$variant" = opus ] && codec_name=opus
    local right; right=$(cat "$dir/server.err" "$dir/server.out" | grep "agent answered" | grep -ci "codec=$codec_name" || true)
    [ "$right" = "$agents" ] || fail "$variant round $round: $right of $agents agent legs negotiated $codec_name"
  fi
  local ms; ms=$(( (c1 - c0) * 1000 / hz ))
  local span; span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  local whole; whole=$(( (whole1 - whole0) * 1000 / hz ))
  echo "$variant $round $ms $agents $span $d_in $d_out $a_in $a_out $whole" >> "$work/results"
  awk -v v="$variant" -v r="$round" -v ms="$ms" -v n="$agents" -v s="$span" -v i="$d_in" -v o="$d_out" -v ai="$a_in" -v ao="$a_out" -v w="$whole" \
    'BEGIN { printf "round %s %-8s window: CPU %5d ms over %s s, %d calls, %6.3f ms per call-second; RTP in %d out %d (agent legs in %d out %d), %5.1f us per packet; whole run: %6.1f ms per call\n",
             r, v, ms, s, n, ms / (n * s), i, o, ai, ao, 1000 * ms / (i + o), w / n }'
  if [ "${PERF:-0}" = 1 ]; then
    echo "  perf, by library:"
    perf report -i "$dir/perf.data" --stdio --no-children --sort dso --percent-limit 1 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | head -n 10 | cut -c1-120
    echo "  perf, by symbol (libopus has no symbols without its debug package):"
    perf report -i "$dir/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 1 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | head -n 15 | cut -c1-150
  fi
}

echo "machine: $(nproc) CPUs, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $bin; $agents calls at $rate/s per round, talk ${talk} s, window ${window} s, $rounds rounds of: $variants"
for round in $(seq "$rounds"); do
  for variant in $variants; do run_round "$variant" "$round"; done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
per_cs() { awk -v v="$1" '$1 == v { printf "%.4f\n", $3 / ($4 * $5) }' "$work/results" | median; }
per_pkt() { awk -v v="$1" '$1 == v { printf "%.3f\n", 1000 * $3 / ($6 + $7) }' "$work/results" | median; }
whole() { awk -v v="$1" '$1 == v { printf "%.2f\n", $10 / $4 }' "$work/results" | median; }
pps() { awk -v v="$1" '$1 == v { printf "%.1f\n", ($6 + $7) / ($4 * $5) }' "$work/results" | median; }
echo
echo "medians over $rounds rounds (window: CPU per call-second of talk, RTP packets in + out per call-second, CPU per RTP packet; whole run: CPU per call):"
declare -A cs
for variant in $variants; do
  cs[$variant]=$(per_cs "$variant")
  printf "  %-8s %6.3f ms per call-second   %5.1f packets/s per call   %5.1f us per packet   %6.1f ms per whole call\n" \
    "$variant" "${cs[$variant]}" "$(pps "$variant")" "$(per_pkt "$variant")" "$(whole "$variant")"
done
if [ -n "${cs[baseline]:-}" ]; then
  for variant in g711 opus; do
    [ -n "${cs[$variant]:-}" ] || continue
    paired=$(awk -v v="$variant" '$1 == "baseline" { b[$2] = $3 / ($4 * $5) } $1 == v { x[$2] = $3 / ($4 * $5) }
      END { for (r in x) if (r in b) printf "%.4f\n", x[r] - b[r] }' "$work/results" | median)
    awk -v v="$variant" -v x="${cs[$variant]}" -v b="${cs[baseline]}" -v p="$paired" \
      'BEGIN { printf "  %-8s bridging adds %6.3f ms per call-second over the baseline (%.2fx the baseline; median of the rounds'"'"' own differences %.3f ms)\n", v, x - b, x / b, p }'
  done
fi
if [ -n "${cs[g711]:-}" ] && [ -n "${cs[opus]:-}" ]; then
  awk -v o="${cs[opus]}" -v g="${cs[g711]}" -v b="${cs[baseline]:-}" 'BEGIN {
    printf "  opus / g711: %.2fx per call-second", o / g
    if (b != "") printf ", %.2fx counting only what bridging adds over the baseline", (o - b) / (g - b)
    printf "\n" }'
fi
