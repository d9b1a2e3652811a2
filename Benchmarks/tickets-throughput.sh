#!/usr/bin/env bash
# Durable tickets per second: group commit versus one commit per write, with
# synchronous=FULL and NORMAL, side by side in one run, through the real store
# (`hotline tickets bench`). Two loads:
#   burst   TICKETS answered calls submitted at once: the most tickets per second the store
#           makes durable;
#   steady  RATE tickets per second for STEADY_SECONDS: how long a call's 200 OK waits for its
#           ticket's commit (open -> durable), and whether the store keeps up.
# Each configuration runs ROUNDS times, interleaved (binaries too), so all see the same noise;
# the tables give the median of each.
#
#   Benchmarks/tickets-throughput.sh [TICKETS] [ROUNDS] [RATE]    # default 5000, 3, 1000
#
# Environment:
#   HOTLINE_BIN="A B"       binaries to compare (default .build/release/hotline): a column each
#   DURABILITIES="full"     default "full normal"
#   MODES="group"           default "group one" (one: one commit per write)
#   LOADS="burst"           default "burst steady"
#   STEADY_SECONDS=10       default 3
#
# The database goes to var/bench (a real disk: fsync on tmpfs costs nothing, and would flatter
# FULL). On a shared machine, run it under `flock /tmp/bench.lock`.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKETS=${1:-5000}
ROUNDS=${2:-3}
RATE=${3:-1000}
read -r -a DURABILITY_LIST <<< "${DURABILITIES:-full normal}"
read -r -a MODE_LIST <<< "${MODES:-group one}"
read -r -a LOAD_LIST <<< "${LOADS:-burst steady}"
STEADY_SECONDS=${STEADY_SECONDS:-3}
. Benchmarks/lib/bench-binaries.sh
RESULTS=$(mktemp)
trap 'rm -f "$RESULTS"' EXIT

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU, $(df -T "$DIR" | awk 'NR==2 {print $2 " on " $1}'), burst of $TICKETS, steady $RATE/s for ${STEADY_SECONDS} s, $ROUNDS rounds, binaries: ${BINS[*]}" >&2
for round in $(seq "$ROUNDS"); do
  for load in "${LOAD_LIST[@]}"; do
    for durability in "${DURABILITY_LIST[@]}"; do
      for mode in "${MODE_LIST[@]}"; do
        for b in "${!BINS[@]}"; do
          args=(--dir "$DIR" --durability "$durability")
          [ "$mode" = one ] && args+=(--max-writes-per-commit 1)
          if [ "$load" = burst ]; then
            args+=(--tickets "$TICKETS")
          else
            args+=(--tickets $((RATE * STEADY_SECONDS)) --rate "$RATE")
          fi
          line=$("${BINS[$b]}" tickets bench "${args[@]}")
          echo "round=$round bin=$b $line" | tee -a "$RESULTS" >&2
        done
      done
    done
  done
done

# The median of each configuration, a column per binary (and the last one's ratio to the first).
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { grep -o " $1=[^ ]*" | cut -d= -f2; }
rows() { grep "^round=[0-9]* bin=$1 mode=$2 durability=$3 rate=$4 " "$RESULTS" || true; }
names=""
for b in "${!BINS[@]}"; do names+=" $((b + 1))=${BINS[$b]}"; done
last=$((${#BINS[@]} - 1))
for load in "${LOAD_LIST[@]}"; do
  rate=burst
  echo
  if [ "$load" = burst ]; then echo "Burst of $TICKETS tickets (binaries:$names):"; else rate=$RATE; echo "Steady $RATE tickets/s for $STEADY_SECONDS s (binaries:$names):"; fi
  echo
  header="| durability | commit |"; rule="|---|---|"
  for metric in "tickets/s" "open → durable p50" "p99"; do
    for b in "${!BINS[@]}"; do header+=" $metric ($((b + 1))) |"; rule+="---:|"; done
    if [ "$metric" = "tickets/s" ] && [ "$last" -gt 0 ]; then header+=" ratio |"; rule+="---:|"; fi
  done
  header+=" commits ($((last + 1))) | writes per commit ($((last + 1))) |"; rule+="---:|---:|"
  echo "$header"; echo "$rule"
  for durability in "${DURABILITY_LIST[@]}"; do
    for m in "${MODE_LIST[@]}"; do
      mode=group_commit; [ "$m" = one ] && mode=one_commit_per_write
      line="| $durability | ${mode//_/ } |"
      for metric in tickets_per_s open_p50_ms open_p99_ms; do
        unit=""; [ "$metric" != tickets_per_s ] && unit=" ms"
        for b in "${!BINS[@]}"; do line+=" $(rows "$b" "$mode" "$durability" "$rate" | field "$metric" | median)$unit |"; done
        if [ "$metric" = tickets_per_s ] && [ "$last" -gt 0 ]; then
          first=$(rows 0 "$mode" "$durability" "$rate" | field "$metric" | median)
          final=$(rows "$last" "$mode" "$durability" "$rate" | field "$metric" | median)
          line+=" $(awk -v a="$first" -v b="$final" 'BEGIN {printf "%.2f×", b / a}') |"
        fi
      done
      line+=" $(rows "$last" "$mode" "$durability" "$rate" | field commits | median) | $(rows "$last" "$mode" "$durability" "$rate" | field writes_per_commit | median) |"
      echo "$line"
    done
  done
done
