import Butler
import ButlerTestSupport
import Composites
import Foundation
import Testing

/// Artifact checksums: CRC-32C against its published vectors and a bitwise reference, SHA-256
/// against coreutils' `sha256sum`, and verification on read — a byte changed in a stored
/// artifact is refused, naming the dataset, the path and both checksums.
@Suite("Checksums")
struct ChecksumTests {
    /// CRC-32C by its definition (reflected, polynomial 0x82F63B78), independent of the library.
    static func reference(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0x82F6_3B78 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func checksum(_ bytes: [UInt8], _ algorithm: ChecksumAlgorithm, in directory: TemporaryDirectory) throws -> String? {
        let file = directory.url.appendingPathComponent("bytes-\(UUID().uuidString)")
        try Data(bytes).write(to: file)
        return try algorithm.checksum(ofFileAt: file.path)
    }

    @Test("CRC-32C: RFC 3720's vectors, and the definition over sizes and offsets across the 4 MiB read size")
    func crc32cVectors() throws {
        let directory = try TemporaryDirectory()
        let vectors: [([UInt8], String)] = [
            (Array("123456789".utf8), "e3069283"), ([UInt8](repeating: 0, count: 32), "8a9136aa"),
            ([UInt8](repeating: 0xFF, count: 32), "62a8ab43"), ((0..<32).map(UInt8.init), "46dd794e"),
            ((0..<32).reversed().map(UInt8.init), "113fdb5c"), ([], "00000000"),
        ]
        for (bytes, expected) in vectors {
            #expect(try Self.checksum(bytes, .crc32c, in: directory) == "crc32c:" + expected, "\(bytes.prefix(8))")
        }
        var generator = SystemRandomNumberGenerator()
        for size in [1, 7, 8, 9, 63, 4096, 100_003, (4 << 20) + 13] {
            let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = String(format: "crc32c:%08x", Self.reference(bytes))
            #expect(try Self.checksum(bytes, .crc32c, in: directory) == expected, "size \(size)")
        }
        #expect(try Self.checksum([1, 2, 3], .none, in: directory) == nil)
        #expect(ChecksumAlgorithm.of(recorded: "crc32c:e3069283") == .crc32c && ChecksumAlgorithm.of(recorded: "sha256:00") == .sha256)
        #expect(ChecksumAlgorithm.of(recorded: "md5:00") == nil && ChecksumAlgorithm.of(recorded: "none:") == nil)
    }

    @Test("SHA-256 equals coreutils' sha256sum")
    func sha256AgainstCoreutils() throws {
        let directory = try TemporaryDirectory()
        let file = directory.url.appendingPathComponent("payload")
        try Data((0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: file)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
        process.arguments = [file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let expected = try #require(output.split(separator: " ").first)
        #expect(try ChecksumAlgorithm.sha256.checksum(ofFileAt: file.path) == "sha256:" + expected)
    }

    @Test(
        "a changed byte is refused on read when checksums are verified (either algorithm), and found by verify",
        arguments: Backend.available, [ChecksumAlgorithm.crc32c, .sha256])
    func verifyOnRead(backend: Backend, algorithm: ChecksumAlgorithm) async throws {
        let directory = try TemporaryDirectory()
        let root = try await TestRepository.create(in: directory.url, backend: backend) { $0.datastore.checksum = algorithm }
        let writer = try await Butler(repository: root, run: "r")
        try await writer.insertDimensionRecords("instrument", [["name": "Cam"]])
        try await writer.registerDatasetType("blob", dimensions: ["instrument"], storageClass: "Bytes")
        let payload = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0) })
        let ref = try await writer.put(payload, "blob", dataId: ["instrument": "Cam"])
        let record = try #require(try await writer.artifactRecords(ref).first)
        #expect(record.checksum?.hasPrefix(algorithm.rawValue + ":") == true, "\(record)")
        let file = try #require(try await writer.artifactURLs(ref).first)
        try await writer.close()

        // Intact: a verifying Butler reads it.
        let verifying = try await Butler(repository: root, collections: ["r"], writeable: false, verifyChecksums: true)
        #expect(try await verifying.get("blob", dataId: ["instrument": "Cam"], as: Data.self) == payload)
        // One byte changed, the size kept.
        var corrupted = payload
        corrupted[1234] ^= 0x40
        try corrupted.write(to: file)
        let plain = try await Butler(repository: root, collections: ["r"], writeable: false)
        #expect(try await plain.get("blob", dataId: ["instrument": "Cam"], as: Data.self) == corrupted)  // not asked to verify
        let error = try await #require(throws: ButlerError.self) {
            _ = try await verifying.get("blob", dataId: ["instrument": "Cam"], as: Data.self)
        }
        let actual = try #require(try algorithm.checksum(ofFileAt: file.path))
        #expect(error.code == .corruptArtifact)
        for part in ["blob", record.path, record.checksum!, actual] { #expect("\(error)".contains(part), "\(error) lacks \(part)") }
        try await verifying.close()
        try await plain.close()

        // The repository's own setting does the same for every Butler.
        var config = try RepositoryConfig.load(root: root)
        config.datastore.verifyChecksums = true
        try config.write(root: root)
        let configured = try await Butler(repository: root, collections: ["r"], writeable: false)
        await #expect(throws: ButlerError.self) { _ = try await configured.get("blob", dataId: ["instrument": "Cam"], as: Data.self) }
        try await configured.close()
    }
}
