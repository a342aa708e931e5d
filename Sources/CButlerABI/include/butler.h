/*
 * butler.h — the Swift Butler's C ABI (libSwiftButler.so).
 *
 * Conventions, for every function below:
 *  - The return value is a status: BUTLER_OK (0) or an error code (butler_status). On an error,
 *    when `error` is not NULL, *error receives a message naming what failed (the dataset type,
 *    data ID, collections, file or argument), allocated by the library: free it with
 *    butler_string_free. On success *error is set to NULL.
 *  - Strings are NUL-terminated UTF-8; a string that is not UTF-8 is refused
 *    (BUTLER_ERR_INVALID_UTF8), a required pointer that is NULL too (BUTLER_ERR_NULL_ARGUMENT).
 *  - Structured arguments and results are JSON text: a data ID is an object
 *    ({"instrument": "HSC", "visit": 903334, "detector": 16}), collections an array of names,
 *    read parameters an object ({"bbox": [x0, y0, x1, y1], "origin": "parent" | "local"}, inclusive
 *    corners). NULL or "" stands for "none" where an argument is optional.
 *  - Strings and byte buffers returned through `char **` / `void **` are owned by the caller:
 *    free them with butler_string_free / butler_bytes_free.
 *  - Handles (butler_t, butler_exposure_t) are checked: a closed, released or made-up handle is
 *    refused with BUTLER_ERR_INVALID_HANDLE, never dereferenced, so a double release is an error
 *    and not a crash.
 *
 * Thread safety: every function may be called from any thread, and one butler_t from several
 * threads at once. An exposure handle's plane memory may be read by several threads; writing
 * to it while another thread reads it is the caller's affair.
 *
 * Calls block until the Butler has finished (the library runs its asynchronous work on its own
 * threads); do not call them from a Swift concurrency task.
 */
#ifndef SWIFT_BUTLER_H
#define SWIFT_BUTLER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The ABI version this header describes; butler_abi_version() gives the library's. */
#define BUTLER_ABI_VERSION 1

/** Status codes. 1–19 are the Butler's error kinds (ButlerError.Code), 100+ the binding's. */
typedef enum butler_status {
    BUTLER_OK = 0,
    BUTLER_ERR_CONFIGURATION = 1,
    BUTLER_ERR_UNKNOWN_DIMENSION = 2,
    BUTLER_ERR_INVALID_DATA_ID = 3,
    BUTLER_ERR_DIMENSION_RECORD = 4,
    BUTLER_ERR_MISSING_DATASET_TYPE = 5,
    BUTLER_ERR_DATASET_TYPE_CONFLICT = 6,
    BUTLER_ERR_COLLECTION = 7,
    BUTLER_ERR_MISSING_DATASET = 8,
    BUTLER_ERR_CONFLICT = 9,
    BUTLER_ERR_READ_ONLY = 10,
    BUTLER_ERR_MISSING_ARTIFACT = 11,
    BUTLER_ERR_CORRUPT_ARTIFACT = 12,
    BUTLER_ERR_MISSING_COMPONENT = 13,
    BUTLER_ERR_STORAGE_FAILURE = 14,
    BUTLER_ERR_INVALID_QUERY = 15,
    BUTLER_ERR_INVALID_PARAMETER = 16,
    BUTLER_ERR_TYPE_MISMATCH = 17,
    BUTLER_ERR_INVALID_ARGUMENT = 18,
    BUTLER_ERR_AMBIGUOUS_CALIBRATION = 19,
    BUTLER_ERR_INVALID_HANDLE = 100,
    BUTLER_ERR_NULL_ARGUMENT = 101,
    BUTLER_ERR_INVALID_UTF8 = 102,
    BUTLER_ERR_INVALID_JSON = 103,
    BUTLER_ERR_PIXEL_TYPE = 104,
    BUTLER_ERR_BUFFER_TOO_SMALL = 105,
    BUTLER_ERR_INTERNAL = 199
} butler_status;

/** Pixel types of image planes. */
typedef enum butler_pixel_type {
    BUTLER_PIXEL_FLOAT32 = 1,
    BUTLER_PIXEL_FLOAT64 = 2,
    BUTLER_PIXEL_INT32 = 3,
    BUTLER_PIXEL_UINT16 = 4,
    BUTLER_PIXEL_UINT8 = 5
} butler_pixel_type;

/** An open repository. */
typedef struct butler_handle butler_t;
/** An image, masked image or exposure read from a repository, with its planes and components. */
typedef struct butler_exposure_handle butler_exposure_t;

/**
 * One image plane: `height` rows of `width` pixels of `pixel_type`, row y starting at
 * (char *)data + y * row_stride bytes; pixel (0, 0) is at parent position (x0, y0).
 * As a result (butler_exposure_plane) the memory belongs to the exposure handle and lives until
 * butler_exposure_free; as an argument (butler_put_exposure) it is the caller's and is copied.
 */
typedef struct butler_plane {
    void *data;
    int32_t pixel_type;
    int64_t width;
    int64_t height;
    int64_t row_stride;
    int64_t x0;
    int64_t y0;
} butler_plane;

/** The library's version string ("1.0.0"); static, do not free. */
const char *butler_version(void);
/** The ABI version the library implements (BUTLER_ABI_VERSION when they match). */
int32_t butler_abi_version(void);
/** The name of a status code ("missingDataset"); static, do not free. Unknown codes: "unknown". */
const char *butler_status_name(int32_t status);
/** Frees a string the library returned. NULL is ignored. */
void butler_string_free(char *string);
/** Frees a byte buffer the library returned. NULL is ignored. */
void butler_bytes_free(void *bytes);

/**
 * Creates an empty repository at `root`. `options_json` (optional): {"database": "postgresql://…"
 * (default: SQLite in the repository), "namespace": "schema", "seed_config": "path/butler.yaml"}.
 */
int32_t butler_create(const char *root, const char *options_json, char **error);

/**
 * Opens a repository. `options_json` (optional): {"collections": [...], "run": "name",
 * "writeable": true, "verify_checksums": false (true: every read checks the artifact's recorded
 * checksum first; a mismatch is BUTLER_ERR_CORRUPT_ARTIFACT)}. On success *butler is a handle to
 * close with butler_close.
 */
int32_t butler_open(const char *root, const char *options_json, butler_t **butler, char **error);

/** Closes a repository and releases its handle (a second close: BUTLER_ERR_INVALID_HANDLE). */
int32_t butler_close(butler_t *butler, char **error);

/** Registers a dataset type: `dimensions_json` an array of dimension names. */
int32_t butler_register_dataset_type(butler_t *butler, const char *name, const char *storage_class, const char *dimensions_json,
                                     int32_t is_calibration, char **error);

/**
 * Describes a dataset type or component ("calexp", "calexp.wcs") as JSON: {"name", "storageClass",
 * "dimensions", "isCalibration", "kind"} where kind says which get suits it: "exposure" (planes:
 * butler_get_exposure), "bytes" (butler_get_bytes) or "json" (butler_get_json).
 */
int32_t butler_describe_dataset_type(butler_t *butler, const char *name, char **json, char **error);

/** Inserts dimension records (a JSON array of objects, daf_butler's field names) of `element`. */
int32_t butler_insert_dimension_records(butler_t *butler, const char *element, const char *records_json, char **error);

/**
 * Stores bytes (storage class Bytes) as a new dataset in `run` (NULL: the default run).
 * On success *ref_json (optional) receives the reference: {"id", "datasetType", "run", "dataId"}.
 */
int32_t butler_put_bytes(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *run, const void *bytes,
                         size_t size, char **ref_json, char **error);

/**
 * Stores a value given as JSON: a JSON storage class (StructuredDataDict…) or any storage class
 * whose value has a JSON form (Wcs, PhotoCalib, VisitInfo, Box2I…).
 */
int32_t butler_put_json(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *run, const char *json,
                        char **ref_json, char **error);

/**
 * Stores an exposure of the dataset type's storage class (ExposureF: a BUTLER_PIXEL_FLOAT32 image).
 * `mask` (INT32) and `variance` (FLOAT32) may be NULL (zeros); their size and origin must be the
 * image's. `components_json` (optional): {"wcs": …, "psf": …, "photoCalib": …, "visitInfo": …,
 * "metadata": …} in the JSON forms butler_exposure_component returns.
 */
int32_t butler_put_exposure(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *run,
                            const butler_plane *image, const butler_plane *mask, const butler_plane *variance,
                            const char *components_json, char **ref_json, char **error);

/**
 * Finds the dataset first along `collections_json` (NULL: the Butler's defaults); *ref_json gets
 * its reference, or BUTLER_ERR_MISSING_DATASET names what the registry lacks.
 */
int32_t butler_find_dataset(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *collections_json,
                            char **ref_json, char **error);

/** Reads a Bytes dataset: *bytes (free with butler_bytes_free) and *size. */
int32_t butler_get_bytes(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *collections_json,
                         void **bytes, size_t *size, char **error);

/**
 * Reads a dataset or component as JSON: dictionaries and lists as stored, components in their
 * JSON forms ("calexp.wcs", "calexp.bbox" {"min": {"x", "y"}, "max": {…}}, "calexp.visitInfo"…).
 */
int32_t butler_get_json(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *collections_json,
                        const char *parameters_json, char **json, char **error);

/**
 * Reads an exposure, masked image or image (or such a component, "calexp.image"), with read
 * parameters (a cutout: {"bbox": [x0, y0, x1, y1]}): only the tiles a cutout needs are read.
 * *exposure is a handle to release with butler_exposure_free.
 */
int32_t butler_get_exposure(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *collections_json,
                            const char *parameters_json, butler_exposure_t **exposure, char **error);

/** The URL of a dataset's artifact (daf_butler's getURI), e.g. "file:///repo/run/calexp/…fits". */
int32_t butler_get_uri(butler_t *butler, const char *dataset_type, const char *data_id_json, const char *collections_json,
                       char **uri, char **error);

/** Datasets of a type (or pattern) in collections matching a where-expression, as a JSON array of references. */
int32_t butler_query_datasets(butler_t *butler, const char *dataset_type, const char *collections_json, const char *where,
                              int32_t find_first, char **json, char **error);

/** Data IDs of dimensions (`dimensions_json`, an array) matching a where-expression, as a JSON array of objects. */
int32_t butler_query_data_ids(butler_t *butler, const char *dimensions_json, const char *where, char **json, char **error);

/**
 * A plane of an exposure ("image", "mask" or "variance"), as a view of memory the handle owns
 * (valid until butler_exposure_free; copied out of the Butler's value once, on first use).
 * An image dataset has no mask or variance: BUTLER_ERR_MISSING_COMPONENT.
 */
int32_t butler_exposure_plane(butler_exposure_t *exposure, const char *plane, butler_plane *view, char **error);

/**
 * Copies a plane into the caller's buffer of `buffer_size` bytes, rows packed, converting nothing:
 * `pixel_type` must be the plane's (BUTLER_ERR_PIXEL_TYPE otherwise), and the buffer must hold
 * width × height pixels (BUTLER_ERR_BUFFER_TOO_SMALL otherwise).
 */
int32_t butler_exposure_copy_plane(butler_exposure_t *exposure, const char *plane, int32_t pixel_type, void *buffer,
                                   size_t buffer_size, char **error);

/**
 * A component of an exposure as JSON: "wcs", "psf", "photoCalib", "visitInfo", "metadata", "bbox".
 * An absent component (an exposure without a PSF) is BUTLER_ERR_MISSING_COMPONENT.
 */
int32_t butler_exposure_component(butler_exposure_t *exposure, const char *component, char **json, char **error);

/**
 * The exposure's WCS as FITS header cards (a JSON object, card name → value) for the pixel grid
 * of its planes (CRPIX relative to the first pixel), as astropy.wcs.WCS reads them.
 */
int32_t butler_exposure_wcs_header(butler_exposure_t *exposure, char **json, char **error);

/**
 * A WCS in its JSON form (butler_exposure_component "wcs", butler_get_json "calexp.wcs") as FITS
 * header cards (a JSON object) for a pixel grid whose first pixel is parent (x0, y0).
 */
int32_t butler_wcs_fits_header(const char *wcs_json, int64_t x0, int64_t y0, char **json, char **error);

/** Releases an exposure handle and its plane memory (a second release: BUTLER_ERR_INVALID_HANDLE). */
int32_t butler_exposure_free(butler_exposure_t *exposure);

#ifdef __cplusplus
}
#endif

#endif /* SWIFT_BUTLER_H */
