import Composites
import Foundation

/// Dataset types: defined at run time, immutable once defined.
extension Registry {
    /// Registers `datasetType`; returns false if an identical definition exists. An existing
    /// definition may gain fields (added empty; `index-fields` fills them for existing datasets).
    /// - Throws: ``ButlerError/Code/datasetTypeConflict`` showing both definitions.
    @discardableResult
    func registerDatasetType(_ session: any SQLSession, _ datasetType: DatasetType) throws -> Bool {
        try DatasetType.validate(name: datasetType.name)
        // Registrations are serialized between processes: two first registrations (parallel
        // ingests into a fresh repository) would both create the same tag table.
        try lock(session, "dataset_type")
        if let existing = try findDatasetType(session, named: datasetType.name) {
            guard existing.datasetType == datasetType else {
                throw ButlerError.datasetTypeConflict(
                    existing: existing.datasetType.description, new: datasetType.description)
            }
            var added: [DatasetField] = []
            for field in datasetType.fields {
                if let current = existing.datasetType.field(named: field.name) {
                    guard current == field else {
                        throw ButlerError.datasetTypeConflict(
                            existing: "\(existing.datasetType.name) field \(current)", new: "\(datasetType.name) field \(field)")
                    }
                } else if !added.contains(where: { $0.name == field.name }) {
                    added.append(field)
                }
            }
            guard !added.isEmpty else { return false }
            try addFields(session, added, to: existing)
            forget(datasetType: datasetType.name)
            return true
        }
        let table = try tagTable(session, for: datasetType.dimensions)
        let row = try session.queryOne(
            """
            INSERT INTO dataset_type (name, dimensions, storage_class, is_calibration, tag_table)
            VALUES (?, ?, ?, ?, ?) RETURNING dataset_type_id
            """,
            [
                .text(datasetType.name), .text(datasetType.dimensions.required.joined(separator: ",")),
                .text(datasetType.storageClassName), .integer(datasetType.isCalibration ? 1 : 0), .text(table),
            ])
        guard let id = row?[0].int64 else { throw ButlerError.configuration("could not register \(datasetType)") }
        let bare = DatasetType(
            name: datasetType.name, dimensions: datasetType.dimensions, storageClass: datasetType.storageClassName,
            isCalibration: datasetType.isCalibration)
        var unique: [DatasetField] = []
        for field in datasetType.fields where !unique.contains(where: { $0.name == field.name }) { unique.append(field) }
        if !unique.isEmpty { try addFields(session, unique, to: DatasetTypeRecord(id: id, datasetType: bare, tagTable: table)) }
        let record = DatasetTypeRecord(id: id, datasetType: datasetType, tagTable: table)
        cached {
            $0.datasetTypesByName[datasetType.name] = record
            $0.datasetTypesById[id] = record
        }
        return true
    }

    /// Declares `fields` of a registered type: their definitions, and their columns (indexed)
    /// in the type's field table, created with the first.
    private func addFields(_ session: any SQLSession, _ fields: [DatasetField], to record: DatasetTypeRecord) throws {
        guard cached({ $0.hasFieldTables }) else {
            throw ButlerError.configuration("this repository's schema predates dataset fields; open it writeable once to upgrade it")
        }
        let table = record.fieldTable
        if record.datasetType.fields.isEmpty {
            // `field_count`: how many fields (they are only ever appended) a row's values were
            // taken for, so that rows from before a field was added count as not yet indexed.
            try session.execute(
                """
                CREATE TABLE \(table) (
                    dataset_id \(dialect.uuidType) PRIMARY KEY REFERENCES dataset (id) ON DELETE CASCADE,
                    field_count \(dialect.bigintType) NOT NULL)
                """)
        }
        var position = Int64(record.datasetType.fields.count)
        for field in fields {
            try session.execute(
                "INSERT INTO dataset_type_field (dataset_type_id, position, name, type, source) VALUES (?, ?, ?, ?, ?)",
                [.integer(record.id), .integer(position), .text(field.name), .text(field.type.rawValue), .text(field.source)])
            position += 1
            try session.execute("ALTER TABLE \(table) ADD COLUMN \(dialect.quote(field.name)) \(sqlType(field.type))")
            // With the dataset ID, so that a range of values gives the IDs from the index alone.
            try session.execute("CREATE INDEX \(table)_\(field.name) ON \(table) (\(dialect.quote(field.name)), dataset_id)")
        }
    }

    /// Stores the field values of one dataset (replacing any it had); `values` holds one
    /// entry per declared field, `.null` for a value the dataset lacks.
    func setFieldValues(_ session: any SQLSession, _ record: DatasetTypeRecord, datasetId: UUID, values: [String: JSONValue]) throws {
        let fields = record.datasetType.fields
        guard !fields.isEmpty else { return }
        let columns = fields.map { dialect.quote($0.name) }
        var arguments: [SQLValue] = [.uuid(datasetId), .integer(Int64(fields.count))]
        for field in fields {
            switch values[field.name] ?? .null {
            case .int(let int): arguments.append(field.type == .float ? .real(Double(int)) : .integer(int))
            case .double(let double): arguments.append(.real(double))
            case .string(let text): arguments.append(.text(text))
            case .bool(let bool): arguments.append(.integer(bool ? 1 : 0))
            default: arguments.append(.null)
            }
        }
        try session.execute(
            "INSERT INTO \(record.fieldTable) (dataset_id, field_count, " + columns.joined(separator: ", ") + ") VALUES (?, ?"
                + String(repeating: ", ?", count: fields.count)
                + ") ON CONFLICT (dataset_id) DO UPDATE SET field_count = excluded.field_count, "
                + columns.map { "\($0) = excluded.\($0)" }.joined(separator: ", "),
            arguments)
    }

    /// The stored field values of datasets of `record`, by dataset ID (absent: never indexed).
    func fieldValues(_ session: any SQLSession, _ record: DatasetTypeRecord, ids: [UUID]) throws -> [UUID: [String: JSONValue]] {
        let fields = record.datasetType.fields
        guard !fields.isEmpty, !ids.isEmpty else { return [:] }
        var result: [UUID: [String: JSONValue]] = [:]
        let select = "SELECT dataset_id, " + fields.map { dialect.quote($0.name) }.joined(separator: ", ") + " FROM \(record.fieldTable)"
        // In slices, under every engine's limit on bound parameters.
        for start in stride(from: 0, to: ids.count, by: 500) {
            let slice = ids[start..<min(ids.count, start + 500)]
            let rows = try session.query(
                select + " WHERE dataset_id IN (" + Array(repeating: "?", count: slice.count).joined(separator: ", ") + ")",
                slice.map { .uuid($0) })
            for row in rows {
                var values: [String: JSONValue] = [:]
                for (index, field) in fields.enumerated() {
                    let value = row[1 + index]
                    switch (field.type, value) {
                    case (_, .null): values[field.name] = .null
                    case (.bool, .integer(let int)): values[field.name] = .bool(int != 0)
                    case (.float, _): values[field.name] = value.double.map(JSONValue.double) ?? .null
                    case (_, .integer(let int)): values[field.name] = .int(int)
                    case (_, .text(let text)): values[field.name] = .string(text)
                    default: values[field.name] = .string(value.description)
                    }
                }
                result[row[0].uuidValue!] = values
            }
        }
        return result
    }

    /// The IDs among `ids` whose values were never taken for every declared field.
    func datasetsLackingFieldValues(_ session: any SQLSession, _ record: DatasetTypeRecord, ids: [UUID]) throws -> Set<UUID> {
        var complete = Set<UUID>()
        for start in stride(from: 0, to: ids.count, by: 500) {
            let slice = ids[start..<min(ids.count, start + 500)]
            let rows = try session.query(
                "SELECT dataset_id FROM \(record.fieldTable) WHERE field_count = ? AND dataset_id IN ("
                    + Array(repeating: "?", count: slice.count).joined(separator: ", ") + ")",
                [.integer(Int64(record.datasetType.fields.count))] + slice.map { .uuid($0) })
            for row in rows { complete.insert(row[0].uuidValue!) }
        }
        return Set(ids).subtracting(complete)
    }

    /// The dataset type called `name`.
    /// - Throws: ``ButlerError/Code/missingDatasetType`` when it is not registered.
    func datasetTypeRecord(_ session: any SQLSession, named name: String) throws -> DatasetTypeRecord {
        guard let record = try findDatasetType(session, named: name) else { throw ButlerError.missingDatasetType(name) }
        return record
    }

    /// The dataset type called `name`, or nil when it is not registered.
    func findDatasetType(_ session: any SQLSession, named name: String) throws -> DatasetTypeRecord? {
        if let hit = cached({ $0.datasetTypesByName[name] }) { return hit }
        guard
            let row = try session.queryOne(
                """
                SELECT dataset_type_id, name, dimensions, storage_class, is_calibration, tag_table
                FROM dataset_type WHERE name = ?
                """, [.text(name)])
        else { return nil }
        return try cacheDatasetType(session, row)
    }

    /// The dataset type with surrogate key `id`.
    func datasetTypeRecord(_ session: any SQLSession, id: Int64) throws -> DatasetTypeRecord {
        if let hit = cached({ $0.datasetTypesById[id] }) { return hit }
        guard
            let row = try session.queryOne(
                """
                SELECT dataset_type_id, name, dimensions, storage_class, is_calibration, tag_table
                FROM dataset_type WHERE dataset_type_id = ?
                """, [.integer(id)])
        else { throw ButlerError.missingDatasetType("#\(id)") }
        return try cacheDatasetType(session, row)
    }

    private func cacheDatasetType(_ session: any SQLSession, _ row: SQLRow) throws -> DatasetTypeRecord {
        let dimensions = row[2].string!.split(separator: ",").map(String.init)
        let fields =
            try cached({ $0.hasFieldTables })
            ? session.query(
                "SELECT name, type, source FROM dataset_type_field WHERE dataset_type_id = ? ORDER BY position", [row[0]]
            ).map { try DatasetField(name: $0[0].string!, type: FieldType(rawValue: $0[1].string!) ?? .string, source: $0[2].string) }
            : []
        let datasetType = DatasetType(
            name: row[1].string!, dimensions: try universe.group(dimensions),
            storageClass: row[3].string!, isCalibration: row[4].int64 == 1, fields: fields)
        let record = DatasetTypeRecord(id: row[0].int64!, datasetType: datasetType, tagTable: row[5].string!)
        cached {
            $0.datasetTypesByName[datasetType.name] = record
            $0.datasetTypesById[record.id] = record
        }
        return record
    }

    /// Every dataset type whose name matches one of `patterns` (globs; empty = all), by name.
    func datasetTypes(_ session: any SQLSession, matching patterns: [String] = []) throws -> [DatasetType] {
        try session.query(
            "SELECT dataset_type_id, name, dimensions, storage_class, is_calibration, tag_table FROM dataset_type ORDER BY name", []
        )
        .map { try cacheDatasetType(session, $0).datasetType }
        .filter { type in patterns.isEmpty || patterns.contains { Glob.matches($0, type.name) } }
    }

    /// The registered standalone component types of `parent` (`calexp.wcs`, …), by component.
    func componentTypes(_ session: any SQLSession, of parent: String) throws -> [String: DatasetTypeRecord] {
        var result: [String: DatasetTypeRecord] = [:]
        // A prefix compare, not `LIKE 'parent.%'`: SQLite recompiles a statement whose LIKE
        // pattern is a parameter each time the pattern is bound (a quarter of a component
        // get), and `_` in a parent's name would be a wildcard.
        let prefix = parent + "."
        let rows = try session.query(
            """
            SELECT dataset_type_id, name, dimensions, storage_class, is_calibration, tag_table FROM dataset_type
            WHERE substr(name, 1, CAST(? AS INTEGER)) = ?
            """,
            [.integer(Int64(prefix.unicodeScalars.count)), .text(prefix)])
        for row in rows {
            let record = try cacheDatasetType(session, row)
            if let component = record.datasetType.component, record.datasetType.parentName == parent { result[component] = record }
        }
        return result
    }

    /// Removes a dataset type that has no datasets.
    func removeDatasetType(_ session: any SQLSession, _ name: String) throws {
        let record = try datasetTypeRecord(session, named: name)
        let count =
            try session.queryOne(
                "SELECT COUNT(*) FROM dataset WHERE dataset_type_id = ?", [.integer(record.id)])?[0].int64 ?? 0
        guard count == 0 else {
            throw ButlerError.configuration("cannot remove dataset type '\(name)': \(count) datasets of it exist")
        }
        if !record.datasetType.fields.isEmpty {
            try session.execute("DROP TABLE \(record.fieldTable)")
            try session.execute("DELETE FROM dataset_type_field WHERE dataset_type_id = ?", [.integer(record.id)])
        }
        try session.execute("DELETE FROM dataset_type WHERE dataset_type_id = ?", [.integer(record.id)])
        forget(datasetType: name)
    }
}
