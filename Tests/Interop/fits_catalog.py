#!/usr/bin/env python3
"""astropy's side of FITS catalog tables, for Tests/FormattersTests/FitsCatalogTests.swift.

  fits_catalog.py write PATH   writes a binary table (ra, dec as f8, flux as f4, id as i8,
                               seeded values) with astropy and prints its columns as JSON
  fits_catalog.py read PATH    reads the first binary table of PATH with astropy and prints
                               its columns as JSON
"""
import json
import random
import sys

import numpy
from astropy.table import Table


def columns(table):
    return {name: [float(value) for value in table[name]] for name in table.colnames}


def main():
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "write":
        rng = random.Random(4)
        rows = 257
        table = Table({
            "ra": numpy.array([rng.uniform(0, 360) for _ in range(rows)], dtype="f8"),
            "dec": numpy.array([rng.uniform(-90, 90) for _ in range(rows)], dtype="f8"),
            "flux": numpy.array([rng.uniform(1, 1e5) for _ in range(rows)], dtype="f4"),
            "id": numpy.arange(rows, dtype="i8") * 1000003,
        })
        table.write(path, format="fits", overwrite=True)
        print(json.dumps(columns(table)))
    else:
        print(json.dumps(columns(Table.read(path, format="fits"))))


if __name__ == "__main__":
    main()
