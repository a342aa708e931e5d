import Composites
import Foundation
import Sky

/// How ``Registry/insertDimensionRecords(_:element:records:mode:)`` treats existing records.
public enum RecordInsertMode: String, Sendable, CaseIterable {
    /// An existing record with the same key is an error.
    case insert
    /// Records whose key exists are left as they are.
    case skipExisting = "skip-existing"
    /// Records whose key exists are replaced.
    case replace
}

/// Dimension records and data ID expansion.
extension Registry {
    /// Inserts records of `element`, validating every field; returns how many rows were written.
    @discardableResult
    func insertDimensionRecords(
        _ session: any SQLSession, element name: String, records: [[String: JSONValue]], mode: RecordInsertMode
    ) throws -> Int {
        let element = try universe.element(name)
        guard !element.isSkypix else {
            throw ButlerError.dimensionRecord("'\(name)' is a sky pixelization; it has no records")
        }
        let columns = universe.recordColumns(of: element)
        let keyColumns = columns.filter(\.isKey)
        let names = columns.map { dialect.quote($0.name) }
        var sql =
            "INSERT INTO \(Self.dimensionTable(name)) (\(names.joined(separator: ", "))) VALUES ("
            + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        let conflict = keyColumns.map { dialect.quote($0.name) }.joined(separator: ", ")
        switch mode {
        case .insert: break
        case .skipExisting: sql += " ON CONFLICT (\(conflict)) DO NOTHING"
        case .replace:
            let updates = columns.filter { !$0.isKey }.map { "\(dialect.quote($0.name)) = excluded.\(dialect.quote($0.name))" }
            sql +=
                updates.isEmpty
                ? " ON CONFLICT (\(conflict)) DO NOTHING" : " ON CONFLICT (\(conflict)) DO UPDATE SET " + updates.joined(separator: ", ")
        }
        // RETURNING yields a row only for rows written, on both engines, so skipped records
        // are not counted.
        sql += " RETURNING 1"
        var written = 0
        var checkedParents = Set<RecordKey>()
        for fields in records {
            let (values, region) = try recordValues(element, columns, fields)
            // Dimensions a record requires must exist: say which one is missing, rather than
            // relay a foreign-key failure.
            for dependency in element.requires {
                let target = universe.elements[dependency]!
                let key = (universe.requiredClosure(of: target) + [dependency]).map { values[$0]! }
                let recordKey = RecordKey(element: dependency, key: key.map(Self.dataIdValue))
                if checkedParents.contains(recordKey) { continue }
                guard try fetchRecord(session, element: target, key: recordKey.key) != nil else {
                    throw ButlerError.dimensionRecord(
                        "cannot insert \(name) record \(Self.describe(fields)): no \(dependency) record \(recordKey.key.map(\.description).joined(separator: "/")) exists"
                    )
                }
                checkedParents.insert(recordKey)
            }
            // Implied dimensions with nothing but a key (band) get their record on the fly,
            // as daf_butler derives band values from physical filters.
            for dependency in element.implies {
                let target = universe.elements[dependency]!
                if target.metadata.isEmpty, target.requires.isEmpty, target.keys.count == 1, !target.hasTimespan,
                    let value = values[dependency], value != .null
                {
                    try session.execute(
                        "INSERT INTO \(Self.dimensionTable(dependency)) (\(dialect.quote(target.primaryKey!.name))) VALUES (?) ON CONFLICT DO NOTHING",
                        [value])
                }
            }
            do {
                let wrote = try session.query(sql, columns.map { values[$0.name] ?? .null }).count
                written += wrote
                if wrote > 0, universe.regionField(of: element) != nil {
                    let key = universe.identifyingColumns(of: element).map { values[$0]! }
                    try writeOverlaps(session, element, key: key, region: region, replacing: mode == .replace)
                }
            } catch let error as SQLError where error.isConstraintViolation {
                let key = keyColumns.map { "\($0.name)=\(values[$0.name]?.description ?? "NULL")" }.joined(separator: ", ")
                throw ButlerError.dimensionRecord(
                    "a \(name) record with \(key) already exists (use skip-existing or replace): \(error.message)")
            }
        }
        if mode == .replace { forgetRecords(of: name) }
        return written
    }

    /// Converts a caller's record fields to column values, rejecting unknown fields, missing
    /// keys and values of the wrong type; also returns the record's region, parsed once.
    private func recordValues(
        _ element: DimensionElement, _ columns: [RecordColumn], _ fields: [String: JSONValue]
    ) throws -> (values: [String: SQLValue], region: Region?) {
        var values: [String: SQLValue] = [:]
        var region: Region?
        var fields = fields
        // daf_butler's record field for a dimension's own key may also be given by its name.
        if let primary = element.primaryKey, fields[primary.name] == nil, let value = fields.removeValue(forKey: element.name) {
            fields[primary.name] = value
        }
        if let timespan = fields.removeValue(forKey: "timespan"), element.hasTimespan {
            guard let object = timespan.objectValue else {
                throw ButlerError.dimensionRecord("\(element.name) record \(Self.describe(fields)): timespan must be {begin: …, end: …}")
            }
            // daf_butler's Timespan: a missing bound is unbounded, begin ≥ end is empty.
            func bound(_ name: String) throws -> AstroTime? {
                switch object[name] ?? .null {
                case .null: return nil
                case .int(let nanoseconds): return AstroTime(taiNanoseconds: nanoseconds)
                case .string(let text): return try AstroTime(text)
                default:
                    throw ButlerError.dimensionRecord(
                        "\(element.name) record \(Self.describe(fields)): timespan \(name) must be a time or TAI nanoseconds, got \(object[name]!)"
                    )
                }
            }
            let span: Timespan
            do { span = try Timespan(begin: try bound("begin"), end: try bound("end")) } catch let error as ButlerError {
                throw ButlerError(.dimensionRecord, "\(element.name) record \(Self.describe(fields)): \(error.message)", cause: error)
            }
            fields["timespan_begin"] = .int(span.beginNanoseconds)
            fields["timespan_end"] = .int(span.endNanoseconds)
        }
        let known = Dictionary(uniqueKeysWithValues: columns.map { ($0.name, $0) })
        for (name, value) in fields {
            guard let column = known[name] else {
                throw ButlerError.dimensionRecord(
                    "\(element.name) record \(Self.describe(fields)): unknown field '\(name)'; fields are \(columns.map(\.name).joined(separator: ", "))"
                )
            }
            values[name] = try Self.sqlValue(value, column: column, element: element.name, fields: fields, region: &region)
        }
        for column in columns where column.isKey && (values[column.name] ?? .null) == .null {
            throw ButlerError.dimensionRecord(
                "\(element.name) record \(Self.describe(fields)) is missing key field '\(column.name)'")
        }
        return (values, region)
    }

    /// A field's column value; a region field's parsed region also goes to `region`.
    private static func sqlValue(
        _ value: JSONValue, column: RecordColumn, element: String, fields: [String: JSONValue], region: inout Region?
    ) throws -> SQLValue {
        func bad() -> ButlerError {
            ButlerError.dimensionRecord(
                "\(element) record \(describe(fields)): field '\(column.name)' must be \(column.type.rawValue), got \(value)")
        }
        if value.isNull { return .null }
        switch column.type {
        case .int:
            if column.name.hasPrefix("timespan_"), let text = value.stringValue {
                do { return .integer(try AstroTime(text).taiNanoseconds) } catch { throw bad() }
            }
            if let int = value.intValue { return .integer(int) }
            if let text = value.stringValue, let int = Int64(text) { return .integer(int) }
            throw bad()
        case .bool:
            if let bool = value.boolValue { return .integer(bool ? 1 : 0) }
            if let int = value.intValue, int == 0 || int == 1 { return .integer(int) }
            throw bad()
        case .float:
            if let double = value.doubleValue { return .real(double) }
            if let text = value.stringValue, let double = Double(text) { return .real(double) }
            throw bad()
        case .region:
            // Stored as sphgeom's encoding in base64 (daf_butler's column), whether given so or
            // as an IVOA POS string (`CIRCLE 150 2 0.5`).
            guard let text = value.stringValue else { throw bad() }
            if text.isEmpty { return .null }
            do {
                let parsed = try Self.parseRegion(text)
                region = parsed
                return .text(parsed.base64)
            } catch let error as SkyError {
                throw ButlerError.dimensionRecord(
                    "\(element) record \(describe(fields)): field '\(column.name)' is not a region (sphgeom base64 or an IVOA POS string): \(error.message)"
                )
            }
        case .string:
            if let text = value.stringValue { return .text(text) }
            if let int = value.intValue { return .text(String(int)) }
            throw bad()
        }
    }

    /// A region from a record's text: sphgeom's base64 encoding, or an IVOA POS string.
    static func parseRegion(_ text: String) throws -> Region {
        let head = text.prefix(while: { !$0.isWhitespace })
        if ["CIRCLE", "RANGE", "POLYGON"].contains(head) { return try Region(ivoaPOS: text) }
        return try Region(base64: text)
    }

    /// Replaces the common-skypix pixels listed for one record: its region's envelope, in one
    /// statement.
    func writeOverlaps(_ session: any SQLSession, _ element: DimensionElement, key: [SQLValue], region: Region?, replacing: Bool) throws {
        let table = DimensionUniverse.overlapTable(element.name)
        let keyColumns = universe.identifyingColumns(of: element).map { dialect.quote($0) }
        if replacing {
            try session.execute(
                "DELETE FROM \(table) WHERE " + keyColumns.map { "\($0) = ?" }.joined(separator: " AND "), key)
        }
        guard let region else { return }
        let pixels = universe.commonPixelization.envelope(region).ranges.flatMap { $0.0..<$0.1 }
        // Rows per statement bounded, so the statement text stays within every engine's limits.
        for chunk in stride(from: 0, to: pixels.count, by: 200) {
            let rows = pixels[chunk..<min(pixels.count, chunk + 200)]
            let placeholders = "(" + Array(repeating: "?", count: keyColumns.count + 1).joined(separator: ", ") + ")"
            try session.execute(
                "INSERT INTO \(table) (\(keyColumns.joined(separator: ", ")), skypix_index) VALUES "
                    + Array(repeating: placeholders, count: rows.count).joined(separator: ", "),
                rows.flatMap { key + [.integer(Int64($0))] })
        }
    }

    static func describe(_ fields: [String: JSONValue]) -> String {
        "{" + fields.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
    }

    static func dataIdValue(_ value: SQLValue) -> DataIdValue {
        switch value {
        case .integer(let int): return .int(int)
        case .text(let text): return .string(text)
        default: return .string(value.description)
        }
    }

    static func sqlValue(_ value: DataIdValue) -> SQLValue {
        switch value {
        case .int(let int): return .integer(int)
        case .string(let text): return .text(text)
        }
    }

    /// What a look-up of an element's record by data-ID values found.
    enum RecordLookup {
        /// The record.
        case found(DimensionRecord)
        /// No record has that key: why, as `visit=999 is not a known visit of instrument HSC`.
        case missing(String)
        /// A value of the key was not given.
        case incomplete
    }

    /// The record of `element` whose key `valueOf` gives (each required dimension's value and
    /// the element's own, converted to their types), or the sentence saying none exists.
    func lookUpRecord(_ session: any SQLSession, _ element: DimensionElement, _ valueOf: (String) -> DataIdValue?) throws -> RecordLookup {
        let parents = universe.requiredClosure(of: element)
        var key: [DataIdValue] = []
        for name in parents + [element.name] {
            guard let value = valueOf(name) else { return .incomplete }
            key.append(try universe.convert(value, for: universe.elements[name]!, context: "\(element.name) record key"))
        }
        if let record = try fetchRecord(session, element: element, key: key) { return .found(record) }
        let owner = parents.last.map { " of \($0) \(key[parents.count - 1])" } ?? ""
        return .missing("\(element.name)=\(key.last!) is not a known \(element.name)\(owner)")
    }

    /// The record of `element` with primary-key values `key` (required dimensions, then its
    /// own key), through a per-process cache.
    func fetchRecord(_ session: any SQLSession, element: DimensionElement, key: [DataIdValue]) throws -> DimensionRecord? {
        let cacheKey = RecordKey(element: element.name, key: key)
        if let hit = cached({ $0.records[cacheKey] }) { return hit }
        let columns = universe.recordColumns(of: element)
        let keyColumns = columns.filter(\.isKey)
        let sql =
            "SELECT " + columns.map { dialect.quote($0.name) }.joined(separator: ", ")
            + " FROM \(Self.dimensionTable(element.name)) WHERE "
            + keyColumns.map { "\(dialect.quote($0.name)) = ?" }.joined(separator: " AND ")
        guard let row = try session.queryOne(sql, key.map(Self.sqlValue)) else { return nil }
        let record = Self.record(element.name, columns, row)
        cached { cache in
            if cache.records.count > 100_000 { cache.records.removeAll(keepingCapacity: true) }
            cache.records[cacheKey] = record
        }
        return record
    }

    static func record(_ element: String, _ columns: [RecordColumn], _ row: SQLRow) -> DimensionRecord {
        var fields: [String: JSONValue] = [:]
        for (index, column) in columns.enumerated() {
            let value = row[index]
            switch (column.type, value) {
            case (_, .null): fields[column.name] = .null
            case (.bool, .integer(let int)): fields[column.name] = .bool(int != 0)
            case (.float, _): fields[column.name] = value.double.map(JSONValue.double) ?? .null
            case (_, .integer(let int)): fields[column.name] = .int(int)
            case (_, .text(let text)): fields[column.name] = .string(text)
            default: fields[column.name] = .string(value.description)
            }
        }
        return DimensionRecord(element: element, fields: fields)
    }

    /// Fills the implied values of a data ID from records, checking that every required
    /// dimension has a record and that implied values the caller gave agree with them.
    func expand(_ session: any SQLSession, _ dataId: DataCoordinate, context: String) throws -> DataCoordinate {
        var values = dataId.values
        // Records of known dimensions supply the values of the dimensions they imply
        // (visit → physical_filter → band), so resolve in rounds until nothing is pending.
        var pending = dataId.dimensions.names.filter { !universe.elements[$0]!.isSkypix }
        while let index = pending.firstIndex(where: { values[$0] != nil }) {
            let name = pending.remove(at: index)
            let element = universe.elements[name]!
            let value = values[name]!
            let key = universe.requiredClosure(of: element).map { values[$0]! } + [value]
            guard let record = try fetchRecord(session, element: element, key: key) else {
                throw ButlerError.invalidDataId(
                    "\(context): no \(name) record for \(name)=\(value) (data ID \(dataId)); insert it first")
            }
            for implied in element.implies {
                let recorded = record[implied]
                if recorded.isNull { continue }
                let recordedValue: DataIdValue = recorded.intValue.map(DataIdValue.int) ?? .string(recorded.description)
                if let given = values[implied], given != recordedValue {
                    throw ButlerError.invalidDataId(
                        "\(context): \(implied)=\(given) is inconsistent with the \(name) record for \(name)=\(value), which has \(implied)=\(recordedValue)"
                    )
                }
                values[implied] = recordedValue
            }
        }
        if let missing = pending.first {
            throw ButlerError.invalidDataId("\(context): no record determines '\(missing)' for \(dataId)")
        }
        return DataCoordinate(dimensions: dataId.dimensions, values: values)
    }

    /// All records of `element` matching `predicate`.
    func queryDimensionRecords(
        _ session: any SQLSession, element name: String, where predicate: QueryExpression?, bind: [String: BindValue]
    ) throws -> [DimensionRecord] {
        let element = try universe.element(name)
        guard !element.isSkypix else { throw ButlerError.query("'\(name)' is a sky pixelization; it has no records") }
        let columns = universe.recordColumns(of: element)
        let context = "records of \(name)"
        var builder = QueryBuilder(universe: universe, dialect: dialect)
        let alias = builder.joinElement(element, keySources: [:])
        // Spatial constraints relate the records to others by overlap, as data ID queries do.
        let spatial = try spatialPlan(base: try universe.group(universe.identifyingDimensions(of: element)), where: predicate, bind: bind)
        for extra in spatial.dimensions.required {
            guard let other = universe.elements[extra], !other.isSkypix, builder.sources[extra] == nil else { continue }
            builder.joinElement(other, keySources: [:])
        }
        if spatial.families.count >= 2 { try builder.joinSpatially(spatial.families, context: context) }
        let condition = try predicate.map { try builder.compile($0, bind: bind, context: context) }
        var evaluator = RegionFilterEvaluator(builder.regionFilters)
        let keys = columns.filter(\.isKey).map { "\(alias).\(dialect.quote($0.name))" }
        let sql =
            "SELECT " + (evaluator.isEmpty ? "" : "DISTINCT ")
            + (columns.map { "\(alias).\(dialect.quote($0.name))" } + evaluator.columns).joined(separator: ", ")
            + " FROM " + builder.fromClause
            + (condition.map { " WHERE \($0.sql)" } ?? "")
            + " ORDER BY " + keys.joined(separator: ", ")
        var records: [DimensionRecord] = []
        var previousKey: [SQLValue]?
        let keyIndices = columns.indices.filter { columns[$0].isKey }
        try session.forEachRow(sql, condition?.arguments ?? []) { row in
            if !evaluator.isEmpty {
                guard try evaluator.passes(offset: columns.count, { row[$0] }) else { return }
                let key = keyIndices.map { row[$0] }
                if key == previousKey { return }
                previousKey = key
            }
            records.append(Self.record(name, columns, SQLRow(columns: columns.map(\.name), values: columns.indices.map { row[$0] })))
        }
        return records
    }
}
