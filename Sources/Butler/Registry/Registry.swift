import Foundation
import Synchronization

/// What exists: dimension records, dataset types, collections and datasets, in one SQL
/// database reached through ``SQLDatabase`` (SQLite or PostgreSQL, same code).
///
/// Methods taking a session run inside a unit of work the caller opened, so that the Butler
/// can register a dataset and its artifact record in one transaction.
final class Registry: Sendable {
    let database: any SQLDatabase
    let universe: DimensionUniverse
    private let cache = Mutex(Cache())

    /// Cached registry rows that other processes cannot change under us except by removal.
    struct Cache {
        var datasetTypesByName: [String: DatasetTypeRecord] = [:]
        var datasetTypesById: [Int64: DatasetTypeRecord] = [:]
        var collectionsByName: [String: CollectionRecord] = [:]
        var collectionsById: [Int64: CollectionRecord] = [:]
        var records: [RecordKey: DimensionRecord] = [:]
        /// Calibration tables by dimension group key; a table once created is never dropped.
        var calibTables: [String: String] = [:]
        /// False for a repository read as schema version 3, which has no dataset fields.
        var hasFieldTables = true
        /// False for a schema older than 5 opened read-only: no region overlap tables.
        var hasOverlapTables = true
    }

    /// A dimension record's identity in the cache: element and primary-key values.
    struct RecordKey: Hashable {
        let element: String
        let key: [DataIdValue]
    }

    init(database: any SQLDatabase, universe: DimensionUniverse) {
        self.database = database
        self.universe = universe
    }

    var dialect: SQLDialect { database.dialect }

    /// Takes a lock named `key` until the caller's transaction ends, where concurrent write
    /// transactions can interleave (PostgreSQL); SQLite serializes them already.
    func lock(_ session: any SQLSession, _ key: String) throws {
        guard let lock = session.dialect.transactionLockQuery else { return }
        _ = try session.query(lock, [.text("registry|" + key)])
    }

    // MARK: Cache

    func cached<T: Sendable>(_ body: (inout sending Cache) -> sending T) -> T { cache.withLock(body) }

    func forget(collection name: String) {
        cache.withLock { cache in
            if let record = cache.collectionsByName.removeValue(forKey: name) {
                cache.collectionsById[record.id] = nil
            }
        }
    }

    func forget(datasetType name: String) {
        cache.withLock { cache in
            if let record = cache.datasetTypesByName.removeValue(forKey: name) {
                cache.datasetTypesById[record.id] = nil
            }
        }
    }

    func forgetRecords(of element: String) {
        cache.withLock { cache in cache.records = cache.records.filter { $0.key.element != element } }
    }
}

/// A registered dataset type with its surrogate key and the table holding its associations.
struct DatasetTypeRecord: Sendable {
    let id: Int64
    let datasetType: DatasetType
    let tagTable: String

    /// The table of its declared fields' values (one row per dataset), once it has fields.
    var fieldTable: String { "dataset_fields_\(id)" }
}

/// A collection row.
struct CollectionRecord: Sendable, Hashable {
    let id: Int64
    let name: String
    let type: CollectionType
    let doc: String
}
