"""Oracle for preview stretches: astropy's ZScaleInterval limits of each array in the JSON
file named by the first argument (null for NaN); prints a JSON list of [low, high]."""
import json
import sys

import numpy as np
from astropy.visualization import ZScaleInterval

arrays = json.load(open(sys.argv[1]))
print(json.dumps([list(map(float, ZScaleInterval().get_limits(np.array([np.nan if v is None else v for v in a], dtype=float))))
                  for a in arrays]))
