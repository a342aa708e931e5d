/// An HDF5 failure: the file, the C function, HDF5's own error stack, and what we were doing.
public struct HDF5Error: Error, CustomStringConvertible, Sendable {
    /// The file.
    public let path: String
    /// The HDF5 function that failed, or `butler` for checks of our own.
    public let function: String
    /// HDF5's error-stack descriptions, innermost last.
    public let message: String
    /// What we were doing.
    public let context: String

    public var description: String { "\(path): \(context): \(message) (\(function))" }
}
