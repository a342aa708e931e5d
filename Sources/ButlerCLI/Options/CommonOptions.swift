import ArgumentParser
import Butler
import Foundation

/// `--json`: print a JSON array (one object per row) instead of an aligned table.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print a JSON array, one object per row, instead of a table.")
    var json = false
}

/// `--collections`, repeatable and comma-separated, as in daf_butler.
struct CollectionOptions: ParsableArguments {
    @Option(
        name: .long, parsing: .singleValue,
        help: "Collections to search, in order (repeatable, comma-separated; globs allowed where find-first is off).")
    var collections: [String] = []

    var list: [String] { splitCommas(collections) }
}

/// `--where` and `--data-id` constraints.
struct ConstraintOptions: ParsableArguments {
    @Option(name: .long, help: "A daf_butler where-expression, e.g. \"instrument = 'HSC' AND visit IN (1, 2)\".")
    var `where`: String?

    @Option(name: .customLong("data-id"), parsing: .singleValue, help: "A dimension value KEY=VALUE (repeatable, comma-separated).")
    var dataIds: [String] = []

    @Option(
        name: .long, parsing: .singleValue,
        help: "A value for :NAME in --where, as NAME=VALUE (repeatable; numbers stay numbers; A,B,C binds a list for IN (:NAME)).")
    var bind: [String] = []

    func dataId() throws -> DataId { try parseDataId(dataIds) }

    /// The `--bind` values by name.
    func binds() throws -> [String: BindValue] { try parseBinds(bind) }
}

/// `--bind NAME=VALUE` items by name: numbers stay numbers, `A,B,C` is a list for `IN (:NAME)`.
func parseBinds(_ items: [String]) throws -> [String: BindValue] {
    func scalar(_ text: String) -> BindValue {
        if let int = Int64(text) { return .int(int) }
        if let double = Double(text), double.isFinite { return .double(double) }
        return .string(text)
    }
    var values: [String: BindValue] = [:]
    for item in items {
        let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty else { throw ValidationError("--bind '\(item)' is not NAME=VALUE") }
        values[parts[0]] = parts[1].contains(",") ? .list(parts[1].split(separator: ",").map { scalar(String($0)) }) : scalar(parts[1])
    }
    return values
}

/// `--order-by` and `--limit`, as daf_butler's query commands take them.
struct OrderOptions: ParsableArguments {
    @Option(
        name: .customLong("order-by"), parsing: .singleValue,
        help: "Sort rows by these columns or dimensions (repeatable, comma-separated; a leading - sorts descending).")
    var orderBy: [String] = []

    @Option(name: .long, help: "Print at most this many rows, after sorting.")
    var limit: Int?

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more, not \(limit)") }
    }

    /// The rows sorted and cut as asked.
    func apply(to rows: Rows) throws -> Rows {
        var result = rows
        let keys = splitCommas(orderBy).map { key in key.hasPrefix("-") ? (String(key.dropFirst()), true) : (key, false) }
        if !keys.isEmpty {
            let lookups = try keys.map { key, descending in (try rows.lookup(key), descending) }
            result.rows.sort { lhs, rhs in
                for (lookup, descending) in lookups {
                    let (a, b) = (lookup(lhs), lookup(rhs))
                    if a == b { continue }
                    return Rows.precedes(a, b) != descending
                }
                return false
            }
        }
        if let limit { result.rows = Array(result.rows.prefix(limit)) }
        return result
    }
}

/// Splits repeated, comma-separated option values.
func splitCommas(_ values: [String]) -> [String] {
    values.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
}

/// Parses `k=v` items into a data ID; integers become integer values.
func parseDataId(_ items: [String]) throws -> DataId {
    var dataId: DataId = [:]
    for item in splitCommas(items) {
        let parts = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty else {
            throw ValidationError("data ID item '\(item)' is not KEY=VALUE")
        }
        dataId[parts[0]] = Int64(parts[1]).map(DataIdValue.int) ?? .string(parts[1])
    }
    return dataId
}

/// Opens the repository at `path`.
func openButler(
    _ path: String, collections: [String] = [], run: String? = nil, writeable: Bool = true, verifyChecksums: Bool = false
) async throws -> Butler {
    try await Butler(
        repository: URL(fileURLWithPath: path), collections: collections, run: run, writeable: writeable, verifyChecksums: verifyChecksums)
}

/// Runs `body` with a Butler and closes it whatever happens.
func withButler<T>(
    _ path: String, collections: [String] = [], run: String? = nil, writeable: Bool = true, verifyChecksums: Bool = false,
    _ body: (Butler) async throws -> T
) async throws -> T {
    let butler = try await openButler(path, collections: collections, run: run, writeable: writeable, verifyChecksums: verifyChecksums)
    do {
        let result = try await body(butler)
        try await butler.close()
        return result
    } catch {
        try? await butler.close()
        throw error
    }
}

/// What a put or an ingest does about a dataset its run already holds: `--skip-existing`
/// (keep it when its bytes are the same; a re-run) or `--replace` (pipetask's
/// `--clobber-outputs`: write the new one in its place); neither refuses. And about the run
/// itself: `--no-extend-run` refuses one that exists (pipetask's default).
struct ExistingDatasetOptions: ParsableArguments {
    @Flag(
        name: .customLong("skip-existing"),
        help: "Keep a dataset the run already holds when its bytes are the same (a re-run); other bytes are an error naming both checksums."
    )
    var skipExisting = false
    @Flag(
        name: [.customLong("replace"), .customLong("clobber")],
        help: "Replace a dataset of the same type and data ID the run already holds (its artifacts deleted).")
    var replace = false

    @Flag(
        name: .customLong("extend-run"), inversion: .prefixedNo,
        help: "Write into a run that exists already (default, as daf_butler's put and ingest-files); --no-extend-run refuses it.")
    var extendRun = true

    /// The policy the flags ask for.
    func policy() throws -> ExistingDatasetPolicy {
        if skipExisting && replace { throw ValidationError("--skip-existing and --replace exclude each other") }
        return replace ? .replace : skipExisting ? .skipIdentical : .fail
    }
}
