import Butler
import ButlerTestSupport
import Foundation
import Testing

/// A shared repository end to end through the command line, as the README shows it: registry
/// on the PostgreSQL server of the test run (SQLite without one), artifacts in a bucket of its
/// S3-protocol server (moto, signatures checked), credentials from the environment as a user's.
@Suite(
    "butler on PostgreSQL + S3", .serialized,
    .enabled(if: DatastoreBackend.s3Server != nil, "no S3 server given (BUTLER_TEST_S3_ENDPOINT)"))
struct SharedRepositoryCLITests {
    /// The environment a user of the shared repository has: the endpoint and keys.
    static var environment: [String: String] {
        var environment = ProcessInfo.processInfo.environment
        let server = DatastoreBackend.s3Server!
        environment["S3_ENDPOINT_URL"] = server.endpoint
        environment["AWS_ACCESS_KEY_ID"] = server.credentials.accessKeyId
        environment["AWS_SECRET_ACCESS_KEY"] = server.credentials.secretAccessKey
        return environment
    }

    /// Runs the built `butler` with an environment.
    static func butler(_ arguments: [String], environment: [String: String] = environment) throws -> CommandResult {
        try run(BuiltProducts.butler.path, arguments, environment: environment)
    }

    /// `--database` and `--namespace` of a fresh registry on the test server, or none.
    static func registryArguments() -> [String] {
        guard let url = Backend.postgresURL else { return [] }
        return ["--database", url, "--namespace", "cli_s3_\(UUID().uuidString.prefix(8).lowercased())"]
    }

    @Test("create, records, put, get, cutout, query, verify, remove — nothing left in the bucket")
    func endToEnd() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        let bucket = try #require(DatastoreBackend.s3Bucket)
        let prefix = "shared-\(UUID().uuidString.prefix(8))"
        var environment = Self.environment
        environment["DAF_BUTLER_CACHE_DIRECTORY"] = directory.url.appendingPathComponent("cache").path
        func butler(_ arguments: String...) throws -> CommandResult { try Self.butler(arguments, environment: environment) }

        let created = try Self.butler(
            ["create", repo, "--datastore-root", "s3://\(bucket)/\(prefix)"] + Self.registryArguments(), environment: environment)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stdout.contains("s3://\(bucket)/\(prefix)"))
        let records = directory.url.appendingPathComponent("records.yaml")
        try "- {name: HSC}".write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "instrument", records.path).status == 0)
        try "- {instrument: HSC, id: 16}".write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "detector", records.path).status == 0)
        #expect(try butler("register-dataset-type", repo, "calexp", "ExposureF", "detector").status == 0)
        let put = try butler("put", repo, "calexp", TestData.hscCalexp, "--data-id", "instrument=HSC,detector=16", "--run", "HSC/calib")
        #expect(put.status == 0, "\(put.stderr)")

        let client = try DatastoreBackend.s3Client(bucket: bucket, server: DatastoreBackend.s3Server!)
        let objects = try client.list(prefix: prefix + "/")
        #expect(objects.count == 1 && objects[0].key.hasSuffix(".fits"), "\(objects)")

        let wcs = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--component", "wcs")
        #expect(wcs.status == 0, "\(wcs.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(wcs.stdout.utf8)) as? [String: Any]
        #expect((parsed?["crval"] as? [String: Double])?["ra"] == 320.729416266032)
        let cut = directory.url.appendingPathComponent("cut.fits").path
        let cutout = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--bbox", "0,0,9,9", "-o", cut)
        #expect(cutout.status == 0, "\(cutout.stderr)")
        let local = directory.url.appendingPathComponent("local-cut.fits").path
        #expect(try butler("image-convert", TestData.hscCalexp, local, "--bbox", "0,0,9,9").status == 0)
        // The same description but for the file name: bbox, planes, WCS, PSF, calibration.
        func described(_ file: String) throws -> [Substring] {
            try butler("image-info", file).stdout.split(separator: "\n").dropFirst().map { $0 }
        }
        #expect(try described(cut) == described(local) && (try described(cut)).count > 5)

        let found = try butler("query-datasets", repo, "calexp", "--collections", "HSC/calib", "--json")
        #expect(found.status == 0 && found.stdout.contains("s3://\(bucket)/\(prefix)/") == false)
        let uri = try butler("query-datasets", repo, "calexp", "--collections", "HSC/calib", "--show-uri")
        #expect(uri.stdout.contains("s3://\(bucket)/\(prefix)/"), "\(uri.stdout)\(uri.stderr)")
        let verified = try butler("verify", repo)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

        let removed = try butler("remove-runs", repo, "HSC/calib", "--no-confirm", "--force")
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(try client.list(prefix: prefix + "/").isEmpty)
    }

    @Test("two processes reading through one small cache directory: every read right, the index true to the directory")
    func sharedCache() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        let cache = directory.url.appendingPathComponent("cache")
        var environment = Self.environment
        environment["DAF_BUTLER_CACHE_DIRECTORY"] = cache.path
        // Two files for ten datasets: the processes evict each other's entries.
        environment["DAF_BUTLER_CACHE_EXPIRATION_MODE"] = "files=2"
        func butler(_ arguments: String...) throws -> CommandResult { try Self.butler(arguments, environment: environment) }
        let created = try butler(
            "create", repo, "--datastore-root", "s3://\(DatastoreBackend.s3Bucket!)/cache-\(UUID().uuidString.prefix(8))")
        #expect(created.status == 0, "\(created.stderr)")
        // The shortest grace, so that entries go while the processes still run.
        var config = try RepositoryConfig.load(root: URL(fileURLWithPath: repo))
        config.datastore.cache = RepositoryConfig.CacheOptions()
        config.datastore.cache?.evictionGrace = 2
        try config.write(root: URL(fileURLWithPath: repo))
        let records = directory.url.appendingPathComponent("records.yaml")
        try "- {name: HSC}".write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "instrument", records.path).status == 0)
        try (1...10).map { "- {instrument: HSC, id: \($0)}" }.joined(separator: "\n").write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "detector", records.path).status == 0)
        #expect(try butler("register-dataset-type", repo, "metrics", "StructuredDataDict", "detector").status == 0)
        for detector in 1...10 {
            let file = directory.url.appendingPathComponent("m\(detector).json")
            try #"{"detector": \#(detector), "padding": "\#(String(repeating: "x", count: 1000 * detector))"}"#.write(
                to: file, atomically: true, encoding: .utf8)
            let put = try butler("put", repo, "metrics", file.path, "--data-id", "instrument=HSC,detector=\(detector)", "--run", "r")
            #expect(put.status == 0, "\(put.stderr)")
        }
        // Each process reads eight datasets three times in its own order (all cached: every
        // entry is within its grace), waits past the grace, then reads two more, whose
        // downloads evict down to the limit while the other process reads; each value checked.
        let loop = { (order: String, last: String) in
            """
            set -e
            check() {
              out=$("$BUTLER" get "$REPO" metrics --collections r --data-id instrument=HSC,detector=$1)
              echo "$out" | grep -q "\\"detector\\" *: *$1\\b" || { echo "wrong value for $1: $out" >&2; exit 1; }
            }
            for round in 1 2 3; do for d in \(order); do check $d; done; done
            sleep 2.5
            for d in \(last); do check $d; done
            """
        }
        var processes: [(Process, Pipe)] = []
        for (order, last) in [("1 2 3 4 5 6 7 8", "9 10 1"), ("8 7 6 5 4 3 2 1", "10 9 2")] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", loop(order, last)]
            process.environment = environment.merging(["BUTLER": BuiltProducts.butler.path, "REPO": repo]) { $1 }
            let errors = Pipe()
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            processes.append((process, errors))
        }
        for (process, errors) in processes {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)")
        }
        // The running totals agree with the directory, and no download was left half-way.
        let cacheIndex = try ArtifactCache(directory: cache, limits: .init())
        let objects = try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("objects").path)
        let bytes = try objects.reduce(Int64(0)) {
            $0
                + ((try FileManager.default.attributesOfItem(atPath: cache.appendingPathComponent("objects/" + $1).path)[.size] as? Int64)
                    ?? 0)
        }
        #expect(try cacheIndex.totals() == (bytes, objects.count))
        #expect(objects.count <= 5, "entries were evicted: \(objects.count) left")
        #expect(try FileManager.default.contentsOfDirectory(atPath: cache.appendingPathComponent("incoming").path).isEmpty)
    }

    @Test("a missing bucket or refused credentials stop create before anything is written, naming the bucket")
    func refusals() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        let missing = try Self.butler([
            "create", repo, "--datastore-root", "s3://no-such-bucket-\(UUID().uuidString.prefix(6).lowercased())/x",
        ])
        #expect(
            missing.status != 0 && missing.stderr.contains("does not exist") && missing.stderr.contains("no-such-bucket"),
            "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/butler.yaml"))
        var wrong = Self.environment
        wrong["AWS_SECRET_ACCESS_KEY"] = "not-the-secret"
        let refused = try Self.butler(["create", repo, "--datastore-root", "s3://\(DatastoreBackend.s3Bucket!)/x"], environment: wrong)
        #expect(refused.status != 0 && refused.stderr.contains("access denied"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/butler.yaml"))
        var none = Self.environment
        none["AWS_ACCESS_KEY_ID"] = nil
        none["AWS_SECRET_ACCESS_KEY"] = nil
        none["AWS_SHARED_CREDENTIALS_FILE"] = directory.url.appendingPathComponent("absent").path
        let anonymous = try Self.butler(["create", repo, "--datastore-root", "s3://\(DatastoreBackend.s3Bucket!)/x"], environment: none)
        #expect(anonymous.status != 0 && anonymous.stderr.contains("no S3 credentials"), "\(anonymous.stderr)")
    }
}
