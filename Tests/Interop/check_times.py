"""Time oracle for AstroTimeTests: astropy converts each (value, format, scale) to TAI
nanoseconds since 1970-01-01T00:00:00 TAI exactly as daf_butler's TimeConverter does, and
renders given nanoseconds back as UTC and TAI ISO strings and MJDs.

Reads {"parse": [[value, format, scale], ...], "render": [nanoseconds, ...]} as JSON on stdin;
writes {"parse": [nanoseconds or null, ...], "render": [[utc_isot, tai_isot, utc_mjd, tai_mjd], ...]}.
"""
import json
import sys
import warnings

import astropy.time
import astropy.units as u

warnings.simplefilter("ignore")
NSEC_PER_DAY = 86_400_000_000_000
EPOCH = astropy.time.Time("1970-01-01 00:00:00", format="iso", scale="tai")


def to_nanoseconds(time):
    # daf_butler's TimeConverter.astropy_to_nsec, without its clamping.
    delta = time.tai - EPOCH
    jd1, extra_jd2 = divmod(delta._time.jd1, 1)
    return int(jd1) * NSEC_PER_DAY + int(round((delta._time.jd2 + extra_jd2) * NSEC_PER_DAY))


def parse(value, fmt, scale):
    try:
        number = float(value) if fmt in ("mjd", "jd", "unix", "unix_tai", "gps", "cxcsec") else None
        return to_nanoseconds(astropy.time.Time(number if number is not None else value, format=fmt, scale=scale))
    except ValueError:
        return None


def render(nanoseconds):
    days, rest = divmod(nanoseconds, NSEC_PER_DAY)
    time = EPOCH + astropy.time.TimeDelta(days, rest / NSEC_PER_DAY, format="jd", scale="tai")
    utc, tai = time.utc, time.tai
    utc.precision = tai.precision = 9
    return [utc.isot, tai.isot, utc.mjd, tai.mjd]


request = json.load(sys.stdin)
json.dump(
    {
        "parse": [parse(*entry) for entry in request["parse"]],
        "render": [render(value) for value in request["render"]],
    },
    sys.stdout,
)
