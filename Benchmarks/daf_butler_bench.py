#!/usr/bin/env python3
"""daf_butler doing the benchmark workloads, in the same run as ours (issue 10, point 7).

Run by `run.sh` in a virtual environment with the pinned `lsst-daf-butler`; writes one JSON file
of wall-clock percentiles (microseconds) per workload, which `report.py` reads for its
"× daf_butler" column. The workloads mirror the Swift targets:

- small datasets: 1000 `StructuredDataDict` (JSON) datasets over 100 visits × 10 detectors in an
  embedded SQLite repository; put, get by data ID, get by ref, query all, filtered query;
- a 4096² exposure's pixels (image float32, mask int32, variance float32, 192 MB) as the
  `NumpyArray` storage class daf_butler ships (its pickle formatter): a full get, and a 256²
  cutout, which for the storage classes daf_butler ships is a full get and a slice (none of
  them takes a bounding-box parameter);
- a component get: the `rowcount` derived component of an `ArrowAstropy` (Parquet) table of
  4096 rows, which daf_butler answers from the file's metadata without reading the columns, as
  ours answers `wcs`/`bbox` from headers.

- calibrations (issue 11): 10⁵ exposures one minute apart, 10 detectors, 10 bias generations
  certified back to back into a CALIBRATION collection; a single look-up of the bias valid
  during an exposure (the exposure's record for its timespan, then `find_dataset` with it, as
  a get by exposure does), and the temporal join of every exposure × detector with its bias
  (`query.general` over exposure and detector with the bias's dataset ID, find-first).

- skymaps and packers (issue 13): the records registering 200 HSC-sized tracts writes (200
  tract and 16,200 patch records with sphgeom polygons, made beforehand and not timed) inserted
  into a new repository; lsst.pipe.base's ObservationDimensionPacker packing one visit ×
  detector data ID (per ID, over 10⁴ prebuilt data IDs).

- remote storage (issue 14): small JSON datasets in an S3 datastore on the run's moto server
  (`BUTLER_BENCH_S3_ENDPOINT`): put, and get by data ID (downloaded each time).

Each workload is timed per operation after warm-up iterations, with the same kind of cycling
over data IDs as the Swift benchmarks.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time

from bench_timing import percentiles, timed

import numpy
from astropy.table import Table
from lsst.daf.butler import Butler, CollectionType, DatasetType, Timespan

VISITS = 100
DETECTORS = 10


def cycle(index):
    slot = (index * 7919) % (VISITS * DETECTORS)
    return slot // DETECTORS, slot % DETECTORS


def data_id(visit, detector):
    return {"instrument": "Cam", "visit": visit, "detector": detector}


def payload(visit, detector):
    return {"background": 1000.5 + visit, "noise": 31.6, "nSaturated": float(detector), "psfFwhm": 0.71}


def make_repository(root, config=None):
    if config is None:
        Butler.makeRepo(root)
    else:
        Butler.makeRepo(root, config=config, forceConfigRoot=False)
    butler = Butler.from_config(root, writeable=True)
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "Cam", "detector_max": DETECTORS, "visit_max": 1 << 20})
    registry.insertDimensionData("physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "r"})
    registry.insertDimensionData("day_obs", {"instrument": "Cam", "id": 20261122})
    registry.insertDimensionData("detector", *[{"instrument": "Cam", "id": d, "full_name": f"d{d}"} for d in range(DETECTORS)])
    registry.insertDimensionData(
        "visit",
        *[
            {"instrument": "Cam", "id": v, "name": f"v{v}", "physical_filter": "Cam-r", "day_obs": 20261122}
            for v in range(VISITS)
        ],
    )
    universe = butler.dimensions
    for name, dimensions, storage_class in [
        ("metrics", ["instrument", "visit", "detector"], "StructuredDataDict"),
        ("pixels", ["instrument", "visit", "detector"], "NumpyArray"),
        ("catalog", ["instrument", "visit", "detector"], "ArrowAstropy"),
    ]:
        registry.registerDatasetType(DatasetType(name, dimensions, storage_class, universe=universe))
    return butler


def cycling_put(butler):
    """A put into a new run every 1000 datasets (daf_butler's put needs the run to exist)."""
    counter = [0]

    def put(index):
        slot = counter[0] % (VISITS * DETECTORS)
        run = f"bench/put/{counter[0] // (VISITS * DETECTORS)}"
        counter[0] += 1
        if slot == 0:
            butler.registry.registerRun(run)
        butler.put(payload(slot // DETECTORS, slot % DETECTORS), "metrics", data_id(slot // DETECTORS, slot % DETECTORS), run=run)

    return put


def small_datasets(butler, iterations, budget):
    results = {}
    butler.registry.registerRun("bench/data")
    refs = [butler.put(payload(v, d), "metrics", data_id(v, d), run="bench/data") for v in range(VISITS) for d in range(DETECTORS)]
    results["put"] = timed(cycling_put(butler), iterations, 10, budget)

    def get_data_id(index):
        visit, detector = cycle(index)
        butler.get("metrics", data_id(visit, detector), collections=["bench/data"])

    results["get data ID"] = timed(get_data_id, iterations, 10, budget)
    results["get ref"] = timed(lambda index: butler.get(refs[index % len(refs)]), iterations, 10, budget)

    def query_all(index):
        found = butler.query_datasets("metrics", collections=["bench/data"], limit=None)
        assert len(found) == VISITS * DETECTORS, len(found)

    results["query all"] = timed(query_all, max(1, iterations // 10), 3, budget)

    def filtered(index):
        found = butler.query_datasets("metrics", collections=["bench/data"], where="instrument = 'Cam' AND visit = 42", limit=None)
        assert len(found) == DETECTORS, len(found)

    results["filtered"] = timed(filtered, max(1, iterations // 10), 3, budget)
    return results


def remote(root, budget):
    """Small JSON datasets in an S3 datastore on the benchmark run's moto server (the Remote
    target's rows): a put, and a get by data ID (daf_butler caches no StructuredDataDict by
    default, so every get downloads, as our "not cached" row)."""
    endpoint = os.environ.get("BUTLER_BENCH_S3_ENDPOINT")
    if not endpoint:
        return {}
    import uuid

    import boto3
    from lsst.daf.butler import Config

    os.environ["S3_ENDPOINT_URL"] = endpoint
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
    bucket = f"daf-bench-{uuid.uuid4().hex[:8]}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    butler = make_repository(os.path.join(root, "s3"), Config({"datastore": {"root": f"s3://{bucket}/repo"}}))
    butler.registry.registerRun("bench/data")
    for v in range(VISITS):
        for d in range(DETECTORS):
            butler.put(payload(v, d), "metrics", data_id(v, d), run="bench/data")
    results = {"s3 put": timed(cycling_put(butler), 500, 5, budget)}

    def get(index):
        visit, detector = cycle(index)
        butler.get("metrics", data_id(visit, detector), collections=["bench/data"])

    results["s3 get"] = timed(get, 500, 5, budget)
    return results


def images(butler, budget):
    results = {}
    side = 4096
    planes = numpy.empty((3, side, side), dtype=numpy.float32)
    planes[0] = numpy.random.default_rng(1).normal(1000.0, 30.0, (side, side))
    planes[1] = 0
    planes[2] = 900.0
    butler.registry.registerRun("bench/images")
    butler.put(planes, "pixels", data_id(0, 0), run="bench/images")
    del planes

    def full(index):
        array = butler.get("pixels", data_id(0, 0), collections=["bench/images"])
        assert array.shape == (3, side, side)

    results["full"] = timed(full, 20, 2, budget)

    def cutout(index):
        y, x = (index * 977) % (side - 256), (index * 613) % (side - 256)
        array = butler.get("pixels", data_id(0, 0), collections=["bench/images"])
        assert array[:, y : y + 256, x : x + 256].copy().shape == (3, 256, 256)

    results["cutout"] = timed(cutout, 20, 2, budget)

    table = Table({"id": numpy.arange(side), "flux": numpy.ones(side), "x": numpy.zeros(side), "y": numpy.zeros(side)})
    butler.put(table, "catalog", data_id(0, 0), run="bench/images")

    def component(index):
        assert butler.get("catalog.rowcount", data_id(0, 0), collections=["bench/images"]) == side

    results["component"] = timed(component, 1000, 10, budget)
    return results


EXPOSURES = 100_000
GENERATIONS = 10


def calibrations(root, budget):
    """The calibration workloads on a repository of their own (see the module's docstring)."""
    Butler.makeRepo(root)
    butler = Butler.from_config(root, writeable=True)
    registry = butler.registry
    registry.insertDimensionData("instrument", {"name": "Cam", "detector_max": DETECTORS, "exposure_max": 1 << 20, "visit_max": 1 << 20})
    registry.insertDimensionData("physical_filter", {"instrument": "Cam", "name": "Cam-r", "band": "r"})
    registry.insertDimensionData("day_obs", {"instrument": "Cam", "id": 20260101})
    registry.insertDimensionData("group", {"instrument": "Cam", "name": "g"})
    registry.insertDimensionData("detector", *[{"instrument": "Cam", "id": d, "full_name": f"d{d}"} for d in range(DETECTORS)])
    # 2026-01-01T00:00:00 TAI in daf_butler's TAI nanoseconds; a minute apart, 30 s long.
    start = Timespan.fromInstant(__import__("astropy.time").time.Time("2026-01-01T00:00:00", scale="tai")).nsec[0]
    minute = 60_000_000_000
    registry.insertDimensionData(
        "exposure",
        *[
            {"instrument": "Cam", "id": e, "obs_id": f"e{e}", "physical_filter": "Cam-r", "day_obs": 20260101, "group": "g",
             "observation_type": "science",
             "timespan": Timespan(None, None, _nsec=(start + e * minute, start + e * minute + 30_000_000_000))}
            for e in range(EXPOSURES)
        ],
    )
    registry.registerDatasetType(DatasetType("bias", ["instrument", "detector"], "StructuredDataDict", universe=butler.dimensions, isCalibration=True))
    registry.registerCollection("calib", CollectionType.CALIBRATION)
    span = EXPOSURES // GENERATIONS * minute
    for generation in range(GENERATIONS):
        registry.registerRun(f"bias/{generation}")
        refs = [butler.put({"level": generation}, "bias", {"instrument": "Cam", "detector": d}, run=f"bias/{generation}") for d in range(DETECTORS)]
        begin = start + generation * span
        registry.certify("calib", refs, Timespan(None, None, _nsec=(begin, begin + span)))
    results = {}

    def lookup(index):
        slot = (index * 7919) % (EXPOSURES * DETECTORS)
        data_id = registry.expandDataId({"instrument": "Cam", "exposure": slot // DETECTORS, "detector": slot % DETECTORS})
        assert butler.find_dataset("bias", data_id, collections="calib", timespan=data_id.timespan) is not None

    results["calibration lookup"] = timed(lookup, 1000, 10, budget)

    def join(index):
        with butler.query() as query:
            query = query.join_dataset_search("bias", collections=["calib"]).where(
                "instrument = 'Cam' AND exposure.observation_type = 'science'")
            rows = list(query.general(["exposure", "detector"], dataset_fields={"bias": {"dataset_id"}}, find_first=True))
        assert len(rows) == EXPOSURES * DETECTORS, len(rows)

    results["temporal join"] = timed(join, 3, 0, budget)
    return results


def sky(budget):
    """lsst-sphgeom's and hpgeom's per-point pixels and sphgeom's HTM11 and HEALPix-11 envelopes of a 0.1° circle,
    the references of the Sky rows: per point (1000 points a run) and per envelope."""
    import math
    import random

    import hpgeom
    import lsst.sphgeom as sphgeom
    import numpy

    rng = random.Random(12)
    lons = [rng.uniform(0, 360) for _ in range(1000)]
    lats = [math.degrees(math.asin(rng.uniform(-1, 1))) for _ in range(1000)]
    vectors = [sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat)) for lon, lat in zip(lons, lats)]
    htm20 = sphgeom.HtmPixelization(20)
    htm11 = sphgeom.HtmPixelization(11)
    lon_array, lat_array = numpy.array(lons), numpy.array(lats)
    nside = 1 << 20
    results = {}

    def per_point(result):
        return {key: (value / 1000 if key != "count" else value) for key, value in result.items()}

    results["htm20 index"] = per_point(timed(lambda i: [htm20.index(v) for v in vectors], 200, 5, budget))
    results["healpix pixel"] = per_point(timed(
        lambda i: hpgeom.angle_to_pixel(nside, lon_array, lat_array, nest=True, lonlat=True, degrees=True), 2000, 20, budget))
    results["htm11 envelope"] = timed(
        lambda i: htm11.envelope(sphgeom.Circle(vectors[i % 1000], sphgeom.Angle.fromDegrees(0.1))), 5000, 50, budget)
    healpix11 = sphgeom.HealpixPixelization(11)
    results["healpix11 envelope"] = timed(
        lambda i: healpix11.envelope(sphgeom.Circle(vectors[i % 1000], sphgeom.Angle.fromDegrees(0.1))), 2000, 20, budget)
    return results


def skymap_records(root, budget):
    """What registering 200 HSC-sized tracts of 9 × 9 patches writes, as daf_butler's records:
    the skymap record, 200 tracts and 16,200 patches with polygon regions, into a new repository
    per run (the polygons are made before the clock starts)."""
    import math

    import lsst.sphgeom as sphgeom

    def square(ra, dec, half):
        corners = [(ra - half / math.cos(math.radians(dec)), dec - half), (ra + half / math.cos(math.radians(dec)), dec - half),
                   (ra + half / math.cos(math.radians(dec)), dec + half), (ra - half / math.cos(math.radians(dec)), dec + half)]
        return sphgeom.ConvexPolygon([sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(x, y)) for x, y in corners])

    tracts, patches = [], []
    for tract in range(200):
        ra, dec = 10 + 1.5 * (tract % 20), -10 + 1.5 * (tract // 20)
        tracts.append({"skymap": "field", "id": tract, "region": square(ra, dec, 0.76)})
        step = 1.52 / 9
        for y in range(9):
            for x in range(9):
                patches.append({"skymap": "field", "tract": tract, "id": 9 * y + x, "cell_x": x, "cell_y": y,
                                "region": square(ra - 0.76 + step * (x + 0.5), dec - 0.76 + step * (y + 0.5), step / 2 + 0.005)})
    samples = []
    deadline = time.perf_counter() + budget
    for run in range(3):
        path = os.path.join(root, f"skymap-{run}")
        Butler.makeRepo(path)
        registry = Butler.from_config(path, writeable=True).registry
        start = time.perf_counter_ns()
        registry.insertDimensionData("skymap", {"name": "field", "hash": b"0" * 20, "tract_max": 200, "patch_nx_max": 9, "patch_ny_max": 9})
        registry.insertDimensionData("tract", *tracts)
        registry.insertDimensionData("patch", *patches)
        samples.append((time.perf_counter_ns() - start) / 1e3)
        if time.perf_counter() > deadline:
            break
    return {"skymap records": percentiles(samples)}


def packers(budget):
    """lsst.pipe.base's ObservationDimensionPacker (loaded from its file: it needs only daf_butler
    and pex_config) packing one visit × detector data ID, per ID over 10⁴ prebuilt data IDs."""
    import importlib.util
    import random

    from lsst.daf.butler import DataCoordinate, DimensionUniverse

    base = importlib.util.find_spec("lsst.pipe.base").submodule_search_locations[0]
    spec = importlib.util.spec_from_file_location("observation_packer", os.path.join(base, "_observation_dimension_packer.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    universe = DimensionUniverse()
    config = module.ObservationDimensionPackerConfig()
    config.n_detectors = 200
    config.n_observations = 21474800
    packer = module.ObservationDimensionPacker(
        DataCoordinate.standardize(instrument="HSC", universe=universe), config, is_exposure=False)
    rng = random.Random(13)
    data_ids = [DataCoordinate.standardize(instrument="HSC", visit=rng.randrange(21474800), detector=rng.randrange(200), universe=universe)
                for _ in range(10000)]
    result = timed(lambda i: [packer.pack(d) for d in data_ids], 20, 1, budget)
    return {"pack data ID": {key: (value / 10000 if key != "count" else value) for key, value in result.items()}}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("output", help="JSON file to write")
    parser.add_argument("--iterations", type=int, default=1000, help="timed iterations per small-dataset workload")
    parser.add_argument("--budget", type=float, default=15.0, help="seconds at most per workload")
    parser.add_argument("--only", help="comma-separated sections to run (small, images, calibrations, sky, skymaps, packers, remote); all by default")
    args = parser.parse_args()
    sections = set(args.only.split(",")) if args.only else {"small", "images", "calibrations", "sky", "skymaps", "packers", "remote"}
    root = tempfile.mkdtemp(prefix="daf-butler-bench-")
    try:
        butler = make_repository(root)
        results = {}
        if "small" in sections:
            results.update(small_datasets(butler, args.iterations, args.budget))
        if "images" in sections:
            results.update(images(butler, args.budget))
        if "calibrations" in sections:
            results.update(calibrations(os.path.join(root, "calibrations"), max(args.budget, 60.0)))
        if "sky" in sections:
            results.update(sky(min(args.budget, 5.0)))
        if "skymaps" in sections:
            results.update(skymap_records(root, max(args.budget, 60.0)))
        if "packers" in sections:
            results.update(packers(min(args.budget, 5.0)))
        if "remote" in sections:
            results.update(remote(root, args.budget))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    import lsst.daf.butler

    document = {
        "daf_butler": getattr(lsst.daf.butler, "__version__", "unknown"),
        "python": sys.version.split()[0],
        "unit": "µs",
        "workloads": results,
    }
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
    for name, values in results.items():
        print(f"daf_butler {name}: p50 {values['p50']:.0f} µs, p90 {values['p90']:.0f} µs ({values['count']} runs)")


if __name__ == "__main__":
    main()
