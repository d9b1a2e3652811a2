#!/usr/bin/env bash
# The ticket writer's CPU per ticket: user + system CPU time of `hotline tickets bench` (a burst
# of TICKETS answered calls, full durability, group commit: an open, a finish and the work order
# it opens, per ticket) divided by the tickets. The bench process does little besides the
# writer (it submits and counts), so this is the writer's cost, setup included.
#
#   Benchmarks/tickets-writer-cpu.sh [TICKETS] [ROUNDS]    # default 20000, 5
#
# HOTLINE_BIN="A B" compares binaries, interleaved per round. Run it under
# `flock /tmp/bench.lock` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKETS=${1:-20000}
ROUNDS=${2:-5}
. Benchmarks/lib/bench-binaries.sh
RESULTS=$(mktemp)
TIMES=$(mktemp)
trap 'rm -f "$RESULTS" "$TIMES"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU, burst of $TICKETS, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  for b in "${!BINS[@]}"; do
    line=$(/usr/bin/time -o "$TIMES" -f "%U %S" "${BINS[$b]}" tickets bench --dir "$DIR" --tickets "$TICKETS")
    read -r user sys < "$TIMES"
    us=$(awk -v u="$user" -v s="$sys" -v n="$TICKETS" 'BEGIN {printf "%.0f", (u + s) * 1e6 / n}')
    echo "round=$round bin=$b cpu_us_per_ticket=$us user_s=$user sys_s=$sys $line" | tee -a "$RESULTS" >&2
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
echo
echo "| binary | CPU per ticket (µs, median) | user s | system s | tickets/s |"
echo "|---|---:|---:|---:|---:|"
for b in "${!BINS[@]}"; do
  rows=$(grep "^round=[0-9]* bin=$b " "$RESULTS")
  printf "| %s | %s | %s | %s | %s |\n" "${BINS[$b]}" \
    "$(echo "$rows" | grep -o 'cpu_us_per_ticket=[^ ]*' | cut -d= -f2 | median)" \
    "$(echo "$rows" | grep -o 'user_s=[^ ]*' | cut -d= -f2 | median)" \
    "$(echo "$rows" | grep -o 'sys_s=[^ ]*' | cut -d= -f2 | median)" \
    "$(echo "$rows" | grep -o 'tickets_per_s=[^ ]*' | cut -d= -f2 | median)"
done
