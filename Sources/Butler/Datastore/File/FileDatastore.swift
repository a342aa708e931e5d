import Composites
import Formatters
public import Foundation
import Synchronization

/// Where bytes live: artifacts under a POSIX root, one record per (dataset, component) in
/// the registry database so that a dataset and its artifact are registered together.
///
/// Writes are two-step. ``prepare(_:ref:storageClass:)`` writes the artifact under a hidden
/// temporary name and fsyncs it; ``commit(_:session:)``, called inside the registry
/// transaction, records it and links it to its final name. If anything fails, the temporary
/// file is removed and, if the link happened, so is the final name: no file without its row.
final class FileDatastore: Sendable {
    let root: URL
    /// `root.path`, kept as a string: building paths by concatenation is much cheaper than
    /// `URL.appendingPathComponent` on the hot path.
    private let rootPath: String
    let config: RepositoryConfig.Datastore
    let formatters: FormatterRegistry
    let storageClasses: StorageClassRegistry
    private let templates: [String: FileTemplate]
    /// Dataset types whose template has been checked for unique paths.
    private let validatedTemplates = Mutex<Set<String>>([])

    init(root: URL, config: RepositoryConfig.Datastore, formatters: FormatterRegistry, storageClasses: StorageClassRegistry) throws {
        self.root = root.standardizedFileURL
        self.rootPath = self.root.path
        self.config = config
        self.formatters = formatters
        self.storageClasses = storageClasses
        var templates: [String: FileTemplate] = [:]
        for (key, text) in config.templates { templates[key] = try FileTemplate(text) }
        if templates["default"] == nil { templates["default"] = try FileTemplate(RepositoryConfig.defaultTemplate) }
        self.templates = templates
    }

    static func createSchema(_ session: any SQLSession) throws {
        let d = session.dialect
        try session.execute("""
            CREATE TABLE file_datastore_records (
                dataset_id \(d.uuidType) NOT NULL REFERENCES dataset (id),
                component TEXT NOT NULL,
                path TEXT NOT NULL,
                formatter TEXT NOT NULL,
                storage_class TEXT NOT NULL,
                file_size \(d.bigintType) NOT NULL,
                checksum TEXT,
                PRIMARY KEY (dataset_id, component))
            """)
        try session.execute("CREATE INDEX file_datastore_records_path ON file_datastore_records (path)")
        try session.execute("CREATE INDEX file_datastore_records_checksum ON file_datastore_records (checksum)")
        // Paths whose records were removed; a file is deleted only once no record names it.
        try session.execute("""
            CREATE TABLE file_datastore_trash (
                path TEXT PRIMARY KEY,
                owned \(d.bigintType) NOT NULL)
            """)
    }

    // MARK: Configuration look-ups

    /// The template for a dataset type: by name, parent name, storage class, then default.
    func template(for datasetType: DatasetType) -> FileTemplate {
        templates[datasetType.name] ?? templates[datasetType.parentName]
            ?? templates[datasetType.storageClassName] ?? templates["default"]!
    }

    /// The formatter (and extension) new artifacts of `datasetType` are written with.
    func formatterChoice(for datasetType: DatasetType) throws -> (any FileFormatter, String) {
        var names = [datasetType.name, datasetType.parentName, datasetType.storageClassName]
        if let base = try? storageClasses.storageClass(named: datasetType.storageClassName).basedOn { names.append(base) }
        return try formatterChoice(names: names)
    }

    /// The first configured formatter among `names` (dataset type, parent, storage class).
    private func formatterChoice(names: [String]) throws -> (any FileFormatter, String) {
        guard let choice = names.lazy.compactMap({ self.config.formatters[$0] }).first else {
            throw ButlerError.configuration("no formatter is configured for any of \(names.joined(separator: ", "))")
        }
        var formatter = try formatters.formatter(named: choice.formatter)
        if let parameters = choice.parameters, !parameters.isEmpty {
            do { formatter = try formatter.configured(with: parameters) } catch {
                throw ButlerError.configuration("formatter for \(names[0]): \(error)")
            }
        }
        return (formatter, choice.extension ?? formatter.defaultExtension)
    }

    /// Whether `datasetType` is stored one artifact per component.
    func isDisassembled(_ datasetType: DatasetType) -> Bool {
        guard let names = config.disassembled else { return false }
        return names.contains(datasetType.name) || names.contains(datasetType.parentName) || names.contains(datasetType.storageClassName)
    }

    /// The relative path for a new artifact of `ref` (its data ID expanded).
    func relativePath(for ref: DatasetRef, component: String?, extension ext: String) throws -> String {
        let template = template(for: ref.datasetType)
        if !validatedTemplates.withLock({ $0.contains(ref.datasetType.name) }) {
            try template.validate(required: ref.datasetType.dimensions.required, datasetType: ref.datasetType.name)
            validatedTemplates.withLock { _ = $0.insert(ref.datasetType.name) }
        }
        var values: [String: String] = [
            "run": ref.run, "collection": ref.run, "datasetType": ref.datasetType.parentName,
            "id": ref.id.uuidString.lowercased(),
        ]
        if let component = component ?? ref.datasetType.component { values["component"] = component }
        for name in ref.dataId.dimensions.names {
            if let value = ref.dataId[name] { values[name] = value.description }
        }
        return try template.format(values) + ext
    }

    /// The absolute location of a recorded path (relative paths are under the root).
    func url(forRecordedPath path: String) -> URL {
        // An explicit directory hint: without it Foundation stats the path to find out.
        URL(filePath: path.hasPrefix("/") ? path : rootPath + "/" + path, directoryHint: .notDirectory)
    }

    // MARK: Writing

    /// An artifact written under a temporary name, waiting for its registry transaction.
    final class PreparedArtifact: @unchecked Sendable {
        // Mutable state is touched only by the one task that owns the put.
        let record: StoredFileInfo
        let temporary: String?
        let final: String
        /// A file to delete once the transaction commits (the source of a `move` ingest).
        let removeAfterCommit: String?
        private(set) var linked = false

        init(record: StoredFileInfo, temporary: String?, final: String, removeAfterCommit: String? = nil) {
            self.record = record
            self.temporary = temporary
            self.final = final
            self.removeAfterCommit = removeAfterCommit
        }

        func markLinked() { linked = true }
    }

    /// Writes `value` for `ref` under a temporary name in its final directory and syncs it.
    func prepare(_ value: any Sendable, ref: DatasetRef, storageClass: StorageClass) throws -> [PreparedArtifact] {
        guard isDisassembled(ref.datasetType), let assembler = storageClass.assembler else {
            let (formatter, ext) = try formatterChoice(for: ref.datasetType)
            return [try prepare(value, ref: ref, component: nil, storageClass: storageClass, formatter: formatter, extension: ext)]
        }
        // Disassembled: one artifact per stored component, each with its own formatter.
        let parts: [String: any Sendable]
        do { parts = try assembler.disassemble(value) } catch {
            throw ButlerError.datastore("cannot disassemble \(ref): \(error)")
        }
        var prepared: [PreparedArtifact] = []
        do {
            for (component, part) in parts.sorted(by: { $0.key < $1.key }) {
                let className = storageClass.components[component]!
                let componentClass = try storageClasses.storageClass(named: className)
                let (formatter, ext) = try formatterChoice(names: ["\(ref.datasetType.name).\(component)", className])
                prepared.append(try prepare(part, ref: ref, component: component, storageClass: componentClass, formatter: formatter, extension: ext))
            }
        } catch {
            prepared.forEach(abandon)
            throw error
        }
        return prepared
    }

    private func prepare(
        _ value: any Sendable, ref: DatasetRef, component: String?, storageClass: StorageClass, formatter: any FileFormatter, extension ext: String
    ) throws -> PreparedArtifact {
        let relative = try relativePath(for: ref, component: component, extension: ext)
        let finalPath = rootPath + "/" + relative
        let slash = finalPath.lastIndex(of: "/")!
        let directoryPath = String(finalPath[..<slash])
        let fileName = finalPath[finalPath.index(after: slash)...]
        try makeDirectory(directoryPath, for: ref)
        let temporary = URL(filePath: directoryPath + "/.\(fileName).tmp-\(UUID().uuidString)", directoryHint: .notDirectory)
        let final = URL(filePath: finalPath, directoryHint: .notDirectory)
        do {
            try formatter.write(value, storageClass: storageClass, to: temporary)
            if config.fsync { try AtomicFile.fsync(path: temporary.path) }
            let record = StoredFileInfo(
                datasetId: ref.id, component: component ?? "", path: relative, formatter: formatter.name,
                storageClass: storageClass.name, fileSize: try AtomicFile.size(temporary.path),
                checksum: try config.checksum.checksum(ofFileAt: temporary.path))
            return PreparedArtifact(record: record, temporary: temporary.path, final: final.path)
        } catch {
            AtomicFile.remove(temporary.path)
            throw ButlerError.datastore("could not write \(ref)\(component.map { " component \($0)" } ?? "") to \(relative): \(error)")
        }
    }

    /// Creates a directory and its parents unless it exists (checked first: cheaper than
    /// FileManager's creation on the common path where it already does).
    private func makeDirectory(_ path: String, for ref: DatasetRef) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ButlerError.datastore("cannot create directory \(path) for \(ref): \(error.localizedDescription)")
        }
    }

    /// Records the artifact and gives it its final name, inside the caller's transaction.
    func commit(_ artifact: PreparedArtifact, session: any SQLSession) throws {
        if let shared = try identicalComponentArtifact(artifact.record, session: session) {
            // The same component bytes are stored already (a visitInfo or PSF shared by many
            // disassembled datasets): point at them. Removal keeps a file while any record
            // names it.
            try insertRecord(artifact.record.at(path: shared), session: session)
            if let temporary = artifact.temporary { AtomicFile.remove(temporary) }
            return
        }
        try insertRecord(artifact.record, session: session)
        guard let temporary = artifact.temporary else { return }
        if try !AtomicFile.linkNoClobber(temporary, artifact.final) {
            // A file without a record can only be left by a crash between link and commit;
            // one with a record belongs to another dataset and must not be touched.
            let owners = try session.query(
                "SELECT dataset_id FROM file_datastore_records WHERE path = ? AND dataset_id <> ?",
                [.text(artifact.record.path), .uuid(artifact.record.datasetId)])
            guard owners.isEmpty else {
                throw ButlerError.datastore(
                    "artifact path \(artifact.record.path) is already used by dataset \(owners[0][0].uuidValue?.uuidString.lowercased() ?? "?"); the file template does not give unique paths")
            }
            try AtomicFile.replace(temporary, artifact.final)
        }
        artifact.markLinked()
        AtomicFile.remove(temporary)
        if config.fsync {
            try AtomicFile.fsyncDirectory((artifact.final as NSString).deletingLastPathComponent)
        }
    }

    /// The path of an owned component artifact with the same bytes (checksum, size, formatter,
    /// storage class) as `record`, if one exists.
    private func identicalComponentArtifact(_ record: StoredFileInfo, session: any SQLSession) throws -> String? {
        guard !record.component.isEmpty, let checksum = record.checksum, !record.path.hasPrefix("/") else { return nil }
        let rows = try session.query("""
            SELECT path FROM file_datastore_records
            WHERE checksum = ? AND file_size = ? AND formatter = ? AND storage_class = ? AND component <> '' AND path NOT LIKE '/%'
            LIMIT 1
            """, [.text(checksum), .integer(record.fileSize), .text(record.formatter), .text(record.storageClass)])
        guard let path = rows.first?[0].string, FileManager.default.fileExists(atPath: url(forRecordedPath: path).path) else { return nil }
        return path
    }

    /// Undoes a prepared artifact after a failed transaction: nothing stays visible.
    func abandon(_ artifact: PreparedArtifact) {
        if let temporary = artifact.temporary { AtomicFile.remove(temporary) }
        if artifact.linked { AtomicFile.remove(artifact.final) }
    }

    /// Finishes an artifact after its transaction committed.
    func finish(_ artifact: PreparedArtifact) {
        if let source = artifact.removeAfterCommit { AtomicFile.remove(source) }
    }

    func insertRecord(_ record: StoredFileInfo, session: any SQLSession) throws {
        try session.execute("""
            INSERT INTO file_datastore_records (dataset_id, component, path, formatter, storage_class, file_size, checksum)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, [.uuid(record.datasetId), .text(record.component), .text(record.path), .text(record.formatter),
                  .text(record.storageClass), .integer(record.fileSize), record.checksum.map(SQLValue.text) ?? .null])
    }

    // MARK: Ingest

    /// Places an external file for `ref` as a prepared artifact.
    func prepareIngest(file source: URL, ref: DatasetRef, formatterName: String?, transfer: TransferMode) throws -> PreparedArtifact {
        let sourcePath = source.standardizedFileURL.path
        guard FileManager.default.fileExists(atPath: sourcePath) else {
            throw ButlerError.datastore("cannot ingest \(sourcePath) as \(ref): no such file")
        }
        let formatter: any FileFormatter
        if let formatterName {
            formatter = try formatters.formatter(named: formatterName)
        } else if let configured = config.formatters[ref.datasetType.name] {
            formatter = try formatters.formatter(named: configured.formatter)
        } else {
            do { formatter = try formatters.formatter(forExtension: source.pathExtension) } catch {
                throw ButlerError.datastore("cannot ingest \(sourcePath) as \(ref): \(error)")
            }
        }
        let ext = source.pathExtension.isEmpty ? "" : "." + source.pathExtension
        let checksum = try config.checksum.checksum(ofFileAt: sourcePath)
        let size = try AtomicFile.size(sourcePath)
        if transfer == .direct {
            let record = StoredFileInfo(
                datasetId: ref.id, component: "", path: sourcePath, formatter: formatter.name,
                storageClass: ref.datasetType.storageClassName, fileSize: size, checksum: checksum)
            return PreparedArtifact(record: record, temporary: nil, final: sourcePath)
        }
        let relative = try relativePath(for: ref, component: nil, extension: ext)
        let final = root.appendingPathComponent(relative)
        let directory = final.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let temporary = directory.appendingPathComponent(".\(final.lastPathComponent).tmp-\(UUID().uuidString)").path
        do {
            switch transfer {
            case .copy:
                try FileManager.default.copyItem(atPath: sourcePath, toPath: temporary)
                if config.fsync { try AtomicFile.fsync(path: temporary) }
            case .move, .hardlink:
                if try !AtomicFile.linkNoClobber(sourcePath, temporary) {
                    throw ButlerError.datastore("temporary name \(temporary) exists")
                }
            case .symlink:
                try FileManager.default.createSymbolicLink(atPath: temporary, withDestinationPath: sourcePath)
            case .direct:
                break
            }
        } catch {
            AtomicFile.remove(temporary)
            throw ButlerError.datastore("cannot \(transfer.rawValue) \(sourcePath) into \(relative): \(error)")
        }
        let record = StoredFileInfo(
            datasetId: ref.id, component: "", path: relative, formatter: formatter.name,
            storageClass: ref.datasetType.storageClassName, fileSize: size, checksum: checksum)
        return PreparedArtifact(
            record: record, temporary: temporary, final: final.path,
            removeAfterCommit: transfer == .move ? sourcePath : nil)
    }

    // MARK: Reading

    /// The artifacts recorded for a dataset.
    func records(_ session: any SQLSession, datasetId: UUID) throws -> [StoredFileInfo] {
        try session.query(
            "SELECT " + Self.recordColumns.joined(separator: ", ") + " FROM file_datastore_records WHERE dataset_id = ?",
            [.uuid(datasetId)]).compactMap { Self.record($0.values[...], datasetId: datasetId) }
    }

    /// The columns ``record(_:datasetId:)`` decodes, in its order.
    private static let recordColumns = ["component", "path", "formatter", "storage_class", "file_size", "checksum"]

    /// The artifact records as columns of a registry find, so that a get finds its dataset
    /// and the dataset's artifacts in one statement.
    static let recordsAttachment = Registry.FindAttachment(
        columns: recordColumns.map { "a." + $0 },
        join: "LEFT JOIN file_datastore_records a ON a.dataset_id = t.dataset_id")

    /// The records among rows of ``recordsAttachment`` (none when the dataset has no artifact).
    func records(attached rows: [ArraySlice<SQLValue>], datasetId: UUID) -> [StoredFileInfo] {
        rows.compactMap { Self.record($0, datasetId: datasetId) }
    }

    /// One record from its six columns (component, path, formatter, storage class, size,
    /// checksum); nil for the all-NULL row of a LEFT JOIN that matched nothing.
    private static func record(_ values: ArraySlice<SQLValue>, datasetId: UUID) -> StoredFileInfo? {
        let start = values.startIndex
        guard let path = values[start + 1].string, let formatter = values[start + 2].string,
              let storageClass = values[start + 3].string else { return nil }
        return StoredFileInfo(
            datasetId: datasetId, component: values[start].string ?? "", path: path, formatter: formatter,
            storageClass: storageClass, fileSize: values[start + 4].int64 ?? 0, checksum: values[start + 5].string)
    }

    /// Reads an artifact as the storage class's default type.
    func read(_ info: StoredFileInfo, ref: DatasetRef, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let formatter = try formatters.formatter(named: info.formatter)
        do {
            return try formatter.read(from: url(forRecordedPath: info.path), storageClass: storageClass, parameters: parameters)
        } catch {
            throw ButlerError.datastore("cannot read \(ref) from \(info.path): \(error)")
        }
    }

    /// Reads one component of an artifact.
    func readComponent(_ component: String, _ info: StoredFileInfo, ref: DatasetRef, storageClass: StorageClass, parameters: ReadParameters) throws -> any Sendable {
        let formatter = try formatters.formatter(named: info.formatter)
        do {
            return try formatter.readComponent(component, from: url(forRecordedPath: info.path), storageClass: storageClass, parameters: parameters)
        } catch {
            throw ButlerError.datastore("cannot read component \(component) of \(ref) from \(info.path): \(error)")
        }
    }

    /// Reads an artifact as `T`.
    func read<T>(_ type: T.Type, _ info: StoredFileInfo, ref: DatasetRef, storageClass: StorageClass, parameters: ReadParameters) throws -> T {
        let formatter = try formatters.formatter(named: info.formatter)
        do {
            return try formatter.read(type, from: url(forRecordedPath: info.path), storageClass: storageClass, parameters: parameters)
        } catch {
            throw ButlerError.datastore("cannot read \(ref) as \(T.self) from \(info.path): \(error)")
        }
    }

    // MARK: Removal

    /// Moves the records of `ids` to the trash (phase one of removal).
    func trash(_ session: any SQLSession, ids: [UUID]) throws {
        for id in ids {
            for info in try records(session, datasetId: id) {
                try session.execute(
                    "INSERT INTO file_datastore_trash (path, owned) VALUES (?, ?) ON CONFLICT (path) DO NOTHING",
                    [.text(info.path), .integer(info.path.hasPrefix("/") ? 0 : 1)])
            }
            try session.execute("DELETE FROM file_datastore_records WHERE dataset_id = ?", [.uuid(id)])
        }
    }

    /// Deletes trashed files that no record names any more (phase two); returns their paths.
    /// Files ingested in place (`direct`) are never deleted: the datastore does not own them.
    func emptyTrash(_ session: any SQLSession) throws -> [String] {
        var removed: [String] = []
        for row in try session.query("SELECT path, owned FROM file_datastore_trash", []) {
            let path = row[0].string!
            let stillUsed = try !session.query(
                "SELECT 1 FROM file_datastore_records WHERE path = ? LIMIT 1", [.text(path)]).isEmpty
            if !stillUsed && row[1].int64 == 1 {
                let url = url(forRecordedPath: path)
                AtomicFile.remove(url.path)
                removeEmptyDirectories(from: url.deletingLastPathComponent())
                removed.append(path)
            }
            try session.execute("DELETE FROM file_datastore_trash WHERE path = ?", [.text(path)])
        }
        return removed
    }

    private func removeEmptyDirectories(from directory: URL) {
        var current = directory.standardizedFileURL
        while current.path.hasPrefix(root.path + "/") {
            guard rmdir(current.path) == 0 else { return }
            current = current.deletingLastPathComponent()
        }
    }
}

/// What the datastore records about one artifact (daf_butler's `StoredFileInfo`).
public struct StoredFileInfo: Sendable, Hashable {
    /// The same record for an artifact at another path.
    func at(path: String) -> StoredFileInfo {
        StoredFileInfo(datasetId: datasetId, component: component, path: path, formatter: formatter,
                       storageClass: storageClass, fileSize: fileSize, checksum: checksum)
    }

    /// The dataset the artifact belongs to.
    public let datasetId: UUID
    /// The component stored in this artifact (empty for the whole dataset).
    public let component: String
    /// Path relative to the datastore root, or absolute for files ingested in place.
    public let path: String
    /// The formatter that reads it.
    public let formatter: String
    /// The storage class it was written as.
    public let storageClass: String
    /// Size in bytes.
    public let fileSize: Int64
    /// `sha256:<hex>`, or nil when checksums are off.
    public let checksum: String?
}

/// How ingest brings a file into the repository (daf_butler's `--transfer`).
public enum TransferMode: String, Sendable, CaseIterable {
    /// Copy the file under the datastore root.
    case copy
    /// Move it under the root (the source disappears once the dataset is registered).
    case move
    /// Leave it in place and put a symbolic link under the root.
    case symlink
    /// Hard-link it under the root.
    case hardlink
    /// Record its absolute path; the datastore never moves or deletes it.
    case direct
}
