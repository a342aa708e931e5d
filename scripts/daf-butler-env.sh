#!/usr/bin/env bash
# Makes (once) a Python virtual environment with the pinned daf_butler release and prints its
# python. The benchmarks run daf_butler's side of each workload through it, in the same run as
# ours; oracle tests use it to ask the reference implementations (daf_butler, sphgeom, hpgeom,
# pipe_base's observation packer).
#   python=$(bash scripts/daf-butler-env.sh)
# The environment lives in /tmp (kept between runs, like the benchmark data); BUTLER_DAF_VENV
# moves it.
set -euo pipefail
. "$(dirname "$0")/python-venv.sh"

version=30.2026.4300
hpgeom_version=1.6.1
botocore_version=1.44.8
venv=${BUTLER_DAF_VENV:-/tmp/butler-daf-butler-$version}
# One maker at a time: parallel tests ask for the environment at once on a fresh machine, and two
# pip installs into one environment break it.
exec 9>"$venv.lock"
flock 9
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import lsst.daf.butler' >/dev/null 2>&1; then
  new_venv "$venv" "lsst-daf-butler==$version"
fi
# The sky tests' second reference (lsst-sphgeom comes with daf_butler).
if ! "$venv/bin/python" -c 'import hpgeom' >/dev/null 2>&1; then
  echo "installing: hpgeom==$hpgeom_version in $venv (pip)" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "hpgeom==$hpgeom_version" >&2
fi
# The observation packer's reference: lsst-pipe-base's ObservationDimensionPacker needs only
# daf_butler and pex_config, so pipe_base comes without its pipeline dependencies (the last
# release whose wheel installs on this Python).
if ! "$venv/bin/python" -c 'import lsst.pex.config, importlib.util as u; u.find_spec("lsst.pipe.base")' >/dev/null 2>&1; then
  echo "installing: lsst-pex-config==$version, lsst-pipe-base==30.2026.500 (no dependencies) in $venv (pip)" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "lsst-pex-config==$version" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps "lsst-pipe-base==30.2026.500" >&2
fi
# The S3 signatures' reference (botocore, the AWS SDK's signer), boto3 for daf_butler's S3
# datastore in the benchmarks, and pytest for the Python package's tests.
if ! "$venv/bin/python" -c 'import botocore, boto3, pytest' >/dev/null 2>&1; then
  echo "installing: botocore==$botocore_version, boto3==$botocore_version, pytest in $venv (pip)" >&2
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "botocore==$botocore_version" "boto3==$botocore_version" pytest >&2
fi
echo "$venv/bin/python"
