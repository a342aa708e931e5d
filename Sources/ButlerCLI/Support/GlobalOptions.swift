import ArgumentParser
import Foundation
import Logging
import Synchronization

/// daf_butler's global options — `--log-level [COMPONENT=]LEVEL` (repeatable), `--long-log`,
/// `--log-file FILE`, `--progress`/`--no-progress` — taken out of the command line wherever they stand (daf_butler puts them
/// before the subcommand: `butler --log-level DEBUG query-datasets …`), then used to set up
/// logging. Messages go to standard error (never into a command's output, which may be JSON)
/// and, with `--log-file`, to that file too.
struct GlobalOptions {
    /// The level for loggers whose label starts with the key (`""`: every logger).
    var levels: [String: Logger.Level] = ["": .warning]
    var longLog = false
    var logFile: String?
    /// Progress bars: on (`--progress`), off (`--no-progress`), or on when standard error is a
    /// terminal (nil; daf_butler's default is off, but a bar on a terminal costs nothing).
    var progress: Bool?

    /// The options, and the arguments without them.
    /// - Throws: ``ValidationError`` for a level that is not one, or an option without its value.
    static func extract(_ arguments: [String]) throws -> (GlobalOptions, [String]) {
        var options = GlobalOptions()
        var rest: [String] = []
        var index = 0
        func value(_ name: String) throws -> String {
            let argument = arguments[index]
            if let equals = argument.firstIndex(of: "="), argument.hasPrefix(name + "=") {
                return String(argument[argument.index(after: equals)...])
            }
            index += 1
            guard index < arguments.count else { throw ValidationError("\(name) needs a value") }
            return arguments[index]
        }
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--" {
                rest += arguments[index...]
                break
            }
            if argument == "--log-level" || argument.hasPrefix("--log-level=") {
                let text = try value("--log-level")
                let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
                let (component, name) = parts.count == 2 ? (parts[0], parts[1]) : ("", parts[0])
                guard let level = Self.level(name) else {
                    throw ValidationError("--log-level \(text): \(name) is not one of DEBUG, VERBOSE, INFO, WARNING, ERROR, CRITICAL")
                }
                // daf_butler's component names (`lsst.daf.butler`) mean the whole Butler here.
                options.levels[component.hasPrefix("lsst") ? "" : component] = level
            } else if argument == "--long-log" {
                options.longLog = true
            } else if argument == "--progress" || argument == "--no-progress" {
                options.progress = argument == "--progress"
            } else if argument == "--log-file" || argument.hasPrefix("--log-file=") {
                options.logFile = try value("--log-file")
            } else {
                rest.append(argument)
            }
            index += 1
        }
        return (options, rest)
    }

    private static func level(_ name: String) -> Logger.Level? {
        switch name.uppercased() {
        case "TRACE": .trace
        case "DEBUG": .debug
        case "VERBOSE", "INFO": .info
        case "NOTICE": .notice
        case "WARNING", "WARN": .warning
        case "ERROR": .error
        case "CRITICAL", "FATAL": .critical
        default: nil
        }
    }

    /// The progress display the options ask for, if any.
    func progressDisplay() -> ProgressDisplay? {
        let terminal = isatty(STDERR_FILENO) == 1
        guard progress ?? terminal else { return nil }
        return ProgressDisplay(isTerminal: terminal)
    }

    /// Sends the process's logging where the options say.
    func bootstrap() throws {
        var file: FileHandle?
        if let logFile {
            if !FileManager.default.fileExists(atPath: logFile) { _ = FileManager.default.createFile(atPath: logFile, contents: nil) }
            guard let handle = FileHandle(forWritingAtPath: logFile) else {
                throw ValidationError("--log-file \(logFile): cannot open it for writing")
            }
            handle.seekToEndOfFile()
            file = handle
        }
        let sink = LogSink(file: file)
        let (levels, longLog) = (levels, longLog)
        LoggingSystem.bootstrap { label in
            // The most specific component setting that names this logger.
            let key = levels.keys.filter { label.hasPrefix($0) }.max { $0.count < $1.count } ?? ""
            return ButlerLogHandler(label: label, logLevel: levels[key] ?? .warning, longLog: longLog, sink: sink)
        }
    }
}

/// Where log lines go: standard error, and a file when one is named (one line at a time, from
/// any thread).
final class LogSink: Sendable {
    private let file: Mutex<FileHandle?>

    init(file: FileHandle?) { self.file = Mutex(file) }

    func write(_ line: String) {
        let data = Data((line + "\n").utf8)
        FileHandle.standardError.write(data)
        file.withLock { $0?.write(data) }
    }
}

/// daf_butler's log format: `LEVEL label: message`, or with `--long-log` the time (UTC, ISO
/// 8601), the level, the label, the message and its metadata.
struct ButlerLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    let longLog: Bool
    let sink: LogSink
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level.rawValue.uppercased()
        guard longLog else {
            sink.write("\(level) \(label): \(event.message)")
            return
        }
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let time = Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
        sink.write("\(time) \(level) \(label) (\(event.source) \(event.file):\(event.line)): \(event.message)\(fields)")
    }
}
