#!/usr/bin/env python3
"""The bindings rows' Python side: the Swift Butler through its Python package (swift_butler, over
libSwiftButler.so), on the repository the `Bindings` benchmark target made
(/tmp/butler-bench-bindings-v1/repo), the same calls in the same order as that target's rows:

  python get data ID    butler.get("metrics", data ID) cycling 1000 data IDs as daf_butler_bench.py does
  python component      butler.get("calexp.wcs", data ID)
  python cutout         butler.get("calexp", data ID, parameters={"bbox": …}): a 256² cutout of 4096²,
                        at the positions the Swift target uses, its image plane touched as numpy

Usage: bindings_bench.py REPOSITORY OUTPUT.json (run.sh sets SWIFT_BUTLER_LIBRARY and PYTHONPATH).
"""
import json
import sys

from bench_timing import timed
from swift_butler import Butler

VISITS, DETECTORS, SIDE = 100, 10, 4096


def data_id(visit, detector):
    return {"instrument": "Cam", "visit": visit, "detector": detector}


def main():
    repo, output = sys.argv[1], sys.argv[2]
    butler = Butler(repo, collections=["bench"], writeable=False)
    results = {}

    def get_data_id(index):
        slot = (index * 7919) % (VISITS * DETECTORS)
        value = butler.get("metrics", data_id(slot // DETECTORS, slot % DETECTORS))
        assert "background" in value

    results["python get data ID"] = timed(get_data_id, 2000, 10, 5.0)
    results["python component"] = timed(lambda index: butler.get("calexp.wcs", data_id(0, 0)), 2000, 10, 5.0)

    def cutout(index):
        x, y = (index * 613) % (SIDE - 256), (index * 977) % (SIDE - 256)
        exposure = butler.get("calexp", data_id(0, 0), parameters={"bbox": (x, y, x + 255, y + 255)})
        assert exposure.image.shape == (256, 256)

    results["python cutout"] = timed(cutout, 500, 10, 5.0)
    butler.close()
    with open(output, "w", encoding="utf-8") as handle:
        json.dump({"unit": "µs", "workloads": results}, handle, indent=2)
    for name, values in results.items():
        print(f"{name}: p50 {values['p50']:.1f} µs, p90 {values['p90']:.1f} µs ({values['count']} runs)")


if __name__ == "__main__":
    main()
