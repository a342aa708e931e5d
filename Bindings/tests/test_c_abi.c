/*
 * The C ABI's test: every function of butler.h, its ownership rules and its refusals, on a new
 * repository (SQLite, or PostgreSQL when BUTLER_TEST_POSTGRES_URL is set).
 *
 *   test_c_abi REPOSITORY_DIRECTORY
 *
 * Prints one line per check and exits non-zero on the first failure. Run by
 * scripts/test-bindings.sh, once under valgrind for leaks.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "butler.h"

static int checks = 0;

#define CHECK(condition, ...)                                    \
    do {                                                         \
        checks++;                                                \
        if (!(condition)) {                                      \
            fprintf(stderr, "FAILED %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                        \
            fprintf(stderr, "\n");                               \
            exit(1);                                             \
        }                                                        \
    } while (0)

/* Calls that must succeed: the status is OK, or the message is printed. */
#define OK(call)                                                                                   \
    do {                                                                                           \
        char *error_ = NULL;                                                                       \
        int32_t status_ = (call);                                                   \
        CHECK(status_ == BUTLER_OK, "%s -> %s: %s", #call, butler_status_name(status_), error_ ? error_ : "(no message)"); \
        CHECK(error_ == NULL, "no message on success");                                            \
    } while (0)

/* Calls that must fail with `expected`, with a message containing `words`. */
static void expect_failure(int32_t status, char *error, int32_t expected, const char *words, const char *what) {
    checks++;
    if (status != expected || error == NULL || strstr(error, words) == NULL) {
        fprintf(stderr, "FAILED %s: status %s (expected %s), message '%s' (expected to contain '%s')\n", what, butler_status_name(status),
                butler_status_name(expected), error ? error : "(none)", words);
        exit(1);
    }
    printf("refused as expected: %s: %s\n", what, error);
    butler_string_free(error);
}

typedef struct {
    butler_t *butler;
    int index;
    int failures;
} worker_args;

/* Several threads reading the same handle at once. */
static void *worker(void *opaque) {
    worker_args *args = opaque;
    for (int i = 0; i < 20; i++) {
        char *json = NULL, *error = NULL;
        int32_t status = butler_get_json(args->butler, "metrics", "{\"instrument\": \"Cam\", \"detector\": 1}", NULL, NULL, &json, &error);
        if (status != BUTLER_OK || strstr(json, "\"mean\"") == NULL) args->failures++;
        butler_string_free(json);
        butler_string_free(error);
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s REPOSITORY_DIRECTORY\n", argv[0]);
        return 2;
    }
    const char *root = argv[1];
    char *error = NULL;
    int32_t status;

    CHECK(butler_abi_version() == BUTLER_ABI_VERSION, "ABI version %d", butler_abi_version());
    CHECK(strlen(butler_version()) > 0, "version string");
    CHECK(strcmp(butler_status_name(BUTLER_ERR_MISSING_DATASET), "missingDataset") == 0, "status name");
    CHECK(strcmp(butler_status_name(12345), "unknown") == 0, "unknown status name");
    printf("libSwiftButler %s (ABI %d)\n", butler_version(), butler_abi_version());

    /* Create: SQLite, or PostgreSQL in a schema of its own. */
    char options[512] = "{}";
    const char *postgres = getenv("BUTLER_TEST_POSTGRES_URL");
    if (postgres != NULL && postgres[0] != '\0') {
        snprintf(options, sizeof options, "{\"database\": \"%s\", \"namespace\": \"c_abi_%d\"}", postgres, (int)getpid());
    }
    OK(butler_create(root, options, &error_));
    status = butler_create(root, options, &error);
    expect_failure(status, error, BUTLER_ERR_CONFIGURATION, "", "creating over an existing repository");

    butler_t *butler = NULL;
    OK(butler_open(root, "{\"run\": \"c/run\", \"collections\": [\"c/run\"]}", &butler, &error_));
    CHECK(butler != NULL, "open gives a handle");

    OK(butler_insert_dimension_records(butler, "instrument", "[{\"name\": \"Cam\"}]", &error_));
    OK(butler_insert_dimension_records(butler, "detector", "[{\"instrument\": \"Cam\", \"id\": 1}, {\"instrument\": \"Cam\", \"id\": 2}]", &error_));
    OK(butler_register_dataset_type(butler, "metrics", "StructuredDataDict", "[\"instrument\", \"detector\"]", 0, &error_));
    OK(butler_register_dataset_type(butler, "blob", "Bytes", "[\"instrument\", \"detector\"]", 0, &error_));
    OK(butler_register_dataset_type(butler, "calexp", "ExposureF", "[\"instrument\", \"detector\"]", 0, &error_));
    OK(butler_register_dataset_type(butler, "skywcs", "Wcs", "[\"instrument\", \"detector\"]", 0, &error_));

    char *json = NULL;
    OK(butler_describe_dataset_type(butler, "calexp", &json, &error_));
    CHECK(strstr(json, "\"kind\":\"exposure\"") && strstr(json, "\"storageClass\":\"ExposureF\""), "describe calexp: %s", json);
    butler_string_free(json);
    OK(butler_describe_dataset_type(butler, "calexp.wcs", &json, &error_));
    CHECK(strstr(json, "\"kind\":\"json\"") && strstr(json, "\"storageClass\":\"Wcs\""), "describe calexp.wcs: %s", json);
    butler_string_free(json);
    OK(butler_describe_dataset_type(butler, "blob", &json, &error_));
    CHECK(strstr(json, "\"kind\":\"bytes\""), "describe blob: %s", json);
    butler_string_free(json);

    /* JSON and bytes, round trip. */
    const char *id1 = "{\"instrument\": \"Cam\", \"detector\": 1}";
    char *ref = NULL;
    OK(butler_put_json(butler, "metrics", id1, NULL, "{\"mean\": 1.5, \"count\": 3}", &ref, &error_));
    CHECK(ref && strstr(ref, "\"run\":\"c/run\"") && strstr(ref, "\"datasetType\":\"metrics\""), "ref of put: %s", ref);
    butler_string_free(ref);
    OK(butler_get_json(butler, "metrics", id1, NULL, NULL, &json, &error_));
    CHECK(strstr(json, "\"mean\":1.5") && strstr(json, "\"count\":3"), "metrics back: %s", json);
    butler_string_free(json);

    const unsigned char payload[5] = {0, 1, 2, 255, 7};
    OK(butler_put_bytes(butler, "blob", id1, "c/run", payload, sizeof payload, NULL, &error_));
    void *bytes = NULL;
    size_t size = 0;
    OK(butler_get_bytes(butler, "blob", id1, "[\"c/run\"]", &bytes, &size, &error_));
    CHECK(size == 5 && memcmp(bytes, payload, 5) == 0, "bytes back (%zu)", size);
    butler_bytes_free(bytes);

    /* An exposure from caller planes, with a WCS given as JSON. */
    enum { W = 64, H = 48 };
    float *pixels = malloc(sizeof(float) * W * H);
    int32_t *mask = calloc(W * H, sizeof(int32_t));
    float *variance = malloc(sizeof(float) * W * H);
    for (int i = 0; i < W * H; i++) {
        pixels[i] = (float)i;
        variance[i] = 2.0f;
    }
    mask[5] = 4;
    butler_plane image_plane = {pixels, BUTLER_PIXEL_FLOAT32, W, H, W * sizeof(float), 100, 200};
    butler_plane mask_plane = {mask, BUTLER_PIXEL_INT32, W, H, W * sizeof(int32_t), 100, 200};
    butler_plane variance_plane = {variance, BUTLER_PIXEL_FLOAT32, W, H, W * sizeof(float), 100, 200};
    const char *wcs =
        "{\"wcs\": {\"crpix\": {\"x\": 132, \"y\": 224}, \"crval\": {\"ra\": 150.1, \"dec\": 2.2},"
        " \"cd\": [[-5.5e-5, 0], [0, 5.5e-5]], \"projection\": \"TAN\"}}";
    OK(butler_put_exposure(butler, "calexp", id1, NULL, &image_plane, &mask_plane, &variance_plane, wcs, &ref, &error_));
    butler_string_free(ref);

    butler_exposure_t *exposure = NULL;
    OK(butler_get_exposure(butler, "calexp", id1, NULL, NULL, &exposure, &error_));
    butler_plane view;
    OK(butler_exposure_plane(exposure, "image", &view, &error_));
    CHECK(view.width == W && view.height == H && view.x0 == 100 && view.y0 == 200 && view.pixel_type == BUTLER_PIXEL_FLOAT32,
          "image plane %lldx%lld at %lld,%lld", (long long)view.width, (long long)view.height, (long long)view.x0, (long long)view.y0);
    CHECK(((float *)view.data)[W * 10 + 7] == (float)(W * 10 + 7), "pixel value");
    OK(butler_exposure_plane(exposure, "mask", &view, &error_));
    CHECK(view.pixel_type == BUTLER_PIXEL_INT32 && ((int32_t *)view.data)[5] == 4, "mask value");
    float *copy = malloc(sizeof(float) * W * H);
    OK(butler_exposure_copy_plane(exposure, "variance", BUTLER_PIXEL_FLOAT32, copy, sizeof(float) * W * H, &error_));
    CHECK(copy[100] == 2.0f, "variance copied");
    status = butler_exposure_copy_plane(exposure, "variance", BUTLER_PIXEL_FLOAT64, copy, sizeof(float) * W * H, &error);
    expect_failure(status, error, BUTLER_ERR_PIXEL_TYPE, "FLOAT32", "copying a plane as the wrong pixel type");
    status = butler_exposure_copy_plane(exposure, "variance", BUTLER_PIXEL_FLOAT32, copy, 10, &error);
    expect_failure(status, error, BUTLER_ERR_BUFFER_TOO_SMALL, "needs", "copying into a small buffer");
    free(copy);
    OK(butler_exposure_component(exposure, "wcs", &json, &error_));
    CHECK(strstr(json, "150.1"), "wcs component: %s", json);
    butler_string_free(json);
    OK(butler_exposure_component(exposure, "bbox", &json, &error_));
    CHECK(strstr(json, "\"x\":100"), "bbox component: %s", json);
    butler_string_free(json);
    status = butler_exposure_component(exposure, "psf", &json, &error);
    expect_failure(status, error, BUTLER_ERR_MISSING_COMPONENT, "no psf", "an absent component");
    OK(butler_exposure_wcs_header(exposure, &json, &error_));
    CHECK(strstr(json, "\"CRPIX1\":33") && strstr(json, "RA---TAN"), "WCS header for the planes' grid: %s", json);
    butler_string_free(json);
    CHECK(butler_exposure_free(exposure) == BUTLER_OK, "release");
    CHECK(butler_exposure_free(exposure) == BUTLER_ERR_INVALID_HANDLE, "double release is refused");

    /* A cutout in parent coordinates, and a component get. */
    OK(butler_get_exposure(butler, "calexp", id1, NULL, "{\"bbox\": [110, 210, 119, 214]}", &exposure, &error_));
    OK(butler_exposure_plane(exposure, "image", &view, &error_));
    CHECK(view.width == 10 && view.height == 5 && view.x0 == 110 && ((float *)view.data)[0] == (float)(W * 10 + 10), "cutout");
    CHECK(butler_exposure_free(exposure) == BUTLER_OK, "release");
    OK(butler_get_json(butler, "calexp.wcs", id1, NULL, NULL, &json, &error_));
    CHECK(strstr(json, "\"crval\""), "calexp.wcs: %s", json);
    OK(butler_put_json(butler, "skywcs", id1, NULL, json, NULL, &error_));
    char *cards = NULL;
    OK(butler_wcs_fits_header(json, 100, 200, &cards, &error_));
    CHECK(strstr(cards, "\"CRPIX1\":33") && strstr(cards, "\"CRVAL2\":2.2"), "WCS cards from WCS JSON: %s", cards);
    butler_string_free(cards);
    status = butler_wcs_fits_header("{\"crpix\": 1}", 0, 0, &cards, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_JSON, "wcs_json", "a WCS that is not one");
    butler_string_free(json);
    OK(butler_get_json(butler, "calexp.bbox", id1, NULL, NULL, &json, &error_));
    CHECK(strstr(json, "\"max\":{\"x\":163,\"y\":247}"), "calexp.bbox: %s", json);
    butler_string_free(json);
    OK(butler_get_exposure(butler, "calexp.image", id1, NULL, NULL, &exposure, &error_));
    status = butler_exposure_plane(exposure, "mask", &view, &error);
    expect_failure(status, error, BUTLER_ERR_MISSING_COMPONENT, "no mask plane", "the mask of an image");
    CHECK(butler_exposure_free(exposure) == BUTLER_OK, "release");

    /* Find, URI, queries. */
    OK(butler_find_dataset(butler, "calexp", id1, "[\"c/run\"]", &ref, &error_));
    CHECK(strstr(ref, "\"detector\":1"), "find: %s", ref);
    butler_string_free(ref);
    OK(butler_get_uri(butler, "calexp", id1, NULL, &json, &error_));
    CHECK(strncmp(json, "file://", 7) == 0 && strstr(json, ".fits"), "uri: %s", json);
    butler_string_free(json);
    OK(butler_query_datasets(butler, "metrics", "[\"c/run\"]", "detector = 1", 1, &json, &error_));
    CHECK(json[0] == '[' && strstr(json, "\"datasetType\":\"metrics\""), "query datasets: %s", json);
    butler_string_free(json);
    OK(butler_query_data_ids(butler, "[\"detector\"]", "instrument = 'Cam'", &json, &error_));
    CHECK(strstr(json, "\"detector\":1") && strstr(json, "\"detector\":2"), "query data IDs: %s", json);
    butler_string_free(json);

    /* Refusals: each names what failed. */
    const char *id2 = "{\"instrument\": \"Cam\", \"detector\": 2}";
    status = butler_get_json(butler, "metrics", id2, NULL, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_MISSING_DATASET, "metrics", "a missing dataset");
    status = butler_find_dataset(butler, "metrics", id2, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_MISSING_DATASET, "detector=2", "find of a missing dataset");
    status = butler_put_json(butler, "metrics", id1, NULL, "{\"mean\": 2}", NULL, &error);
    expect_failure(status, error, BUTLER_ERR_CONFLICT, "metrics", "a second put of one data ID");
    status = butler_get_json(butler, "nosuch", id1, NULL, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_MISSING_DATASET_TYPE, "nosuch", "an unknown dataset type");
    status = butler_put_json(butler, "metrics", "{\"instrument\": \"Cam\"", NULL, "{}", NULL, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_JSON, "data_id_json", "malformed data ID JSON");
    status = butler_get_json(butler, NULL, id1, NULL, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_NULL_ARGUMENT, "dataset_type", "a NULL dataset type");
    status = butler_get_json(butler, "metrics", id1, NULL, NULL, NULL, &error);
    expect_failure(status, error, BUTLER_ERR_NULL_ARGUMENT, "json", "a NULL result pointer");
    status = butler_get_json(butler, "metr\xff\xfe", id1, NULL, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_UTF8, "not UTF-8", "a dataset type that is not UTF-8");
    status = butler_get_json((butler_t *)0x12345, "metrics", id1, NULL, NULL, &json, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_HANDLE, "not open", "a made-up handle");
    status = butler_get_json(butler, "calexp", id1, NULL, "{\"bbox\": [0, 0, 5]}", &json, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_PARAMETER, "bbox", "a malformed bbox");
    status = butler_get_bytes(butler, "metrics", id1, NULL, &bytes, &size, &error);
    expect_failure(status, error, BUTLER_ERR_TYPE_MISMATCH, "metrics", "bytes of a dictionary");
    status = butler_get_exposure(butler, "metrics", id1, NULL, NULL, &exposure, &error);
    expect_failure(status, error, BUTLER_ERR_TYPE_MISMATCH, "not an image", "an exposure of a dictionary");
    butler_plane wrong = {pixels, BUTLER_PIXEL_FLOAT64, W, H, W * sizeof(double), 0, 0};
    status = butler_put_exposure(butler, "calexp", id2, NULL, &wrong, NULL, NULL, NULL, NULL, &error);
    expect_failure(status, error, BUTLER_ERR_PIXEL_TYPE, "FLOAT64", "an image plane of the wrong pixel type");
    butler_plane small_mask = {mask, BUTLER_PIXEL_INT32, 3, 3, 3 * sizeof(int32_t), 100, 200};
    status = butler_put_exposure(butler, "calexp", id2, NULL, &image_plane, &small_mask, NULL, NULL, NULL, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_ARGUMENT, "mask plane covers", "a mask of another size");
    status = butler_put_exposure(butler, "calexp", id2, NULL, &image_plane, NULL, NULL, "{\"colour\": 1}", NULL, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_ARGUMENT, "colour", "an unknown component");
    free(pixels);
    free(mask);
    free(variance);

    /* Several threads on one handle. */
    pthread_t threads[4];
    worker_args args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (worker_args){butler, i, 0};
        pthread_create(&threads[i], NULL, worker, &args[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(args[i].failures == 0, "thread %d: %d failures", i, args[i].failures);
    }

    /* A read-only Butler refuses writes. */
    butler_t *reader = NULL;
    OK(butler_open(root, "{\"writeable\": false, \"collections\": [\"c/run\"]}", &reader, &error_));
    status = butler_put_json(reader, "metrics", id2, "c/run", "{}", NULL, &error);
    expect_failure(status, error, BUTLER_ERR_READ_ONLY, "read-only", "a put through a read-only Butler");
    OK(butler_close(reader, &error_));

    OK(butler_close(butler, &error_));
    status = butler_close(butler, &error);
    expect_failure(status, error, BUTLER_ERR_INVALID_HANDLE, "not open", "a second close");
    status = butler_open(NULL, NULL, &butler, &error);
    expect_failure(status, error, BUTLER_ERR_NULL_ARGUMENT, "root", "opening NULL");
    status = butler_open("/nonexistent/repo", NULL, &butler, &error);
    CHECK(status != BUTLER_OK && butler == NULL && error != NULL, "opening a missing repository");
    butler_string_free(error);
    butler_string_free(NULL);
    butler_bytes_free(NULL);

    printf("C ABI: %d checks passed\n", checks);
    return 0;
}
