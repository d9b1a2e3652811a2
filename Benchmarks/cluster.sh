#!/usr/bin/env bash
# One node called directly against three nodes behind the Kamailio front, the same IVR load
# from `hotline flood` (the bench contract's key-3 flow: menu, key 3 by SIP INFO after 1.5 s,
# key-3 prompt, the server hangs up; every prompt identified from the received audio), side
# by side in one run: the variants alternate, ROUNDS rounds.
#
#   single          deploy/cluster.sh with NODES=1; the flood calls node1 (127.0.0.11:5060) directly
#   cluster         deploy/cluster.sh with NODES=3; the flood calls the front (FRONT, 127.0.0.1:5070)
#   single-sqlite   as single, the node on its own SQLite file (var/bench)
#   cluster-sqlite  as cluster, each node on its own SQLite file
#
# single and cluster keep every node's tickets on one PostgreSQL (a fresh database per run).
# A node that dies during a run (its pid gone, or "crashed" in its log) makes the run invalid:
# the run's line says valid=0 and the medians skip it.
# Per run: calls started / succeeded / failed, calls/s achieved, setup (INVITE -> 200) p50/p99
# as the caller sees it, and CPU (user + system from /proc/PID/stat, in clock ticks) per call
# started of the front (Kamailio: its main process and all its children), the nodes (sum over
# the node processes) and PostgreSQL (the postmaster and all its backends and workers; exited
# backends are in the postmaster's cutime/cstime), read before the first call and after the
# flood's last call ended, while everything is still up; and, before the flood, the same
# processes' CPU over IDLE seconds (5) with no call (ms of CPU per second). Then the medians
# and ratios.
#
#   Benchmarks/cluster.sh [RATE] [SECONDS] [ROUNDS]     # default 100 calls/s, 20 s, 3 rounds
#
# Environment: HOTLINE_BIN (.build/release/hotline), PG_PORT (55433: a private PostgreSQL from
# deploy/postgres/pgctl.sh, started if it is not running and then stopped; not the tests'
# 55432), VARIANTS ("single cluster"; all four: "single cluster single-sqlite cluster-sqlite"),
# OUT (keep the per-run files there), IDLE (seconds of the idle sample, 5), FRONT (the front's
# address, 127.0.0.1:5070: deploy/cluster.sh's default 5060 is also SIPp's default local port).
# Loopback only (127.0.0.0/8); every flood is bounded by --duration and its drain timeout.
# On a 2-core machine the three nodes, the front, PostgreSQL and the generator share the same
# two cores: this measures what the front and the spreading cost per call, not capacity.
set -euo pipefail
cd "$(dirname "$0")/.."
RATE=${1:-100}
DURATION=${2:-20}
ROUNDS=${3:-3}
IDLE=${IDLE:-5}
BIN=${HOTLINE_BIN:-.build/release/hotline}
PG_PORT=${PG_PORT:-55433}
VARIANTS=${VARIANTS:-"single cluster"}
# The front's address: not 127.0.0.1:5060, which SIPp takes by default (tests beside us).
FRONT=${FRONT:-127.0.0.1:5070}
[ -x "$BIN" ] || { echo "build it first: swift build -c release" >&2; exit 1; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT" var/bench
RESULTS=$OUT/results.txt
: > "$RESULTS"
hz=$(getconf CLK_TCK)
started_pg=0
nodes_up=0
cleanup() {
  [ "$nodes_up" != 0 ] && NODES=$nodes_up PG_PORT=$PG_PORT deploy/cluster.sh stop > /dev/null 2>&1
  [ "$started_pg" = 1 ] && deploy/postgres/pgctl.sh stop "$PG_PORT"
  return 0
}
trap cleanup EXIT

# Nothing else may hold the cluster's addresses (a `make cluster` of someone else).
if ss -Hlun | awk '{print $4}' | grep -qE "^127\.0\.0\.(11|12|13):5060\$|^$FRONT\$"; then
  echo "cluster.sh: something already listens on $FRONT or 127.0.0.11/12/13:5060 (make cluster-stop?)" >&2
  exit 1
fi
if ! deploy/postgres/pgctl.sh status "$PG_PORT"; then
  deploy/postgres/pgctl.sh start "$PG_PORT"
  started_pg=1
fi
pg_server=$(deploy/postgres/pgctl.sh url "$PG_PORT")
pg_dir=${HOTLINE_PG_DIR:-/tmp/hotline-pg-$PG_PORT}
psql_admin() { psql -h 127.0.0.1 -p "$PG_PORT" -U hotline -d postgres -qtAc "$1" > /dev/null; }

# utime + stime + cutime + cstime of a process and, recursively, of its live children.
tree_ticks() {
  local pid=$1 total=0 child
  [ -r "/proc/$pid/stat" ] || { echo 0; return; }
  total=$(awk '{sub(/^.*\) /, ""); print $12 + $13 + $14 + $15}' "/proc/$pid/stat")
  for child in $(ps -o pid= --ppid "$pid"); do
    total=$((total + $(tree_ticks "$child")))
  done
  echo "$total"
}
nodes_ticks() {
  local n total=0
  for n in $(seq 1 "$1"); do total=$((total + $(tree_ticks "$(cat "var/cluster/node$n.pid")"))); done
  echo "$total"
}
snapshot() { # front nodes postgres
  echo "$(tree_ticks "$(cat var/cluster/kamailio.pid)") $(nodes_ticks "$1") $(tree_ticks "$(head -1 "$pg_dir/postmaster.pid")")"
}

run() { # variant round
  local variant=$1 round=$2 nodes target db
  case $variant in
    single|single-sqlite) nodes=1; target=127.0.0.11:5060 ;;
    cluster|cluster-sqlite) nodes=3; target=$FRONT ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac
  if [[ $variant == *-sqlite ]]; then
    db="var/bench/cluster-node{n}-$$.sqlite"
    rm -f var/bench/cluster-node?-$$.sqlite*
  else
    psql_admin "DROP DATABASE IF EXISTS hotline_bench_cluster WITH (FORCE)"
    psql_admin "CREATE DATABASE hotline_bench_cluster"
    db=${pg_server%/*}/hotline_bench_cluster
  fi
  rm -rf var/cluster/node{1,2,3}
  nodes_up=$nodes
  if ! HOTLINE_BIN=$BIN NODES=$nodes CLUSTER_DB=$db PG_PORT=$PG_PORT FRONT=$FRONT DIALPLAN=Dialplans/bench.yaml \
    NODE_ARGS="--max-calls 10000 --log-level warning" deploy/cluster.sh start > "$OUT/start-$variant-$round.log" 2>&1; then
    echo "cluster.sh: $variant round $round did not start: $(tail -3 "$OUT/start-$variant-$round.log")" >&2
    NODES=$nodes PG_PORT=$PG_PORT deploy/cluster.sh stop > /dev/null 2>&1 || true
    nodes_up=0
    echo "variant=$variant round=$round did_not_start valid=0" >> "$RESULTS"
    return 0
  fi
  sleep 2 # the front's first probes
  local idle before after
  idle=$(snapshot "$nodes")
  sleep "$IDLE" # what the processes cost with no call at all (pacers, probes, heartbeats)
  before=$(snapshot "$nodes")
  "$BIN" flood --target "$target" --rate "$RATE" --duration "${DURATION}s" --keys 3 --dtmf info --audio none \
    --expect-prompts bench_menu,bench_key3 --language en --rtp-read batched --json --quiet --drain-timeout 30s \
    > "$OUT/flood-$variant-$round.json" 2> "$OUT/flood-$variant-$round.err" || true
  after=$(snapshot "$nodes")
  local valid=1 n
  for n in $(seq 1 "$nodes"); do kill -0 "$(cat "var/cluster/node$n.pid")" 2>/dev/null || valid=0; done
  NODES=$nodes PG_PORT=$PG_PORT deploy/cluster.sh stop > "$OUT/stop-$variant-$round.log"
  nodes_up=0
  for n in $(seq 1 "$nodes"); do cp var/cluster/node$n.log "$OUT/node$n-$variant-$round.log"; done
  cp var/cluster/kamailio.log "$OUT/kamailio-$variant-$round.log"
  for n in $(seq 1 "$nodes"); do grep -q 'Program crashed' "$OUT/node$n-$variant-$round.log" && valid=0; done
  [ "$valid" = 1 ] || echo "cluster.sh: a node died during $variant round $round (see $OUT/node*-$variant-$round.log)" >&2
  rm -f var/bench/cluster-node?-$$.sqlite*
  python3 - "$OUT/flood-$variant-$round.json" "$variant" "$round" "$before" "$after" "$hz" "$valid" "$idle" "$IDLE" <<'PY' | tee -a "$RESULTS"
import json, sys
path, variant, rnd, before, after, hz, valid, idle, idle_s = sys.argv[1:]
r = json.load(open(path)); hz = int(hz)
c = r["calls"]; s = r.get("setup_ms", {})
d = [int(b) - int(a) for a, b in zip(before.split(), after.split())]
per = lambda ticks: ticks * 1000 / hz / max(1, c["started"])
i = [int(b) - int(a) for a, b in zip(idle.split(), before.split())]
idle_ms = lambda ticks: ticks * 1000 / hz / float(idle_s)
print(f'variant={variant} round={rnd} started={c["started"]} succeeded={c["succeeded"]} failed={c["failed"]} '
      f'cps={c["achieved_rate"]:.1f} setup_p50_ms={s.get("p50", 0):.2f} setup_p99_ms={s.get("p99", 0):.2f} '
      f'front_ms={per(d[0]):.3f} nodes_ms={per(d[1]):.3f} pg_ms={per(d[2]):.3f} total_ms={per(sum(d)):.3f} '
      f'generator_pct={r["generator"]["cpu_percent_of_one_core"]} '
      f'idle_front_ms_per_s={idle_ms(i[0]):.1f} idle_nodes_ms_per_s={idle_ms(i[1]):.1f} idle_pg_ms_per_s={idle_ms(i[2]):.1f} '
      f'seconds={r["generator"]["elapsed_seconds"]:.1f} valid={valid}')
PY
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $RATE calls/s for $DURATION s, $ROUNDS rounds of: $VARIANTS; load $(cut -d' ' -f1-3 /proc/loadavg); files in $OUT" | tee -a "$RESULTS"
for round in $(seq "$ROUNDS"); do
  for variant in $VARIANTS; do run "$variant" "$round"; done
done

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { grep "^variant=$1 .* valid=1\$" "$RESULTS" | grep -o " $2=[^ ]*" | cut -d= -f2 | median; }
runs() { grep -c "^variant=$1 .* valid=1\$" "$RESULTS" || true; }
echo
echo "Median of the valid runs, $RATE calls/s offered for $DURATION s (CPU in ms per call started):"
echo
echo "| variant | valid runs | calls | failed | calls/s | setup p50 | setup p99 | front | nodes | PostgreSQL | total | generator | idle: front / nodes / PostgreSQL |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for v in $VARIANTS; do
  printf "| %s | %s | %s | %s | %s | %s ms | %s ms | %s | %s | %s | %s | %s %% | %s / %s / %s ms/s |\n" "$v" "$(runs "$v")" "$(field "$v" started)" "$(field "$v" failed)" \
    "$(field "$v" cps)" "$(field "$v" setup_p50_ms)" "$(field "$v" setup_p99_ms)" "$(field "$v" front_ms)" \
    "$(field "$v" nodes_ms)" "$(field "$v" pg_ms)" "$(field "$v" total_ms)" "$(field "$v" generator_pct)" \
    "$(field "$v" idle_front_ms_per_s)" "$(field "$v" idle_nodes_ms_per_s)" "$(field "$v" idle_pg_ms_per_s)"
done
for pair in "single cluster" "single-sqlite cluster-sqlite"; do
  set -- $pair
  [[ " $VARIANTS " == *" $1 "* && " $VARIANTS " == *" $2 "* ]] || continue
  [ "$(runs "$1")" -gt 0 ] && [ "$(runs "$2")" -gt 0 ] || continue
  echo
  awk -v a="$1" -v b="$2" -v s="$(field "$1" total_ms)" -v c="$(field "$2" total_ms)" -v sn="$(field "$1" nodes_ms)" \
      -v cn="$(field "$2" nodes_ms)" -v f="$(field "$2" front_ms)" -v f1="$(field "$1" front_ms)" -v s99="$(field "$1" setup_p99_ms)" \
      -v c99="$(field "$2" setup_p99_ms)" 'BEGIN {
    printf "%s / %s: total CPU per call %.2fx (%.3f vs %.3f ms), nodes %.2fx; the front adds %.3f ms per call (%.3f when called directly); setup p99 %.2fx\n",
      b, a, c / s, c, s, cn / sn, f, f1, (s99 > 0 ? c99 / s99 : 0) }'
done
