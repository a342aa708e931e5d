#!/usr/bin/env bash
# The main job: installs what is missing, builds, and runs `butler demo` on a fresh
# embedded (SQLite) repository.
set -euo pipefail
cd "$(dirname "$0")/.."

BUTLER_SKIP_PYTHON=1 bash scripts/install-deps.sh
swift build -c release --product butler
repo=${1:-$(mktemp -d /tmp/butler-demo.XXXXXX)/repo}
.build/release/butler demo "$repo"
