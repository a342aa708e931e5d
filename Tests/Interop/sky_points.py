#!/usr/bin/env python3
"""The references' pixels of points, for Tests/SkyTests: lsst-sphgeom's unit vectors and HTM
indices, hpgeom's nested HEALPix pixels.

Usage: sky_points.py COUNT SEED. Prints one line per point: lon and lat in degrees, the unit
vector's x, y, z (all as float.hex, exact), then the HTM index at each level of HTM_LEVELS and
the nested HEALPix pixel at each order of HEALPIX_ORDERS (decimal). The points: COUNT uniform on
the sphere, then the poles, the equator, longitudes 0/360/negative, the vertices of HTM
triangles and the corners of HEALPix pixels (points on pixel edges, where rounding decides).
"""
import math
import random
import sys

import hpgeom
import lsst.sphgeom as sphgeom
import numpy

HTM_LEVELS = [0, 1, 3, 7, 11, 20, 24]
HEALPIX_ORDERS = [0, 1, 5, 12, 20, 29]


def points(count, seed):
    rng = random.Random(seed)
    for _ in range(count):
        yield rng.uniform(0.0, 360.0), math.degrees(math.asin(rng.uniform(-1.0, 1.0)))
    for lon in [0.0, 45.0, 90.0, 135.0, 180.0, 225.0, 270.0, 315.0, 360.0, -45.0, -90.0, 720.0, 1e-300, -1e-300]:
        for lat in [-90.0, -89.999999, -45.0, -41.810314895778596, 0.0, 1e-12, -1e-12, 41.810314895778596, 45.0, 89.999999, 90.0]:
            yield lon, lat
    for level in [1, 3, 7, 11]:
        pixelization = sphgeom.HtmPixelization(level)
        for _ in range(300):
            index = rng.randrange(8 << (2 * level), 16 << (2 * level))
            triangle = pixelization.triangle(index)
            for vertex in triangle.getVertices():
                point = sphgeom.LonLat(vertex)
                yield point.getLon().asDegrees(), point.getLat().asDegrees()
    for order in [1, 5, 12]:
        nside = 1 << order
        pixels = numpy.array([rng.randrange(12 * nside * nside) for _ in range(300)])
        lons, lats = hpgeom.boundaries(nside, pixels, step=1, nest=True)
        for lon, lat in zip(numpy.ravel(lons), numpy.ravel(lats)):
            yield float(lon), float(lat)


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    collected = list(points(count, seed))
    lons = numpy.array([p[0] for p in collected])
    lats = numpy.array([p[1] for p in collected])
    healpix = [hpgeom.angle_to_pixel(1 << order, lons, lats, nest=True, lonlat=True, degrees=True) for order in HEALPIX_ORDERS]
    pixelizations = [sphgeom.HtmPixelization(level) for level in HTM_LEVELS]
    out = sys.stdout
    out.write(" ".join(map(str, HTM_LEVELS)) + "\n" + " ".join(map(str, HEALPIX_ORDERS)) + "\n")
    for index, (lon, lat) in enumerate(collected):
        vector = sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat))
        fields = [lon.hex(), lat.hex(), vector.x().hex(), vector.y().hex(), vector.z().hex()]
        fields += [str(p.index(vector)) for p in pixelizations]
        fields += [str(int(h[index])) for h in healpix]
        out.write(" ".join(fields) + "\n")


if __name__ == "__main__":
    main()
