import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// Inputs and environments that must give a clear error quickly, never a hang or a crash.
@Suite("Robustness")
struct RobustnessTests {
    @Test("an unreachable PostgreSQL registry is a clear, retryable error within seconds")
    func unreachableServer() async throws {
        let directory = try TemporaryDirectory()
        // Port 1 on loopback: nothing listens there.
        try RepositoryConfig.defaultConfig(database: "postgresql://butler:secret@127.0.0.1:1/nowhere", namespace: "x").write(
            root: directory.url)
        let started = ContinuousClock.now
        let error = await #expect(throws: ButlerError.self) { try await Butler(repository: directory.url) }
        // A refused connection fails at once (0.08 s alone); the bound only tells that from the
        // 67 s hang this guards against. Under the parallel suite the continuation can wait for
        // a concurrency-pool thread while the oracle suites block both (22 s seen while building,
        // 52 s with the HEALPix oracle running alongside), hence the room.
        #expect(ContinuousClock.now - started < .seconds(62))
        #expect(error?.code == .storageFailure && error?.isRetryable == true)
        #expect("\(error!)".contains("127.0.0.1:1") && !"\(error!)".contains("secret"), "\(error!)")
    }

    @Test("a YAML alias bomb is refused at once; nesting beyond libyaml's limit is an error")
    func yamlBombs() throws {
        var lines = [#"a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]"#]
        var previous = "a"
        for name in ["b", "c", "d", "e", "f", "g", "h", "i"] {
            lines.append("\(name): &\(name) [" + Array(repeating: "*\(previous)", count: 9).joined(separator: ", ") + "]")
            previous = name
        }
        let started = ContinuousClock.now
        let bomb = #expect(throws: YAMLExpansionError.self) { try YAMLSupport.decode(JSONValue.self, from: lines.joined(separator: "\n")) }
        #expect("\(bomb!)".contains("aliases"))
        #expect(ContinuousClock.now - started < .seconds(5))
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: (any Error).self) { try YAMLSupport.decode(JSONValue.self, from: deep) }
        // Anchors and aliases in moderation are fine.
        let shared = try YAMLSupport.decode(JSONValue.self, from: "base: &base {x: 1}\nfirst: *base\nsecond: *base\n")
        #expect(shared.objectValue?["second"]?.objectValue?["x"] == 1)
    }
}
