public import Foundation

/// A file to ingest and the data ID it holds.
public struct FileToIngest: Sendable {
    /// The file.
    public let url: URL
    /// Its data ID for the dataset type being ingested.
    public let dataId: DataId

    /// Pairs a file with its data ID.
    public init(url: URL, dataId: DataId) {
        self.url = url
        self.dataId = dataId
    }
}

extension Butler {
    /// Registers existing files as datasets of `datasetType` in `run`, all or none.
    ///
    /// The formatter follows each file's extension unless the repository configures one for
    /// the dataset type or `formatter` names one. With `ifExists: .skipIdentical` a file whose
    /// dataset the run already holds with the same bytes is skipped (a re-run of an ingest);
    /// the result lists the new datasets, then those found. `extendRun: false` refuses a run
    /// that exists already (pipetask's guard on output runs; daf_butler's ingest extends).
    @discardableResult
    public func ingest(
        _ files: [FileToIngest], datasetType: String, run: String, transfer: TransferMode = .copy,
        idGenerationMode: DatasetIdGenerationMode = .unique, formatter: String? = nil, ifExists: ExistingDatasetPolicy = .fail,
        extendRun: Bool = true
    ) async throws -> [DatasetRef] {
        try requireWriteable("ingest into \(run)")
        if !extendRun { try await requireNewRun(run, for: "ingest of \(files.count) \(datasetType) file(s)") }
        var staged: [(DatasetRef, DatasetTypeRecord, any DatastoreWrite)] = []
        var skipped: [DatasetRef] = []
        let progress = ProgressCounter("ingest", total: files.count)
        do {
            for file in files {
                defer { progress.advance() }
                let (typeRecord, ref) = try await resolveNewRef(datasetType, dataId: file.dataId, run: run, mode: idGenerationMode)
                let write = try datastore.prepareIngest(file.url, for: ref, formatter: formatter, transfer: transfer, known: nil)
                // A re-run: a file already ingested (the same bytes) is left as it is.
                if ifExists == .skipIdentical, let existing = try await existingDataset(like: ref, typeRecord) {
                    write.abandon()
                    do { skipped.append(try Self.requireIdentical(existing, staged: write.records, new: ref)) } catch let error
                        as ButlerError
                    {
                        throw ButlerError(error.code, "cannot ingest \(file.url.path): \(error.message)", cause: error)
                    }
                    continue
                }
                staged.append((ref, typeRecord, write))
            }
        } catch {
            for (_, _, write) in staged { write.abandon() }
            throw error
        }
        try await commit(staged, replacing: ifExists == .replace)
        let refs = staged.map(\.0)
        if let type = refs.first?.datasetType, !type.fields.isEmpty {
            do { try await indexFields(of: refs) } catch {
                throw ButlerError(
                    (error as? ButlerError)?.code ?? .typeMismatch,
                    "ingested \(refs.count) \(datasetType) dataset(s) into \(run), but could not take their fields \(type.fields.map(\.name)); fix the definition or the files, then run `butler index-fields`",
                    cause: error)
            }
        }
        return refs + skipped
    }
}
