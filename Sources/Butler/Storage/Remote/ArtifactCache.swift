import Crypto
package import Foundation
import GRDB
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A local cache of remote artifacts, shared by every process that names the same directory.
///
/// Files live in `objects/` under a name derived from the storage location, the artifact path
/// and its recorded checksum (a rewritten artifact is a new entry, never a stale hit); an SQLite
/// index beside them (`index.sqlite3`, WAL) records each entry's size, dataset and last use, and
/// keeps running totals, so that a hit is one indexed read and eviction picks the least recently
/// used entries from the index without scanning the directory. SQLite's file locks make the
/// index safe between processes; a file enters under its final name by rename, after the
/// caller's check (its checksum) passed, so no reader sees a partial or corrupt copy.
///
/// An entry used in the last ``Limits/evictionGrace`` seconds is never evicted, so that a reader
/// that just looked one up can open it; the cache may exceed its limits briefly for that.
///
/// Concurrency: shared by every task of a process; the index serialises writers.
package final class ArtifactCache: Sendable {
    /// What the cache may hold.
    package struct Limits: Sendable, Equatable {
        /// The most bytes.
        package var maxBytes: Int64 = 10 << 30
        /// The most files.
        package var maxFiles: Int = 100_000
        /// The most datasets (nil: no limit).
        package var maxDatasets: Int?
        /// How long an unused entry stays, in seconds (nil: no limit).
        package var maxAge: TimeInterval?
        /// Seconds after its last use during which an entry is never evicted, so that a reader
        /// that just looked it up can open it.
        package var evictionGrace: TimeInterval = 5

        /// The default limits.
        package init() {}
    }

    /// How stale an entry's recorded last use may get before a hit records it again: hits
    /// then cost one read, not one write.
    private static let touchInterval: TimeInterval = 1

    /// The cache directory.
    package let directory: URL
    /// Its limits.
    package let limits: Limits
    private let index: DatabaseQueue
    /// Entries this process found or cached, with when it last recorded their use in the
    /// index: a hit on one is a `stat` of its file, no index read (another process's eviction
    /// shows as a missing file).
    private let known = Mutex<[String: TimeInterval]>([:])

    /// Opens (creating if needed) a cache directory.
    /// - Throws: ``ButlerError/Code/storageFailure`` naming the directory when it cannot be
    ///   created or its index opened.
    package init(directory: URL, limits: Limits) throws {
        self.directory = directory
        self.limits = limits
        do {
            for sub in ["objects", "incoming"] {
                try FileManager.default.createDirectory(at: directory.appendingPathComponent(sub), withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.busyMode = .timeout(30)
            configuration.journalMode = .wal
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
            index = try DatabaseQueue(path: directory.appendingPathComponent("index.sqlite3").path, configuration: configuration)
            try index.write { db in
                try db.execute(
                    sql: """
                        CREATE TABLE IF NOT EXISTS entry (
                            name TEXT PRIMARY KEY, size INTEGER NOT NULL, dataset TEXT, last_used REAL NOT NULL);
                        CREATE INDEX IF NOT EXISTS entry_last_used ON entry (last_used);
                        CREATE INDEX IF NOT EXISTS entry_dataset ON entry (dataset);
                        CREATE TABLE IF NOT EXISTS totals (id INTEGER PRIMARY KEY CHECK (id = 1), bytes INTEGER NOT NULL, files INTEGER NOT NULL);
                        INSERT OR IGNORE INTO totals VALUES (1, 0, 0);
                        """)
            }
        } catch {
            throw ButlerError(.storageFailure, "cannot open the artifact cache at \(directory.path)", cause: error)
        }
    }

    /// The cache a datastore configuration asks for, the environment overriding it as
    /// daf_butler's does (``RepositoryConfig/CacheOptions``).
    /// - Throws: ``ButlerError/Code/configuration`` for a malformed expiration mode.
    package static func configured(
        _ options: RepositoryConfig.CacheOptions?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ArtifactCache {
        var limits = Limits()
        if let maxBytes = options?.maxBytes { limits.maxBytes = maxBytes }
        if let maxFiles = options?.maxFiles { limits.maxFiles = maxFiles }
        limits.maxDatasets = options?.maxDatasets
        limits.maxAge = options?.maxAge
        if let grace = options?.evictionGrace { limits.evictionGrace = max(grace, 2 * touchInterval) }
        if let mode = environment["DAF_BUTLER_CACHE_EXPIRATION_MODE"], !mode.isEmpty {
            let parts = mode.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let value = Int64(parts[1]), value >= 0 else {
                throw ButlerError(
                    .configuration, "DAF_BUTLER_CACHE_EXPIRATION_MODE '\(mode)' is not files=N, datasets=N, size=BYTES or age=SECONDS")
            }
            switch parts[0] {
            case "files": limits.maxFiles = Int(value)
            case "datasets": limits.maxDatasets = Int(value)
            case "size": limits.maxBytes = value
            case "age": limits.maxAge = TimeInterval(value)
            default:
                throw ButlerError(
                    .configuration, "DAF_BUTLER_CACHE_EXPIRATION_MODE '\(mode)' is not files=N, datasets=N, size=BYTES or age=SECONDS")
            }
        }
        let path =
            environment["DAF_BUTLER_CACHE_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 } ?? options?.directory
            ?? environment["DAF_BUTLER_CACHE_DIRECTORY_IF_UNSET"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["XDG_CACHE_HOME"] ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.cache") + "/swift-butler"
        return try shared(directory: URL(fileURLWithPath: path), limits: limits)
    }

    /// One instance per directory and limits in a process (each opens the index once).
    private static let instances = Mutex<[String: ArtifactCache]>([:])

    private static func shared(directory: URL, limits: Limits) throws -> ArtifactCache {
        let key = "\(directory.standardizedFileURL.path)|\(limits)"
        if let cache = instances.withLock({ $0[key] }) { return cache }
        let cache = try ArtifactCache(directory: directory, limits: limits)
        return instances.withLock { instances in
            if let existing = instances[key] { return existing }
            instances[key] = cache
            return cache
        }
    }

    /// The entry name of an artifact: a digest of where it is and which version it is, with
    /// the path's extension (for people looking at the directory).
    package static func entryName(location: String, path: String, version: String) -> String {
        let digest = SHA256.hash(data: Data("\(location)\n\(path)\n\(version)".utf8))
        let ext = (path as NSString).pathExtension
        return hexDigits(digest.prefix(16)) + (ext.isEmpty || ext.count > 8 ? "" : "." + ext)
    }

    /// The cached copy of an entry, fetched on a miss: `fetch` writes the bytes to the file it
    /// is given, `admit` checks them (a checksum) before they enter the cache; a failure of
    /// either leaves nothing. Returns the cached file's path and whether it was a hit.
    package func file(
        named name: String, dataset: UUID?, fetch: (String) throws -> Void, admit: (String) throws -> Void
    ) throws -> (path: String, hit: Bool) {
        let final = directory.appendingPathComponent("objects/" + name).path
        if try lookUp(name, final: final) { return (final, true) }
        let incoming = directory.appendingPathComponent("incoming/\(UUID().uuidString)-\(name)").path
        do {
            try fetch(incoming)
            try admit(incoming)
        } catch {
            try? FileManager.default.removeItem(atPath: incoming)
            throw error
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: incoming)[.size] as? Int64) ?? 0
        do {
            try index.write { db in
                // Another process may have cached it meanwhile: the same bytes, replaced whole.
                let previous = try Int64.fetchOne(db, sql: "SELECT size FROM entry WHERE name = ?", arguments: [name])
                guard rename(incoming, final) == 0 else {
                    throw ButlerError(
                        .storageFailure, "cannot move a download into the cache at \(final): \(String(cString: strerror(errno)))")
                }
                try db.execute(
                    sql: "INSERT OR REPLACE INTO entry (name, size, dataset, last_used) VALUES (?, ?, ?, ?)",
                    arguments: [name, size, dataset?.uuidString, Date().timeIntervalSince1970])
                try db.execute(
                    sql: "UPDATE totals SET bytes = bytes + ?, files = files + ? WHERE id = 1",
                    arguments: [size - (previous ?? 0), previous == nil ? 1 : 0])
                try evict(db, keeping: name)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: incoming)
            if let error = error as? ButlerError { throw error }
            throw ButlerError(.storageFailure, "cannot record \(name) in the artifact cache at \(directory.path)", cause: error)
        }
        known.withLock { $0[name] = Date().timeIntervalSince1970 }
        return (final, false)
    }

    /// The cached copy of an entry, if there is one (recording the use); nothing is fetched.
    package func cachedFile(named name: String) throws -> String? {
        let final = directory.appendingPathComponent("objects/" + name).path
        return try lookUp(name, final: final) ? final : nil
    }

    /// Whether an entry is cached (its file present), recording the use.
    private func lookUp(_ name: String, final: String) throws -> Bool {
        let now = Date().timeIntervalSince1970
        if let recorded = known.withLock({ $0[name] }), access(final, F_OK) == 0 {
            if now - recorded > Self.touchInterval { touch(name, now) }
            return true
        }
        let lastUsed: Double?
        do {
            lastUsed = try index.read { try Double.fetchOne($0, sql: "SELECT last_used FROM entry WHERE name = ?", arguments: [name]) }
        } catch {
            throw ButlerError(.storageFailure, "cannot read the artifact cache index in \(directory.path)", cause: error)
        }
        guard let lastUsed else { return false }
        guard access(final, F_OK) == 0 else {
            // Removed behind the index's back: forget it.
            try? index.write { db in try self.forget(db, name) }
            return false
        }
        if now - lastUsed > Self.touchInterval {
            touch(name, now)
        } else {
            known.withLock { $0[name] = lastUsed }
        }
        return true
    }

    /// Records a use of an entry in the index (and here).
    private func touch(_ name: String, _ now: TimeInterval) {
        try? index.write { db in
            try db.execute(sql: "UPDATE entry SET last_used = ? WHERE name = ?", arguments: [now, name])
        }
        known.withLock { $0[name] = now }
    }

    private func forget(_ db: Database, _ name: String) throws {
        _ = known.withLock { $0.removeValue(forKey: name) }
        guard let size = try Int64.fetchOne(db, sql: "SELECT size FROM entry WHERE name = ?", arguments: [name]) else { return }
        try db.execute(sql: "DELETE FROM entry WHERE name = ?", arguments: [name])
        try db.execute(sql: "UPDATE totals SET bytes = bytes - ?, files = files - 1 WHERE id = 1", arguments: [size])
    }

    /// Evicts least recently used entries until the limits hold (never `keeping`, nor one used
    /// within the grace period), and every entry older than the age limit.
    private func evict(_ db: Database, keeping: String) throws {
        let now = Date().timeIntervalSince1970
        let graceStart = now - limits.evictionGrace
        func remove(_ name: String) throws {
            unlink(directory.appendingPathComponent("objects/" + name).path)
            try forget(db, name)
        }
        if let maxAge = limits.maxAge {
            for name in try String.fetchAll(
                db, sql: "SELECT name FROM entry WHERE last_used < ? AND name <> ?", arguments: [min(now - maxAge, graceStart), keeping])
            {
                try remove(name)
            }
        }
        func overLimit() throws -> Bool {
            let row = try Row.fetchOne(db, sql: "SELECT bytes, files FROM totals WHERE id = 1")
            let bytes: Int64 = row?["bytes"] ?? 0
            let files: Int = row?["files"] ?? 0
            if bytes > limits.maxBytes || files > limits.maxFiles { return true }
            if let maxDatasets = limits.maxDatasets {
                let datasets = try Int.fetchOne(db, sql: "SELECT COUNT(DISTINCT dataset) FROM entry") ?? 0
                return datasets > maxDatasets
            }
            return false
        }
        while try overLimit() {
            // The oldest outside the grace period; a dataset's artifacts go together when
            // datasets are limited.
            guard
                let oldest = try Row.fetchOne(
                    db, sql: "SELECT name, dataset FROM entry WHERE last_used < ? AND name <> ? ORDER BY last_used LIMIT 1",
                    arguments: [graceStart, keeping])
            else { return }
            let name: String = oldest["name"]
            if limits.maxDatasets != nil, let dataset: String = oldest["dataset"] {
                for other in try String.fetchAll(
                    db, sql: "SELECT name FROM entry WHERE dataset = ? AND name <> ?", arguments: [dataset, keeping])
                {
                    try remove(other)
                }
            } else {
                try remove(name)
            }
        }
    }

    /// What the cache holds: bytes and files by its running totals.
    package func totals() throws -> (bytes: Int64, files: Int) {
        try index.read { db in
            let row = try Row.fetchOne(db, sql: "SELECT bytes, files FROM totals WHERE id = 1")
            return (row?["bytes"] ?? 0, row?["files"] ?? 0)
        }
    }
}
