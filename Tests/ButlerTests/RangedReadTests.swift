import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@testable import Butler

/// Cutouts and header components of remote artifacts read by byte range (decision 53): the
/// values equal the in-memory ones, far fewer bytes come over the wire than the artifact
/// holds, only the headers enter the cache (a later read fetches pixels alone), a layout never
/// recorded is learned from FITS headers, and a cached artifact is read from the cache instead.
@Suite("Ranged reads of remote artifacts", .serialized)
struct RangedReadTests {
    /// The formats a cutout is read from: plain and tile-compressed FITS, chunked HDF5 (plain
    /// and deflated), and a single FITS image plane.
    static let formats: [(type: String, storageClass: String, choice: RepositoryConfig.FormatterChoice)] = [
        ("calexpPlain", "ExposureF", .init(formatter: "FitsExposureFormatter")),
        ("calexpTiled", "ExposureF", .init(formatter: "FitsExposureFormatter", parameters: ["compression": "gzip", "tile": [64, 64]])),
        ("calexpRows", "ExposureF", .init(formatter: "FitsExposureFormatter", parameters: ["compression": "gzip", "tile": [512, 1]])),
        ("calexpH5", "ExposureF", .init(formatter: "HDF5ExposureFormatter", parameters: ["chunk": [64, 64]])),
        ("calexpH5Deflated", "ExposureF", .init(formatter: "HDF5ExposureFormatter", parameters: ["chunk": [64, 64], "deflate": 4])),
        ("imagePlane", "ImageF", .init(formatter: "FitsImageFormatter", parameters: ["compression": "gzip", "tile": [128, 128]])),
    ]

    /// A 512 × 384 exposure whose pixels do not compress away.
    static func exposure() -> Exposure<Float> {
        var masked = MaskedImage<Float>(bbox: Box2I(min: Point2I(100, 200), extent: Extent2I(512, 384)))
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for index in masked.image.pixels.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            masked.image.pixels[index] = Float(state >> 40) / 1000
            masked.variance.pixels[index] = Float(index % 251) + 0.25
            masked.mask.image.pixels[index] = Int32(truncatingIfNeeded: state >> 60)
        }
        let wcs = Wcs(crpix: Point2D(256, 192), crval: SpherePoint(ra: 150, dec: 2), cd: [[-5.5e-5, 0], [0, 5.5e-5]])
        return Exposure(
            maskedImage: masked, wcs: wcs, psf: .gaussian(sigma: 1.5, width: 11, height: 11),
            photoCalib: PhotoCalib(calibrationMean: 0.5, calibrationErr: 0.01), visitInfo: VisitInfo(exposureTime: 30, instrument: "HSC"))
    }

    /// Where the reading Butler's artifacts are.
    enum Remote: String, CaseIterable, CustomStringConvertible {
        case s3, http
        var description: String { rawValue }
        var isAvailable: Bool { self == .s3 ? DatastoreBackend.s3Server != nil : HTTPServer.endpoint != nil }
    }

    static var cases: [(Backend, Remote)] {
        Backend.available.flatMap { backend in Remote.allCases.filter(\.isAvailable).map { (backend, $0) } }
    }

    /// A repository on `remote` holding the exposure of ``exposure()`` in each of `formats`,
    /// and a read-only Butler of it with a cache of its own (over HTTP its datastore root is
    /// the server's URL).
    struct Setup {
        let reader: Butler
        let refs: [String: DatasetRef]
        /// The writer's repository (the artifacts, over HTTP).
        let local: URL
        let cache: URL
        let directories: [TemporaryDirectory]
        let served: URL

        init(
            backend: Backend, remote: Remote, formats: [(type: String, storageClass: String, choice: RepositoryConfig.FormatterChoice)],
            recordLayouts: Bool = true
        ) async throws {
            let scratch = try TemporaryDirectory()
            served = remote == .http ? try HTTPServer.directory() : scratch.url
            let local = served.appendingPathComponent("repo")
            self.local = local
            try FileManager.default.createDirectory(at: local, withIntermediateDirectories: true)
            try await TestRepository.create(in: local, backend: backend) { config in
                if remote == .s3 { DatastoreBackend.s3.configure(&config, local) }
                for format in formats { config.datastore.formatters[format.type] = format.choice }
                if !recordLayouts { config.datastore.recordLayouts = false }
            }
            let writer = try await Butler(repository: local, run: "run/a")
            try await TestRepository.insertInstrument(writer)
            let exposure = RangedReadTests.exposure()
            let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
            var refs: [String: DatasetRef] = [:]
            for format in formats {
                try await writer.registerDatasetType(format.type, dimensions: ["visit", "detector"], storageClass: format.storageClass)
                let value: any Sendable = format.storageClass == "ImageF" ? exposure.image : exposure
                refs[format.type] = try await writer.put(value, format.type, dataId: dataId)
            }
            try await writer.close()
            self.refs = refs

            let client = try TemporaryDirectory()
            var config = try RepositoryConfig.load(root: local)
            if config.registry.db.hasPrefix("sqlite:///"), !config.registry.db.hasPrefix("sqlite:////") {
                config.registry.db = "sqlite:///" + local.appendingPathComponent(String(config.registry.db.dropFirst(10))).path
            }
            if remote == .http { config.datastore.root = HTTPServer.endpoint! + "/" + served.lastPathComponent + "/repo" }
            cache = client.url.appendingPathComponent("cache")
            config.datastore.cache = RepositoryConfig.CacheOptions(directory: cache.path)
            try config.write(root: client.url)
            reader = try await Butler(repository: client.url, collections: ["run/a"], writeable: false)
            directories = [scratch, client]
        }

        /// A read's value and the requests and bytes it cost.
        func fetched<R>(_ body: () async throws -> R) async throws -> (R, requests: Int, bytes: Int) {
            let before = reader.remoteTransferStatistics
            let value = try await body()
            let after = reader.remoteTransferStatistics
            return (value, after.requests - before.requests, after.bytesReceived - before.bytesReceived)
        }

        /// The cache's entries.
        var cached: [String] { (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("objects").path)) ?? [] }

        func remove() async {
            try? await reader.close()
            try? FileManager.default.removeItem(at: served)
        }
    }

    @Test("cutouts and header components fetch only their byte ranges and equal the in-memory values", arguments: cases)
    func rangedReads(backend: Backend, remote: Remote) async throws {
        let setup = try await Setup(backend: backend, remote: remote, formats: Self.formats)
        defer { Task { await setup.remove() } }
        let (reader, refs, local, cache) = (setup.reader, setup.refs, setup.local, setup.cache)
        let exposure = Self.exposure()
        let box = Box2I(min: Point2I(150, 260), extent: Extent2I(70, 50))
        let stamp = Box2I(min: Point2I(3, 4), extent: Extent2I(11, 11))
        for format in Self.formats {
            let ref = refs[format.type]!
            let size = try await reader.artifactRecords(ref)[0].fileSize
            if format.storageClass == "ImageF" {
                let (cut, requests, bytes) = try await setup.fetched {
                    try await reader.get(ref, parameters: ["bbox": ImageParameters.value(box)], as: Image<Float>.self)
                }
                #expect(cut == (try exposure.image.subimage(box)), "\(format.type)")
                #expect(requests >= 1 && bytes * 4 < size, "\(format.type): \(bytes) bytes in \(requests) requests of \(size)")
                continue
            }
            let (cut, requests, bytes) = try await setup.fetched {
                try await reader.get(ref, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
            }
            #expect(cut == (try exposure.subimage(box)), "\(format.type)")
            #expect(requests >= 1 && bytes * 4 < size, "\(format.type): \(bytes) bytes in \(requests) requests of \(size)")
            let local = try await reader.get(
                ref, parameters: ["bbox": ImageParameters.value(stamp), "origin": "local"], as: ExposureF.self)
            #expect(local == (try exposure.subimage(stamp, origin: .local)), "\(format.type)")
            let plane = try await reader.get(
                ref, component: "image", parameters: ["bbox": ImageParameters.value(box)], as: Image<Float>.self)
            #expect(plane == (try exposure.image.subimage(box)), "\(format.type)")
            for component in ["wcs", "psf", "photoCalib", "visitInfo", "bbox"] {
                let (value, componentRequests, _) = try await setup.fetched { try await reader.get(ref, component: component) }
                // The headers and tables came with the first cutout and were kept in the cache.
                #expect(componentRequests == 0, "\(format.type).\(component): \(componentRequests) requests")
                switch component {
                case "wcs": #expect(value as? Wcs == exposure.wcs)
                case "psf": #expect(value as? Psf == exposure.psf)
                case "photoCalib": #expect(value as? PhotoCalib == exposure.photoCalib)
                case "visitInfo": #expect(value as? VisitInfo == exposure.visitInfo)
                default: #expect(value as? Box2I == exposure.bbox)
                }
            }
            // A box outside the image is refused as locally, naming the dataset.
            let outside = Box2I(min: Point2I(0, 0), extent: Extent2I(5, 5))
            let (refusal, _, refusalBytes) = try await setup.fetched {
                await #expect(throws: ButlerError.self) { try await reader.get(ref, parameters: ["bbox": ImageParameters.value(outside)]) }
            }
            #expect(refusal?.code == .invalidParameter && "\(String(describing: refusal))".contains(format.type))
            #expect(refusalBytes == 0, "\(format.type): \(refusalBytes) bytes to refuse a box outside")
            // A second cutout fetches pixels only: fewer requests (S3) or bytes (HTTP).
            let (again, againRequests, againBytes) = try await setup.fetched {
                try await reader.get(ref, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
            }
            #expect(again == cut && againBytes < bytes && againRequests <= requests, "\(format.type): \(againRequests) requests")
        }
        // No artifact entered the cache, only the packs of headers; no range file was left.
        let cached = setup.cached
        #expect(cached.count == Self.formats.count && cached.allSatisfy { $0.hasSuffix(".ranges") }, "\(cached)")
        let staging = (try? FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("staging").path)) ?? []
        #expect(staging.isEmpty, "\(staging)")

        // Once an artifact is cached whole, its cutouts read the cached copy: no request.
        let tiled = refs["calexpTiled"]!
        #expect(try await reader.get(tiled, as: ExposureF.self) == exposure)
        let (cut, requests, _) = try await setup.fetched {
            try await reader.get(tiled, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
        }
        #expect(cut == (try exposure.subimage(box)) && requests == 0, "\(requests) requests for a cached artifact")

        // A missing artifact is told as such, naming the dataset and the URL.
        let plain = refs["calexpPlain"]!
        let path = try await reader.artifactRecords(plain)[0].path
        if remote == .http {
            try FileManager.default.removeItem(at: local.appendingPathComponent(path))
        } else {
            try DatastoreBackend.s3.delete(try await reader.artifactURLs(plain)[0])
        }
        let missing = await #expect(throws: ButlerError.self) {
            try await reader.get(plain, parameters: ["bbox": ImageParameters.value(box)])
        }
        let message = String(describing: missing)
        #expect(missing?.code == .missingArtifact && message.contains("calexpPlain") && message.contains(path), "\(message)")
    }

    @Test("with no layout recorded, FITS cutouts learn it from the headers; HDF5 is read whole", arguments: cases)
    func coldRangedReads(backend: Backend, remote: Remote) async throws {
        let formats = Self.formats.filter { ["calexpTiled", "imagePlane", "calexpH5"].contains($0.type) }
        let setup = try await Setup(backend: backend, remote: remote, formats: formats, recordLayouts: false)
        defer { Task { await setup.remove() } }
        let exposure = Self.exposure()
        let box = Box2I(min: Point2I(150, 260), extent: Extent2I(70, 50))
        for format in formats {
            let ref = setup.refs[format.type]!
            let size = try await setup.reader.artifactRecords(ref)[0].fileSize
            func cutout() async throws -> (Bool, requests: Int, bytes: Int) {
                let parameters: ReadParameters = ["bbox": ImageParameters.value(box)]
                if format.storageClass == "ImageF" {
                    let (cut, requests, bytes) = try await setup.fetched {
                        try await setup.reader.get(ref, parameters: parameters, as: Image<Float>.self)
                    }
                    return (cut == (try exposure.image.subimage(box)), requests, bytes)
                }
                let (cut, requests, bytes) = try await setup.fetched {
                    try await setup.reader.get(ref, parameters: parameters, as: ExposureF.self)
                }
                return (cut == (try exposure.subimage(box)), requests, bytes)
            }
            let (equal, requests, bytes) = try await cutout()
            #expect(equal, "\(format.type)")
            if format.type == "calexpH5" {
                // HDF5 keeps its chunk index where only the library can find it: read whole.
                #expect(bytes >= size && setup.cached.contains { $0.hasSuffix(".h5") }, "\(setup.cached)")
                continue
            }
            #expect(bytes * 4 < size, "\(format.type): \(bytes) bytes in \(requests) requests of \(size)")
            // One image: its first header block brings the tile table; then the tiles.
            if format.type == "imagePlane" { #expect(requests <= 3, "\(format.type): \(requests) requests") }
            // The learned layout was kept with the headers: the next cutout fetches tiles only.
            let (again, againRequests, againBytes) = try await cutout()
            #expect(again && againBytes < bytes && againRequests < requests, "\(format.type): \(againRequests) of \(requests) requests")
        }
        #expect(setup.cached.filter { $0.hasSuffix(".ranges") }.count == 2, "\(setup.cached)")
    }

    @Test("multi-range answers: multipart parts, merged neighbours, a whole body, a missing part refused")
    func multiRangeReplies() throws {
        let file = Data((0..<1000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        let asked: [Range<Int64>] = [10..<20, 30..<45, 900..<1000]
        let expected = asked.map { file.subdata(in: Int($0.lowerBound)..<Int($0.upperBound)) }
        func part(_ range: Range<Int64>) -> Data {
            Data(
                "--XYZ\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes \(range.lowerBound)-\(range.upperBound - 1)/1000\r\n\r\n"
                    .utf8)
                + file.subdata(in: Int(range.lowerBound)..<Int(range.upperBound)) + Data("\r\n".utf8)
        }
        let multipart = HTTPReply(
            status: 206, headers: ["content-type": "multipart/byteranges; boundary=XYZ"],
            body: asked.map(part).reduce(Data(), +) + Data("--XYZ--\r\n".utf8))
        #expect(try HTTPObjectReader.parts(of: multipart, asked: asked, url: "u").map(\.1) == expected)
        // A server may answer neighbours with one part covering both.
        let merged = HTTPReply(
            status: 206, headers: ["content-type": "multipart/byteranges; boundary=\"XYZ\""],
            body: part(10..<45) + part(900..<1000) + Data("--XYZ--\r\n".utf8))
        #expect(try HTTPObjectReader.parts(of: merged, asked: asked, url: "u").map(\.1) == expected)
        let single = HTTPReply(
            status: 206, headers: ["content-type": "application/octet-stream", "content-range": "bytes 10-999/1000"],
            body: file.subdata(in: 10..<1000))
        #expect(try HTTPObjectReader.parts(of: single, asked: asked, url: "u").map(\.1) == expected)
        let whole = HTTPReply(status: 200, headers: [:], body: file)
        #expect(try HTTPObjectReader.parts(of: whole, asked: asked, url: "u").map(\.1) == expected)
        let short = HTTPReply(
            status: 206, headers: ["content-type": "multipart/byteranges; boundary=XYZ"], body: part(10..<20) + Data("--XYZ--\r\n".utf8))
        #expect(throws: ButlerError.self) { try HTTPObjectReader.parts(of: short, asked: asked, url: "u") }
    }

    @Test("a layout maps boxes to the bytes of the rows, tiles and chunks they touch")
    func layoutRanges() throws {
        let directory = try TemporaryDirectory()
        let exposure = Self.exposure()
        let file = directory.url.appendingPathComponent("tiled.fits").path
        try ExposureFITS.write(exposure, to: file, compression: FITSCompression(.gzip, tile: Extent2I(64, 64)))
        let layout = try ByteLayout.fits(at: file)
        #expect(layout.planes.count == 3 && layout.planes.allSatisfy { $0.box == exposure.bbox })
        let metadata = try #require(layout.ranges(for: .metadata))
        let oneTile = try #require(layout.ranges(for: .box(Box2I(min: Point2I(100, 200), extent: Extent2I(10, 10)), .parent)))
        let total = { (ranges: [Range<Int64>]) in ranges.reduce(Int64(0)) { $0 + Int64($1.count) } }
        // One tile of each of three planes beyond the metadata, each at most its raw size.
        #expect(total(oneTile) > total(metadata) && total(oneTile) - total(metadata) <= 3 * 64 * 64 * 4 + 3 * 2880)
        #expect(layout.ranges(for: .box(Box2I(min: Point2I(0, 0), extent: Extent2I(10, 10)), .parent)) == nil)

        // The header walk (no layout recorded) finds the same metadata as cfitsio, plain or
        // tiled, and names the file when a header is damaged.
        let plain = directory.url.appendingPathComponent("plain.fits").path
        try ExposureFITS.write(exposure, to: plain)
        for path in [file, plain] {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            let walked = try FitsExposureFormatter().metadataRanges(fileSize: Int64(bytes.count), path: path) { range in
                [UInt8](bytes[Int(range.lowerBound)..<Int(range.upperBound)])
            }
            let cfitsio = try ByteLayout.fits(at: path).ranges(for: .metadata)
            #expect(ByteLayout.coalesce(try #require(walked), gap: 0) == cfitsio, "\(path): \(walked!) \(cfitsio!)")
            var damaged = bytes
            damaged.replaceSubrange(2880..<2888, with: Data("GARBAGE ".utf8))
            #expect(throws: FITSError.self) {
                try FitsExposureFormatter().metadataRanges(fileSize: Int64(damaged.count), path: path) { range in
                    [UInt8](damaged[Int(range.lowerBound)..<Int(range.upperBound)])
                }
            }
        }

        let h5 = directory.url.appendingPathComponent("chunked.h5").path
        try ExposureHDF5.write(exposure, to: h5, layout: HDF5Layout(chunk: Extent2I(64, 64)))
        let h5Layout = try ExposureHDF5.byteLayout(of: h5)
        #expect(h5Layout.planes.map(\.name) == ["/image", "/mask", "/variance"])
        // The metadata lies together (64 KiB metadata blocks): one range before the chunks.
        let h5Metadata = try #require(h5Layout.ranges(for: .metadata))
        #expect(h5Metadata.count == 1 && h5Metadata[0].lowerBound == 0, "\(h5Metadata)")
        if case .tiles(let width, let height, let chunks) = h5Layout.planes[0].storage {
            #expect(width == 64 && height == 64 && chunks.count == 8 * 6 && chunks.allSatisfy { $0.count == 2 && $0[1] == 64 * 64 * 4 })
        } else {
            Issue.record("chunked plane without tiles")
        }
        #expect(ByteLayout.coalesce([0..<10, 20..<30, 5..<12, 100..<101], gap: 8) == [0..<30, 100..<101])
    }
}
