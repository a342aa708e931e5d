import ButlerTestSupport
import Foundation
import Testing

@testable import Butler

/// The POSIX `ArtifactStorage` through its own seam: staging, publication without clobbering,
/// reads whole and by range, listing and deletion, and the paths it refuses.
@Suite("Local artifact storage")
struct LocalStorageTests {
    @Test("stage, seal and publish without clobbering; read whole and by range; list; delete empties directories")
    func lifecycle() throws {
        let directory = try TemporaryDirectory()
        let storage = LocalStorage(root: directory.url)
        let staged = try storage.stage("run/a/file.bin")
        try Data("0123456789".utf8).write(to: URL(fileURLWithPath: staged.localFile))
        #expect(try storage.seal(staged, durable: true) == 10)
        #expect(try storage.list(under: "").map(\.isStaged) == [true])
        #expect(try storage.publish(staged, replacing: false, durable: true))
        #expect(try storage.read("run/a/file.bin") == Data("0123456789".utf8))
        #expect(try storage.read("run/a/file.bin", range: 3..<7) == Data("3456".utf8))
        #expect(try storage.read("run/a/file.bin", range: 8..<20) == Data("89".utf8))
        #expect(try storage.size(of: "run/a/file.bin") == 10 && (try storage.size(of: "run/a/none.bin")) == nil)
        let second = try storage.stage("run/a/file.bin")
        try Data("other".utf8).write(to: URL(fileURLWithPath: second.localFile))
        #expect(try storage.publish(second, replacing: false, durable: false) == false, "an existing name is never clobbered")
        storage.discard(second)
        #expect(try storage.list(under: "").map(\.path) == ["run/a/file.bin"])
        try storage.delete("run/a/file.bin")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("run").path))
        let missing = #expect(throws: ButlerError.self) { try storage.read("run/a/file.bin") }
        #expect(missing?.code == .missingArtifact)
    }

    @Test("paths that climb out of the root are refused; absolute ones are read but never written or deleted")
    func refusedPaths() throws {
        let directory = try TemporaryDirectory()
        let storage = LocalStorage(root: directory.url.appendingPathComponent("root"))
        for path in ["../x", "a/../../x", "..", ""] {
            #expect(throws: ButlerError.self, "\(path)") { try storage.stage(path) }
            #expect(throws: ButlerError.self, "\(path)") { try storage.size(of: path) }
        }
        #expect(try storage.stage("a/..b/c..d/x").path == "a/..b/c..d/x", "dots inside names are fine")
        let outside = directory.url.appendingPathComponent("outside.txt")
        try Data("kept".utf8).write(to: outside)
        #expect(try storage.read(outside.path) == Data("kept".utf8))
        #expect(throws: ButlerError.self) { try storage.delete(outside.path) }
        #expect(FileManager.default.fileExists(atPath: outside.path))
    }
}
