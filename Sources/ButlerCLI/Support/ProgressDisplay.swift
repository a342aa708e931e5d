import Butler
import Foundation
import Synchronization

/// Progress bars on standard error for long operations (ingest, import, export, transfer,
/// subset, verify, remove), fed by ``ButlerProgress``. On a terminal one line is redrawn at most
/// ten times a second (`import [########------] 6000/10000 60% 12.3k/s`); elsewhere (with
/// `--progress` and standard error a file) a line is written at each tenth done, so logs stay
/// short.
final class ProgressDisplay: Sendable {
    private struct State {
        var operation = ""
        var started = ContinuousClock.now
        var lastDrawn: ContinuousClock.Instant?
        var lastTenth = -1
        var lineOpen = false
        var lastCompleted = 0
    }

    private let isTerminal: Bool
    private let state = Mutex(State())

    /// A display for a terminal (redrawn line) or not (a line per tenth).
    init(isTerminal: Bool) { self.isTerminal = isTerminal }

    /// Draws `report` when it is due.
    func update(_ report: ProgressReport) {
        let now = ContinuousClock.now
        let text: String? = state.withLock { state in
            var prefix = ""
            // A new operation (or the same one started again) begins a new bar.
            if report.operation != state.operation || report.completed < state.lastCompleted {
                if state.lineOpen { prefix = "\n" }
                state = State(operation: report.operation, started: now)
            }
            state.lastCompleted = report.completed
            let done = report.total.map { report.completed >= $0 } ?? false
            if isTerminal {
                if !done, let last = state.lastDrawn, now - last < .milliseconds(100) { return nil }
                state.lastDrawn = now
                state.lineOpen = !done
                return prefix + "\r\u{1B}[2K" + Self.line(report, elapsed: now - state.started) + (done ? "\n" : "")
            }
            let tenth = report.total.map { $0 > 0 ? report.completed * 10 / $0 : 10 } ?? report.completed / 1000
            guard tenth > state.lastTenth else { return nil }
            state.lastTenth = tenth
            return Self.line(report, elapsed: now - state.started) + "\n"
        }
        if let text { FileHandle.standardError.write(Data(text.utf8)) }
    }

    /// Ends a bar left open (an operation that stopped short: a failure, an unknown total).
    func finish() {
        let open = state.withLock { state in
            defer { state.lineOpen = false }
            return state.lineOpen
        }
        if open { FileHandle.standardError.write(Data("\n".utf8)) }
    }

    /// `operation [bar] completed/total percent rate`.
    static func line(_ report: ProgressReport, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(report.completed) / seconds : 0
        let rateText = rate >= 1000 ? String(format: "%.1fk/s", rate / 1000) : String(format: "%.0f/s", rate)
        guard let total = report.total, total > 0 else { return "\(report.operation) \(report.completed) \(rateText)" }
        let fraction = min(1, Double(report.completed) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled)
        return "\(report.operation) [\(bar)] \(report.completed)/\(total) \(Int(fraction * 100))% \(rateText)"
    }
}
