#!/usr/bin/env bash
# Durable tickets per second: group commit versus one commit per write, with
# synchronous=FULL and NORMAL, side by side in one run, through the real store
# (`hotline tickets bench`). Two loads:
#   burst   TICKETS answered calls submitted at once: the most tickets per second the store
#           makes durable;
#   steady  RATE tickets per second for 3 s: how long a call's 200 OK waits for its ticket's
#           commit (open -> durable), and whether the store keeps up.
# Each configuration runs ROUNDS times, interleaved, so all see the same noise; the tables give
# the median of each.
#
#   Benchmarks/tickets-throughput.sh [TICKETS] [ROUNDS] [RATE]    # default 5000, 3, 1000
#
# Uses .build/release/hotline (HOTLINE_BIN overrides); the database goes to var/bench (a real
# disk: fsync on tmpfs costs nothing, and would flatter FULL).
set -euo pipefail
cd "$(dirname "$0")/.."
TICKETS=${1:-5000}
ROUNDS=${2:-3}
RATE=${3:-1000}
BIN=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$BIN" ] || { echo "build it first: swift build -c release" >&2; exit 1; }
DIR=var/bench
mkdir -p "$DIR"
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU, $(df -T "$DIR" | awk 'NR==2 {print $2 " on " $1}'), burst of $TICKETS, steady $RATE/s, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  for load in burst steady; do
    for durability in full normal; do
      for mode in group one; do
        args=(--dir "$DIR" --durability "$durability")
        [ "$mode" = one ] && args+=(--max-writes-per-commit 1)
        if [ "$load" = burst ]; then args+=(--tickets "$TICKETS"); else args+=(--tickets $((RATE * 3)) --rate "$RATE"); fi
        line=$("$BIN" tickets bench "${args[@]}")
        echo "round=$round $line" | tee -a "$RESULTS" >&2
      done
    done
  done
done

# The median of each configuration.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { grep -o " $1=[^ ]*" | cut -d= -f2; }
for load in burst "$RATE"; do
  echo
  if [ "$load" = burst ]; then echo "Burst of $TICKETS tickets:"; else echo "Steady $RATE tickets/s for 3 s:"; fi
  echo
  echo "| durability | commit | tickets/s | commits | writes per commit | open → durable p50 | p99 |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for durability in full normal; do
    for mode in group_commit one_commit_per_write; do
      rows=$(grep "mode=$mode durability=$durability rate=$load " "$RESULTS")
      printf "| %s | %s | %s | %s | %s | %s ms | %s ms |\n" "$durability" "${mode//_/ }" \
        "$(echo "$rows" | field tickets_per_s | median)" "$(echo "$rows" | field commits | median)" \
        "$(echo "$rows" | field writes_per_commit | median)" "$(echo "$rows" | field open_p50_ms | median)" \
        "$(echo "$rows" | field open_p99_ms | median)"
    done
  done
done
