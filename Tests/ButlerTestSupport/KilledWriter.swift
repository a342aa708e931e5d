import Foundation

/// What a writer killed mid-put leaves, made on purpose: staged names carry the writer's boot
/// and process (`.<final>.tmp-<boot>.<pid>-<UUID>`), so a test names a process that has exited
/// to play a killed writer, or its own to play a live one.
public enum KilledWriter {
    /// The ID of a process that has exited (free on this boot, until reused).
    public static func exitedProcessID() throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// The staged name a writer with process ID `pid` on this boot gives a file for `finalName`.
    public static func stagedName(for finalName: String, pid: Int32) throws -> String {
        let bootID = try String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)
        let boot = String(bootID.filter(\.isHexDigit).prefix(8))
        return ".\(finalName).tmp-\(boot).\(pid)-\(UUID().uuidString)"
    }
}
