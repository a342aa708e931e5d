import Synchronization

/// How far a long operation (an import, export, transfer, ingest, verify or removal) has got:
/// what the `butler` command draws its progress bars from.
public struct ProgressReport: Sendable, Equatable {
    /// The operation: `import`, `export`, `transfer`, `subset`, `ingest`, `zip`, `ingest-zip`,
    /// `verify` or `remove`.
    public var operation: String
    /// Items done so far (datasets, files or artifacts, as the operation counts them).
    public var completed: Int
    /// Items in all, when known.
    public var total: Int?

    /// A report.
    public init(operation: String, completed: Int, total: Int?) {
        self.operation = operation
        self.completed = completed
        self.total = total
    }
}

/// Where long operations report their progress: a handler bound for the current task, so that
/// the code that wants progress (a command-line tool, a notebook) decides, and the Butler calls
/// nothing when none is bound.
///
/// ```swift
/// try await ButlerProgress.$handler.withValue({ report in print(report.completed, report.total ?? 0) }) {
///     try await butler.import(from: bundle)
/// }
/// ```
///
/// The handler is called from whichever thread does the work, once per item: keep it quick
/// (draw at most every so often).
public enum ButlerProgress {
    /// The handler for the current task (none by default).
    @TaskLocal public static var handler: (@Sendable (ProgressReport) -> Void)?
}

/// One operation's count, reported to the handler bound when it was made (read once, in the
/// operation's task, so that work running on a database thread reports too).
package final class ProgressCounter: Sendable {
    private let operation: String
    private let handler: (@Sendable (ProgressReport) -> Void)?
    private let state: Mutex<(completed: Int, total: Int?)>

    /// A counter for `operation` with `total` items (nil when not known yet).
    package init(_ operation: String, total: Int?) {
        self.operation = operation
        self.handler = ButlerProgress.handler
        self.state = Mutex((0, total))
    }

    /// Adds `count` items to the total as they become known (a chained datastore's members
    /// one after the other), and reports.
    package func addToTotal(_ count: Int) {
        guard let handler else { return }
        let (completed, total) = state.withLock { state in
            state.total = (state.total ?? 0) + count
            return (state.completed, state.total)
        }
        handler(ProgressReport(operation: operation, completed: completed, total: total))
    }

    /// Counts `count` more items done, and reports.
    package func advance(by count: Int = 1) {
        guard let handler else { return }
        let (completed, total) = state.withLock { state in
            state.completed += count
            return (state.completed, state.total)
        }
        handler(ProgressReport(operation: operation, completed: completed, total: total))
    }
}
