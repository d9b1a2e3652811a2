#!/usr/bin/env bash
# Knowledge-base search latency on a generated 50,000-article Chinese corpus, SQLite (FTS5
# trigram) and PostgreSQL (pg_trgm), measured through the store in one process
# (`hotline kb bench`: no HTTP, no process start per query).
#
#   Benchmarks/kb-search.sh [ARTICLES] [ROUNDS]     # default 50000, 5
#
# The corpus (Benchmarks/lib/kb-corpus.py, fixed seed) mixes 14 topics (挪车, 罚单申诉, 社保卡,
# 公积金, 营商环境, 供暖, 停水, 噪音, 欠薪, 入学, 医保, 食品安全, 路灯, 物业) over 20 districts; the
# 56 queries are keywords (2-4 characters: the substring path for 停车-like terms), district +
# keyword, title forms and questions, each with a known topic (and district). Each is run once
# untimed (for top-1 correctness) and ROUNDS times timed: median, p99 and max of all timed
# searches. Runs under `flock /tmp/bench.lock` (the machine is shared); bounded by `timeout`.
#
# Environment: HOTLINE_BIN (default .build/release/hotline, else .build/debug/hotline: say which
# in BENCHMARKS.md), PG_PORT (default 55433: a private server from deploy/postgres/pgctl.sh,
# started and stopped if not running), STORES="sqlite postgres".
set -euo pipefail
cd "$(dirname "$0")/.."
ARTICLES=${1:-50000}
ROUNDS=${2:-5}
BIN=${HOTLINE_BIN:-.build/release/hotline}
[ -x "$BIN" ] || BIN=.build/debug/hotline
[ -x "$BIN" ] || { echo "build it first: swift build -c release" >&2; exit 1; }
PG_PORT=${PG_PORT:-55433}
read -r -a STORE_LIST <<< "${STORES:-sqlite postgres}"
DIR=var/bench/kb
rm -rf "$DIR"
mkdir -p "$DIR"
started_pg=0
cleanup() {
  [ "$started_pg" = 1 ] && deploy/postgres/pgctl.sh stop "$PG_PORT"
  return 0
}
trap cleanup EXIT

exec 9>/tmp/bench.lock
flock 9
python3 Benchmarks/lib/kb-corpus.py "$DIR/corpus.csv" "$DIR/queries.tsv" "$ARTICLES"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $BIN, $ARTICLES articles ($(du -h "$DIR/corpus.csv" | cut -f1) CSV), $(wc -l < "$DIR/queries.tsv") queries x $ROUNDS rounds" >&2
for store in "${STORE_LIST[@]}"; do
  if [ "$store" = postgres ]; then
    if ! deploy/postgres/pgctl.sh status "$PG_PORT"; then
      deploy/postgres/pgctl.sh start "$PG_PORT"
      started_pg=1
    fi
    server=$(deploy/postgres/pgctl.sh url "$PG_PORT")
    db="hotline_kb_bench"
    psql "$server" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    url=${server%/*}/$db
  else
    url="$DIR/kb.sqlite"
  fi
  line=$(timeout 240 "$BIN" kb bench --db "$url" --corpus "$DIR/corpus.csv" --queries "$DIR/queries.tsv" --rounds "$ROUNDS")
  echo "store=$store $line"
  [ "$store" = postgres ] && psql "$server" -qc "DROP DATABASE $db" >/dev/null
done
