import Composites
import Foundation

/// CALIBRATION collections: datasets certified with validity ranges, one table per dimension
/// group (`dataset_calibs_NNNNNNNN`) beside the tag tables. The engine refuses two ranges of
/// one dataset type and data ID in one collection that overlap (``SQLDialect/OverlapGuard``);
/// the registry checks first only to explain the refusal.
extension Registry {
    /// The calibration table for `group`; created on first use when `create` is true,
    /// otherwise nil when nothing of that group was ever certified.
    func calibTable(_ session: any SQLSession, for group: DimensionGroup, create: Bool) throws -> String? {
        let key = group.required.joined(separator: ",")
        if let hit = cached({ $0.calibTables[key] }) { return hit }
        let lookup = "SELECT calib_table FROM dataset_calib_tables WHERE dimensions = ?"
        if let existing = try session.queryOne(lookup, [.text(key)])?[0].string {
            cached { $0.calibTables[key] = existing }
            return existing
        }
        guard create else { return nil }
        // Two first certifications of a group must not both create its table.
        try lock(session, "calib-table|" + key)
        if let existing = try session.queryOne(lookup, [.text(key)])?[0].string { return existing }
        let count = try session.queryOne("SELECT COUNT(*) FROM dataset_calib_tables", [])?[0].int64 ?? 0
        let table = String(format: "dataset_calibs_%08lld", count + 1)
        let d = dialect
        let dimensionColumns = group.required.map { d.quote($0) }
        var lines = ["calib_id \(d.autoIncrementPrimaryKey)"] + associationColumns(group)
        lines.append("validity_begin \(d.bigintType) NOT NULL")
        lines.append("validity_end \(d.bigintType) NOT NULL")
        lines.append("CHECK (validity_begin < validity_end)")
        let keyColumns = ["dataset_type_id", "collection_id"] + dimensionColumns
        switch d.overlapGuard {
        case .exclusionConstraint:
            // btree_gist gives GiST the `=` of integers and text; trusted since PostgreSQL 13,
            // so a database owner may create it.
            try session.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
            lines.append(
                "CONSTRAINT \(table)_no_overlap EXCLUDE USING gist ("
                    + keyColumns.map { "\($0) WITH =" }.joined(separator: ", ")
                    + ", int8range(validity_begin, validity_end) WITH &&)")
        case .triggers:
            break
        }
        try session.execute("CREATE TABLE \(table) (\n    " + lines.joined(separator: ",\n    ") + ")")
        if d.overlapGuard == .triggers {
            let sameKey = keyColumns.map { "o.\($0) = NEW.\($0)" }.joined(separator: " AND ")
            let overlapping = "o.validity_begin < NEW.validity_end AND NEW.validity_begin < o.validity_end"
            for (event, exceptSelf) in [("INSERT", ""), ("UPDATE", " AND o.calib_id <> NEW.calib_id")] {
                try session.execute(
                    """
                    CREATE TRIGGER \(table)_no_overlap_\(event.lowercased()) BEFORE \(event) ON \(table)
                    WHEN EXISTS (SELECT 1 FROM \(table) o WHERE \(sameKey) AND \(overlapping)\(exceptSelf))
                    BEGIN SELECT RAISE(ABORT, 'overlapping validity ranges in \(table)'); END
                    """)
            }
        }
        try session.execute(
            "CREATE INDEX \(table)_lookup ON \(table) (" + (keyColumns + ["validity_begin"]).joined(separator: ", ") + ")")
        try createAssociationIndexes(session, table, group)
        try session.execute(
            "INSERT INTO dataset_calib_tables (dimensions, calib_table) VALUES (?, ?)", [.text(key), .text(table)])
        return table
    }

    /// What a find of `datasetType` by `dataId` looks up: the data ID cut to the type's
    /// dimensions and, for a calibration type, the time to match validity ranges against —
    /// `timespan` when given, else the intersection of the timespans of the temporal
    /// dimensions the data ID names beyond the type's (an exposure's, a visit's, a day_obs's),
    /// else all time (daf_butler's rule). Other types take no time and no extra dimensions.
    func lookupKey(
        _ session: any SQLSession, _ dataId: DataId, for datasetType: DatasetType, timespan: Timespan?
    ) throws -> (DataCoordinate, Timespan?) {
        let context = "\(datasetType.name) data ID"
        guard datasetType.isCalibration else {
            return (try universe.standardize(dataId, for: datasetType.dimensions, context: context), nil)
        }
        let own = datasetType.dimensions.names
        var extra: [String] = []
        var ownValues: DataId = [:]
        for (key, value) in dataId {
            let name = universe.aliases[key] ?? key
            if own.contains(name) { ownValues[key] = value } else { extra.append(name) }
        }
        if extra.isEmpty {
            return (try universe.standardize(ownValues, for: datasetType.dimensions, context: context), timespan ?? .unbounded)
        }
        let full = try universe.standardize(dataId, for: try universe.group(dataId.keys), context: context)
        var time = Timespan.unbounded
        for name in universe.sorted(extra) {
            guard let element = universe.elements[name], element.hasTimespan else { continue }
            let record: DimensionRecord
            switch try lookUpRecord(session, element, { full[$0] }) {
            case .found(let found): record = found
            case .incomplete: continue
            case .missing(let reason):
                throw ButlerError(
                    .dimensionRecord, "\(context) \(full): \(reason), so it gives no time to look up \(datasetType.name) by")
            }
            // What the record implies fills the type's dimensions the data ID left out (a flat's
            // physical_filter from the exposure).
            for implied in element.implies where own.contains(implied) && ownValues[implied] == nil {
                if case .string(let text) = record[implied] { ownValues[implied] = .string(text) }
                if case .int(let int) = record[implied] { ownValues[implied] = .int(int) }
            }
            if timespan != nil { continue }
            guard case .int(let begin) = record["timespan_begin"], case .int(let end) = record["timespan_end"] else {
                throw ButlerError(
                    .dimensionRecord,
                    "\(context) \(full): the \(name) record has no timespan, so it gives no time to look up \(datasetType.name) by")
            }
            time = time.intersection(Timespan(nanoseconds: begin, end))
        }
        return (try universe.standardize(ownValues, for: datasetType.dimensions, context: context), timespan ?? time)
    }

    /// Why a calibration look-up at `timespan` found nothing in the CALIBRATION collections of
    /// `path`: no certification of the data ID at all, or the ranges nearest the time.
    func calibrationMissReasons(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, _ dataId: DataCoordinate, in path: [CollectionRecord],
        timespan: Timespan
    ) throws -> [String] {
        let calibrations = path.filter { $0.type == .calibration }
        guard typeRecord.datasetType.isCalibration, !calibrations.isEmpty else { return [] }
        let table = try calibTable(session, for: typeRecord.datasetType.dimensions, create: false)
        var reasons: [String] = []
        for collection in calibrations {
            let rows =
                try table.map {
                    try calibRows(session, table: $0, typeRecord: typeRecord, collection: collection, dataId: dataId, overlapping: nil)
                } ?? []
            let subject = "\(typeRecord.datasetType.name)@\(dataId)"
            if rows.isEmpty {
                reasons.append("\(subject) is not certified in CALIBRATION collection '\(collection.name)'")
                continue
            }
            let before = rows.last { $0.validity.endNanoseconds <= timespan.beginNanoseconds }
            let after = rows.first { $0.validity.beginNanoseconds >= timespan.endNanoseconds }
            let nearest = [before.map { "\($0.validity) (before)" }, after.map { "\($0.validity) (after)" }].compactMap { $0 }
            reasons.append(
                "no validity range of \(subject) in '\(collection.name)' covers \(timespan); nearest: \(nearest.joined(separator: ", "))")
        }
        return reasons
    }

    /// A certified dataset: where, and for which validity range.
    struct CalibRow: Sendable {
        let datasetId: UUID
        let runId: Int64
        let validity: Timespan
    }

    /// Certifies `refs` into the CALIBRATION collection `name` for `timespan`.
    /// - Throws: ``ButlerError/Code/conflict`` listing every dataset type and data ID whose
    ///   existing range overlaps (nothing is certified then).
    func certify(_ session: any SQLSession, collection name: String, refs: [DatasetRef], timespan: Timespan) throws {
        let collection = try collection(session, named: name)
        guard collection.type == .calibration else {
            throw ButlerError.collection(
                "'\(name)' is \(collection.type.rawValue); datasets can only be certified into CALIBRATION collections")
        }
        guard !timespan.isEmpty else {
            throw ButlerError(.invalidArgument, "cannot certify into '\(name)' with the empty timespan \(timespan)")
        }
        var conflicts: [String] = []
        for (typeName, group) in Dictionary(grouping: refs, by: { $0.datasetType.name }).sorted(by: { $0.key < $1.key }) {
            let typeRecord = try datasetTypeRecord(session, named: typeName)
            let datasetType = typeRecord.datasetType
            guard datasetType.isCalibration else {
                throw ButlerError(
                    .invalidArgument,
                    "cannot certify \(typeName) into '\(name)': it is not a calibration dataset type (register it with isCalibration)")
            }
            let table = try calibTable(session, for: datasetType.dimensions, create: true)!
            // Certifications of one type into one collection take turns where writers run
            // concurrently, so that the check below sees what the other committed; the
            // engine's constraint holds even without it.
            try lock(session, "certify|\(collection.id)|\(typeRecord.id)")
            for ref in group {
                guard let stored = try dataset(session, id: ref.id) else {
                    throw ButlerError.datasetNotFound("cannot certify \(ref): it is not in the registry")
                }
                let overlapping = try calibRows(
                    session, table: table, typeRecord: typeRecord, collection: collection, dataId: stored.dataId, overlapping: timespan)
                if !overlapping.isEmpty {
                    let existing = try overlapping.map { row in
                        "\(row.datasetId.uuidString.lowercased()) in run '\(try self.collection(session, id: row.runId).name)' valid \(row.validity)"
                    }
                    conflicts.append("\(typeName)@\(stored.dataId) for \(timespan) overlaps \(existing.joined(separator: "; "))")
                    continue
                }
                try insertCalibRow(session, table: table, typeRecord: typeRecord, collection: collection, ref: stored, validity: timespan)
            }
        }
        if !conflicts.isEmpty {
            throw ButlerError(
                .conflict,
                "\(conflicts.count) validity range conflict\(conflicts.count == 1 ? "" : "s") certifying into '\(name)'; nothing was certified",
                reasons: conflicts)
        }
    }

    private func insertCalibRow(
        _ session: any SQLSession, table: String, typeRecord: DatasetTypeRecord, collection: CollectionRecord, ref: DatasetRef,
        validity: Timespan
    ) throws {
        let dims = typeRecord.datasetType.dimensions.required
        let sql =
            "INSERT INTO \(table) (dataset_type_id, collection_id, dataset_id, run_id"
            + dims.map { ", " + dialect.quote($0) }.joined() + ", validity_begin, validity_end) VALUES (?, ?, ?, ?"
            + String(repeating: ", ?", count: dims.count + 2) + ")"
        let run = try self.collection(session, named: ref.run)
        let values: [SQLValue] =
            [.integer(typeRecord.id), .integer(collection.id), .uuid(ref.id), .integer(run.id)]
            + dims.map { Self.sqlValue(ref.dataId[$0]!) }
            + [.integer(validity.beginNanoseconds), .integer(validity.endNanoseconds)]
        do {
            try session.execute(sql, values)
        } catch let error as SQLError where error.violated == .overlap {
            throw ButlerError(
                .conflict,
                "certifying \(ref) into '\(collection.name)' for \(validity) overlaps a range another writer certified at the same time",
                cause: error)
        }
    }

    /// Rows of `collection` for this type and data ID whose validity overlaps `timespan`
    /// (every row when it is nil), in order of validity.
    func calibRows(
        _ session: any SQLSession, table: String, typeRecord: DatasetTypeRecord, collection: CollectionRecord, dataId: DataCoordinate,
        overlapping timespan: Timespan?
    ) throws -> [CalibRow] {
        let dims = typeRecord.datasetType.dimensions.required
        var sql =
            "SELECT dataset_id, run_id, validity_begin, validity_end FROM \(table) WHERE dataset_type_id = ? AND collection_id = ?"
            + dims.map { " AND \(dialect.quote($0)) = ?" }.joined()
        var arguments: [SQLValue] = [.integer(typeRecord.id), .integer(collection.id)] + dims.map { Self.sqlValue(dataId[$0]!) }
        if let timespan {
            sql += " AND validity_begin < ? AND ? < validity_end"
            arguments += [.integer(timespan.endNanoseconds), .integer(timespan.beginNanoseconds)]
        }
        return try session.query(sql + " ORDER BY validity_begin", arguments).map { row in
            CalibRow(
                datasetId: row[0].uuidValue!, runId: row[1].int64!, validity: Timespan(nanoseconds: row[2].int64!, row[3].int64!))
        }
    }

    /// Removes `timespan` from the validity of the certifications of `typeName` in `name`
    /// (of `dataIds` only, when given): ranges inside it go, ranges reaching past it are cut
    /// to what lies outside (one range can become two). Returns how many ranges changed.
    @discardableResult
    func decertify(
        _ session: any SQLSession, collection name: String, datasetType typeName: String, timespan: Timespan, dataIds: [DataCoordinate]?
    ) throws -> Int {
        let collection = try collection(session, named: name)
        guard collection.type == .calibration else {
            throw ButlerError.collection("'\(name)' is \(collection.type.rawValue); only CALIBRATION collections can be decertified")
        }
        let typeRecord = try datasetTypeRecord(session, named: typeName)
        guard typeRecord.datasetType.isCalibration else {
            throw ButlerError(.invalidArgument, "\(typeName) is not a calibration dataset type; nothing of it is certified")
        }
        guard let table = try calibTable(session, for: typeRecord.datasetType.dimensions, create: false) else { return 0 }
        try lock(session, "certify|\(collection.id)|\(typeRecord.id)")
        let dims = typeRecord.datasetType.dimensions.required
        var sql =
            "SELECT calib_id, dataset_id, validity_begin, validity_end"
            + dims.map { ", \(dialect.quote($0))" }.joined()
            + " FROM \(table) WHERE dataset_type_id = ? AND collection_id = ? AND validity_begin < ? AND ? < validity_end"
        var arguments: [SQLValue] = [
            .integer(typeRecord.id), .integer(collection.id), .integer(timespan.endNanoseconds), .integer(timespan.beginNanoseconds),
        ]
        if let dataIds {
            if dataIds.isEmpty { return 0 }
            let one = "(" + (dims.isEmpty ? "1 = 1" : dims.map { "\(dialect.quote($0)) = ?" }.joined(separator: " AND ")) + ")"
            sql += " AND (" + Array(repeating: one, count: dataIds.count).joined(separator: " OR ") + ")"
            for dataId in dataIds {
                for dimension in dims {
                    guard let value = dataId[dimension] else {
                        throw ButlerError.invalidDataId("decertify \(typeName): data ID \(dataId) lacks '\(dimension)'")
                    }
                    arguments.append(Self.sqlValue(value))
                }
            }
        }
        let rows = try session.query(sql, arguments)
        for row in rows {
            let validity = Timespan(nanoseconds: row[2].int64!, row[3].int64!)
            try session.execute("DELETE FROM \(table) WHERE calib_id = ?", [row[0]])
            var values: [String: DataIdValue] = [:]
            for (index, dimension) in dims.enumerated() { values[dimension] = Self.dataIdValue(row[4 + index]) }
            guard let ref = try dataset(session, id: row[1].uuidValue!) else { continue }
            for piece in validity.difference(timespan) where !piece.isEmpty {
                try insertCalibRow(session, table: table, typeRecord: typeRecord, collection: collection, ref: ref, validity: piece)
            }
        }
        return rows.count
    }

    /// The certifications in the CALIBRATION collections of `path` for `typeRecord`: each
    /// dataset with its collection and validity range, ordered by collection, data ID and time.
    func calibAssociations(
        _ session: any SQLSession, _ typeRecord: DatasetTypeRecord, in path: [CollectionRecord]
    ) throws -> [DatasetAssociation] {
        let calibrations = path.filter { $0.type == .calibration }
        guard !calibrations.isEmpty, typeRecord.datasetType.isCalibration,
            let table = try calibTable(session, for: typeRecord.datasetType.dimensions, create: false)
        else { return [] }
        let dims = typeRecord.datasetType.dimensions.required
        let sql =
            "SELECT dataset_id, collection_id, run_id, validity_begin, validity_end"
            + dims.map { ", \(dialect.quote($0))" }.joined()
            + " FROM \(table) WHERE dataset_type_id = ? AND collection_id IN ("
            + Array(repeating: "?", count: calibrations.count).joined(separator: ", ") + ")"
        let rows = try session.query(sql, [.integer(typeRecord.id)] + calibrations.map { .integer($0.id) })
        var associations: [DatasetAssociation] = []
        for row in rows {
            var values: [DataIdValue?] = []
            for index in dims.indices { values.append(Self.dataIdValue(row[5 + index])) }
            let dataId = DataCoordinate(dimensions: typeRecord.datasetType.dimensions, requiredValues: values)
            let ref = DatasetRef(
                id: row[0].uuidValue!, datasetType: typeRecord.datasetType, dataId: dataId,
                run: try collection(session, id: row[2].int64!).name)
            associations.append(
                DatasetAssociation(
                    ref: ref, collection: try collection(session, id: row[1].int64!).name,
                    timespan: Timespan(nanoseconds: row[3].int64!, row[4].int64!)))
        }
        return associations.sorted { lhs, rhs in
            if lhs.collection != rhs.collection { return lhs.collection < rhs.collection }
            if lhs.ref.dataId != rhs.ref.dataId { return lhs.ref.dataId.requiredValuesPrecede(rhs.ref.dataId) }
            return (lhs.timespan?.beginNanoseconds ?? 0) < (rhs.timespan?.beginNanoseconds ?? 0)
        }
    }
}

/// A dataset's membership of a collection (daf_butler's `DatasetAssociation`): for a
/// CALIBRATION collection, with the validity range it was certified for.
public struct DatasetAssociation: Sendable, Hashable {
    /// The dataset.
    public let ref: DatasetRef
    /// The collection it belongs to.
    public let collection: String
    /// Its validity range in a CALIBRATION collection; nil in other collections.
    public let timespan: Timespan?
}
