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
        #expect(try storage.seal(staged) == 10)
        try storage.sync([staged])
        #expect(try storage.list(under: "").map(\.isStaged) == [true])
        #expect(try storage.publish(staged, replacing: false))
        try storage.syncNames(of: [staged.path])
        #expect(try storage.list(under: "").map(\.isStaged) == [true, false], "the staged name stays until finish")
        storage.finish(staged)
        #expect(try storage.read("run/a/file.bin") == Data("0123456789".utf8))
        #expect(try storage.read("run/a/file.bin", range: 3..<7) == Data("3456".utf8))
        #expect(try storage.read("run/a/file.bin", range: 8..<20) == Data("89".utf8))
        #expect(try storage.size(of: "run/a/file.bin") == 10 && (try storage.size(of: "run/a/none.bin")) == nil)
        let second = try storage.stage("run/a/file.bin")
        try Data("other".utf8).write(to: URL(fileURLWithPath: second.localFile))
        #expect(try storage.publish(second, replacing: false) == false, "an existing name is never clobbered")
        storage.discard(second)
        #expect(try storage.list(under: "").map(\.path) == ["run/a/file.bin"])
        try storage.delete("run/a/file.bin")
        #expect(!FileManager.default.fileExists(atPath: directory.url.appendingPathComponent("run").path))
        let missing = #expect(throws: ButlerError.self) { try storage.read("run/a/file.bin") }
        #expect(missing?.code == .missingArtifact)
    }

    @Test("staged names of a killed writer are leftovers at once; a published twin is reported with them; live writers' are not")
    func leftovers() throws {
        let directory = try TemporaryDirectory()
        let storage = LocalStorage(root: directory.url)
        let dead = try KilledWriter.exitedProcessID()
        let folder = directory.url.appendingPathComponent("run/a")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        func stagedName(_ final: String, pid: Int32) throws -> String { try KilledWriter.stagedName(for: final, pid: pid) }
        // Killed before publication: only the staged name.
        let unpublished = try stagedName("x.json", pid: dead)
        try Data("x".utf8).write(to: folder.appendingPathComponent(unpublished))
        // Killed between publication and commit: the final name is a link to the staged file.
        let published = try stagedName("y.json", pid: dead)
        try Data("y".utf8).write(to: folder.appendingPathComponent(published))
        try FileManager.default.linkItem(at: folder.appendingPathComponent(published), to: folder.appendingPathComponent("y.json"))
        // A live writer (this process), and a file of the same final name that is not its twin.
        let live = try stagedName("z.json", pid: getpid())
        try Data("z".utf8).write(to: folder.appendingPathComponent(live))
        let notTwin = try stagedName("w.json", pid: dead)
        try Data("w1".utf8).write(to: folder.appendingPathComponent(notTwin))
        try Data("w2".utf8).write(to: folder.appendingPathComponent("w.json"))

        let found = Set(storage.leftovers(besides: "run/a/new.json"))
        #expect(
            found == [
                StagingLeftover(staged: "run/a/" + unpublished, published: nil),
                StagingLeftover(staged: "run/a/" + published, published: "run/a/y.json"),
                StagingLeftover(staged: "run/a/" + notTwin, published: nil),
            ])
        #expect(storage.leftovers(besides: "run/a/other.json").isEmpty, "a directory is looked at once per process")
        let listed = try storage.list(under: "").filter(\.isStaged)
        #expect(Set(listed.compactMap(\.leftover)) == found, "listing tells the same")
        #expect(StagingName(parsing: ".f.fits.tmp-\(UUID().uuidString)")?.writer == nil, "an older build's name is still a staged name")
        #expect(StagingName(parsing: ".f.fits.tmp-abc") == nil && StagingName(parsing: "f.fits.tmp-\(UUID().uuidString)") == nil)
    }

    @Test("a batch of staged files is synced with one barrier (syncfs from 8 files, fsync each below) and published")
    func batchSync() throws {
        let directory = try TemporaryDirectory()
        let storage = LocalStorage(root: directory.url)
        let staged = try (0..<12).map { index in
            let artifact = try storage.stage("run/b\(index % 3)/file\(index).bin")
            try Data("\(index)".utf8).write(to: URL(fileURLWithPath: artifact.localFile))
            return artifact
        }
        try storage.sync(staged)
        try storage.sync(Array(staged.prefix(2)))
        for artifact in staged { #expect(try storage.publish(artifact, replacing: false)) }
        try storage.syncNames(of: staged.map(\.path))
        for artifact in staged { storage.finish(artifact) }
        #expect(try storage.list(under: "").map(\.path).count == 12)
        #expect(try storage.read("run/b1/file7.bin") == Data("7".utf8))
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
