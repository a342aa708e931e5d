/// An HDF5 failure: the file, the C function, HDF5's own error stack, and what we were doing.
public struct HDF5Error: FileFormatError {
    /// The file.
    public let path: String
    /// The HDF5 function that failed, or nil when a check of our own refused the file or the
    /// request.
    public let function: String?
    /// HDF5's error-stack descriptions, innermost last, or ours.
    public let message: String
    /// What we were doing.
    public let context: String
    /// What kind of failure it is.
    public let kind: FileErrorKind

    /// A failure HDF5 reported: a file that cannot be opened or created is an I/O failure, any
    /// other a corrupt file.
    init(path: String, function: String, message: String, context: String) {
        self.path = path
        self.function = function
        self.message = message
        self.context = context
        self.kind = function == "H5Fcreate" || function == "H5Fclose" || function == "H5Dwrite" ? .ioFailure : .corruptFile
    }

    /// A refusal of our own.
    init(path: String, kind: FileErrorKind, message: String, context: String) {
        self.path = path
        self.function = nil
        self.message = message
        self.context = context
        self.kind = kind
    }

    /// A cutout request the image cannot serve.
    init(path: String, cutout: CutoutError) {
        self.init(path: path, kind: .invalidRequest, message: cutout.description, context: "reading a cutout")
    }

    public var description: String { "\(path): \(context): \(message)" + (function.map { " (\($0))" } ?? "") }
}
