// butler.hpp — the Swift Butler from C++17: a header-only layer over the C ABI (butler.h).
//
// RAII handles (butler::Butler, butler::Exposure; move-only), exceptions carrying the error kind
// (butler::Error), std::optional where a value may be absent, and span-like views of image
// planes (butler::PlaneView<T>) over memory the Exposure owns. Data IDs, collections and
// records are JSON text, as in the C ABI:
//
//     butler::Butler repo("/data/repo", {{"HSC/runs/RC2"}});
//     auto calexp = repo.get_exposure("calexp", R"({"instrument": "HSC", "visit": 903334, "detector": 16})",
//                                     butler::Box{0, 0, 255, 255});
//     butler::PlaneView<float> image = calexp.image();
//     float first = image(0, 0);
//
// Thread safety is the C ABI's: one Butler may be used from several threads at once.
#ifndef SWIFT_BUTLER_HPP
#define SWIFT_BUTLER_HPP

#include <cstdint>
#include <cstdio>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "butler.h"

namespace butler {

/// What kind of failure an Error is: the C ABI's status codes.
enum class ErrorKind : int32_t {
    Configuration = BUTLER_ERR_CONFIGURATION,
    UnknownDimension = BUTLER_ERR_UNKNOWN_DIMENSION,
    InvalidDataId = BUTLER_ERR_INVALID_DATA_ID,
    DimensionRecord = BUTLER_ERR_DIMENSION_RECORD,
    MissingDatasetType = BUTLER_ERR_MISSING_DATASET_TYPE,
    DatasetTypeConflict = BUTLER_ERR_DATASET_TYPE_CONFLICT,
    Collection = BUTLER_ERR_COLLECTION,
    MissingDataset = BUTLER_ERR_MISSING_DATASET,
    Conflict = BUTLER_ERR_CONFLICT,
    ReadOnly = BUTLER_ERR_READ_ONLY,
    MissingArtifact = BUTLER_ERR_MISSING_ARTIFACT,
    CorruptArtifact = BUTLER_ERR_CORRUPT_ARTIFACT,
    MissingComponent = BUTLER_ERR_MISSING_COMPONENT,
    StorageFailure = BUTLER_ERR_STORAGE_FAILURE,
    InvalidQuery = BUTLER_ERR_INVALID_QUERY,
    InvalidParameter = BUTLER_ERR_INVALID_PARAMETER,
    TypeMismatch = BUTLER_ERR_TYPE_MISMATCH,
    InvalidArgument = BUTLER_ERR_INVALID_ARGUMENT,
    AmbiguousCalibration = BUTLER_ERR_AMBIGUOUS_CALIBRATION,
    InvalidHandle = BUTLER_ERR_INVALID_HANDLE,
    NullArgument = BUTLER_ERR_NULL_ARGUMENT,
    InvalidUTF8 = BUTLER_ERR_INVALID_UTF8,
    InvalidJSON = BUTLER_ERR_INVALID_JSON,
    PixelType = BUTLER_ERR_PIXEL_TYPE,
    BufferTooSmall = BUTLER_ERR_BUFFER_TOO_SMALL,
    Internal = BUTLER_ERR_INTERNAL,
};

/// A failed call: its kind and the Butler's message (naming the dataset, data ID or argument).
class Error : public std::runtime_error {
public:
    Error(int32_t status, const std::string &message) : std::runtime_error(message), status_(status) {}
    ErrorKind kind() const noexcept { return static_cast<ErrorKind>(status_); }
    /// The kind's name ("missingDataset").
    const char *kind_name() const noexcept { return butler_status_name(status_); }

private:
    int32_t status_;
};

namespace detail {
/// Throws the Error a status and message stand for (freeing the message). The message is
/// read through its address, after the call has filled it in.
inline void check(int32_t status, char **error) {
    if (status == BUTLER_OK) return;
    std::string message = *error != nullptr ? *error : butler_status_name(status);
    butler_string_free(*error);
    throw Error(status, message);
}
/// A library string as std::string (freeing it).
inline std::string take(char *text) {
    std::string result = text != nullptr ? text : "";
    butler_string_free(text);
    return result;
}
inline const char *c_str(const std::optional<std::string> &text) { return text ? text->c_str() : nullptr; }
/// A JSON string literal.
inline std::string quote(const std::string &text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
            out += escaped;
            continue;
        }
        out += c;
    }
    return out + "\"";
}
/// A JSON array of strings.
inline std::string array(const std::vector<std::string> &items) {
    std::string out = "[";
    for (size_t i = 0; i < items.size(); i++) out += (i ? ", " : "") + quote(items[i]);
    return out + "]";
}
template <typename T> constexpr int32_t pixel_type_of();
template <> constexpr int32_t pixel_type_of<float>() { return BUTLER_PIXEL_FLOAT32; }
template <> constexpr int32_t pixel_type_of<double>() { return BUTLER_PIXEL_FLOAT64; }
template <> constexpr int32_t pixel_type_of<int32_t>() { return BUTLER_PIXEL_INT32; }
template <> constexpr int32_t pixel_type_of<uint16_t>() { return BUTLER_PIXEL_UINT16; }
template <> constexpr int32_t pixel_type_of<uint8_t>() { return BUTLER_PIXEL_UINT8; }
}  // namespace detail

/// An integer box with inclusive corners, in parent pixel coordinates (afw's Box2I).
struct Box {
    int64_t x0, y0, x1, y1;
    int64_t width() const { return x1 - x0 + 1; }
    int64_t height() const { return y1 - y0 + 1; }
    std::string json() const {
        return "[" + std::to_string(x0) + ", " + std::to_string(y0) + ", " + std::to_string(x1) + ", " + std::to_string(y1) + "]";
    }
};

/// A view of an image plane: `height()` rows of `width()` pixels; (x, y) is local (0-based
/// from the first pixel), parent position (x0() + x, y0() + y). Valid while its Exposure lives.
template <typename T> class PlaneView {
public:
    explicit PlaneView(const butler_plane &plane) : plane_(plane) {}
    T *data() const { return static_cast<T *>(plane_.data); }
    int64_t width() const { return plane_.width; }
    int64_t height() const { return plane_.height; }
    int64_t x0() const { return plane_.x0; }
    int64_t y0() const { return plane_.y0; }
    size_t size() const { return static_cast<size_t>(plane_.width * plane_.height); }
    /// Row `y`'s first pixel.
    T *row(int64_t y) const { return reinterpret_cast<T *>(static_cast<char *>(plane_.data) + y * plane_.row_stride); }
    T &operator()(int64_t x, int64_t y) const { return row(y)[x]; }
    T *begin() const { return data(); }
    T *end() const { return data() + size(); }

private:
    butler_plane plane_;
};

/// An exposure, masked image or image read from a repository (move-only; releases its handle).
class Exposure {
public:
    explicit Exposure(butler_exposure_t *handle) : handle_(handle) {}
    ~Exposure() {
        if (handle_ != nullptr) butler_exposure_free(handle_);
    }
    Exposure(Exposure &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Exposure &operator=(Exposure &&other) noexcept {
        if (this != &other) {
            if (handle_ != nullptr) butler_exposure_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Exposure(const Exposure &) = delete;
    Exposure &operator=(const Exposure &) = delete;

    /// A plane ("image", "mask", "variance") as pixels of T; throws PixelType if they are not.
    template <typename T> PlaneView<T> plane(const std::string &name) const {
        butler_plane view;
        char *error = nullptr;
        detail::check(butler_exposure_plane(handle_, name.c_str(), &view, &error), &error);
        if (view.pixel_type != detail::pixel_type_of<T>()) {
            throw Error(BUTLER_ERR_PIXEL_TYPE, "the " + name + " plane's pixels are not of the type asked for");
        }
        return PlaneView<T>(view);
    }
    template <typename T = float> PlaneView<T> image() const { return plane<T>("image"); }
    PlaneView<int32_t> mask() const { return plane<int32_t>("mask"); }
    PlaneView<float> variance() const { return plane<float>("variance"); }
    /// The box of the planes, in parent coordinates.
    Box bbox() const {
        butler_plane view;
        char *error = nullptr;
        detail::check(butler_exposure_plane(handle_, "image", &view, &error), &error);
        return Box{view.x0, view.y0, view.x0 + view.width - 1, view.y0 + view.height - 1};
    }
    /// A component as JSON ("wcs", "psf", "photoCalib", "visitInfo", "metadata"), or nullopt
    /// when this exposure has none.
    std::optional<std::string> component(const std::string &name) const {
        char *json = nullptr, *error = nullptr;
        int32_t status = butler_exposure_component(handle_, name.c_str(), &json, &error);
        if (status == BUTLER_ERR_MISSING_COMPONENT) {
            butler_string_free(error);
            return std::nullopt;
        }
        detail::check(status, &error);
        return detail::take(json);
    }
    /// The WCS as FITS cards (JSON object) for these planes' pixel grid, or nullopt.
    std::optional<std::string> wcs_fits_header() const {
        char *json = nullptr, *error = nullptr;
        int32_t status = butler_exposure_wcs_header(handle_, &json, &error);
        if (status == BUTLER_ERR_MISSING_COMPONENT) {
            butler_string_free(error);
            return std::nullopt;
        }
        detail::check(status, &error);
        return detail::take(json);
    }

private:
    butler_exposure_t *handle_;
};

/// How a Butler opens a repository: default collections, default run, read-only or not.
struct ButlerOptions {
    std::vector<std::string> collections;
    std::optional<std::string> run;
    bool writeable = true;
};

/// An open repository (move-only; closes on destruction).
class Butler {
public:
    using Options = ButlerOptions;

    /// Creates an empty repository (`options_json` as butler_create reads it).
    static void create(const std::string &root, const std::string &options_json = "{}") {
        char *error = nullptr;
        detail::check(butler_create(root.c_str(), options_json.c_str(), &error), &error);
    }

    explicit Butler(const std::string &root, const Options &options = {}) {
        std::string json = "{\"collections\": " + detail::array(options.collections) +
                           ", \"writeable\": " + (options.writeable ? "true" : "false") +
                           (options.run ? ", \"run\": " + detail::quote(*options.run) : std::string()) + "}";
        char *error = nullptr;
        detail::check(butler_open(root.c_str(), json.c_str(), &handle_, &error), &error);
    }
    ~Butler() {
        if (handle_ != nullptr) butler_close(handle_, nullptr);
    }
    Butler(Butler &&other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Butler &operator=(Butler &&other) noexcept {
        if (this != &other) {
            if (handle_ != nullptr) butler_close(handle_, nullptr);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Butler(const Butler &) = delete;
    Butler &operator=(const Butler &) = delete;

    void register_dataset_type(const std::string &name, const std::string &storage_class, const std::vector<std::string> &dimensions,
                               bool is_calibration = false) {
        char *error = nullptr;
        detail::check(butler_register_dataset_type(handle_, name.c_str(), storage_class.c_str(), detail::array(dimensions).c_str(),
                                                   is_calibration ? 1 : 0, &error),
                      &error);
    }
    void insert_dimension_records(const std::string &element, const std::string &records_json) {
        char *error = nullptr;
        detail::check(butler_insert_dimension_records(handle_, element.c_str(), records_json.c_str(), &error), &error);
    }
    /// Stores a value given as JSON; returns the new reference (JSON).
    std::string put_json(const std::string &dataset_type, const std::string &data_id, const std::string &json,
                         const std::optional<std::string> &run = std::nullopt) {
        char *ref = nullptr, *error = nullptr;
        detail::check(butler_put_json(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(run), json.c_str(), &ref, &error), &error);
        return detail::take(ref);
    }
    std::string put_bytes(const std::string &dataset_type, const std::string &data_id, const std::vector<uint8_t> &bytes,
                          const std::optional<std::string> &run = std::nullopt) {
        char *ref = nullptr, *error = nullptr;
        detail::check(butler_put_bytes(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(run), bytes.data(), bytes.size(), &ref,
                                       &error),
                      &error);
        return detail::take(ref);
    }
    /// Stores an exposure from packed pixels (width × height, first pixel at parent (x0, y0));
    /// mask and variance may be null (zeros). `components_json`: {"wcs": …, …}.
    template <typename T>
    std::string put_exposure(const std::string &dataset_type, const std::string &data_id, const T *pixels, int64_t width, int64_t height,
                             int64_t x0 = 0, int64_t y0 = 0, const int32_t *mask = nullptr, const float *variance = nullptr,
                             const std::optional<std::string> &components_json = std::nullopt,
                             const std::optional<std::string> &run = std::nullopt) {
        butler_plane image{const_cast<T *>(pixels), detail::pixel_type_of<T>(), width, height, width * int64_t(sizeof(T)), x0, y0};
        butler_plane mask_plane{const_cast<int32_t *>(mask), BUTLER_PIXEL_INT32, width, height, width * 4, x0, y0};
        butler_plane variance_plane{const_cast<float *>(variance), BUTLER_PIXEL_FLOAT32, width, height, width * 4, x0, y0};
        char *ref = nullptr, *error = nullptr;
        detail::check(butler_put_exposure(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(run), &image,
                                          mask ? &mask_plane : nullptr, variance ? &variance_plane : nullptr,
                                          detail::c_str(components_json), &ref, &error),
                      &error);
        return detail::take(ref);
    }
    /// A dataset or component as JSON ("metrics", "calexp.wcs").
    std::string get_json(const std::string &dataset_type, const std::string &data_id,
                         const std::optional<std::vector<std::string>> &collections = std::nullopt) {
        char *json = nullptr, *error = nullptr;
        std::optional<std::string> names = collections ? std::optional<std::string>(detail::array(*collections)) : std::nullopt;
        detail::check(butler_get_json(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(names), nullptr, &json, &error), &error);
        return detail::take(json);
    }
    std::vector<uint8_t> get_bytes(const std::string &dataset_type, const std::string &data_id,
                                   const std::optional<std::vector<std::string>> &collections = std::nullopt) {
        void *bytes = nullptr;
        size_t size = 0;
        char *error = nullptr;
        std::optional<std::string> names = collections ? std::optional<std::string>(detail::array(*collections)) : std::nullopt;
        detail::check(butler_get_bytes(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(names), &bytes, &size, &error), &error);
        std::vector<uint8_t> result(static_cast<uint8_t *>(bytes), static_cast<uint8_t *>(bytes) + size);
        butler_bytes_free(bytes);
        return result;
    }
    /// An exposure, or a cutout of it (`bbox` in parent coordinates): only the tiles it needs are read.
    Exposure get_exposure(const std::string &dataset_type, const std::string &data_id, const std::optional<Box> &bbox = std::nullopt,
                          const std::optional<std::vector<std::string>> &collections = std::nullopt) {
        butler_exposure_t *exposure = nullptr;
        char *error = nullptr;
        std::optional<std::string> names = collections ? std::optional<std::string>(detail::array(*collections)) : std::nullopt;
        std::optional<std::string> parameters = bbox ? std::optional<std::string>("{\"bbox\": " + bbox->json() + "}") : std::nullopt;
        detail::check(butler_get_exposure(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(names), detail::c_str(parameters),
                                          &exposure, &error),
                      &error);
        return Exposure(exposure);
    }
    /// The dataset's reference (JSON), or nullopt when no such dataset is in the collections.
    std::optional<std::string> find_dataset(const std::string &dataset_type, const std::string &data_id,
                                            const std::optional<std::vector<std::string>> &collections = std::nullopt) {
        char *ref = nullptr, *error = nullptr;
        std::optional<std::string> names = collections ? std::optional<std::string>(detail::array(*collections)) : std::nullopt;
        int32_t status = butler_find_dataset(handle_, dataset_type.c_str(), data_id.c_str(), detail::c_str(names), &ref, &error);
        if (status == BUTLER_ERR_MISSING_DATASET) {
            butler_string_free(error);
            return std::nullopt;
        }
        detail::check(status, &error);
        return detail::take(ref);
    }
    std::string uri(const std::string &dataset_type, const std::string &data_id) {
        char *uri = nullptr, *error = nullptr;
        detail::check(butler_get_uri(handle_, dataset_type.c_str(), data_id.c_str(), nullptr, &uri, &error), &error);
        return detail::take(uri);
    }
    /// Matching datasets as a JSON array of references.
    std::string query_datasets(const std::string &dataset_type, const std::vector<std::string> &collections, const std::string &where = "",
                               bool find_first = false) {
        char *json = nullptr, *error = nullptr;
        detail::check(butler_query_datasets(handle_, dataset_type.c_str(), detail::array(collections).c_str(), where.c_str(), find_first ? 1 : 0,
                                            &json, &error),
                      &error);
        return detail::take(json);
    }
    /// Matching data IDs as a JSON array of objects.
    std::string query_data_ids(const std::vector<std::string> &dimensions, const std::string &where = "") {
        char *json = nullptr, *error = nullptr;
        detail::check(butler_query_data_ids(handle_, detail::array(dimensions).c_str(), where.c_str(), &json, &error), &error);
        return detail::take(json);
    }

private:
    butler_t *handle_ = nullptr;
};

}  // namespace butler

#endif  // SWIFT_BUTLER_HPP
