#!/usr/bin/env bash
# Instructions per call, stage by stage, for the key-3 IVR call (Dialplans/bench.yaml, SIPp's
# ivr-key3-info.xml), counted exactly by callgrind on hotline-stages (Benchmarks/Stages):
#   sip       the SIP signalling through the real SIPEndpoint (parse, transactions, timers,
#             serialise) with the SDP answer, the dialog and the INFO's DTMF body
#   dialplan  the real DialplanExecution, fed the events CallEngine feeds it
#   rtp       150 RTP packets (3 s of prompts) built by RTPSession.tick and sent with sendto
#   tickets   the ticket opened and finished (enterprise line) in the real SQLite store
# Each stage runs under callgrind for N and 2N calls with instrumentation on around the
# measured loop only (all threads: the ticket writer's work counts); (Ir(2N) - Ir(N)) / N is
# the per-call figure, fixed costs cancelling. Kernel time (sendto, fsync) is not counted.
# The sip stage's harness (writing SIPp's datagrams) is measured and taken out. Then the top
# functions of each stage (inclusive and self, from the 2N run, per call).
# Usage: Benchmarks/callgrind-stages.sh [N]   (default 500; run as flock /tmp/bench.lock ...)
# CALLGRIND_STAGES_KEEP=DIR keeps the callgrind output files there.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-500}
[[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "usage: $0 [N]" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
command -v callgrind_annotate >/dev/null || { echo "needs callgrind_annotate (valgrind)" >&2; exit 2; }
if ! build=$(swift build -c release --product hotline-stages 2>&1); then echo "$build" >&2; exit 1; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# valgrind 3.19 gives up on Swift 6's DWARF 5: count on a copy without debug information
# (the symbol table stays, so functions keep their names).
bin="$work/hotline-stages"
strip --strip-debug -o "$bin" .build/release/hotline-stages
stages=(sip dialplan rtp tickets)

# Swift's hash seed is random per process; fixed, dictionaries probe the same way every run.
export SWIFT_DETERMINISTIC_HASHING=1

demangle() { if command -v swift >/dev/null; then swift demangle --simplified; else cat; fi; }

# The harness's own work inside the loop, taken out of the figures: the sip stage writes SIPp's
# datagrams (SIPpPeer.invite/ack/info/byeOK, about 2% of the stage). Their inclusive Ir summed.
harness() {
  local file=$1 stage=$2
  [ "$stage" = sip ] || { echo 0; return; }
  callgrind_annotate --inclusive=yes --threshold=100 "$file" 2>/dev/null | demangle \
    | awk '/SIPpPeer\.(invite|ack|info|byeOK)\(/ { ir = $1; gsub(",", "", ir); sum += ir } END { printf "%d\n", sum }'
}

# Instructions of one run (all threads, the measured loop only), less the harness's.
count() {
  local stage=$1 calls=$2 out="$work/$1.$2.callgrind"
  if ! valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$out" "$bin" "$stage" "$calls" \
       >"$work/$stage.$calls.log" 2>&1; then
    echo "hotline-stages $stage $calls failed:" >&2; tail -20 "$work/$stage.$calls.log" >&2; exit 1
  fi
  # "totals:" counts what was instrumented ("summary:" stays 0 with --instr-atstart=no).
  local all peer
  all=$(awk '/^totals:/ {print $2; exit}' "$out")
  peer=$(harness "$out" "$stage")
  echo $((all - peer)) "$peer"
}

declare -A per_call
total=0
printf "%-9s %12s %14s %14s %16s\n" stage "Ir/call" "Ir(N=$n)" "Ir(2N=$((2 * n)))" "harness/call"
for stage in "${stages[@]}"; do
  result=$(count "$stage" "$n"); read -r one peer_one <<<"$result"
  result=$(count "$stage" $((2 * n))); read -r two peer_two <<<"$result"
  per_call[$stage]=$(( (two - one) / n ))
  total=$(( total + per_call[$stage] ))
  printf "%-9s %12s %14s %14s %16s\n" "$stage" "${per_call[$stage]}" "$one" "$two" $(( (peer_two - peer_one) / n ))
done
printf "%-9s %12s\n" total "$total"
echo "(Ir(N), Ir(2N): the measured loop's instructions less the harness's; harness/call: excluded)"

# The top rows of callgrind_annotate's table, demangled, per call (the 2N run's cost / 2N: its
# fixed part is a few thousand instructions), without the harness frames (main, measuredLoop)
# and plumbing (protocol witnesses, thunks, partial applies, the layers of DispatchQueue.sync
# and GRDB's SerializedDatabase.sync), which would fill the list with copies of one figure.
top() {
  local file=$1 calls=$2 inclusive=$3 rows=$4
  callgrind_annotate --inclusive="$inclusive" --threshold=100 "$file" 2>/dev/null | demangle \
    | awk -v calls="$calls" -v rows="$rows" '
        /file:function/ { table = 1; next }
        !table || !/^ *[0-9,]+ / { if (table && shown && /^$/) exit; next }
        {
          ir = $1; gsub(",", "", ir)
          line = $0
          sub(/^ *[0-9,]+ +\( *[0-9.]+%\) +/, "", line)   # the count and its percentage
          sub(/ \[\/[^]]*\]$/, "", line)                  # the object file
          sub(/^(\?\?\?|[^ :]*\/[^ :]*):/, "", line)      # the source file (unknown: stripped)
          if (line ~ /^(hotline_stages_main|measuredLoop|protocol witness for|partial apply|thunk for|reabstraction thunk)/ \
              || line ~ /DispatchQueue|_dispatch_|^dispatch_sync|SerializedDatabase\.sync/) next
          printf "%12.0f  %s\n", ir / calls, line
          if (++shown == rows) exit
        }' | cut -c1-170 || true # awk stops reading early: its writers get SIGPIPE
}

for stage in "${stages[@]}"; do
  echo
  echo "== $stage: top functions by inclusive Ir per call =="
  top "$work/$stage.$((2 * n)).callgrind" $((2 * n)) yes 10
  echo "-- by self Ir per call --"
  top "$work/$stage.$((2 * n)).callgrind" $((2 * n)) no 5
done

if [ -n "${CALLGRIND_STAGES_KEEP:-}" ]; then
  mkdir -p "$CALLGRIND_STAGES_KEEP"
  cp "$work"/*.callgrind "$CALLGRIND_STAGES_KEEP"/
  echo; echo "callgrind files kept in $CALLGRIND_STAGES_KEEP"
fi
