import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `butler` binary as a user would.
struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

func butler(_ arguments: String...) throws -> CommandResult {
    try butler(arguments)
}

func butler(_ arguments: [String]) throws -> CommandResult {
    try run(BuiltProducts.butler.path, arguments)
}

/// Runs an executable (in `environment`, the test's own by default) and collects its output
/// and status.
func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let environment { process.environment = environment }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
        stderr: String(decoding: stderr, as: UTF8.self))
}

/// Runs the built `butler` on a pseudo-terminal (util-linux's `script`, in every Debian),
/// typing `answer` and a newline as a user at its prompt would; returns its status.
func butlerOnTerminal(_ arguments: [String], answer: String) throws -> Int32 {
    let quoted = ([BuiltProducts.butler.path] + arguments).map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qec", quoted.joined(separator: " "), "/dev/null"]
    let input = Pipe()
    process.standardInput = input
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    input.fileHandleForWriting.write(Data((answer + "\n").utf8))
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return process.terminationStatus
}

func json(_ text: String) throws -> [[String: Any]] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]] ?? []
}

@Suite("butler command line", .serialized)
struct CLITests {
    @Test("the binary exists where the tests expect it")
    func binary() {
        #expect(
            FileManager.default.isExecutableFile(atPath: BuiltProducts.butler.path), "build the package first: \(BuiltProducts.butler.path)"
        )
    }

    @Test("a daf_butler-style session: create, records, types, ingest, query, chain, retrieve, prune, remove")
    func session() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        let created = try butler("create", repo)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(try butler("create", repo).status != 0)

        let records = directory.url.appendingPathComponent("records")
        try FileManager.default.createDirectory(at: records, withIntermediateDirectories: true)
        try #"[{"name": "HSC", "detector_max": 200}]"#.write(
            to: records.appendingPathComponent("instrument.json"), atomically: true, encoding: .utf8)
        try """
        - {instrument: HSC, name: HSC-I, band: i}
        - {instrument: HSC, name: HSC-R, band: r}
        """.write(to: records.appendingPathComponent("filters.yaml"), atomically: true, encoding: .utf8)
        try """
        records:
          - {instrument: HSC, id: 20131102}
        """.write(to: records.appendingPathComponent("days.yaml"), atomically: true, encoding: .utf8)
        try ("[" + (1...4).map { #"{"instrument": "HSC", "id": \#($0), "full_name": "ccd\#($0)"}"# }.joined(separator: ",") + "]")
            .write(to: records.appendingPathComponent("detectors.json"), atomically: true, encoding: .utf8)
        try
            ("["
            + (1...2).map {
                #"{"instrument": "HSC", "id": \#($0), "physical_filter": "HSC-\#($0 == 1 ? "I" : "R")", "day_obs": 20131102, "exposure_time": 30}"#
            }.joined(separator: ",") + "]")
            .write(to: records.appendingPathComponent("visits.json"), atomically: true, encoding: .utf8)
        for (element, file) in [
            ("instrument", "instrument.json"), ("physical_filter", "filters.yaml"), ("day_obs", "days.yaml"),
            ("detector", "detectors.json"), ("visit", "visits.json"),
        ] {
            let result = try butler("insert-dimension-records", repo, element, records.appendingPathComponent(file).path)
            #expect(result.status == 0, "\(element): \(result.stderr)")
        }
        let duplicate = try butler("insert-dimension-records", repo, "instrument", records.appendingPathComponent("instrument.json").path)
        #expect(duplicate.status != 0 && duplicate.stderr.contains("already exists"))
        #expect(
            try butler(
                "insert-dimension-records", repo, "instrument", records.appendingPathComponent("instrument.json").path, "--skip-existing"
            ).status == 0)

        #expect(try butler("register-dataset-type", repo, "plot", "Bytes", "visit", "detector").status == 0)
        let conflict = try butler("register-dataset-type", repo, "plot", "Bytes", "visit")
        #expect(conflict.status != 0 && conflict.stderr.contains("plot {instrument, detector, visit} Bytes"))
        let types = try json(butler("query-dataset-types", repo, "--json").stdout)
        #expect(types.first?["name"] as? String == "plot")

        let files = directory.url.appendingPathComponent("files")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        var table = "file,visit,detector\n"
        for visit in 1...2 {
            for detector in 1...4 {
                try Data("plot \(visit) \(detector)".utf8).write(to: files.appendingPathComponent("p\(visit)\(detector).png"))
                table += "p\(visit)\(detector).png,\(visit),\(detector)\n"
            }
        }
        try table.write(to: files.appendingPathComponent("table.csv"), atomically: true, encoding: .utf8)
        let ingested = try butler(
            "ingest-files", repo, "plot", "HSC/plots", files.appendingPathComponent("table.csv").path,
            "--data-id", "instrument=HSC", "--transfer", "copy", "--id-generation-mode", "dataid_type_run")
        #expect(ingested.status == 0, "\(ingested.stderr)")
        #expect(ingested.stdout.contains("Ingested 8 file(s)"))
        // A re-run: refused as it stands, skipped with --skip-existing (the same bytes).
        let rerun =
            ["ingest-files", repo, "plot", "HSC/plots", files.appendingPathComponent("table.csv").path, "--data-id", "instrument=HSC"]
            + ["--id-generation-mode", "dataid_type_run"]
        #expect(try butler(rerun).status == 1)
        let skipped = try butler(rerun + ["--skip-existing"])
        #expect(skipped.status == 0 && skipped.stdout.contains("Ingested 8 file(s)"), "\(skipped.stdout) \(skipped.stderr)")
        // --replace (--clobber) writes them again in place; it and --skip-existing exclude each other.
        let replaced = try butler(rerun + ["--clobber"])
        #expect(replaced.status == 0 && replaced.stdout.contains("Ingested 8 file(s)"), "\(replaced.stdout) \(replaced.stderr)")
        let both = try butler(rerun + ["--replace", "--skip-existing"])
        #expect(both.status == 64 && both.stderr.contains("exclude each other"), "\(both.stderr)")
        let newRunOnly = try butler(rerun + ["--replace", "--no-extend-run"])
        #expect(newRunOnly.status == 1 && newRunOnly.stderr.contains("HSC/plots exists already"), "\(newRunOnly.stderr)")

        let all = try json(butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--json").stdout)
        #expect(all.count == 8)
        let first = try #require(all.first)
        #expect(Set(first.keys).isSuperset(of: ["id", "datasetType", "run", "dataId"]))
        #expect((first["dataId"] as? [String: Any])?["instrument"] as? String == "HSC")
        let filtered = try json(
            butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--where", "band = 'r' AND detector > 2", "--json").stdout)
        #expect(filtered.count == 2)
        let bound = try json(
            butler(
                "query-datasets", repo, "plot", "--collections", "HSC/plots", "--where", "band = :b AND detector IN (3..9)",
                "--bind", "b=r", "--json"
            ).stdout)
        #expect(bound.count == 2)
        let unbound = try butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--where", "visit = :v")
        #expect(unbound.status == 1 && unbound.stderr.contains(":v"))
        // --order-by (columns or dimensions, - for descending) and --limit, after sorting.
        let ordered = try json(
            butler(
                "query-datasets", repo, "plot", "--collections", "HSC/plots", "--order-by=-visit,detector", "--limit", "3", "--json"
            ).stdout)
        #expect(ordered.count == 3)
        let firstTwo = ordered.prefix(2).map { ($0["dataId"] as? [String: Any])?["detector"] as? Int }
        #expect(
            Set(ordered.map { ($0["dataId"] as? [String: Any])?["visit"] as? Int }).count == 1 && firstTwo == firstTwo.sorted { $0! < $1! })
        let badOrder = try butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--order-by", "colour")
        #expect(badOrder.status == 64 && badOrder.stderr.contains("colour"))
        // With --json a failure is one JSON object on stderr; a syntax error gives its position.
        let syntax = try butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--where", "visit = = 1", "--json")
        let syntaxError = try #require(
            try JSONSerialization.jsonObject(with: Data(syntax.stderr.utf8)) as? [String: [String: Any]])["error"]
        #expect(syntax.status == 1 && syntaxError?["kind"] as? String == "syntax" && syntaxError?["position"] as? Int == 9)
        #expect((syntaxError?["message"] as? String)?.contains("visit = = 1") == true && syntaxError?["reasons"] as? [Any] != nil)
        let unknown = try butler("query-dimension-records", repo, "colour", "--json")
        let unknownError = try JSONSerialization.jsonObject(with: Data(unknown.stderr.utf8)) as? [String: [String: Any]]
        #expect(unknown.status == 1 && unknownError?["error"]?["kind"] as? String == "unknownDimension", "\(unknown.stderr)")
        let byDataId = try butler("query-datasets", repo, "--collections", "HSC/plots", "--data-id", "visit=1,detector=3")
        #expect(byDataId.stdout.split(separator: "\n").count == 3)

        #expect(try butler("collection-chain", repo, "HSC/defaults", "HSC/plots").status == 0)
        let collections = try json(butler("query-collections", repo, "--json").stdout)
        #expect(collections.map { $0["name"] as? String } == ["HSC/defaults", "HSC/plots"])
        #expect(collections.first?["children"] as? [String] == ["HSC/plots"])

        let dataIds = try json(butler("query-data-ids", repo, "visit", "detector", "--where", "visit = 2", "--json").stdout)
        #expect(dataIds.count == 4)
        let visits = try json(butler("query-dimension-records", repo, "visit", "--where", "band = 'i'", "--json").stdout)
        #expect(visits.count == 1 && visits.first?["physical_filter"] as? String == "HSC-I")

        let destination = directory.url.appendingPathComponent("out").path
        let retrieved = try butler("retrieve-artifacts", repo, destination, "--collections", "HSC/defaults", "--where", "visit = 1")
        #expect(retrieved.status == 0, "\(retrieved.stderr)")
        #expect(retrieved.stdout.contains("Retrieved 4 artifact(s)"))

        // Export (daf_butler's format) and import into another repository, IDs kept.
        let exported = directory.url.appendingPathComponent("export").path
        let export = try butler("export", repo, exported, "--collections", "HSC/defaults", "--where", "visit = 1")
        #expect(export.status == 0 && export.stdout.contains("Exported 4 dataset(s)"), "\(export.stdout) \(export.stderr)")
        let copy = directory.url.appendingPathComponent("copy").path
        #expect(try butler("create", copy).status == 0)
        let imported = try butler("import", copy, exported, "--transfer", "copy")
        #expect(imported.status == 0 && imported.stdout.contains("Imported 4 dataset(s)"), "\(imported.stdout) \(imported.stderr)")
        let again = try butler("import", copy, exported)
        #expect(again.status == 0 && again.stdout.contains("(4 already present)"), "\(again.stdout) \(again.stderr)")
        let copied = try json(butler("query-datasets", copy, "plot", "--collections", "HSC/defaults", "--json").stdout)
        let original = try json(
            butler("query-datasets", repo, "plot", "--collections", "HSC/defaults", "--where", "visit = 1", "--json").stdout)
        #expect(Set(copied.compactMap { $0["id"] as? String }) == Set(original.compactMap { $0["id"] as? String }) && copied.count == 4)
        let same = try butler("verify", repo, "--against", copy, "--collections", "HSC/defaults", "--where", "visit = 1")
        #expect(
            same.status == 0 && same.stdout.contains("Compared 4 dataset(s)") && same.stdout.contains("OK"), "\(same.stdout) \(same.stderr)"
        )
        let differs = try butler("verify", repo, "--against", copy, "--collections", "HSC/defaults", "--json")
        let comparison = try JSONSerialization.jsonObject(with: Data(differs.stdout.utf8)) as? [String: Any]
        #expect(differs.status == 1 && (comparison?["onlyHere"] as? [String])?.count == 4, "\(differs.stdout) \(differs.stderr)")
        let moved = directory.url.appendingPathComponent("moved").path
        #expect(try butler("create", moved).status == 0)
        let noType = try butler("transfer-datasets", repo, moved, "--collections", "HSC/plots")
        #expect(noType.status == 1 && noType.stderr.contains("--register-dataset-types"), "\(noType.stderr)")
        let transferred = try butler(
            "transfer-datasets", repo, moved, "--collections", "HSC/plots", "--where", "visit = 2", "--register-dataset-types")
        #expect(
            transferred.status == 0 && transferred.stdout.contains("Transferred 4 dataset(s)"),
            "\(transferred.stdout) \(transferred.stderr)")
        #expect(try json(butler("query-datasets", moved, "plot", "--collections", "HSC/plots", "--json").stdout).count == 4)
        let badTransfer = try butler("export", repo, exported + "2", "--transfer", "teleport")
        #expect(badTransfer.status == 64 && badTransfer.stderr.contains("teleport"))
        // The SQLite form, found by import without --export-file.
        let database = directory.url.appendingPathComponent("export-sqlite").path
        let exportedDatabase = try butler(
            "export", repo, database, "--collections", "HSC/defaults", "--where", "visit = 2", "--format", "sqlite", "--transfer",
            "hardlink")
        #expect(
            exportedDatabase.status == 0 && exportedDatabase.stdout.contains("export.sqlite3"),
            "\(exportedDatabase.stdout) \(exportedDatabase.stderr)")
        let fromDatabase = try butler("--progress", "import", copy, database, "--transfer", "copy")
        // Not a terminal: a line per tenth, the last at 4/4.
        #expect(fromDatabase.stderr.contains("import [") && fromDatabase.stderr.contains("] 4/4 100%"), "\(fromDatabase.stderr)")
        let quiet = try butler("--no-progress", "verify", copy)
        #expect(quiet.status == 0 && !quiet.stderr.contains("verify ["), "\(quiet.stderr)")
        #expect(
            fromDatabase.status == 0 && fromDatabase.stdout.contains("Imported 4 dataset(s)"),
            "\(fromDatabase.stdout) \(fromDatabase.stderr)")
        // A Zip of datasets (daf_butler's format), ingested elsewhere with its IDs.
        let zips = directory.url.appendingPathComponent("zips").path
        let zipped = try butler("retrieve-artifacts", repo, zips, "--collections", "HSC/plots", "--where", "visit = 1", "--zip")
        #expect(zipped.status == 0 && zipped.stdout.contains("Zip file written to"), "\(zipped.stdout) \(zipped.stderr)")
        let zipFile = try #require(
            zipped.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) })
        let zipTarget = directory.url.appendingPathComponent("zip-target").path
        #expect(try butler("create", zipTarget).status == 0)
        let noRecords = try butler("ingest-zip", zipTarget, zipFile)
        #expect(noRecords.status == 1 && noRecords.stderr.contains("insert it first"), "\(noRecords.stderr)")
        // The records come with a transfer of the same datasets, which are then removed again.
        #expect(
            try butler(
                "transfer-datasets", repo, zipTarget, "--collections", "HSC/plots", "--where", "visit = 1", "--register-dataset-types"
            ).status == 0)
        #expect(try butler("remove-runs", zipTarget, "HSC/plots", "--no-confirm", "--force").status == 0)
        let dryRun = try butler("ingest-zip", zipTarget, zipFile, "--dry-run")
        #expect(dryRun.status == 0 && dryRun.stdout.contains("Would ingest 4"), Comment(rawValue: dryRun.stdout + dryRun.stderr))
        let ingestedZip = try butler("ingest-zip", zipTarget, zipFile)
        #expect(ingestedZip.status == 0 && ingestedZip.stdout.contains("Ingested"), "\(ingestedZip.stdout) \(ingestedZip.stderr)")
        let zippedIds = try json(butler("query-datasets", zipTarget, "plot", "--collections", "HSC/plots", "--json").stdout)
        let sourceIds = try json(
            butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--where", "visit = 1", "--json").stdout)
        #expect(
            Set(zippedIds.compactMap { $0["id"] as? String }) == Set(sourceIds.compactMap { $0["id"] as? String }) && !zippedIds.isEmpty)
        let badFormat = try butler("export", repo, database + "2", "--format", "xml")
        #expect(badFormat.status == 64 && badFormat.stderr.contains("xml"))

        // daf_butler's global options, before the subcommand; logs go to stderr and the file.
        let logFile = directory.url.appendingPathComponent("butler.log").path
        let logged = try butler("--log-level", "DEBUG", "--long-log", "--log-file", logFile, "query-collections", repo, "--json")
        let loggedRows = try json(logged.stdout)
        #expect(logged.status == 0 && loggedRows.count == 2, "\(logged.stdout) \(logged.stderr)")
        #expect(logged.stderr.contains("DEBUG butler") && logged.stderr.contains("opened \(repo)"), "\(logged.stderr)")
        #expect((try? String(contentsOfFile: logFile, encoding: .utf8))?.contains("opened \(repo)") == true)
        #expect(try butler("query-collections", repo).stderr.isEmpty)
        let badLevel = try butler("--log-level", "LOUD", "query-collections", repo)
        #expect(badLevel.status == 64 && badLevel.stderr.contains("LOUD"), "\(badLevel.stderr)")
        #expect(try butler("--generate-completion-script", "bash").stdout.contains("complete"))
        let valid = try butler("config-validate", repo)
        #expect(valid.status == 0 && valid.stdout.contains("No problems"), "\(valid.stdout) \(valid.stderr)")
        var config = try RepositoryConfig.load(root: URL(fileURLWithPath: repo))
        let saved = config
        config.datastore.templates["plot"] = "{run}/{datasetType}/{visit}"
        config.datastore.formatters["plot"] = .init(formatter: "NoSuchFormatter")
        try config.write(root: URL(fileURLWithPath: repo))
        let invalid = try butler("config-validate", repo, "-d", "plot")
        #expect(
            invalid.status == 1 && invalid.stdout.contains("NoSuchFormatter") && invalid.stdout.contains("{detector}"), "\(invalid.stdout)")
        try saved.write(root: URL(fileURLWithPath: repo))
        let verified = try butler("verify", repo)
        #expect(
            verified.status == 0 && verified.stdout.contains("Checked 8 artifact(s).") && verified.stdout.contains("OK"),
            "\(verified.stdout)")
        let plotFile = try #require(
            FileManager.default.enumerator(atPath: repo)?.allObjects.compactMap { $0 as? String }
                .first { $0.hasSuffix(".png") && $0.contains("_2_") && $0.contains("_1_") })
        try Data("tampered".utf8).write(to: URL(fileURLWithPath: repo).appendingPathComponent(plotFile))
        let tampered = try butler("verify", repo, "--json")
        #expect(tampered.status == 1 && tampered.stdout.contains("\"corrupt\""), "\(tampered.stdout) \(tampered.stderr)")

        let pruned = try butler(
            "prune-datasets", repo, "HSC/plots", "--datasets", "plot", "--where", "visit = 2", "--purge", "HSC/plots", "--no-confirm")
        #expect(pruned.status == 0, "\(pruned.stderr)")
        #expect(try json(butler("query-datasets", repo, "plot", "--collections", "HSC/plots", "--json").stdout).count == 4)

        // On a terminal a removal asks first: "n" keeps everything, "y" goes ahead.
        #expect(try butlerOnTerminal(["remove-collections", repo, "HSC/defaults"], answer: "n") == 0)
        #expect(try json(butler("query-collections", repo, "--json").stdout).count == 2)
        #expect(try butlerOnTerminal(["remove-collections", repo, "HSC/defaults"], answer: "y") == 0)
        #expect(try json(butler("query-collections", repo, "--json").stdout).map { $0["name"] as? String } == ["HSC/plots"])
        #expect(try butler("collection-chain", repo, "HSC/defaults", "HSC/plots").status == 0)
        let refused = try butler("remove-runs", repo, "HSC/plots", "--no-confirm")
        #expect(refused.status != 0 && refused.stderr.contains("HSC/defaults"))
        let removed = try butler("remove-runs", repo, "HSC/plots", "--no-confirm", "--force")
        #expect(removed.status == 0, "\(removed.stderr)")
        #expect(
            try butler("query-datasets", repo, "--json").stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]"
                || (try json(butler("query-datasets", repo, "--json").stdout)).isEmpty)
    }

    @Test("errors go to stderr with a non-zero exit")
    func errors() throws {
        let directory = try TemporaryDirectory()
        let missing = try butler("query-collections", directory.url.appendingPathComponent("nope").path)
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no repository at"))
        #expect(missing.stdout.isEmpty)
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        let badWhere = try butler("query-datasets", repo, "--where", "visit = = 1")
        #expect(badWhere.status != 0 && badWhere.stderr.contains("position"))
        let badType = try butler("register-dataset-type", repo, "calexp", "Nope", "visit")
        #expect(badType.status != 0 && badType.stderr.contains("unknown storage class 'Nope'"))
        // A data error is one line and status 1; a command-line mistake shows the usage (64).
        let broken = directory.url.appendingPathComponent("records.yaml")
        try "- {name: [unclosed".write(to: broken, atomically: true, encoding: .utf8)
        let badRecords = try butler("insert-dimension-records", repo, "instrument", broken.path)
        #expect(
            badRecords.status == 1 && badRecords.stderr.contains("records.yaml") && !badRecords.stderr.contains("Usage"),
            "\(badRecords.stderr)")
        let badOption = try butler("collection-chain", repo, "chain", "a", "--mode", "sideways")
        #expect(badOption.status == 64 && badOption.stderr.contains("Usage"))
        // An image file without a known extension is recognised by its signature; a file that
        // is no image is a data error, not a usage one.
        let renamed = directory.url.appendingPathComponent("exposure.dat")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: TestData.smallExposure), to: renamed)
        let sniffed = try butler("image-info", renamed.path)
        #expect(sniffed.status == 0 && sniffed.stdout.contains("16×16"), "\(sniffed.stderr)")
        let notImage = try butler("image-info", broken.path)
        #expect(
            notImage.status == 1 && notImage.stderr.contains("neither a FITS nor an HDF5 file") && !notImage.stderr.contains("Usage"),
            "\(notImage.stderr)")
    }

    @Test("image-info and image-convert work on files, before any repository exists")
    func imageCommands() throws {
        let directory = try TemporaryDirectory()
        let hsc = TestData.hscCalexp
        let info = try butler("image-info", hsc)
        #expect(info.status == 0, "\(info.stderr)")
        #expect(info.stdout.contains("TAN-SIP") && info.stdout.contains("Gaussian sigma 4.0") && info.stdout.contains("1.99408750546"))
        let described = try JSONSerialization.jsonObject(with: Data(butler("image-info", hsc, "--json").stdout.utf8)) as? [String: Any]
        #expect((described?["planes"] as? [Any])?.count == 3)
        let h5 = directory.url.appendingPathComponent("cut.h5").path
        let converted = try butler("image-convert", hsc, h5, "--bbox", "10,5,40,20")
        #expect(converted.status == 0, "\(converted.stderr)")
        let cutInfo = try JSONSerialization.jsonObject(with: Data(butler("image-info", h5, "--json").stdout.utf8)) as? [String: Any]
        let box = cutInfo?["bbox"] as? [String: Any]
        #expect((box?["min"] as? [String: Int]) == ["x": 10, "y": 5] && (box?["max"] as? [String: Int]) == ["x": 40, "y": 20])
        let back = directory.url.appendingPathComponent("back.fits").path
        let local = try butler(
            "image-convert", h5, back, "--bbox", "0,0,9,9", "--origin", "local", "--compression", "gzip", "--tile", "8x8")
        #expect(local.status == 0, "\(local.stderr)")
        #expect(try butler("image-info", back).stdout.contains("(10, 5)–(19, 14)"))
        #expect(try butler("image-info", back).stdout.contains("tile-compressed"))
        let outside = try butler("image-convert", hsc, directory.url.appendingPathComponent("bad.h5").path, "--bbox", "60,0,70,10")
        #expect(outside.status != 0 && outside.stderr.contains("not inside the image box"))
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("bad.h5").path))
    }

    @Test("an unreachable PostgreSQL registry fails within seconds, naming the server and not the password")
    func unreachableServer() throws {
        let directory = try TemporaryDirectory()
        // Port 1 on loopback: nothing listens there. A process of its own, so the time is the
        // open's alone; the bound tells a refused connection (0.1 s) from the 67 s hang it
        // guards against, with room for a machine busy building (22 s seen).
        try RepositoryConfig.defaultConfig(database: "postgresql://butler:secret@127.0.0.1:1/nowhere", namespace: "x").write(
            root: directory.url)
        let started = ContinuousClock.now
        let result = try butler("query-collections", directory.url.path)
        #expect(ContinuousClock.now - started < .seconds(40))
        #expect(result.status != 0 && result.stderr.contains("127.0.0.1:1") && !result.stderr.contains("secret"), "\(result.stderr)")
    }

    @Test("put a FITS file as a calexp, get components as JSON and cutouts as files")
    func getPut() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        let hsc = TestData.hscCalexp
        #expect(try butler("create", repo).status == 0)
        let records = directory.url.appendingPathComponent("records.yaml")
        try "- {name: HSC}".write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "instrument", records.path).status == 0)
        try "- {instrument: HSC, id: 16}".write(to: records, atomically: true, encoding: .utf8)
        #expect(try butler("insert-dimension-records", repo, "detector", records.path).status == 0)
        #expect(try butler("register-dataset-type", repo, "calexp", "ExposureF", "detector").status == 0)
        let put = try butler("put", repo, "calexp", hsc, "--data-id", "instrument=HSC,detector=16", "--run", "HSC/calib")
        #expect(put.status == 0, "\(put.stderr)")
        let wcs = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--component", "wcs")
        #expect(wcs.status == 0, "\(wcs.stderr)")
        let parsed = try JSONSerialization.jsonObject(with: Data(wcs.stdout.utf8)) as? [String: Any]
        #expect((parsed?["crval"] as? [String: Double])?["ra"] == 320.729416266032)
        let bbox = try butler("get", repo, "calexp.bbox", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16")
        #expect(bbox.stdout.contains("\"max\"") && bbox.stdout.contains("63"))
        let cut = directory.url.appendingPathComponent("cut.h5").path
        let cutout = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16",
            "--bbox", "0,0,9,9", "-o", cut)
        #expect(cutout.status == 0, "\(cutout.stderr)")
        #expect(try butler("image-info", cut).stdout.contains("10×10"))
        // A PNG preview of a cutout: zlib-deflated, 10 × 10 in its IHDR chunk.
        let preview = directory.url.appendingPathComponent("cut.png").path
        let previewed = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--bbox", "0,0,9,9", "-o",
            preview,
            "--stretch", "asinh")
        #expect(previewed.status == 0, "\(previewed.stderr)")
        let pngBytes = try Data(contentsOf: URL(fileURLWithPath: preview))
        #expect(
            pngBytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
                && pngBytes[16..<24] == Data([0, 0, 0, 10, 0, 0, 0, 10]))
        let badStretch = try butler(
            "get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "-o", preview + "2.png",
            "--stretch", "log")
        #expect(badStretch.status == 64 && badStretch.stderr.contains("log"))
        let noOutput = try butler("get", repo, "calexp", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16")
        #expect(noOutput.status != 0 && noOutput.stderr.contains("-o FILE"))
        // The dataset named by a file: a row of query-datasets --json, or a serialized ref.
        let rows = try butler("query-datasets", repo, "calexp", "--collections", "HSC/calib", "--json")
        let refFile = directory.url.appendingPathComponent("ref.json")
        try rows.stdout.write(to: refFile, atomically: true, encoding: .utf8)
        let byRow = try butler("get", repo, "--ref-file", refFile.path, "--component", "bbox")
        #expect(byRow.status == 0 && byRow.stdout == bbox.stdout, "\(byRow.stderr)")
        let id = try #require((try json(rows.stdout)).first?["id"] as? String)
        let serialized =
            #"{"id": "\#(id)", "run": "HSC/calib", "datasetType": {"name": "calexp", "storageClass": "ExposureF", "dimensions": ["instrument", "detector"]}, "dataId": {"dataId": {"instrument": "HSC", "detector": 16}}}"#
        try serialized.write(to: refFile, atomically: true, encoding: .utf8)
        let byRef = try butler("get", repo, "--ref-file", refFile.path, "--component", "bbox")
        #expect(byRef.status == 0 && byRef.stdout == bbox.stdout, "\(byRef.stderr)")
        try "{\"id\": 3}".write(to: refFile, atomically: true, encoding: .utf8)
        let badRef = try butler("get", repo, "--ref-file", refFile.path)
        #expect(badRef.status != 0 && badRef.stderr.contains(refFile.path), "\(badRef.stderr)")
        let both = try butler("get", repo, "calexp", "--ref-file", refFile.path)
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")
        // A byte changed in the artifact: --verify refuses it, naming the dataset and the path.
        let verified = try butler(
            "get", repo, "calexp.bbox", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--verify")
        #expect(verified.status == 0, "\(verified.stderr)")
        let artifact = try #require(
            FileManager.default.enumerator(atPath: repo)?.compactMap { $0 as? String }.first {
                $0.hasSuffix(".fits") && $0.contains("calexp")
            })
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: repo).appendingPathComponent(artifact))
        try handle.seek(toOffset: 20_000)
        let byte = try #require(try handle.read(upToCount: 1))
        try handle.seek(toOffset: 20_000)
        try handle.write(contentsOf: Data([byte[0] ^ 0x01]))
        try handle.close()
        let refused = try butler(
            "get", repo, "calexp.bbox", "--collections", "HSC/calib", "--data-id", "instrument=HSC,detector=16", "--verify")
        #expect(
            refused.status != 0 && refused.stderr.contains("corrupt artifact") && refused.stderr.contains(artifact), "\(refused.stderr)")
        #expect(refused.stderr.contains("crc32c:"), "\(refused.stderr)")
    }

    @Test("ingest-raws reads dimensions and exposure metadata from FITS headers")
    func ingestRaws() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        var paths: [String] = []
        for (exposure, detector) in [(101, 0), (101, 1), (102, 0)] {
            var metadata = Metadata()
            metadata.set("INSTRUME", "LATISS")
            metadata.set("EXPID", .int(Int64(exposure)))
            metadata.set("DETECTOR", .int(Int64(detector)))
            metadata.set("FILTER", "SDSSr")
            metadata.set("DATE-OBS", "2026-11-23T03:10:00.5")
            metadata.set("EXPTIME", .double(15))
            let raw = Exposure(maskedImage: MaskedImage<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(8, 6))), metadata: metadata)
            let path = directory.url.appendingPathComponent("raw_\(exposure)_\(detector).fits").path
            try ExposureFITS.write(raw, to: path)
            paths.append(path)
        }
        let result = try butler(["ingest-raws", repo] + paths)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("Ingested 3 raw file(s) into LATISS/raw/all"))
        let raws = try json(butler("query-datasets", repo, "raw", "--collections", "LATISS/raw/all", "--json").stdout)
        #expect(raws.count == 3)
        let exposures = try json(butler("query-dimension-records", repo, "exposure", "--json").stdout)
        #expect(
            exposures.count == 2 && exposures.first?["exposure_time"] as? Double == 15 && exposures.first?["day_obs"] as? Int == 20261122)
        // The exposure's timespan is [DATE-OBS, DATE-OBS + EXPTIME) (UTC, no TIMESYS), stored as TAI.
        let opened = try AstroTime("2026-11-23T03:10:00.5")
        #expect(exposures.first?["timespan_begin"] as? Int == Int(opened.taiNanoseconds))
        #expect(exposures.first?["timespan_end"] as? Int == Int(opened.taiNanoseconds + 15_000_000_000))
        #expect(exposures.first?["obs_id"] as? String == "LATISS_101" && exposures.first?["observation_type"] as? String == "science")
        let during = try json(
            butler("query-data-ids", repo, "exposure", "--where", "exposure.timespan OVERLAPS T'2026-11-23T03:10:10'", "--json").stdout)
        #expect(during.count == 2)
        let bands = try json(butler("query-dimension-records", repo, "band", "--json").stdout)
        #expect(bands.map { $0["name"] as? String } == ["r"])
        // Ingesting again is refused (same dataset IDs in the same run) and changes nothing.
        let again = try butler(["ingest-raws", repo] + paths)
        #expect(again.status != 0 && again.stderr.contains("already"))
        let missing = directory.url.appendingPathComponent("bad.fits").path
        try ExposureFITS.write(
            Exposure(maskedImage: MaskedImage<Float>(bbox: Box2I(min: Point2I(0, 0), extent: Extent2I(2, 2)))), to: missing)
        let bad = try butler("ingest-raws", repo, missing)
        #expect(bad.status != 0 && bad.stderr.contains("bad.fits") && bad.stderr.contains("INSTRUME"))
        // A raw cut short in transfer is refused before anything is ingested.
        let cut = directory.url.appendingPathComponent("raw_103_0.fits")
        let whole = try Data(contentsOf: URL(fileURLWithPath: paths[0]))
        try whole.prefix(whole.count - 4000).write(to: cut)
        let truncated = try butler("ingest-raws", repo, cut.path, "--run", "LATISS/raw/cut")
        #expect(
            truncated.status != 0 && truncated.stderr.contains("raw_103_0.fits") && truncated.stderr.contains("truncated"),
            "\(truncated.stderr)")
        #expect(try json(butler("query-datasets", repo, "raw", "--collections", "LATISS/raw/*", "--json").stdout).count == 3)
    }

    @Test("the demo runs on a fresh embedded repository, and a subset of it stands alone")
    func demo() async throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("demo").path
        let result = try butler("demo", repo)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("through DemoCam/defaults (reprocessed)"))
        let datasets = try json(
            butler("query-datasets", repo, "isr_metrics", "--collections", "DemoCam/defaults", "--find-first", "--json").stdout)
        #expect(datasets.count == 24)
        // The simulated night: calexps assembled from three runs through the chain.
        #expect(result.stdout.contains("visitInfo←DemoCam/runs/visits") && result.stdout.contains("wcs←DemoCam/runs/fit2"))
        #expect(try json(butler("query-datasets", repo, "raw", "--collections", "DemoCam/raw/all", "--json").stdout).count == 24)
        let wcs = try butler(
            "get", repo, "calexp", "--collections", "DemoCam/night", "--data-id", "instrument=DemoCam,visit=1,detector=0", "--component",
            "wcs")
        #expect(wcs.status == 0 && wcs.stdout.contains("crval"))
        // The coadd side: a deepCoadd and a source catalog per patch and band with data, and a
        // coadd's WCS is its tract's.
        let coadds = try json(butler("query-datasets", repo, "deepCoadd", "--collections", "DemoCam/coadds", "--json").stdout)
        let catalogs = try json(butler("query-datasets", repo, "deepCoadd_src", "--collections", "DemoCam/coadds", "--json").stdout)
        #expect(!coadds.isEmpty && coadds.count == catalogs.count && result.stdout.contains("coadd cutout"))
        let coaddWcs = try butler(
            "get", repo, "deepCoadd", "--collections", "DemoCam/coadds", "--data-id", "skymap=demo_field,tract=0,patch=28,band=r",
            "--component", "wcs")
        #expect(coaddWcs.status == 0 && coaddWcs.stdout.contains("crval"), "\(coaddWcs.stderr)")
        try await Self.expectStandaloneSubset(of: repo, in: directory.url)
    }

    /// `butler subset` (issue 15 point 3) of one detector of one visit of the demo: the
    /// coadds overlapping it, the calexp's refitted WCS and shared visitInfo, the bias and
    /// flat valid for it; the subset verifies clean and answers the same gets.
    static func expectStandaloneSubset(of repo: String, in directory: URL) async throws {
        let subset = directory.appendingPathComponent("subset").path
        let searched = ["DemoCam/night", "DemoCam/calib", "DemoCam/coadds"]
        let made = try butler(
            "subset", repo, subset, "--collections", searched.joined(separator: ","), "--dataset-type", "calexp,deepCoadd",
            "--dataset-type", "deepCoadd_src", "--data-id", "instrument=DemoCam,visit=1,detector=0", "--json")
        #expect(made.status == 0, "\(made.stderr)")
        let summary = try JSONDecoder().decode(SubsetSummary.self, from: Data(made.stdout.utf8))
        #expect(summary.componentDatasets == 2 && summary.calibrations == 2 && summary.boundComponents == 0, "\(summary)")
        let verified = try butler("verify", subset)
        #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")
        // A second subset into the same place is refused and leaves the first as it was.
        let again = try butler("subset", repo, subset, "--dataset-type", "calexp", "--collections", "DemoCam/night")
        #expect(again.status != 0 && again.stderr.contains(subset), "\(again.stderr)")

        let source = try await Butler(repository: URL(fileURLWithPath: repo), writeable: false)
        let copy = try await Butler(repository: URL(fileURLWithPath: subset), writeable: false)
        // The coadds are those overlapping the detector, in its visit's band.
        let overlapping = try await source.queryDatasets(
            ["deepCoadd", "deepCoadd_src"], collections: searched, where: "instrument = 'DemoCam' AND visit = 1 AND detector = 0",
            findFirst: true)
        let held = try await copy.queryDatasets(["deepCoadd", "deepCoadd_src"], collections: searched, findFirst: true)
        #expect(!held.isEmpty && Set(held.map(\.id)) == Set(overlapping.map(\.id)) && Set(held.compactMap { $0.dataId["band"] }) == ["g"])
        #expect(summary.datasets == 1 + held.count)
        for ref in held {
            let dataId = ref.dataId.requiredMapping
            if ref.datasetType.name == "deepCoadd" {
                let expected = try await source.get("deepCoadd", dataId: dataId, collections: searched, as: ExposureF.self)
                #expect(try await copy.get("deepCoadd", dataId: dataId, collections: searched, as: ExposureF.self) == expected)
            } else {
                let expected = try await source.get("deepCoadd_src", dataId: dataId, collections: searched, as: SourceCatalog.self)
                #expect(try await copy.get("deepCoadd_src", dataId: dataId, collections: searched, as: SourceCatalog.self) == expected)
            }
        }
        // The calexp through the chain: stored disassembled, with the refitted WCS and the
        // visit's visitInfo from their own runs, as in the source.
        let calexpId: DataId = ["instrument": "DemoCam", "visit": 1, "detector": 0]
        let expected = try await source.get("calexp", dataId: calexpId, collections: searched, as: ExposureF.self)
        #expect(try await copy.get("calexp", dataId: calexpId, collections: searched, as: ExposureF.self) == expected)
        let sources = try await copy.componentSources("calexp", dataId: calexpId, collections: searched)
        #expect(sources["wcs"]?.run == "DemoCam/runs/fit2" && sources["visitInfo"]?.run == "DemoCam/runs/visits")
        let chain = try await copy.collections(matching: ["DemoCam/night"]).first
        #expect(chain?.children == ["DemoCam/runs/fit2", "DemoCam/runs/visits", "DemoCam/runs/calib", "DemoCam/raw/all"])
        // The calibrations the visit's exposure needs, found by time as in the source.
        for type in ["bias", "flat"] {
            let want = try await source.findDataset(type, dataId: calexpId, collections: ["DemoCam/calib"])
            let have = try await copy.findDataset(type, dataId: calexpId, collections: ["DemoCam/calib"])
            #expect(want != nil && have?.id == want?.id, "\(type)")
        }
        // Another visit's calexp is not there.
        #expect(
            try await copy.findDataset("calexp", dataId: ["instrument": "DemoCam", "visit": 2, "detector": 0], collections: searched) == nil
        )
        try await source.close()
        try await copy.close()
    }

    /// Whether this run can act as another user under Linux hard-link protection.
    static let canRunAsNobody: Bool =
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
        && (try? String(contentsOfFile: "/proc/sys/fs/protected_hardlinks", encoding: .utf8))?.hasPrefix("1") == true

    /// Runs `butler` as user nobody. The build directory may be closed to other users (a clone
    /// in a private temporary directory), so the binary and its resource bundles are copied
    /// into `directory` (left open to all) first.
    static func runAsNobody(_ arguments: [String], in directory: URL) throws -> CommandResult {
        let copy = directory.appendingPathComponent("bin")
        if !FileManager.default.fileExists(atPath: copy.path) {
            try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
            let built = BuiltProducts.directory
            for name in try FileManager.default.contentsOfDirectory(atPath: built.path)
            where name == "butler" || name.hasSuffix(".resources") {
                try FileManager.default.copyItem(at: built.appendingPathComponent(name), to: copy.appendingPathComponent(name))
            }
            for path in [directory.path, copy.path] {
                let mode = (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? 0
                try FileManager.default.setAttributes([.posixPermissions: mode | 0o755], ofItemAtPath: path)
            }
        }
        return try run(
            "/usr/bin/setpriv",
            ["--reuid=65534", "--regid=65534", "--clear-groups", "--", copy.appendingPathComponent("butler").path] + arguments)
    }

    @Test(
        "as another user, a refused hard link never moves the user's file; a move copies it, and a table without header is an error",
        .enabled(if: canRunAsNobody))
    func refusedLinks() throws {
        let directory = try TemporaryDirectory()
        func asNobody(_ arguments: String...) throws -> CommandResult { try Self.runAsNobody(arguments, in: directory.url) }
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: directory.url.path)
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try asNobody("create", repo).status == 0)
        let records = directory.url.appendingPathComponent("records")
        try FileManager.default.createDirectory(at: records, withIntermediateDirectories: true)
        try #"[{"name": "HSC"}]"#.write(to: records.appendingPathComponent("instrument.json"), atomically: true, encoding: .utf8)
        try #"[{"instrument": "HSC", "name": "HSC-I", "band": "i"}]"#.write(
            to: records.appendingPathComponent("filter.json"), atomically: true, encoding: .utf8)
        try #"[{"instrument": "HSC", "id": 20131102}]"#.write(
            to: records.appendingPathComponent("day.json"), atomically: true, encoding: .utf8)
        try #"[{"instrument": "HSC", "id": 1, "physical_filter": "HSC-I", "day_obs": 20131102}]"#
            .write(to: records.appendingPathComponent("visit.json"), atomically: true, encoding: .utf8)
        for (element, file) in [("instrument", "instrument"), ("physical_filter", "filter"), ("day_obs", "day"), ("visit", "visit")] {
            #expect(
                try asNobody("insert-dimension-records", repo, element, records.appendingPathComponent("\(file).json").path).status == 0)
        }
        #expect(try asNobody("register-dataset-type", repo, "plot", "Bytes", "visit").status == 0)
        // Root's file in a directory anyone may write: the kernel refuses nobody a hard link
        // to it, but would let nobody rename it away.
        let sources = directory.url.appendingPathComponent("sources")
        try FileManager.default.createDirectory(at: sources, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o777], ofItemAtPath: sources.path)
        let raw = sources.appendingPathComponent("raw.png")
        try Data("root's bytes".utf8).write(to: raw)
        let table = sources.appendingPathComponent("table.csv")
        try "file,visit\nraw.png,1\n".write(to: table, atomically: true, encoding: .utf8)
        let linked = try asNobody(
            "ingest-files", repo, "plot", "run/link", table.path, "--data-id", "instrument=HSC", "--transfer", "hardlink")
        #expect(linked.status != 0 && linked.stderr.contains("hard-link"), "\(linked.stderr)")
        #expect(FileManager.default.fileExists(atPath: raw.path))
        let moved = try asNobody("ingest-files", repo, "plot", "run/move", table.path, "--data-id", "instrument=HSC", "--transfer", "move")
        #expect(moved.status == 0, "\(moved.stderr)")
        #expect(!FileManager.default.fileExists(atPath: raw.path))
        let got = try asNobody(
            "get", repo, "plot", "--collections", "run/move", "--data-id", "instrument=HSC,visit=1", "--output",
            directory.url.appendingPathComponent("got.bin").path)
        #expect(got.status == 0, "\(got.stderr)")
        // A table whose first row is data, not a header, is an error rather than "0 files".
        try Data("again".utf8).write(to: raw)
        try "raw.png,1\n".write(to: table, atomically: true, encoding: .utf8)
        let headless = try butler("ingest-files", repo, "plot", "run/headless", table.path, "--data-id", "instrument=HSC")
        #expect(headless.status != 0 && headless.stderr.contains("no header row"), "\(headless.stderr)")
    }

    @Test("a repository another user may only read is queried without its WAL files", .enabled(if: canRunAsNobody))
    func readOnlyRepository() throws {
        let directory = try TemporaryDirectory()
        let repo = directory.url.appendingPathComponent("repo").path
        #expect(try butler("create", repo).status == 0)
        #expect(try butler("register-dataset-type", repo, "plot", "Bytes", "instrument").status == 0)
        // Checkpoint and remove the WAL files, as a copied or archived repository has none.
        let checkpointed = try run(
            "/usr/bin/env",
            [
                "python3", "-c",
                """
                import sqlite3, sys
                connection = sqlite3.connect(sys.argv[1])
                connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                connection.close()
                """, repo + "/gen3.sqlite3",
            ])
        #expect(checkpointed.status == 0, "\(checkpointed.stderr)")
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: repo + "/gen3.sqlite3" + suffix) }
        let listed = try Self.runAsNobody(["query-dataset-types", repo], in: directory.url)
        #expect(listed.status == 0 && listed.stdout.contains("plot"), "\(listed.stderr)")
        #expect(!FileManager.default.fileExists(atPath: repo + "/gen3.sqlite3-shm"))
    }
}
