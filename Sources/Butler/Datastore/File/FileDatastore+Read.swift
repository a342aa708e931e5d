package import Composites
package import Formatters
package import Foundation

/// Reading: one artifact through its formatter, or a composite stored one artifact per
/// component, assembled here. Formatter failures keep their cause and become ``ButlerError``
/// codes by their kind, never by their text.
extension FileDatastore {
    package func read(
        _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, component: String?, parameters: ReadParameters
    ) throws -> any Sendable {
        let info = try primaryRecord(ref, records)
        guard info.component.isEmpty else {
            return try readDisassembled(ref, records: records, storageClass: storageClass, component: component, parameters: parameters)
        }
        let formatter = try formatter(named: info.formatter)
        let (url, partial) = try readableURL(info, ref, formatter: formatter, component: component, parameters: parameters)
        defer { withExtendedLifetime(partial) {} }
        return try reporting(ref, component: component, info) {
            guard let component else { return try formatter.read(from: url, storageClass: storageClass, parameters: parameters) }
            return try formatter.readComponent(component, from: url, storageClass: storageClass, parameters: parameters)
        }
    }

    package func read<T>(
        _ type: T.Type, _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, parameters: ReadParameters
    ) throws -> T {
        let info = try primaryRecord(ref, records)
        guard info.component.isEmpty else {
            let value = try readDisassembled(ref, records: records, storageClass: storageClass, component: nil, parameters: parameters)
            guard let typed = value as? T else { throw ButlerError.typeMismatch("\(ref) is \(Swift.type(of: value)), not \(T.self)") }
            return typed
        }
        let formatter = try formatter(named: info.formatter)
        let (url, partial) = try readableURL(info, ref, formatter: formatter, component: nil, parameters: parameters)
        defer { withExtendedLifetime(partial) {} }
        return try reporting(ref, component: nil, info, as: T.self) {
            try formatter.read(type, from: url, storageClass: storageClass, parameters: parameters)
        }
    }

    /// The record of the whole dataset, or any of a disassembled one's.
    private func primaryRecord(_ ref: DatasetRef, _ records: [StoredFileInfo]) throws -> StoredFileInfo {
        guard let info = records.first(where: { $0.component.isEmpty }) ?? records.first else {
            throw ButlerError(.missingArtifact, "\(ref) is registered but has no stored artifact (was it unstored?)")
        }
        return info
    }

    /// The file a read of `component` with `parameters` opens: for a remote artifact that the
    /// read needs only part of (a cutout, a header component), a file holding just those byte
    /// ranges (`partial`: the caller keeps it alive while reading);
    /// otherwise the local or cached copy (``localURL(_:_:)``).
    private func readableURL(
        _ info: StoredFileInfo, _ ref: DatasetRef, formatter: any FileFormatter, component: String?, parameters: ReadParameters
    ) throws -> (url: URL, partial: PartialArtifact?) {
        if config.verifyChecksums != true, storage.readsByRange,
            let need = formatter.partialNeed(component: component, parameters: parameters)
        {
            let file: PartialArtifact?
            do { file = try storage.partialFile(for: info, need: need, formatter: formatter) } catch let error as ButlerError {
                throw ButlerError(error.code, "cannot read \(ref) from \(info.path)", cause: error, isRetryable: error.isRetryable)
            }
            if let file { return (URL(filePath: file.path, directoryHint: .notDirectory), file) }
        }
        return (try localURL(info, ref), nil)
    }

    /// A local file URL for a recorded artifact, its checksum verified first when the datastore
    /// is configured to.
    private func localURL(_ info: StoredFileInfo, _ ref: DatasetRef) throws -> URL {
        // A remote artifact's checksum is checked as it is downloaded, before it is cached.
        var admitted = false
        let local: String?
        do {
            local = try storage.localFile(
                for: info,
                admit: {
                    try verifyChecksum(info, file: $0, ref)
                    admitted = true
                })
        } catch let error as ButlerError where error.code != .corruptArtifact {
            throw ButlerError(error.code, "cannot read \(ref) from \(info.path)", cause: error, isRetryable: error.isRetryable)
        }
        guard let file = local else {
            throw ButlerError(.storageFailure, "cannot read \(ref): \(info.path) in \(storage.location) has no local copy")
        }
        if config.verifyChecksums == true, !admitted { try verifyChecksum(info, file: file, ref) }
        // An explicit directory hint: without it Foundation stats the path to find out.
        return URL(filePath: file, directoryHint: .notDirectory)
    }

    /// Checks an artifact against its recorded checksum (by the algorithm the record names).
    /// - Throws: ``ButlerError/Code/corruptArtifact`` naming the dataset, the path and both
    ///   checksums; nothing for an artifact recorded without a checksum.
    func verifyChecksum(_ info: StoredFileInfo, file: String, _ ref: DatasetRef) throws {
        guard let expected = info.checksum, let algorithm = ChecksumAlgorithm.of(recorded: expected) else { return }
        let actual = try algorithm.checksum(ofFileAt: file)
        guard actual == expected else {
            throw ButlerError(
                .corruptArtifact,
                "\(ref): artifact \(info.path) in \(storage.location) has checksum \(actual ?? "none"), but \(expected) was recorded when it was written"
            )
        }
    }

    /// Runs a formatter read, turning its failure into the ``ButlerError`` its kind says, with
    /// the dataset, the artifact and the formatter's error as the cause.
    private func reporting<R>(
        _ ref: DatasetRef, component: String?, _ info: StoredFileInfo, as type: R.Type = R.self, _ body: () throws -> R
    ) throws -> R {
        do { return try body() } catch let error as ButlerError {
            throw error
        } catch {
            let what = component.map { "component \($0) of \(ref)" } ?? "\(ref)"
            let kind = (error as? any FileFormatError)?.kind
            switch kind {
            case .missingFile?:
                throw ButlerError(.missingArtifact, "cannot read \(what): its artifact \(info.path) is missing", cause: error)
            case .invalidRequest?:
                throw ButlerError(.invalidParameter, "cannot read \(what) from \(info.path)", cause: error)
            case .absentComponent?:
                throw ButlerError(.missingComponent, "cannot read \(what) from \(info.path)", cause: error)
            case .typeMismatch?:
                let target = R.self == (any Sendable).self ? "" : " as \(R.self)"
                throw ButlerError(.typeMismatch, "cannot read \(what)\(target) from \(info.path)", cause: error)
            case .ioFailure?:
                throw ButlerError(.storageFailure, "cannot read \(what) from \(info.path)", cause: error)
            case .corruptFile?, nil:
                throw ButlerError(.corruptArtifact, "cannot read \(what) from \(info.path)", cause: error)
            }
        }
    }

    /// Reads a dataset stored one artifact per component: a stored component reads its own
    /// artifact; a derived one reads only the parts the assembler says it comes from (one part:
    /// through that part's formatter, header only where it can); the whole composite is
    /// assembled from every artifact.
    private func readDisassembled(
        _ ref: DatasetRef, records: [StoredFileInfo], storageClass: StorageClass, component: String?, parameters: ReadParameters
    ) throws -> any Sendable {
        guard let assembler = storageClass.assembler else {
            throw ButlerError(.configuration, "\(ref) is stored in components but storage class \(storageClass.name) has no assembler")
        }
        func part(_ info: StoredFileInfo, component derived: String? = nil) throws -> any Sendable {
            let partClass = try storageClasses.storageClass(named: info.storageClass)
            let partParameters = derived == nil ? parameters.filter { partClass.parameters.contains($0.key) } : [:]
            let formatter = try formatter(named: info.formatter)
            let url = try localURL(info, ref)
            return try reporting(ref, component: derived ?? info.component, info) {
                guard let derived else { return try formatter.read(from: url, storageClass: partClass, parameters: partParameters) }
                return try formatter.readComponent(derived, from: url, storageClass: partClass, parameters: partParameters)
            }
        }
        var needed = records
        if let component {
            if let info = records.first(where: { $0.component == component }) { return try part(info) }
            if storageClass.components[component] != nil {
                throw ButlerError(.missingComponent, "\(ref) has no \(component): it was stored without one")
            }
            let sources = assembler.sourceComponents(forDerived: component)
            if sources.count == 1, let info = records.first(where: { $0.component == sources[0] }) {
                return try part(info, component: component)
            }
            if !sources.isEmpty { needed = records.filter { sources.contains($0.component) } }
        }
        var parts: [String: any Sendable] = [:]
        for info in needed { parts[info.component] = try part(info) }
        do {
            let composite = try assembler.assemble(parts)
            guard let component else { return composite }
            return try assembler.component(component, of: composite)
        } catch {
            throw ButlerError(
                .corruptArtifact, "cannot assemble \(component.map { "component \($0) of " } ?? "")\(ref) from its artifacts", cause: error)
        }
    }

    package func exists(_ records: [StoredFileInfo]) throws -> Bool {
        guard !records.isEmpty else { return false }
        for record in records where try storage.size(of: record.path) == nil { return false }
        return true
    }

    package func urls(_ records: [StoredFileInfo]) throws -> [URL] {
        try records.map { try storage.url(for: $0.path) }
    }
}
