#!/bin/bash
# A Hotline cluster on loopback: Kamailio (deploy/kamailio/kamailio.cfg) on the front
# address, NODES `hotline serve` nodes behind it, PostgreSQL (deploy/postgres/pgctl.sh).
# Pid files and logs under var/cluster/. `make cluster` / `make cluster-stop` call this.
#
#   deploy/cluster.sh start|stop|status
#
# Settings (environment): HOTLINE_BIN (.build/release/hotline), FRONT (127.0.0.1:5060),
# NODES (3: 127.0.0.11 .. 127.0.0.13, SIP port 5060, HTTP port 8080), CLUSTER_DB (the node's
# --db; `{n}` is replaced by the node number: var/cluster/node{n}.sqlite), DIALPLAN,
# DRAIN_TIMEOUT (120s), PG_PORT (55432), NODE_ARGS (more `hotline serve` flags).
set -euo pipefail
cd "$(dirname "$0")/.."
dir=var/cluster
bin=${HOTLINE_BIN:-.build/release/hotline}
front=${FRONT:-127.0.0.1:5060}
nodes=${NODES:-3}
db=${CLUSTER_DB:-}
[ -n "$db" ] || db='var/cluster/node{n}.sqlite'
dialplan=${DIALPLAN:-Dialplans/12345.yaml}
drain_timeout=${DRAIN_TIMEOUT:-120s}
pg_port=${PG_PORT:-55432}

node_ip() { echo "127.0.0.$((10 + $1))"; }
alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }
die() { echo "cluster.sh: $*" >&2; exit 1; }

# Waits (up to $2 tenths of a second) for process $1 to exit.
wait_exit() {
  local i=0
  while kill -0 "$1" 2>/dev/null; do
    i=$((i + 1)); [ $i -gt "$2" ] && return 1
    sleep 0.1
  done
}

# An OPTIONS to the front answered (the front answers its own OPTIONS with 200).
front_answers() {
  command -v sipp >/dev/null || die "sipp is missing (apt-get install sip-tester; make cluster installs it)"
  sipp "$front" -sf deploy/kamailio/probe.xml -m 1 -i 127.0.0.1 -p $((30000 + RANDOM % 2000)) \
    -recv_timeout 1000 -timeout 2s -timeout_error -nostdin >/dev/null 2>&1
}

start() {
  [ -x "$bin" ] || die "$bin is missing: swift build -c release (or set HOTLINE_BIN)"
  command -v kamailio >/dev/null || die "kamailio is missing (apt-get install kamailio kamailio-extra-modules; make cluster installs it)"
  mkdir -p "$dir"
  if [ ! -f "$dir/pg.started" ] && ! deploy/postgres/pgctl.sh status "$pg_port"; then
    deploy/postgres/pgctl.sh start "$pg_port"
    touch "$dir/pg.started" # ours: cluster-stop stops it
  fi
  : > "$dir/dispatcher.list"
  for n in $(seq 1 "$nodes"); do
    ip=$(node_ip "$n")
    echo "1 sip:$ip:5060" >> "$dir/dispatcher.list"
    if alive "$dir/node$n.pid"; then echo "node$n already running"; continue; fi
    low=$((20000 + (n - 1) * 3000))
    # shellcheck disable=SC2086
    nohup "$bin" serve --sip "$ip:5060" --http "$ip:8080" --node "node$n" --front "${front%:*}" --db "$(printf %s "$db" | sed "s/{n}/$n/g")" --data-dir "var/cluster/node$n" \
      --dialplan "$dialplan" --prompts Prompts --rtp-ports "$low-$((low + 2999))" --drain-timeout "$drain_timeout" \
      ${NODE_ARGS:-} > "$dir/node$n.log" 2>&1 < /dev/null &
    echo $! > "$dir/node$n.pid"
  done
  for n in $(seq 1 "$nodes"); do
    i=0
    until grep -q "hotline listening" "$dir/node$n.log"; do
      alive "$dir/node$n.pid" || die "node$n exited: $(tail -5 "$dir/node$n.log")"
      i=$((i + 1)); [ $i -gt 300 ] && die "node$n did not start: $dir/node$n.log"
      sleep 0.1
    done
    echo "node$n: sip $(node_ip "$n"):5060 http $(node_ip "$n"):8080 (log $dir/node$n.log)"
  done
  if ! alive "$dir/kamailio.pid"; then
    nohup kamailio -f deploy/kamailio/kamailio.cfg -DD -E -A "LISTEN=udp:$front" -A "DS_LIST=\"$PWD/$dir/dispatcher.list\"" \
      > "$dir/kamailio.log" 2>&1 < /dev/null &
    echo $! > "$dir/kamailio.pid"
  fi
  i=0
  until front_answers; do
    alive "$dir/kamailio.pid" || die "kamailio exited: $(tail -5 "$dir/kamailio.log")"
    i=$((i + 1)); [ $i -gt 20 ] && die "the front on $front does not answer OPTIONS: $dir/kamailio.log"
  done
  echo "front: sip $front (Kamailio, log $dir/kamailio.log); calls: sipp -sn uac -s 12345 $front"
}

stop() {
  for n in $(seq 1 "$nodes"); do
    pidfile="$dir/node$n.pid"
    if alive "$pidfile"; then
      pid=$(cat "$pidfile")
      kill -TERM "$pid" # a drain: calls in progress finish (up to --drain-timeout), tickets commit
      echo "node$n: draining"
    fi
  done
  for n in $(seq 1 "$nodes"); do
    pidfile="$dir/node$n.pid"
    if alive "$pidfile"; then
      wait_exit "$(cat "$pidfile")" 1500 || { echo "node$n: still up after 150 s; killing" >&2; kill -KILL "$(cat "$pidfile")"; }
    fi
    rm -f "$pidfile"
  done
  if alive "$dir/kamailio.pid"; then
    kill -TERM "$(cat "$dir/kamailio.pid")"
    wait_exit "$(cat "$dir/kamailio.pid")" 100 || kill -KILL "$(cat "$dir/kamailio.pid")"
  fi
  rm -f "$dir/kamailio.pid"
  if [ -f "$dir/pg.started" ]; then
    deploy/postgres/pgctl.sh stop "$pg_port"
    rm -f "$dir/pg.started"
  fi
  echo "cluster stopped"
}

status() {
  local up=0
  for n in $(seq 1 "$nodes"); do
    if alive "$dir/node$n.pid"; then
      echo "node$n: $(curl -s "http://$(node_ip "$n"):8080/health" 2>/dev/null || echo 'running, /health unreachable')"
      up=$((up + 1))
    else
      echo "node$n: down"
    fi
  done
  if alive "$dir/kamailio.pid"; then echo "front: up ($front)"; else echo "front: down"; fi
  [ $up -gt 0 ]
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: deploy/cluster.sh start|stop|status" >&2; exit 2 ;;
esac
