"""The Swift Butler from Python.

A thin layer over the C ABI of ``libSwiftButler.so`` (ctypes): datasets by dataset type, data ID
and collections, as daf_butler users write it::

    from swift_butler import Butler
    butler = Butler("/data/repo", collections=["HSC/runs/RC2"])
    calexp = butler.get("calexp", instrument="HSC", visit=903334, detector=16,
                        parameters={"bbox": (0, 0, 255, 255)})
    calexp.image          # numpy array sharing the library's memory (rows × columns)
    calexp.wcs.to_astropy()

Exposures come back with ``image``, ``mask`` and ``variance`` as numpy arrays, dictionaries and
lists as themselves, bytes as ``bytes``. Errors are exceptions whose classes mirror the Butler's
error kinds (``DatasetNotFoundError`` is a ``LookupError``, as daf_butler's is).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import pathlib
import threading
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional, Sequence

import numpy as np

__all__ = [
    "Butler", "Exposure", "DatasetRef", "DeferredDatasetHandle", "Box2I", "Wcs", "ButlerError",
    "ConfigurationError", "DimensionNameError", "DataIdError", "DimensionRecordError", "MissingDatasetTypeError",
    "DatasetTypeConflictError", "CollectionError", "DatasetNotFoundError", "ConflictingDefinitionError",
    "ReadOnlyError", "MissingArtifactError", "CorruptArtifactError", "MissingComponentError", "StorageError",
    "InvalidQueryError", "InvalidParameterError", "TypeMismatchError", "InvalidArgumentError",
    "CalibrationLookupError", "InvalidHandleError", "library_path",
]


# --------------------------------------------------------------------------------------------
# Errors: one class per C status (the Butler's error kinds), subclassing the built-in exception
# daf_butler's own error of that kind subclasses.

class ButlerError(Exception):
    """A failed Butler call: ``kind`` names the error kind, the message what failed."""

    status = 199
    kind = "internal"


def _error(name: str, status: int, kind: str, *bases: type) -> type:
    return type(name, (ButlerError, *bases), {"status": status, "kind": kind, "__module__": __name__})


ConfigurationError = _error("ConfigurationError", 1, "configuration", ValueError)
DimensionNameError = _error("DimensionNameError", 2, "unknownDimension", KeyError)
DataIdError = _error("DataIdError", 3, "invalidDataId", LookupError)
DimensionRecordError = _error("DimensionRecordError", 4, "dimensionRecord", LookupError)
MissingDatasetTypeError = _error("MissingDatasetTypeError", 5, "missingDatasetType", KeyError)
DatasetTypeConflictError = _error("DatasetTypeConflictError", 6, "datasetTypeConflict", ValueError)
CollectionError = _error("CollectionError", 7, "collection", LookupError)
DatasetNotFoundError = _error("DatasetNotFoundError", 8, "missingDataset", LookupError)
ConflictingDefinitionError = _error("ConflictingDefinitionError", 9, "conflict")
ReadOnlyError = _error("ReadOnlyError", 10, "readOnly", PermissionError)
MissingArtifactError = _error("MissingArtifactError", 11, "missingArtifact", FileNotFoundError)
CorruptArtifactError = _error("CorruptArtifactError", 12, "corruptArtifact", OSError)
MissingComponentError = _error("MissingComponentError", 13, "missingComponent", KeyError)
StorageError = _error("StorageError", 14, "storageFailure", OSError)
InvalidQueryError = _error("InvalidQueryError", 15, "invalidQuery", ValueError)
InvalidParameterError = _error("InvalidParameterError", 16, "invalidParameter", ValueError)
TypeMismatchError = _error("TypeMismatchError", 17, "typeMismatch", TypeError)
InvalidArgumentError = _error("InvalidArgumentError", 18, "invalidArgument", ValueError)
CalibrationLookupError = _error("CalibrationLookupError", 19, "ambiguousCalibration", LookupError)
InvalidHandleError = _error("InvalidHandleError", 100, "invalidHandle", ValueError)
_NullArgumentError = _error("NullArgumentError", 101, "nullArgument", ValueError)
_InvalidUTF8Error = _error("InvalidUTF8Error", 102, "invalidUTF8", ValueError)
_InvalidJSONError = _error("InvalidJSONError", 103, "invalidJSON", ValueError)
_PixelTypeError = _error("PixelTypeError", 104, "pixelType", TypeError)
_BufferTooSmallError = _error("BufferTooSmallError", 105, "bufferTooSmall", ValueError)

_ERRORS = {cls.status: cls for cls in [
    ConfigurationError, DimensionNameError, DataIdError, DimensionRecordError, MissingDatasetTypeError,
    DatasetTypeConflictError, CollectionError, DatasetNotFoundError, ConflictingDefinitionError, ReadOnlyError,
    MissingArtifactError, CorruptArtifactError, MissingComponentError, StorageError, InvalidQueryError,
    InvalidParameterError, TypeMismatchError, InvalidArgumentError, CalibrationLookupError, InvalidHandleError,
    _NullArgumentError, _InvalidUTF8Error, _InvalidJSONError, _PixelTypeError, _BufferTooSmallError,
]}


# --------------------------------------------------------------------------------------------
# The library.

class _Plane(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("pixel_type", ctypes.c_int32), ("width", ctypes.c_int64),
                ("height", ctypes.c_int64), ("row_stride", ctypes.c_int64), ("x0", ctypes.c_int64),
                ("y0", ctypes.c_int64)]


_PIXEL_TYPES = {1: np.dtype("<f4"), 2: np.dtype("<f8"), 3: np.dtype("<i4"), 4: np.dtype("<u2"), 5: np.dtype("u1")}
_PIXEL_CODES = {dtype: code for code, dtype in _PIXEL_TYPES.items()}

_lock = threading.Lock()
_library: Optional[ctypes.CDLL] = None


def library_path() -> str:
    """Where libSwiftButler.so is: ``SWIFT_BUTLER_LIBRARY``, the repository's ``.build/release`` or
    ``.build/debug`` (this package inside a checkout), or the system's library path."""
    explicit = os.environ.get("SWIFT_BUTLER_LIBRARY")
    if explicit:
        if not os.path.exists(explicit):
            raise ConfigurationError(f"SWIFT_BUTLER_LIBRARY={explicit}: no such file")
        return explicit
    checkout = pathlib.Path(__file__).resolve().parents[2]
    for configuration in ("release", "debug"):
        candidate = checkout / ".build" / configuration / "libSwiftButler.so"
        if candidate.exists():
            return str(candidate)
    found = ctypes.util.find_library("SwiftButler")
    if found:
        return found
    raise ConfigurationError(
        "libSwiftButler.so not found: set SWIFT_BUTLER_LIBRARY, or build it in the repository with "
        "`swift build -c release --product SwiftButler`")


def _lib() -> ctypes.CDLL:
    global _library
    if _library is not None:  # loaded: no lock on the call path
        return _library
    with _lock:
        if _library is None:
            lib = ctypes.CDLL(library_path())
            s, p, i32, i64, out = ctypes.c_char_p, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64, ctypes.POINTER(ctypes.c_void_p)
            signatures = {
                "butler_version": ([], s), "butler_abi_version": ([], i32), "butler_status_name": ([i32], s),
                "butler_string_free": ([p], None), "butler_bytes_free": ([p], None),
                "butler_create": ([s, s, out], i32), "butler_open": ([s, s, out, out], i32), "butler_close": ([p, out], i32),
                "butler_register_dataset_type": ([p, s, s, s, i32, out], i32),
                "butler_describe_dataset_type": ([p, s, out, out], i32),
                "butler_insert_dimension_records": ([p, s, s, out], i32),
                "butler_put_bytes": ([p, s, s, s, ctypes.c_char_p, ctypes.c_size_t, out, out], i32),
                "butler_put_json": ([p, s, s, s, s, out, out], i32),
                "butler_put_exposure": ([p, s, s, s, ctypes.POINTER(_Plane), ctypes.POINTER(_Plane), ctypes.POINTER(_Plane), s, out, out], i32),
                "butler_find_dataset": ([p, s, s, s, out, out], i32),
                "butler_get_bytes": ([p, s, s, s, out, ctypes.POINTER(ctypes.c_size_t), out], i32),
                "butler_get_json": ([p, s, s, s, s, out, out], i32),
                "butler_get_exposure": ([p, s, s, s, s, out, out], i32),
                "butler_get_uri": ([p, s, s, s, out, out], i32),
                "butler_query_datasets": ([p, s, s, s, i32, out, out], i32),
                "butler_query_data_ids": ([p, s, s, out, out], i32),
                "butler_exposure_plane": ([p, s, ctypes.POINTER(_Plane), out], i32),
                "butler_exposure_component": ([p, s, out, out], i32),
                "butler_exposure_wcs_header": ([p, out, out], i32),
                "butler_wcs_fits_header": ([s, i64, i64, out, out], i32),
                "butler_exposure_free": ([p], i32),
            }
            for name, (arguments, result) in signatures.items():
                function = getattr(lib, name)
                function.argtypes = arguments
                function.restype = result
            if lib.butler_abi_version() != 1:
                raise ConfigurationError(f"{library_path()} implements ABI {lib.butler_abi_version()}, this package ABI 1")
            _library = lib
        return _library


def _take(pointer: ctypes.c_void_p) -> Optional[str]:
    """A library string as str, freed."""
    if not pointer.value:
        return None
    try:
        return ctypes.string_at(pointer.value).decode("utf-8")
    finally:
        _lib().butler_string_free(pointer)


def _call(function_name: str, *arguments: Any) -> None:
    """Calls a C function whose last argument is the error out-parameter; raises its error."""
    error = ctypes.c_void_p()
    status = getattr(_lib(), function_name)(*arguments, ctypes.byref(error))
    if status != 0:
        message = _take(error) or _lib().butler_status_name(status).decode()
        raise _ERRORS.get(status, ButlerError)(message)


def _text(value: Any, name: str, optional: bool = False) -> Optional[bytes]:
    """A str argument as UTF-8 bytes (None stays None when optional)."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return value.encode("utf-8")


def _json(value: Any, name: str) -> bytes:
    try:
        return json.dumps(value).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} cannot be written as JSON: {error}") from None


def _data_id(data_id: Optional[Mapping[str, Any]], kwargs: Mapping[str, Any]) -> bytes:
    merged: dict = {}
    if data_id is not None:
        if not isinstance(data_id, Mapping):
            raise TypeError(f"data_id must be a mapping of dimension names to values, not {type(data_id).__name__}")
        merged.update(data_id)
    merged.update(kwargs)
    for key, value in merged.items():
        if not isinstance(key, str):
            raise TypeError(f"data ID keys are dimension names (str), not {key!r}")
        if isinstance(value, (bool, float)) or not isinstance(value, (int, str, np.integer)):
            raise TypeError(f"data ID value {key}={value!r} must be an int or a str")
        if isinstance(value, np.integer):
            merged[key] = int(value)
    return _json(merged, "data_id")


def _collections(collections: Any) -> Optional[bytes]:
    if collections is None:
        return None
    if isinstance(collections, str):
        collections = [collections]
    names = list(collections)
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"collections must be names (str), not {name!r}")
    return _json(names, "collections")


# --------------------------------------------------------------------------------------------
# Values.

@dataclass(frozen=True)
class Box2I:
    """An integer box with inclusive corners, in parent pixel coordinates (afw's Box2I)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0 + 1

    @property
    def height(self) -> int:
        return self.y1 - self.y0 + 1

    @classmethod
    def _from_json(cls, value: Mapping[str, Any]) -> "Box2I":
        return cls(value["min"]["x"], value["min"]["y"], value["max"]["x"], value["max"]["y"])


def _box_parameter(value: Any) -> list:
    """A bbox read parameter: Box2I, (x0, y0, x1, y1), or an lsst.geom.Box2I."""
    if isinstance(value, Box2I):
        return [value.x0, value.y0, value.x1, value.y1]
    if hasattr(value, "getMinX"):
        return [value.getMinX(), value.getMinY(), value.getMaxX(), value.getMaxY()]
    corners = list(value)
    if len(corners) != 4 or not all(isinstance(c, (int, np.integer)) and not isinstance(c, bool) for c in corners):
        raise TypeError(f"bbox must be a Box2I or four ints (x0, y0, x1, y1), not {value!r}")
    return [int(c) for c in corners]


class Wcs:
    """A celestial WCS (TAN, TAN-SIP or STG) in parent pixel coordinates."""

    def __init__(self, value: Mapping[str, Any]):
        self._value = dict(value)

    @property
    def crval(self) -> tuple:
        return (self._value["crval"]["ra"], self._value["crval"]["dec"])

    @property
    def crpix(self) -> tuple:
        return (self._value["crpix"]["x"], self._value["crpix"]["y"])

    def to_json(self) -> dict:
        return dict(self._value)

    def fits_header(self, xy0: Sequence[int] = (0, 0)) -> dict:
        """FITS cards for a pixel grid whose first pixel is parent ``xy0``."""
        result = ctypes.c_void_p()
        _call("butler_wcs_fits_header", _json(self._value, "wcs"), int(xy0[0]), int(xy0[1]), ctypes.byref(result))
        return json.loads(_take(result))

    def to_astropy(self, xy0: Sequence[int] = (0, 0)):
        """An ``astropy.wcs.WCS`` for array indices of an image whose first pixel is parent ``xy0``."""
        from astropy.wcs import WCS

        return WCS(self.fits_header(xy0))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wcs) and other._value == self._value

    def __repr__(self) -> str:
        return f"Wcs(crval={self.crval}, crpix={self.crpix}, projection={self._value.get('projection')})"


class _PlaneMemory:
    """Exposes a plane of an exposure handle to numpy without copying; keeps the handle alive."""

    def __init__(self, exposure: "Exposure", plane: _Plane):
        self._exposure = exposure
        dtype = _PIXEL_TYPES[plane.pixel_type]
        self.__array_interface__ = {
            "shape": (plane.height, plane.width), "typestr": dtype.str, "version": 3,
            "data": (plane.data, False), "strides": (plane.row_stride, dtype.itemsize),
        }


class Exposure:
    """An exposure (or masked image, or image) read from a repository, or one to put.

    ``image``, ``mask`` and ``variance`` are numpy arrays indexed ``[row, column]``; read ones
    share the library's memory (no copy). ``xy0`` is the parent position of pixel [0, 0].
    """

    def __init__(self, image: Optional[np.ndarray] = None, mask: Optional[np.ndarray] = None,
                 variance: Optional[np.ndarray] = None, xy0: Sequence[int] = (0, 0), wcs: Optional[Wcs] = None,
                 psf: Optional[dict] = None, photo_calib: Optional[dict] = None, visit_info: Optional[dict] = None,
                 metadata: Optional[dict] = None, _handle: Optional[int] = None):
        self._handle = _handle
        self._planes: dict = {}
        self._components: dict = {}
        if _handle is None:
            if image is None:
                raise TypeError("an Exposure to put needs an image (a 2-d numpy array)")
            self._planes = {"image": np.asarray(image)}
            if mask is not None:
                self._planes["mask"] = np.asarray(mask)
            if variance is not None:
                self._planes["variance"] = np.asarray(variance)
            self._xy0 = (int(xy0[0]), int(xy0[1]))
            self._components = {"wcs": wcs, "psf": psf, "photoCalib": photo_calib, "visitInfo": visit_info,
                                "metadata": metadata}

    def _plane(self, name: str) -> np.ndarray:
        if name not in self._planes:
            if self._handle is None:
                raise MissingComponentError(f"this exposure has no {name} plane")
            plane = _Plane()
            _call("butler_exposure_plane", self._handle, name.encode(), ctypes.byref(plane))
            self._planes[name] = np.asarray(_PlaneMemory(self, plane))
        return self._planes[name]

    @property
    def image(self) -> np.ndarray:
        return self._plane("image")

    @property
    def mask(self) -> np.ndarray:
        return self._plane("mask")

    @property
    def variance(self) -> np.ndarray:
        return self._plane("variance")

    def _component(self, name: str) -> Any:
        if name not in self._components:
            if self._handle is None:
                return None
            result = ctypes.c_void_p()
            try:
                _call("butler_exposure_component", self._handle, name.encode(), ctypes.byref(result))
                self._components[name] = json.loads(_take(result))
            except MissingComponentError:
                self._components[name] = None
        return self._components[name]

    @property
    def bbox(self) -> Box2I:
        if self._handle is None:
            height, width = self._planes["image"].shape
            return Box2I(self._xy0[0], self._xy0[1], self._xy0[0] + width - 1, self._xy0[1] + height - 1)
        return Box2I._from_json(self._component("bbox"))

    @property
    def xy0(self) -> tuple:
        box = self.bbox
        return (box.x0, box.y0)

    @property
    def wcs(self) -> Optional[Wcs]:
        value = self._component("wcs")
        return value if value is None or isinstance(value, Wcs) else Wcs(value)

    @property
    def psf(self) -> Optional[dict]:
        return self._component("psf")

    @property
    def photo_calib(self) -> Optional[dict]:
        return self._component("photoCalib")

    @property
    def visit_info(self) -> Optional[dict]:
        return self._component("visitInfo")

    @property
    def metadata(self) -> Optional[dict]:
        return self._component("metadata")

    def close(self) -> None:
        """Releases the library's memory now, unless plane arrays were handed out: they share it,
        so it then goes with the last of them."""
        if self._handle is not None and not self._planes:
            _lib().butler_exposure_free(self._handle)
            self._handle = None

    def __del__(self):
        if getattr(self, "_handle", None) is not None and _library is not None:
            _library.butler_exposure_free(self._handle)
            self._handle = None

    def __repr__(self) -> str:
        return f"Exposure(bbox={self.bbox}, dtype={self.image.dtype})"


@dataclass(frozen=True)
class DatasetRef:
    """A dataset: its ID, type, run and data ID."""

    id: str
    dataset_type: str
    run: str
    data_id: dict

    @classmethod
    def _from_json(cls, value: Mapping[str, Any]) -> "DatasetRef":
        return cls(value["id"], value["datasetType"], value["run"], dict(value["dataId"]))


class DeferredDatasetHandle:
    """A dataset found now and read later (daf_butler's ``getDeferred``)."""

    def __init__(self, butler: "Butler", ref: DatasetRef):
        self.butler = butler
        self.ref = ref

    def get(self, *, component: Optional[str] = None, parameters: Optional[Mapping[str, Any]] = None) -> Any:
        name = self.ref.dataset_type + (f".{component}" if component else "")
        return self.butler.get(name, self.ref.data_id, collections=[self.ref.run], parameters=parameters)


# --------------------------------------------------------------------------------------------
# The Butler.

class Butler:
    """A repository opened for reading and writing datasets.

    ``collections`` is the default search path, ``run`` the default RUN for puts;
    ``writeable=False`` opens read-only; ``verify_checksums=True`` checks every artifact against
    its recorded checksum before reading it (``CorruptArtifactError`` on a mismatch).
    """

    def __init__(self, repo: str | os.PathLike, collections: Optional[Iterable[str] | str] = None,
                 run: Optional[str] = None, writeable: bool = True, verify_checksums: bool = False):
        options = {"writeable": bool(writeable), "verify_checksums": bool(verify_checksums)}
        if collections is not None:
            options["collections"] = json.loads(_collections(collections))
        if run is not None:
            options["run"] = _text(run, "run").decode()
        handle = ctypes.c_void_p()
        _call("butler_open", _text(os.fspath(repo), "repo"), _json(options, "options"), ctypes.byref(handle))
        self._handle = handle.value
        self._types: dict = {}

    @staticmethod
    def create(repo: str | os.PathLike, database: Optional[str] = None, namespace: Optional[str] = None) -> str:
        """Creates an empty repository (SQLite unless ``database`` is a postgresql:// URL)."""
        options = {key: value for key, value in (("database", database), ("namespace", namespace)) if value is not None}
        _call("butler_create", _text(os.fspath(repo), "repo"), _json(options, "options"))
        return os.fspath(repo)

    def close(self) -> None:
        if self._handle is not None:
            handle, self._handle = self._handle, None
            _call("butler_close", handle)

    def __enter__(self) -> "Butler":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self):
        if getattr(self, "_handle", None) is not None and _library is not None:
            _library.butler_close(self._handle, None)
            self._handle = None

    def _live(self) -> int:
        if self._handle is None:
            raise InvalidHandleError("this Butler is closed")
        return self._handle

    # Dataset types and records.

    def register_dataset_type(self, name: str, storage_class: str, dimensions: Sequence[str],
                              is_calibration: bool = False) -> None:
        _call("butler_register_dataset_type", self._live(), _text(name, "name"), _text(storage_class, "storage_class"),
              _json(list(dimensions), "dimensions"), int(bool(is_calibration)))

    def insert_dimension_records(self, element: str, records: Sequence[Mapping[str, Any]]) -> None:
        _call("butler_insert_dimension_records", self._live(), _text(element, "element"), _json(list(records), "records"))

    def _describe(self, dataset_type: str) -> dict:
        if dataset_type not in self._types:
            result = ctypes.c_void_p()
            _call("butler_describe_dataset_type", self._live(), _text(dataset_type, "dataset_type"), ctypes.byref(result))
            self._types[dataset_type] = json.loads(_take(result))
        return self._types[dataset_type]

    # Writing.

    def put(self, obj: Any, dataset_type: str, data_id: Optional[Mapping[str, Any]] = None, *,
            run: Optional[str] = None, **kwargs: Any) -> DatasetRef:
        """Stores ``obj`` as a new dataset: an Exposure (or a 2-d array as its image), bytes, or
        anything JSON holds (dictionaries, lists, numbers) for JSON storage classes."""
        name = _text(dataset_type, "dataset_type")
        identifier = _data_id(data_id, kwargs)
        run_name = _text(run, "run", optional=True)
        kind = self._describe(dataset_type)["kind"]
        ref = ctypes.c_void_p()
        if kind == "bytes":
            if not isinstance(obj, (bytes, bytearray, memoryview)):
                raise TypeError(f"{dataset_type} stores bytes, not {type(obj).__name__}")
            data = bytes(obj)
            _call("butler_put_bytes", self._live(), name, identifier, run_name, data, len(data), ctypes.byref(ref))
        elif kind == "exposure":
            if isinstance(obj, np.ndarray):
                obj = Exposure(obj)
            if not isinstance(obj, Exposure):
                raise TypeError(f"{dataset_type} stores an exposure: give an Exposure or a 2-d numpy array, not {type(obj).__name__}")
            self._put_exposure(obj, dataset_type, name, identifier, run_name, ref)
        else:
            value = obj.to_json() if isinstance(obj, Wcs) else obj
            _call("butler_put_json", self._live(), name, identifier, run_name, _json(value, "obj"), ctypes.byref(ref))
        return DatasetRef._from_json(json.loads(_take(ref)))

    def _put_exposure(self, exposure: Exposure, dataset_type: str, name: bytes, identifier: bytes,
                      run_name: Optional[bytes], ref: ctypes.c_void_p) -> None:
        storage_class = self._describe(dataset_type)["storageClass"]
        pixel = {"ExposureF": "<f4", "ExposureD": "<f8", "ExposureI": "<i4", "ExposureU": "<u2"}.get(storage_class)
        keep = []

        def plane(array: Optional[np.ndarray], dtype: str, what: str):
            if array is None:
                return None
            if array.ndim != 2:
                raise TypeError(f"the {what} plane must be a 2-d array, not {array.ndim}-d")
            if array.dtype != np.dtype(dtype):
                raise TypeError(f"{dataset_type} ({storage_class}) needs a {np.dtype(dtype)} {what} plane, not {array.dtype}")
            contiguous = np.ascontiguousarray(array)
            keep.append(contiguous)
            height, width = contiguous.shape
            return ctypes.byref(_Plane(contiguous.ctypes.data, _PIXEL_CODES[contiguous.dtype], width, height,
                                       contiguous.strides[0], exposure.bbox.x0, exposure.bbox.y0))

        if pixel is None:
            raise TypeError(f"{dataset_type} is stored as {storage_class}, which this package cannot write from arrays")
        image = plane(exposure._planes["image"], pixel, "image")
        mask = plane(exposure._planes.get("mask"), "<i4", "mask")
        variance = plane(exposure._planes.get("variance"), "<f4", "variance")
        components = {}
        for key in ("wcs", "psf", "photoCalib", "visitInfo", "metadata"):
            value = exposure._component(key)
            if value is not None:
                components[key] = value.to_json() if isinstance(value, Wcs) else value
        _call("butler_put_exposure", self._live(), name, identifier, run_name, image, mask, variance,
              _json(components, "components"), ctypes.byref(ref))

    # Reading.

    def get(self, dataset_type: str, data_id: Optional[Mapping[str, Any]] = None, *,
            collections: Optional[Iterable[str] | str] = None, parameters: Optional[Mapping[str, Any]] = None,
            **kwargs: Any) -> Any:
        """Reads a dataset or component ("calexp.wcs"): an Exposure for images, bytes for Bytes, a Wcs
        or Box2I for those, dictionaries and lists otherwise. ``parameters={"bbox": (x0, y0, x1, y1)}``
        reads a cutout (parent coordinates, inclusive)."""
        name = _text(dataset_type, "dataset_type")
        identifier = _data_id(data_id, kwargs)
        names = _collections(collections)
        read = None
        if parameters is not None:
            if not isinstance(parameters, Mapping):
                raise TypeError(f"parameters must be a mapping, not {type(parameters).__name__}")
            read = dict(parameters)
            if "bbox" in read:
                read["bbox"] = _box_parameter(read["bbox"])
            read = _json(read, "parameters")
        description = self._describe(dataset_type)
        if description["kind"] == "exposure":
            handle = ctypes.c_void_p()
            _call("butler_get_exposure", self._live(), name, identifier, names, read, ctypes.byref(handle))
            return Exposure(_handle=handle.value)
        if description["kind"] == "bytes":
            data, size = ctypes.c_void_p(), ctypes.c_size_t()
            _call("butler_get_bytes", self._live(), name, identifier, names, ctypes.byref(data), ctypes.byref(size))
            try:
                return ctypes.string_at(data.value, size.value) if size.value else b""
            finally:
                _lib().butler_bytes_free(data)
        result = ctypes.c_void_p()
        _call("butler_get_json", self._live(), name, identifier, names, read, ctypes.byref(result))
        value = json.loads(_take(result))
        if description["storageClass"] == "Wcs":
            return Wcs(value)
        if description["storageClass"] == "Box2I":
            return Box2I._from_json(value)
        return value

    def get_deferred(self, dataset_type: str, data_id: Optional[Mapping[str, Any]] = None, *,
                     collections: Optional[Iterable[str] | str] = None, **kwargs: Any) -> DeferredDatasetHandle:
        """Finds the dataset now (raising DatasetNotFoundError if absent), reads it at ``.get()``."""
        ref = self.find_dataset(dataset_type, data_id, collections=collections, **kwargs)
        if ref is None:
            raise DatasetNotFoundError(f"no {dataset_type} with data ID {dict(data_id or {}, **kwargs)}")
        return DeferredDatasetHandle(self, ref)

    def find_dataset(self, dataset_type: str, data_id: Optional[Mapping[str, Any]] = None, *,
                     collections: Optional[Iterable[str] | str] = None, **kwargs: Any) -> Optional[DatasetRef]:
        result = ctypes.c_void_p()
        try:
            _call("butler_find_dataset", self._live(), _text(dataset_type, "dataset_type"), _data_id(data_id, kwargs),
                  _collections(collections), ctypes.byref(result))
        except DatasetNotFoundError:
            return None
        return DatasetRef._from_json(json.loads(_take(result)))

    def get_uri(self, dataset_type: str, data_id: Optional[Mapping[str, Any]] = None, *,
                collections: Optional[Iterable[str] | str] = None, **kwargs: Any) -> str:
        """The URL of the dataset's artifact (daf_butler's ``getURI``)."""
        result = ctypes.c_void_p()
        _call("butler_get_uri", self._live(), _text(dataset_type, "dataset_type"), _data_id(data_id, kwargs),
              _collections(collections), ctypes.byref(result))
        return _take(result)

    getURI = get_uri

    # Queries.

    def query_datasets(self, dataset_type: str, collections: Optional[Iterable[str] | str] = None,
                       where: Optional[str] = None, find_first: bool = False) -> list:
        result = ctypes.c_void_p()
        _call("butler_query_datasets", self._live(), _text(dataset_type, "dataset_type"), _collections(collections),
              _text(where, "where", optional=True), int(bool(find_first)), ctypes.byref(result))
        return [DatasetRef._from_json(value) for value in json.loads(_take(result))]

    def query_data_ids(self, dimensions: Sequence[str] | str, where: Optional[str] = None) -> list:
        if isinstance(dimensions, str):
            dimensions = [dimensions]
        result = ctypes.c_void_p()
        _call("butler_query_data_ids", self._live(), _json(list(dimensions), "dimensions"),
              _text(where, "where", optional=True), ctypes.byref(result))
        return json.loads(_take(result))
