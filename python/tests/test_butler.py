"""The Python package against real repositories (SQLite, and PostgreSQL when
BUTLER_TEST_POSTGRES_URL is set): round trips, exposures as numpy arrays, a cutout compared with
astropy reading the same FITS file, errors as exception classes, wrong Python types, threads, and
the README's example as written."""
import os
import pathlib
import re
import threading
import uuid

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import swift_butler
from swift_butler import Box2I, Butler, Exposure, Wcs

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("BUTLER_TEST_POSTGRES_URL") else [])
HSC_ID = {"instrument": "HSC", "visit": 903334, "detector": 16}
WCS_JSON = {"crpix": {"x": 2000.5, "y": 2000.5}, "crval": {"ra": 150.1, "dec": 2.2},
            "cd": [[-4.7e-5, 1e-7], [2e-7, 4.7e-5]], "projection": "TAN"}


def make_repository(directory, backend):
    if backend == "postgresql":
        Butler.create(directory, database=os.environ["BUTLER_TEST_POSTGRES_URL"], namespace="py_" + uuid.uuid4().hex[:12])
    else:
        Butler.create(directory)
    butler = Butler(directory, run="HSC/runs/test")
    butler.insert_dimension_records("instrument", [{"name": "HSC"}])
    butler.insert_dimension_records("physical_filter", [{"instrument": "HSC", "name": "HSC-R", "band": "r"}])
    butler.insert_dimension_records("day_obs", [{"instrument": "HSC", "id": 20240301}])
    butler.insert_dimension_records("detector", [{"instrument": "HSC", "id": d} for d in (16, 17)])
    butler.insert_dimension_records("visit", [{"instrument": "HSC", "id": 903334, "name": "v903334",
                                               "physical_filter": "HSC-R", "day_obs": 20240301}])
    butler.register_dataset_type("calexp", "ExposureF", ["instrument", "visit", "detector"])
    butler.register_dataset_type("metrics", "StructuredDataDict", ["instrument", "visit", "detector"])
    butler.register_dataset_type("blob", "Bytes", ["instrument", "visit", "detector"])
    return butler


@pytest.fixture(params=BACKENDS)
def repo(request, tmp_path):
    directory = tmp_path / "repo"
    butler = make_repository(directory, request.param)
    rng = np.random.default_rng(7)
    image = rng.normal(100.0, 5.0, size=(600, 500)).astype(np.float32)
    variance = np.full(image.shape, 25.0, dtype=np.float32)
    mask = np.zeros(image.shape, dtype=np.int32)
    mask[10, 20] = 5
    butler.put(Exposure(image, mask=mask, variance=variance, xy0=(1000, 2000), wcs=Wcs(WCS_JSON)), "calexp", HSC_ID)
    butler.put({"seeing": 0.71, "count": 3}, "metrics", HSC_ID)
    butler.put(b"\x00\x01binary\xff", "blob", HSC_ID)
    yield directory, butler, image
    butler.close()


def test_round_trips(repo):
    directory, butler, image = repo
    assert butler.get("metrics", HSC_ID, collections="HSC/runs/test") == {"seeing": 0.71, "count": 3}
    assert butler.get("blob", instrument="HSC", visit=903334, detector=16) == b"\x00\x01binary\xff"
    calexp = butler.get("calexp", **HSC_ID)
    assert isinstance(calexp, Exposure) and calexp.bbox == Box2I(1000, 2000, 1499, 2599) and calexp.xy0 == (1000, 2000)
    assert calexp.image.dtype == np.float32 and calexp.image.shape == (600, 500)
    assert np.array_equal(calexp.image, image)
    assert calexp.mask[10, 20] == 5 and calexp.variance[0, 0] == 25.0
    assert calexp.psf is None and calexp.wcs == Wcs(WCS_JSON)
    # The arrays share the library's memory: no copy, and they keep it alive.
    view = calexp.image
    assert not view.flags.owndata
    del calexp
    assert float(view[0, 0]) == float(image[0, 0])
    assert butler.get("calexp.wcs", HSC_ID) == Wcs(WCS_JSON)
    assert butler.get("calexp.bbox", HSC_ID) == Box2I(1000, 2000, 1499, 2599)
    with pytest.raises(swift_butler.ButlerError) as absent:
        butler.get("calexp.psf", HSC_ID)
    assert "psf" in str(absent.value)
    ref = butler.find_dataset("calexp", HSC_ID)
    assert ref.dataset_type == "calexp" and ref.run == "HSC/runs/test" and ref.data_id["detector"] == 16
    deferred = butler.get_deferred("calexp", HSC_ID)
    assert deferred.get(parameters={"bbox": (1000, 2000, 1009, 2009)}).image.shape == (10, 10)
    assert deferred.get(component="bbox") == Box2I(1000, 2000, 1499, 2599)
    refs = butler.query_datasets("calexp", collections=["HSC/runs/test"], where="detector = 16")
    assert [r.id for r in refs] == [ref.id]
    assert butler.query_data_ids(["detector"], where="instrument = 'HSC'") == [
        {"instrument": "HSC", "detector": 16}, {"instrument": "HSC", "detector": 17}]


def test_cutout_against_astropy(repo):
    directory, butler, image = repo
    box = (1100, 2200, 1355, 2455)
    cutout = butler.get("calexp", HSC_ID, parameters={"bbox": box})
    assert cutout.image.shape == (256, 256) and cutout.xy0 == (1100, 2200)
    uri = butler.get_uri("calexp", HSC_ID)
    assert uri.startswith("file://")
    with fits.open(uri[len("file://"):]) as hdus:
        hdu = next(h for h in hdus if h.data is not None and h.header.get("EXTTYPE", "IMAGE") == "IMAGE")
        file_x0, file_y0 = -int(hdu.header.get("LTV1", 0)), -int(hdu.header.get("LTV2", 0))
        assert (file_x0, file_y0) == (1000, 2000)
        expected = hdu.data[box[1] - file_y0:box[3] - file_y0 + 1, box[0] - file_x0:box[2] - file_x0 + 1]
        assert np.array_equal(cutout.image, expected)
        file_wcs = WCS(hdu.header)
    # The cutout's WCS, as astropy reads it, puts every array index where the file's WCS does.
    ours = cutout.wcs.to_astropy(cutout.xy0)
    for row, column in [(0, 0), (100, 37), (255, 255)]:
        a = ours.pixel_to_world(column, row)
        b = file_wcs.pixel_to_world(column + box[0] - file_x0, row + box[1] - file_y0)
        assert a.separation(b).arcsec < 1e-6


def test_errors_are_exception_classes(repo):
    directory, butler, image = repo
    with pytest.raises(swift_butler.DatasetNotFoundError) as missing:
        butler.get("metrics", HSC_ID, detector=17)
    assert isinstance(missing.value, LookupError) and "detector" in str(missing.value)
    assert missing.value.kind == "missingDataset"
    with pytest.raises(KeyError):
        butler.get("nosuch", HSC_ID)
    with pytest.raises(swift_butler.ConflictingDefinitionError):
        butler.put({"seeing": 1.0}, "metrics", HSC_ID)
    with pytest.raises(swift_butler.InvalidParameterError):
        butler.get("calexp", HSC_ID, parameters={"bbox": (0, 0, 10, 10)})
    with pytest.raises(swift_butler.InvalidQueryError):
        butler.query_datasets("calexp", collections="HSC/runs/test", where="detector ==== 3")
    assert butler.find_dataset("metrics", HSC_ID, detector=17) is None
    with pytest.raises(swift_butler.DatasetNotFoundError):
        butler.get_deferred("metrics", HSC_ID, detector=17)
    reader = Butler(directory, collections=["HSC/runs/test"], writeable=False)
    with pytest.raises(PermissionError):
        reader.put({"a": 1}, "metrics", HSC_ID, detector=17, run="HSC/runs/test")
    reader.close()
    with pytest.raises(swift_butler.InvalidHandleError):
        reader.get("metrics", HSC_ID)
    reader.close()  # a second close does nothing


def test_verified_reads(repo):
    directory, butler, image = repo
    uri = butler.get_uri("blob", HSC_ID)
    path = uri[len("file://"):]
    data = bytearray(open(path, "rb").read())
    data[3] ^= 0x20
    open(path, "wb").write(bytes(data))
    assert butler.get("blob", HSC_ID) == bytes(data)  # not asked to verify
    checking = Butler(directory, collections=["HSC/runs/test"], writeable=False, verify_checksums=True)
    with pytest.raises(swift_butler.CorruptArtifactError) as corrupt:
        checking.get("blob", HSC_ID)
    assert isinstance(corrupt.value, OSError) and "crc32c:" in str(corrupt.value) and "blob" in str(corrupt.value)
    assert checking.get("metrics", HSC_ID)["count"] == 3
    checking.close()


def test_wrong_python_types(repo):
    directory, butler, image = repo
    with pytest.raises(TypeError):
        butler.put(42, "blob", HSC_ID, detector=17)
    with pytest.raises(TypeError):
        butler.put(np.zeros((4, 4), dtype=np.float64), "calexp", HSC_ID, detector=17)
    with pytest.raises(TypeError):
        butler.get("metrics", ["HSC", 903334])
    with pytest.raises(TypeError):
        butler.get("metrics", HSC_ID, detector=1.5)
    with pytest.raises(TypeError):
        butler.get("calexp", HSC_ID, parameters={"bbox": (0, 0, 10)})
    with pytest.raises(TypeError):
        butler.get(12, HSC_ID)
    with pytest.raises(TypeError):
        butler.put({"a": object()}, "metrics", HSC_ID, detector=17)
    with pytest.raises(UnicodeEncodeError):
        butler.get("metrics\udcff", HSC_ID)
    # Nothing was written by the refused puts.
    assert butler.query_datasets("*", collections="HSC/runs/test", where="detector = 17") == []


def test_threads(repo):
    directory, butler, image = repo
    failures = []

    def read():
        try:
            for _ in range(10):
                assert butler.get("metrics", HSC_ID)["count"] == 3
                assert butler.get("calexp", HSC_ID, parameters={"bbox": (1000, 2000, 1015, 2015)}).image.shape == (16, 16)
        except Exception as error:  # noqa: BLE001 - any failure in a thread fails the test
            failures.append(error)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_readme_example(repo):
    """The README's "From Python" example, run as written against this repository."""
    directory, butler, image = repo
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = re.search(r"<!-- python-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    assert len(block.strip().splitlines()) <= 6
    namespace = {"repo": str(directory)}
    exec(compile(block, "README.md", "exec"), namespace)
    assert namespace["calexp"].image.shape == (256, 256)
