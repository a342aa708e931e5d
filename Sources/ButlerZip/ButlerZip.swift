public import Butler
public import Foundation
import ZIPFoundation

/// Zips of datasets in daf_butler's format (`retrieve-artifacts --zip`, `ingest-zip`): the
/// Butler's Zip operations with ZIPFoundation as their Zip library. A module of its own so
/// that the C modules ZIPFoundation brings in (CoreFoundation's declarations of `stat` and
/// `timespec`) stay out of the Butler module's compilation.
extension Butler {
    /// Retrieves the artifacts of `refs` into one Zip in `destination`, in daf_butler's format
    /// (`retrieve-artifacts --zip`): each artifact a stored member named by the first eight
    /// characters of its dataset ID and its file name, and `_butler_zip_index.json` with the
    /// datasets (types, runs, data IDs) and their datastore records — what
    /// ``ingestZip(_:transfer:skipExisting:dryRun:)`` and daf_butler's `ingest-zip` read. The
    /// Zip's name is daf_butler's: a uuid5 of its member names. It is built under a temporary
    /// name in `destination` and renamed when complete.
    /// - Returns: The Zip written.
    /// - Throws: ``ButlerError/Code/invalidParameter`` for no datasets or a dataset stored
    ///   disassembled; ``ButlerError/Code/conflict`` when the Zip exists and `overwrite` is
    ///   false.
    @discardableResult
    public func retrieveArtifactsZip(_ refs: [DatasetRef], destination: URL, overwrite: Bool = true) async throws -> URL {
        try await retrieveArtifactsZip(refs, destination: destination, overwrite: overwrite) { try ZIPFoundationWriter(creating: $0) }
    }

    /// Ingests a Zip written by ``retrieveArtifactsZip(_:destination:overwrite:)`` or by
    /// daf_butler's `retrieve-artifacts --zip` (daf_butler's `ingest-zip`): its datasets keep
    /// their IDs, runs and data IDs; missing runs and dataset types are registered; the
    /// artifacts are extracted into the datastore. All or nothing, as an import: one registry
    /// transaction, and a failure leaves the repository as it was. The dimension records the
    /// data IDs need must be in the repository (as daf_butler's `ingest-zip` requires by
    /// default); the records a daf_butler Zip may carry are not read.
    /// - Parameters:
    ///   - zip: The Zip file.
    ///   - transfer: `copy` (the Zip stays) or `move` (it is removed once ingested).
    ///   - skipExisting: Accept a Zip whose datasets are all in the repository already (they
    ///     are skipped; otherwise that is an error, as in daf_butler).
    ///   - dryRun: Check everything and count, but write nothing.
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming the Zip and what is wrong in it.
    @discardableResult
    public func ingestZip(
        _ zip: URL, transfer: TransferMode = .copy, skipExisting: Bool = false, dryRun: Bool = false
    ) async throws
        -> ZipIngestSummary
    {
        try await ingestZip(zip, transfer: transfer, skipExisting: skipExisting, dryRun: dryRun) { try ZIPFoundationReader(url: $0) }
    }
}

/// A new Zip, written by ZIPFoundation.
private struct ZIPFoundationWriter: ZipArchiveWriter {
    let archive: Archive

    init(creating url: URL) throws { archive = try Archive(url: url, accessMode: .create) }

    func add(_ name: String, data: Data, deflated: Bool) throws {
        try archive.addEntry(
            with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: deflated ? .deflate : .none,
            provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
    }

    func add(_ name: String, file: URL) throws {
        try archive.addEntry(with: name, fileURL: file, compressionMethod: .none)
    }
}

/// A Zip read by ZIPFoundation.
private struct ZIPFoundationReader: ZipArchiveReader {
    let archive: Archive

    init(url: URL) throws { archive = try Archive(url: url, accessMode: .read) }

    func data(of name: String) throws -> Data? {
        guard let entry = archive[name] else { return nil }
        var data = Data()
        _ = try archive.extract(entry) { data.append($0) }
        return data
    }

    func contains(_ name: String) -> Bool { archive[name] != nil }

    func extract(_ name: String, to file: URL) throws {
        guard let entry = archive[name] else { throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name]) }
        _ = try archive.extract(entry, to: file)
    }
}
