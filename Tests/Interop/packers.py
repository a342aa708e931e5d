"""Oracle for data ID packing (issue 13): lsst.pipe.base's ObservationDimensionPacker.

The packer lives in lsst-pipe-base (installed without its pipeline dependencies by
scripts/daf-butler-env.sh); its module needs only daf_butler and pex_config, so it is loaded from
its file without importing the rest of lsst.pipe.base.

Reads JSON from the file named by its argument: [{"instrument": ..., "observation": "visit"|"exposure",
"detector_max": N, "observation_max": M, "ids": [[observation, detector], ...], "packed": [...]}].
Prints, for each, {"max_bits": ..., "packed": [...], "unpacked": [[observation, detector], ...],
"errors": [message or null for each id]}.
"""
import importlib.util
import json
import os
import sys

from lsst.daf.butler import DataCoordinate, DimensionUniverse

base = importlib.util.find_spec("lsst.pipe.base").submodule_search_locations[0]
spec = importlib.util.spec_from_file_location("observation_packer", os.path.join(base, "_observation_dimension_packer.py"))
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

universe = DimensionUniverse()
out = []
for case in json.load(open(sys.argv[1])):
    observation = case["observation"]
    config = module.ObservationDimensionPackerConfig()
    config.n_detectors = case["detector_max"]
    config.n_observations = case["observation_max"]
    fixed = DataCoordinate.standardize(instrument=case["instrument"], universe=universe)
    packer = module.ObservationDimensionPacker(fixed, config, is_exposure=observation == "exposure")
    packed, errors = [], []
    for o, d in case["ids"]:
        data_id = DataCoordinate.standardize(
            {"instrument": case["instrument"], observation: o, "detector": d}, universe=universe,
            dimensions=packer.dimensions)
        try:
            packed.append(packer.pack(data_id))
            errors.append(None)
        except ValueError as error:
            packed.append(None)
            errors.append(str(error))
    unpacked = []
    for value in case["packed"]:
        data_id = packer.unpack(value)
        unpacked.append([data_id[observation], data_id["detector"]])
    out.append({"max_bits": packer.maxBits, "packed": packed, "unpacked": unpacked, "errors": errors})
json.dump(out, sys.stdout)
