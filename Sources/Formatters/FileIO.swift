public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Whole-file reads and writes with plain POSIX calls.
///
/// Why not `Data.write(to:)`: on Linux, Foundation fsyncs every file it writes, which costs a
/// disk flush per artifact; the datastore decides when to sync (once, before the registry
/// commit) and formatters only write.
public enum FileIO {
    /// Writes `data` to a new file at `url` (failing if it exists), without syncing.
    public static func write(_ data: Data, to url: URL) throws {
        let path = url.path
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw posixError("create", path) }
        defer { close(fd) }
        try data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw posixError("write", path)
                }
                offset += written
            }
        }
    }

    /// Reads a whole file.
    public static func read(_ url: URL) throws -> Data {
        try read(url, range: nil)
    }

    /// Reads the bytes of `range` of a file (all of it when nil); fewer at the end of the file.
    public static func read(_ url: URL, range: Range<Int64>?) throws -> Data {
        let path = url.path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw posixError("open", path) }
        defer { close(fd) }
        var length = range.map { Int($0.count) }
        if length == nil {
            var info = stat()
            guard fstat(fd, &info) == 0 else { throw posixError("stat", path) }
            length = Int(info.st_size)
        }
        let start = off_t(range?.lowerBound ?? 0)
        var data = Data(count: length ?? 0)
        var total = 0
        try data.withUnsafeMutableBytes { buffer in
            while total < buffer.count {
                let count = pread(fd, buffer.baseAddress! + total, buffer.count - total, start + off_t(total))
                if count < 0 {
                    if errno == EINTR { continue }
                    throw posixError("read", path)
                }
                if count == 0 { break }
                total += count
            }
        }
        if total < data.count { data.removeSubrange(total...) }
        return data
    }

    static func posixError(_ operation: String, _ path: String) -> FileIOError {
        FileIOError(operation: operation, path: path, errno: errno)
    }
}

/// A failed POSIX call on a file: the call, the path and `errno` (a missing file is told apart
/// from other failures by its kind).
public struct FileIOError: FileFormatError {
    /// The call that failed (`open`, `read`, `write`…).
    public let operation: String
    /// The file.
    public let path: String
    /// The `errno` it set.
    public let errno: Int32

    /// Describes a failed call.
    public init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    public var kind: FileErrorKind { errno == ENOENT ? .missingFile : .ioFailure }

    public var description: String { "\(operation) \(path): \(String(cString: strerror(errno)))" }
}
