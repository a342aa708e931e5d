#!/usr/bin/env bash
# Starts or stops a throw-away nginx (Debian's) on loopback serving a directory read-only, for
# the HTTP storage tests: ranged GETs, HEAD with ETag and Last-Modified, and JSON directory
# listings (autoindex) that the storage lists artifacts from.
#   scripts/http-server.sh start DIR ROOT → prints BUTLER_TEST_HTTP_ENDPOINT=http://127.0.0.1:PORT
#                                          and BUTLER_TEST_HTTP_ROOT=ROOT (served at /)
#   scripts/http-server.sh stop DIR       → stops the server and deletes DIR
set -euo pipefail

action=$1
dir=$2

case "$action" in
  start)
    root=$3
    nginx=$(command -v nginx || echo /usr/sbin/nginx)
    mkdir -p "$dir" "$root"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    # Workers read test directories that only their owner may enter: run them as that user.
    user_line=""
    if [ "$(id -u)" = 0 ]; then user_line="user root;"; fi
    cat >"$dir/nginx.conf" <<CONF
$user_line
worker_processes 1;
daemon on;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 256; }
http {
  access_log $dir/access.log;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 10000;
  server {
    listen 127.0.0.1:$port;
    root $root;
    location / {
      autoindex on;
      autoindex_format json;
      limit_except GET HEAD { deny all; }
    }
  }
}
CONF
    "$nginx" -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
    for _ in $(seq 1 50); do
      if python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" >/dev/null 2>&1; then break; fi
      sleep 0.1
    done
    echo "BUTLER_TEST_HTTP_ENDPOINT=http://127.0.0.1:$port"
    echo "BUTLER_TEST_HTTP_ROOT=$root"
    ;;
  stop)
    if [ -f "$dir/nginx.pid" ]; then kill "$(cat "$dir/nginx.pid")" 2>/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR ROOT | stop DIR" >&2
    exit 2
    ;;
esac
