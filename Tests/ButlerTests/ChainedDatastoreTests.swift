import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

@testable import Butler

#if canImport(Glibc)
import Glibc
#endif

/// Chained datastores: a put goes to every member that accepts it, a get reads from the first
/// that has the dataset, a removal removes from all, and the records say which member holds what.
@Suite("Chained datastores")
struct ChainedDatastoreTests {
    /// FITS for everything under `fits/`, and exposures again as HDF5 under `hdf5/`.
    static func fitsAndHDF5(_ config: inout RepositoryConfig) {
        config.datastore.chain = [
            .init(name: "fits", root: "fits"),
            .init(
                name: "hdf5", root: "hdf5", constraints: .init(accept: ["ExposureF"]),
                formatters: ["ExposureF": .init(formatter: "HDF5ExposureFormatter")]),
        ]
    }

    static func makeButler(_ backend: Backend, edit: (inout RepositoryConfig) -> Void) async throws -> (Butler, TemporaryDirectory) {
        let directory = try TemporaryDirectory()
        try await TestRepository.create(in: directory.url, backend: backend, edit: edit)
        let butler = try await Butler(repository: directory.url, run: "run/a")
        try await TestRepository.insertInstrument(butler)
        try await butler.registerDatasetType("metrics", dimensions: ["visit"], storageClass: "StructuredDataDict")
        try await butler.registerDatasetType("calexp", dimensions: ["visit", "detector"], storageClass: "ExposureF")
        return (butler, directory)
    }

    @Test(
        "one put writes FITS to one member and HDF5 to another; a get falls back when the first copy is gone; removal removes both",
        arguments: Backend.available)
    func fitsAndHDF5(backend: Backend) async throws {
        let (butler, directory) = try await Self.makeButler(backend, edit: Self.fitsAndHDF5)
        let exposure = try DatastoreConformance.calexp()
        let calexp = try await butler.put(exposure, "calexp", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let metrics = try await butler.put(["seeing": JSONValue.double(0.7)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        let records = try await butler.artifactRecords(calexp)
        #expect(Set(records.map(\.datastore)) == ["fits", "hdf5"], "\(records)")
        #expect(records.first { $0.datastore == "fits" }?.path.hasSuffix(".fits") == true)
        #expect(records.first { $0.datastore == "hdf5" }?.path.hasSuffix(".h5") == true)
        #expect(try await butler.artifactRecords(metrics).map(\.datastore) == ["fits"])
        let urls = try await butler.artifactURLs(calexp)
        #expect(urls.count == 2 && urls[0].path.contains("/fits/") && urls[1].path.contains("/hdf5/"), "\(urls)")
        #expect(try await butler.get(calexp, as: ExposureF.self) == exposure)
        let report = try await butler.verify()
        #expect(report.isClean && report.checked == 3, "\(report)")

        // The FITS copy lost: the HDF5 one answers, and verify names the member's storage.
        try FileManager.default.removeItem(at: urls[0])
        #expect(try await butler.exists(calexp))
        #expect(try await butler.get(calexp, as: ExposureF.self) == exposure)
        #expect(try await butler.get(calexp, component: "wcs", as: Wcs.self) == exposure.wcs)
        let damaged = try await butler.verify()
        #expect(
            damaged.missing.count == 1 && damaged.missing[0].path.hasPrefix(directory.url.appendingPathComponent("fits").path), "\(damaged)"
        )

        try await butler.pruneDatasets([calexp, metrics], purge: true)
        for member in ["fits", "hdf5"] {
            let left =
                FileManager.default.enumerator(atPath: directory.url.appendingPathComponent(member).path)?.allObjects as? [String] ?? []
            #expect(left.allSatisfy { !$0.contains(".") }, "\(member): \(left)")
        }
        try await butler.close()
    }

    @Test("a dataset no member accepts is refused naming its type; nested member roots are refused", arguments: Backend.available)
    func refusals(backend: Backend) async throws {
        let (butler, directory) = try await Self.makeButler(backend) { config in
            config.datastore.chain = [.init(name: "images", root: "images", constraints: .init(accept: ["ExposureF"]))]
        }
        let refused = await #expect(throws: ButlerError.self) {
            try await butler.put(["a": JSONValue.int(1)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        }
        #expect(refused?.code == .configuration && "\(refused!)".contains("metrics"), "\(refused!)")
        #expect(try await butler.queryDatasets(["metrics"], collections: ["run/a"]).isEmpty)
        try await butler.close()
        _ = directory

        let nested = try TemporaryDirectory()
        let error = await #expect(throws: ButlerError.self) {
            try await TestRepository.create(in: nested.url, backend: backend) { config in
                config.datastore.chain = [.init(name: "a", root: "data"), .init(name: "b", root: "data/more")]
            }
        }
        #expect(error?.code == .configuration && "\(error!)".contains("data/more"), "\(error!)")
    }

    @Test("intermediates on local disk, products on S3", .enabled(if: DatastoreBackend.s3Server != nil), arguments: Backend.available)
    func localAndS3(backend: Backend) async throws {
        let (butler, directory) = try await Self.makeButler(backend) { config in
            var s3 = RepositoryConfig.ChainMember(
                name: "products", root: "s3://\(DatastoreBackend.s3Bucket!)/chain-\(UUID().uuidString.prefix(8))",
                constraints: .init(accept: ["calexp"]))
            var options = RepositoryConfig.S3Options(endpoint: DatastoreBackend.s3Server!.endpoint, profile: "butler-test")
            options.credentialsFile = DatastoreBackend.s3CredentialsFile
            s3.s3 = options
            s3.cache = RepositoryConfig.CacheOptions(
                directory: FileManager.default.temporaryDirectory.appendingPathComponent("chain-cache-\(UUID())").path)
            config.datastore.chain = [.init(name: "scratch", root: "scratch", constraints: .init(reject: ["calexp"])), s3]
        }
        let exposure = try DatastoreConformance.calexp()
        let calexp = try await butler.put(exposure, "calexp", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let metrics = try await butler.put(["seeing": JSONValue.double(0.7)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        #expect(try await butler.artifactURLs(calexp).map(\.scheme) == ["s3"])
        #expect(try await butler.artifactURLs(metrics).map(\.scheme) == ["file"])
        #expect(try await butler.get(calexp, as: ExposureF.self) == exposure)
        #expect(try await butler.verify().isClean)
        try await butler.pruneDatasets([calexp], purge: true)
        #expect(try await butler.verify().isClean)
        try await butler.close()
        _ = directory
    }

    @Test("an in-memory member holds intermediates while the Butler lives; products persist", arguments: Backend.available)
    func inMemoryMember(backend: Backend) async throws {
        let (butler, directory) = try await Self.makeButler(backend) { config in
            config.datastore.chain = [
                .init(name: "scratch", root: "memory://scratch", constraints: .init(accept: ["metrics"])),
                .init(name: "products", root: "products", constraints: .init(reject: ["metrics"])),
            ]
        }
        let exposure = try DatastoreConformance.calexp()
        let calexp = try await butler.put(exposure, "calexp", dataId: ["instrument": "HSC", "visit": 1, "detector": 2])
        let metrics = try await butler.put(["seeing": JSONValue.double(0.7)], "metrics", dataId: ["instrument": "HSC", "visit": 1])
        // The intermediate lives in shared memory (tmpfs), nowhere under the repository.
        let scratch = try #require(try await butler.artifactURLs(metrics).first)
        #expect(scratch.path.hasPrefix("/dev/shm/butler-memory-") || scratch.path.hasPrefix(FileManager.default.temporaryDirectory.path))
        #expect(!scratch.path.hasPrefix(directory.url.path))
        #expect(try await butler.get(metrics, as: [String: JSONValue].self) == ["seeing": 0.7])
        #expect(try await butler.get(calexp, as: ExposureF.self) == exposure)
        try await butler.close()

        // A later Butler has a fresh memory: the intermediate's bytes are gone (its get says
        // so, naming it), the product is there.
        let later = try await Butler(repository: directory.url, collections: ["run/a"])
        #expect(try await later.get(calexp, as: ExposureF.self) == exposure)
        let gone = await #expect(throws: ButlerError.self) { try await later.get(metrics) }
        #expect(gone?.code == .missingArtifact && "\(gone!)".contains("metrics"), "\(String(describing: gone))")
        try await later.close()
        // What a killed process left in shared memory goes with the next one's first use.
        let shm = try TemporaryDirectory()
        var dead: Int32 = 3_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead += 1 }
        for name in ["butler-memory-\(dead)-scratch-1", "butler-memory-\(getpid())-scratch-2"] {
            try FileManager.default.createDirectory(at: shm.url.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        ProcessScratch.sweep(shm.url.path, prefix: "butler-memory-")
        #expect(try FileManager.default.contentsOfDirectory(atPath: shm.url.path) == ["butler-memory-\(getpid())-scratch-2"])
        let bad = try TemporaryDirectory()
        var config = TestRepository.config(backend)
        config.datastore.root = "memroy://scratch"
        let refused = await #expect(throws: ButlerError.self) { try await Butler.createRepository(at: bad.url, config: config) }
        #expect("\(String(describing: refused))".contains("memory"))
    }
}
