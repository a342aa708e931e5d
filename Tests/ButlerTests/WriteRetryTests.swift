import ButlerTestSupport
import Foundation
import Testing

@testable import Butler

/// A unit of work the engine undid because of another writer is run again, not reported.
@Suite("Units of work refused for concurrent writers are retried")
struct WriteRetryTests {
    @Test("an SQLite unit refused while another connection holds the write lock succeeds once it is released")
    func sqliteLockHeldPastTheBusyTimeout() async throws {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("registry.sqlite3").path
        // A short busy timeout, so that the lock below outlasts it.
        let writer = try SQLiteDatabase(path: path, readOnly: false, create: true, busyTimeout: 0.05)
        try await writer.write { try $0.execute("CREATE TABLE item (value INTEGER)") }

        // Another process holds the write lock until told to commit.
        let lockHolder = Process()
        lockHolder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        lockHolder.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], isolation_level=None)
            db.execute("BEGIN IMMEDIATE")
            db.execute("INSERT INTO item (value) VALUES (1)")
            print("locked", flush=True)
            sys.stdin.readline()
            db.execute("COMMIT")
            """,
            path,
        ]
        let output = Pipe()
        let input = Pipe()
        lockHolder.standardOutput = output
        lockHolder.standardInput = input
        try lockHolder.run()
        let line = try await offCooperativePool { String(decoding: output.fileHandleForReading.readData(ofLength: 7), as: UTF8.self) }
        #expect(line == "locked\n")

        // A plain unit of work is refused, as retryable (so the retry below has work to do)…
        let refused = await #expect(throws: ButlerError.self) {
            try await writer.write { try $0.execute("INSERT INTO item (value) VALUES (2)") }
        }
        #expect(refused?.isRetryable == true)
        #expect((refused?.cause as? SQLError)?.rolledBackForConcurrency == true)
        // …and the retrying one waits it out: the lock is released while it backs off.
        async let retried: Void = writer.writeRetrying(attempts: 10) { try $0.execute("INSERT INTO item (value) VALUES (3)") }
        try await Task.sleep(for: .milliseconds(300))
        input.fileHandleForWriting.write(Data("commit\n".utf8))
        try await retried
        try await offCooperativePool { lockHolder.waitUntilExit() }
        #expect(lockHolder.terminationStatus == 0)
        let values = try await writer.read { try $0.query("SELECT value FROM item ORDER BY value", []).map { $0[0].int64 } }
        #expect(values == [1, 3])
        try await writer.close()
    }

    @Test("a refusal for anything else is not retried")
    func otherFailuresAreNotRetried() async throws {
        let directory = try TemporaryDirectory()
        let database = try SQLiteDatabase(
            path: directory.url.appendingPathComponent("registry.sqlite3").path, readOnly: false, create: true)
        let attempts = Counter()
        await #expect(throws: ButlerError.self) {
            try await database.writeRetrying { session in
                attempts.increment()
                try session.execute("INSERT INTO missing_table (value) VALUES (1)")
            }
        }
        #expect(attempts.value == 1)
        try await database.close()
    }
}

/// A thread-safe count of calls.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
