#!/usr/bin/env python3
"""daf_butler's own spatial queries, for Tests/ButlerTests/SpatialOracleTests.swift.

Usage: spatial_oracle.py SEED WORKDIR. Builds a daf_butler (lsst-daf-butler from PyPI) SQLite
repository in WORKDIR with seeded visit, visit_detector_region, tract and patch records whose
regions are lsst-sphgeom polygons, runs daf_butler's queries, and prints one JSON document:

  {"records": {element: [record fields, region as daf_butler stores it (base64)]},
   "queries": [{"dimensions": [...], "where": "...", "rows": [[values...], ...]}]}

The Swift test inserts the same records (daf_butler's region text, read as it is) and must
find the same rows.
"""
import base64
import json
import math
import random
import sys

import lsst.sphgeom as sphgeom
from lsst.daf.butler import Butler, Config


def square(ra, dec, width, height):
    points = [(ra - width / 2, dec - height / 2), (ra + width / 2, dec - height / 2),
              (ra + width / 2, dec + height / 2), (ra - width / 2, dec + height / 2)]
    return sphgeom.ConvexPolygon([sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(*p)) for p in points])


def encoded(region):
    return base64.b64encode(region.encode()).decode()


def main():
    seed, workdir = int(sys.argv[1]), sys.argv[2]
    rng = random.Random(seed)
    config = Butler.makeRepo(workdir)
    butler = Butler.from_config(config, writeable=True, run="run")
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "Cam", "visit_max": 1000, "detector_max": 100,
                                                "class_name": "x"})
    registry.insertDimensionData("physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "r"})
    registry.insertDimensionData("day_obs", {"instrument": "Cam", "id": 20240101})
    registry.insertDimensionData("detector", *[{"instrument": "Cam", "id": d, "full_name": f"d{d}"} for d in range(9)])
    visits, detectors = [], []
    for visit in range(1, 13):
        ra, dec = 148.5 + 3 * rng.random(), 0.5 + 3 * rng.random()
        angle = rng.uniform(0, 40)
        corners = []
        for d in range(9):
            # Detectors of a visit on a grid rotated by `angle`, 0.24° wide.
            dx, dy = (d % 3 - 1) * 0.25, (d // 3 - 1) * 0.25
            c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
            region = square(ra + dx * c - dy * s, dec + dx * s + dy * c, 0.24, 0.24)
            corners += list(region.getVertices())
            detectors.append({"instrument": "Cam", "visit": visit, "detector": d, "region": region})
        visits.append({"instrument": "Cam", "id": visit, "name": f"v{visit}", "physical_filter": "Cam-r",
                       "day_obs": 20240101, "region": sphgeom.ConvexPolygon(corners)})
    registry.insertDimensionData("visit", *visits)
    registry.insertDimensionData("visit_detector_region", *detectors)
    registry.insertDimensionData("skymap", {"name": "s", "hash": b"\0", "tract_max": 2, "patch_nx_max": 6,
                                            "patch_ny_max": 8})
    tracts, patches = [], []
    for tract in range(2):
        west = 147.0 + 3 * tract
        tracts.append({"skymap": "s", "id": tract, "region": square(west + 1.5, 2, 3, 4)})
        for patch in range(48):
            x, y = patch % 6, patch // 6
            patches.append({"skymap": "s", "tract": tract, "id": patch, "cell_x": x, "cell_y": y,
                            "region": square(west + 0.25 + 0.5 * x, 0.25 + 0.5 * y, 0.5, 0.5)})
    registry.insertDimensionData("tract", *tracts)
    registry.insertDimensionData("patch", *patches)

    records = {}
    for element, keys in [("visit", ["instrument", "id"]), ("visit_detector_region", ["instrument", "visit", "detector"]),
                          ("tract", ["skymap", "id"]), ("patch", ["skymap", "tract", "id"])]:
        rows = []
        for record in butler.query_dimension_records(element, limit=None):
            fields = {key: getattr(record, key) for key in keys}
            fields["region"] = encoded(record.region)
            if element == "visit":
                fields.update(name=record.name, physical_filter=record.physical_filter, day_obs=record.day_obs)
            if element == "patch":
                fields.update(cell_x=record.cell_x, cell_y=record.cell_y)
            rows.append(fields)
        records[element] = rows

    queries = []

    def run(dimensions, where):
        with butler.query() as query:
            rows = sorted({tuple(data_id[d] for d in dimensions)
                           for data_id in query.data_ids(dimensions).where(where)})
        queries.append({"dimensions": dimensions, "where": where, "rows": [list(r) for r in rows]})

    for visit, detector in [(1, 0), (2, 4), (5, 8), (7, 3), (11, 6)]:
        run(["tract", "patch"], f"instrument = 'Cam' AND visit = {visit} AND detector = {detector}")
    for tract, patch in [(0, 0), (0, 21), (0, 47), (1, 2), (1, 25)]:
        run(["visit", "detector"], f"instrument = 'Cam' AND skymap = 's' AND tract = {tract} AND patch = {patch}")
    run(["visit", "tract"], "instrument = 'Cam' AND skymap = 's'")
    for point in ["POINT(150.1, 2.2)", "POINT(149.3, 1.1)", "POINT(151.7, 3.3)"]:
        run(["visit", "detector"], f"instrument = 'Cam' AND visit_detector_region.region OVERLAPS {point}")
        run(["patch"], f"skymap = 's' AND patch.region OVERLAPS {point}")
    for shape in ["BOX(150.5, 2.5, 1, 0.5)", "POLYGON(149, 1, 151, 1.5, 150, 3)", "REGION('CIRCLE 151 3 0.3')"]:
        run(["visit", "detector"], f"instrument = 'Cam' AND visit_detector_region.region OVERLAPS {shape}")
        run(["visit"], f"instrument = 'Cam' AND visit.region OVERLAPS {shape}")
    json.dump({"records": records, "queries": queries}, sys.stdout)


if __name__ == "__main__":
    main()
