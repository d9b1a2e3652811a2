#!/usr/bin/env bash
# Secure home seats (issue 15): the server's CPU per bridged call-second when the agent leg is
# SRTP (SDES, AES_CM_128_HMAC_SHA1_80) against the same call with plain RTP on the agent leg.
#
# Each round starts a fresh `hotline serve` with a UDP and a TLS listener (a throwaway CA and a
# server certificate for 127.0.0.1 made with openssl in the work directory) on the queue test
# dialplan (12345 -> operator queue), with AGENTS generated agents (sip_username 3001...,
# password pw-<username>, MD5 challenges only: baresip 1.0 gives up at a SHA-256 one). Every
# agent's phone is its own baresip 1.0 process registered over SIP/TLS (verifying the server
# against the CA), auto-answering, with an 8 kHz 1,300 Hz tone file as its microphone. The agents
# are logged in through the admin API, then AGENTS SIPp callers on UDP (Benchmarks/bridge/
# caller.xml: PCMA, g711a.pcap's speech as 20 ms frames) dial the queue at RATE calls/s, as
# bridge.sh does; each talks for TALK_SECONDS. Once all AGENTS calls are bridged the server's
# user + system CPU (/proc/PID/stat) and /metrics are read at the start and end of a
# WINDOW_SECONDS window in which all of them stay bridged.
#
# Variants (the only difference between rtp and srtp is SRTP on the agent leg: both register
# over TLS, both relay G.711 untouched):
#   rtp        agents `media_encryption: none`, baresip without mediaenc, PCMA
#   srtp       agents `media_encryption: required`, baresip `mediaenc=srtp-mand`, PCMA
#   rtp-opus   as rtp, baresip on Opus (the server transcodes PCMA <-> Opus both ways)
#   srtp-opus  as srtp, on Opus
# Rounds interleave the variants, in reverse order on even rounds (rtp srtp, srtp rtp, ...) so
# drift in the machine's load does not favour one; the summary gives medians over the rounds,
# the srtp/rtp ratio and the median of each round's own srtp - rtp difference.
#
# Every round checks, and fails loudly (exit 1) otherwise: all AGENTS phones registered over TLS
# and logged in; hotline_agent_legs_up = AGENTS at both ends of the window; agent-leg RTP grew by
# at least 80 % of 50 packets/s per call each way in the window; the server logged AGENTS "agent
# answered" with the expected codec and `srtp=AES_CM_128_HMAC_SHA1_80` (srtp variants) or
# `srtp=no` (rtp variants); every baresip said "SRTP is Enabled" (srtp) or none did (rtp);
# hotline_srtp_rejected_packets_total stayed 0; every SIPp caller succeeded.
#
# What libsrtp2 costs on its own, for comparison: Benchmarks/srtp/srtp-cost.c.
#
# Usage: Benchmarks/srtp-bridge.sh [ROUNDS] [AGENTS] [RATE]        (default 3 rounds, 16 agents, 8/s)
# Environment: HOTLINE_BIN (default .build/release/hotline), TALK_SECONDS (20), WINDOW_SECONDS
# (14; must end before the first caller hangs up: WINDOW <= TALK - AGENTS/RATE - 1.5),
# VARIANTS ("rtp srtp"; add "rtp-opus srtp-opus" for the transcoded pair), KEEP=1 keeps the work
# directory (server, baresip and SIPp logs), PERF=1 profiles the server with `perf record -g`
# during each window and prints the top libraries and symbols (perf's own cost inflates those
# rounds' CPU: profile in a separate run, e.g. `PERF=1 VARIANTS=srtp Benchmarks/srtp-bridge.sh 1`).
# Needs sipp (sip-tester, with /usr/share/sip-tester/g711a.pcap), baresip (1.0.0 from Debian 12:
# apt-get install baresip), openssl, python3, curl, md5sum, sha256sum, ss (iproute2);
# play_pcap_audio needs root or CAP_NET_RAW. Loopback only. Bounded: every SIPp run has a
# timeout, every poll a count, every baresip is stopped (TERM, then KILL after 5 s) at the end of
# its round; a round takes about TALK_SECONDS + 12 s.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}; agents=${2:-16}; rate=${3:-8}
talk=${TALK_SECONDS:-20}; window=${WINDOW_SECONDS:-14}
variants=${VARIANTS:-rtp srtp}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
for tool in sipp baresip openssl python3 curl md5sum sha256sum ss; do
  command -v $tool >/dev/null || {
    case $tool in
      sipp) hint="apt-get install sip-tester" ;; baresip) hint="apt-get install baresip" ;;
      ss) hint="apt-get install iproute2" ;; *) hint="apt-get install $tool" ;;
    esac
    echo "needs $tool ($hint)" >&2; exit 2; }
done
[ -f /usr/lib/baresip/modules/srtp.so ] || { echo "needs baresip's srtp module (/usr/lib/baresip/modules/srtp.so)" >&2; exit 2; }
for variant in $variants; do
  case $variant in rtp|srtp|rtp-opus|srtp-opus) ;; *) echo "unknown variant $variant (rtp, srtp, rtp-opus, srtp-opus)" >&2; exit 2 ;; esac
done
here=Benchmarks/bridge
if awk -v w="$window" -v t="$talk" -v n="$agents" -v r="$rate" 'BEGIN { exit !(w > t - n / r - 1.5) }'; then
  echo "WINDOW_SECONDS=$window is too long: the first callers hang up before it ends (TALK $talk s, $agents calls at $rate/s)" >&2
  exit 2
fi

work=$(mktemp -d)
server=""; pids=(); phones=()
stop_phones() {
  local p
  for p in "${phones[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for p in "${phones[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break; sleep 0.1
  done
  for p in "${phones[@]}"; do kill -KILL "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  phones=()
}
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  stop_phones
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

# A block of COUNT ports from a random start in [LOW, LOW + SPAN) that nothing listens on (UDP
# or TCP): other servers on this machine may hold ports, and the server's UDP SIP socket is
# bound with SO_REUSEPORT, so a clash would not even fail at bind.
free_block() {
  local low=$1 span=$2 count=$3 used start
  used=$(ss -Htuln | awk '{ n = split($5, a, ":"); print a[n] }' | sort -un)
  for _ in $(seq 50); do
    start=$((low + RANDOM % (span - count)))
    if ! awk -v s="$start" -v e="$((start + count))" '$1 >= s && $1 < e { hit = 1 } END { exit !hit }' <<<"$used"; then
      echo "$start"; return 0
    fi
  done
  fail "no free block of $count ports in $low-$((low + span))"
}

# The PKI: a CA, and a server certificate for 127.0.0.1 (CN and IP subjectAltName).
pki="$work/pki"; mkdir -p "$pki"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=Hotline bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"
openssl req "${ec[@]}" -keyout "$pki/server.key" -out "$pki/server.csr" -subj /CN=127.0.0.1 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > "$pki/server.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
  -out "$pki/server.pem" -extfile "$pki/server.ext" 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"

# Agents (MD5 only), one file per policy; queues that take callers with nobody logged in; the talk.
Benchmarks/lib/agents-yaml.sh "$agents" home | sed 's/^digest_algorithms: .*/digest_algorithms: [md5]   # baresip 1.0 gives up at a SHA-256 challenge/' > "$work/agents-none.yaml"
sed 's/^\(    seat: home\)$/\1\n    media_encryption: required/' "$work/agents-none.yaml" > "$work/agents-required.yaml"
[ "$(grep -c 'media_encryption: required' "$work/agents-required.yaml")" = "$agents" ] || fail "could not write media_encryption into agents.yaml"
grep -q '^digest_algorithms: \[md5\]' "$work/agents-none.yaml" || fail "could not set digest_algorithms: [md5]"
sed 's/^\(    wrap_up: 0s\)$/\1\n    join_when_empty: true/' Tests/IntegrationTests/Dialplans/acd/queues.yaml > "$work/queues.yaml"
grep -q join_when_empty "$work/queues.yaml" || fail "could not add join_when_empty to the test queues"
python3 "$here/pcap20.py" "$work/talk.pcap" $((talk + 1))
sed "s|play_pcap_audio=\"BENCH_PCAP\"|play_pcap_audio=\"$work/talk.pcap\"|" "$here/caller.xml" > "$work/caller.xml"
# The phones' microphone: 1,300 Hz, 16-bit; 8 kHz mono for PCMA, 48 kHz stereo for Opus
# (baresip 1.0's ausine module only runs at 48 kHz, and aufile does not resample).
python3 - "$work" $((talk + 30)) "$variants" <<'PY'
import math, struct, sys, wave
work, seconds, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
def tone(path, rate, channels):
    frame = [struct.pack('<h', int(8000 * math.sin(2 * math.pi * 1300 * i / rate))) * channels for i in range(rate)]
    with wave.open(path, 'wb') as w:
        w.setnchannels(channels); w.setsampwidth(2); w.setframerate(rate)
        one = b''.join(frame)
        w.writeframes(one * seconds)
tone(f'{work}/tone8k.wav', 8000, 1)
if any(v.endswith('opus') for v in variants):
    tone(f'{work}/tone48k.wav', 48000, 2)
PY

hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
phones_cpu() { local t=0 p; for p in "${phones[@]}"; do t=$((t + $(cpu "$p" 2>/dev/null || echo 0))); done; echo $t; }
metrics() { curl -s --max-time 5 "127.0.0.1:$http/metrics"; }
metric() { awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}' <<<"$2" | cut -d. -f1; }
legs_up() { metric hotline_agent_legs_up "$(metrics)"; }
reachable() {
  curl -s --max-time 5 "127.0.0.1:$http/api/agents" | python3 -c '
import json, sys
try: agents = json.load(sys.stdin)["agents"]
except Exception: print(0); sys.exit()
print(sum(1 for a in agents if a.get("reachable") and any(str(r.get("source", "")).startswith("tls:") for r in a.get("registrations", []))))'
}

# One baresip per agent: its directory, config and account; started in the background.
start_phone() {
  local i=$1 variant=$2 base=$3 dir="$work/$variant-$round/phone-$i"
  local user=$((3000 + i)) codec=PCMA source="$work/tone8k.wav" modules="" enc=""
  case $variant in *opus) codec=opus/48000/2; source="$work/tone48k.wav"; modules="module           opus.so" ;; esac
  case $variant in srtp*) enc=";mediaenc=srtp-mand" ;; esac
  mkdir -p "$dir"
  # sip_listen: UDP and TCP on base, TLS on base + 1 (baresip 1.0 adds one); RTP from base + 2.
  cat > "$dir/config" <<EOF
poll_method      epoll
sip_listen       127.0.0.1:$base
sip_cafile       $pki/ca.pem
net_interface    127.0.0.1
audio_source     aufile,$source
audio_alert      aufile,/dev/null
module_path      /usr/lib/baresip/modules
module           g711.so
module           srtp.so
module           aufile.so
$modules
module_app       account.so
rtp_ports        $((base + 2))-$((base + 7))
EOF
  echo "<sip:$user@127.0.0.1:$tls;transport=tls>;auth_pass=pw-$user;regint=600;answermode=auto$enc;audio_codecs=$codec" > "$dir/accounts"
  : > "$dir/contacts"
  baresip -f "$dir" > "$dir/baresip.log" 2>&1 &
  phones+=($!)
}

# One round of one variant; appends "variant round cpu_ms calls window_s rtp_in rtp_out agent_in agent_out whole_ms phones_ms" to results.
run_round() {
  local variant=$1 round=$2 dir="$work/$1-$2"
  mkdir -p "$dir"
  local policy=none; case $variant in srtp*) policy=required ;; esac
  local block; block=$(free_block 15000 5000 3)
  port=$block; tls=$((block + 1)); http=$((block + 2))
  local rtp_base; rtp_base=$(free_block 40000 20000 2000)
  local phone_base; phone_base=$(free_block 30000 6000 $((agents * 8)))
  local caller_media; caller_media=$(free_block 36000 3000 $((agents * 4 + 4)))
  "$bin" serve --sip 127.0.0.1:$port --sip-tls 127.0.0.1:$tls --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" \
    --http 127.0.0.1:$http --dialplan Tests/IntegrationTests/Dialplans/queue.yaml \
    --agents "$work/agents-$policy.yaml" --queues "$work/queues.yaml" --db "$dir/t.sqlite" --prompts Prompts \
    --rtp-ports $rtp_base-$((rtp_base + 1999)) --log-level info > "$dir/server.out" 2> "$dir/server.err" &
  server=$!
  for _ in $(seq 100); do grep -q listening "$dir/server.out" 2>/dev/null && break; sleep 0.1; done
  grep -q "listening.*tls=127.0.0.1:$tls" "$dir/server.out" || fail "$variant round $round: server did not start: $(tail -n 5 "$dir/server.err")"

  for i in $(seq "$agents"); do start_phone "$i" "$variant" $((phone_base + (i - 1) * 8)); done
  local n=0
  for _ in $(seq 100); do n=$(reachable); [ "$n" = "$agents" ] && break; sleep 0.2; done
  [ "$n" = "$agents" ] || fail "$variant round $round: $n of $agents baresip phones registered over TLS: $(tail -n 3 "$dir/phone-1/baresip.log")"
  for i in $(seq "$agents"); do
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -XPOST "127.0.0.1:$http/api/agents/a$((3000 + i))/login")
    [ "$status" = 200 ] || fail "$variant round $round: login of a$((3000 + i)) answered $status"
  done

  local whole0; whole0=$(cpu $server)
  timeout $((talk + 40)) sipp 127.0.0.1:$port -sf "$work/caller.xml" -s 12345 -i 127.0.0.1 -mi 127.0.0.1 -mp $caller_media \
    -d $((talk * 1000)) -r "$rate" -m "$agents" -l "$agents" -recv_timeout $(((talk + 15) * 1000)) -timeout_error \
    -max_retrans 3 -nostdin -trace_err -error_file "$dir/caller-errors.log" > "$dir/caller.out" 2>&1 &
  local callers=$!; pids+=("$callers")

  # All callers placed, answered and talking (the last one starts talking 1 s after its 200).
  sleep "$(awk -v n="$agents" -v r="$rate" 'BEGIN { print (n - 1) / r + 1.5 }')"
  local up
  for _ in $(seq 30); do up=$(legs_up); [ "$up" = "$agents" ] && break; sleep 0.1; done
  [ "$up" = "$agents" ] || fail "$variant round $round: $up of $agents calls bridged before the window"

  local m0 m1 c0 c1 t0 t1 p0 p1
  m0=$(metrics); c0=$(cpu $server); p0=$(phones_cpu); t0=$(date +%s.%N)
  if [ "${PERF:-0}" = 1 ]; then
    perf record -q -F 499 -g -p $server -o "$dir/perf.data" -- sleep "$window" > /dev/null 2>&1
  else
    sleep "$window"
  fi
  c1=$(cpu $server); p1=$(phones_cpu); t1=$(date +%s.%N); m1=$(metrics)
  up=$(metric hotline_agent_legs_up "$m1")
  [ "$up" = "$agents" ] || fail "$variant round $round: only $up of $agents calls still bridged at the end of the window"

  local rc=0
  wait "$callers" || rc=$?
  [ $rc = 0 ] || fail "$variant round $round: SIPp callers exited $rc: $(tail -n 3 "$dir/caller-errors.log" 2>/dev/null)"
  local whole1; whole1=$(cpu $server)
  pids=()
  local rejected; rejected=$(metric hotline_srtp_rejected_packets_total "$(metrics)")
  stop_phones
  kill -TERM $server; for _ in $(seq 100); do kill -0 $server 2>/dev/null || break; sleep 0.1; done
  kill -KILL $server 2>/dev/null || true; wait $server 2>/dev/null || true; server=""

  local d_in d_out a_in a_out
  d_in=$(( $(metric 'hotline_rtp_packets_total{direction="in"}' "$m1") - $(metric 'hotline_rtp_packets_total{direction="in"}' "$m0") ))
  d_out=$(( $(metric 'hotline_rtp_packets_total{direction="out"}' "$m1") - $(metric 'hotline_rtp_packets_total{direction="out"}' "$m0") ))
  a_in=$(( $(metric 'hotline_agent_rtp_packets_total{direction="in"}' "$m1") - $(metric 'hotline_agent_rtp_packets_total{direction="in"}' "$m0") ))
  a_out=$(( $(metric 'hotline_agent_rtp_packets_total{direction="out"}' "$m1") - $(metric 'hotline_agent_rtp_packets_total{direction="out"}' "$m0") ))
  local floor; floor=$(awk -v n="$agents" -v w="$window" 'BEGIN { printf "%d", 0.8 * n * w * 50 }')
  [ "$a_in" -ge "$floor" ] && [ "$a_out" -ge "$floor" ] \
    || fail "$variant round $round: agent-leg RTP in the window in $a_in, out $a_out (expected >= $floor each way)"
  local log; log=$(cat "$dir/server.err" "$dir/server.out")
  local answered; answered=$(grep -c "agent answered" <<<"$log" || true)
  [ "$answered" = "$agents" ] || fail "$variant round $round: $answered agents answered, expected $agents"
  local codec_name=PCMA; case $variant in *opus) codec_name=opus ;; esac
  local right; right=$(grep "agent answered" <<<"$log" | grep -ci "codec=$codec_name " || true)
  [ "$right" = "$agents" ] || fail "$variant round $round: $right of $agents agent legs negotiated $codec_name"
  local want_srtp=no; [ "$policy" = required ] && want_srtp=AES_CM_128_HMAC_SHA1_80
  local secured; secured=$(grep "agent answered" <<<"$log" | grep -c "srtp=$want_srtp " || true)
  [ "$secured" = "$agents" ] || fail "$variant round $round: $secured of $agents agent legs logged srtp=$want_srtp"
  local enabled; enabled=$(cat "$dir"/phone-*/baresip.log | grep -c "SRTP is Enabled" || true)
  if [ "$policy" = required ]; then
    [ "$enabled" -ge "$agents" ] || fail "$variant round $round: $enabled of $agents baresip phones said SRTP is Enabled"
  else
    [ "$enabled" = 0 ] || fail "$variant round $round: $enabled baresip phones ran SRTP in a plain-RTP variant"
  fi
  [ "$rejected" = 0 ] || fail "$variant round $round: hotline_srtp_rejected_packets_total = $rejected"
  grep -q "inline:" <<<"$log" && fail "$variant round $round: an SDES key in the server's log"
  grep -E "^[^ ]+ (warning|error|critical) " "$dir/server.err" | grep -v "admin API: no token configured" > "$dir/server-warnings" || true
  local warnings; warnings=$(wc -l < "$dir/server-warnings")
  [ "$warnings" = 0 ] || echo "  note: $variant round $round: the server logged $warnings warning/error lines, e.g. $(head -n 1 "$dir/server-warnings" | cut -c1-220)"

  local ms; ms=$(( (c1 - c0) * 1000 / hz ))
  local span; span=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
  local whole; whole=$(( (whole1 - whole0) * 1000 / hz ))
  local pms; pms=$(( (p1 - p0) * 1000 / hz ))
  echo "$variant $round $ms $agents $span $d_in $d_out $a_in $a_out $whole $pms" >> "$work/results"
  local line
  line=$(awk -v v="$variant" -v r="$round" -v ms="$ms" -v n="$agents" -v s="$span" -v i="$d_in" -v o="$d_out" -v ai="$a_in" -v ao="$a_out" -v w="$whole" -v p="$pms" \
    'BEGIN { printf "round %s %-9s window: CPU %5d ms over %s s, %d calls, %6.3f ms per call-second; RTP in %d out %d (agent legs in %d out %d), %5.1f us per packet; whole run: %6.1f ms per call; phones %6.3f ms per call-second\n",
             r, v, ms, s, n, ms / (n * s), i, o, ai, ao, 1000 * ms / (i + o), w / n, p / (n * s) }')
  echo "$line  [load $(cut -d' ' -f1 /proc/loadavg); fuzzers: $(fuzzers)]"
  if [ "${PERF:-0}" = 1 ]; then
    echo "  perf, by library:"
    perf report -i "$dir/perf.data" --stdio --no-children --sort dso --percent-limit 1 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | head -n 10 | cut -c1-120
    echo "  perf, by symbol:"
    perf report -i "$dir/perf.data" --stdio --no-children --sort dso,symbol --percent-limit 0.7 2>/dev/null \
      | grep -E '^ +[0-9.]+%' | head -n 30 | cut -c1-170
  fi
}

# Other work on the machine that skews CPU figures: fuzz targets (process names Fuzz*).
fuzzers() { local f; f=$(pgrep -l '^Fuzz' | awk '{ printf "%s%s", sep, $2; sep = " " }'); echo "${f:-none}"; }
echo "machine: $(nproc) CPUs, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $bin; $agents calls at $rate/s per round, talk ${talk} s, window ${window} s, $rounds rounds of: $variants (reversed on even rounds); fuzzers running now: $(fuzzers)"
for round in $(seq "$rounds"); do
  order=$variants
  [ $((round % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$variants" | tac | tr '\n' ' ')
  for variant in $order; do run_round "$variant" "$round"; done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); fuzzers running now: $(fuzzers)"

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
per_cs() { awk -v v="$1" '$1 == v { printf "%.4f\n", $3 / ($4 * $5) }' "$work/results" | median; }
per_pkt() { awk -v v="$1" '$1 == v { printf "%.3f\n", 1000 * $3 / ($6 + $7) }' "$work/results" | median; }
whole() { awk -v v="$1" '$1 == v { printf "%.2f\n", $10 / $4 }' "$work/results" | median; }
pps() { awk -v v="$1" '$1 == v { printf "%.1f\n", ($6 + $7) / ($4 * $5) }' "$work/results" | median; }
phones_cs() { awk -v v="$1" '$1 == v { printf "%.4f\n", $11 / ($4 * $5) }' "$work/results" | median; }
echo
echo "medians over $rounds rounds (window: server CPU per bridged call-second, RTP packets in + out per call-second, CPU per RTP packet; whole run: CPU per call; the baresip phones' CPU per call-second):"
declare -A cs
for variant in $variants; do
  cs[$variant]=$(per_cs "$variant")
  printf "  %-9s %6.3f ms per call-second   %5.1f packets/s per call   %5.1f us per packet   %6.1f ms per whole call   phones %6.3f ms per call-second\n" \
    "$variant" "${cs[$variant]}" "$(pps "$variant")" "$(per_pkt "$variant")" "$(whole "$variant")" "$(phones_cs "$variant")"
done
for pair in "rtp srtp" "rtp-opus srtp-opus"; do
  read -r plain secure <<<"$pair"
  [ -n "${cs[$plain]:-}" ] && [ -n "${cs[$secure]:-}" ] || continue
  # Each round's own difference, and what it comes to per agent-leg packet (SRTP protects the
  # packets to the agent and unprotects those from it; the caller leg is plain in both).
  paired=$(awk -v a="$plain" -v b="$secure" '$1 == a { x[$2] = $3 / ($4 * $5) } $1 == b { y[$2] = $3 / ($4 * $5) }
    END { for (r in y) if (r in x) printf "%.4f\n", y[r] - x[r] }' "$work/results" | median)
  per_packet=$(awk -v a="$plain" -v b="$secure" '$1 == a { x[$2] = $3 / ($4 * $5) } $1 == b { y[$2] = $3 / ($4 * $5); p[$2] = ($8 + $9) / ($4 * $5) }
    END { for (r in y) if (r in x) printf "%.3f\n", 1000 * (y[r] - x[r]) / p[r] }' "$work/results" | median)
  awk -v a="$plain" -v b="$secure" -v x="${cs[$plain]}" -v y="${cs[$secure]}" -v d="$paired" -v pp="$per_packet" \
    'BEGIN { printf "  %s / %s: %.2fx per bridged call-second (medians %.3f vs %.3f ms); median of the rounds'"'"' own differences %+.3f ms per call-second, %+.2f us per agent-leg SRTP packet\n", b, a, y / x, y, x, d, pp }'
done
