"""Writes FITS images of every BITPIX, scaling, blank and tile compression with astropy, and
what astropy reads back from each, for the Swift tests to compare with (issue 10, point 4).

    python3 make_fits_zoo.py DIRECTORY

Then it lists every 2-d image HDU of astropy's own test files (astropy/io/fits/tests/data) the
same way, with their paths. astropy scales integers to float32 in float32 arithmetic (two
roundings) where cfitsio computes in double and rounds once; such HDUs are marked
"scaledToFloat32" and may differ by one float32 ulp.

For each case it writes CASE.fits, and CASE.expected: astropy's pixels of the first 2-d image
HDU as little-endian float64 (blanks NaN). manifest.json lists the cases with their shape,
HDU index and astropy's dtype. Both come from astropy in the test run: nothing is written by hand.
"""
import json
import os
import sys

import numpy as np
from astropy.io import fits

directory = sys.argv[1]
os.makedirs(directory, exist_ok=True)
rng = np.random.default_rng(20261130)
shape = (37, 53)  # not a multiple of any tile: edge tiles are partial
cases = {}


def ramp(dtype, low, high):
    return np.linspace(low, high, shape[0] * shape[1]).reshape(shape).astype(dtype)


def add(name, hdul):
    path = os.path.join(directory, name + ".fits")
    hdul.writeto(path, overwrite=True)
    with fits.open(path) as opened:
        for index, hdu in enumerate(opened):
            if hdu.data is not None and getattr(hdu.data, "ndim", 0) == 2:
                data = np.asarray(hdu.data)
                np.ascontiguousarray(data, dtype="<f8").tofile(os.path.join(directory, name + ".expected"))
                cases[name] = {"hdu": index, "width": data.shape[1], "height": data.shape[0], "dtype": str(data.dtype)}
                return
    raise SystemExit(f"{name}: astropy found no 2-d image")


# Every BITPIX, in the primary HDU and in an extension.
plain = {
    "bitpix8": ramp(np.uint8, 0, 255),
    "bitpix16": ramp(np.int16, -32768, 32767),
    "bitpix32": ramp(np.int32, -2**31, 2**31 - 1),
    "bitpix64": ramp(np.int64, -2**52, 2**52),  # exact in a double
    "bitpix-32": rng.normal(0, 1e3, shape).astype(np.float32),
    "bitpix-64": rng.normal(0, 1e6, shape).astype(np.float64),
}
for name, data in plain.items():
    add(name + "-primary", fits.HDUList([fits.PrimaryHDU(data)]))
    add(name + "-extension", fits.HDUList([fits.PrimaryHDU(), fits.ImageHDU(data, name="SCI")]))

# Unsigned integers as raws store them (BZERO 2^15, 2^31), and a signed byte (BZERO -128).
add("uint16-bzero", fits.HDUList([fits.PrimaryHDU(ramp(np.uint16, 0, 65535))]))
add("uint32-bzero", fits.HDUList([fits.PrimaryHDU(ramp(np.uint32, 0, 2**32 - 1))]))
add("int8-bzero", fits.HDUList([fits.PrimaryHDU(ramp(np.int8, -128, 127))]))

# Linear scaling (BSCALE, BZERO) of 16- and 32-bit integers, and blank pixels among them.
scaled = fits.PrimaryHDU(rng.normal(1000, 50, shape).astype(np.float64))
scaled.scale("int16", bscale=0.25, bzero=1000.0)
add("int16-bscale-bzero", fits.HDUList([scaled]))
blank = np.arange(shape[0] * shape[1], dtype=np.int32).reshape(shape) - 500
blank[3, 4] = blank[20, 40] = -999
hdu = fits.PrimaryHDU(blank)
hdu.header["BLANK"] = -999
hdu.header["BSCALE"] = 2.0
hdu.header["BZERO"] = 10.0
add("int32-blank-scaled", fits.HDUList([hdu]))

# Tile compression: every algorithm cfitsio reads, integer and float, lossless and quantized.
ints = ramp(np.int16, -3000, 3000)
positive = ramp(np.int32, 0, 2**20)
floats = rng.normal(100, 10, shape).astype(np.float32)
compressed = [
    ("rice-int16", ints, dict(compression_type="RICE_1")),
    ("rice-int32", positive, dict(compression_type="RICE_1")),
    ("gzip1-int32", positive, dict(compression_type="GZIP_1")),
    ("gzip2-int16", ints, dict(compression_type="GZIP_2")),
    ("plio-int32", positive // 16, dict(compression_type="PLIO_1")),
    ("hcompress-int16", ints, dict(compression_type="HCOMPRESS_1")),
    ("gzip2-float-lossless", floats, dict(compression_type="GZIP_2", quantize_level=0.0)),
    ("rice-float-quantized-dither1", floats, dict(compression_type="RICE_1", quantize_level=16.0, quantize_method=1)),
    ("rice-float-quantized-dither2", floats, dict(compression_type="RICE_1", quantize_level=16.0, quantize_method=2)),
    ("gzip1-float-quantized-nodither", floats, dict(compression_type="GZIP_1", quantize_level=16.0, quantize_method=-1)),
    ("hcompress-float-quantized", floats, dict(compression_type="HCOMPRESS_1", quantize_level=16.0)),
    ("rice-uint16-bzero", ramp(np.uint16, 0, 65535), dict(compression_type="RICE_1")),
]
for name, data, options in compressed:
    add(name, fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, name="SCI", tile_shape=(16, 16), **options)]))

# astropy's own test files: every 2-d image HDU astropy reads (tables, random groups and
# other shapes are not images and are skipped, as astropy's .data is not a 2-d array there).
import astropy

tests = os.path.join(os.path.dirname(astropy.__file__), "io", "fits", "tests", "data")
for file in sorted(os.listdir(tests)):
    if not file.endswith(".fits"):
        continue
    source = os.path.join(tests, file)
    try:
        opened = fits.open(source)
    except Exception:
        continue
    with opened:
        for index, hdu in enumerate(opened):
            if not isinstance(hdu, (fits.PrimaryHDU, fits.ImageHDU, fits.CompImageHDU)):
                continue
            # Before .data: astropy drops BSCALE/BZERO from the header once it has scaled.
            header = hdu.header.copy()
            try:
                data = hdu.data
            except Exception:
                continue
            if data is None or data.ndim != 2:
                continue
            name = f"astropy-{file[:-5]}-hdu{index}"
            np.ascontiguousarray(data, dtype="<f8").tofile(os.path.join(directory, name + ".expected"))
            scaled = header.get("BITPIX", 0) > 0 and (header.get("BSCALE", 1) != 1 or header.get("BZERO", 0) != 0)
            cases[name] = {"path": source, "hdu": index, "width": data.shape[1], "height": data.shape[0], "dtype": str(data.dtype),
                           "scaledToFloat32": bool(scaled and data.dtype == np.float32)}

with open(os.path.join(directory, "manifest.json"), "w") as handle:
    json.dump(cases, handle, indent=1, sort_keys=True)
print(f"{len(cases)} cases")
