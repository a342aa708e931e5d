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
    /// Reading past the end of the file (truncated file).
    public static let endOfFile = FITSStatus(rawValue: 107)
    /// A keyword was not found.
    public static let keywordNotFound = FITSStatus(rawValue: 202)
    /// An HDU number is beyond the end of the file.
    public static let badHDUNumber = FITSStatus(rawValue: 301)
    /// No column matches a name.
    public static let columnNotFound = FITSStatus(rawValue: 219)

    public var description: String { "\(rawValue)" }
}

/// A cfitsio failure: the file, the C function, the status, cfitsio's own message, and what
/// we were doing.
public struct FITSError: Error, CustomStringConvertible, Sendable {
    /// The file.
    public let path: String
    /// The cfitsio function that failed (`ffgsv`…), or `butler` for checks of our own.
    public let function: String
    /// cfitsio's status.
    public let status: FITSStatus
    /// cfitsio's message (its error text and message stack).
    public let message: String
    /// What we were doing.
    public let context: String

    public var description: String {
        "\(path): \(context): \(message) (\(function) status \(status))"
    }
}
