package import Butler
package import Composites
package import Formatters
package import Foundation
import Testing

/// A datastore configuration the conformance suite runs against, and how a test reaches its
/// artifacts behind the datastore's back (to delete or damage one). Every storage backend and
/// kind of datastore adds a case here and so runs the whole suite.
package struct DatastoreBackend: Sendable, CustomStringConvertible {
    /// The name shown in test results.
    package let name: String
    /// Edits a new repository's configuration to use this datastore.
    package let configure: @Sendable (inout RepositoryConfig, URL) -> Void
    /// Deletes the artifact at a URL the datastore reported.
    package let delete: @Sendable (URL) throws -> Void
    /// Replaces the bytes of the artifact at a URL the datastore reported.
    package let overwrite: @Sendable (URL, Data) throws -> Void
    /// Every artifact under the repository's storage (hidden staging names included).
    package let list: @Sendable (URL) throws -> [String]
    /// The ingest transfer modes the storage supports (the others are refused).
    package var transferModes: [TransferMode] = TransferMode.allCases

    package var description: String { name }

    /// Files under the repository root (the default datastore).
    package static let posix = DatastoreBackend(
        name: "posix",
        configure: { _, _ in },
        delete: { try FileManager.default.removeItem(at: $0) },
        overwrite: { url, data in try data.write(to: url) },
        list: { root in
            let enumerator = FileManager.default.enumerator(atPath: root.path)
            var files: [String] = []
            while let path = enumerator?.nextObject() as? String {
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path, isDirectory: &isDirectory)
                if exists && !isDirectory.boolValue && !path.hasPrefix("gen3.sqlite3") && path != "butler.yaml" { files.append(path) }
            }
            return files.sorted()
        })

    /// The S3-protocol server of this run (`BUTLER_TEST_S3_ENDPOINT` and its keys, started by
    /// the test command), nil without one.
    package static let s3Server: (endpoint: String, credentials: AWSCredentials)? = {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["BUTLER_TEST_S3_ENDPOINT"], let access = environment["BUTLER_TEST_S3_ACCESS_KEY"],
            let secret = environment["BUTLER_TEST_S3_SECRET_KEY"]
        else { return nil }
        return (endpoint, AWSCredentials(accessKeyId: access, secretAccessKey: secret))
    }()

    /// A bucket of this test process on the S3 server, created on first use.
    package static let s3Bucket: String? = {
        guard let server = s3Server else { return nil }
        let bucket = "butler-test-\(UUID().uuidString.prefix(8).lowercased())"
        try? s3Client(bucket: bucket, server: server).createBucket()
        return bucket
    }()

    /// A client of the test server's bucket.
    package static func s3Client(bucket: String, server: (endpoint: String, credentials: AWSCredentials)) throws -> S3Client {
        S3Client(
            settings: try S3Settings(
                bucket: bucket, prefix: "", endpoint: URL(string: server.endpoint), region: "us-east-1", credentials: server.credentials))
    }

    /// A shared credentials file naming the test server's keys as profile `butler-test`, so
    /// that repositories find their credentials as users' do.
    package static let s3CredentialsFile: String? = {
        guard let server = s3Server else { return nil }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("butler-test-credentials-\(UUID().uuidString)").path
        let text =
            "[butler-test]\naws_access_key_id = \(server.credentials.accessKeyId)\naws_secret_access_key = \(server.credentials.secretAccessKey)\n"
        _ = FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }()

    /// Objects in an S3 bucket of the test server under a prefix named after the repository's
    /// directory, a cache inside that directory.
    package static let s3 = DatastoreBackend(
        name: "s3",
        configure: { config, directory in
            config.datastore.root = "s3://\(s3Bucket!)/\(directory.lastPathComponent)"
            var options = RepositoryConfig.S3Options(endpoint: s3Server!.endpoint, profile: "butler-test")
            options.credentialsFile = s3CredentialsFile
            config.datastore.s3 = options
            config.datastore.cache = RepositoryConfig.CacheOptions(directory: directory.appendingPathComponent("cache").path)
        },
        delete: { url in try s3Client(bucket: url.host!, server: s3Server!).delete(String(url.path.dropFirst())) },
        overwrite: { url, data in try s3Client(bucket: url.host!, server: s3Server!).put(String(url.path.dropFirst()), data: data) },
        list: { directory in
            try s3Client(bucket: s3Bucket!, server: s3Server!).list(prefix: directory.lastPathComponent + "/").map {
                String($0.key.dropFirst(directory.lastPathComponent.count + 1))
            }
        },
        transferModes: [.copy, .move, .direct])

    /// A chain of two POSIX members splitting the work by storage class: exposures in HDF5 under
    /// `images/`, everything else under `other/` (disjoint, so each dataset has one artifact as
    /// the suite expects; `ChainedDatastoreTests` covers datasets written to several).
    package static let chained = DatastoreBackend(
        name: "chained",
        configure: { config, _ in
            config.datastore.chain = [
                .init(
                    name: "images", root: "images", constraints: .init(accept: ["ExposureF"]),
                    formatters: ["ExposureF": .init(formatter: "HDF5ExposureFormatter")]),
                .init(name: "other", root: "other", constraints: .init(reject: ["ExposureF"])),
            ]
        },
        delete: posix.delete, overwrite: posix.overwrite, list: posix.list)

    /// The datastores available in this run.
    package static var available: [DatastoreBackend] { s3Server == nil ? [.posix, .chained] : [.posix, .chained, .s3] }
}

/// One run of the conformance suite: a datastore on a registry engine.
package struct DatastoreCase: Sendable, CustomStringConvertible {
    /// The registry engine.
    package let registry: Backend
    /// The datastore.
    package let datastore: DatastoreBackend

    package var description: String { "\(datastore) on \(registry)" }

    /// Every datastore on every registry engine available in this run.
    package static var all: [DatastoreCase] {
        Backend.available.flatMap { registry in DatastoreBackend.available.map { DatastoreCase(registry: registry, datastore: $0) } }
    }
}

/// The datastore conformance suite, written once (DESIGN §6.10): what every `Datastore` must
/// do, checked through the public API and, where the API cannot reach, through the datastore
/// seam itself. A test target runs each check for every ``DatastoreCase``.
package struct DatastoreConformance: Sendable {
    let testCase: DatastoreCase

    /// The suite for one case.
    package init(_ testCase: DatastoreCase) { self.testCase = testCase }

    /// A repository with a small instrument, the case's datastore, and `edit` applied.
    package func makeButler(
        formatters: FormatterRegistry = FormatterRegistry(), edit: @escaping (inout RepositoryConfig) -> Void = { _ in }
    ) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        let datastore = testCase.datastore
        try await TestRepository.create(in: directory.url, backend: testCase.registry) { config in
            datastore.configure(&config, directory.url)
            edit(&config)
        }
        let butler = try await Butler(repository: directory.url, run: "run/a", formatters: formatters)
        try await TestRepository.insertInstrument(butler)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType("plot", dimensions: ["visit"], storageClass: "Bytes")
        try await butler.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        try await butler.registerDatasetType("calexpSplit", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        return (butler, directory)
    }

    private func makeSplitButler() async throws -> (Butler, TemporaryDirectory) {
        try await makeButler { $0.datastore.disassembled = ["calexpSplit"] }
    }

    /// A small calexp with every component.
    package static func calexp() throws -> Exposure<Float> {
        var masked = MaskedImage<Float>(bbox: Box2I(min: Point2I(5, 7), extent: Extent2I(24, 16)))
        for index in masked.image.pixels.indices {
            masked.image.pixels[index] = Float(index % 97) * 0.5
            masked.variance.pixels[index] = 2
            masked.mask.image.pixels[index] = index % 13 == 0 ? 1 : 0
        }
        let wcs = Wcs(crpix: Point2D(12, 8), crval: SpherePoint(ra: 150, dec: 2), cd: [[-5.5e-5, 0], [0, 5.5e-5]])
        return Exposure(
            maskedImage: masked, wcs: wcs, psf: .gaussian(sigma: 1.5, width: 11, height: 11),
            photoCalib: PhotoCalib(calibrationMean: 0.5, calibrationErr: 0.01), visitInfo: VisitInfo(exposureTime: 30, instrument: "HSC"))
    }

    // MARK: Checks

    /// Every kind of value comes back equal; records carry size and checksum; exists is true.
    package func roundTrip() async throws {
        let (butler, directory) = try await makeSplitButler()
        defer { _ = directory }
        let metrics = try await butler.put(["seeing": JSONValue.double(0.7)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let bytes = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7) })
        let plot = try await butler.put(bytes, "plot", dataId: ["instrument": "HSC", "visit": 1])
        let exposure = try Self.calexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let whole = try await butler.put(exposure, "calexp", dataId: dataId)
        let split = try await butler.put(exposure, "calexpSplit", dataId: dataId)
        #expect(try await butler.get(metrics, as: [String: Double].self) == ["seeing": 0.7])
        #expect(try await butler.get(plot, as: Data.self) == bytes)
        #expect(try await butler.get(whole, as: ExposureF.self) == exposure)
        #expect(try await butler.get(split, as: ExposureF.self) == exposure)
        for ref in [metrics, plot, whole, split] {
            #expect(try await butler.exists(ref), "\(ref)")
            let records = try await butler.artifactRecords(ref)
            #expect(!records.isEmpty && records.allSatisfy { $0.fileSize > 0 && $0.checksum?.hasPrefix("crc32c:") == true }, "\(records)")
        }
        #expect(try await butler.artifactRecords(plot)[0].fileSize == Int64(bytes.count))
        #expect(Set(try await butler.artifactRecords(split).map(\.component)).isSuperset(of: ["image", "mask", "variance", "wcs", "psf"]))
        try await butler.close()
    }

    /// Components and derived components read alone, single-file and disassembled; cutouts
    /// read only their box.
    package func components() async throws {
        let (butler, directory) = try await makeSplitButler()
        defer { _ = directory }
        let exposure = try Self.calexp()
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        for type in ["calexp", "calexpSplit"] {
            let ref = try await butler.put(exposure, type, dataId: dataId)
            #expect(try await butler.get(ref, component: "wcs", as: Wcs.self) == exposure.wcs, "\(type)")
            #expect(try await butler.get(ref, component: "psf", as: Psf.self) == exposure.psf, "\(type)")
            #expect(try await butler.get(ref, component: "bbox", as: Box2I.self) == exposure.bbox, "\(type)")
            #expect(try await butler.get(ref, component: "maskedImage", as: MaskedImage<Float>.self) == exposure.maskedImage, "\(type)")
            let box = Box2I(x0: 8, y0: 9, x1: 20, y1: 15)
            #expect(
                try await butler.get(ref, parameters: ["bbox": ImageParameters.value(box)], as: ExposureF.self)
                    == (try exposure.subimage(box)))
        }
        try await butler.close()
    }

    /// A write that fails in the formatter or in the registry leaves no artifact and no row.
    package func failedWritesLeaveNothing() async throws {
        let formatters = FormatterRegistry()
        formatters.register(FailingFormatter())
        let (butler, directory) = try await makeButler(formatters: formatters) { config in
            config.datastore.formatters["fragile"] = .init(formatter: FailingFormatter.formatterName)
        }
        try await butler.registerDatasetType("fragile", dimensions: ["visit"], storageClass: "StructuredDataDict")
        let failed = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "fragile", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect(failed?.code == .storageFailure && "\(failed!)".contains("fragile@{instrument: HSC, visit: 1}"))
        #expect(try testCase.datastore.list(directory.url).isEmpty)
        try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let before = try testCase.datastore.list(directory.url)
        let refused = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(2)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect(refused?.code == .conflict)
        #expect(try testCase.datastore.list(directory.url) == before)
        #expect(try await butler.queryDatasets(["fragile"], collections: ["run/a"]).isEmpty)
        try await butler.close()
    }

    /// A missing artifact and a corrupt one are told apart, and each names the dataset.
    package func missingAndCorruptArtifacts() async throws {
        let (butler, directory) = try await makeButler()
        defer { _ = directory }
        let dataId: DataId = ["instrument": "HSC", "visit": 1, "detector": 2]
        let gone = try await butler.put(try Self.calexp(), "calexp", dataId: dataId)
        try testCase.datastore.delete(try await butler.artifactURLs(gone)[0])
        #expect(try await butler.exists(gone) == false)
        let missing = await #expect(throws: ButlerError.self) { try await butler.get(gone) }
        #expect(missing?.code == .missingArtifact && "\(missing!)".contains("calexp@"))
        let damaged = try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 2])
        try testCase.datastore.overwrite(try await butler.artifactURLs(damaged)[0], Data("{not json".utf8))
        let corrupt = await #expect(throws: ButlerError.self) { try await butler.get(damaged) }
        #expect(corrupt?.code == .corruptArtifact && "\(corrupt!)".contains("metrics@"))
        // Found by the formatter, or before it by the checksum a remote read verifies.
        #expect(corrupt?.cause is FormatterError || "\(corrupt!)".contains("checksum"))
        try await butler.close()
    }

    /// Removal is two-phase: unstoring deletes artifacts no other dataset uses and keeps the
    /// registry entry; shared component artifacts stay while any dataset names them.
    package func trash() async throws {
        let (butler, directory) = try await makeSplitButler()
        let exposure = try Self.calexp()
        let first = try await butler.put(exposure, "calexpSplit", dataId: ["instrument": "HSC", "visit": 1, "detector": 1])
        let second = try await butler.put(exposure, "calexpSplit", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let shared = Set(try await butler.artifactRecords(first).map(\.path)).intersection(
            try await butler.artifactRecords(second).map(\.path))
        #expect(!shared.isEmpty, "identical component artifacts are stored once")
        try await butler.pruneDatasets([first], unstore: true)
        #expect(try await butler.artifactRecords(first).isEmpty)
        #expect(try await butler.dataset(id: first.id) != nil)
        #expect(try await butler.get(second, as: ExposureF.self) == exposure)
        try await butler.pruneDatasets([second], purge: true)
        #expect(try testCase.datastore.list(directory.url).isEmpty)
        try await butler.close()
    }

    /// Retrieved artifacts hold the stored bytes, under their recorded paths or flat.
    package func retrieve() async throws {
        let (butler, directory) = try await makeButler()
        defer { _ = directory }
        let bytes = Data("retrieved".utf8)
        let ref = try await butler.put(bytes, "plot", dataId: ["instrument": "HSC", "visit": 1])
        let target = try TemporaryDirectory()
        let written = try await butler.retrieveArtifacts([ref], destination: target.url, preservePath: false)
        #expect(written.count == 1)
        #expect(try Data(contentsOf: written[0]) == bytes)
        await #expect(throws: ButlerError.self) { try await butler.retrieveArtifacts([ref], destination: target.url, preservePath: false) }
        #expect(try await butler.retrieveArtifacts([ref], destination: target.url, preservePath: false, overwrite: true) == written)
        try await butler.close()
    }

    /// Ingest in every transfer mode: nothing the user owns changes unless asked (a move
    /// removes its source once registered; copy stores a real copy of a symbolic link's
    /// target).
    package func ingest() async throws {
        let (butler, directory) = try await makeButler()
        defer { _ = directory }
        let outside = try TemporaryDirectory()
        for (index, mode) in TransferMode.allCases.enumerated() {
            let file = outside.url.appendingPathComponent("plot\(index).png")
            try Data("png-\(mode.rawValue)".utf8).write(to: file)
            guard testCase.datastore.transferModes.contains(mode) else {
                let before = try testCase.datastore.list(directory.url)
                let refused = await #expect(throws: ButlerError.self) {
                    try await butler.ingest(
                        [FileToIngest(url: file, dataId: ["instrument": "HSC", "visit": 1])], datasetType: "plot",
                        run: "ingest/\(mode.rawValue)",
                        transfer: mode)
                }
                #expect(refused?.code == .invalidArgument && "\(refused!)".contains(file.path), "\(mode)")
                #expect(try testCase.datastore.list(directory.url) == before && FileManager.default.fileExists(atPath: file.path))
                continue
            }
            let ref = try await butler.ingest(
                [FileToIngest(url: file, dataId: ["instrument": "HSC", "visit": .int(Int64(index % 3 + 1))])],
                datasetType: "plot", run: "ingest/\(mode.rawValue)", transfer: mode)[0]
            #expect(try await butler.get(ref, as: String.self) == "png-\(mode.rawValue)", "\(mode)")
            #expect(FileManager.default.fileExists(atPath: file.path) == (mode != .move), "\(mode)")
        }
        let target = outside.url.appendingPathComponent("target.png")
        try Data("linked".utf8).write(to: target)
        let link = outside.url.appendingPathComponent("link.png")
        try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: "target.png")
        let copied = try await butler.ingest(
            [FileToIngest(url: link, dataId: ["instrument": "HSC", "visit": 1])], datasetType: "plot", run: "ingest/link")
        try FileManager.default.removeItem(at: target)
        #expect(try await butler.get(copied[0], as: String.self) == "linked")
        try await butler.close()
    }

    /// The seam itself: records trashed and imported again make the dataset readable again;
    /// a record naming no artifact is refused on import.
    package func importRecords() async throws {
        let (butler, directory) = try await makeButler()
        defer { _ = directory }
        let ref = try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let records = try await butler.artifactRecords(ref)
        try await butler.withDatastore { datastore, session in try datastore.trash(session, datasetIds: [ref.id]) }
        #expect(try await butler.artifactRecords(ref).isEmpty)
        try await butler.withDatastore { datastore, session in try datastore.importRecords(session, records) }
        #expect(try await butler.get(ref, as: [String: Int].self) == ["a": 1])
        let ghost = StoredFileInfo(
            datasetId: ref.id, component: "ghost", path: "nowhere/ghost.json", formatter: "JSONFormatter",
            storageClass: "StructuredDataDict", fileSize: 1, checksum: nil)
        let refused = await #expect(throws: ButlerError.self) {
            try await butler.withDatastore { datastore, session in try datastore.importRecords(session, [ghost]) }
        }
        #expect(refused?.code == .missingArtifact && "\(refused!)".contains("nowhere/ghost.json"))
        try await butler.close()
    }
}

/// A formatter that writes some bytes and then fails, to prove nothing is left behind.
package struct FailingFormatter: FileFormatter {
    /// The name to configure it under.
    package static let formatterName = "HalfWritingFormatter"
    package init() {}
    package var name: String { Self.formatterName }
    package var defaultExtension: String { ".json" }
    package var readableExtensions: [String] { [] }
    package func write(_ value: any Sendable, storageClass: StorageClass, to url: URL) throws {
        try Data("{\"partial\": ".utf8).write(to: url)
        throw FormatterError(formatter: name, path: url.path, operation: "write", reason: "disk on fire")
    }
    package func read(from url: URL, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        throw FormatterError(formatter: name, path: url.path, operation: "read", reason: "never written")
    }
}
