/// Everything the Butler reports to its callers: a ``Code`` to act on, a message naming the
/// dataset type, data ID, collections or file concerned (so that a pipeline log says what to
/// fix), and the underlying error as ``cause``. Modelled on swift-nio's `FileSystemError`.
///
/// ```swift
/// do { _ = try await butler.get("calexp", dataId: id) } catch let error as ButlerError where error.code == .missingDataset {
///     // not produced yet
/// }
/// ```
public struct ButlerError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's name.
        public let name: String
        /// The words that start the error's description.
        let summary: String

        private init(_ name: String, _ summary: String) {
            self.name = name
            self.summary = summary
        }

        public var description: String { name }

        /// A configuration file or value is wrong.
        public static let configuration = Code("configuration", "configuration error")
        /// A name is not a dimension of the universe.
        public static let unknownDimension = Code("unknownDimension", "dimension error")
        /// A data ID is incomplete, has unknown keys, bad values or inconsistent implied values.
        public static let invalidDataId = Code("invalidDataId", "invalid data ID")
        /// A dimension record is missing, malformed or conflicts with an existing one.
        public static let dimensionRecord = Code("dimensionRecord", "dimension record error")
        /// No dataset type has this name.
        public static let missingDatasetType = Code("missingDatasetType", "missing dataset type")
        /// A dataset type is being defined differently from its existing definition.
        public static let datasetTypeConflict = Code("datasetTypeConflict", "dataset type conflict")
        /// A collection does not exist, has the wrong type, or cannot be changed as asked.
        public static let collection = Code("collection", "collection error")
        /// No dataset matches.
        public static let missingDataset = Code("missingDataset", "dataset not found")
        /// The dataset (or another row or file) already exists.
        public static let conflict = Code("conflict", "conflict")
        /// The repository was opened read-only and a write was attempted.
        public static let readOnly = Code("readOnly", "repository is read-only")
        /// A registered dataset has no artifact where its record says (deleted or never stored).
        public static let missingArtifact = Code("missingArtifact", "missing artifact")
        /// An artifact exists but cannot be read as its record says (truncated, corrupt).
        public static let corruptArtifact = Code("corruptArtifact", "corrupt artifact")
        /// A component the storage class declares is absent from this dataset.
        public static let missingComponent = Code("missingComponent", "missing component")
        /// Storage refused an operation (permission, disk full, a failed request); see
        /// ``ButlerError/isRetryable``.
        public static let storageFailure = Code("storageFailure", "storage failure")
        /// A query is malformed or names what the query cannot relate.
        public static let invalidQuery = Code("invalidQuery", "query error")
        /// A read parameter is unknown or cannot be applied (a cutout outside the image).
        public static let invalidParameter = Code("invalidParameter", "invalid parameter")
        /// A value cannot be stored or returned as asked.
        public static let typeMismatch = Code("typeMismatch", "type mismatch")
        /// An argument cannot be used as given (an empty validity range, certifying a type
        /// that is not a calibration).
        public static let invalidArgument = Code("invalidArgument", "invalid argument")
        /// A calibration look-up matched more than one dataset in one collection (daf_butler's
        /// `CalibrationLookupError`): the validity ranges overlap the time asked.
        public static let ambiguousCalibration = Code("ambiguousCalibration", "ambiguous calibration lookup")
    }

    /// What kind of failure this is.
    public let code: Code
    /// What failed, naming the dataset type, data ID, collections or file.
    public let message: String
    /// The error that caused this one (a `FITSError`, an `SQLError`, a POSIX failure…).
    public let cause: (any Error)?
    /// Whether the same call may succeed if tried again (a transient storage or network
    /// failure), as opposed to one that needs a fix first.
    public let isRetryable: Bool
    /// Why nothing was found, for a find or get that came back empty: each a sentence naming
    /// what the registry lacks (a dimension record, any dataset of the type in the collections
    /// searched). Also part of ``description``.
    public let reasons: [String]

    /// An error of `code` with a message naming what failed and the error that caused it.
    public init(_ code: Code, _ message: String, cause: (any Error)? = nil, isRetryable: Bool = false, reasons: [String] = []) {
        self.code = code
        self.message = message
        self.cause = cause
        self.isRetryable = isRetryable
        self.reasons = reasons
    }

    public var description: String {
        var text = code == .readOnly ? "\(code.summary): \(message) refused" : "\(code.summary): \(message)"
        if !reasons.isEmpty { text += " (" + reasons.joined(separator: "; ") + ")" }
        guard let cause else { return text }
        return "\(text): \(cause)"
    }

    // MARK: Shorthands for the common codes

    /// A configuration file or value is wrong.
    static func configuration(_ message: String, cause: (any Error)? = nil) -> ButlerError {
        ButlerError(.configuration, message, cause: cause)
    }
    /// A name is not a dimension of the universe.
    static func unknownDimension(_ name: String, known: [String]) -> ButlerError {
        ButlerError(.unknownDimension, "unknown dimension '\(name)'; known dimensions: \(known.joined(separator: ", "))")
    }
    /// A data ID is incomplete, has unknown keys, bad values or inconsistent implied values.
    static func invalidDataId(_ message: String) -> ButlerError { ButlerError(.invalidDataId, message) }
    /// A dimension record is missing, malformed or conflicts with an existing one.
    static func dimensionRecord(_ message: String) -> ButlerError { ButlerError(.dimensionRecord, message) }
    /// No dataset type has this name.
    static func missingDatasetType(_ name: String) -> ButlerError {
        ButlerError(.missingDatasetType, "dataset type '\(name)' is not registered")
    }
    /// A dataset type is being defined differently from its existing definition.
    static func datasetTypeConflict(existing: String, new: String) -> ButlerError {
        ButlerError(.datasetTypeConflict, "existing definition \(existing) differs from new definition \(new)")
    }
    /// A collection does not exist, has the wrong type, or cannot be changed as asked.
    static func collection(_ message: String) -> ButlerError { ButlerError(.collection, message) }
    /// No dataset matches.
    static func datasetNotFound(_ message: String) -> ButlerError { ButlerError(.missingDataset, message) }
    /// The dataset already exists.
    static func datasetExists(_ message: String) -> ButlerError { ButlerError(.conflict, "the dataset already exists: " + message) }
    /// The repository was opened read-only and `operation` was attempted.
    static func readOnly(_ operation: String) -> ButlerError { ButlerError(.readOnly, operation) }
    /// A query is malformed.
    static func query(_ message: String) -> ButlerError { ButlerError(.invalidQuery, message) }
    /// A value cannot be stored or returned as asked.
    static func typeMismatch(_ message: String, cause: (any Error)? = nil) -> ButlerError {
        ButlerError(.typeMismatch, message, cause: cause)
    }
}
