import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Asking before a destructive command goes ahead, as daf_butler's `remove-runs` does: on a
/// terminal, what will go is listed and the user answers; `--no-confirm` (or standard input not
/// being a terminal: a script, a pipeline) goes ahead without asking.
enum Confirmation {
    /// Whether to go ahead: lists `what` and asks on a terminal unless `noConfirm`.
    static func proceed(_ what: [String], action: String, noConfirm: Bool) -> Bool {
        guard !noConfirm, isatty(STDIN_FILENO) == 1 else { return true }
        print("\(action):")
        for line in what.prefix(50) { print("  \(line)") }
        if what.count > 50 { print("  … and \(what.count - 50) more") }
        print("Continue? [y/N] ", terminator: "")
        fflush(nil)
        guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }
}
