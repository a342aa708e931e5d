// Image reads: a 4096² float32 Exposure, full and 256² cutout, for FITS uncompressed, FITS
// GZIP tiles and HDF5 chunks — through the Butler, through the formatter alone, and with bare
// cfitsio/HDF5 calls (the physical limit) — and cutout time against image size.
import BareIO
import Benchmark
import Butler
import Composites
import Formatters
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        timeUnits: .microseconds,
        warmupIterations: 2,
        maxDuration: .seconds(2),
        maxIterations: 500)

    let cutout = Box2I(min: Point2I(1900, 1700), extent: Extent2I(256, 256))
    for kind in ImageFiles.Kind.allCases {
        Benchmark("4k full: butler get (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await ImageFiles.shared.butlerGet(kind, bbox: nil))
            }
        }
        Benchmark("4k full: formatter (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ImageFiles.shared.formatterRead(kind, size: 4096, bbox: nil))
            }
        }
        Benchmark("4k full: bare C (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ImageFiles.shared.bareRead(kind, size: 4096, bbox: nil))
            }
        }
        Benchmark("4k cutout 256²: butler get (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await ImageFiles.shared.butlerGet(kind, bbox: cutout))
            }
        }
        Benchmark("4k cutout 256²: formatter (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ImageFiles.shared.formatterRead(kind, size: 4096, bbox: cutout))
            }
        }
        Benchmark("4k cutout 256²: bare C (\(kind.rawValue))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
            benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ImageFiles.shared.bareRead(kind, size: 4096, bbox: cutout))
            }
        }
        for size in ImageFiles.sizes where size != 4096 {
            let box = Box2I(min: Point2I(size / 2 - 128 + 3, size / 2 - 128 + 5), extent: Extent2I(256, 256))
            Benchmark(
                "\(size / 1024)k cutout 256²: formatter (\(kind.rawValue))",
                configuration: .init(setup: { try await ImageFiles.shared.prepare() })
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try ImageFiles.shared.formatterRead(kind, size: size, bbox: box))
                }
            }
            Benchmark(
                "\(size / 1024)k cutout 256²: bare C (\(kind.rawValue))",
                configuration: .init(setup: { try await ImageFiles.shared.prepare() })
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try ImageFiles.shared.bareRead(kind, size: size, bbox: box))
                }
            }
        }
    }
    for (label, datasetType) in [("single-file FITS", ImageFiles.Kind.fitsNone.datasetType), ("disassembled", ImageFiles.splitType)] {
        for component in ["wcs", "bbox"] {
            Benchmark(
                "4k component \(component): butler get (\(label))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try await ImageFiles.shared.butler!.get("\(datasetType).\(component)", dataId: ImageFiles.dataId))
                }
            }
        }
    }
    // The limit of a component read: open the file and read the header keywords it needs.
    for size in ImageFiles.sizes {
        Benchmark(
            "\(size / 1024)k component limit: bare C header keys (single-file FITS)",
            configuration: .init(setup: { try await ImageFiles.shared.prepare() })
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try ImageFiles.bareKeys(ImageFiles.shared.path(.fitsNone, size: size)))
            }
        }
    }
    Benchmark(
        "4k component limit: read(2) of the wcs artifact (disassembled)",
        configuration: .init(setup: { try await ImageFiles.shared.prepare() })
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ImageFiles.shared.readBytes(path: ImageFiles.shared.splitArtifacts["wcs"]!))
        }
    }
    Benchmark(
        "4k component limit: bare C header keys of the image artifact (disassembled)",
        configuration: .init(setup: { try await ImageFiles.shared.prepare() })
    ) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try ImageFiles.bareKeys(ImageFiles.shared.splitArtifacts["image"]!))
        }
    }
    // Components of the compressed FITS and HDF5 files, against the same kind of limit.
    for (label, kind) in [("FITS GZIP tiles", ImageFiles.Kind.fitsGzip), ("HDF5 chunked", ImageFiles.Kind.hdf5)] {
        for component in ["wcs", "bbox"] {
            Benchmark(
                "4k component \(component): butler get (\(label))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })
            ) { benchmark in
                for _ in benchmark.scaledIterations {
                    blackHole(try await ImageFiles.shared.butler!.get("\(kind.datasetType).\(component)", dataId: ImageFiles.dataId))
                }
            }
        }
        Benchmark(
            "4k component limit: bare C header keys (\(label))", configuration: .init(setup: { try await ImageFiles.shared.prepare() })
        ) { benchmark in
            let path = ImageFiles.shared.path(kind, size: 4096)
            for _ in benchmark.scaledIterations {
                blackHole(kind == .hdf5 ? try ImageFiles.bareAttributes(path) : try ImageFiles.bareKeys(path))
            }
        }
    }
    for size in [1024, 8192] {
        Benchmark(
            "\(size / 1024)k component wcs: butler get (single-file FITS)",
            configuration: .init(setup: { try await ImageFiles.shared.prepare() })
        ) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(try await ImageFiles.shared.butler!.get("calexp_\(size).wcs", dataId: ImageFiles.dataId))
            }
        }
    }
    Benchmark("4k full: butler get (disassembled)", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try await ImageFiles.shared.butler!.get(ImageFiles.splitType, dataId: ImageFiles.dataId))
        }
    }
    Benchmark("4k cutout 256²: butler get (disassembled)", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) {
        benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(
                try await ImageFiles.shared.butler!.get(
                    ImageFiles.splitType, dataId: ImageFiles.dataId, parameters: ["bbox": ImageParameters.value(cutout)]))
        }
    }
    Benchmark("4k file bytes: read(2) (fits-none)", configuration: .init(setup: { try await ImageFiles.shared.prepare() })) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(ImageFiles.shared.readBytes(.fitsNone, size: 4096))
        }
    }
    // Issue 14: the artifact checksum chosen by measurement — each reads the 192 MiB file once.
    for algorithm in [ChecksumAlgorithm.crc32c, .sha256] {
        Benchmark("4k checksum: \(algorithm.rawValue) (fits-none)", configuration: .init(setup: { try await ImageFiles.shared.prepare() }))
        {
            benchmark in
            let path = ImageFiles.shared.path(.fitsNone, size: 4096)
            for _ in benchmark.scaledIterations {
                blackHole(try algorithm.checksum(ofFileAt: path))
            }
        }
    }
}

/// Test images on disk, made once and reused by every benchmark process (they take a while).
final class ImageFiles: @unchecked Sendable {
    // The runner calls setup and measured closures one at a time, never concurrently.
    static let shared = ImageFiles()
    static let sizes = [1024, 4096, 8192]
    static let splitType = "calexp_split"
    static let dataId: DataId = ["instrument": "Cam", "visit": 1, "detector": 0]

    enum Kind: String, CaseIterable {
        case fitsNone = "fits-none"
        case fitsGzip = "fits-gzip"
        case hdf5 = "hdf5"

        var fileExtension: String { self == .hdf5 ? "h5" : "fits" }
        var datasetType: String { "calexp_" + rawValue.replacingOccurrences(of: "-", with: "_") }
    }

    let directory = URL(fileURLWithPath: "/tmp/butler-bench-images-v5")
    var butler: Butler?
    var refs: [Kind: DatasetRef] = [:]
    /// The disassembled exposure's artifacts by component.
    var splitArtifacts: [String: String] = [:]
    var buffer = [CChar](repeating: 0, count: 1 << 28)

    func path(_ kind: Kind, size: Int) -> String {
        directory.appendingPathComponent("exposure-\(size)-\(kind.rawValue).\(kind.fileExtension)").path
    }

    func prepare() async throws {
        if butler != nil { return }
        let marker = directory.appendingPathComponent("complete")
        if !FileManager.default.fileExists(atPath: marker.path) {
            try? FileManager.default.removeItem(at: directory)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for size in Self.sizes {
                let exposure = try Self.makeExposure(size: size)
                try ExposureFITS.write(exposure, to: path(.fitsNone, size: size), compression: .none)
                try ExposureFITS.write(exposure, to: path(.fitsGzip, size: size), compression: FITSCompression(.gzip))
                try ExposureHDF5.write(exposure, to: path(.hdf5, size: size), layout: HDF5Layout())
            }
            let repo = directory.appendingPathComponent("repo")
            var config = RepositoryConfig.defaultConfig()
            config.datastore.formatters[Kind.fitsGzip.datasetType] = .init(
                formatter: "FitsExposureFormatter", parameters: ["compression": "gzip"])
            config.datastore.formatters[Kind.hdf5.datasetType] = .init(formatter: "HDF5ExposureFormatter")
            config.datastore.disassembled = [Self.splitType]
            try await Butler.createRepository(at: repo, config: config)
            let writer = try await Butler(repository: repo, run: "bench")
            try await writer.insertDimensionRecords("instrument", [["name": "Cam"]])
            try await writer.insertDimensionRecords("physical_filter", [["instrument": "Cam", "name": "Cam-r", "band": "r"]])
            try await writer.insertDimensionRecords("day_obs", [["instrument": "Cam", "id": 20261122]])
            try await writer.insertDimensionRecords("detector", [["instrument": "Cam", "id": 0]])
            try await writer.insertDimensionRecords(
                "visit", [["instrument": "Cam", "id": 1, "physical_filter": "Cam-r", "day_obs": 20261122]])
            let exposure = try ExposureFITS.read(Float.self, from: path(.fitsNone, size: 4096))
            for kind in Kind.allCases {
                try await writer.registerDatasetType(kind.datasetType, dimensions: ["visit", "detector"], storageClass: "ExposureF")
                try await writer.put(exposure, kind.datasetType, dataId: Self.dataId)
            }
            try await writer.registerDatasetType(Self.splitType, dimensions: ["visit", "detector"], storageClass: "ExposureF")
            try await writer.put(exposure, Self.splitType, dataId: Self.dataId)
            // The same exposure at other sizes: a component get must not grow with the image.
            for size in [1024, 8192] {
                try await writer.registerDatasetType("calexp_\(size)", dimensions: ["visit", "detector"], storageClass: "ExposureF")
                try await writer.put(
                    try ExposureFITS.read(Float.self, from: path(.fitsNone, size: size)), "calexp_\(size)", dataId: Self.dataId)
            }
            try await writer.close()
            try Data().write(to: marker)
        }
        let butler = try await Butler(repository: directory.appendingPathComponent("repo"), collections: ["bench"], writeable: false)
        // Keep the first-touch cost of pages out of the measurements.
        _ = try await butler.get(Self.splitType, dataId: Self.dataId)
        for kind in Kind.allCases {
            refs[kind] = try await butler.findDataset(kind.datasetType, dataId: ["instrument": "Cam", "visit": 1, "detector": 0])
        }
        let split = try await butler.findDataset(Self.splitType, dataId: Self.dataId)!
        for (record, url) in zip(try await butler.artifactRecords(split), try await butler.artifactURLs(split)) {
            splitArtifacts[record.component] = url.path
        }
        self.butler = butler
    }

    static func makeExposure(size: Int) throws -> Exposure<Float> {
        let box = Box2I(min: Point2I(0, 0), extent: Extent2I(size, size))
        var masked = MaskedImage<Float>(bbox: box)
        var state: UInt32 = 12345
        for index in 0..<(size * size) {
            state = state &* 1_664_525 &+ 1_013_904_223
            let noise = Float(state >> 20) / 4096 - 0.5
            masked.image.pixels[index] = 1000 + 31.6 * noise
            masked.variance.pixels[index] = 1000
            masked.mask.image.pixels[index] = state & 0xFFF == 0 ? 1 : 0
        }
        let wcs = Wcs(
            crpix: Point2D(Double(size) / 2, Double(size) / 2), crval: SpherePoint(ra: 150, dec: 2),
            cd: [[-5.5e-5, 0], [0, 5.5e-5]])
        return Exposure(
            maskedImage: masked, wcs: wcs, psf: .gaussian(sigma: 1.7, width: 25, height: 25),
            photoCalib: PhotoCalib(calibrationMean: 0.5), visitInfo: VisitInfo(exposureTime: 30))
    }

    func butlerGet(_ kind: Kind, bbox: Box2I?) async throws -> any Sendable {
        let parameters: ReadParameters = bbox.map { ["bbox": ImageParameters.value($0)] } ?? [:]
        return try await butler!.get(refs[kind]!, parameters: parameters)
    }

    func formatterRead(_ kind: Kind, size: Int, bbox: Box2I?) throws -> Exposure<Float> {
        switch kind {
        case .fitsNone, .fitsGzip: return try ExposureFITS.read(Float.self, from: path(kind, size: size), bbox: bbox)
        case .hdf5: return try ExposureHDF5.read(Float.self, from: path(kind, size: size), bbox: bbox)
        }
    }

    func bareRead(_ kind: Kind, size: Int, bbox: Box2I?) throws -> Int {
        let box = bbox ?? Box2I(min: Point2I(0, 0), extent: Extent2I(size, size))
        // Fresh, unzeroed planes, as the readers use: the limit is the bytes landing in new memory.
        let image = UnsafeMutablePointer<Float>.allocate(capacity: box.area)
        let mask = UnsafeMutablePointer<Int32>.allocate(capacity: box.area)
        let variance = UnsafeMutablePointer<Float>.allocate(capacity: box.area)
        defer {
            image.deallocate()
            mask.deallocate()
            variance.deallocate()
        }
        let status: Int32
        switch kind {
        case .fitsNone, .fitsGzip:
            status = bare_fits_read_planes(
                path(kind, size: size), box.min.x + 1, box.min.y + 1, box.max.x + 1, box.max.y + 1,
                image, mask, variance)
        case .hdf5:
            status = bare_h5_read_planes(path(kind, size: size), box.min.x, box.min.y, box.width, box.height, image, mask, variance)
        }
        guard status == 0 else { throw NSError(domain: "bare", code: Int(status)) }
        return Int(image[0].bitPattern) &+ Int(mask[0])
    }

    func readBytes(_ kind: Kind, size: Int) -> Int {
        readBytes(path: path(kind, size: size))
    }

    func readBytes(path: String) -> Int {
        bare_read_file(path, &buffer, buffer.count)
    }

    /// The keywords a WCS (TAN) and a bounding box are read from.
    static let componentKeys = [
        "CRPIX1", "CRPIX2", "CRVAL1", "CRVAL2", "CD1_1", "CD1_2", "CD2_1", "CD2_2",
        "NAXIS1", "NAXIS2", "LTV1", "LTV2",
    ]

    /// Reads the WCS and bounding-box attributes of an HDF5 exposure with bare HDF5 calls.
    static func bareAttributes(_ path: String) throws -> Double {
        var values = [Double](repeating: 0, count: 12)
        let status = bare_h5_read_component_keys(path, &values)
        guard status == 0 else { throw NSError(domain: "bare", code: Int(status)) }
        return values.reduce(0, +)
    }

    /// `componentKeys` as C strings, made once (immutable, so shared freely).
    nonisolated(unsafe) static let componentKeyNames: [UnsafePointer<CChar>?] = componentKeys.map { UnsafePointer(strdup($0)) }

    /// Reads `componentKeys` from the first image HDU of a FITS file with bare cfitsio calls.
    static func bareKeys(_ path: String) throws -> Double {
        var values = [Double](repeating: 0, count: componentKeys.count)
        let status = componentKeyNames.withUnsafeBufferPointer {
            bare_fits_read_image_keys(path, $0.baseAddress, Int32(componentKeys.count), &values)
        }
        guard status == 0 else { throw NSError(domain: "bare", code: Int(status)) }
        return values.reduce(0, +)
    }
}
