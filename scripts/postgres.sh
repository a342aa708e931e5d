#!/usr/bin/env bash
# Starts or stops a throw-away PostgreSQL server on loopback for the test suite.
#   scripts/postgres.sh start DIR   → prints the server URL; data and socket live in DIR
#   scripts/postgres.sh stop DIR
# initdb refuses to run as root, so the server runs as the `postgres` user in a directory it owns.
set -euo pipefail

action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL server binaries not found under /usr/lib/postgresql" >&2; exit 1; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "$action" in
  start)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    as_postgres "'$bin/initdb' -D '$dir/data' --auth=trust --username=postgres -E UTF8 >'$dir/initdb.log' 2>&1"
    as_postgres "'$bin/pg_ctl' -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
    as_postgres "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres butler_test"
    echo "postgresql://postgres@127.0.0.1:$port/butler_test"
    ;;
  stop)
    [ -d "$dir/data" ] && as_postgres "'$bin/pg_ctl' -D '$dir/data' -m fast -w stop >/dev/null" || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
