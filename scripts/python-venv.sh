#!/usr/bin/env bash
# Sourced by the scripts that keep a Python virtual environment for a reference or a server
# (daf-butler-env.sh, s3-server.sh):
#   new_venv DIR REQUIREMENT…   (re)creates DIR with pip-installed REQUIREMENTs, installing
#                               Debian's python3-venv first when the venv module is missing.
new_venv() {
  local venv=$1
  shift
  if ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
    echo "installing: python3-venv" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq python3-venv >/dev/null
  fi
  echo "installing: $* in $venv (pip)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@" >&2
}
