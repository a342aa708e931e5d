#!/usr/bin/env python3
"""daf_butler importing the export the Transfers benchmark wrote (issue 15), in the same run.

Usage: daf_import_bench.py EXPORT_DIRECTORY WORK_DIRECTORY. Makes an embedded daf_butler
repository in WORK_DIRECTORY, then times `Butler.import_` of EXPORT_DIRECTORY/export.yaml with
`transfer="direct"` (the artifacts used in place, as our row does). Prints the seconds.
"""
import os
import shutil
import sys
import time

from lsst.daf.butler import Butler

export_directory, work = sys.argv[1], sys.argv[2]
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
Butler.makeRepo(work)
butler = Butler.from_config(work, writeable=True)
start = time.perf_counter()
butler.import_(directory=export_directory, filename=os.path.join(export_directory, "export.yaml"), transfer="direct")
elapsed = time.perf_counter() - start
count = len(list(butler.registry.queryDatasets(..., collections=...)))
shutil.rmtree(work, ignore_errors=True)
print(f"imported {count} datasets", file=sys.stderr)
print(elapsed)
