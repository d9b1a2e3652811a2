#!/bin/sh
# A private PostgreSQL server for tests, benchmarks and `make cluster`: its own data
# directory and port on loopback, trust authentication for 127.0.0.1, a superuser `hotline`.
# Uses Debian's postgresql (any installed major version); run as root it runs the server as
# the `postgres` user, which PostgreSQL requires.
#
#   pgctl.sh start   [PORT]   initdb if needed, start, wait until it accepts connections
#   pgctl.sh stop    [PORT]   fast shutdown (waits)
#   pgctl.sh restart [PORT]
#   pgctl.sh kill    [PORT]   SIGKILL the postmaster (crash test)
#   pgctl.sh status  [PORT]   exit 0 if it accepts connections
#   pgctl.sh url     [PORT]   prints the URL for --db / HOTLINE_DB_URL
#
# PORT defaults to $HOTLINE_PG_PORT or 55432; the data lives in $HOTLINE_PG_DIR or
# /tmp/hotline-pg-PORT (under /tmp so the postgres user can reach it whoever runs this).
set -eu
cmd=${1:-}
port=${2:-${HOTLINE_PG_PORT:-55432}}
dir=${HOTLINE_PG_DIR:-/tmp/hotline-pg-$port}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "pgctl.sh: PostgreSQL is not installed (apt-get install postgresql; make test installs it)" >&2
  exit 1
fi
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
ready() { "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" >/dev/null 2>&1; }
wait_ready() {
  i=0
  while ! ready; do
    i=$((i + 1))
    if [ $i -gt 300 ]; then echo "pgctl.sh: PostgreSQL on port $port did not come up; log: $dir/log" >&2; tail -20 "$dir/log" >&2 || true; exit 1; fi
    sleep 0.1
  done
}
init() {
  [ -f "$dir/PG_VERSION" ] && return 0
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir" -U hotline --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  cat >> "$dir/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
fsync = on
synchronous_commit = on
CONF
}
case "$cmd" in
  start)
    if ! ready; then
      init
      as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -w -t 60 start >/dev/null
      wait_ready
    fi
    "$bin/psql" -h 127.0.0.1 -p "$port" -U hotline -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'hotline'" | grep -q 1 \
      || "$bin/createdb" -h 127.0.0.1 -p "$port" -U hotline hotline
    ;;
  stop)
    [ -f "$dir/postmaster.pid" ] || exit 0
    as_pg "$bin/pg_ctl" -D "$dir" -m fast -w -t 60 stop >/dev/null
    ;;
  restart)
    init
    as_pg "$bin/pg_ctl" -D "$dir" -l "$dir/log" -m fast -w -t 60 restart >/dev/null
    wait_ready
    ;;
  kill)
    [ -f "$dir/postmaster.pid" ] && kill -9 "$(head -1 "$dir/postmaster.pid")" || true
    ;;
  status)
    ready
    ;;
  url)
    echo "postgres://hotline@127.0.0.1:$port/hotline"
    ;;
  *)
    echo "usage: pgctl.sh start|stop|restart|kill|status|url [PORT]" >&2
    exit 2
    ;;
esac
