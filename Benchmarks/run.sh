#!/usr/bin/env bash
# Runs every benchmark and prints one table: each row's p50/p90, its ratio to the limit
# measured in the same run and to daf_butler doing the same workloads in the same run
# (daf_butler_bench.py, in the pinned environment of scripts/daf-butler-env.sh).
#   bash Benchmarks/run.sh                     all targets
#   bash Benchmarks/run.sh --target Scale      arguments go on to `swift package benchmark`
# A PostgreSQL server for the registry-scale rows runs from /tmp/butler-bench-pg while the
# benchmarks run; its data (the filled registries) is kept for the next run.
# BUTLER_BENCH_DAF=0 leaves daf_butler out (the table then says it was not run);
# BUTLER_BENCH_DAF_ONLY=remote,small runs only those of its sections (with --target …).
set -euo pipefail
cd "$(dirname "$0")"

BUTLER_SKIP_PYTHON=1 bash ../scripts/install-deps.sh

pgdir=/tmp/butler-bench-pg
s3dir=/tmp/butler-bench-s3
httpdir=/tmp/butler-bench-http
trap 'bash ../scripts/postgres.sh halt "$pgdir"; bash ../scripts/s3-server.sh stop "$s3dir"; bash ../scripts/http-server.sh stop "$httpdir"; rm -rf "$httpdir-root"' EXIT
BUTLER_BENCH_POSTGRES_URL=$(bash ../scripts/postgres.sh start "$pgdir")
export BUTLER_BENCH_POSTGRES_URL
# The remote rows' servers: moto (no signature checking, so the bare-client limit sends plain
# requests; the Butler signs its own) and nginx serving a directory the Remote target writes to.
BUTLER_BENCH_S3_ENDPOINT=$(BUTLER_S3_AUTH=0 bash ../scripts/s3-server.sh start "$s3dir" | sed 's/^[^=]*=//')
httpenv=$(bash ../scripts/http-server.sh start "$httpdir" "$httpdir-root")
BUTLER_BENCH_HTTP_ENDPOINT=$(echo "$httpenv" | sed -n 's/^BUTLER_TEST_HTTP_ENDPOINT=//p')
BUTLER_BENCH_HTTP_ROOT=$(echo "$httpenv" | sed -n 's/^BUTLER_TEST_HTTP_ROOT=//p')
export BUTLER_BENCH_S3_ENDPOINT BUTLER_BENCH_HTTP_ENDPOINT BUTLER_BENCH_HTTP_ROOT
export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench

results=.results
rm -rf "$results"
mkdir -p "$results"
# The ranged-read rows write the bytes and requests of one read here (ranged-reads.json).
BUTLER_BENCH_RESULTS="$PWD/$results"
export BUTLER_BENCH_RESULTS
start=$(date +%s)
if [ "${BUTLER_BENCH_DAF:-1}" != 0 ]; then
  daf_python=$(bash ../scripts/daf-butler-env.sh)
  "$daf_python" daf_butler_bench.py "$results/daf_butler.json" ${BUTLER_BENCH_DAF_ONLY:+--only "$BUTLER_BENCH_DAF_ONLY"}
fi
swift package --allow-writing-to-package-directory benchmark \
  --format histogramPercentiles --path "$results" --no-progress "$@"
# The bindings rows' Python side: our Python package on the repository the Bindings target made,
# against the release library built here (the Swift side's figures are that target's rows).
bindings_json=""
if [ -d /tmp/butler-bench-bindings-v1/repo ] && [ "${BUTLER_BENCH_DAF:-1}" != 0 ]; then
  swift build -c release --product SwiftButler >/dev/null
  SWIFT_BUTLER_LIBRARY="$(swift build -c release --show-bin-path)/libSwiftButler.so" PYTHONPATH=../python \
    "$daf_python" bindings_bench.py /tmp/butler-bench-bindings-v1/repo "$results/bindings.json"
  bindings_json="$results/bindings.json"
fi
# Writer processes on one repository (not a harness benchmark: it starts processes).
swift build -c release --product Writers >/dev/null
{
  echo
  echo "Writer processes, 200 puts each (JSON, fsync) into one run; throughput and its ratio to 1 process:"
  echo
  .build/release/Writers 1 2 8 16 | sed 's/^/    /'
  .build/release/Writers --postgres "$BUTLER_BENCH_POSTGRES_URL" 1 2 8 16 | sed 's/^/    /'
} > "$results/writers.txt"
# Issue 15's rows (export, import beside daf_butler importing the same export, transfer with
# statement counts, verify): not harness benchmarks either, each is one long operation.
swift build -c release --product Transfers >/dev/null
{
  echo
  echo "Export, import, transfer and verify (issue 15; SQLite, release build, medians of 3 where timed more than once):"
  echo
  if [ "${BUTLER_BENCH_DAF:-1}" != 0 ]; then
    .build/release/Transfers --daf "$daf_python" daf_import_bench.py
  else
    .build/release/Transfers
  fi
} > "$results/transfers.txt"
elapsed=$(( $(date +%s) - start ))
{ python3 report.py "$results" --elapsed "$elapsed" --daf "$results/daf_butler.json" --bindings "$bindings_json"; cat "$results/writers.txt" "$results/transfers.txt"; } | tee "$results/report.md"
