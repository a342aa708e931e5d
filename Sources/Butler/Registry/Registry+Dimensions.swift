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
        let insert = "INSERT INTO \(Self.dimensionTable(name)) (\(names.joined(separator: ", "))) VALUES "
        var tail = ""
        let conflict = keyColumns.map { dialect.quote($0.name) }.joined(separator: ", ")
        switch mode {
        case .insert: break
        case .skipExisting: tail += " ON CONFLICT (\(conflict)) DO NOTHING"
        case .replace:
            let updates = columns.filter { !$0.isKey }.map { "\(dialect.quote($0.name)) = excluded.\(dialect.quote($0.name))" }
            tail +=
                updates.isEmpty
                ? " ON CONFLICT (\(conflict)) DO NOTHING" : " ON CONFLICT (\(conflict)) DO UPDATE SET " + updates.joined(separator: ", ")
        }
        // RETURNING yields a row only for rows written, on both engines, so skipped records
        // are not counted; its keys tell which records' overlaps to write.
        let identifying = universe.identifyingColumns(of: element)
        tail += " RETURNING " + identifying.map { dialect.quote($0) }.joined(separator: ", ")
        var prepared: [(fields: [String: JSONValue], values: [String: SQLValue], region: Region?)] = []
        // Each parent key the records require, once, in their order, with the first record
        // requiring it (for messages).
        var parents: [String: [(key: [DataIdValue], fields: [String: JSONValue])]] = [:]
        var parentKeys: [String: Set<[DataIdValue]>] = [:]
        var impliedKeys: [String: Set<SQLValue>] = [:]
        for fields in records {
            let (values, region) = try recordValues(element, columns, fields)
            prepared.append((fields, values, region))
            for dependency in element.requires {
                let target = universe.elements[dependency]!
                let key = (universe.requiredClosure(of: target) + [dependency]).map { Self.dataIdValue(values[$0]!) }
                if parentKeys[dependency, default: []].insert(key).inserted { parents[dependency, default: []].append((key, fields)) }
            }
            // Implied dimensions with nothing but a key (band) get their record on the fly,
            // as daf_butler derives band values from physical filters.
            for dependency in element.implies {
                let target = universe.elements[dependency]!
                if target.metadata.isEmpty, target.requires.isEmpty, target.keys.count == 1, !target.hasTimespan,
                    let value = values[dependency], value != .null
                {
                    impliedKeys[dependency, default: []].insert(value)
                }
            }
        }
        // Dimensions a record requires must exist: say which one is missing, rather than relay
        // a foreign-key failure. Looked up together (a statement per hundred parents).
        for (dependency, keys) in parents.sorted(by: { $0.key < $1.key }) {
            let target = universe.elements[dependency]!
            try prefetchRecords(session, element: target, keys: parentKeys[dependency]!)
            for (key, fields) in keys {
                guard try fetchRecord(session, element: target, key: key) != nil else {
                    throw ButlerError.dimensionRecord(
                        "cannot insert \(name) record \(Self.describe(fields)): no \(dependency) record \(key.map(\.description).joined(separator: "/")) exists"
                    )
                }
            }
        }
        for (dependency, values) in impliedKeys.sorted(by: { $0.key < $1.key }) {
            let column = dialect.quote(universe.elements[dependency]!.primaryKey!.name)
            let sorted = values.sorted { $0.description < $1.description }
            for start in stride(from: 0, to: sorted.count, by: 400) {
                let chunk = Array(sorted[start..<min(sorted.count, start + 400)])
                try session.execute(
                    "INSERT INTO \(Self.dimensionTable(dependency)) (\(column)) VALUES "
                        + Array(repeating: "(?)", count: chunk.count).joined(separator: ", ") + " ON CONFLICT DO NOTHING", chunk)
            }
        }
        // A key taken (in the table or twice in the batch) is named before the insert: after a
        // failed statement PostgreSQL answers nothing more in the transaction.
        if mode == .insert {
            func describeKey(_ values: [String: SQLValue]) -> String {
                keyColumns.map { "\($0.name)=\(values[$0.name]?.description ?? "NULL")" }.joined(separator: ", ")
            }
            var seen = Set<[DataIdValue]>()
            for record in prepared where !seen.insert(keyColumns.map { Self.dataIdValue(record.values[$0.name]!) }).inserted {
                throw ButlerError.dimensionRecord("\(name) record with \(describeKey(record.values)) is given twice")
            }
            if element.isDimension {
                try prefetchRecords(session, element: element, keys: seen)
                for record in prepared
                where try fetchRecord(session, element: element, key: keyColumns.map { Self.dataIdValue(record.values[$0.name]!) }) != nil {
                    throw ButlerError.dimensionRecord(
                        "a \(name) record with \(describeKey(record.values)) already exists (use skip-existing or replace)")
                }
            }
        }
        // Many records a statement, within every engine's limit on parameters.
        let rowsPerStatement = max(1, 800 / columns.count)
        let rowPlaceholder = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
        var written = 0
        var overlaps: [(key: [SQLValue], region: Region?)] = []
        for start in stride(from: 0, to: prepared.count, by: rowsPerStatement) {
            let chunk = prepared[start..<min(prepared.count, start + rowsPerStatement)]
            let returned: [SQLRow]
            do {
                returned = try session.query(
                    insert + Array(repeating: rowPlaceholder, count: chunk.count).joined(separator: ", ") + tail,
                    chunk.flatMap { record in columns.map { record.values[$0.name] ?? .null } })
            } catch let error as SQLError where error.isConstraintViolation {
                // Taken by a writer since the check above (or a join element's key): the
                // statement's records are named by their first.
                let values = chunk.first!.values
                let key = keyColumns.map { "\($0.name)=\(values[$0.name]?.description ?? "NULL")" }.joined(separator: ", ")
                throw ButlerError.dimensionRecord(
                    "a \(name) record with \(key) (or another of the \(chunk.count) inserted with it) already exists (use skip-existing or replace): \(error.message)"
                )
            }
            written += returned.count
            if universe.regionField(of: element) != nil, !returned.isEmpty {
                let done = Set(returned.map(\.values))
                for record in chunk {
                    let key = identifying.map { record.values[$0]! }
                    if done.contains(key) { overlaps.append((key, record.region)) }
                }
            }
        }
        try writeOverlaps(session, element, overlaps, replacing: mode == .replace)
        if mode == .replace { forgetRecords(of: name) }
        return written
    }

    /// Loads into the record cache the records of `element` with these keys (required
    /// dimensions, then its own) that it does not hold: a statement per hundred keys rather
    /// than one each. Keys with no record are left for ``fetchRecord(_:element:key:)`` to find
    /// missing.
    func prefetchRecords(_ session: any SQLSession, element: DimensionElement, keys: Set<[DataIdValue]>) throws {
        let missing = keys.filter { key in cached { $0.records[RecordKey(element: element.name, key: key)] } == nil }
        guard missing.count > 1 else { return }
        let columns = universe.recordColumns(of: element)
        let keyColumns = columns.filter(\.isKey)
        let keyIndices = columns.indices.filter { columns[$0].isKey }
        let select =
            "SELECT " + columns.map { dialect.quote($0.name) }.joined(separator: ", ") + " FROM \(Self.dimensionTable(element.name)) WHERE "
        let match = "(" + keyColumns.map { "\(dialect.quote($0.name)) = ?" }.joined(separator: " AND ") + ")"
        let ordered = missing.sorted { $0.map(\.description).joined(separator: "/") < $1.map(\.description).joined(separator: "/") }
        for start in stride(from: 0, to: ordered.count, by: 100) {
            let chunk = ordered[start..<min(ordered.count, start + 100)]
            let rows = try session.query(
                select + Array(repeating: match, count: chunk.count).joined(separator: " OR "), chunk.flatMap { $0.map(Self.sqlValue) })
            let records = rows.map { row in
                (
                    RecordKey(element: element.name, key: keyIndices.map { Self.dataIdValue(row[$0]) }),
                    Self.record(element.name, columns, row)
                )
            }
            cached { cache in
                if cache.records.count > 100_000 { cache.records.removeAll(keepingCapacity: true) }
                for (key, record) in records { cache.records[key] = record }
            }
        }
    }

    /// Loads into the record cache every record the data IDs' required dimensions name, and
    /// those their records imply (a visit's physical_filter and day_obs), element by element:
    /// expanding the data IDs afterwards sends no statement per record.
    func prefetchRecords(_ session: any SQLSession, for dataIds: [DataCoordinate]) throws {
        var wanted: [String: Set<[DataIdValue]>] = [:]
        for dataId in dataIds {
            for name in dataId.dimensions.required {
                guard let element = universe.elements[name], !element.isSkypix else { continue }
                let key = (universe.requiredClosure(of: element) + [name]).compactMap { dataId[$0] }
                if key.count == universe.requiredClosure(of: element).count + 1 { wanted[name, default: []].insert(key) }
            }
        }
        var done: [String: Set<[DataIdValue]>] = [:]
        while let (name, keys) = wanted.first(where: { !$0.value.subtracting(done[$0.key] ?? []).isEmpty }) {
            let fresh = keys.subtracting(done[name] ?? [])
            done[name, default: []].formUnion(fresh)
            let element = universe.elements[name]!
            try prefetchRecords(session, element: element, keys: fresh)
            for key in fresh {
                guard let record = cached({ $0.records[RecordKey(element: name, key: key)] }) else { continue }
                for implied in element.implies {
                    guard let target = universe.elements[implied], !target.isSkypix, record[implied] != .null else { continue }
                    let parts = universe.requiredClosure(of: target).map { record[$0] } + [record[implied]]
                    let impliedKey = parts.compactMap { value -> DataIdValue? in
                        switch value {
                        case .int(let number): .int(number)
                        case .string(let text): .string(text)
                        default: nil
                        }
                    }
                    if impliedKey.count == parts.count { wanted[implied, default: []].insert(impliedKey) }
                }
            }
        }
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

    /// Replaces the common-skypix pixels listed for one record: its region's envelope.
    func writeOverlaps(_ session: any SQLSession, _ element: DimensionElement, key: [SQLValue], region: Region?, replacing: Bool) throws {
        try writeOverlaps(session, element, [(key, region)], replacing: replacing)
    }

    /// Replaces the common-skypix pixels listed for records (identifying key, region): the
    /// rows of all of them in statements of 200.
    func writeOverlaps(
        _ session: any SQLSession, _ element: DimensionElement, _ records: [(key: [SQLValue], region: Region?)], replacing: Bool
    )
        throws
    {
        let table = DimensionUniverse.overlapTable(element.name)
        let keyColumns = universe.identifyingColumns(of: element).map { dialect.quote($0) }
        if replacing {
            for (key, _) in records {
                try session.execute("DELETE FROM \(table) WHERE " + keyColumns.map { "\($0) = ?" }.joined(separator: " AND "), key)
            }
        }
        var rows: [[SQLValue]] = []
        for (key, region) in records {
            guard let region else { continue }
            for pixel in universe.commonPixelization.envelope(region).ranges.flatMap({ $0.0..<$0.1 }) {
                rows.append(key + [.integer(Int64(pixel))])
            }
        }
        // Rows per statement bounded, so the statement text stays within every engine's limits.
        let placeholders = "(" + Array(repeating: "?", count: keyColumns.count + 1).joined(separator: ", ") + ")"
        for start in stride(from: 0, to: rows.count, by: 200) {
            let chunk = rows[start..<min(rows.count, start + 200)]
            try session.execute(
                "INSERT INTO \(table) (\(keyColumns.joined(separator: ", ")), skypix_index) VALUES "
                    + Array(repeating: placeholders, count: chunk.count).joined(separator: ", "),
                chunk.flatMap { $0 })
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
