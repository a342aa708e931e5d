import Composites
import Formatters
public import Foundation

/// How an export places artifacts in its directory.
public enum ExportTransfer: String, Sendable, CaseIterable {
    /// Copies the bytes (from any storage).
    case copy
    /// Symbolic links to the repository's files (POSIX datastores only).
    case symlink
    /// Hard links to the repository's files, on the same file system.
    case hardlink
}

/// The form of an export file.
public enum ExportFormat: String, Sendable, CaseIterable {
    /// daf_butler's YAML (format 1.0.2): both Butlers read it.
    case yaml
    /// The SQLite form (``ExportDatabase``): for large exports, with artifact sizes and
    /// checksums, imported without a YAML tree or reading the artifacts again.
    case sqlite

    /// The file name an export of this form is written to by default.
    public var defaultFileName: String { self == .yaml ? "export.yaml" : "export.sqlite3" }
}

extension Butler {
    /// Exports datasets and everything needed to register them elsewhere into `directory`:
    /// the artifacts (by `transfer`) and an export file, in daf_butler's YAML format
    /// (``ExportFile``), which daf_butler's `butler import` reads, or in the SQLite form
    /// (``ExportDatabase``) for large exports; ``import(from:exportFile:transfer:)`` reads both.
    ///
    /// The datasets are those of `datasetTypes` (all when empty) found in `collections` (the
    /// Butler's defaults when nil) matching `where`. The file holds the dimension records their
    /// data IDs need (and the records those imply), their RUN collections, the collections
    /// named (chains with their children, recursively), the dataset types, and the TAGGED
    /// and CALIBRATION memberships of the exported datasets in the collections exported.
    /// - Returns: What was exported.
    /// - Throws: ``ButlerError/Code/conflict`` when the export file exists; nothing is left
    ///   behind when an artifact cannot be placed.
    @discardableResult
    public func export(
        to directory: URL, collections: [String]? = nil, where expression: String? = nil, datasetTypes: [String] = [],
        transfer: ExportTransfer = .copy, format: ExportFormat = .yaml, exportFile: String? = nil
    ) async throws -> RepositoryExport {
        let file = directory.appendingPathComponent(exportFile ?? format.defaultFileName)
        if FileManager.default.fileExists(atPath: file.path) {
            throw ButlerError(.conflict, "export file \(file.path) exists; choose another directory or file name")
        }
        var (export, datasets) = try await exportContents(collections: collections, where: expression, datasetTypes: datasetTypes)
        // Artifacts first: a failure leaves no export file (and removes what was placed).
        var placed: [URL] = []
        let progress = ProgressCounter("export", total: datasets.count)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var paths: [UUID: String] = [:]
            for (ref, record) in datasets {
                let (path, written) = try placeArtifact(record, of: ref, in: directory, transfer: transfer)
                placed.append(written)
                paths[ref.id] = path
                progress.advance()
            }
            export.setPaths { paths[$0]! }
            switch format {
            case .yaml: try FileIO.write(Data(try ExportFile.yaml(export).utf8), to: file)
            case .sqlite: try ExportDatabase.write(export, to: file)
            }
        } catch {
            for url in placed { try? FileManager.default.removeItem(at: url) }
            throw error
        }
        return export
    }

    /// What an export of these datasets holds — records, collections, types, datasets (their
    /// files' paths the datastore's, to be replaced by where they are placed), memberships —
    /// and the datasets with their one artifact each, in the order the file lists them.
    /// - Throws: ``ButlerError/Code/invalidParameter`` for a dataset stored disassembled:
    ///   daf_butler's format (and so an export or a transfer) has one artifact per dataset.
    func exportContents(
        collections: [String]?, where expression: String?, datasetTypes: [String], findFirst: Bool = false
    ) async throws -> (RepositoryExport, [(ref: DatasetRef, record: StoredFileInfo)]) {
        let search = try searchCollections(collections, for: "export")
        let refs = try await queryDatasets(datasetTypes, collections: search, where: expression, findFirst: findFirst)
        let (export, datasets) = try await exportContents(refs: refs, collections: search)
        return (
            export,
            try datasets.map { ref, records in
                guard records.count == 1, let record = records.first, record.component.isEmpty else {
                    throw ButlerError(
                        .invalidParameter,
                        "cannot export \(ref): it is stored disassembled (\(records.count) artifacts), which daf_butler's export format has no entry for"
                    )
                }
                return (ref, record)
            }
        )
    }

    /// What an export of `refs` holds, with `collections` (globs, chains followed) and the
    /// runs of the datasets; and the datasets in file order, each with its artifact records.
    /// `made` are datasets the caller makes for the target (a subset's standalone
    /// components): they are listed, with their runs and records, but have no artifact here.
    func exportContents(
        refs: [DatasetRef], collections: [String], made: [DatasetRef] = []
    ) async throws -> (RepositoryExport, [(ref: DatasetRef, records: [StoredFileInfo])]) {
        let madeIds = Set(made.map(\.id))
        let refs = (refs + made).sorted {
            ($0.datasetType.name, $0.run, $0.id.uuidString) < ($1.datasetType.name, $1.run, $1.id.uuidString)
        }
        var export = RepositoryExport(universeNamespace: "daf_butler", universeVersion: 8)
        export.collections = try await exportedCollections(named: collections, runs: Set(refs.map(\.run)))
        export.dimensions = try await exportedRecords(for: refs.map(\.dataId))
        let registry = self.registry
        let datastore = self.datastore
        let stored = refs.filter { !madeIds.contains($0.id) }
        let storedIds = stored.map(\.id)
        let recordsById = try await registry.database.read { session in try datastore.records(session, datasetIds: storedIds) }
        var groups: [String: RepositoryExport.DatasetGroup] = [:]
        var order: [String] = []
        var datasets: [(ref: DatasetRef, records: [StoredFileInfo])] = []
        for ref in refs {
            let records = recordsById[ref.id] ?? []
            datasets.append((ref, records))
            let key = ref.datasetType.name + "\n" + ref.run
            if groups[key] == nil {
                order.append(key)
                let type = ref.datasetType
                groups[key] = .init(
                    datasetType: .init(
                        name: type.name, dimensions: type.dimensions.names, storageClass: type.storageClassName,
                        isCalibration: type.isCalibration),
                    run: ref.run, files: [])
            }
            let single = records.count == 1 && records[0].component.isEmpty ? records.first : nil
            groups[key]!.files.append(
                .init(
                    ids: [ref.id], dataIds: [Dictionary(uniqueKeysWithValues: ref.dataId.required.map { ($0.name, $0.value) })],
                    path: single?.path ?? "", formatter: single.map { FormatterNames.theirs($0.formatter) }, size: single?.fileSize,
                    checksum: single?.checksum))
        }
        export.datasets = order.map { groups[$0]! }
        // Made datasets belong to no TAGGED or CALIBRATION collection here.
        export.associations = try await exportedAssociations(export.collections, ids: Set(stored.map(\.id)), refs: stored)
        return (export, datasets)
    }

    /// The collections named (globs expanded), chains' children recursively, and `runs`;
    /// chains after their children, so that an import can register them in order.
    private func exportedCollections(named names: [String], runs: Set<String>) async throws -> [RepositoryExport.Collection] {
        let all = Dictionary(uniqueKeysWithValues: try await collections().map { ($0.name, $0) })
        var wanted = runs
        var frontier = names.flatMap { name in
            name.contains("*") || name.contains("?") ? all.keys.filter { Glob.matches(name, $0) } : [name]
        }
        while let name = frontier.popLast() {
            guard wanted.insert(name).inserted, let info = all[name] else { continue }
            frontier += info.children.filter { !wanted.contains($0) }
        }
        var result: [RepositoryExport.Collection] = []
        var emitted = Set<String>()
        func emit(_ name: String) {
            guard let info = all[name], wanted.contains(name), emitted.insert(name).inserted else { return }
            for child in info.children { emit(child) }
            result.append(.init(name: name, type: info.type, doc: info.doc.isEmpty ? nil : info.doc, children: info.children))
        }
        for name in wanted.sorted() where all[name]?.type != .chained { emit(name) }
        for name in wanted.sorted() { emit(name) }
        return result
    }

    /// The records every data ID needs — of each required dimension, of the join elements
    /// its dimensions span (`visit_detector_region`), and of what those records imply
    /// (`physical_filter`, `band`, `day_obs`) — element by element in universe order, one
    /// registry query per element.
    private func exportedRecords(for dataIds: [DataCoordinate]) async throws -> [RepositoryExport.DimensionData] {
        let universe = self.universe
        var wanted: [String: Set<[DataIdValue]>] = [:]
        func key(_ element: DimensionElement, _ value: (String) -> DataIdValue?) -> [DataIdValue]? {
            var key: [DataIdValue] = []
            for name in element.requires {
                guard let part = value(name) else { return nil }
                key.append(part)
            }
            if element.isDimension {
                guard let own = value(element.name) else { return nil }
                key.append(own)
            }
            return key
        }
        var groups: [DimensionGroup: [[String: DataIdValue]]] = [:]
        for dataId in dataIds { groups[dataId.dimensions, default: []].append(dataId.values) }
        for (group, values) in groups {
            let names = Set(group.names)
            let elements = universe.elements.values.filter { element in
                !element.isSkypix
                    && (names.contains(element.name)
                        || (!element.isDimension && !element.requires.isEmpty && element.requires.allSatisfy(names.contains)))
            }
            for element in elements {
                for dataId in values {
                    if let key = key(element, { dataId[$0] }) { wanted[element.name, default: []].insert(key) }
                }
            }
        }
        let registry = self.registry
        var fetched: [String: [DimensionRecord]] = [:]
        var kept: [String: [DimensionRecord]] = [:]
        var done: [String: Set<[DataIdValue]>] = [:]
        // Implied records are found from the records that imply them: repeat until none is new.
        while let (name, keys) = wanted.first(where: { !$0.value.subtracting(done[$0.key] ?? []).isEmpty }) {
            let element = try universe.element(name)
            if fetched[name] == nil {
                fetched[name] = try await registry.database.read { session in
                    try registry.queryDimensionRecords(session, element: name, where: nil, bind: [:])
                }
            }
            let fresh = keys.subtracting(done[name] ?? [])
            done[name, default: []].formUnion(fresh)
            for record in fetched[name]! {
                guard let recordKey = key(element, { Self.dataIdValue(record[$0 == element.name ? element.primaryKey!.name : $0]) }),
                    fresh.contains(recordKey)
                else { continue }
                kept[name, default: []].append(record)
                for implied in element.implies {
                    guard let impliedElement = universe.elements[implied] else { continue }
                    let fields = record.fields
                    if let impliedKey = key(impliedElement, { Self.dataIdValue(fields[$0] ?? .null) }) {
                        wanted[implied, default: []].insert(impliedKey)
                    }
                }
            }
        }
        // daf_butler keeps no table for band (its values live in physical_filter records) and
        // refuses to import its records.
        return universe.sorted(kept.keys.filter { !Self.derivedElements.contains($0) }).map { name in
            .init(element: name, records: kept[name]!.map(\.fields).sorted { "\($0)" < "\($1)" })
        }
    }

    /// Elements daf_butler derives rather than stores.
    static let derivedElements: Set<String> = ["band"]

    private static func dataIdValue(_ value: JSONValue) -> DataIdValue? {
        switch value {
        case .int(let number): .int(number)
        case .string(let text): .string(text)
        default: nil
        }
    }

    /// Places a dataset's artifact under `directory` at its datastore path; returns that path
    /// (relative) and the file written.
    private func placeArtifact(
        _ record: StoredFileInfo, of ref: DatasetRef, in directory: URL, transfer: ExportTransfer
    ) throws -> (
        String, URL
    ) {
        let relative =
            record.isExternal
            ? "external/" + ref.id.uuidString.lowercased() + "/" + (record.path as NSString).lastPathComponent : record.path
        let target = directory.appendingPathComponent(relative)
        if FileManager.default.fileExists(atPath: target.path) {
            throw ButlerError(.conflict, "cannot export \(ref): \(target.path) exists")
        }
        switch transfer {
        case .copy:
            let written = try datastore.retrieveArtifacts(ref, records: [record], to: directory, preservePath: true, overwrite: false)
            if record.isExternal, let first = written.first {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                try FileManager.default.moveItem(at: first, to: target)
            }
        case .symlink, .hardlink:
            guard let source = try datastore.urls([record]).first, source.isFileURL else {
                throw ButlerError(
                    .invalidParameter, "cannot \(transfer.rawValue) \(ref): its artifact is not a local file (export with --transfer copy)")
            }
            do {
                try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
                if transfer == .symlink {
                    try FileManager.default.createSymbolicLink(atPath: target.path, withDestinationPath: source.path)
                } else {
                    try FileManager.default.linkItem(atPath: source.path, toPath: target.path)
                }
            } catch {
                throw ButlerError(.storageFailure, "cannot \(transfer.rawValue) \(source.path) to \(target.path) for \(ref)", cause: error)
            }
        }
        return (relative, target)
    }

    /// The TAGGED and CALIBRATION memberships of exported datasets in exported collections.
    private func exportedAssociations(
        _ collections: [RepositoryExport.Collection], ids: Set<UUID>, refs: [DatasetRef]
    ) async throws -> [RepositoryExport.Association] {
        let typeNames = Set(refs.map(\.datasetType.name)).sorted()
        var associations: [RepositoryExport.Association] = []
        for collection in collections where collection.type == .tagged || collection.type == .calibration {
            var byTimespan: [Timespan?: [UUID]] = [:]
            for type in typeNames {
                for association in try await queryDatasetAssociations(type, collections: [collection.name])
                where association.collection == collection.name && ids.contains(association.ref.id) {
                    byTimespan[association.timespan, default: []].append(association.ref.id)
                }
            }
            for (timespan, members) in byTimespan.sorted(by: { "\(String(describing: $0.key))" < "\(String(describing: $1.key))" }) {
                associations.append(.init(collection: collection.name, timespan: timespan, ids: members))
            }
        }
        return associations
    }
}
