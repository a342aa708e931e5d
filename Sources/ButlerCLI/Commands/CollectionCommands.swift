import ArgumentParser
import Butler
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
    @Flag(name: .customLong("no-confirm"), help: "Accepted for daf_butler compatibility; this command never prompts.") var noConfirm = false

    func run() async throws {
        try await withButler(repo) { butler in
            for name in collections { try await butler.removeCollection(name) }
        }
        print("Removed \(collections.count) collection(s)")
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
    @Flag(name: .customLong("no-confirm"), help: "Accepted for daf_butler compatibility; this command never prompts.") var noConfirm = false

    func run() async throws {
        let (names, count) = try await withButler(repo) { butler in
            let names = try await butler.collections(matching: collections, types: [.run]).map(\.name)
            if names.isEmpty { throw CommandFailure("no RUN collection matches \(collections)") }
            return (names, try await butler.removeRuns(names, unlinkFromChains: force))
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
    @Flag(name: .customLong("no-confirm"), help: "Accepted for daf_butler compatibility; this command never prompts.") var noConfirm = false

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
            try await butler.pruneDatasets(refs, disassociateFrom: splitCommas(disassociate), unstore: unstore, purge: purge != nil)
            return refs.count
        }
        print("Pruned \(count) dataset(s)")
    }
}
