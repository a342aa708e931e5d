import Composites
import Formatters
public import Foundation

/// What an import did.
public struct ImportSummary: Sendable, Equatable {
    /// Datasets registered.
    public var imported: Int
    /// Datasets already in the repository with the same ID, type, data ID and run (a re-run).
    public var alreadyPresent: Int
    /// Dimension records in the file (those already present are kept as they are).
    public var dimensionRecords: Int
    /// Collections in the file.
    public var collections: Int
}

extension Butler {
    /// Imports an export directory: daf_butler's `export.yaml` (its own `butler export`'s, or
    /// ``export(to:collections:where:datasetTypes:transfer:format:exportFile:)``'s) or the
    /// SQLite form (``ExportDatabase``, told apart by its contents), and the artifacts beside
    /// it, keeping every dataset ID. Artifacts the SQLite form lists with a size and checksum
    /// are checked by size and not read again.
    ///
    /// All or nothing: dimension records, collections, dataset types, datasets, artifacts and
    /// memberships go in one registry transaction, and a failure leaves the repository as it
    /// was (no artifact either). Running it again is safe: a dataset already present with the
    /// same ID, type, data ID and run is skipped, dimension records already present are kept.
    /// - Parameters:
    ///   - directory: The export directory; artifact paths in the file are relative to it.
    ///   - exportFile: The export file (default `directory/export.yaml`, or
    ///     `directory/export.sqlite3` when there is no `export.yaml`).
    ///   - transfer: How artifacts come in (`copy`, `move`, `symlink`, `hardlink`, `direct`).
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming the file and line for a malformed
    ///   file; ``ButlerError/Code/conflict`` naming the dataset for an ID taken by a different
    ///   dataset.
    @discardableResult
    public func `import`(from directory: URL, exportFile: URL? = nil, transfer: TransferMode = .copy) async throws -> ImportSummary {
        try requireWriteable("import from \(directory.path)")
        let file =
            exportFile
            ?? ExportFormat.allCases.lazy.map { directory.appendingPathComponent($0.defaultFileName) }.first {
                FileManager.default.fileExists(atPath: $0.path)
            } ?? directory.appendingPathComponent(ExportFormat.yaml.defaultFileName)
        let export: RepositoryExport
        if ExportDatabase.isDatabase(file) {
            export = try ExportDatabase.read(file, universe: universe)
        } else {
            let text: String
            do { text = try String(contentsOf: file, encoding: .utf8) } catch {
                throw ButlerError(.invalidParameter, "cannot read the export file \(file.path)", cause: error)
            }
            export = try ExportFile.read(text, source: file.path)
        }
        guard export.universeNamespace == "daf_butler", export.universeVersion == 8 else {
            throw ButlerError(
                .invalidParameter,
                "\(file.path) was written for dimension universe \(export.universeNamespace) \(export.universeVersion); this repository's is daf_butler 8 (migrate it with daf_butler first)"
            )
        }
        return try await importContents(export, directory: directory, source: file.path, transfer: transfer)
    }

    /// Registers what `export` lists, its artifacts found under `directory` (or at their
    /// absolute paths), in one transaction; `source` names the file or repository in messages.
    /// Datasets with an entry in `values` are written from it instead of from a file (a
    /// subset's disassembled datasets and standalone components). Progress is reported as
    /// `operation`, a dataset at a time.
    func importContents(
        _ export: RepositoryExport, directory: URL, source: String, transfer: TransferMode, values: [UUID: any Sendable] = [:],
        operation: String = "import"
    ) async throws -> ImportSummary {
        let plan = try ImportPlan(export, universe: universe, formatters: formatters, directory: directory, source: source, values: values)
        let progress = ProgressCounter(operation, total: plan.datasets.count)
        let registry = self.registry
        let writeResult: (ImportSummary, [any DatastoreWrite])
        do {
            writeResult = try await importTransaction(export, plan, source: source, transfer: transfer, progress: progress)
        } catch {
            // The registry caches what it registers as it goes; what the rolled-back
            // transaction registered is gone again.
            for collection in export.collections { registry.forget(collection: collection.name) }
            for run in Set(plan.datasets.map(\.ref.run)) { registry.forget(collection: run) }
            for type in plan.datasetTypes { registry.forget(datasetType: type.name) }
            for dimension in plan.dimensions { registry.forgetRecords(of: dimension.element) }
            throw error
        }
        let (summary, writes) = writeResult
        for write in writes { write.finish() }
        return summary
    }

    /// The import's one registry transaction: records, collections, types, datasets with
    /// their staged artifacts, memberships. Returns the writes to finish once it committed.
    private func importTransaction(
        _ export: RepositoryExport, _ plan: ImportPlan, source: String, transfer: TransferMode, progress: ProgressCounter
    ) async throws -> (ImportSummary, [any DatastoreWrite]) {
        let registry = self.registry
        let datastore = self.datastore
        let universe = self.universe
        let storageClasses = self.storageClasses
        return try await registry.database.write { session -> (ImportSummary, [any DatastoreWrite]) in
            var writes: [any DatastoreWrite] = []
            do {
                // Elements in universe order: a record's required and implied records first.
                for element in universe.sorted(Set(plan.dimensions.map(\.element))) {
                    for dimension in plan.dimensions where dimension.element == element {
                        _ = try registry.insertDimensionRecords(session, element: element, records: dimension.records, mode: .skipExisting)
                    }
                }
                for collection in export.collections where collection.type != .chained {
                    try registry.registerCollection(session, collection.name, type: collection.type, doc: collection.doc ?? "")
                }
                for run in Set(plan.datasets.map(\.ref.run)) where try registry.findCollection(session, named: run) == nil {
                    try registry.registerCollection(session, run, type: .run)
                }
                for collection in export.collections where collection.type == .chained {
                    try registry.registerCollection(session, collection.name, type: .chained, doc: collection.doc ?? "")
                    try registry.setChain(session, parent: collection.name, children: collection.children, mode: .redefine)
                }
                var typeRecords: [String: DatasetTypeRecord] = [:]
                for type in plan.datasetTypes {
                    try registry.registerDatasetType(session, type)
                    typeRecords[type.name] = try registry.datasetTypeRecord(session, named: type.name)
                }
                // Statements per batch, not per dataset: IDs looked up together, data IDs
                // expanded from cached records, rows inserted many at a time.
                let existing = try registry.datasets(session, ids: plan.datasets.map(\.ref.id))
                try registry.prefetchRecords(session, for: plan.datasets.map(\.ref.dataId))
                var fresh: [(DatasetRef, DatasetTypeRecord, any DatastoreWrite)] = []
                var present = 0
                for dataset in plan.datasets {
                    defer { progress.advance() }
                    let typeRecord = typeRecords[dataset.ref.datasetType.name]!
                    let expanded = try registry.expand(session, dataset.ref.dataId, context: "data ID of \(dataset.ref.id) in \(source)")
                    let ref = DatasetRef(id: dataset.ref.id, datasetType: typeRecord.datasetType, dataId: expanded, run: dataset.ref.run)
                    if let existing = existing[ref.id] {
                        guard existing.datasetType.name == ref.datasetType.name, existing.run == ref.run,
                            existing.dataId.required.map(\.value) == expanded.required.map(\.value)
                        else {
                            throw ButlerError(
                                .conflict,
                                "\(source): dataset ID \(ref.id.uuidString.lowercased()) is \(ref) there but \(existing) here")
                        }
                        present += 1
                        continue
                    }
                    let write: any DatastoreWrite
                    switch dataset.content {
                    case .file(let artifact, let formatter, let known):
                        write = try datastore.prepareIngest(artifact, for: ref, formatter: formatter, transfer: transfer, known: known)
                    case .value(let value):
                        write = try datastore.prepare(
                            value, for: ref, storageClass: try storageClasses.storageClass(named: ref.datasetType.storageClassName))
                    }
                    writes.append(write)
                    fresh.append((ref, typeRecord, write))
                }
                try datastore.makeDurable(writes)
                // In ID order, the rows keyed by dataset ID go into their indexes in order
                // rather than at random places (a bulk import's pages stay in cache).
                fresh.sort { $0.0.id.isOrderedBefore($1.0.id) }
                var byType: [String: [DatasetRef]] = [:]
                for (ref, _, _) in fresh { byType[ref.datasetType.name, default: []].append(ref) }
                for (name, refs) in byType.sorted(by: { $0.key < $1.key }) {
                    try registry.insertDatasets(session, refs, type: typeRecords[name]!)
                }
                try datastore.commit(fresh.map(\.2), session: session)
                let imported = Dictionary(uniqueKeysWithValues: fresh.map { ($0.0.id, $0.0) })
                for association in export.associations {
                    let refs = association.ids.compactMap { imported[$0] }
                    guard !refs.isEmpty else { continue }
                    if let timespan = association.timespan {
                        try registry.certify(session, collection: association.collection, refs: refs, timespan: timespan)
                    } else {
                        try registry.associate(session, tag: association.collection, refs: refs)
                    }
                }
                try datastore.makePublicationDurable(writes)
                return (
                    ImportSummary(
                        imported: fresh.count, alreadyPresent: present,
                        dimensionRecords: export.dimensions.reduce(0) { $0 + $1.records.count },
                        collections: export.collections.count), writes
                )
            } catch {
                for write in writes { write.abandon() }
                throw error
            }
        }
    }
}

/// The datasets and types of an export, checked before any write: types resolved against the
/// universe, data IDs standardized, artifact files found, formatters named as this Butler names
/// them.
struct ImportPlan {
    struct Dataset {
        /// Where a dataset's bytes come from.
        enum Content {
            /// A file and the formatter that reads it (the datastore's choice when nil), and
            /// what the export recorded of it.
            case file(URL, formatter: String?, known: KnownArtifact?)
            /// An in-memory value the datastore writes as it would a put.
            case value(any Sendable)
        }

        let ref: DatasetRef
        let content: Content
    }

    var datasetTypes: [DatasetType] = []
    var datasets: [Dataset] = []
    /// The records, with fields this universe lacks dropped when they are null.
    var dimensions: [RepositoryExport.DimensionData] = []

    init(
        _ export: RepositoryExport, universe: DimensionUniverse, formatters: FormatterRegistry, directory: URL, source: String,
        values: [UUID: any Sendable] = [:], checkFiles: Bool = true
    ) throws {
        for dimension in export.dimensions {
            guard let element = universe.elements[dimension.element] else {
                throw ButlerError(
                    .invalidParameter, "\(source): dimension element \(dimension.element) is not in this repository's universe")
            }
            let known = Set(universe.recordColumns(of: element).map(\.name))
            let records = try dimension.records.map { record in
                try record.filter { key, value in
                    if known.contains(key) { return true }
                    // A field daf_butler's universe has and this one lacks (visit.seq_num): only
                    // an empty one can be dropped without losing anything.
                    guard value == .null else {
                        throw ButlerError(
                            .invalidParameter,
                            "\(source): \(dimension.element) record field \(key) = \(value) has no column in this repository's universe")
                    }
                    return false
                }
            }
            dimensions.append(.init(element: dimension.element, records: records))
        }
        var types: [String: DatasetType] = [:]
        var seen: [UUID: DatasetRef] = [:]
        var formatterNames: [String: String] = [:]
        let directoryPath = directory.path.hasSuffix("/") ? String(directory.path.dropLast()) : directory.path
        for group in export.datasets {
            let entry = group.datasetType
            let type: DatasetType
            if let known = types[entry.name] {
                type = known
            } else {
                do {
                    type = DatasetType(
                        name: entry.name, dimensions: try universe.group(identifiedBy: entry.dimensions), storageClass: entry.storageClass,
                        isCalibration: entry.isCalibration)
                } catch {
                    throw ButlerError(.invalidParameter, "\(source): dataset type \(entry.name): \(error)", cause: error)
                }
                types[entry.name] = type
                datasetTypes.append(type)
            }
            for file in group.files {
                guard file.ids.count == 1 else {
                    throw ButlerError(
                        .invalidParameter,
                        "\(source): \(file.path) holds \(file.ids.count) datasets; this Butler stores one dataset per artifact")
                }
                let dataId: DataCoordinate
                do {
                    dataId = try universe.standardize(file.dataIds[0], for: type.dimensions, context: "\(source): data ID of \(file.path)")
                } catch {
                    throw ButlerError(.invalidParameter, "\(error)", cause: error)
                }
                let ref = DatasetRef(id: file.ids[0], datasetType: type, dataId: dataId, run: group.run)
                // daf_butler lists a dataset once per collection it was found in.
                if let earlier = seen[ref.id] {
                    guard earlier == ref else {
                        throw ButlerError(
                            .conflict, "\(source): dataset ID \(ref.id.uuidString.lowercased()) is both \(earlier) and \(ref)")
                    }
                    continue
                }
                seen[ref.id] = ref
                if let value = values[ref.id] {
                    datasets.append(Dataset(ref: ref, content: .value(value)))
                    continue
                }
                let artifact = URL(
                    filePath: file.path.hasPrefix("/") ? file.path : directoryPath + "/" + file.path, directoryHint: .notDirectory)
                let known = file.size.map { KnownArtifact(size: $0, checksum: file.checksum) }
                // An artifact with a recorded size is looked at by the ingest (its size
                // checked), once; others are looked for here, before any write.
                guard !checkFiles || known != nil || FileManager.default.fileExists(atPath: artifact.path) else {
                    throw ButlerError(
                        .missingArtifact,
                        "\(source): the artifact of dataset \(file.ids[0].uuidString.lowercased()) is missing: \(artifact.path)")
                }
                let formatter = try file.formatter.map { name -> String in
                    if let known = formatterNames[name] { return known }
                    guard let ours = FormatterNames.ours(name, registry: formatters) else {
                        throw ButlerError(
                            .configuration, "\(source): \(file.path) was written by \(name), which this Butler has no formatter for")
                    }
                    formatterNames[name] = ours
                    return ours
                }
                datasets.append(Dataset(ref: ref, content: .file(artifact, formatter: formatter, known: known)))
            }
        }
        addDerivedRecords(universe: universe)
    }

    /// Records of elements an export never carries (daf_butler derives `band` from
    /// `physical_filter` and keeps no table for it), made from the values the physical
    /// filters and data IDs name; those already present are kept at import.
    private mutating func addDerivedRecords(universe: DimensionUniverse) {
        for name in Butler.derivedElements {
            guard let element = universe.elements[name], let key = element.primaryKey?.name else { continue }
            var values = Set<String>()
            for dimension in dimensions {
                for record in dimension.records { if case .string(let text) = record[name] { values.insert(text) } }
            }
            for dataset in datasets { if case .string(let text) = dataset.ref.dataId[name] { values.insert(text) } }
            guard !values.isEmpty else { continue }
            dimensions.append(.init(element: name, records: values.sorted().map { [key: .string($0)] }))
        }
    }
}

extension UUID {
    /// Whether this ID sorts before `other` as their bytes do (as SQLite and PostgreSQL
    /// order them in an index).
    func isOrderedBefore(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { left in
            withUnsafeBytes(of: other.uuid) { right in
                let (a, b) = (left.loadUnaligned(as: UInt64.self).bigEndian, right.loadUnaligned(as: UInt64.self).bigEndian)
                if a != b { return a < b }
                return left.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian
                    < right.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian
            }
        }
    }
}
