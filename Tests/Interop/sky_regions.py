#!/usr/bin/env python3
"""lsst-sphgeom's regions, coverings and relations, for Tests/SkyTests.

Usage: sky_regions.py COUNT SEED. Prints lines of space-separated fields:

  region KIND INPUT ENCODING LEVEL MAXRANGES ENVELOPE INTERIOR
      KIND circle|polygon|box; INPUT the constructor's arguments as float.hex joined by ','
      (circle: lon lat radius in degrees; box: lon1 lat1 lon2 lat2 degrees; polygon: the
      points' unit vectors x y z ..., whose convex hull sphgeom computes); ENCODING sphgeom's
      base64; ENVELOPE and INTERIOR the HTM ranges at LEVEL with MAXRANGES as 'a-b,c-d' ('-'
      when empty).
  relate I J RELATIONSHIP OVERLAPS
      relationship bits of region I against region J, and overlaps as 1, 0 or '?'.
  contains I X Y Z BOOL
      whether region I contains a point (unit vector components as float.hex).
"""
import base64
import math
import random
import sys

import lsst.sphgeom as sphgeom

LEVELS = [0, 2, 5, 7, 9, 11]
MAX_RANGES = [0, 0, 1, 2, 5, 20, 64]


def hexes(values):
    return ",".join(float(v).hex() for v in values)


def ranges(rs):
    text = ",".join(f"{a}-{b}" for a, b in rs)
    return text or "-"


def random_point(rng):
    return rng.uniform(0.0, 360.0), math.degrees(math.asin(rng.uniform(-1.0, 1.0)))


def offset_point(rng, lon, lat, radius):
    """A point within `radius` degrees of (lon, lat)."""
    centre = sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat))
    north = sphgeom.UnitVector3d.northFrom(centre)
    east = sphgeom.UnitVector3d(north.cross(centre))
    distance = math.radians(radius * math.sqrt(rng.random()))
    bearing = rng.uniform(0.0, 2 * math.pi)
    v = (centre * math.cos(distance)
         + (north * math.cos(bearing) + east * math.sin(bearing)) * math.sin(distance))
    return sphgeom.UnitVector3d(v)


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    regions = []
    for n in range(count):
        kind = ["circle", "polygon", "box"][n % 3]
        level = rng.choice(LEVELS)
        max_ranges = rng.choice(MAX_RANGES)
        # Regions small enough that a deep level's covering stays a few thousand ranges.
        size = 10 ** rng.uniform(-3, math.log10(max(0.02, 60.0 / 2 ** level)))
        lon, lat = random_point(rng)
        if kind == "circle":
            args = [lon, lat, size]
            region = sphgeom.Circle(sphgeom.UnitVector3d(sphgeom.LonLat.fromDegrees(lon, lat)),
                                    sphgeom.Angle.fromDegrees(size))
        elif kind == "box":
            lat1 = max(-90.0, lat - size * rng.random())
            lat2 = min(90.0, lat + size * rng.random())
            args = [lon, lat1, (lon + size * rng.uniform(0.1, 2.0)) % 360.0, lat2]
            region = sphgeom.Box.fromDegrees(*args)
        else:
            while True:
                points = [offset_point(rng, lon, lat, size) for _ in range(rng.randint(3, 9))]
                try:
                    region = sphgeom.ConvexPolygon(points)
                    break
                except Exception:
                    continue
            args = [c for p in points for c in (p.x(), p.y(), p.z())]
        pixelization = sphgeom.HtmPixelization(level)
        envelope = pixelization.envelope(region, max_ranges)
        interior = pixelization.interior(region, max_ranges)
        encoding = base64.b64encode(region.encode()).decode()
        print("region", kind, hexes(args), encoding, level, max_ranges, ranges(envelope), ranges(interior))
        regions.append(region)
    for _ in range(4 * count):
        i, j = rng.randrange(len(regions)), rng.randrange(len(regions))
        overlaps = regions[i].overlaps(regions[j])
        print("relate", i, j, int(regions[i].relate(regions[j])), "?" if overlaps is None else int(overlaps))
    for _ in range(4 * count):
        i = rng.randrange(len(regions))
        # Points near the region: its bounding circle grown a little.
        circle = regions[i].getBoundingCircle()
        centre = sphgeom.LonLat(circle.getCenter())
        radius = min(180.0, circle.getOpeningAngle().asDegrees() * 1.3 + 1e-6)
        v = offset_point(rng, centre.getLon().asDegrees(), centre.getLat().asDegrees(), radius)
        print("contains", i, v.x().hex(), v.y().hex(), v.z().hex(), int(regions[i].contains(v)))


if __name__ == "__main__":
    main()
