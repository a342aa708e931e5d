import Foundation

/// Verification and repair: every artifact checked against its record (exists, size,
/// checksum), and what a killed writer can leave found and removed — staged files never
/// published, and published files whose registry transaction never committed.
extension FileDatastore {
    package func verificationInputs(_ session: any SQLSession) throws -> VerificationInputs {
        let records = try session.query(
            "SELECT dataset_id, " + Self.recordColumns.joined(separator: ", ") + " FROM \(Self.recordTable) WHERE datastore_name = ?",
            [.text(name)]
        ).compactMap { row -> StoredFileInfo? in
            guard let id = row[0].uuidValue, let path = row[2].string, let formatter = row[3].string, let storageClass = row[4].string
            else { return nil }
            return StoredFileInfo(
                datasetId: id, component: row[1].string ?? "", path: path, formatter: formatter, storageClass: storageClass,
                fileSize: row[5].int64 ?? 0, checksum: row[6].string)
        }
        let trashed = try session.query("SELECT path FROM \(Self.trashTable) WHERE datastore_name = ?", [.text(name)])
            .compactMap { $0[0].string }
        return VerificationInputs(records: records, trashed: Set(trashed))
    }

    package func verify(
        _ inputs: VerificationInputs, checksums: Bool, excluding repositoryFiles: Set<String>, progress: ProgressCounter?
    ) throws -> VerificationReport {
        var report = VerificationReport()
        var checkedPaths = Set<String>()
        progress?.addToTotal(inputs.records.count)
        for record in inputs.records.sorted(by: { $0.path < $1.path }) {
            progress?.advance()
            guard checkedPaths.insert(record.path).inserted else { continue }
            report.checked += 1
            func problem(_ reason: String) -> VerificationReport.Problem {
                VerificationReport.Problem(datasetId: record.datasetId, path: record.path, reason: reason)
            }
            let size: Int64?
            do { size = try storage.size(of: record.path) } catch {
                report.corrupt.append(problem("\(error)"))
                continue
            }
            guard let size else {
                report.missing.append(problem("no artifact at the recorded path"))
                continue
            }
            if size != record.fileSize {
                report.corrupt.append(problem("\(size) bytes, recorded \(record.fileSize)"))
            } else if checksums, let expected = record.checksum, let algorithm = ChecksumAlgorithm.of(recorded: expected) {
                let actual = try storage.checksum(of: record.path, algorithm: algorithm) ?? expected
                if actual != expected {
                    report.corrupt.append(problem("checksum \(actual), recorded \(expected)"))
                }
            }
        }
        // A file no record names is an orphan once it is old, or at once when it is the
        // published twin of a staged file whose writer is gone (killed before its commit).
        let cutoff = Date().addingTimeInterval(-StagedArtifact.leftoverAge)
        let listings = try storage.list(under: "").filter { !repositoryFiles.contains($0.path) }
        let abandoned = Set(listings.compactMap { $0.leftover?.published })
        for listing in listings {
            if listing.isStaged {
                if listing.leftover != nil { report.leftovers.append(listing.path) }
            } else if !checkedPaths.contains(listing.path) && !inputs.trashed.contains(listing.path)
                && (listing.modified < cutoff || abandoned.contains(listing.path))
            {
                report.orphans.append(listing.path)
            }
        }
        return report
    }

    package func repair(_ session: any SQLSession, _ report: VerificationReport) throws -> [String] {
        var removed: [String] = []
        for path in report.leftovers {
            try storage.delete(path)
            removed.append(path)
        }
        // A put may have published here since the listing and be committing now.
        for path in report.orphans.sorted() where try deleteIfUnrecorded(path, session: session) {
            removed.append(path)
        }
        return removed
    }
}
