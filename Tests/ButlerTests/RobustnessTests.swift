import Butler
import ButlerTestSupport
import Composites
import Formatters
import Foundation
import Testing

/// Inputs and environments that must give a clear error quickly, never a hang or a crash.
@Suite("Robustness")
struct RobustnessTests {
    /// How long it takes is checked in a process of its own (`ButlerCLITests`): here the test's
    /// continuation can wait over a minute for a concurrency-pool thread while other suites
    /// block both, which no bound can tell from the 67 s hang that test guards against.
    @Test("an unreachable PostgreSQL registry is a clear, retryable error")
    func unreachableServer() async throws {
        let directory = try TemporaryDirectory()
        // Port 1 on loopback: nothing listens there.
        try RepositoryConfig.defaultConfig(database: "postgresql://butler:secret@127.0.0.1:1/nowhere", namespace: "x").write(
            root: directory.url)
        let error = await #expect(throws: ButlerError.self) { try await Butler(repository: directory.url) }
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
