/// A cfitsio status code with its name (as swift-system's `Errno`).
public struct FITSStatus: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// No error.
    public static let ok = FITSStatus(rawValue: 0)
    /// The file could not be opened.
    public static let fileNotOpened = FITSStatus(rawValue: 104)
    /// The file could not be created.
    public static let fileNotCreated = FITSStatus(rawValue: 105)
    /// Writing to the file failed.
    public static let writeError = FITSStatus(rawValue: 106)
    /// Reading past the end of the file (truncated file).
    public static let endOfFile = FITSStatus(rawValue: 107)
    /// Reading from the file failed.
    public static let readError = FITSStatus(rawValue: 108)
    /// A keyword was not found.
    public static let keywordNotFound = FITSStatus(rawValue: 202)
    /// An HDU number is beyond the end of the file.
    public static let badHDUNumber = FITSStatus(rawValue: 301)
    /// No column matches a name.
    public static let columnNotFound = FITSStatus(rawValue: 219)

    public var description: String { "\(rawValue)" }

    /// The kind of failure a status reports: the operating system refusing a file, or bytes
    /// that are not valid FITS. A failed read (108) is what cfitsio reports for a truncated
    /// data unit, so it counts as corrupt; failed opens, creates and writes are I/O failures.
    var kind: FileErrorKind {
        switch rawValue {
        case 104, 105, 106, 110, 111, 112, 113, 114: return .ioFailure
        default: return .corruptFile
        }
    }
}

/// A FITS read or write failure: the file, what we were doing, the message, and — when cfitsio
/// reported it — the C function and its status.
public struct FITSError: FileFormatError {
    /// The file.
    public let path: String
    /// The cfitsio function that failed (`ffgsv`…), or nil when a check of our own refused the
    /// file or the request.
    public let function: String?
    /// cfitsio's status (``FITSStatus/ok`` for checks of our own).
    public let status: FITSStatus
    /// cfitsio's message (its error text and message stack), or ours.
    public let message: String
    /// What we were doing.
    public let context: String
    /// What kind of failure it is.
    public let kind: FileErrorKind

    /// A failure cfitsio reported.
    init(path: String, function: String, status: FITSStatus, message: String, context: String) {
        self.path = path
        self.function = function
        self.status = status
        self.message = message
        self.context = context
        self.kind = status.kind
    }

    /// A refusal of our own (a value out of range, a missing plane, a request the file cannot
    /// serve).
    init(path: String, kind: FileErrorKind, message: String, context: String) {
        self.path = path
        self.function = nil
        self.status = .ok
        self.message = message
        self.context = context
        self.kind = kind
    }

    /// A cutout request the image cannot serve.
    init(path: String, cutout: CutoutError) {
        self.init(path: path, kind: .invalidRequest, message: cutout.description, context: "reading a cutout")
    }

    public var description: String {
        "\(path): \(context): \(message)" + (function.map { " (\($0) status \(status))" } ?? "")
    }
}
