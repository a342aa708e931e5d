import Foundation

/// A fuzz input as a file, for APIs that read paths (cfitsio, HDF5, configuration files): one
/// file per process, rewritten for each input.
public enum FuzzInput {
    /// Writes the input to this process's scratch file with `extension` and returns its path.
    public static func file(_ start: UnsafeRawPointer, _ count: Int, extension ext: String) -> String {
        let path = directory + "/input." + ext
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes: start, count: count))
        return path
    }

    /// A directory of this process's own (under the system temporary directory).
    public static let directory: String = {
        let path = NSTemporaryDirectory() + "butler-fuzz-\(ProcessInfo.processInfo.processIdentifier)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }()
}
