import ArgumentParser
import Butler
import Composites
import Foundation

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create an empty repository.")

    @Argument(help: "The repository root to create.")
    var repo: String

    @Option(name: .customLong("seed-config"), help: "A butler.yaml whose settings the new repository starts from.")
    var seedConfig: String?

    @Option(name: .customLong("dimension-config"), help: "A dimension universe file replacing the built-in one.")
    var dimensionConfig: String?

    @Option(name: .long, help: "Registry database URL (default: an SQLite file in the repository; postgresql://… for a shared server).")
    var database: String?

    @Option(name: .long, help: "PostgreSQL schema for this repository's tables.")
    var namespace: String?

    @Option(
        name: .customLong("datastore-root"),
        help:
            "Where artifacts are stored: a directory, or s3://BUCKET/PREFIX (endpoint from S3_ENDPOINT_URL, credentials from AWS_* or ~/.aws/credentials)."
    )
    var datastoreRoot: String?

    @Option(name: .customLong("s3-endpoint"), help: "The endpoint of an S3-protocol server other than AWS, recorded in butler.yaml.")
    var s3Endpoint: String?

    @Option(name: .customLong("s3-profile"), help: "The shared-credentials profile to sign S3 requests with, recorded in butler.yaml.")
    var s3Profile: String?

    func run() async throws {
        var config = RepositoryConfig.defaultConfig()
        if let seedConfig {
            let seedURL = URL(fileURLWithPath: seedConfig)
            config = try RepositoryConfig.load(root: seedURL.deletingLastPathComponent(), fileName: seedURL.lastPathComponent)
        }
        if let database { config.registry.db = database }
        if let namespace { config.registry.namespace = namespace }
        if let dimensionConfig { config.dimensions.config = URL(fileURLWithPath: dimensionConfig).path }
        if let datastoreRoot {
            // A relative directory is taken from where the command runs, as the user typed it.
            config.datastore.root = datastoreRoot.contains("://") ? datastoreRoot : URL(fileURLWithPath: datastoreRoot).path
        }
        if s3Endpoint != nil || s3Profile != nil {
            var options = config.datastore.s3 ?? RepositoryConfig.S3Options()
            if let s3Endpoint { options.endpoint = s3Endpoint }
            if let s3Profile { options.profile = s3Profile }
            config.datastore.s3 = options
        }
        let root = try await Butler.createRepository(at: URL(fileURLWithPath: repo), config: config)
        print(
            "Created repository at \(root.path) (registry: \(config.registry.db), datastore: \(config.datastore.root == "." ? root.path : config.datastore.root))"
        )
    }
}

struct ConfigDump: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config-dump", abstract: "Print a repository's configuration.")

    @Argument(help: "The repository root.")
    var repo: String

    func run() async throws {
        let text = try String(contentsOf: URL(fileURLWithPath: repo).appendingPathComponent("butler.yaml"), encoding: .utf8)
        print(text, terminator: "")
    }
}

struct RegisterDatasetType: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "register-dataset-type", abstract: "Register a dataset type.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type name.") var name: String
    @Argument(help: "The storage class name.") var storageClass: String
    @Argument(help: "The dimensions.") var dimensions: [String] = []
    @Flag(name: .customLong("is-calibration"), help: "Datasets of this type are calibrations.") var isCalibration = false
    @Option(
        name: .customLong("field"), parsing: .singleValue,
        help: ArgumentHelp(
            "A queryable field NAME:TYPE[=SOURCE] taken from each dataset (repeatable; TYPE int, float, string or bool).",
            discussion:
                "SOURCE is a dotted path into the dataset, e.g. metadata.SEEING, visitInfo.boresightAirmass, stats.background; the field's name by default. Adding fields to an existing type is allowed; `butler index-fields` fills them for existing datasets."
        ))
    var fields: [String] = []

    func run() async throws {
        let declared = try fields.map { try DatasetField(parsing: $0) }
        let type = try await withButler(repo) { butler in
            try await butler.registerDatasetType(
                name, dimensions: dimensions, storageClass: storageClass, isCalibration: isCalibration, fields: declared)
        }
        print("Registered \(type)" + (type.fields.isEmpty ? "" : " with fields \(type.fields.map(\.description).joined(separator: ", "))"))
    }
}

struct IndexFields: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index-fields",
        abstract: "Fill a dataset type's declared fields from its datasets (those never indexed, or all with --reindex).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type.") var datasetType: String
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var constraints: ConstraintOptions
    @Flag(name: .long, help: "Index every matching dataset again, not only those never indexed.") var reindex = false

    func run() async throws {
        let count = try await withButler(repo) { butler in
            try await butler.indexFields(
                datasetType, collections: collections.list.isEmpty ? nil : collections.list, where: constraints.where,
                bind: try constraints.binds(), reindex: reindex)
        }
        print("Indexed the fields of \(count) \(datasetType) dataset(s)")
    }
}

struct RemoveDatasetType: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-dataset-type", abstract: "Remove dataset types that have no datasets.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Dataset type names.") var names: [String]

    func run() async throws {
        try await withButler(repo) { butler in
            for name in names { try await butler.removeDatasetType(name) }
        }
    }
}

struct QueryDatasetTypes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query-dataset-types", abstract: "List dataset types.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Name globs (all when none).") var globs: [String] = []
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let types = try await withButler(repo, writeable: false) { try await $0.datasetTypes(matching: globs) }
        var rows = Rows(columns: ["name", "dimensions", "storageClass", "isCalibration", "fields"])
        for type in types {
            rows.append([
                .string(type.name), .array(type.dimensions.required.map { .string($0) }),
                .string(type.storageClassName), .bool(type.isCalibration), .array(type.fields.map { .string($0.description) }),
            ])
        }
        rows.print(json: output.json)
    }
}

struct InsertDimensionRecords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "insert-dimension-records",
        abstract: "Insert dimension records from a JSON or YAML file holding a list of records.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dimension element (e.g. visit).") var element: String
    @Argument(help: "A .json, .yaml or .yml file with a list of records (field → value).") var file: String
    @Flag(name: .customLong("skip-existing"), help: "Leave records whose key exists unchanged.") var skipExisting = false
    @Flag(name: .long, help: "Replace records whose key exists.") var replace = false

    func run() async throws {
        if skipExisting && replace { throw ValidationError("--skip-existing and --replace exclude each other") }
        let records = try RecordFile.load(file)
        let written = try await withButler(repo) { butler in
            try await butler.insertDimensionRecords(element, records, mode: replace ? .replace : skipExisting ? .skipExisting : .insert)
        }
        print("Inserted \(written) \(element) record(s)")
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every artifact against its record and find what killed writers left; --repair removes the leftovers.",
        discussion: """
            Missing or corrupt artifacts (size or checksum differing from the record) are reported and never changed. Staged \
            files never published, and published files no record names, are leftovers of a writer killed mid-write; \
            they are reported only when older than ten minutes, so that a write in progress is never touched. Exits 1 \
            when anything remains wrong.
            """)

    @Argument(help: "The repository root.") var repo: String
    @Flag(name: .long, help: "Remove leftovers of killed writers (staged and unregistered files).") var repair = false
    @Flag(name: .customLong("no-checksums"), help: "Check existence and size only (faster).") var noChecksums = false
    @Option(
        name: .long,
        help: "Compare with another repository instead: datasets on one side only, IDs naming different datasets, differing bytes.")
    var against: String?
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, help: "With --against: a where-expression the compared datasets match.") var `where`: String?
    @OptionGroup var output: OutputOptions

    func run() async throws {
        if let against {
            try await compare(with: against)
            return
        }
        let report = try await withButler(repo, writeable: repair) { butler in
            try await butler.verify(checksums: !noChecksums, repair: repair)
        }
        if output.json {
            try printJSON(encoding: report)
        } else {
            print("Checked \(report.checked) artifact(s).")
            for problem in report.missing {
                print("missing: \(problem.path) (dataset \(problem.datasetId.uuidString.lowercased())): \(problem.reason)")
            }
            for problem in report.corrupt {
                print("corrupt: \(problem.path) (dataset \(problem.datasetId.uuidString.lowercased())): \(problem.reason)")
            }
            let removed = Set(report.removed)
            for path in report.orphans { print("\(removed.contains(path) ? "removed" : "unregistered"): \(path)") }
            for path in report.leftovers { print("\(removed.contains(path) ? "removed" : "staging leftover"): \(path)") }
            if report.isClean { print("OK") }
        }
        if !report.isClean { throw ExitCode.failure }
    }

    private func compare(with other: String) async throws {
        let report = try await withButler(repo, writeable: false) { here in
            try await withButler(other, writeable: false) { there in
                try await here.compare(with: there, collections: collections.list.isEmpty ? ["*"] : collections.list, where: `where`)
            }
        }
        if output.json {
            try printJSON(encoding: report)
        } else {
            print("Compared \(report.compared) dataset(s) found in both.")
            for dataset in report.onlyHere { print("only in \(repo): \(dataset)") }
            for dataset in report.onlyThere { print("only in \(other): \(dataset)") }
            for difference in report.differences {
                print("\(difference.what) differs: \(difference.dataset): \(difference.here) here, \(difference.there) in \(other)")
            }
            if report.isClean { print("OK: the same datasets with the same bytes") }
        }
        if !report.isClean { throw ExitCode.failure }
    }
}

struct DefineVisits: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "define-visits",
        abstract: "Group an instrument's science exposures into visits, with regions from their detectors' (daf_butler's define-visits).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The instrument (e.g. HSC).") var instrument: String
    @Option(name: .long, help: "A where-expression selecting exposures (default: every science exposure).") var `where`: String?
    @Option(name: .customLong("visit-system"), help: "one-to-one (a visit per exposure) or by-group-metadata (a visit per group).")
    var visitSystem = "one-to-one"
    @Flag(name: .customLong("update-records"), help: "Rewrite visits already defined.") var updateRecords = false

    func run() async throws {
        guard let system = VisitSystem(rawValue: visitSystem) else {
            throw ValidationError("unknown visit system '\(visitSystem)' (one-to-one, by-group-metadata)")
        }
        let defined = try await withButler(repo) { butler in
            try await butler.defineVisits(instrument: instrument, where: self.where, system: system, updateRecords: updateRecords)
        }
        print(
            "Defined \(defined.count) visit(s) of \(instrument)" + (defined.isEmpty ? " (all already defined)" : ": ")
                + defined.map { String($0.visit) }.joined(separator: ", "))
    }
}

struct ConfigValidate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config-validate",
        abstract:
            "Check that the repository's configuration can store every registered dataset type (formatters, templates, chain constraints).")

    @Argument(help: "The repository root.") var repo: String
    @Option(
        name: [.customShort("d"), .customLong("dataset-type")], parsing: .singleValue,
        help: "Dataset types to check (repeatable; all when none).")
    var datasetTypes: [String] = []
    @Flag(name: .shortAndLong, help: "Print nothing when all is well.") var quiet = false

    func run() async throws {
        let problems = try await withButler(repo, writeable: false) { butler in
            try await butler.configurationProblems(datasetTypes: splitCommas(datasetTypes))
        }
        for problem in problems { print(problem) }
        if problems.isEmpty, !quiet { print("No problems found with the configuration of \(repo)") }
        if !problems.isEmpty { throw ExitCode.failure }
    }
}
