#!/usr/bin/env bash
# Cluster ACD: distribution latency, one node (ACD in-process) vs three nodes (ACD on the leader,
# events and commands through PostgreSQL), side by side in one run: the variants alternate,
# ROUNDS rounds.
#
# Distribution latency = from the moment the caller is queued to the moment the agent's phone
# gets the INVITE: (the agent SIPp's receive time of the INVITE) - (the caller SIPp's send time
# of its ACK to the IVR's 200), both from SIPp -trace_msg message logs (their `-----
# YYYY-MM-DD HH:MM:SS.micro` stamps, one machine clock). The dialplan (Tests/.../queue.yaml)
# sends 12345 straight into the operator queue, so the ACK is the queueing moment (the node
# enqueues on answering; the ACK follows the 200 by well under a millisecond on loopback).
# A caller is matched with the first agent INVITE (new Call-ID) received between its INVITE
# and its BYE; a caller with none counts as `missed`.
#
# N calls per run, strictly one after another: each caller (SIPp caller-queue.xml, hangs up
# HOLD ms + 3 s after the IVR answered) runs to its end, and the next starts once the agent
# (SIPp agent-answer*.xml, answering every offer after 180 + 300 ms, echoing the audio) is
# `available` again as the ACD's node reports it (GET /api/agents): the agent stays logged in
# and idle, so every call measures an offer to an idle agent, never a wait for one.
#
#   single    one `hotline serve` on 127.0.0.21:5060 (HTTP :8080), its own SQLite store
#             (var/bench-acd), ACD in-process; agent registers and callers call the node directly
#   cluster   deploy/cluster.sh with NODES=3 (127.0.0.11..13:5060, HTTP :8080), Kamailio on FRONT,
#             one PostgreSQL (a fresh database per run); the agent registers through the front
#             (so it is rung through it); callers go round-robin directly to node1..3, so about
#             two calls in three are queued on a node that is not the ACD leader (GET /api/cluster
#             "acd_leader"; the run's line says how many were on the leader)
#
# Agent a2001 (SIP 2001 / pw-2001, skill general) from Tests/IntegrationTests/Dialplans/acd-cluster/.
# Nodes run with --agent-keepalive 3600: the SIPp agent scenarios do not answer OPTIONS, and
# two unanswered keep-alives would make the agent unreachable mid-run.
#
#   Benchmarks/acd-distribution.sh [N] [ROUNDS]     # default 20 calls, 3 rounds
#
# Per run: n (calls measured), missed (no agent INVITE between the caller's INVITE and its BYE),
# offers (agent INVITEs), connected (offers the agent's phone got the ACK for), cancelled (offers
# withdrawn by CANCEL before the agent answered), agent_not_idle (calls started although the agent
# was not `available` after 10 s), gone_notices (node-log lines where the leader ended a caller or
# call of a node it took for gone: none should appear), median / p90 / max latency in ms (and, for
# cluster, the ACD leader, the calls queued on it, and the median latency of those and of the
# calls queued on the other two nodes). The latency is signed: in-process the node
# rings the agent as it answers the caller, so the INVITE can beat the caller's ACK by a
# millisecond or two (negative values). Then the medians over the runs and cluster / single.
# Environment: HOTLINE_BIN (.build/release/hotline), N, ROUNDS (instead of the arguments), HOLD
# (ms a caller stays after the IVR answered, plus 3 s of audio; 1000), PG_PORT (55433: a private
# PostgreSQL from deploy/postgres/pgctl.sh, started if it is not running and then stopped; not
# the tests' 55432), FRONT (127.0.0.1:5070), VARIANTS ("single cluster"), OUT (keep the per-run
# files there; default a mktemp directory).
# Loopback only (127.0.0.0/8): SIPp callers on 127.0.0.31, the agent's phone on 127.0.0.32.
# Every wait is bounded in count and time; every SIPp run has -timeout; the trap stops what
# the script started (nodes, front, agent SIPp, PostgreSQL if it started it).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-${N:-20}}
ROUNDS=${2:-${ROUNDS:-3}}
HOLD=${HOLD:-1000}
BIN=${HOTLINE_BIN:-.build/release/hotline}
PG_PORT=${PG_PORT:-55433}
FRONT=${FRONT:-127.0.0.1:5070}
VARIANTS=${VARIANTS:-"single cluster"}
SINGLE_IP=127.0.0.21
CALLER_IP=127.0.0.31
AGENT_IP=127.0.0.32
AGENT_PORT=5090
CALLER_PORT=5091
SCEN=Tests/IntegrationTests/Scenarios
ACD_ARGS="--agents Tests/IntegrationTests/Dialplans/acd-cluster/agents.yaml --queues Tests/IntegrationTests/Dialplans/acd-cluster/queues.yaml --agent-keepalive 3600"
DIALPLAN=Tests/IntegrationTests/Dialplans/queue.yaml
[ -x "$BIN" ] || { echo "build it first: swift build -c release (or HOTLINE_BIN=.build/debug/hotline)" >&2; exit 1; }
command -v sipp > /dev/null || { echo "sipp is missing (apt-get install sip-tester)" >&2; exit 1; }
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT" var/bench-acd
RESULTS=$OUT/results.txt
: > "$RESULTS"

started_pg=0
cluster_up=0
single_pid=
agent_pid=
cleanup() {
  [ -n "$agent_pid" ] && kill "$agent_pid" 2> /dev/null
  if [ -n "$single_pid" ] && kill -0 "$single_pid" 2> /dev/null; then
    kill -TERM "$single_pid"
    for _ in $(seq 50); do kill -0 "$single_pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$single_pid" 2> /dev/null
  fi
  [ "$cluster_up" = 1 ] && NODES=3 PG_PORT=$PG_PORT FRONT=$FRONT deploy/cluster.sh stop > /dev/null 2>&1
  [ "$started_pg" = 1 ] && deploy/postgres/pgctl.sh stop "$PG_PORT"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Nothing else may hold our addresses (a `make cluster` of someone else, a previous run).
if ss -Hlun | awk '{print $4}' | grep -qE "^127\.0\.0\.(11|12|13|21):5060\$|^$FRONT\$|^127\.0\.0\.(31|32):50(90|91)\$"; then
  echo "acd-distribution.sh: something already listens on $FRONT, 127.0.0.11/12/13/21:5060 or 127.0.0.31/32:5090-5091 (make cluster-stop?)" >&2
  exit 1
fi
if ! deploy/postgres/pgctl.sh status "$PG_PORT"; then
  deploy/postgres/pgctl.sh start "$PG_PORT"
  started_pg=1
fi
pg_server=$(deploy/postgres/pgctl.sh url "$PG_PORT")
psql_admin() { PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -p "$PG_PORT" -U hotline -d postgres -qtAc "$1" > /dev/null; }

# GET on a node's admin API (loopback: no token), bounded.
api() { curl -s -m 2 "http://$1$2" 2> /dev/null || true; }
# The agent's state as node $1 (host:port of its HTTP) reports it.
agent_state() {
  api "$1" /api/agents | python3 -c '
import json, sys
try: print(next((a.get("state", "") for a in json.load(sys.stdin)["agents"] if a.get("id") == "a2001"), ""))
except Exception: print("")'
}
# Waits (up to $3 tenths of a second) until node $1 says the agent is $2.
wait_agent() {
  local i=0
  until [ "$(agent_state "$1")" = "$2" ]; do
    i=$((i + 1)); [ $i -gt "$3" ] && return 1
    sleep 0.1
  done
}
acd_leader() {
  api "$1" /api/cluster | python3 -c '
import json, sys
try: print(json.load(sys.stdin).get("acd_leader") or "")
except Exception: print("")'
}

sipp_common=(-recv_timeout 30000 -max_retrans 3 -nostdin -timeout_error)

run() { # variant round
  local variant=$1 round=$2 tag="$1-$2" register_to answer_to scenario acd_http leader="" login_http
  case $variant in
    single)
      rm -rf var/bench-acd/single
      mkdir -p var/bench-acd/single
      # shellcheck disable=SC2086
      "$BIN" serve --sip "$SINGLE_IP:5060" --http "$SINGLE_IP:8080" --node single --db var/bench-acd/single/hotline.sqlite \
        --data-dir var/bench-acd/single --dialplan "$DIALPLAN" --prompts Prompts --rtp-ports 30000-30999 --drain-timeout 5s \
        $ACD_ARGS > var/bench-acd/single.log 2>&1 < /dev/null &
      single_pid=$!
      local i=0
      until grep -q "hotline listening" var/bench-acd/single.log; do
        kill -0 "$single_pid" 2> /dev/null || { echo "single node exited: $(tail -5 var/bench-acd/single.log)" >&2; exit 1; }
        i=$((i + 1)); [ $i -gt 600 ] && { echo "single node did not start: var/bench-acd/single.log" >&2; exit 1; }
        sleep 0.1
      done
      register_to=$SINGLE_IP:5060; answer_to=$SINGLE_IP:5060; scenario=agent-answer
      acd_http=$SINGLE_IP:8080; login_http=$SINGLE_IP:8080
      ;;
    cluster)
      psql_admin "DROP DATABASE IF EXISTS hotline_bench_acd WITH (FORCE)"
      psql_admin "CREATE DATABASE hotline_bench_acd"
      rm -rf var/cluster/node{1,2,3}
      cluster_up=1
      if ! HOTLINE_BIN=$BIN NODES=3 CLUSTER_DB=${pg_server%/*}/hotline_bench_acd PG_PORT=$PG_PORT FRONT=$FRONT \
        DIALPLAN=$DIALPLAN DRAIN_TIMEOUT=5s NODE_ARGS="$ACD_ARGS" deploy/cluster.sh start > "$OUT/start-$tag.log" 2>&1; then
        echo "acd-distribution.sh: the cluster did not start: $(tail -3 "$OUT/start-$tag.log")" >&2
        exit 1
      fi
      # The leader, once it has rebuilt the ACD's state (up to 30 s).
      local i=0
      while :; do
        leader=$(acd_leader 127.0.0.11:8080)
        [ -n "$leader" ] && grep -q "ACD state rebuilt from the shared store" "var/cluster/$leader.log" 2> /dev/null && break
        i=$((i + 1)); [ $i -gt 300 ] && { echo "no ACD leader after 30 s: var/cluster/node*.log" >&2; exit 1; }
        sleep 0.1
      done
      register_to=$FRONT; answer_to=$FRONT; scenario=agent-answer-front
      acd_http=127.0.0.$((10 + ${leader#node})):8080
      login_http=127.0.0.12:8080 # any node; node2 is as good as another
      ;;
    *) echo "unknown variant $variant" >&2; exit 2 ;;
  esac

  # The agent's phone: REGISTER (digest), log in, wait until the ACD's node has it available.
  if ! timeout 30 sipp "$register_to" -sf "$SCEN/agent-register.xml" -s 2001 -au 2001 -ap pw-2001 -i "$AGENT_IP" -p "$AGENT_PORT" \
    -m 1 -timeout 20s "${sipp_common[@]}" -trace_err -error_file "$OUT/register-$tag.err" > /dev/null 2>&1; then
    echo "acd-distribution.sh: $variant: REGISTER failed ($OUT/register-$tag.err)" >&2; exit 1
  fi
  local status
  status=$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "http://$login_http/api/agents/a2001/login" || true)
  [ "$status" = 200 ] || { echo "acd-distribution.sh: $variant: login answered $status" >&2; exit 1; }
  wait_agent "$acd_http" available 200 || { echo "acd-distribution.sh: $variant: a2001 not available after login" >&2; exit 1; }

  local bound=$((N * (HOLD / 1000 + 40) + 30))
  timeout "$((bound + 10))" sipp "$answer_to" -sf "$SCEN/$scenario.xml" -s agent -i "$AGENT_IP" -mi "$AGENT_IP" -mp 32000 \
    -p "$AGENT_PORT" -rtp_echo -m "$N" -timeout "${bound}s" "${sipp_common[@]}" \
    -trace_msg -message_file "$OUT/agent-$tag.msg" -trace_err -error_file "$OUT/agent-$tag.err" > /dev/null 2>&1 &
  agent_pid=$!
  sleep 0.5 # SIPp bound its port

  local k node target not_available=0
  : > "$OUT/calls-$tag.txt"
  for k in $(seq 1 "$N"); do
    if [ "$variant" = cluster ]; then node=node$(((k - 1) % 3 + 1)); target=127.0.0.$((10 + ${node#node})):5060
    else node=single; target=$SINGLE_IP:5060; fi
    # The agent idle again (the previous call's end has reached the ACD): up to 10 s.
    wait_agent "$acd_http" available 100 || not_available=$((not_available + 1))
    timeout "$((HOLD / 1000 + 60))" sipp "$target" -sf "$SCEN/caller-queue.xml" -s 12345 -i "$CALLER_IP" -mi "$CALLER_IP" -mp 33000 \
      -p "$CALLER_PORT" -m 1 -d "$HOLD" -timeout "$((HOLD / 1000 + 50))s" "${sipp_common[@]}" \
      -trace_msg -message_file "$OUT/caller-$tag-$k.msg" -trace_err -error_file "$OUT/caller-$tag-$k.err" > /dev/null 2>&1 \
      && rc=0 || rc=$?
    echo "$k $node $rc" >> "$OUT/calls-$tag.txt"
  done
  # The agent's SIPp ends after its N calls (or on its -timeout); give it 10 s, then stop it.
  for _ in $(seq 100); do kill -0 "$agent_pid" 2> /dev/null || break; sleep 0.1; done
  kill "$agent_pid" 2> /dev/null || true
  wait "$agent_pid" 2> /dev/null || true
  agent_pid=

  if [ "$variant" = single ]; then
    kill -TERM "$single_pid"
    for _ in $(seq 100); do kill -0 "$single_pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$single_pid" 2> /dev/null || true
    wait "$single_pid" 2> /dev/null || true
    single_pid=
    cp var/bench-acd/single.log "$OUT/node-$tag.log"
  else
    NODES=3 PG_PORT=$PG_PORT FRONT=$FRONT deploy/cluster.sh stop > "$OUT/stop-$tag.log" 2>&1 || true
    cluster_up=0
    for n in 1 2 3; do cp "var/cluster/node$n.log" "$OUT/node$n-$tag.log"; done
    cp var/cluster/kamailio.log "$OUT/kamailio-$tag.log"
  fi

  python3 - "$OUT" "$tag" "$variant" "$round" "$N" "${leader:-}" "$not_available" <<'PY' | tee -a "$RESULTS"
import re, sys, datetime, math, glob
out, tag, variant, rnd, n, leader, not_available = sys.argv[1:]
n = int(n)
stamp = re.compile(r'^-{10,} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+)$')
def messages(path):
    """(time, 'sent'|'received', first line, Call-ID) per message of a SIPp -trace_msg log."""
    try: lines = open(path, errors='replace').read().split('\n')
    except FileNotFoundError: return []
    out, i = [], 0
    while i < len(lines):
        m = stamp.match(lines[i].strip())
        if not m: i += 1; continue
        t = datetime.datetime.strptime(m.group(1), '%Y-%m-%d %H:%M:%S.%f').timestamp()
        direction = 'sent' if 'sent' in lines[i + 1] else 'received'
        j = i + 2
        while j < len(lines) and not lines[j].strip(): j += 1
        first = lines[j].strip() if j < len(lines) else ''
        callid = ''
        k = j
        while k < len(lines) and not stamp.match(lines[k].strip()):
            if lines[k].lower().startswith(('call-id:', 'i:')): callid = lines[k].split(':', 1)[1].strip(); break
            k += 1
        out.append((t, direction, first, callid))
        i = j
    return out
agent_invites, seen, cancelled, answered = [], set(), set(), set()
for t, d, first, cid in messages(f'{out}/agent-{tag}.msg'):
    if d == 'received' and first.startswith('INVITE ') and cid not in seen:
        seen.add(cid); agent_invites.append((t, cid))
    elif d == 'received' and first.startswith('CANCEL '): cancelled.add(cid)
    elif d == 'received' and first.startswith('ACK ') and cid in seen: answered.add(cid)
gone = 0
for log in glob.glob(f'{out}/node*-{tag}.log'):
    gone += sum(1 for l in open(log, errors='replace') if 'of a gone node' in l)
calls = [l.split() for l in open(f'{out}/calls-{tag}.txt')]
lat, missed, on_leader, failed, at_leader, elsewhere = [], 0, 0, 0, [], []
for k, node, rc in calls:
    if rc != '0': failed += 1
    msgs = messages(f'{out}/caller-{tag}-{k}.msg')
    invite = next((t for t, d, f, _ in msgs if d == 'sent' and f.startswith('INVITE ')), None)
    ack = next((t for t, d, f, _ in msgs if d == 'sent' and f.startswith('ACK ')), None)
    bye = next((t for t, d, f, _ in msgs if d == 'sent' and f.startswith('BYE ')), float('inf'))
    offer = next((t for t, _ in agent_invites if invite is not None and invite <= t <= bye), None)
    if ack is None or offer is None: missed += 1; continue
    lat.append((offer - ack) * 1000)
    (at_leader if node == leader else elsewhere).append((offer - ack) * 1000)
    if node == leader: on_leader += 1
lat.sort()
pct = lambda p: lat[min(len(lat) - 1, max(0, math.ceil(p * len(lat)) - 1))] if lat else float('nan')
median = lambda v: (sorted(v)[(len(v) - 1) // 2] + sorted(v)[len(v) // 2]) / 2 if v else float('nan')
med = median(lat)
extra = (f' leader={leader} on_leader={on_leader} median_on_leader_ms={median(at_leader):.2f}'
         f' median_elsewhere_ms={median(elsewhere):.2f}') if variant == 'cluster' else ''
print(f'variant={variant} round={rnd} n={len(lat)} missed={missed} offers={len(seen)} connected={len(answered)} cancelled={len(cancelled)}'
      f' caller_failed={failed} agent_not_idle={not_available} gone_notices={gone}'
      f' median_ms={med:.2f} p90_ms={pct(0.9):.2f} max_ms={(lat[-1] if lat else float("nan")):.2f}{extra}')
PY
}

bin_mtime=$(stat -c %Y "$BIN")
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) CPU ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $BIN, N=$N calls x $ROUNDS rounds of: $VARIANTS; HOLD=$HOLD ms; load $(cut -d' ' -f1-3 /proc/loadavg); files in $OUT" | tee -a "$RESULTS"
for round in $(seq "$ROUNDS"); do
  for variant in $VARIANTS; do run "$variant" "$round"; done
done

median() { sort -g | awk '{a[NR]=$1} END {if (NR == 0) print "nan"; else print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
field() { grep "^variant=$1 " "$RESULTS" | grep -o " $2=[^ ]*" | cut -d= -f2 | median; }
echo
echo "Median over $ROUNDS rounds of the per-run figures (distribution latency: caller's ACK -> agent's INVITE):"
echo
echo "| variant | runs | calls measured | missed | offers withdrawn (CANCEL) | connected | median | p90 | max |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for v in $VARIANTS; do
  printf "| %s | %s | %s | %s | %s | %s | %s ms | %s ms | %s ms |\n" "$v" "$(grep -c "^variant=$v " "$RESULTS" || true)" "$(field "$v" n)" \
    "$(field "$v" missed)" "$(field "$v" cancelled)" "$(field "$v" connected)" "$(field "$v" median_ms)" "$(field "$v" p90_ms)" "$(field "$v" max_ms)"
done
if grep -qE " (cancelled|gone_notices|missed)=[1-9]" "$RESULTS"; then
  echo
  echo "warning: some offers were withdrawn, missed, or the leader ended calls of nodes it took for gone (gone_notices): see the node logs in $OUT"
fi
if [ "$(stat -c %Y "$BIN")" != "$bin_mtime" ]; then
  echo "warning: $BIN changed during the run (rebuilt?): the runs may mix builds"
fi
if [[ " $VARIANTS " == *" single "* && " $VARIANTS " == *" cluster "* ]]; then
  echo
  awk -v s="$(field single median_ms)" -v c="$(field cluster median_ms)" -v s9="$(field single p90_ms)" -v c9="$(field cluster p90_ms)" 'BEGIN {
    printf "cluster / single: median %.2fx (%.2f vs %.2f ms), p90 %.2fx (%.2f vs %.2f ms)\n", (s > 0 ? c / s : 0), c, s, (s9 > 0 ? c9 / s9 : 0), c9, s9 }'
fi
