import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The hidden name a staged artifact has beside its final name,
/// `.<final name>.tmp-<boot>.<pid>-<UUID>`, and what it tells about its writer.
///
/// The boot and process of the writer are in the name so that the next writer to the same
/// directory can tell a leftover of a killed process (same boot, no such process) from the file
/// of a live one and remove it at once instead of after ``StagedArtifact/leftoverAge``. A name
/// written on another machine (a shared file system) or by an older build (`.tmp-<UUID>`) says
/// nothing about its writer: only its age makes it a leftover.
struct StagingName: Equatable {
    /// The final name (the last path component) the staged file is for.
    let finalName: String
    /// The writer's boot tag and process ID, when the name carries them.
    let writer: (boot: String, pid: Int32)?

    static func == (lhs: StagingName, rhs: StagingName) -> Bool {
        lhs.finalName == rhs.finalName && lhs.writer?.boot == rhs.writer?.boot && lhs.writer?.pid == rhs.writer?.pid
    }

    /// A fresh staged name for `finalName`, written by this process.
    static func make(for finalName: Substring) -> String {
        "." + finalName + ".tmp-" + writerTag + "-" + UUID().uuidString
    }

    /// This process as a writer: `<boot>.<pid>`.
    private static let writerTag = "\(bootTag).\(getpid())"

    /// The first 8 hex digits of this boot's ID (Linux), or "0" where there is none.
    static let bootTag: String = {
        guard let text = try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8) else { return "0" }
        let digits = text.unicodeScalars.filter { CharacterSet(charactersIn: "0123456789abcdef").contains($0) }
        return digits.count >= 8 ? String(String.UnicodeScalarView(digits.prefix(8))) : "0"
    }()

    /// Parses a file name; nil when it is not a staged name.
    init?(parsing name: String) {
        guard name.hasPrefix("."), let marker = name.range(of: ".tmp-", options: .backwards) else { return nil }
        let suffix = name[marker.upperBound...]
        guard suffix.count >= 36, UUID(uuidString: String(suffix.suffix(36))) != nil else { return nil }
        finalName = String(name[name.index(after: name.startIndex)..<marker.lowerBound])
        guard !finalName.isEmpty else { return nil }
        let tag = suffix.dropLast(36)
        if tag.isEmpty {
            writer = nil
        } else {
            let parts = tag.dropLast().split(separator: ".")  // "<boot>.<pid>-"
            guard tag.hasSuffix("-"), parts.count == 2, let pid = Int32(parts[1]) else { return nil }
            writer = (String(parts[0]), pid)
        }
    }

    /// Whether the writer is known to be gone: it ran on this boot of this machine and no
    /// process has its ID. (A reused ID makes a dead writer look alive: the file then waits for
    /// its age, never the reverse.)
    var writerIsGone: Bool {
        guard let writer, writer.boot == Self.bootTag, writer.boot != "0" else { return false }
        return kill(writer.pid, 0) != 0 && errno == ESRCH
    }
}
