"""Oracle for skymap tract WCSs and identities (issue 13).

Reads JSON from the file named by its argument: {"wcs": [{"crpix": [x, y], "crval": [ra, dec], "cd": [[..], [..]],
"projection": "TAN"|"STG", "pixels": [[x, y], ...]}, ...], "identities": [{"kind": ..., ...}]}.
Prints, for every WCS, astropy's sky positions of the given 0-based pixels (FITS CRPIX = crpix + 1),
and for every identity the SHA-1 of lsst.skymap's recipe packed with Python's struct module.
"""
import hashlib
import json
import struct
import sys

import numpy as np
from astropy.wcs import WCS

request = json.load(open(sys.argv[1]))
out = {"sky": [], "hashes": []}
for item in request["wcs"]:
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---" + item["projection"], "DEC--" + item["projection"]]
    w.wcs.crpix = [item["crpix"][0] + 1, item["crpix"][1] + 1]
    w.wcs.crval = item["crval"]
    w.wcs.cd = np.array(item["cd"])
    w.wcs.cunit = ["deg", "deg"]
    pixels = np.array(item["pixels"], dtype=float)
    world = w.wcs_pix2world(pixels, 0)
    out["sky"].append({"world": world.tolist()})
for config in request["identities"]:
    sha1 = hashlib.sha1()
    sha1.update(config["className"].encode("utf-8"))
    sha1.update(struct.pack("<iiidd3sd", config["patchInnerDimensions"][0], config["patchInnerDimensions"][1],
                            config["patchBorder"], config["tractOverlap"], config["pixelScale"],
                            config["projection"].encode("ascii"), config["rotation"]))
    if config["className"] == "RingsSkyMap":
        sha1.update(struct.pack("<id", config["numRings"], config["raStart"]))
    else:
        fmt = "<{}d".format(len(config["radiusList"]))
        for key in ("raList", "decList", "radiusList"):
            sha1.update(struct.pack(fmt, *config[key]))
    out["hashes"].append(sha1.hexdigest())
json.dump(out, sys.stdout)
