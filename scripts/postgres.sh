#!/usr/bin/env bash
# Starts or stops a PostgreSQL server on loopback for the test suite and the benchmarks.
#   scripts/postgres.sh start DIR   → prints the server URL; data and socket live in DIR
#                                     (a DIR holding data from an earlier start is reused)
#   scripts/postgres.sh stop DIR    → stops the server and deletes DIR (throw-away servers)
#   scripts/postgres.sh halt DIR    → stops the server and keeps its data for the next start
# initdb refuses to run as root, so the server runs as the `postgres` user in a directory it owns.
set -euo pipefail

action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }

as_postgres() {
  # From /: the caller's directory may be closed to the postgres user (a private clone).
  if [ "$(id -u)" = 0 ]; then (cd / && su postgres -s /bin/bash -c "$*"); else bash -c "$*"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    # max_locks_per_transaction: the suite creates a repository schema (some 60 tables and
    # indexes, one lock each) in dozens of concurrent tests; the default 64 per connection
    # runs the shared lock table out ("out of shared memory").
    fresh=false
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      fresh=true
      as_postgres "'$bin/initdb' -D '$dir/data' --auth=trust --username=postgres -E UTF8 >'$dir/initdb.log' 2>&1"
    fi
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off -c max_locks_per_transaction=512 -c max_connections=400\" start >/dev/null"
    if $fresh; then as_postgres "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres butler_test"; fi
    echo "postgresql://postgres@127.0.0.1:$port/butler_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  halt)
    [ -d "$dir/data" ] && as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    ;;
  *)
    echo "usage: $0 start|stop|halt DIR" >&2
    exit 2
    ;;
esac
