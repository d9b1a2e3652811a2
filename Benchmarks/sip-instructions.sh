#!/usr/bin/env bash
# Instructions per SIP message parsed (a SIPp-style INVITE with SDP) and per 200 OK built and
# serialized, counted by callgrind: exact and repeatable whatever else the machine does, so
# two builds compare side by side without noise. Counts the difference between N and 0
# iterations, divided by N, so start-up is excluded.
# Usage: Benchmarks/sip-instructions.sh [N] [BIN...]   (default N=2000, BIN .build/release/hotline-micro)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}; shift || true
bins=("$@"); [ ${#bins[@]} -gt 0 ] || bins=(.build/release/hotline-micro)
command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
[ -x "${bins[0]}" ] || swift build -c release --product hotline-micro >/dev/null
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
# valgrind 3.19 cannot read Swift 6's debug information: count on a stripped copy.
count() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | awk '/Collected/ {print $4}'; }
printf "%-50s %-22s %-22s\n" binary "parse (instr/msg)" "serialize (instr/msg)"
for bin in "${bins[@]}"; do
  stripped="$work/$(echo "$bin" | tr / _)"; strip -o "$stripped" "$bin"
  p0=$(count "$stripped" parse 0); p1=$(count "$stripped" parse "$n")
  s0=$(count "$stripped" serialize 0); s1=$(count "$stripped" serialize "$n")
  printf "%-50s %-22s %-22s\n" "$bin" $(( (p1 - p0) / n )) $(( (s1 - s0) / n ))
done
