import Composites
package import Foundation

/// What an ingest of a Zip did (or, in a dry run, would do).
public struct ZipIngestSummary: Sendable, Equatable {
    /// Datasets registered (or that would be).
    public var ingested: Int
    /// Datasets the repository already had (same ID, type, data ID and run).
    public var alreadyPresent: Int
    /// Members (artifacts) of the Zip.
    public var artifacts: Int
}

/// A Zip being written: what ``Butler/retrieveArtifactsZip(_:destination:overwrite:writer:)``
/// needs of a Zip library (the `ButlerZip` module supplies ZIPFoundation's; the Butler module
/// itself links none, so that no C module one brings in changes what its code sees).
package protocol ZipArchiveWriter {
    /// Adds a member holding `data`, deflated or stored.
    func add(_ name: String, data: Data, deflated: Bool) throws
    /// Adds a member holding the file's bytes, stored.
    func add(_ name: String, file: URL) throws
}

/// A Zip being read.
package protocol ZipArchiveReader {
    /// The bytes of a member, nil when there is none.
    func data(of name: String) throws -> Data?
    /// Whether the Zip has a member of this name.
    func contains(_ name: String) -> Bool
    /// Writes a member to a new file.
    func extract(_ name: String, to file: URL) throws
}

extension Butler {
    /// Retrieves the artifacts of `refs` into one Zip in `destination`, in daf_butler's format,
    /// written through `writer` (the `ButlerZip` module's public `retrieveArtifactsZip` passes
    /// ZIPFoundation's): each artifact a stored member named by the first eight characters of
    /// its dataset ID and its file name, and `_butler_zip_index.json` with the datasets (types,
    /// runs, data IDs) and their datastore records. The Zip's name is daf_butler's: a uuid5 of
    /// its member names. It is built under a temporary name in `destination` and renamed when
    /// complete.
    /// - Returns: The Zip written.
    /// - Throws: ``ButlerError/Code/invalidParameter`` for no datasets or a dataset stored
    ///   disassembled (daf_butler's Zips of those hold several members per dataset, which an
    ///   ingest here does not take apart); ``ButlerError/Code/conflict`` when the Zip exists
    ///   and `overwrite` is false.
    @discardableResult
    package func retrieveArtifactsZip(
        _ refs: [DatasetRef], destination: URL, overwrite: Bool = true, writer: (URL) throws -> any ZipArchiveWriter
    ) async throws -> URL {
        guard !refs.isEmpty else { throw ButlerError(.invalidParameter, "no datasets to put in a Zip in \(destination.path)") }
        var unique: [UUID: DatasetRef] = [:]
        for ref in refs { unique[ref.id] = ref }
        let ordered = unique.values.sorted { $0.id.uuidString < $1.id.uuidString }
        try FileManager.default.createDirectory(at: destination, withIntermediateDirectories: true)
        let staging = destination.appendingPathComponent(".butler-zip-\(UUID().uuidString.lowercased())")
        defer { try? FileManager.default.removeItem(at: staging) }
        var index = ZipIndex(
            refs: .init(
                universeVersion: universe.version, universeNamespace: universe.namespace, datasetTypes: [:], compactRefs: [:]),
            artifactMap: [:])
        var members: [(name: String, file: URL)] = []
        let progress = ProgressCounter("zip", total: ordered.count)
        let registry = self.registry
        let datastore = self.datastore
        let recordsById = try await registry.database.read { session in try datastore.records(session, datasetIds: ordered.map(\.id)) }
        for ref in ordered {
            let records = recordsById[ref.id] ?? []
            guard records.count == 1, let record = records.first, record.component.isEmpty else {
                throw ButlerError(
                    .invalidParameter,
                    "cannot put \(ref) in a Zip: it is stored as \(records.count) artifacts (disassembled), which an ingest of the Zip here would not reassemble"
                )
            }
            // Local files go into the Zip from where they are; remote ones are fetched first.
            let file = URL(fileURLWithPath: try localArtifactPath(ref, record, staging: staging))
            let id = ref.id.uuidString.lowercased()
            let name = String(id.prefix(8)) + "-" + file.lastPathComponent
            guard index.artifactMap[name] == nil else {
                throw ButlerError(.conflict, "two datasets would be stored as \(name) in the Zip (IDs sharing their first 8 characters)")
            }
            members.append((name, file))
            index.artifactMap[name] = .init(
                info: .init(
                    formatter: FormatterNames.theirs(record.formatter), path: record.path, storageClass: record.storageClass,
                    component: nil, checksum: record.checksum, fileSize: record.fileSize),
                ids: [id])
            index.refs.datasetTypes[ref.datasetType.name] = ref.datasetType
            index.refs.compactRefs[id] = .init(datasetTypeName: ref.datasetType.name, run: ref.run, dataId: ref.dataId.values)
            progress.advance()
        }
        let zip = destination.appendingPathComponent(index.zipFileName)
        if !overwrite, FileManager.default.fileExists(atPath: zip.path) {
            throw ButlerError(.conflict, "the Zip \(zip.path) exists (retrieve with overwrite, or remove it)")
        }
        let partial = staging.appendingPathComponent("partial.zip")
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let indexData = try encoder.encode(index)
            try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
            let archive = try writer(partial)
            // As daf_butler writes them: the index deflated, the artifacts stored.
            try archive.add(ZipIndex.memberName, data: indexData, deflated: true)
            for member in members {
                do { try archive.add(member.name, file: member.file) } catch {
                    throw ButlerError(
                        .storageFailure, "cannot add \(member.file.path) to the Zip \(zip.path) as \(member.name)", cause: error)
                }
            }
        } catch let error as ButlerError {
            throw error
        } catch {
            throw ButlerError(.storageFailure, "cannot write the Zip \(zip.path)", cause: error)
        }
        guard rename(partial.path, zip.path) == 0 else {
            throw ButlerError(.storageFailure, "cannot move the Zip into place at \(zip.path): \(String(cString: strerror(errno)))")
        }
        return zip
    }

    /// Ingests a Zip, read through `reader`, written by `retrieve-artifacts --zip` here or in
    /// daf_butler (daf_butler's `ingest-zip`; the `ButlerZip` module's public `ingestZip`
    /// passes ZIPFoundation's reader): its datasets keep
    /// their IDs, runs and data IDs; missing runs and dataset types are registered; the
    /// artifacts are extracted into the datastore. All or nothing, as an import: one registry
    /// transaction, and a failure leaves the repository as it was.
    ///
    /// The dimension records the data IDs need must be in the repository (as daf_butler's
    /// `ingest-zip` requires by default); the records a daf_butler Zip may carry are not read.
    /// - Parameters:
    ///   - zip: The Zip file.
    ///   - transfer: `copy` (the Zip stays) or `move` (it is removed once ingested).
    ///   - skipExisting: Datasets the repository already has are skipped (they are anyway
    ///     when identical; without it, a Zip whose datasets are all present is an error).
    ///   - dryRun: Check everything and count, but write nothing.
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming the Zip and what is wrong in it.
    @discardableResult
    package func ingestZip(
        _ zip: URL, transfer: TransferMode = .copy, skipExisting: Bool = false, dryRun: Bool = false,
        reader: (URL) throws -> any ZipArchiveReader
    ) async throws -> ZipIngestSummary {
        guard transfer == .copy || transfer == .move else {
            throw ButlerError(.invalidParameter, "ingest-zip copies or moves a Zip's artifacts; \(transfer.rawValue) is neither")
        }
        if !dryRun { try requireWriteable("ingest-zip of \(zip.path)") }
        let source = zip.path
        let archive: any ZipArchiveReader
        do { archive = try reader(zip) } catch {
            throw ButlerError(.invalidParameter, "\(source) is not a Zip that can be read", cause: error)
        }
        let index: ZipIndex
        do {
            guard let indexData = try archive.data(of: ZipIndex.memberName) else {
                throw ButlerError(.invalidParameter, "\(source) has no \(ZipIndex.memberName): it was not written by a Butler")
            }
            let decoder = JSONDecoder()
            decoder.userInfo[.dimensionUniverse] = universe
            index = try decoder.decode(ZipIndex.self, from: indexData)
        } catch let error as ButlerError {
            throw error
        } catch {
            throw ButlerError(.invalidParameter, "\(source): \(ZipIndex.memberName) cannot be read: \(Self.describe(error))", cause: error)
        }
        guard index.indexVersion == "V1", index.refs.containerVersion == "V1" else {
            throw ButlerError(
                .invalidParameter,
                "\(source): index version \(index.indexVersion) (refs \(index.refs.containerVersion)) is not V1, the version read here")
        }
        guard index.refs.universeNamespace == universe.namespace, index.refs.universeVersion == universe.version else {
            throw ButlerError(
                .invalidParameter,
                "\(source) was written for dimension universe \(index.refs.universeNamespace) \(index.refs.universeVersion); this repository's is \(universe.namespace) \(universe.version)"
            )
        }
        let staging = root.appendingPathComponent(".butler-ingest-zip-\(UUID().uuidString.lowercased())")
        defer { try? FileManager.default.removeItem(at: staging) }
        let export = try zipContents(index, archive: archive, source: source, extractingTo: dryRun ? nil : staging)
        let ids = export.datasets.flatMap { $0.files.flatMap(\.ids) }
        let registry = self.registry
        let present = try await registry.database.read { session in try registry.datasets(session, ids: ids) }.count
        if present == ids.count, !ids.isEmpty, !skipExisting {
            throw ButlerError(
                .conflict, "\(source): all \(ids.count) of its datasets are in the repository already (--skip-existing to accept)")
        }
        if dryRun {
            // Everything an ingest checks before writing: types, data IDs, formatters.
            _ = try ImportPlan(export, universe: universe, formatters: formatters, directory: staging, source: source, checkFiles: false)
            return ZipIngestSummary(ingested: ids.count - present, alreadyPresent: present, artifacts: index.artifactMap.count)
        }
        let summary = try await importContents(export, directory: staging, source: source, transfer: .move, operation: "ingest-zip")
        if transfer == .move {
            do { try FileManager.default.removeItem(at: zip) } catch {
                throw ButlerError(.storageFailure, "ingested \(source), but could not remove it", cause: error)
            }
        }
        return ZipIngestSummary(ingested: summary.imported, alreadyPresent: summary.alreadyPresent, artifacts: index.artifactMap.count)
    }

    /// The Zip's datasets as an export whose artifacts are its members, extracted under
    /// `directory` (not extracted when nil).
    private func zipContents(
        _ index: ZipIndex, archive: any ZipArchiveReader, source: String, extractingTo directory: URL?
    ) throws -> RepositoryExport {
        var export = RepositoryExport(universeNamespace: index.refs.universeNamespace, universeVersion: index.refs.universeVersion)
        var groups: [String: Int] = [:]
        var seen = Set<String>()
        for (name, artifact) in index.artifactMap.sorted(by: { $0.key < $1.key }) {
            guard artifact.ids.count == 1, let id = artifact.ids.first, artifact.info.component == nil else {
                throw ButlerError(
                    .invalidParameter,
                    "\(source): member \(name) holds \(artifact.ids.count) dataset(s)\(artifact.info.component.map { " as component \($0)" } ?? ""); a Zip of disassembled or multi-dataset artifacts is not ingested here"
                )
            }
            guard let uuid = UUID(uuidString: id), let compact = index.refs.compactRefs[id.lowercased()] ?? index.refs.compactRefs[id]
            else {
                throw ButlerError(.invalidParameter, "\(source): member \(name) names dataset \(id), which the index does not list")
            }
            guard seen.insert(uuid.uuidString).inserted else {
                throw ButlerError(.invalidParameter, "\(source): dataset \(id) has more than one member")
            }
            guard let type = index.refs.datasetTypes[compact.datasetTypeName] else {
                throw ButlerError(
                    .invalidParameter, "\(source): dataset \(id) is a \(compact.datasetTypeName), a dataset type the index does not define")
            }
            // Members are file names in the Zip's root; anything else could climb out of the
            // directory they are extracted to.
            guard !name.contains("/"), !name.hasPrefix("."), archive.contains(name) else {
                throw ButlerError(.invalidParameter, "\(source): member \(name) is missing or not a plain file name")
            }
            let path: String
            if let directory {
                let target = directory.appendingPathComponent(name)
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    try archive.extract(name, to: target)
                } catch {
                    throw ButlerError(.storageFailure, "\(source): cannot extract member \(name) of dataset \(id)", cause: error)
                }
                path = target.path
            } else {
                path = name
            }
            let key = type.name + "\n" + compact.run
            if groups[key] == nil {
                groups[key] = export.datasets.count
                export.datasets.append(
                    .init(
                        datasetType: .init(
                            name: type.name, dimensions: type.dimensions.names, storageClass: type.storageClassName,
                            isCalibration: type.isCalibration),
                        run: compact.run, files: []))
            }
            // The record's checksum is used when it is by this datastore's algorithm (a Zip
            // written here); daf_butler's is recomputed.
            export.datasets[groups[key]!].files.append(
                .init(
                    ids: [uuid], dataIds: [compact.dataId], path: path, formatter: artifact.info.formatter,
                    size: artifact.info.fileSize >= 0 ? artifact.info.fileSize : nil, checksum: artifact.info.checksum))
        }
        return export
    }
}
