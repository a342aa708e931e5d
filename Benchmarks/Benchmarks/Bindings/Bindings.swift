// The Swift calls behind the bindings rows, on the repository Benchmarks/bindings_bench.py reads
// through the Python package in the same run: a get by data ID of a small JSON dataset (1000 of
// them, cycled as daf_butler_bench.py cycles its data IDs), a component get (calexp.wcs), and a
// 256² cutout of a 4096² tile-compressed FITS calexp at the positions the Python side uses.
// The Python rows' limit is these rows: the binding's cost is the ratio.
//
// The repository is made once in /tmp/butler-bench-bindings-v1/repo and reused.
import Benchmark
import Butler
import Composites
import Formatters
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 10, maxDuration: .seconds(5), maxIterations: 2000,
        setup: { try await BindingsRepository.shared.prepare() })
    Benchmark("swift get by data ID (metrics)") { benchmark in
        let butler = BindingsRepository.shared.butler!
        for _ in benchmark.scaledIterations {
            let (visit, detector) = BindingsRepository.cycle(BindingsRepository.shared.next())
            blackHole(try await butler.get("metrics", dataId: BindingsRepository.dataId(visit, detector)))
        }
    }
    Benchmark("swift component get (calexp.wcs)") { benchmark in
        let butler = BindingsRepository.shared.butler!
        for _ in benchmark.scaledIterations {
            blackHole(try await butler.get("calexp.wcs", dataId: BindingsRepository.dataId(0, 0)))
        }
    }
    Benchmark("swift 4k cutout 256² (calexp)") { benchmark in
        let butler = BindingsRepository.shared.butler!
        for _ in benchmark.scaledIterations {
            let (x, y) = BindingsRepository.cutoutOrigin(BindingsRepository.shared.next())
            let box = Box2I(min: Point2I(x, y), extent: Extent2I(256, 256))
            blackHole(
                try await butler.get("calexp", dataId: BindingsRepository.dataId(0, 0), parameters: ["bbox": ImageParameters.value(box)]))
        }
    }
}

/// The benchmark repository, made once.
final class BindingsRepository: @unchecked Sendable {
    // The runner calls setup and measured closures one at a time, never concurrently.
    static let shared = BindingsRepository()
    static let visits = 100, detectors = 10, side = 4096
    let root = URL(fileURLWithPath: "/tmp/butler-bench-bindings-v1/repo")
    var butler: Butler?
    /// Counts the iterations of a benchmark (the harness's own index restarts every iteration),
    /// so that successive iterations visit successive data IDs and cutout positions.
    private var counter = 0

    func next() -> Int {
        counter += 1
        return counter
    }

    static func dataId(_ visit: Int, _ detector: Int) -> DataId {
        ["instrument": "Cam", "visit": .int(Int64(visit)), "detector": .int(Int64(detector))]
    }

    /// daf_butler_bench.py's walk over the data IDs.
    static func cycle(_ index: Int) -> (Int, Int) {
        let slot = (index * 7919) % (visits * detectors)
        return (slot / detectors, slot % detectors)
    }

    /// Where the n-th cutout starts (bindings_bench.py uses the same).
    static func cutoutOrigin(_ index: Int) -> (Int, Int) { ((index * 613) % (side - 256), (index * 977) % (side - 256)) }

    func prepare() async throws {
        if butler != nil { return }
        let marker = root.deletingLastPathComponent().appendingPathComponent("complete")
        if !FileManager.default.fileExists(atPath: marker.path) {
            try? FileManager.default.removeItem(at: root.deletingLastPathComponent())
            try FileManager.default.createDirectory(at: root.deletingLastPathComponent(), withIntermediateDirectories: true)
            var config = RepositoryConfig.defaultConfig()
            config.datastore.formatters["calexp"] = .init(formatter: "FitsExposureFormatter", parameters: ["compression": "gzip"])
            try await Butler.createRepository(at: root, config: config)
            let writer = try await Butler(repository: root, run: "bench")
            try await writer.insertDimensionRecords("instrument", [["name": "Cam"]])
            try await writer.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
            try await writer.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
            try await writer.insertDimensionRecords("detector", (0..<Self.detectors).map { ["instrument": "Cam", "id": .int(Int64($0))] })
            try await writer.insertDimensionRecords(
                "visit",
                (0..<Self.visits).map { ["instrument": "Cam", "id": .int(Int64($0)), "physical_filter": "Cam-r", "day_obs": 20261122] })
            try await writer.registerDatasetType("metrics", dimensions: ["visit", "detector"], storageClass: "StructuredDataDict")
            try await writer.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
            var datasets: [DatasetToPut] = []
            for visit in 0..<Self.visits {
                for detector in 0..<Self.detectors {
                    let payload: [String: JSONValue] = [
                        "background": .double(1000.5 + Double(visit)), "noise": 31.6, "nSaturated": .double(Double(detector)),
                        "psfFwhm": 0.71,
                    ]
                    datasets.append(DatasetToPut(payload, "metrics", dataId: Self.dataId(visit, detector)))
                }
            }
            try await writer.put(contentsOf: datasets)
            let box = Box2I(min: Point2I(0, 0), extent: Extent2I(Self.side, Self.side))
            var masked = MaskedImage<Float>(bbox: box)
            for index in 0..<(Self.side * Self.side) { masked.image.pixels[index] = Float(1000 + index % 997) }
            let wcs = Wcs(crpix: Point2D(2048, 2048), crval: SpherePoint(ra: 150, dec: 2), cd: [[-5.5e-5, 0], [0, 5.5e-5]])
            try await writer.put(Exposure(maskedImage: masked, wcs: wcs), "calexp", dataId: Self.dataId(0, 0))
            try await writer.close()
            try Data().write(to: marker)
        }
        let butler = try await Butler(repository: root, collections: ["bench"], writeable: false)
        _ = try await butler.get("calexp.wcs", dataId: Self.dataId(0, 0))
        self.butler = butler
    }
}
