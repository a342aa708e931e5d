#!/usr/bin/env bash
# Runs the whole test suite: installs what is missing, starts a throw-away PostgreSQL server (so
# the registry suite runs on both engines), an S3-protocol server (moto, signatures checked) and
# nginx (HTTP, read-only), runs `swift test` and the bindings' tests (C, C++, Python), stops the servers, builds the
# benchmark package, and runs the fuzz targets for a bounded time.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh

# One code style, checked before anything builds (`.swift-format`; fix with
# `swift format -i -r Sources Tests Benchmarks/Benchmarks Benchmarks/Sources Package.swift Benchmarks/Package.swift Fuzz/Sources Fuzz/Package.swift`).
swift format lint --strict -r Sources Tests Benchmarks/Benchmarks Benchmarks/Sources Package.swift Benchmarks/Package.swift Fuzz/Sources Fuzz/Package.swift

pgdir=$(mktemp -d /tmp/butler-pg.XXXXXX)
s3dir=$(mktemp -d /tmp/butler-s3.XXXXXX)
httpdir=$(mktemp -d /tmp/butler-http.XXXXXX)
trap 'bash scripts/postgres.sh stop "$pgdir"; bash scripts/s3-server.sh stop "$s3dir"; bash scripts/http-server.sh stop "$httpdir"; rm -rf "$httpdir-root"' EXIT
BUTLER_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start "$pgdir")
export BUTLER_TEST_POSTGRES_URL
echo "PostgreSQL for tests: $BUTLER_TEST_POSTGRES_URL"
# An S3-protocol server checking signatures (moto_server): BUTLER_TEST_S3_ENDPOINT and its keys.
s3env=$(bash scripts/s3-server.sh start "$s3dir")
export $s3env
echo "S3 for tests: $BUTLER_TEST_S3_ENDPOINT"
# nginx serving a directory the tests write repositories into: BUTLER_TEST_HTTP_ENDPOINT, _ROOT.
httpenv=$(bash scripts/http-server.sh start "$httpdir" "$httpdir-root")
export $httpenv
echo "HTTP for tests: $BUTLER_TEST_HTTP_ENDPOINT"

swift build --build-tests
# The reference implementations the oracle tests ask (made once, before tests race to make it).
bash scripts/daf-butler-env.sh >/dev/null
swift test --skip-build "$@"

# The C ABI, the C++ layer and the Python package, each tested by its own compiler or runner
# against the library built above (SQLite and the PostgreSQL server above; C once under valgrind).
bash scripts/test-bindings.sh

# The benchmarks are a package of their own; building them here keeps them compiling as the
# library changes (running them is `bash Benchmarks/run.sh`, minutes of a quiet machine). In the
# test build's scratch directory, so that the dependencies compiled for the tests are reused
# (1 min instead of 10: only the harness's own packages compile).
swift build --package-path Benchmarks --scratch-path .build

# libFuzzer targets (Fuzz/, a nested package built with -sanitize=fuzzer,address): each parser
# is fed the inputs that once crashed it, then fuzzed for FUZZ_SECONDS (20 by default).
bash Fuzz/run.sh
