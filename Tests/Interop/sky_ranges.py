#!/usr/bin/env python3
"""lsst-sphgeom's RangeSet on random sets, for Tests/SkyTests: usage sky_ranges.py COUNT SEED.

Prints one JSON object per line: the two input sets (lists of [first, last], sphgeom's
conventions: first == last is everything, first > last wraps), a coarsening n, and sphgeom's
ranges of their union, intersection, difference, symmetric difference, the first's complement
and simplification by n, and the first's cardinality. Values cluster near 0, near 2^64 and on
powers of two, where the wrap-around and rounding rules matter.
"""
import json
import random
import sys

import lsst.sphgeom as sphgeom

TOP = (1 << 64) - 1


def value(rng):
    kind = rng.random()
    if kind < 0.3:
        return rng.randrange(0, 64)
    if kind < 0.5:
        return TOP - rng.randrange(0, 64)
    if kind < 0.7:
        return (1 << rng.randrange(1, 64)) + rng.randrange(-2, 3)
    return rng.randrange(0, TOP + 1)


def ranges(rng):
    return [[value(rng), value(rng)] for _ in range(rng.randrange(0, 5))]


def build(pairs):
    result = sphgeom.RangeSet()
    for first, last in pairs:
        result.insert(first, last)
    return result


def listed(s):
    return [list(r) for r in s.ranges()]


def main():
    count, seed = int(sys.argv[1]), int(sys.argv[2])
    rng = random.Random(seed)
    for _ in range(count):
        a_pairs, b_pairs = ranges(rng), ranges(rng)
        n = rng.choice([0, 1, 3, 8, 20, 63, 64, 70])
        a, b = build(a_pairs), build(b_pairs)
        print(json.dumps({
            "a": a_pairs, "b": b_pairs, "n": n,
            "aRanges": listed(a), "union": listed(a.union(b)), "intersection": listed(a.intersection(b)),
            "difference": listed(a.difference(b)), "symmetric": listed(a.symmetricDifference(b)),
            "complement": listed(a.complemented()), "simplified": listed(a.simplified(n)),
            "cardinality": a.cardinality(),
        }))


if __name__ == "__main__":
    main()
