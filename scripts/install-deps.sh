#!/usr/bin/env bash
# Installs what the package needs on a fresh Debian machine (as root), skipping what is there.
set -euo pipefail

missing=()
# nginx serves a directory over HTTP for the HTTP storage tests.
for package in libcfitsio-dev libhdf5-dev libsqlite3-dev zlib1g-dev pkg-config nginx; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# Interop tests read our files with astropy and h5py.
if [ "${BUTLER_SKIP_PYTHON:-0}" != 1 ] && ! python3 -c 'import astropy, h5py, numpy' >/dev/null 2>&1; then
  echo "installing: astropy h5py numpy (pip)"
  python3 -m pip install -q --disable-pip-version-check astropy h5py numpy
fi
