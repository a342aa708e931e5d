// A 256x256 cutout of a calexp from C++: reads only the tiles the box needs, prints its mean.
//   cutout REPO '{"instrument": "Cam", "detector": 7}' [COLLECTION]
#include <cstdio>
#include <string>

#include "butler.hpp"

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s REPO DATA_ID_JSON [COLLECTION]\n", argv[0]);
        return 2;
    }
    try {
        butler::ButlerOptions options;
        options.collections = {argc > 3 ? argv[3] : "cpp/run"};
        butler::Butler repo(argv[1], options);
        butler::Exposure cutout = repo.get_exposure("calexp", argv[2], butler::Box{0, 0, 255, 255});
        butler::PlaneView<float> image = cutout.image();
        double sum = 0;
        for (float value : image) sum += value;
        std::printf("%lldx%lld cutout at (%lld, %lld): mean %.3f\n", (long long)image.width(), (long long)image.height(),
                    (long long)image.x0(), (long long)image.y0(), sum / double(image.size()));
        return 0;
    } catch (const butler::Error &error) {
        std::fprintf(stderr, "%s: %s\n", error.kind_name(), error.what());
        return 1;
    }
}
