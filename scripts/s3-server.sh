#!/usr/bin/env bash
# Starts or stops a throw-away S3-protocol server (moto_server from PyPI's moto[server]) on
# loopback for the test suite, with signature checking on: the first three actions (creating an
# IAM user, its access key and its S3 policy) are the only unauthenticated ones, so every request
# the tests make afterwards must carry a signature moto recomputes and accepts.
#   scripts/s3-server.sh start DIR   → prints three lines KEY=VALUE: BUTLER_TEST_S3_ENDPOINT,
#                                      BUTLER_TEST_S3_ACCESS_KEY, BUTLER_TEST_S3_SECRET_KEY
#                                      (BUTLER_S3_AUTH=0: no signature checking, the endpoint only)
#   scripts/s3-server.sh stop DIR    → stops the server and deletes DIR
# moto lives in its own virtual environment (BUTLER_MOTO_VENV, default /tmp/butler-moto-<version>),
# made once.
set -euo pipefail
. "$(dirname "$0")/python-venv.sh"

action=$1
dir=$2
version=5.2.5
venv=${BUTLER_MOTO_VENV:-/tmp/butler-moto-$version}

case "$action" in
  start)
    if [ ! -x "$venv/bin/moto_server" ]; then
      new_venv "$venv" "moto[server]==$version"
    fi
    mkdir -p "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
    if [ "${BUTLER_S3_AUTH:-1}" = 0 ]; then
      # The benchmarks' server: no signature checking, so that the bare-client limit can send
      # plain requests (the Butler still signs its own).
      nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
    else
      INITIAL_NO_AUTH_ACTION_COUNT=3 nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/server.log" 2>&1 &
    fi
    echo $! >"$dir/pid"
    endpoint="http://127.0.0.1:$port"
    for _ in $(seq 1 100); do
      if python3 -c "import urllib.request; urllib.request.urlopen('$endpoint/moto-api/')" >/dev/null 2>&1; then break; fi
      sleep 0.1
    done
    if [ "${BUTLER_S3_AUTH:-1}" = 0 ]; then
      echo "BUTLER_TEST_S3_ENDPOINT=$endpoint"
      exit 0
    fi
    # The three unauthenticated actions: a user, its key, and a policy allowing S3.
    "$venv/bin/python" - "$endpoint" <<'EOF'
import json
import sys

import boto3

iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="bootstrap", aws_secret_access_key="bootstrap")
iam.create_user(UserName="butler")
key = iam.create_access_key(UserName="butler")["AccessKey"]
iam.put_user_policy(UserName="butler", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
print(f"BUTLER_TEST_S3_ENDPOINT={sys.argv[1]}")
print(f"BUTLER_TEST_S3_ACCESS_KEY={key['AccessKeyId']}")
print(f"BUTLER_TEST_S3_SECRET_KEY={key['SecretAccessKey']}")
EOF
    ;;
  stop)
    if [ -f "$dir/pid" ]; then kill "$(cat "$dir/pid")" 2>/dev/null || true; fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
