import Foundation

/// Dataset types: defined at run time, immutable once defined.
extension Registry {
    /// Registers `datasetType`; returns false if an identical definition exists.
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
            return false
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
        let record = DatasetTypeRecord(id: id, datasetType: datasetType, tagTable: table)
        cached {
            $0.datasetTypesByName[datasetType.name] = record
            $0.datasetTypesById[id] = record
        }
        return true
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
        return try cacheDatasetType(row)
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
        return try cacheDatasetType(row)
    }

    private func cacheDatasetType(_ row: SQLRow) throws -> DatasetTypeRecord {
        let dimensions = row[2].string!.split(separator: ",").map(String.init)
        let datasetType = DatasetType(
            name: row[1].string!, dimensions: try universe.group(dimensions),
            storageClass: row[3].string!, isCalibration: row[4].int64 == 1)
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
        .map { try cacheDatasetType($0).datasetType }
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
            let record = try cacheDatasetType(row)
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
        try session.execute("DELETE FROM dataset_type WHERE dataset_type_id = ?", [.integer(record.id)])
        forget(datasetType: name)
    }
}
