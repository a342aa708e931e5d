#!/usr/bin/env python3
"""Interop checks between the Swift Butler's image files and the Python ecosystem.

  check_images.py verify MANIFEST.json
      Reads each file the Swift tests wrote with astropy (FITS) or h5py (HDF5) and checks
      pixels (exactly), xy0, mask planes and sky coordinates (astropy.wcs, SIP included).
  check_images.py make-plain OUTDIR
      Writes plain FITS images with astropy (primary HDU with a TAN WCS; a RICE-compressed
      extension) and their raw pixels, for the any-FITS-image reader.
  check_images.py describe FILE OUTDIR
      Writes what astropy reads from an afw-written FITS file: raw planes (OUTDIR/<PLANE>.raw,
      little-endian) and OUTDIR/describe.json (mask planes, WCS sky positions, PhotoCalib, PSF).

Exits non-zero with a message naming the file and the mismatch.
"""
import json
import os
import sys

import numpy as np


def fail(message):
    print(f"MISMATCH: {message}", file=sys.stderr)
    sys.exit(1)


def image_hdus(hdul):
    """IMAGE/MASK/VARIANCE HDUs by EXTNAME, else afw's positions 1-3."""
    named = {hdu.name: hdu for hdu in hdul if hdu.name in ("IMAGE", "MASK", "VARIANCE") and hdu.data is not None}
    if "IMAGE" in named:
        return named
    return {"IMAGE": hdul[1], "MASK": hdul[2], "VARIANCE": hdul[3]}


def verify(manifest_path):
    from astropy.io import fits
    from astropy.wcs import WCS
    import h5py

    with open(manifest_path) as handle:
        manifest = json.load(handle)
    for case in manifest["cases"]:
        path = case["path"]
        if case["format"] == "fits":
            with fits.open(path) as hdul:
                planes = image_hdus(hdul)
                for name, spec in case["planes"].items():
                    data = planes[name].data
                    expected = np.fromfile(spec["raw"], dtype=spec["dtype"]).reshape(case["height"], case["width"])
                    if data.shape != expected.shape or not np.array_equal(data, expected):
                        fail(f"{path} {name}: astropy pixels differ from ours (shape {data.shape} vs {expected.shape})")
                header = planes["IMAGE"].header
                if (-header["LTV1"], -header["LTV2"]) != tuple(case["xy0"]):
                    fail(f"{path}: LTV gives xy0 {(-header['LTV1'], -header['LTV2'])}, expected {case['xy0']}")
                mask_header = planes["MASK"].header
                planes_found = {key[3:]: value for key, value in mask_header.items() if key.startswith("MP_")}
                if planes_found != case["maskPlanes"]:
                    fail(f"{path}: mask planes {planes_found} != {case['maskPlanes']}")
                wcs = WCS(header)
                for check in case["sky"]:
                    x, y = check["fitsPixel"]
                    ra, dec = wcs.all_pix2world([[x, y]], 1)[0]
                    dra = abs(((ra - check["ra"]) + 180) % 360 - 180)
                    if dra > 1e-9 or abs(dec - check["dec"]) > 1e-9:
                        fail(f"{path}: astropy.wcs puts FITS pixel ({x}, {y}) at ({ra!r}, {dec!r}); we said ({check['ra']!r}, {check['dec']!r})")
                    px, py = wcs.all_world2pix([[check["ra"], check["dec"]]], 1, tolerance=1e-12, maxiter=100)[0]
                    if abs(px - x) > 1e-6 or abs(py - y) > 1e-6:
                        fail(f"{path}: astropy.wcs maps ({check['ra']}, {check['dec']}) to pixel ({px}, {py}), expected ({x}, {y})")
        else:
            with h5py.File(path, "r") as handle:
                for name, spec in case["planes"].items():
                    data = handle[name.lower()][...]
                    expected = np.fromfile(spec["raw"], dtype=spec["dtype"]).reshape(case["height"], case["width"])
                    if data.shape != expected.shape or not np.array_equal(data, expected):
                        fail(f"{path} /{name.lower()}: h5py pixels differ from ours")
                    if handle[name.lower()].chunks is None:
                        fail(f"{path} /{name.lower()}: not chunked")
                if list(handle.attrs["xy0"]) != case["xy0"]:
                    fail(f"{path}: xy0 {list(handle.attrs['xy0'])} != {case['xy0']}")
                planes_found = {key[3:]: int(value) for key, value in handle["mask"].attrs.items() if key.startswith("MP_")}
                if planes_found != case["maskPlanes"]:
                    fail(f"{path}: mask planes {planes_found} != {case['maskPlanes']}")
        print(f"ok {case['format']} {os.path.basename(path)}")


def describe(path, outdir):
    from astropy.io import fits
    from astropy.wcs import WCS

    result = {}
    with fits.open(path) as hdul:
        planes = image_hdus(hdul)
        result["shape"] = list(planes["IMAGE"].data.shape)
        for name, hdu in planes.items():
            data = np.ascontiguousarray(hdu.data)
            dtype = "<f4" if data.dtype.kind == "f" else "<i4"
            data.astype(dtype).tofile(os.path.join(outdir, f"{name}.raw"))
        result["maskPlanes"] = {key[3:]: value for key, value in planes["MASK"].header.items() if key.startswith("MP_")}
        wcs = WCS(planes["IMAGE"].header)
        height, width = result["shape"]
        samples = [[1, 1], [width, height], [width / 2 + 0.25, height / 3 - 0.5], [-100.5, 2000.0]]
        result["sky"] = [{"fitsPixel": s, "ra": float(c[0]), "dec": float(c[1])}
                         for s, c in zip(samples, wcs.all_pix2world(samples, 1))]
        for hdu in hdul:
            if hdu.name == "PHOTOCALIB" or (hdu.header.get("EXTNAME") == "PhotoCalib"):
                result["photoCalib"] = {"mean": float(hdu.data["calibrationMean"][0]), "err": float(hdu.data["calibrationErr"][0])}
            if isinstance(hdu, fits.BinTableHDU) and "sigma" in hdu.columns.names and "dimensions_x" in hdu.columns.names:
                result["psf"] = {"sigma": float(hdu.data["sigma"][0]), "width": int(hdu.data["dimensions_x"][0]),
                                 "height": int(hdu.data["dimensions_y"][0])}
    with open(os.path.join(outdir, "describe.json"), "w") as handle:
        json.dump(result, handle)
    print(f"described {os.path.basename(path)}")


def make_plain(outdir):
    """Writes FITS files that are not afw's layout: a primary-HDU float image with a TAN WCS,
    and a RICE-compressed int32 extension with BSCALE-free pixels; plus their raw pixels."""
    from astropy.io import fits

    height, width = 37, 53
    yy, xx = np.mgrid[0:height, 0:width]
    image = (xx * 1.5 - yy * 0.25).astype(np.float32)
    header = fits.Header()
    header["CTYPE1"], header["CTYPE2"] = "RA---TAN", "DEC--TAN"
    header["CRPIX1"], header["CRPIX2"] = 20.5, 10.25
    header["CRVAL1"], header["CRVAL2"] = 45.0, -30.0
    header["CD1_1"], header["CD1_2"], header["CD2_1"], header["CD2_2"] = -5e-5, 1e-6, 2e-6, 5e-5
    header["OBJECT"] = "plain primary"
    fits.PrimaryHDU(image, header=header).writeto(os.path.join(outdir, "primary.fits"), overwrite=True)
    image.astype("<f4").tofile(os.path.join(outdir, "primary.raw"))
    counts = (xx * 1000 + yy).astype(np.int32)
    compressed = fits.CompImageHDU(counts, compression_type="RICE_1", name="COUNTS")
    compressed.header["OBJECT"] = "compressed extension"
    fits.HDUList([fits.PrimaryHDU(), compressed]).writeto(os.path.join(outdir, "compressed.fits"), overwrite=True)
    counts.astype("<i4").tofile(os.path.join(outdir, "compressed.raw"))
    print("made plain files")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "verify":
        verify(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "make-plain":
        make_plain(sys.argv[2])
    elif len(sys.argv) == 4 and sys.argv[1] == "describe":
        describe(sys.argv[2], sys.argv[3])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
