import Foundation

/// Many datasets at once, for imports and transfers: look-ups by ID and inserts go out as
/// multi-row statements, so the number of statements does not grow with each dataset.
extension Registry {
    /// The datasets among `ids` that exist, by ID: one statement per
    /// ``bulkRowsPerStatement`` IDs (and the usual look-up for each one found).
    func datasets(_ session: any SQLSession, ids: [UUID]) throws -> [UUID: DatasetRef] {
        var found: [UUID: DatasetRef] = [:]
        for start in stride(from: 0, to: ids.count, by: Self.bulkRowsPerStatement) {
            let chunk = ids[start..<min(ids.count, start + Self.bulkRowsPerStatement)]
            let rows = try session.query(
                "SELECT id FROM dataset WHERE id IN (" + Array(repeating: "?", count: chunk.count).joined(separator: ", ") + ")",
                chunk.map(SQLValue.uuid))
            for row in rows {
                guard let id = row[0].uuidValue, let ref = try dataset(session, id: id) else { continue }
                found[id] = ref
            }
        }
        return found
    }

    /// The RUN collection datasets go into; an error naming it when it is missing or of
    /// another type.
    func runRecord(_ session: any SQLSession, named name: String) throws -> CollectionRecord {
        guard let run = try findCollection(session, named: name) else {
            throw ButlerError.collection("run '\(name)' does not exist (register it, or pass a run to put)")
        }
        guard run.type == .run else {
            throw ButlerError.collection("'\(name)' is a \(run.type.rawValue) collection; datasets can only be put into RUN collections")
        }
        return run
    }

    /// Inserts new datasets of one type, each in its RUN, in multi-row statements: the
    /// dataset rows, then the run memberships. The IDs must be new (``datasets(_:ids:)``
    /// tells); a data ID its run already holds is refused naming the dataset there, as
    /// ``insertDataset(_:_:type:)`` refuses it.
    func insertDatasets(_ session: any SQLSession, _ refs: [DatasetRef], type typeRecord: DatasetTypeRecord) throws {
        guard !refs.isEmpty else { return }
        var runs: [String: CollectionRecord] = [:]
        for name in Set(refs.map(\.run)) { runs[name] = try runRecord(session, named: name) }
        let now = AstroTime.now().taiNanoseconds
        let dims = typeRecord.datasetType.dimensions.required
        let tagRow = "(" + Array(repeating: "?", count: 4 + dims.count).joined(separator: ", ") + ")"
        let tagInsert =
            "INSERT INTO \(typeRecord.tagTable) (dataset_type_id, collection_id, dataset_id, run_id"
            + dims.map { ", " + dialect.quote($0) }.joined() + ") VALUES "
        for start in stride(from: 0, to: refs.count, by: Self.bulkRowsPerStatement) {
            let chunk = refs[start..<min(refs.count, start + Self.bulkRowsPerStatement)]
            try session.execute(
                "INSERT INTO dataset (id, dataset_type_id, run_id, ingest_date) VALUES "
                    + Array(repeating: "(?, ?, ?, ?)", count: chunk.count).joined(separator: ", "),
                chunk.flatMap { ref -> [SQLValue] in [.uuid(ref.id), .integer(typeRecord.id), .integer(runs[ref.run]!.id), .integer(now)] })
            // A data ID already in the run conflicts with the unique key: the statement skips
            // it, and the IDs it returns tell which.
            let inserted = try session.query(
                tagInsert + Array(repeating: tagRow, count: chunk.count).joined(separator: ", ")
                    + " ON CONFLICT DO NOTHING RETURNING dataset_id",
                chunk.flatMap { ref -> [SQLValue] in
                    let run = runs[ref.run]!.id
                    return [.integer(typeRecord.id), .integer(run), .uuid(ref.id), .integer(run)]
                        + dims.map { Self.sqlValue(ref.dataId[$0]!) }
                })
            guard inserted.count < chunk.count else { continue }
            let done = Set(inserted.compactMap { $0[0].uuidValue })
            for ref in chunk where !done.contains(ref.id) {
                let existing = try find(session, typeRecord, ref.dataId, in: [runs[ref.run]!])
                throw ButlerError.datasetExists("\(existing.map { "\($0)" } ?? "\(ref)") is already in run '\(ref.run)'")
            }
        }
    }
}
