import ArgumentParser
import Butler
import Composites
import Foundation

struct CollectionChain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collection-chain", abstract: "Define or change a CHAINED collection (created if missing).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The chained collection.") var parent: String
    @Argument(help: "Children (or positions for --mode pop).") var children: [String] = []
    @Option(name: .long, help: "redefine, extend, prepend, remove or pop.") var mode: String = "redefine"

    func run() async throws {
        guard let chainMode = ChainMode(rawValue: mode) else {
            throw ValidationError("unknown mode '\(mode)'; use one of \(ChainMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let result = try await withButler(repo) { butler in
            try await butler.setCollectionChain(parent, children: splitCommas(children), mode: chainMode)
            return try await butler.collectionChain(parent)
        }
        print("[\(result.joined(separator: ", "))]")
    }
}

struct RemoveCollections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-collections", abstract: "Remove CHAINED or TAGGED collections (not their datasets).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Collections to remove.") var collections: [String]
    @Flag(name: .customLong("no-confirm"), help: "Do not ask on a terminal before removing.") var noConfirm = false

    func run() async throws {
        let removed = try await withButler(repo) { butler -> Bool in
            guard Confirmation.proceed(collections, action: "Removing \(collections.count) collection(s)", noConfirm: noConfirm) else {
                return false
            }
            for name in collections { try await butler.removeCollection(name) }
            return true
        }
        guard removed else {
            print("Nothing removed")
            return
        }
        print("Removed \(collections.count) collection(s): \(collections.joined(separator: ", "))")
    }
}

struct Associate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Add datasets found by a query to a TAGGED collection.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The TAGGED collection (created if missing).") var collection: String
    @OptionGroup var collections: CollectionOptions
    @Option(name: .long, parsing: .singleValue, help: "Dataset types (repeatable).") var datasets: [String] = []
    @OptionGroup var constraints: ConstraintOptions
    @Flag(name: .customLong("find-first"), help: "Only the first dataset per data ID.") var findFirst = false

    func run() async throws {
        let count = try await withButler(repo) { butler in
            let refs = try await butler.queryDatasets(
                splitCommas(datasets), collections: collections.list, where: constraints.where,
                dataId: try constraints.dataId(), bind: try constraints.binds(), findFirst: findFirst)
            try await butler.associate(collection, refs)
            return refs.count
        }
        print("Associated \(count) dataset(s) with \(collection)")
    }
}

struct RemoveRuns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove-runs", abstract: "Remove RUN collections with their datasets and artifacts.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "RUN collections (globs allowed).") var collections: [String]
    @Flag(name: .long, help: "Also remove the runs from CHAINED collections that contain them.") var force = false
    @Flag(name: .customLong("no-confirm"), help: "Do not ask on a terminal before removing.") var noConfirm = false

    func run() async throws {
        let (names, count) = try await withButler(repo) { butler in
            let names = try await butler.collections(matching: collections, types: [.run]).map(\.name)
            if names.isEmpty { throw CommandFailure("no RUN collection matches \(collections)") }
            var lines: [String] = []
            for name in names { lines.append("\(name): \(try await butler.queryDatasets([], collections: [name]).count) dataset(s)") }
            guard Confirmation.proceed(lines, action: "Removing \(names.count) run(s) with their datasets", noConfirm: noConfirm) else {
                return ([String](), -1)
            }
            return (names, try await butler.removeRuns(names, unlinkFromChains: force))
        }
        guard count >= 0 else {
            print("Nothing removed")
            return
        }
        print("Removed \(names.count) run(s) (\(names.joined(separator: ", "))) and \(count) dataset(s)")
    }
}

struct PruneDatasets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune-datasets", abstract: "Remove datasets from tagged collections, the datastore, or the repository.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Collections to search for the datasets.") var collections: [String] = []
    @Option(name: .long, parsing: .singleValue, help: "Dataset types (repeatable).") var datasets: [String] = []
    @OptionGroup var constraints: ConstraintOptions
    @Flag(name: .customLong("find-all"), help: "Prune every match, not only the first per data ID.") var findAll = false
    @Option(name: .long, help: "Delete the datasets entirely; the value must be the RUN they are in (a safety check, as in daf_butler).")
    var purge: String?
    @Flag(name: .long, help: "Delete the artifacts but keep the registry entries.") var unstore = false
    @Option(name: .customLong("disassociate"), parsing: .singleValue, help: "TAGGED collections to remove the datasets from.")
    var disassociate: [String] = []
    @Flag(name: .customLong("no-confirm"), help: "Do not ask on a terminal before removing.") var noConfirm = false

    func run() async throws {
        guard purge != nil || unstore || !disassociate.isEmpty else {
            throw ValidationError("say what to do: --purge RUN, --unstore, or --disassociate TAG")
        }
        let count = try await withButler(repo) { butler in
            let search = collections.isEmpty ? (purge.map { [$0] } ?? splitCommas(disassociate)) : splitCommas(collections)
            let refs = try await butler.queryDatasets(
                splitCommas(datasets), collections: search, where: constraints.where,
                dataId: try constraints.dataId(), bind: try constraints.binds(), findFirst: !findAll)
            if let purge, let stray = refs.first(where: { $0.run != purge }) {
                throw CommandFailure("--purge \(purge) would remove \(stray), which is in run \(stray.run); nothing was removed")
            }
            let action = purge != nil ? "Deleting" : unstore ? "Deleting the artifacts of" : "Disassociating"
            guard Confirmation.proceed(refs.map(\.description), action: "\(action) \(refs.count) dataset(s)", noConfirm: noConfirm) else {
                return -1
            }
            try await butler.pruneDatasets(refs, disassociateFrom: splitCommas(disassociate), unstore: unstore, purge: purge != nil)
            return refs.count
        }
        guard count >= 0 else {
            print("Nothing removed")
            return
        }
        print("Pruned \(count) dataset(s)")
    }
}

/// `--begin-date`/`--end-date`: ISO-8601 times (TAI unless the text names a scale), either
/// open when absent, as daf_butler's certify-calibrations reads them.
struct ValidityOptions: ParsableArguments {
    @Option(name: .customLong("begin-date"), help: "ISO-8601 time (TAI) the validity range starts at (unbounded when absent).")
    var beginDate: String?
    @Option(name: .customLong("end-date"), help: "ISO-8601 time (TAI) the validity range ends before (unbounded when absent).")
    var endDate: String?

    func timespan() throws -> Timespan {
        func time(_ text: String?, _ option: String) throws -> AstroTime? {
            guard let text else { return nil }
            do {
                return text.contains("/") ? try AstroTime(text) : try AstroTime(value: text, scale: .tai)
            } catch {
                throw ValidationError("\(option) '\(text)' is not a time: \(error)")
            }
        }
        return try Timespan(begin: try time(beginDate, "--begin-date"), end: try time(endDate, "--end-date"))
    }
}

struct CertifyCalibrations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certify-calibrations",
        abstract: "Certify calibrations from one collection into a CALIBRATION collection for a validity range.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The collection to take the calibrations from (RUN, TAGGED or CHAINED).") var inputCollection: String
    @Argument(help: "The CALIBRATION collection to certify them into (created if missing).") var outputCollection: String
    @Argument(help: "The calibration dataset type.") var datasetType: String
    @OptionGroup var validity: ValidityOptions
    @Flag(
        name: .customLong("search-all-inputs"),
        help: "Search every child of a CHAINED input collection, not only the first.")
    var searchAllInputs = false

    func run() async throws {
        let timespan = try validity.timespan()
        let refs = try await withButler(repo) { butler in
            try await butler.certifyCalibrations(
                from: inputCollection, into: outputCollection, datasetType: datasetType, timespan: timespan,
                searchAllInputs: searchAllInputs)
        }
        print("Certified \(refs.count) \(datasetType) dataset(s) into \(outputCollection) for \(timespan)")
    }
}

struct DecertifyCalibrations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decertify-calibrations",
        abstract: "Remove a time range from the validity of calibrations in a CALIBRATION collection (ranges are cut, not moved).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The CALIBRATION collection.") var collection: String
    @Argument(help: "The calibration dataset type.") var datasetType: String
    @OptionGroup var validity: ValidityOptions
    @Option(
        name: .customLong("data-id"), parsing: .singleValue,
        help: "Only the calibration with this data ID, as KEY=VALUE,KEY=VALUE (repeatable: one data ID per option).")
    var dataIds: [String] = []

    func run() async throws {
        let timespan = try validity.timespan()
        let selected = try dataIds.isEmpty ? nil : dataIds.map { try parseDataId([$0]) }
        let count = try await withButler(repo) { butler in
            try await butler.decertify(collection: collection, datasetType: datasetType, timespan: timespan, dataIds: selected)
        }
        print("Decertified \(count) validity range(s) of \(datasetType) in \(collection) over \(timespan)")
    }
}

struct QueryDatasetAssociations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query-dataset-associations",
        abstract: "List the collections datasets of a type belong to, with validity ranges in CALIBRATION collections.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type.") var datasetType: String
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var order: OrderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let associations = try await withButler(repo, writeable: false) { butler in
            try await butler.queryDatasetAssociations(datasetType, collections: collections.list.isEmpty ? ["*"] : collections.list)
        }
        var rows = Rows(columns: ["collection", "run", "id", "dataId", "begin", "end"])
        for association in associations {
            let bound = { (time: AstroTime?) -> JSONValue in
                guard let timespan = association.timespan else { return .null }
                return time.map { .string($0.isot()) } ?? .string(timespan.isEmpty ? "" : "unbounded")
            }
            rows.append([
                .string(association.collection), .string(association.ref.run), .string(association.ref.id.uuidString.lowercased()),
                association.ref.dataId.json, bound(association.timespan?.begin), bound(association.timespan?.end),
            ])
        }
        try order.apply(to: rows).print(json: output.json)
    }
}

struct FindCalibrations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find-calibrations",
        abstract: "For each data ID of the given temporal dimensions, the calibration valid at its time (one query).")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The calibration dataset type.") var datasetType: String
    @Argument(help: "Dimensions of the data IDs, e.g. exposure detector.") var dimensions: [String]
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var constraints: ConstraintOptions
    @OptionGroup var order: OrderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let matches = try await withButler(repo, writeable: false) { butler in
            try await butler.findCalibrations(
                datasetType, for: dimensions, collections: collections.list.isEmpty ? nil : collections.list,
                where: constraints.where, dataId: try constraints.dataId(), bind: try constraints.binds())
        }
        let keys = matches.first?.dataId.dimensions.required ?? dimensions
        var rows = Rows(columns: keys + ["run", "id"])
        for match in matches {
            rows.append(
                keys.map { match.dataId[$0]?.json ?? .null } + [.string(match.ref.run), .string(match.ref.id.uuidString.lowercased())])
        }
        try order.apply(to: rows).print(json: output.json)
    }
}
