import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// POSIX file operations for atomic artifact placement: fsync, no-clobber linking, and
/// directory sync, each reporting the path and `strerror` on failure.
enum AtomicFile {
    /// Flushes a file's data to disk.
    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw failure("open", path) }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw failure("fsync", path) }
    }

    /// Flushes a directory entry change (a rename or link) to disk.
    static func fsyncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY)
        guard fd >= 0 else { throw failure("open directory", path) }
        defer { close(fd) }
        guard Glibc.fsync(fd) == 0 else { throw failure("fsync directory", path) }
    }

    /// Gives `source` the additional name `destination`, failing if `destination` exists.
    /// Returns false (without throwing) when the destination exists.
    static func linkNoClobber(_ source: String, _ destination: String) throws -> Bool {
        if linkat(AT_FDCWD, source, AT_FDCWD, destination, 0) == 0 { return true }
        if errno == EEXIST { return false }
        if errno == EXDEV || errno == EPERM || errno == EMLINK {
            // File systems without hard links: fall back to rename after checking.
            if access(destination, F_OK) == 0 { return false }
            guard rename(source, destination) == 0 else { throw failure("rename", destination) }
            return true
        }
        throw failure("link", destination)
    }

    /// Replaces `destination` with `source`.
    static func replace(_ source: String, _ destination: String) throws {
        guard rename(source, destination) == 0 else { throw failure("rename", destination) }
    }

    /// Removes a file if it exists.
    static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// The size of a file (not following a final symlink's target when `followLinks` is false).
    static func size(_ path: String) throws -> Int64 {
        var info = stat()
        guard stat(path, &info) == 0 else { throw failure("stat", path) }
        return Int64(info.st_size)
    }

    static func failure(_ operation: String, _ path: String) -> ButlerError {
        ButlerError.datastore("\(operation) \(path): \(String(cString: strerror(errno)))")
    }
}
