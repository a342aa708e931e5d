import Foundation

/// Collections: RUN, TAGGED, CHAINED and CALIBRATION (certification is in Registry+Calibrations).
extension Registry {
    /// Creates a collection; returns false if one of that name and type already exists.
    @discardableResult
    func registerCollection(_ session: any SQLSession, _ name: String, type: CollectionType, doc: String = "") throws -> Bool {
        try Self.validateCollectionName(name)
        if let existing = try findCollection(session, named: name) {
            guard existing.type == type else {
                throw ButlerError.collection(
                    "collection '\(name)' already exists with type \(existing.type.rawValue), not \(type.rawValue)")
            }
            return false
        }
        // Another process may create it between the check and the insert (two first puts into
        // a new run): the insert then does nothing, and the collection it made is used.
        guard
            let id = try session.queryOne(
                "INSERT INTO collection (name, type, doc) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING collection_id",
                [.text(name), .integer(type.code), .text(doc)])?[0].int64
        else {
            guard let concurrent = try findCollection(session, named: name) else {
                throw ButlerError.collection("could not create collection '\(name)'")
            }
            guard concurrent.type == type else {
                throw ButlerError.collection(
                    "collection '\(name)' was just created by another writer with type \(concurrent.type.rawValue), not \(type.rawValue)")
            }
            return false
        }
        let record = CollectionRecord(id: id, name: name, type: type, doc: doc)
        cached {
            $0.collectionsByName[name] = record
            $0.collectionsById[id] = record
        }
        return true
    }

    static func validateCollectionName(_ name: String) throws {
        let forbidden =
            name.isEmpty || name.hasPrefix("/") || name.contains("..")
            || name.contains { $0.isNewline || $0 == "\0" || $0 == "\\" || $0 == "*" || $0 == "?" || $0 == "," }
        if forbidden {
            throw ButlerError.collection(
                "invalid collection name '\(name)': it must be non-empty, not start with '/', and contain no '..', '\\', '*', '?', ',' or control characters"
            )
        }
    }

    /// The collection called `name`.
    /// - Throws: ``ButlerError/Code/collection`` when it does not exist.
    func collection(_ session: any SQLSession, named name: String) throws -> CollectionRecord {
        guard let record = try findCollection(session, named: name) else {
            throw ButlerError.collection("collection '\(name)' does not exist")
        }
        return record
    }

    /// The collection called `name`, or nil when there is none.
    func findCollection(_ session: any SQLSession, named name: String) throws -> CollectionRecord? {
        if let hit = cached({ $0.collectionsByName[name] }) { return hit }
        guard
            let row = try session.queryOne(
                "SELECT collection_id, type, doc FROM collection WHERE name = ?", [.text(name)])
        else { return nil }
        let record = CollectionRecord(
            id: row[0].int64!, name: name, type: CollectionType(code: row[1].int64!)!, doc: row[2].string ?? "")
        cached {
            $0.collectionsByName[name] = record
            $0.collectionsById[record.id] = record
        }
        return record
    }

    /// The collection with surrogate key `id`.
    func collection(_ session: any SQLSession, id: Int64) throws -> CollectionRecord {
        if let hit = cached({ $0.collectionsById[id] }) { return hit }
        guard let row = try session.queryOne("SELECT name FROM collection WHERE collection_id = ?", [.integer(id)]),
            let name = row[0].string
        else { throw ButlerError.collection("no collection has id \(id)") }
        return try collection(session, named: name)
    }

    /// The children of a CHAINED collection, in order.
    func chainChildren(_ session: any SQLSession, of parent: CollectionRecord) throws -> [CollectionRecord] {
        try session.query(
            "SELECT child FROM collection_chain WHERE parent = ? ORDER BY position", [.integer(parent.id)]
        ).map { try collection(session, id: $0[0].int64!) }
    }

    /// Changes a CHAINED collection's children; refuses cycles and non-chained parents.
    func setChain(_ session: any SQLSession, parent name: String, children: [String], mode: ChainMode) throws {
        guard let parent = try findCollection(session, named: name) else {
            throw ButlerError.collection("collection '\(name)' does not exist (create it with type CHAINED first)")
        }
        guard parent.type == .chained else {
            throw ButlerError.collection("collection '\(name)' is \(parent.type.rawValue), not CHAINED")
        }
        let current = try chainChildren(session, of: parent).map(\.name)
        var updated: [String]
        switch mode {
        case .redefine: updated = children
        case .extend: updated = current + children.filter { !current.contains($0) }
        case .prepend: updated = children + current.filter { !children.contains($0) }
        case .remove:
            for child in children where !current.contains(child) {
                throw ButlerError.collection("'\(child)' is not a child of chain '\(name)' (children: \(current))")
            }
            updated = current.filter { !children.contains($0) }
        case .pop:
            let positions =
                try children.isEmpty
                ? [0]
                : children.map { text -> Int in
                    guard let index = Int(text), current.indices.contains(index) else {
                        throw ButlerError.collection("cannot pop '\(text)' from chain '\(name)': positions are 0..<\(current.count)")
                    }
                    return index
                }
            updated = current.enumerated().filter { !positions.contains($0.offset) }.map(\.element)
        }
        var seen = Set<String>()
        updated = updated.filter { seen.insert($0).inserted }
        var records: [CollectionRecord] = []
        for child in updated {
            guard let record = try findCollection(session, named: child) else {
                throw ButlerError.collection("cannot add '\(child)' to chain '\(name)': no such collection")
            }
            if try reaches(session, from: record, to: parent) {
                throw ButlerError.collection("adding '\(child)' to chain '\(name)' would make a cycle")
            }
            records.append(record)
        }
        try session.execute("DELETE FROM collection_chain WHERE parent = ?", [.integer(parent.id)])
        for (position, child) in records.enumerated() {
            try session.execute(
                "INSERT INTO collection_chain (parent, position, child) VALUES (?, ?, ?)",
                [.integer(parent.id), .integer(Int64(position)), .integer(child.id)])
        }
    }

    /// Whether `target` is `start` or is reachable from it through chain children.
    func reaches(_ session: any SQLSession, from start: CollectionRecord, to target: CollectionRecord, depth: Int = 0) throws -> Bool {
        if start.id == target.id { return true }
        guard start.type == .chained, depth < 100 else { return false }
        return try chainChildren(session, of: start).contains { try reaches(session, from: $0, to: target, depth: depth + 1) }
    }

    /// Expands CHAINED collections into the ordered, duplicate-free list of collections that
    /// hold datasets: the search path of a find-first lookup.
    func flatten(_ session: any SQLSession, _ collections: [CollectionRecord]) throws -> [CollectionRecord] {
        var result: [CollectionRecord] = []
        var seen = Set<Int64>()
        func visit(_ record: CollectionRecord, depth: Int) throws {
            guard depth < 100 else { throw ButlerError.collection("collection chain through '\(record.name)' is too deep (a cycle?)") }
            if record.type == .chained {
                for child in try chainChildren(session, of: record) { try visit(child, depth: depth + 1) }
            } else if seen.insert(record.id).inserted {
                result.append(record)
            }
        }
        for record in collections { try visit(record, depth: 0) }
        return result
    }

    /// Resolves names (and `*`/`?` glob patterns) to the search path.
    func searchPath(_ session: any SQLSession, _ names: [String]) throws -> [CollectionRecord] {
        var records: [CollectionRecord] = []
        for name in names {
            if name.contains("*") || name.contains("?") {
                let matches = try allCollections(session).filter { Glob.matches(name, $0.name) }
                records.append(contentsOf: matches)
            } else {
                records.append(try collection(session, named: name))
            }
        }
        return try flatten(session, records)
    }

    /// Every collection, sorted by name.
    func allCollections(_ session: any SQLSession) throws -> [CollectionRecord] {
        try session.query("SELECT collection_id, name, type, doc FROM collection ORDER BY name", []).map { row in
            CollectionRecord(
                id: row[0].int64!, name: row[1].string!, type: CollectionType(code: row[2].int64!)!, doc: row[3].string ?? "")
        }
    }

    /// The CHAINED collections that list `record` as a child.
    func parentChains(_ session: any SQLSession, of record: CollectionRecord) throws -> [String] {
        try session.query(
            """
            SELECT DISTINCT c.name FROM collection_chain cc JOIN collection c ON c.collection_id = cc.parent
            WHERE cc.child = ? ORDER BY c.name
            """, [.integer(record.id)]
        ).compactMap { $0[0].string }
    }

    /// Deletes a collection row (its datasets must already be gone if it is a RUN).
    func removeCollection(_ session: any SQLSession, _ record: CollectionRecord) throws {
        try session.execute("DELETE FROM collection_chain WHERE child = ?", [.integer(record.id)])
        try session.execute("DELETE FROM collection WHERE collection_id = ?", [.integer(record.id)])
        forget(collection: record.name)
    }
}

/// Shell-style `*` and `?` matching for collection and dataset type patterns.
enum Glob {
    static func matches(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern), t = Array(text)
        var pi = 0, ti = 0, star = -1, mark = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}
