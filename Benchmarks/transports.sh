#!/usr/bin/env bash
# Secure home seats (issue 15): the server's CPU per call for the IVR key-3 flow over UDP, TCP and
# TLS, side by side against one server.
#
# One `hotline serve --dialplan Dialplans/bench.yaml` listens on UDP, TCP and TLS (a throwaway CA
# and a server certificate for 127.0.0.1 made with openssl in the work directory). SIPp places
# the conformance kit's ivr-key3-info calls (Tests/IntegrationTests/Scenarios/ivr-key3-info.xml,
# as ivr-key3.sh: menu, key 3 by SIP INFO after 1.5 s, ~1.5 s prompt, server BYE) at RATE calls/s
# for SECONDS per run, one run per variant, the variants interleaved in each round (reversed on
# even rounds) so they share the machine's noise:
#   udp     SIPp -t u1 to the UDP listener
#   tcp     SIPp -t t1 to the TCP listener: one long-lived connection carries every call
#   tls     SIPp -t t1 to stunnel (client mode, verifying the server against the CA and its
#           127.0.0.1 address), which carries it over one long-lived TLS connection to the TLS
#           listener: the server's extra cost is TLS record encryption and decryption, no handshakes
#   tcp-tn  SIPp -t tn: a TCP connection per call (connect, calls, close)
#   tls-tn  SIPp -t tn through stunnel with sessionResume = no: a new TLS connection and a full
#           handshake per call (stunnel's OpenSSL 3 and the server's BoringSSL agree on TLS 1.3,
#           TLS_AES_256_GCM_SHA384, X25519 key exchange, the server's ECDSA P-256 signature)
# (SIPp's Via says TCP in both TLS variants: SIPp does not know that stunnel wraps it; the
# server answers on the connection the request came on.) The media is the same in all: the
# prompts as plain RTP over UDP.
#
# Each run reports calls placed, succeeded and failed (SIPp's counts; failures are counted, not
# fatal, and printed), the server's user + system CPU (/proc/PID/stat) from SIPp's start to its
# exit per call placed, its share of one core, the connections the server accepted
# (hotline_sip_connections_total{origin="accepted"}) and stunnel's CPU per call (the client's
# side of TLS). The summary gives the medians over the rounds and the ratios to udp.
#
# Usage: Benchmarks/transports.sh [ROUNDS] [RATE] [SECONDS]       (default 3 rounds, 50 calls/s, 20 s)
# Environment: HOTLINE_BIN (default .build/release/hotline), VARIANTS ("udp tcp tls tcp-tn tls-tn"),
# KEEP=1 keeps the work directory (server and stunnel logs, SIPp stats and errors).
# Needs sipp (apt-get install sip-tester), stunnel (apt-get install stunnel4), openssl, curl,
# python3, ss (iproute2). Loopback only. Bounded: each SIPp run has a timeout of SECONDS + 40 s.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rounds=${1:-3}; rate=${2:-50}; seconds=${3:-20}
variants=${VARIANTS:-udp tcp tls tcp-tn tls-tn}
bin=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$bin" ] || swift build -c release >/dev/null
for tool in sipp stunnel openssl curl python3 ss; do
  command -v $tool >/dev/null || {
    case $tool in
      sipp) hint="apt-get install sip-tester" ;; stunnel) hint="apt-get install stunnel4" ;;
      ss) hint="apt-get install iproute2" ;; *) hint="apt-get install $tool" ;;
    esac
    echo "needs $tool ($hint)" >&2; exit 2; }
done
for variant in $variants; do
  case $variant in udp|tcp|tls|tcp-tn|tls-tn) ;; *) echo "unknown variant $variant (udp, tcp, tls, tcp-tn, tls-tn)" >&2; exit 2 ;; esac
done
scenario=$root/Tests/IntegrationTests/Scenarios/ivr-key3-info.xml
calls=$((rate * seconds))

work=$(mktemp -d)
server=""; tunnel=""; sipp_pid=""
cleanup() {
  [ -z "$sipp_pid" ] || kill "$sipp_pid" 2>/dev/null || true
  [ -z "$tunnel" ] || kill "$tunnel" 2>/dev/null || true
  if [ -n "$server" ]; then
    kill -INT "$server" 2>/dev/null || true
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

# The PKI: a CA, and a server certificate for 127.0.0.1 (CN and IP subjectAltName), EC P-256.
pki="$work/pki"; mkdir -p "$pki"
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
openssl req -x509 "${ec[@]}" -keyout "$pki/ca.key" -out "$pki/ca.pem" -days 2 -subj "/CN=Hotline bench CA" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"
openssl req "${ec[@]}" -keyout "$pki/server.key" -out "$pki/server.csr" -subj /CN=127.0.0.1 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' > "$pki/server.ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial -days 2 \
  -out "$pki/server.pem" -extfile "$pki/server.ext" 2>"$pki/err" || fail "openssl: $(cat "$pki/err")"

# The server: UDP, TCP, TLS and HTTP on one block of free ports.
block=$(free_block 15000 5000 4)
udp=$block; tcp=$((block + 1)); tls=$((block + 2)); http=$((block + 3))
rtp_base=$(free_block 20000 20000 4000)
"$bin" serve --sip 127.0.0.1:$udp --sip-tcp 127.0.0.1:$tcp --sip-tls 127.0.0.1:$tls \
  --tls-cert "$pki/server.pem" --tls-key "$pki/server.key" --http 127.0.0.1:$http \
  --dialplan Dialplans/bench.yaml --db "$work/t.sqlite" --rtp-ports $rtp_base-$((rtp_base + 3999)) --max-calls 5000 \
  --log-level warning > "$work/server.out" 2> "$work/server.err" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/server.out" 2>/dev/null && break; sleep 0.1; done
grep -q "listening.*tcp=127.0.0.1:$tcp tls=127.0.0.1:$tls" "$work/server.out" \
  || fail "server did not start: $(cat "$work/server.out") $(tail -n 5 "$work/server.err")"

# stunnel, client mode: one service keeps SIPp's t1 connection on one TLS connection, the
# other opens a TLS connection with a full handshake for each of SIPp's tn connections.
tunnel_ports=$(free_block 20000 5000 2)
cat > "$work/stunnel.conf" <<EOF
foreground = yes
pid =
output = $work/stunnel.log
debug = 4
socket = l:TCP_NODELAY=1
socket = r:TCP_NODELAY=1

[sip-tls]
client = yes
accept = 127.0.0.1:$tunnel_ports
connect = 127.0.0.1:$tls
CAfile = $pki/ca.pem
verifyChain = yes
checkIP = 127.0.0.1

[sip-tls-per-call]
client = yes
accept = 127.0.0.1:$((tunnel_ports + 1))
connect = 127.0.0.1:$tls
CAfile = $pki/ca.pem
verifyChain = yes
checkIP = 127.0.0.1
sessionResume = no
EOF
stunnel "$work/stunnel.conf" > "$work/stunnel.out" 2>&1 &
tunnel=$!
for _ in $(seq 50); do ss -Htln | grep -q "127.0.0.1:$((tunnel_ports + 1)) " && break; sleep 0.1; done
ss -Htln | grep -q "127.0.0.1:$((tunnel_ports + 1)) " || fail "stunnel did not start: $(tail -n 5 "$work/stunnel.out" "$work/stunnel.log" 2>/dev/null)"

hz=$(getconf CLK_TCK)
cpu() { awk '{print $14 + $15}' /proc/$1/stat; }
metrics() { curl -s --max-time 5 "127.0.0.1:$http/metrics"; }
metric() { awk -v m="$1" '$1 == m {print $2; found=1} END {if (!found) print 0}' <<<"$2" | cut -d. -f1; }

# One run; appends "variant round placed ok failed server_ms wall_s accepted stunnel_ms" to results.
run() {
  local variant=$1 round=$2 dir="$work/$1-$2" target transport
  mkdir -p "$dir"
  case $variant in
    udp) target=$udp; transport=u1 ;;
    tcp) target=$tcp; transport=t1 ;;
    tcp-tn) target=$tcp; transport=tn ;;
    tls) target=$tunnel_ports; transport=t1 ;;
    tls-tn) target=$((tunnel_ports + 1)); transport=tn ;;
  esac
  local local_port media
  local_port=$(free_block 25000 5000 1); media=$(free_block 12000 8000 8)
  local m0 m1 c0 c1 s0 s1 t0 t1
  m0=$(metrics); c0=$(cpu $server); s0=$(cpu $tunnel); t0=$(date +%s.%N)
  # A subshell in $dir: SIPp writes its error file and stats there.
  (cd "$dir" && exec timeout $((seconds + 40)) sipp 127.0.0.1:$target -t $transport -sf "$scenario" -s 12345 \
    -i 127.0.0.1 -p $local_port -mi 127.0.0.1 -mp $media -r "$rate" -m "$calls" -l 20000 -max_socket 5000 \
    -recv_timeout 15000 -timeout_error -max_retrans 3 -nostdin -trace_stat -stf "$dir/stat.csv" -fd 5 \
    -trace_err -error_file "$dir/errors.log" > "$dir/sipp.out" 2>&1) &
  sipp_pid=$!
  local rc=0; wait $sipp_pid || rc=$?; sipp_pid=""
  t1=$(date +%s.%N); c1=$(cpu $server); s1=$(cpu $tunnel); m1=$(metrics)
  [ -s "$dir/stat.csv" ] || fail "$variant round $round: SIPp wrote no statistics (exit $rc): $(tail -n 5 "$dir/sipp.out")"
  local header last
  header=$(head -n 1 "$dir/stat.csv"); last=$(tail -n 1 "$dir/stat.csv")
  col() { echo "$header" | tr ';' '\n' | grep -n -x "$1" | cut -d: -f1; }
  local placed ok failed
  placed=$(echo "$last" | cut -d';' -f"$(col 'TotalCallCreated')")
  ok=$(echo "$last" | cut -d';' -f"$(col 'SuccessfulCall(C)')")
  failed=$(echo "$last" | cut -d';' -f"$(col 'FailedCall(C)')")
  [ "$placed" -gt 0 ] || fail "$variant round $round: SIPp placed no calls: $(tail -n 5 "$dir/sipp.out")"
  local accepted
  accepted=$(( $(metric 'hotline_sip_connections_total{origin="accepted"}' "$m1") - $(metric 'hotline_sip_connections_total{origin="accepted"}' "$m0") ))
  local ms=$(( (c1 - c0) * 1000 / hz )) sms=$(( (s1 - s0) * 1000 / hz ))
  local wall; wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  echo "$variant $round $placed $ok $failed $ms $wall $accepted $sms" >> "$work/results"
  local line
  line=$(awk -v v="$variant" -v r="$round" -v n="$placed" -v ok="$ok" -v f="$failed" -v ms="$ms" -v w="$wall" -v a="$accepted" -v s="$sms" -v rc="$rc" \
    'BEGIN { printf "round %s %-7s placed %5d ok %5d failed %3d  server CPU %6d ms over %6.2f s: %6.3f ms per call, %5.1f %% of a core; connections accepted %4d; stunnel %6.3f ms per call%s\n",
             r, v, n, ok, f, ms, w, ms / n, 100 * ms / 1000 / w, a, s / n, (rc == 0 ? "" : "  (SIPp exit " rc ")") }')
  echo "$line  [load $(cut -d' ' -f1 /proc/loadavg); fuzzers: $(fuzzers)]"
  if [ "$failed" != 0 ]; then
    echo "  failures (SIPp's error log, first 3 lines):"; grep -v '^$' "$dir/errors.log" 2>/dev/null | head -n 3 | cut -c1-200 | sed 's/^/    /'
  fi
}

# The server's own background (timers, metrics) with no calls, for scale.
idle0=$(cpu $server); sleep 5; idle1=$(cpu $server)
idle_ms_per_s=$(awk -v t=$((idle1 - idle0)) -v hz="$hz" 'BEGIN { printf "%.1f", t * 1000 / hz / 5 }')
# Other work on the machine that skews CPU figures: fuzz targets (process names Fuzz*).
fuzzers() { local f; f=$(pgrep -l '^Fuzz' | awk '{ printf "%s%s", sep, $2; sep = " " }'); echo "${f:-none}"; }
echo "machine: $(nproc) CPUs, $(lscpu | awk -F: '/Model name/ {gsub(/^ +/, "", $2); print $2}'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "server: $bin (udp $udp, tcp $tcp, tls $tls); $(stunnel -version 2>&1 | grep -m1 '^stunnel'), $(stunnel -version 2>&1 | grep -m1 'Running  with' | sed 's/^ *//')"
echo "server idle (no calls, 5 s): $idle_ms_per_s ms of CPU per second"
echo "ivr-key3-info at $rate calls/s for $seconds s ($calls calls) per run, $rounds rounds of: $variants (reversed on even rounds); fuzzers running now: $(fuzzers)"
for round in $(seq "$rounds"); do
  order=$variants
  [ $((round % 2)) = 0 ] && order=$(tr ' ' '\n' <<<"$variants" | tac | tr '\n' ' ')
  for variant in $order; do run "$variant" "$round"; done
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg); fuzzers running now: $(fuzzers)"
m=$(metrics)
n=$(metric 'hotline_sip_connections_total{origin="opened"}' "$m")
[ "$n" = 0 ] || echo "note: the server opened $n connections of its own (its requests should go back on the callers' connections)"
for reason in over_limit framing slow idle tls connect_failed; do
  n=$(metric "hotline_sip_connections_closed_total{reason=\"$reason\"}" "$m")
  [ "$n" = 0 ] || echo "note: the server closed $n connections for reason $reason"
done
grep -E "^[^ ]+ (warning|error|critical) " "$work/server.err" | grep -v "admin API: no token configured" > "$work/server-warnings" || true
[ ! -s "$work/server-warnings" ] || { echo "note: the server logged $(wc -l < "$work/server-warnings") warning/error lines, the first:"; head -n 3 "$work/server-warnings" | cut -c1-250 | sed 's/^/  /'; }

median() { sort -g | awk '{v[NR]=$1} END {print (NR%2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}'; }
per_call() { awk -v v="$1" '$1 == v { printf "%.4f\n", $6 / $3 }' "$work/results" | median; }
stunnel_call() { awk -v v="$1" '$1 == v { printf "%.4f\n", $9 / $3 }' "$work/results" | median; }
failed() { awk -v v="$1" '$1 == v { f += $5; n += $3 } END { printf "%d of %d", f, n }' "$work/results"; }
echo
echo "medians over $rounds rounds (server CPU per call placed; stunnel's CPU per call; failed calls over all rounds):"
declare -A pc
for variant in $variants; do
  pc[$variant]=$(per_call "$variant")
  printf "  %-7s %6.3f ms per call   stunnel %6.3f ms per call   failed %s\n" "$variant" "${pc[$variant]}" "$(stunnel_call "$variant")" "$(failed "$variant")"
done
ratio() {
  local a=$1 b=$2
  [ -n "${pc[$a]:-}" ] && [ -n "${pc[$b]:-}" ] || return 0
  paired=$(awk -v a="$a" -v b="$b" '$1 == a { x[$2] = $6 / $3 } $1 == b { y[$2] = $6 / $3 }
    END { for (r in y) if (r in x) printf "%.4f\n", y[r] / x[r] }' "$work/results" | median)
  awk -v a="$a" -v b="$b" -v x="${pc[$a]}" -v y="${pc[$b]}" -v p="$paired" \
    'BEGIN { printf "  %-7s / %-7s %.2fx (%+.3f ms per call; median of the rounds'"'"' own ratios %.2fx)\n", b, a, y / x, y - x, p }'
}
ratio udp tcp; ratio udp tls; ratio tcp tls; ratio udp tcp-tn; ratio tcp-tn tls-tn; ratio tls tls-tn
