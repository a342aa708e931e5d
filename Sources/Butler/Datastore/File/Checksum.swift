import Crypto
import Foundation

/// How artifact checksums are computed and recorded (`sha256:<hex>`).
public enum ChecksumAlgorithm: String, Sendable, Codable, CaseIterable {
    /// SHA-256 over the artifact bytes.
    case sha256
    /// No checksum (fastest; integrity then rests on the file system).
    case none

    /// The recorded checksum of the file at `path`, or nil for `.none`.
    func checksum(ofFileAt path: String) throws -> String? {
        guard self == .sha256 else { return nil }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ButlerError.datastore("cannot open \(path) to checksum it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            hasher.update(data: chunk)
        }
        return "sha256:" + hasher.finalize().map { String(format: "%02x", $0) }.joined()
    }
}
