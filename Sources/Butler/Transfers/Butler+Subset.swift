import Composites
public import Foundation

/// What a subset holds.
public struct SubsetSummary: Sendable, Equatable, Codable {
    /// Datasets of the types asked for (coadd-keyed ones found by overlap with the data IDs).
    public var datasets: Int
    /// Standalone component datasets that supply components of those (a refitted `calexp.wcs`,
    /// a per-visit `calexp.visitInfo`).
    public var componentDatasets: Int
    /// Components cut out of datasets the subset does not hold whole (the `calexp.photoCalib`
    /// a `src` binds, without the calexp's pixels), stored as standalone component datasets.
    public var boundComponents: Int
    /// Calibrations valid for the exposures and visits of the datasets.
    public var calibrations: Int
    /// Dimension records brought.
    public var dimensionRecords: Int
    /// Collections made (runs, the collections searched, their chains' children).
    public var collections: Int
}

extension Butler {
    /// Makes a new, standalone repository at `destination` holding what is needed to work on
    /// part of this one: the datasets of `datasetTypes` found first along `collections` (the
    /// Butler's defaults when nil) that match `where` and any of `dataIds`.
    ///
    /// A type whose dimensions the constraint does not name is found by what the query
    /// system joins: tracts and patches of a skymap overlapping the given visits and
    /// detectors, the visit of a visit-level type. The subset also brings what the datasets
    /// need to read as they do here:
    /// - standalone component datasets that supply their components (a refitted `calexp.wcs`,
    ///   a shared per-visit `calexp.visitInfo`);
    /// - components bound from datasets it does not hold (`src.photoCalib: calexp.photoCalib`
    ///   brings the calexp's photoCalib as a standalone `calexp.photoCalib` dataset, not its
    ///   pixels; its ID is a uuid5 of the calexp's ID and the component name);
    /// - with `calibrations`, the calibrations certified in the CALIBRATION collections searched
    ///   that are valid for the exposures and visits of those datasets, with their validity
    ///   ranges;
    /// - the dimension records of every data ID, and the collections searched (chains with
    ///   their children, in order), so that the same collections answer the same gets.
    ///
    /// Calibration types named in `datasetTypes` are brought by validity in the same way.
    /// The new repository gets this one's configuration (dimension universe, templates,
    /// formatters, disassembly, bindings) with an embedded registry and POSIX datastore, or
    /// `config` when given. Datasets keep their IDs. Nothing is left at `destination` when
    /// the subset fails.
    /// - Throws: ``ButlerError/Code/configuration`` when a repository exists at `destination`;
    ///   ``ButlerError/Code/invalidParameter`` when no dataset type is given or nothing matches.
    @discardableResult
    public func subset(
        to destination: URL, datasetTypes: [String], collections: [String]? = nil, where expression: String? = nil,
        bind: [String: BindValue] = [:], dataIds: [DataId] = [], calibrations: Bool = true, transfer: TransferMode = .copy,
        config: RepositoryConfig? = nil
    ) async throws -> SubsetSummary {
        guard !datasetTypes.isEmpty else {
            throw ButlerError(.invalidParameter, "a subset of \(root.path) needs at least one dataset type")
        }
        guard transfer != .move else {
            throw ButlerError(.invalidParameter, "a subset cannot move artifacts out of \(root.path); use copy, hardlink or symlink")
        }
        let destination = destination.standardizedFileURL
        if FileManager.default.fileExists(atPath: destination.appendingPathComponent("butler.yaml").path) {
            throw ButlerError.configuration("a repository already exists at \(destination.path); a subset makes a new one")
        }
        let search = try searchCollections(collections, for: "subset")
        let contents = try await subsetContents(
            datasetTypes: datasetTypes, collections: search, where: expression, bind: bind, dataIds: dataIds, calibrations: calibrations)
        let staging = FileManager.default.temporaryDirectory.appendingPathComponent("butler-subset-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: staging) }
        let (export, values, paths) = try await subsetExport(contents, collections: search, staging: staging)

        // What was in the directory before stays whatever happens; only what the subset made is removed on failure.
        let before: Set<String>? = (try? FileManager.default.contentsOfDirectory(atPath: destination.path)).map(Set.init)
        do {
            try copyUniverseFile(to: destination, config: config)
            try await Butler.createRepository(at: destination, config: config ?? subsetConfig())
            let target = try await Butler(repository: destination, storageClasses: storageClasses, formatters: formatters)
            do {
                var export = export
                export.setPaths { paths[$0] ?? "" }
                let imported = try await target.importContents(
                    export, directory: URL(fileURLWithPath: "/"), source: "subset of \(root.path)", transfer: transfer, values: values,
                    operation: "subset")
                try await target.close()
                return SubsetSummary(
                    datasets: contents.datasets.count, componentDatasets: contents.components.count,
                    boundComponents: contents.bound.count, calibrations: contents.calibrations.count,
                    dimensionRecords: imported.dimensionRecords, collections: imported.collections)
            } catch {
                try? await target.close()
                throw error
            }
        } catch {
            // The repository was made here for the subset: nothing of it stays.
            if let before {
                for name in (try? FileManager.default.contentsOfDirectory(atPath: destination.path)) ?? [] where !before.contains(name) {
                    try? FileManager.default.removeItem(at: destination.appendingPathComponent(name))
                }
            } else {
                try? FileManager.default.removeItem(at: destination)
            }
            throw error
        }
    }

    /// The datasets a subset holds, by why it holds them.
    struct SubsetContents {
        var datasets: [DatasetRef] = []
        var components: [DatasetRef] = []
        var calibrations: [DatasetRef] = []
        /// Components of datasets not held whole: the dataset and the component.
        var bound: [(ref: DatasetRef, component: String)] = []
    }

    /// Finds the datasets, their component suppliers and the calibrations valid for them.
    func subsetContents(
        datasetTypes: [String], collections search: [String], where expression: String?, bind: [String: BindValue],
        dataIds: [DataId], calibrations: Bool
    ) async throws -> SubsetContents {
        let known = try await self.datasetTypes(matching: datasetTypes)
        if let missing = datasetTypes.first(where: { name in !known.contains { Glob.matches(name, $0.name) } }) {
            throw ButlerError(.missingDatasetType, "dataset type \(missing) is not registered in \(root.path)")
        }
        var predicate = try QueryExpression.predicate(expression, dataId: [:], bind: bind)
        let alternatives = dataIds.compactMap(QueryExpression.dataId)
        if let first = alternatives.first {
            predicate = QueryExpression.conjunction(predicate, alternatives.dropFirst().reduce(first) { .or($0, $1) })
        }
        var contents = SubsetContents()
        var held = Set<UUID>()
        let direct = known.filter { !$0.isCalibration }.map(\.name)
        if !direct.isEmpty {
            for ref in try await queryDatasets(direct, collections: search, predicate: predicate, bind: bind, findFirst: true)
            where held.insert(ref.id).inserted {
                contents.datasets.append(ref)
            }
        }
        guard !contents.datasets.isEmpty else {
            throw ButlerError(
                .invalidParameter,
                "nothing to subset: no \(direct.joined(separator: ", ")) in \(search) matches \(predicate.map { "\($0)" } ?? "no constraint")"
            )
        }

        // Components supplied by other datasets, as a get through the same collections finds them.
        var boundSeen = Set<String>()
        for ref in contents.datasets {
            let storageClass = try storageClasses.storageClass(named: ref.datasetType.storageClassName)
            guard storageClass.isComposite, storageClass.assembler != nil else { continue }
            let located = try await locateRequired(ref.datasetType.name, dataId: ref.dataId.requiredMapping, collections: search)
            for override in try applyingOverrides(located) {
                if let component = override.boundComponent {
                    if !held.contains(override.ref.id), boundSeen.insert("\(override.ref.id)/\(component)").inserted {
                        contents.bound.append((override.ref, component))
                    }
                } else if held.insert(override.ref.id).inserted {
                    contents.components.append(override.ref)
                }
            }
        }

        // Calibrations valid at the times of the datasets' exposures and visits.
        let calibrationTypes = calibrations ? try await self.datasetTypes().filter(\.isCalibration) : known.filter(\.isCalibration)
        if !calibrationTypes.isEmpty {
            let dataIds = Set((contents.datasets + contents.components + contents.bound.map(\.ref)).map(\.dataId))
            for type in calibrationTypes {
                for dataId in dataIds where appliesForCalibration(type, to: dataId) {
                    let found: DatasetRef?
                    do {
                        found = try await findDataset(type.name, dataId: dataId.requiredMapping, collections: search)
                    } catch let error as ButlerError where error.code == .dimensionRecord {
                        continue  // a visit or exposure with no timespan: no calibration is valid for it
                    }
                    guard let found, held.insert(found.id).inserted else { continue }
                    contents.calibrations.append(found)
                }
            }
        }
        return contents
    }

    /// Whether a data ID gives a calibration of `type` something to be looked up by: the
    /// type's dimensions (directly or implied) and a time from a dimension beyond them.
    private func appliesForCalibration(_ type: DatasetType, to dataId: DataCoordinate) -> Bool {
        let names = Set(dataId.dimensions.names)
        let own = Set(type.dimensions.names)
        guard own.isSubset(of: names) else { return false }
        return dataId.dimensions.required.contains { name in
            !own.contains(name) && universe.elements[name]?.hasTimespan == true
        }
    }

    /// The export the subset imports, the values written instead of files (disassembled
    /// datasets, bound components), and the local paths of files (remote ones fetched into
    /// `staging`).
    private func subsetExport(
        _ contents: SubsetContents, collections search: [String], staging: URL
    ) async throws -> (RepositoryExport, [UUID: any Sendable], [UUID: String]) {
        // Bound components become standalone `parent.component` datasets in the parent's run.
        var made: [DatasetRef] = []
        var values: [UUID: any Sendable] = [:]
        for (parent, component) in contents.bound {
            let storageClass = try storageClasses.storageClass(named: parent.datasetType.storageClassName)
            guard let componentClass = storageClass.components[component] else { continue }
            let type = DatasetType(
                name: parent.datasetType.name + "." + component, dimensions: parent.datasetType.dimensions,
                storageClass: componentClass)
            let ref = DatasetRef(
                id: DatasetIdFactory.uuid5(namespace: parent.id, name: component), datasetType: type, dataId: parent.dataId, run: parent.run
            )
            let records = try await artifactRecords(parent)
            values[ref.id] = try read(Located(ref: parent, records: records), component: component, parameters: [:])
            made.append(ref)
        }
        let (export, datasets) = try await exportContents(
            refs: contents.datasets + contents.components + contents.calibrations, collections: search, made: made)
        var paths: [UUID: String] = [:]
        for (ref, records) in datasets where values[ref.id] == nil {
            if records.count == 1, let record = records.first, record.component.isEmpty {
                paths[ref.id] = try localArtifactPath(ref, record, staging: staging)
            } else {
                // Stored disassembled: read as stored and written again by the subset's datastore.
                values[ref.id] = try read(Located(ref: ref, records: records), component: nil, parameters: [:])
            }
        }
        return (export, values, paths)
    }

    /// This repository's configuration for a new embedded repository: the same universe,
    /// templates, formatters, disassembly, bindings and storage classes; SQLite and POSIX.
    private func subsetConfig() -> RepositoryConfig {
        var config = self.config
        config.registry = .init(db: "sqlite:///gen3.sqlite3")
        config.datastore.root = "."
        config.datastore.name = nil
        config.datastore.chain = nil
        config.datastore.s3 = nil
        config.datastore.cache = nil
        return config
    }

    /// A universe file named relative to this root goes with the subset's configuration.
    private func copyUniverseFile(to destination: URL, config: RepositoryConfig?) throws {
        guard config == nil, let file = self.config.dimensions.config, !file.hasPrefix("/") else { return }
        let target = destination.appendingPathComponent(file)
        do {
            try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
            try FileManager.default.copyItem(at: root.appendingPathComponent(file), to: target)
        } catch {
            throw ButlerError(
                .storageFailure, "cannot copy the dimension universe \(file) of \(root.path) to \(destination.path)", cause: error)
        }
    }
}
