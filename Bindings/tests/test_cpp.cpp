// The C++ layer's test: RAII handles, exceptions with kinds, optional results, plane views.
//   test_cpp REPOSITORY_DIRECTORY   (SQLite, or PostgreSQL when BUTLER_TEST_POSTGRES_URL is set)
// Leaves the repository with a calexp for examples/cpp/cutout.cpp and the README example.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "butler.hpp"

static int checks = 0;
#define CHECK(condition, label)                                                  \
    do {                                                                         \
        checks++;                                                                \
        if (!(condition)) {                                                      \
            std::fprintf(stderr, "FAILED %s:%d: %s\n", __FILE__, __LINE__, label); \
            std::exit(1);                                                        \
        }                                                                        \
    } while (0)

int main(int argc, char **argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s REPOSITORY_DIRECTORY\n", argv[0]);
        return 2;
    }
    std::string root = argv[1];
    std::string options = "{}";
    if (const char *postgres = std::getenv("BUTLER_TEST_POSTGRES_URL"); postgres != nullptr && *postgres != '\0') {
        options = std::string("{\"database\": \"") + postgres + "\", \"namespace\": \"cpp_" + std::to_string(getpid()) + "\"}";
    }
    butler::Butler::create(root, options);
    butler::Butler repo(root, {{"cpp/run"}, std::string("cpp/run")});
    repo.insert_dimension_records("instrument", R"([{"name": "Cam"}])");
    repo.insert_dimension_records("detector", R"([{"instrument": "Cam", "id": 7}])");
    repo.register_dataset_type("calexp", "ExposureF", {"instrument", "detector"});
    repo.register_dataset_type("metrics", "StructuredDataDict", {"instrument", "detector"});
    const std::string id = R"({"instrument": "Cam", "detector": 7})";

    const int64_t width = 300, height = 280;
    std::vector<float> pixels(width * height);
    for (int64_t i = 0; i < width * height; i++) pixels[i] = float(i % 1000);
    std::vector<float> variance(width * height, 4.0f);
    std::string wcs = R"({"wcs": {"crpix": {"x": 150, "y": 140}, "crval": {"ra": 10.5, "dec": -30}, "cd": [[-5e-5, 0], [0, 5e-5]], "projection": "TAN"}})";
    std::string ref = repo.put_exposure("calexp", id, pixels.data(), width, height, 0, 0, nullptr, variance.data(), wcs);
    CHECK(ref.find("\"datasetType\":\"calexp\"") != std::string::npos, "put returns the reference");
    repo.put_json("metrics", id, R"({"seeing": 0.7})");

    butler::Exposure cutout = repo.get_exposure("calexp", id, butler::Box{10, 20, 265, 275});
    butler::PlaneView<float> image = cutout.image();
    CHECK(image.width() == 256 && image.height() == 256 && image.x0() == 10 && image.y0() == 20, "cutout box");
    CHECK(image(0, 0) == pixels[20 * width + 10] && image(255, 255) == pixels[275 * width + 265], "cutout pixels");
    CHECK(cutout.variance()(3, 3) == 4.0f && cutout.mask()(0, 0) == 0, "variance and mask planes");
    butler::Box box = cutout.bbox();
    CHECK(box.x0 == 10 && box.x1 == 265 && box.height() == 256, "bbox");
    CHECK(cutout.component("wcs").has_value() && !cutout.component("psf").has_value(), "optional components");
    CHECK(cutout.wcs_fits_header()->find("\"CRPIX1\":141") != std::string::npos, "WCS header of the cutout's grid");
    double sum = 0;
    for (float value : image) sum += value;
    CHECK(sum > 0, "iteration over a plane");

    butler::Exposure moved = std::move(cutout);
    CHECK(moved.image().width() == 256, "a moved exposure keeps its handle");
    try {
        (void)moved.image<double>();
        CHECK(false, "reading FLOAT32 pixels as double throws");
    } catch (const butler::Error &error) {
        CHECK(error.kind() == butler::ErrorKind::PixelType, "pixel type error kind");
    }

    CHECK(repo.get_json("metrics", id).find("0.7") != std::string::npos, "JSON get");
    CHECK(repo.get_json("calexp.wcs", id).find("10.5") != std::string::npos, "component get");
    CHECK(!repo.find_dataset("metrics", R"({"instrument": "Cam", "detector": 8})").has_value(), "find of a missing dataset");
    try {
        repo.get_json("metrics", R"({"instrument": "Cam", "detector": 8})");
        CHECK(false, "a missing dataset throws");
    } catch (const butler::Error &error) {
        CHECK(error.kind() == butler::ErrorKind::MissingDataset && std::string(error.kind_name()) == "missingDataset", "missing dataset kind");
        CHECK(std::string(error.what()).find("detector") != std::string::npos, "the message names the data ID");
    }
    CHECK(repo.query_datasets("calexp", {"cpp/run"}).find("\"detector\":7") != std::string::npos, "query datasets");
    CHECK(repo.query_data_ids({"detector"}, "instrument = 'Cam'").find("\"detector\":7") != std::string::npos, "query data IDs");
    CHECK(repo.uri("calexp", id).rfind("file://", 0) == 0, "URI");
    std::printf("C++ layer: %d checks passed\n", checks);
    return 0;
}
