"""Oracle for export/import (issue 15 point 1): daf_butler's own `Butler.export` and
`Butler.import_` with its YAML export format.

    export_import.py export WORK     make a daf_butler repository in WORK/repo (records with
                                     timespans and regions, RUN/TAGGED/CALIBRATION/CHAINED
                                     collections, datasets) and export it to WORK/export
    export_import.py import DIRECTORY WORK
                                     import DIRECTORY (an export written by the Swift Butler)
                                     into a new daf_butler repository in WORK

Both print a JSON summary of the repository as daf_butler sees it: datasets (id, type, run,
required data ID, value), collections (type, chain children), TAGGED members, CALIBRATION
memberships with their ranges (TAI ISO), and visit records (timespan, region encoding in hex).
"""
import json
import os
import sys

import astropy.time
import lsst.sphgeom as sphgeom
from lsst.daf.butler import Butler, CollectionType, DatasetType, Timespan


def tai(text):
    return astropy.time.Time(text, scale="tai")


def iso(time):
    return None if time is None else time.tai.strftime("%Y-%m-%dT%H:%M:%S")


def summary(butler):
    registry = butler.registry
    datasets = []
    refs = {ref.id: ref for ref in registry.queryDatasets(..., collections=...)}
    for ref in sorted(refs.values(), key=lambda r: str(r.id)):
        datasets.append({"id": str(ref.id), "datasetType": ref.datasetType.name, "run": ref.run,
                         "dataId": dict(ref.dataId.required), "value": butler.get(ref)})
    collections = {}
    for name in registry.queryCollections():
        kind = registry.getCollectionType(name)
        entry = {"type": kind.name}
        if kind is CollectionType.CHAINED:
            entry["children"] = list(registry.getCollectionChain(name))
        if kind is CollectionType.TAGGED:
            entry["members"] = sorted(str(r.id) for r in registry.queryDatasets(..., collections=name))
        if kind is CollectionType.CALIBRATION:
            entry["ranges"] = sorted(
                [str(a.ref.id), iso(a.timespan.begin), iso(a.timespan.end)]
                for t in registry.queryDatasetTypes() if t.isCalibration()
                for a in registry.queryDatasetAssociations(t, collections=name))
        collections[name] = entry
    visits = []
    for record in registry.queryDimensionRecords("visit"):
        visits.append({"id": record.id, "physical_filter": record.physical_filter, "day_obs": record.day_obs,
                       "begin": iso(record.timespan.begin) if record.timespan else None,
                       "end": iso(record.timespan.end) if record.timespan else None,
                       "region": record.region.encode().hex() if record.region is not None else None})
    return {"datasets": datasets, "collections": collections, "visits": sorted(visits, key=lambda v: v["id"])}


def make_and_export(work):
    root = os.path.join(work, "repo")
    Butler.makeRepo(root)
    butler = Butler.from_config(root, writeable=True, run="run/a")
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "HSC", "detector_max": 200, "visit_max": 10000000, "class_name": "x"})
    registry.insertDimensionData("physical_filter", {"instrument": "HSC", "name": "HSC-I", "band": "i"})
    registry.insertDimensionData("day_obs", {"instrument": "HSC", "id": 20131102})
    registry.insertDimensionData("detector", *[{"instrument": "HSC", "id": d, "full_name": f"ccd{d}"} for d in (1, 2)])
    corners = [sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(ra, dec)) for ra, dec in ((150, 2), (150.2, 2), (150.1, 2.2))]
    polygon = sphgeom.ConvexPolygon(corners)
    registry.insertDimensionData("visit", {"instrument": "HSC", "id": 42, "name": "v42", "physical_filter": "HSC-I",
                                           "day_obs": 20131102, "region": polygon,
                                           "timespan": Timespan(tai("2013-11-02T10:00:00"), tai("2013-11-02T10:00:30"))})
    registry.insertDimensionData("visit_detector_region",
                                 *[{"instrument": "HSC", "visit": 42, "detector": d, "region": polygon} for d in (1, 2)])
    registry.registerDatasetType(DatasetType("metrics", ["visit", "detector"], "StructuredDataDict", universe=butler.dimensions))
    registry.registerDatasetType(DatasetType("bias", ["instrument", "detector"], "StructuredDataDict",
                                             universe=butler.dimensions, isCalibration=True))
    for d in (1, 2):
        butler.put({"detector": d, "seeing": 0.5 + d / 10}, "metrics", instrument="HSC", visit=42, detector=d)
    registry.registerRun("calib/run")
    biases = [butler.put({"bias": d}, "bias", instrument="HSC", detector=d, run="calib/run") for d in (1, 2)]
    registry.registerCollection("calib", CollectionType.CALIBRATION)
    registry.certify("calib", biases, Timespan(tai("2013-11-01T00:00:00"), None))
    registry.registerCollection("chain", CollectionType.CHAINED)
    registry.setCollectionChain("chain", ["run/a", "calib"])
    registry.registerCollection("tag", CollectionType.TAGGED)
    registry.associate("tag", list(registry.queryDatasets("metrics", collections="run/a", where="instrument = 'HSC' AND detector = 1")))
    directory = os.path.join(work, "export")
    os.makedirs(directory)
    with butler.export(filename="export.yaml", directory=directory, transfer="copy") as export:
        export.saveDatasets(registry.queryDatasets(..., collections=...))
        for name in ("chain", "calib", "tag"):
            export.saveCollection(name)
    return summary(butler)


def import_export(directory, work):
    root = os.path.join(work, "daf-repo")
    Butler.makeRepo(root)
    butler = Butler.from_config(root, writeable=True)
    butler.import_(directory=directory, filename=os.path.join(directory, "export.yaml"), transfer="copy")
    return summary(butler)


if __name__ == "__main__":
    if sys.argv[1] == "export":
        print(json.dumps(make_and_export(sys.argv[2])))
    else:
        print(json.dumps(import_export(sys.argv[2], sys.argv[3])))
