import Foundation
import Sky

/// The registry schema, written once over the dialect seam.
extension Registry {
    /// The schema version this code writes and reads.
    static let schemaVersion = "5"

    /// Older schema versions this code upgrades when it opens a repository for writing, and
    /// reads as they are (without what they lack): version 3 lacks the calibration and
    /// dataset-field tables, version 4 the region overlap tables.
    static let upgradableSchemaVersions: Set<String> = ["3", "4"]

    /// Creates every table of a new repository.
    func createSchema(_ session: any SQLSession) throws {
        let d = dialect
        try session.execute(
            """
            CREATE TABLE butler_attributes (name TEXT PRIMARY KEY, value TEXT NOT NULL)
            """)
        try session.execute(
            """
            CREATE TABLE collection (
                collection_id \(d.autoIncrementPrimaryKey),
                name TEXT NOT NULL UNIQUE,
                type \(d.bigintType) NOT NULL,
                doc TEXT NOT NULL DEFAULT '')
            """)
        try session.execute(
            """
            CREATE TABLE collection_chain (
                parent \(d.bigintType) NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE,
                position \(d.bigintType) NOT NULL,
                child \(d.bigintType) NOT NULL REFERENCES collection (collection_id),
                PRIMARY KEY (parent, position))
            """)
        try session.execute(
            """
            CREATE TABLE dataset_type (
                dataset_type_id \(d.autoIncrementPrimaryKey),
                name TEXT NOT NULL UNIQUE,
                dimensions TEXT NOT NULL,
                storage_class TEXT NOT NULL,
                is_calibration \(d.bigintType) NOT NULL,
                tag_table TEXT NOT NULL)
            """)
        // One association table per dimension group, as in daf_butler: dimension values are
        // real columns, so lookups and queries use indexes. CALIBRATION collections have a
        // table per group too, with validity-range columns.
        try session.execute(
            """
            CREATE TABLE dataset_tag_tables (
                dimensions TEXT PRIMARY KEY,
                tag_table TEXT NOT NULL UNIQUE)
            """)
        try createVersion4Tables(session)
        try session.execute(
            """
            CREATE TABLE dataset (
                id \(d.uuidType) PRIMARY KEY,
                dataset_type_id \(d.bigintType) NOT NULL REFERENCES dataset_type (dataset_type_id),
                run_id \(d.bigintType) NOT NULL REFERENCES collection (collection_id),
                ingest_date \(d.bigintType) NOT NULL)
            """)
        try session.execute("CREATE INDEX dataset_run ON dataset (run_id, dataset_type_id)")
        for name in universe.order {
            let element = universe.elements[name]!
            if element.isSkypix { continue }
            try createDimensionTable(session, element)
        }
        try createOverlapTables(session)
        try setAttribute(session, "schema_version", Self.schemaVersion)
        try setAttribute(session, "universe_namespace", universe.namespace)
        try setAttribute(session, "universe_version", String(universe.version))
    }

    /// Checks that an existing repository was written with a schema and universe we read.
    func checkSchema(_ session: any SQLSession, source: String) throws {
        guard try !session.query(dialect.tableExistsQuery, [.text("butler_attributes")]).isEmpty else {
            throw ButlerError.configuration("\(source) holds no Butler registry (run `butler create` first)")
        }
        let version = try attribute(session, "schema_version")
        guard version == Self.schemaVersion || version.map(Self.upgradableSchemaVersions.contains) == true else {
            throw ButlerError.configuration(
                "\(source) has registry schema version \(version ?? "none"); this Butler reads version \(Self.schemaVersion)")
        }
        // An older version is read as it is until a writeable open upgrades it: without field
        // tables (3), without overlap tables (3, 4).
        let current = version == Self.schemaVersion
        cached {
            $0.hasFieldTables = version != "3"
            $0.hasOverlapTables = current
        }
        let namespace = try attribute(session, "universe_namespace")
        let universeVersion = try attribute(session, "universe_version")
        guard namespace == universe.namespace, universeVersion == String(universe.version) else {
            throw ButlerError.configuration(
                "\(source) was created with dimension universe \(namespace ?? "?") v\(universeVersion ?? "?"), but the configuration loads \(universe.namespace) v\(universe.version)"
            )
        }
    }

    /// Brings an older schema to ``schemaVersion`` (adding what it lacks) in the caller's
    /// write transaction; does nothing when it is current. Concurrent openers take turns.
    func upgradeSchema(_ session: any SQLSession) throws {
        try lock(session, "schema")
        guard let version = try attribute(session, "schema_version"), version != Self.schemaVersion else { return }
        if version == "3" {
            try createVersion4Tables(session)
            for name in universe.order {
                if let element = universe.elements[name], element.hasTimespan, !element.isSkypix {
                    try createTimespanIndex(session, element)
                }
            }
        }
        if version == "3" || version == "4" {
            // Elements the universe gained since (exposure_detector_region).
            for name in universe.order {
                let element = universe.elements[name]!
                if !element.isSkypix, try session.query(dialect.tableExistsQuery, [.text(Self.dimensionTable(name))]).isEmpty {
                    try createDimensionTable(session, element)
                }
            }
            try createOverlapTables(session)
            try rewriteRegions(session)
        }
        cached {
            $0.hasFieldTables = true
            $0.hasOverlapTables = true
        }
        try setAttribute(session, "schema_version", Self.schemaVersion)
    }

    /// Whether the repository's schema is older than this code's.
    func needsSchemaUpgrade(_ session: any SQLSession) throws -> Bool {
        try attribute(session, "schema_version") != Self.schemaVersion
    }

    /// What version 4 added: the calibration tables' index and dataset field definitions (and
    /// the timespan indexes of temporal elements).
    private func createVersion4Tables(_ session: any SQLSession) throws {
        try session.execute(
            """
            CREATE TABLE dataset_calib_tables (
                dimensions TEXT PRIMARY KEY,
                calib_table TEXT NOT NULL UNIQUE)
            """)
        try session.execute(
            """
            CREATE TABLE dataset_type_field (
                dataset_type_id \(dialect.bigintType) NOT NULL REFERENCES dataset_type (dataset_type_id) ON DELETE CASCADE,
                position \(dialect.bigintType) NOT NULL,
                name TEXT NOT NULL,
                type TEXT NOT NULL,
                source TEXT NOT NULL,
                PRIMARY KEY (dataset_type_id, name))
            """)
    }

    /// What version 5 added: per spatial element, the common-skypix pixels of each record's
    /// region (the coarse half of spatial joins and OVERLAPS), indexed by pixel.
    private func createOverlapTables(_ session: any SQLSession) throws {
        for element in universe.spatialElements {
            let table = DimensionUniverse.overlapTable(element.name)
            let keys = universe.identifyingColumns(of: element).map { dialect.quote($0) }
            let types = universe.identifyingDimensions(of: element).map { sqlType(universe.elements[$0]!.primaryKey!.type) }
            let lines =
                zip(keys, types).map { "\($0) \($1) NOT NULL" } + [
                    "skypix_index \(dialect.bigintType) NOT NULL",
                    "PRIMARY KEY (\((keys + ["skypix_index"]).joined(separator: ", ")))",
                ]
            try session.execute("CREATE TABLE \(table) (\n    " + lines.joined(separator: ",\n    ") + ")")
            try session.execute("CREATE INDEX \(table)_pixel ON \(table) (skypix_index)")
        }
    }

    /// Regions written before version 5 were opaque text: each becomes sphgeom's base64 (an
    /// IVOA POS string is converted) with its overlap rows; text that is neither stops the
    /// upgrade, naming the record.
    private func rewriteRegions(_ session: any SQLSession) throws {
        for element in universe.spatialElements {
            let field = universe.regionField(of: element)!
            let keys = universe.identifyingColumns(of: element)
            let table = Self.dimensionTable(element.name)
            let rows = try session.query(
                "SELECT \((keys + [field]).map { dialect.quote($0) }.joined(separator: ", ")) FROM \(table) WHERE \(dialect.quote(field)) IS NOT NULL",
                [])
            for row in rows {
                let key = keys.indices.map { row[$0] }
                guard case .text(let text) = row[keys.count] else { continue }
                let region: Region
                do { region = try Self.parseRegion(text) } catch let error as SkyError {
                    throw ButlerError.configuration(
                        "cannot upgrade the registry: \(element.name) record \(zip(keys, key).map { "\($0)=\($1)" }.joined(separator: ", ")) has region '\(text.prefix(80))', which is neither sphgeom base64 nor an IVOA POS string (\(error.message)) — correct or clear that value in the registry database, then open it again"
                    )
                }
                try session.execute(
                    "UPDATE \(table) SET \(dialect.quote(field)) = ? WHERE "
                        + keys.map { "\(dialect.quote($0)) = ?" }.joined(separator: " AND "),
                    [.text(region.base64)] + key)
                try writeOverlaps(session, element, key: key, region: region, replacing: false)
            }
        }
    }

    func setAttribute(_ session: any SQLSession, _ name: String, _ value: String) throws {
        try session.execute(
            """
            INSERT INTO butler_attributes (name, value) VALUES (?, ?)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value
            """, [.text(name), .text(value)])
    }

    func attribute(_ session: any SQLSession, _ name: String) throws -> String? {
        try session.queryOne("SELECT value FROM butler_attributes WHERE name = ?", [.text(name)])?[0].string
    }

    /// The table holding `element`'s records.
    static func dimensionTable(_ element: String) -> String { "dim_" + element }

    private func createDimensionTable(_ session: any SQLSession, _ element: DimensionElement) throws {
        let columns = universe.recordColumns(of: element)
        var lines = columns.map { column in
            "\(dialect.quote(column.name)) \(sqlType(column.type))\(column.isKey ? " NOT NULL" : "")"
        }
        let keyColumns = columns.filter(\.isKey).map { dialect.quote($0.name) }
        lines.append("PRIMARY KEY (\(keyColumns.joined(separator: ", ")))")
        let required = universe.requiredClosure(of: element)
        for alternate in element.keys.dropFirst() {
            let unique = required.map { dialect.quote($0) } + [dialect.quote(alternate.name)]
            lines.append("UNIQUE (\(unique.joined(separator: ", ")))")
        }
        for dependency in element.requires {
            let target = universe.elements[dependency]!
            let targetKeys = universe.requiredClosure(of: target) + [dependency]
            let targetColumns = universe.requiredClosure(of: target) + [target.primaryKey!.name]
            lines.append(
                """
                FOREIGN KEY (\(targetKeys.map { dialect.quote($0) }.joined(separator: ", "))) \
                REFERENCES \(Self.dimensionTable(dependency)) (\(targetColumns.map { dialect.quote($0) }.joined(separator: ", ")))
                """)
        }
        try session.execute(
            "CREATE TABLE \(Self.dimensionTable(element.name)) (\n    " + lines.joined(separator: ",\n    ") + ")")
        if element.hasTimespan { try createTimespanIndex(session, element) }
    }

    /// An index on a temporal element's begin, per parent: temporal joins bound the begin on
    /// both sides (decision 39), and `timespan OVERLAPS` ranges use it too.
    private func createTimespanIndex(_ session: any SQLSession, _ element: DimensionElement) throws {
        let table = Self.dimensionTable(element.name)
        let columns = universe.requiredClosure(of: element).map { dialect.quote($0) } + ["timespan_begin"]
        try session.execute("CREATE INDEX IF NOT EXISTS \(table)_timespan ON \(table) (\(columns.joined(separator: ", ")))")
    }

    func sqlType(_ type: FieldType) -> String {
        switch type {
        case .int, .bool: return dialect.bigintType
        case .float: return dialect.doubleType
        case .string, .region: return "TEXT"
        }
    }

    /// The association table for `group`, created on first use.
    func tagTable(_ session: any SQLSession, for group: DimensionGroup) throws -> String {
        let key = group.required.joined(separator: ",")
        if let existing = try session.queryOne(
            "SELECT tag_table FROM dataset_tag_tables WHERE dimensions = ?", [.text(key)])?[0].string
        {
            return existing
        }
        let count = try session.queryOne("SELECT COUNT(*) FROM dataset_tag_tables", [])?[0].int64 ?? 0
        let table = String(format: "dataset_tags_%08lld", count + 1)
        var lines = associationColumns(group)
        lines.append("PRIMARY KEY (collection_id, dataset_id)")
        let unique = ["dataset_type_id", "collection_id"] + group.required.map { dialect.quote($0) }
        lines.append("UNIQUE (\(unique.joined(separator: ", ")))")
        try session.execute("CREATE TABLE \(table) (\n    " + lines.joined(separator: ",\n    ") + ")")
        try createAssociationIndexes(session, table, group)
        try session.execute(
            "INSERT INTO dataset_tag_tables (dimensions, tag_table) VALUES (?, ?)", [.text(key), .text(table)])
        return table
    }

    /// The columns a tag or calibration table starts with: what is associated with what, and
    /// the dimension values of the dataset's data ID.
    func associationColumns(_ group: DimensionGroup) -> [String] {
        var lines = [
            "dataset_type_id \(dialect.bigintType) NOT NULL REFERENCES dataset_type (dataset_type_id)",
            "collection_id \(dialect.bigintType) NOT NULL REFERENCES collection (collection_id) ON DELETE CASCADE",
            "dataset_id \(dialect.uuidType) NOT NULL REFERENCES dataset (id) ON DELETE CASCADE",
            // The dataset's RUN, copied here (it never changes) so that finds and queries need
            // no join with `dataset`.
            "run_id \(dialect.bigintType) NOT NULL",
        ]
        for name in group.required {
            lines.append("\(dialect.quote(name)) \(sqlType(universe.elements[name]!.primaryKey!.type)) NOT NULL")
        }
        return lines
    }

    /// The indexes every association table has beyond its key: by dataset, and per dimension
    /// after the first — the key serves look-ups by the full data ID, queries constrain single
    /// dimensions (`visit = 42`).
    func createAssociationIndexes(_ session: any SQLSession, _ table: String, _ group: DimensionGroup) throws {
        try session.execute("CREATE INDEX \(table)_dataset ON \(table) (dataset_id)")
        for name in group.required.dropFirst() {
            try session.execute("CREATE INDEX \(table)_\(name) ON \(table) (\(dialect.quote(name)), collection_id)")
        }
    }
}
