import Composites
public import Foundation
import GRDB

/// The SQLite form of an export (`export.sqlite3`), for repositories too large for a YAML
/// tree: the same contents as ``ExportFile``'s YAML, one table row per dimension record,
/// collection, dataset type, dataset and membership, plus each artifact's size and checksum,
/// so that an import need not read the artifacts again. Any SQLite client reads it; its
/// `butler_export` table names the format and version.
///
/// Version 1's tables (data IDs and records are JSON objects, IDs lower-case UUID text,
/// timespans TAI nanoseconds):
/// - `butler_export(key, value)`: `format` = `swift-butler-export`, `version` = `1`,
///   `universe_namespace`, `universe_version`.
/// - `dimension_records(position, element, record)`, in an order that inserts cleanly.
/// - `collections(position, name, type, doc, children)`, chains after their children.
/// - `dataset_types(name, dimensions, storage_class, is_calibration)`.
/// - `datasets(position, id, dataset_type, run, data_id, path, formatter, file_size, checksum)`.
/// - `associations(collection, timespan_begin, timespan_end, dataset_id)`: no timespan for
///   a TAGGED membership.
public enum ExportDatabase {
    /// The format's name in `butler_export`.
    public static let formatName = "swift-butler-export"
    /// The version written, and the newest read.
    public static let version = 1

    /// Whether the file at `url` is an SQLite database (by its header), so an import can tell
    /// the two forms apart whatever the file is called.
    public static func isDatabase(_ url: URL) -> Bool {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 16)) == Data("SQLite format 3\0".utf8)
    }

    // MARK: Writing

    /// Writes `export` to a new file at `url`: built under a temporary name beside it and
    /// renamed when complete, so that no partial export is ever visible under its name.
    /// - Throws: ``ButlerError/Code/conflict`` when the file exists.
    public static func write(_ export: RepositoryExport, to url: URL) throws {
        if FileManager.default.fileExists(atPath: url.path) {
            throw ButlerError(.conflict, "export file \(url.path) exists; choose another directory or file name")
        }
        let partial = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        try? FileManager.default.removeItem(at: partial)
        do {
            let queue = try DatabaseQueue(path: partial.path)
            try queue.write { db in try fill(db, with: export) }
            try queue.close()
            guard link(partial.path, url.path) == 0 else {
                throw ButlerError(.storageFailure, "cannot create the export file \(url.path): \(String(cString: strerror(errno)))")
            }
            try? FileManager.default.removeItem(at: partial)
        } catch let error as ButlerError {
            try? FileManager.default.removeItem(at: partial)
            throw error
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw ButlerError(.storageFailure, "cannot write the export file \(url.path)", cause: error)
        }
    }

    private static func fill(_ db: Database, with export: RepositoryExport) throws {
        try db.execute(
            sql: """
                CREATE TABLE butler_export (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                CREATE TABLE dimension_records (position INTEGER PRIMARY KEY, element TEXT NOT NULL, record TEXT NOT NULL);
                CREATE TABLE collections (
                    position INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, type TEXT NOT NULL, doc TEXT, children TEXT NOT NULL);
                CREATE TABLE dataset_types (
                    name TEXT PRIMARY KEY, dimensions TEXT NOT NULL, storage_class TEXT NOT NULL, is_calibration INTEGER NOT NULL);
                CREATE TABLE datasets (
                    position INTEGER PRIMARY KEY, id TEXT NOT NULL, dataset_type TEXT NOT NULL REFERENCES dataset_types (name),
                    run TEXT NOT NULL, data_id TEXT NOT NULL, path TEXT NOT NULL, formatter TEXT, file_size INTEGER, checksum TEXT);
                CREATE TABLE associations (collection TEXT NOT NULL, timespan_begin INTEGER, timespan_end INTEGER, dataset_id TEXT NOT NULL);
                """)
        for (key, value) in [
            ("format", formatName), ("version", String(version)), ("universe_namespace", export.universeNamespace),
            ("universe_version", String(export.universeVersion)),
        ] {
            try db.execute(sql: "INSERT INTO butler_export VALUES (?, ?)", arguments: [key, value])
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        func json(_ value: some Encodable) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        let record = try db.makeStatement(sql: "INSERT INTO dimension_records (element, record) VALUES (?, ?)")
        for dimension in export.dimensions {
            for fields in dimension.records { try record.execute(arguments: [dimension.element, try json(fields)]) }
        }
        for collection in export.collections {
            try db.execute(
                sql: "INSERT INTO collections (name, type, doc, children) VALUES (?, ?, ?, ?)",
                arguments: [collection.name, collection.type.rawValue, collection.doc, try json(collection.children)])
        }
        let dataset = try db.makeStatement(
            sql: """
                INSERT INTO datasets (id, dataset_type, run, data_id, path, formatter, file_size, checksum)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
        var typesWritten = Set<String>()
        for group in export.datasets {
            let type = group.datasetType
            if typesWritten.insert(type.name).inserted {
                try db.execute(
                    sql: "INSERT INTO dataset_types VALUES (?, ?, ?, ?)",
                    arguments: [type.name, try json(type.dimensions), type.storageClass, type.isCalibration])
            }
            for file in group.files {
                guard file.ids.count == 1, file.dataIds.count == 1 else {
                    throw ButlerError(
                        .invalidParameter, "\(file.path) holds \(file.ids.count) datasets; the SQLite export form has one per artifact")
                }
                try dataset.execute(arguments: [
                    file.ids[0].uuidString.lowercased(), type.name, group.run, try json(file.dataIds[0]), file.path, file.formatter,
                    file.size, file.checksum,
                ])
            }
        }
        let membership = try db.makeStatement(sql: "INSERT INTO associations VALUES (?, ?, ?, ?)")
        for association in export.associations {
            for id in association.ids {
                try membership.execute(arguments: [
                    association.collection, association.timespan?.beginNanoseconds, association.timespan?.endNanoseconds,
                    id.uuidString.lowercased(),
                ])
            }
        }
    }

    // MARK: Reading

    /// Reads an export written by ``write(_:to:)`` (any version up to ``version``); dataset
    /// types are resolved against `universe` to find the values of their data IDs.
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming the file, table and row of what
    ///   is malformed.
    public static func read(_ url: URL, universe: DimensionUniverse) throws -> RepositoryExport {
        let source = url.path
        func fail(_ message: String, cause: (any Error)? = nil) -> ButlerError {
            ButlerError(.invalidParameter, "\(source): \(message)", cause: cause)
        }
        var configuration = Configuration()
        configuration.readonly = true
        let queue: DatabaseQueue
        do { queue = try DatabaseQueue(path: source, configuration: configuration) } catch {
            throw ButlerError(.invalidParameter, "cannot open the export file \(source)", cause: error)
        }
        defer { try? queue.close() }
        do {
            return try queue.read { db in
                let meta: [String: String]
                do {
                    meta = Dictionary(
                        try Row.fetchAll(db, sql: "SELECT key, value FROM butler_export").map { ($0[0] as String, $0[1] as String) },
                        uniquingKeysWith: { first, _ in first })
                } catch {
                    throw fail("not an export database (no butler_export table)", cause: error)
                }
                guard meta["format"] == formatName else { throw fail("format is \(meta["format"] ?? "missing"), not \(formatName)") }
                guard let written = meta["version"].flatMap(Int.init), written >= 1, written <= version else {
                    throw fail("format version \(meta["version"] ?? "missing") is not one this Butler reads (1…\(version))")
                }
                guard let namespace = meta["universe_namespace"], let universeVersion = meta["universe_version"].flatMap(Int.init) else {
                    throw fail("the dimension universe is not named")
                }
                var export = RepositoryExport(universeNamespace: namespace, universeVersion: universeVersion)
                try readRecords(db, into: &export, universe: universe, fail: fail)
                try readCollections(db, into: &export, fail: fail)
                try readDatasets(db, into: &export, universe: universe, fail: fail)
                try readAssociations(db, into: &export, fail: fail)
                return export
            }
        } catch let error as ButlerError {
            throw error
        } catch {
            throw fail("cannot be read as an export database", cause: error)
        }
    }

    private static func decodeJSON<T: Decodable>(_ type: T.Type, _ text: String, _ what: @autoclosure () -> String, fail: Fail) throws -> T
    {
        do { return try JSONDecoder().decode(type, from: Data(text.utf8)) } catch { throw fail("\(what()) is not valid: \(text)", error) }
    }

    private typealias Fail = (String, (any Error)?) -> ButlerError

    private static func readRecords(_ db: Database, into export: inout RepositoryExport, universe: DimensionUniverse, fail: Fail) throws {
        var floatColumns: [String: Set<String>] = [:]
        let rows = try Row.fetchCursor(db, sql: "SELECT position, element, record FROM dimension_records ORDER BY position")
        while let row = try rows.next() {
            let element: String = row[1]
            var record = try decodeJSON(
                [String: JSONValue].self, row[2], "dimension_records row \(row[0] as Int64) (\(element))", fail: fail)
            // JSON writes 60.0 as 60: a float column's whole number is read back as a double.
            if floatColumns[element] == nil {
                floatColumns[element] = Set(
                    universe.elements[element].map { universe.recordColumns(of: $0).filter { $0.type == .float }.map(\.name) } ?? [])
            }
            for name in floatColumns[element]! { if case .int(let number) = record[name] { record[name] = .double(Double(number)) } }
            if export.dimensions.last?.element == element {
                export.dimensions[export.dimensions.count - 1].records.append(record)
            } else {
                export.dimensions.append(.init(element: element, records: [record]))
            }
        }
    }

    private static func readCollections(_ db: Database, into export: inout RepositoryExport, fail: Fail) throws {
        for row in try Row.fetchAll(db, sql: "SELECT position, name, type, doc, children FROM collections ORDER BY position") {
            let name: String = row[1]
            guard let type = CollectionType(rawValue: row[2]) else {
                throw fail("collections row \(row[0] as Int64) (\(name)): unknown collection type \(row[2] as String)", nil)
            }
            let children = try decodeJSON([String].self, row[4], "the children of collection \(name)", fail: fail)
            export.collections.append(.init(name: name, type: type, doc: row[3], children: children))
        }
    }

    private static func readDatasets(
        _ db: Database, into export: inout RepositoryExport, universe: DimensionUniverse, fail: Fail
    ) throws {
        let types = try Row.fetchAll(db, sql: "SELECT name, dimensions, storage_class, is_calibration FROM dataset_types ORDER BY name")
        for typeRow in types {
            let entry = RepositoryExport.DatasetTypeEntry(
                name: typeRow[0],
                dimensions: try decodeJSON([String].self, typeRow[1], "the dimensions of dataset type \(typeRow[0] as String)", fail: fail),
                storageClass: typeRow[2], isCalibration: typeRow[3])
            let required: [String]
            do { required = try universe.group(identifiedBy: entry.dimensions).required } catch {
                throw fail("dataset type \(entry.name): \(error)", error)
            }
            // Each required value pulled out by SQLite itself: no JSON parsing per dataset.
            let values = required.map { ", json_extract(data_id, '$.\"\($0)\"')" }.joined()
            let rows = try Row.fetchCursor(
                db,
                sql:
                    "SELECT position, id, run, path, formatter, file_size, checksum\(values) FROM datasets WHERE dataset_type = ? ORDER BY position",
                arguments: [entry.name])
            var groupOfRun: [String: Int] = [:]
            while let row = try rows.next() {
                let position: Int64 = row[0]
                guard let id = UUID(uuidString: row[1]) else {
                    throw fail("datasets row \(position): \(row[1] as String) is not a dataset ID", nil)
                }
                var dataId: DataId = [:]
                for (index, name) in required.enumerated() {
                    switch (row[7 + index] as DatabaseValue).storage {
                    case .int64(let number): dataId[name] = .int(number)
                    case .string(let text): dataId[name] = .string(text)
                    default: throw fail("datasets row \(position) (\(id.uuidString.lowercased())): the data ID has no \(name)", nil)
                    }
                }
                let run: String = row[2]
                let file = RepositoryExport.DatasetFile(
                    ids: [id], dataIds: [dataId], path: row[3], formatter: row[4], size: row[5], checksum: row[6])
                if let group = groupOfRun[run] {
                    export.datasets[group].files.append(file)
                } else {
                    groupOfRun[run] = export.datasets.count
                    export.datasets.append(.init(datasetType: entry, run: run, files: [file]))
                }
            }
        }
        let orphans =
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM datasets WHERE dataset_type NOT IN (SELECT name FROM dataset_types)") ?? 0
        guard orphans == 0 else { throw fail("\(orphans) dataset(s) name a dataset type the file does not define", nil) }
    }

    private static func readAssociations(_ db: Database, into export: inout RepositoryExport, fail: Fail) throws {
        var index: [String: Int] = [:]
        let rows = try Row.fetchCursor(
            db, sql: "SELECT rowid, collection, timespan_begin, timespan_end, dataset_id FROM associations ORDER BY rowid")
        while let row = try rows.next() {
            let collection: String = row[1]
            guard let id = UUID(uuidString: row[4]) else {
                throw fail("associations row \(row[0] as Int64): \(row[4] as String) is not a dataset ID", nil)
            }
            var timespan: Timespan?
            if let begin = row[2] as Int64?, let end = row[3] as Int64? { timespan = Timespan(nanoseconds: begin, end) }
            let key = "\(collection)\n\(timespan.map { "\($0.beginNanoseconds) \($0.endNanoseconds)" } ?? "")"
            if let position = index[key] {
                export.associations[position].ids.append(id)
            } else {
                index[key] = export.associations.count
                export.associations.append(.init(collection: collection, timespan: timespan, ids: [id]))
            }
        }
    }
}
