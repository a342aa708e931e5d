import ArgumentParser
import Butler
import Composites
import Foundation

struct QueryCollections: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query-collections", abstract: "List collections.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Name globs (all when none).") var globs: [String] = []
    @Option(
        name: .customLong("collection-type"), parsing: .singleValue,
        help: "Only these types: RUN, TAGGED, CHAINED, CALIBRATION (repeatable).")
    var collectionTypes: [String] = []
    @Option(name: .long, help: "How to show chains: TABLE (children listed) or FLATTEN (the search path).")
    var chains: String = "TABLE"
    @OptionGroup var output: OutputOptions

    func run() async throws {
        var types = Set(CollectionType.allCases)
        if !collectionTypes.isEmpty {
            types = Set(
                try splitCommas(collectionTypes).map { name in
                    guard let type = CollectionType(rawValue: name.uppercased()) else {
                        throw ValidationError("unknown collection type '\(name)' (RUN, TAGGED, CHAINED, CALIBRATION)")
                    }
                    return type
                })
        }
        let flatten = chains.uppercased() == "FLATTEN"
        let rows = try await withButler(repo, writeable: false) { butler -> Rows in
            var rows = Rows(columns: ["name", "type", "children"])
            for info in try await butler.collections(matching: globs, types: types) {
                let children = flatten && info.type == .chained ? try await butler.flattenCollections([info.name]) : info.children
                rows.append([.string(info.name), .string(info.type.rawValue), .array(children.map { .string($0) })])
            }
            return rows
        }
        rows.print(json: output.json)
    }
}

struct QueryDatasets: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query-datasets", abstract: "List datasets.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Dataset type names or globs (all when none).") var datasetTypes: [String] = []
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var constraints: ConstraintOptions
    @Flag(name: .customLong("find-first"), help: "Only the first dataset per data ID along --collections.") var findFirst = false
    @Flag(name: .customLong("show-uri"), help: "Show each dataset's artifact location.") var showURI = false
    @OptionGroup var order: OrderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (rows, reasons) = try await withButler(repo, writeable: false) { butler -> (Rows, [String]) in
            let search = collections.list.isEmpty ? ["*"] : collections.list
            let refs = try await butler.queryDatasets(
                datasetTypes, collections: search,
                where: constraints.where, dataId: try constraints.dataId(), bind: try constraints.binds(), findFirst: findFirst)
            let reasons =
                refs.isEmpty
                ? try await butler.explainNoDatasets(
                    datasetTypes, collections: search, where: constraints.where, dataId: try constraints.dataId(),
                    bind: try constraints.binds())
                : []
            // Declared dataset fields, when any type listed has some.
            let fields = try await butler.fieldValues(of: refs)
            let showFields = refs.contains { !$0.datasetType.fields.isEmpty }
            var rows = Rows(columns: ["datasetType", "run", "id", "dataId"] + (showFields ? ["fields"] : []) + (showURI ? ["uri"] : []))
            for ref in refs {
                var row: [JSONValue] = [
                    .string(ref.datasetType.name), .string(ref.run), .string(ref.id.uuidString.lowercased()), ref.dataId.json,
                ]
                if showFields { row.append(fields[ref.id].map(JSONValue.object) ?? .null) }
                if showURI {
                    row.append(
                        .string(
                            try await butler.artifactURLs(ref).map { $0.isFileURL ? $0.path : $0.absoluteString }.joined(separator: " ")))
                }
                rows.append(row)
            }
            return (rows, reasons)
        }
        try order.apply(to: rows).print(json: output.json)
        printNoResultReasons(reasons, json: output.json)
    }
}

struct QueryDataIds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query-data-ids", abstract: "List data IDs.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "Dimensions of the data IDs.") var dimensions: [String]
    @Option(name: .long, help: "Only data IDs of datasets of this type (needs --collections).") var datasets: String?
    @OptionGroup var collections: CollectionOptions
    @OptionGroup var constraints: ConstraintOptions
    @OptionGroup var order: OrderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let (dataIds, reasons) = try await withButler(repo, writeable: false) { butler in
            let search = collections.list.isEmpty ? nil : collections.list
            let dataIds = try await butler.queryDataIds(
                dimensions, datasets: datasets, collections: search,
                where: constraints.where, dataId: try constraints.dataId(), bind: try constraints.binds())
            let reasons =
                dataIds.isEmpty
                ? try await butler.explainNoDataIds(
                    dimensions, datasets: datasets, collections: search, where: constraints.where, dataId: try constraints.dataId(),
                    bind: try constraints.binds())
                : []
            return (dataIds, reasons)
        }
        let columns = dataIds.first?.dimensions.required ?? dimensions
        var rows = Rows(columns: columns)
        for dataId in dataIds { rows.append(columns.map { dataId[$0]?.json ?? .null }) }
        try order.apply(to: rows).print(json: output.json)
        printNoResultReasons(reasons, json: output.json)
    }
}

struct QueryDimensionRecords: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "query-dimension-records", abstract: "List dimension records.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dimension element.") var element: String
    @OptionGroup var constraints: ConstraintOptions
    @OptionGroup var order: OrderOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        // Columns in table order, from the repository's own universe (it may not be the default).
        let (records, columns) = try await withButler(repo, writeable: false) { butler in
            (
                try await butler.dimensionRecords(
                    element, where: constraints.where, dataId: try constraints.dataId(), bind: try constraints.binds()),
                try butler.universe.recordFieldNames(of: element)
            )
        }
        var rows = Rows(columns: columns)
        for record in records { rows.append(columns.map { record[$0] }) }
        try order.apply(to: rows).print(json: output.json)
    }
}

/// Why a query printed nothing: after "No results.", one line per reason; with `--json`
/// (stdout keeps its empty array), one object `{"noResults": {"reasons": […]}}` on stderr.
func printNoResultReasons(_ reasons: [String], json: Bool) {
    guard !reasons.isEmpty else { return }
    if json {
        let object = JSONValue.object(["noResults": .object(["reasons": .array(reasons.map { .string($0) })])])
        let data = (try? JSONEncoder().encode(object)) ?? Data()
        FileHandle.standardError.write(data + Data("\n".utf8))
    } else {
        print("Why:")
        for reason in reasons { print("  - \(reason)") }
    }
}
