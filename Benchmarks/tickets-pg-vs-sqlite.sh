#!/usr/bin/env bash
# Durable tickets per second: the PostgreSQL store (synchronous_commit = on for every open,
# one writer per node batching) against the SQLite store (synchronous = FULL, group commit),
# side by side in one run, through the real stores (`hotline tickets bench`, the same
# workload: open, then finish with the enterprise line, which opens a work order). Two loads:
#   burst   TICKETS answered calls submitted at once: the most tickets per second each store
#           makes durable;
#   steady  RATE tickets per second for 3 s: how long a call's 200 OK waits for its ticket's
#           commit (open -> durable), and whether the store keeps up.
# Each store runs with group commit and, as the reference, one commit per write. The
# configurations alternate within each round, ROUNDS rounds; the tables give the median of
# each and the ratio PostgreSQL / SQLite.
#
#   Benchmarks/tickets-pg-vs-sqlite.sh [TICKETS] [ROUNDS] [RATE]    # default 3000, 5, 200
#
# Uses .build/release/hotline (HOTLINE_BIN overrides). SQLite goes to var/bench (a real disk).
# PostgreSQL: a private server from deploy/postgres/pgctl.sh on PG_PORT (default 55433, not the
# tests' 55432, so a `make test` server does not share the run), its data under
# /tmp/hotline-pg-PORT on the same disk, fsync and synchronous_commit on; started if it is not
# running and then stopped at the end. Each run creates and drops its own database on it.
set -euo pipefail
cd "$(dirname "$0")/.."
TICKETS=${1:-3000}
ROUNDS=${2:-5}
RATE=${3:-200}
BIN=${HOTLINE_BIN:-.build/release/hotline}
PG_PORT=${PG_PORT:-55433}
[ -x "$BIN" ] || { echo "build it first: swift build -c release" >&2; exit 1; }
DIR=var/bench
mkdir -p "$DIR"
RESULTS=$(mktemp)
started_pg=0
cleanup() {
  rm -f "$RESULTS"
  [ "$started_pg" = 1 ] && deploy/postgres/pgctl.sh stop "$PG_PORT"
  return 0
}
trap cleanup EXIT
if ! deploy/postgres/pgctl.sh status "$PG_PORT"; then
  deploy/postgres/pgctl.sh start "$PG_PORT"
  started_pg=1
fi
PG_URL=$(deploy/postgres/pgctl.sh url "$PG_PORT")

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), SQLite on $(df -T "$DIR" | awk 'NR==2 {print $2 " " $1}'), PostgreSQL $(psql -h 127.0.0.1 -p "$PG_PORT" -U hotline -d postgres -tAc 'SHOW server_version') on $(df -T /tmp | awk 'NR==2 {print $2 " " $1}'), burst of $TICKETS, steady $RATE/s, $ROUNDS rounds" >&2
for round in $(seq "$ROUNDS"); do
  for load in burst steady; do
    for mode in group one; do
      # Alternate which store goes first from round to round.
      stores=(sqlite postgres); [ $((round % 2)) = 0 ] && stores=(postgres sqlite)
      for store in "${stores[@]}"; do
        args=()
        if [ "$store" = postgres ]; then args+=(--db "$PG_URL"); else args+=(--dir "$DIR" --durability full); fi
        [ "$mode" = one ] && args+=(--max-writes-per-commit 1)
        if [ "$load" = burst ]; then args+=(--tickets "$TICKETS"); else args+=(--tickets $((RATE * 3)) --rate "$RATE"); fi
        line=$("$BIN" tickets bench "${args[@]}")
        echo "round=$round $line" | tee -a "$RESULTS" >&2
      done
    done
  done
done

# The median of each configuration, and PostgreSQL / SQLite.
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { grep -o " $1=[^ ]*" | cut -d= -f2; }
rows() { grep "mode=$2 .* rate=$3 .* store=$1\$" "$RESULTS" || true; }
for load in burst "$RATE"; do
  echo
  if [ "$load" = burst ]; then echo "Burst of $TICKETS tickets (median of $ROUNDS):"; else echo "Steady $RATE tickets/s for 3 s (median of $ROUNDS):"; fi
  echo
  echo "| store | commit | tickets/s | commits | writes per commit | open → durable p50 | p99 |"
  echo "|---|---|---:|---:|---:|---:|---:|"
  for mode in group_commit one_commit_per_write; do
    for store in sqlite postgres; do
      r=$(rows "$store" "$mode" "$load")
      label=$store; [ "$store" = sqlite ] && label="SQLite (FULL)"; [ "$store" = postgres ] && label="PostgreSQL (synchronous_commit on)"
      printf "| %s | %s | %s | %s | %s | %s ms | %s ms |\n" "$label" "${mode//_/ }" \
        "$(echo "$r" | field tickets_per_s | median)" "$(echo "$r" | field commits | median)" \
        "$(echo "$r" | field writes_per_commit | median)" "$(echo "$r" | field open_p50_ms | median)" \
        "$(echo "$r" | field open_p99_ms | median)"
    done
  done
  for mode in group_commit one_commit_per_write; do
    s=$(rows sqlite "$mode" "$load" | field tickets_per_s | median)
    p=$(rows postgres "$mode" "$load" | field tickets_per_s | median)
    s50=$(rows sqlite "$mode" "$load" | field open_p50_ms | median)
    p50=$(rows postgres "$mode" "$load" | field open_p50_ms | median)
    s99=$(rows sqlite "$mode" "$load" | field open_p99_ms | median)
    p99=$(rows postgres "$mode" "$load" | field open_p99_ms | median)
    awk -v m="${mode//_/ }" -v s="$s" -v p="$p" -v s50="$s50" -v p50="$p50" -v s99="$s99" -v p99="$p99" 'BEGIN {
      r = (s > 0) ? sprintf("%.2f", p / s) : "n/a"
      printf "\n%s: PostgreSQL / SQLite tickets/s = %s; open p50 %s vs %s ms, p99 %s vs %s ms\n", m, r, p50, s50, p99, s99 }'
  done
done
