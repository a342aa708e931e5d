"""Oracle for Zips of datasets (issue 15 point 1): daf_butler's own
`Butler.retrieve_artifacts_zip` and `Butler.ingest_zip`.

    zip_interop.py make WORK         make a daf_butler repository in WORK/daf-source with the
                                     records of the Swift tests' TestRepository.insertInstrument
                                     and four `metrics` datasets, and write them to one Zip in
                                     WORK/daf-zips
    zip_interop.py ingest ZIP WORK   ingest ZIP (written by the Swift Butler) into a new
                                     daf_butler repository in WORK/daf-target holding the same
                                     records and the `metrics` dataset type

Both print JSON: {"zip": path (make only), "datasets": [{id, datasetType, run, dataId
(required), value}]} as daf_butler sees the repository.
"""
import json
import os
import sys

from lsst.daf.butler import Butler, DatasetType


def repository(root):
    """A repository with TestRepository.insertInstrument's records (3 visits, 4 detectors)."""
    Butler.makeRepo(root)
    butler = Butler.from_config(root, writeable=True, run="run/daf")
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "HSC", "detector_max": 200, "visit_max": 10000000})
    registry.insertDimensionData("physical_filter", {"instrument": "HSC", "name": "HSC-I", "band": "i"},
                                 {"instrument": "HSC", "name": "HSC-R", "band": "r"})
    registry.insertDimensionData("day_obs", {"instrument": "HSC", "id": 20131102})
    registry.insertDimensionData("detector", *[{"instrument": "HSC", "id": d, "full_name": f"ccd{d}"} for d in range(4)])
    registry.insertDimensionData("visit", *[{"instrument": "HSC", "id": v, "name": f"v{v}",
                                             "physical_filter": "HSC-I" if v % 2 == 1 else "HSC-R",
                                             "day_obs": 20131102, "exposure_time": 30.0 * v} for v in (1, 2, 3)])
    registry.registerDatasetType(DatasetType("metrics", ["visit", "detector"], "StructuredDataDict", universe=butler.dimensions))
    return butler


def summary(butler):
    refs = {ref.id: ref for ref in butler.registry.queryDatasets(..., collections=...)}
    return [{"id": str(ref.id), "datasetType": ref.datasetType.name, "run": ref.run,
             "dataId": dict(ref.dataId.required), "value": butler.get(ref)}
            for ref in sorted(refs.values(), key=lambda r: str(r.id))]


def main():
    mode = sys.argv[1]
    if mode == "make":
        work = sys.argv[2]
        butler = repository(os.path.join(work, "daf-source"))
        refs = [butler.put({"visit": v, "detector": d, "seeing": 0.5 + d / 10}, "metrics", instrument="HSC", visit=v, detector=d)
                for v in (1, 2) for d in (0, 1)]
        zip_path = butler.retrieve_artifacts_zip(refs, os.path.join(work, "daf-zips"))
        print(json.dumps({"zip": zip_path.ospath, "datasets": summary(butler)}))
    elif mode == "ingest":
        zip_file, work = sys.argv[2], sys.argv[3]
        butler = repository(os.path.join(work, "daf-target"))
        butler.ingest_zip(zip_file)
        print(json.dumps({"datasets": summary(butler)}))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
