#!/usr/bin/env bash
# Installs what the package needs on a fresh Debian machine (as root), skipping what is there.
set -euo pipefail

missing=()
for package in libcfitsio-dev libhdf5-dev libsqlite3-dev pkg-config; do
  dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
