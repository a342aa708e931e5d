#!/usr/bin/env python3
"""lsst-sphgeom's HEALPix pixelization (over hpgeom), for Tests/SkyTests.

Usage: sky_healpix.py COUNT SEED. Prints lines of space-separated fields:

  region ENCODING LEVEL ENVELOPE INTERIOR
      a random circle, polygon or box as sphgeom's base64 encoding, and HealpixPixelization's
      envelope and interior at LEVEL as ranges 'a-b,c-d' ('-' when empty; '!' where sphgeom
      fails).
  index X Y Z LEVEL PIXEL
      HealpixPixelization.index of a unit vector (components as float.hex).
  pixel LEVEL INDEX X,Y,Z;X,Y,Z;...
      the vertices of HealpixPixelization.pixel(INDEX) (float.hex).
"""
import base64
import math
import random
import sys

import lsst.sphgeom as sphgeom
from sky_regions import offset_point, random_point, ranges

LEVELS = [0, 1, 3, 5, 8, 11, 14, 17]


def region_of(rng, kind, lon, lat, size):
    if kind == "circle":
        # A few points (radius zero): sphgeom asks hpgeom for the one pixel.
        radius = 0.0 if rng.random() < 0.03 else size
        return sphgeom.Circle(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat)),
                              sphgeom.Angle.fromDegrees(radius))
    if kind == "box":
        lat1 = max(-90.0, lat - size * rng.random())
        lat2 = min(90.0, lat + size * rng.random())
        if lat2 <= lat1:
            lat2 = min(90.0, lat1 + size)
        return sphgeom.Box.fromDegrees(lon, lat1, (lon + size * rng.uniform(0.1, 2.0)) % 360.0, lat2)
    while True:
        points = [offset_point(rng, lon, lat, size) for _ in range(rng.randint(3, 9))]
        try:
            return sphgeom.ConvexPolygon(points)
        except Exception:
            continue


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    fixed = [(0.0, 0.0), (0.0, 89.9), (180.0, -89.95), (359.99, 10.0), (45.0, 41.81), (90.0, -41.81)]
    points = fixed + [random_point(rng) for _ in range(count - len(fixed))]
    for n, (lon, lat) in enumerate(points):
        kind = ["circle", "polygon", "box"][n % 3]
        level = LEVELS[n % len(LEVELS)]
        pixel_size = 58.6 / 2 ** level
        size = 10 ** rng.uniform(math.log10(0.05 * pixel_size), math.log10(min(60.0, 30 * pixel_size)))
        region = region_of(rng, kind, lon, lat, size)
        pixelization = sphgeom.HealpixPixelization(level)
        envelope = pixelization.envelope(region)
        try:
            interior = ranges(pixelization.interior(region))
        except TypeError:
            # sphgeom's interior of a zero-radius circle fails (hpgeom answers a scalar).
            interior = "!"
        encoding = base64.b64encode(region.encode()).decode()
        print("region", encoding, level, ranges(envelope), interior)
    for _ in range(20 * count):
        lon, lat = random_point(rng)
        v = sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat))
        level = rng.choice(LEVELS + [20, 24, 29])
        index = sphgeom.HealpixPixelization(level).index(v)
        print("index", v.x().hex(), v.y().hex(), v.z().hex(), level, index)
    for _ in range(count // 4):
        level = rng.choice(LEVELS)
        index = rng.randrange(12 * 4 ** level)
        polygon = sphgeom.HealpixPixelization(level).pixel(index)
        vertices = ";".join(f"{v.x().hex()},{v.y().hex()},{v.z().hex()}" for v in polygon.getVertices())
        print("pixel", level, index, vertices)


if __name__ == "__main__":
    main()
