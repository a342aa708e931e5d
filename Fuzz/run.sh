#!/usr/bin/env bash
# Builds the libFuzzer targets (the whole build instrumented with -sanitize=fuzzer,address) and
# runs each for a bounded time: first over the inputs that once crashed it
# (Fuzz/Regressions/<target>, each must now pass), then fuzzing from the seed corpus
# (Fuzz/Corpus/<target>). A crash, a timeout (10 s for one input) or memory beyond 2 GB fails the
# run and leaves the input in Fuzz/.artifacts/; copy it into Fuzz/Regressions/<target> once fixed.
#   bash Fuzz/run.sh                    every target, FUZZ_SECONDS (default 20) each
#   FUZZ_SECONDS=600 bash Fuzz/run.sh FuzzFITS
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p .artifacts

seconds=${FUZZ_SECONDS:-20}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzWhere FuzzFITS FuzzHDF5 FuzzConfig FuzzCSV)

# Debug: a first build costs half a release one (the targets call libFuzzer's driver, FuzzDriver).
build=(swift build -Xswiftc -sanitize=fuzzer,address)
if ! "${build[@]}" >.artifacts/build.log 2>&1; then
  grep -v "ld.gold: warning: Cannot export local symbol" .artifacts/build.log >&2
  exit 1
fi
bin=$("${build[@]}" --show-bin-path)
# HDF5 and cfitsio keep global caches until exit: not leaks of ours (detect_leaks=0).
for target in "${targets[@]}"; do
  # libhdf5 1.10 (Debian's, not built here) copies past a buffer while reading a corrupt object
  # header of a file without metadata checksums (superblock v0, as older builds wrote): a read
  # inside the library, harmless outside ASan, that no check of ours can prevent short of
  # refusing such files. Files we write are checksummed (HDF5File.create); for this target ASan
  # does not check the C library's memcpy, and still checks every access of our own code.
  # An impossible allocation (beyond ASan's 1 TB, from a corrupt size cfitsio computed) returns
  # NULL as it does outside ASan, and the library reports a memory error; one that could succeed
  # but exceeds 2 GB is still a failure (libFuzzer's malloc limit).
  common=detect_leaks=0:allocator_may_return_null=1
  if [ "$target" = FuzzHDF5 ]; then export ASAN_OPTIONS=$common:replace_intrin=0; else export ASAN_OPTIONS=$common; fi
  options=(-timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix=.artifacts/"$target"- -print_final_stats=0)
  if [ -d "Regressions/$target" ] && [ -n "$(ls -A "Regressions/$target")" ]; then
    echo "== $target: regressions"
    if ! "$bin/$target" "${options[@]}" Regressions/"$target"/* >.artifacts/"$target".log 2>&1; then
      tail -n 30 .artifacts/"$target".log >&2
      echo "$target failed on a regression input" >&2
      exit 1
    fi
  fi
  seeds=(Corpus/"$target")
  [ "$target" = FuzzFITS ] && seeds+=(../Tests/Fixtures/afw)
  work=$(mktemp -d /tmp/butler-fuzz-corpus.XXXXXX)
  echo "== $target: fuzzing for $seconds s"
  status=0
  "$bin/$target" "${options[@]}" -max_total_time="$seconds" "$work" "${seeds[@]}" >.artifacts/"$target".log 2>&1 || status=$?
  rm -rf "$work"
  grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)" .artifacts/"$target".log | tail -n 2 || true
  if [ "$status" != 0 ]; then
    tail -n 40 .artifacts/"$target".log >&2
    echo "$target failed (status $status); the input is in Fuzz/.artifacts/" >&2
    exit 1
  fi
done
echo "fuzz targets without a crash: ${targets[*]}"
