import CPosixShim
package import Formatters
package import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Artifacts in a POSIX directory: staged under a hidden name in their final directory,
/// published by a no-clobber hard link (a rename where the file system has no hard links),
/// each step fsynced when durability is asked for.
///
/// Every recorded path is checked before it is read, written or deleted: relative paths may
/// not climb out of the root (`..`), and absolute ones (files ingested in place) are read but
/// never written or deleted.
package final class LocalStorage: ArtifactStorage {
    /// The root directory.
    package let root: URL
    /// `root.path`, kept as a string: building paths by concatenation is much cheaper than
    /// `URL.appendingPathComponent` on the hot path.
    private let rootPath: String
    /// Directories this process has looked through for staging leftovers.
    private let sweptDirectories = Mutex<Set<String>>([])

    /// Whether the root is this object's own, removed with it (``ephemeral(named:)``).
    private let ownsRoot: Bool

    /// A storage rooted at `root` (created on the first write).
    package init(root: URL) {
        self.root = root.standardizedFileURL
        self.rootPath = self.root.path
        self.ownsRoot = false
    }

    private init(ownedRoot: URL) {
        self.root = ownedRoot.standardizedFileURL
        self.rootPath = self.root.path
        self.ownsRoot = true
    }

    /// A storage that lives as long as this object, in memory: a directory of its own in
    /// `/dev/shm` (tmpfs: pages of RAM; the system's temporary directory where there is none),
    /// removed with the object — daf_butler's in-memory datastore, for intermediates of a
    /// chain (`memory://NAME`). Readers still get files, as formatters need paths.
    package static func ephemeral(named name: String) throws -> LocalStorage {
        let shared = "/dev/shm"
        let base = access(shared, W_OK) == 0 ? URL(fileURLWithPath: shared) : FileManager.default.temporaryDirectory
        ProcessScratch.sweep(base.path, prefix: "butler-memory-")
        let safe = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
        let directory = base.appendingPathComponent("butler-memory-\(getpid())-\(String(safe))-\(UUID().uuidString.prefix(8))")
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) } catch {
            throw ButlerError(.storageFailure, "cannot make the in-memory datastore memory://\(name) at \(directory.path)", cause: error)
        }
        return LocalStorage(ownedRoot: directory)
    }

    deinit {
        if ownsRoot { try? FileManager.default.removeItem(atPath: rootPath) }
    }

    package var location: String { rootPath }

    // MARK: Paths

    /// The absolute path of a recorded path: relative ones under the root (never above it),
    /// absolute ones as they are.
    private func resolve(_ path: String) throws -> String {
        if path.hasPrefix("/") { return path }
        try Self.requireInside(path)
        return rootPath + "/" + path
    }

    /// The absolute path of an artifact this storage owns (written, replaced or deleted by it).
    /// No directory between the root and the artifact may be a symbolic link: one planted in a
    /// shared datastore would make a put write, or a removal delete, outside the root.
    private func resolveOwned(_ path: String, for operation: String) throws -> String {
        guard !path.hasPrefix("/") else {
            throw ButlerError(.storageFailure, "refusing to \(operation) \(path): it is outside the datastore root \(rootPath)")
        }
        let resolved = try resolve(path)
        var directory = rootPath
        for component in path.split(separator: "/").dropLast() {
            directory += "/" + component
            var info = stat()
            guard lstat(directory, &info) == 0 else { break }  // created fresh below this point
            if (info.st_mode & S_IFMT) == S_IFLNK {
                throw ButlerError(
                    .storageFailure,
                    "refusing to \(operation) \(path): \(directory) is a symbolic link inside the datastore root \(rootPath)")
            }
        }
        return resolved
    }

    /// Refuses a relative path that is empty or climbs out of the root.
    private static func requireInside(_ path: String) throws {
        if path.isEmpty || climbs(path) {
            throw ButlerError(.storageFailure, "recorded path '\(path)' leaves the datastore root; refusing to use it")
        }
    }

    /// Whether a relative path has a `..` segment. A byte scan: `String.contains` with a string
    /// argument goes through Foundation (NSString) on Linux, a measurable share of a get.
    private static func climbs(_ path: String) -> Bool {
        var length = 0
        var dotsOnly = true
        for byte in path.utf8 {
            if byte == UInt8(ascii: "/") {
                if length == 2 && dotsOnly { return true }
                length = 0
                dotsOnly = true
            } else {
                length += 1
                dotsOnly = dotsOnly && byte == UInt8(ascii: ".")
            }
        }
        return length == 2 && dotsOnly
    }

    private func failure(_ operation: String, _ path: String, code: ButlerError.Code = .storageFailure) -> ButlerError {
        let cause = FileIOError(operation: operation, path: path, errno: errno)
        let code = cause.kind == .missingFile && code == .storageFailure ? .missingArtifact : code
        return ButlerError(code, "cannot \(operation) \(path)", cause: cause)
    }

    package func checkReachable() throws { try makeDirectory(rootPath) }

    // MARK: Writing

    package func stage(_ path: String) throws -> StagedArtifact {
        let final = try resolveOwned(path, for: "write")
        return StagedArtifact(path: path, localFile: try temporaryName(for: final))
    }

    /// A hidden name beside `final` (``StagingName``), in a directory created if needed.
    private func temporaryName(for final: String) throws -> String {
        let slash = final.lastIndex(of: "/")!
        let directory = String(final[..<slash])
        try makeDirectory(directory)
        return directory + "/" + StagingName.make(for: final[final.index(after: slash)...])
    }

    /// Creates a directory and its parents unless it exists (checked first: cheaper than
    /// FileManager's creation on the common path where it already does).
    private func makeDirectory(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { return }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ButlerError(.storageFailure, "cannot create directory \(path)", cause: error)
        }
    }

    package func stage(_ path: String, from source: String, transfer: TransferMode) throws -> StagedArtifact {
        let final = try resolveOwned(path, for: "write")
        var info = stat()
        guard stat(source, &info) == 0 else { throw failure("read", source, code: .missingArtifact) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw ButlerError(.storageFailure, "cannot ingest \(source): it is not a regular file")
        }
        let temporary = try temporaryName(for: final)
        do {
            switch transfer {
            case .copy:
                try copyContents(of: source, to: temporary)
            case .hardlink:
                // Never a rename: a refused link must leave the user's file where it is.
                guard linkat(AT_FDCWD, source, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) == 0 else {
                    let reason = errno == EXDEV ? "it is on another file system" : "the file system refuses the link"
                    throw ButlerError(
                        .storageFailure, "cannot hard-link \(source) into \(rootPath): \(reason); use transfer copy or move",
                        cause: FileIOError(operation: "link", path: source, errno: errno))
                }
            case .move:
                // The source stays until the registry commits; across file systems, or where
                // links are refused, its bytes are copied and it is removed after the commit.
                if linkat(AT_FDCWD, source, AT_FDCWD, temporary, AT_SYMLINK_FOLLOW) != 0 {
                    guard errno == EXDEV || errno == EPERM || errno == EMLINK || errno == ENOTSUP || errno == EACCES else {
                        throw failure("link", source)
                    }
                    try copyContents(of: source, to: temporary)
                }
                return StagedArtifact(path: path, localFile: temporary, sourceToRemove: source)
            case .symlink:
                guard symlink(source, temporary) == 0 else { throw failure("symlink", temporary) }
            case .direct:
                throw ButlerError(.storageFailure, "a direct ingest of \(source) stages nothing")
            }
        } catch {
            _ = unlink(temporary)
            throw error
        }
        return StagedArtifact(path: path, localFile: temporary)
    }

    /// Copies the bytes of `source` (following symbolic links) to the new file `destination`.
    private func copyContents(of source: String, to destination: String) throws {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw failure("open", source) }
        defer { close(input) }
        let output = open(destination, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw failure("create", destination) }
        defer { close(output) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(input, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure("read", source)
            }
            if count == 0 { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { Glibc.write(output, $0.baseAddress! + offset, count - offset) }
                if written < 0 {
                    if errno == EINTR { continue }
                    throw failure("write", destination)
                }
                offset += written
            }
        }
    }

    package func seal(_ staged: StagedArtifact) throws -> Int64 {
        var info = stat()
        guard stat(staged.localFile, &info) == 0 else { throw failure("stat", staged.localFile) }
        return Int64(info.st_size)
    }

    /// From this many files on, one `syncfs` of the root's file system costs less than an
    /// fsync each (each fsync waits for its own journal commit; syncfs waits once).
    static let syncfsThreshold = 8

    package func sync(_ staged: [StagedArtifact]) throws {
        if staged.count >= Self.syncfsThreshold {
            let descriptor = open(rootPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure("open directory", rootPath) }
            defer { close(descriptor) }
            guard butler_syncfs(descriptor) == 0 else { throw failure("syncfs", rootPath) }
            return
        }
        for artifact in staged {
            let descriptor = open(artifact.localFile, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure("open", artifact.localFile) }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw failure("fsync", artifact.localFile) }
        }
    }

    package func publish(_ staged: StagedArtifact, replacing: Bool) throws -> Bool {
        let final = try resolveOwned(staged.path, for: "publish")
        if replacing {
            guard rename(staged.localFile, final) == 0 else { throw failure("rename", final) }
        } else if linkat(AT_FDCWD, staged.localFile, AT_FDCWD, final, 0) == 0 {
            // The staged name stays until ``finish(_:)``, after the commit: if this process is
            // killed before, the two names of one file tell the next writer that the final
            // name may have no record (``leftovers(besides:)``).
        } else if errno == EEXIST {
            return false
        } else if errno == EPERM || errno == EMLINK || errno == ENOTSUP || errno == EXDEV {
            // A file system without hard links: rename after checking the name is free. The
            // staged file is our own, so this fallback never touches a user's file.
            if access(final, F_OK) == 0 { return false }
            guard rename(staged.localFile, final) == 0 else { throw failure("rename", final) }
        } else {
            throw failure("link", final)
        }
        return true
    }

    package func syncNames(of paths: [String]) throws {
        var directories: Set<String> = []
        for path in paths {
            let final = try resolveOwned(path, for: "sync")
            directories.insert(String(final[..<final.lastIndex(of: "/")!]))
        }
        for directory in directories.sorted() {
            let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard descriptor >= 0 else { throw failure("open directory", directory) }
            defer { close(descriptor) }
            guard fsync(descriptor) == 0 else { throw failure("fsync directory", directory) }
        }
    }

    package func discard(_ staged: StagedArtifact) {
        _ = unlink(staged.localFile)
    }

    package func finish(_ staged: StagedArtifact) {
        _ = unlink(staged.localFile)
        if let source = staged.sourceToRemove { _ = unlink(source) }
    }

    // MARK: Reading

    package var readsByRange: Bool { false }

    package var transferStatistics: RemoteTransferStatistics { RemoteTransferStatistics(requests: 0, bytesReceived: 0) }

    package func partialFile(for record: StoredFileInfo, need: ByteLayout.Need, formatter: any FileFormatter) throws -> PartialArtifact? {
        nil
    }

    package func localFile(for record: StoredFileInfo, admit: (String) throws -> Void) throws -> String? {
        try resolve(record.path)
    }

    package func checksum(of path: String, algorithm: ChecksumAlgorithm) throws -> String? {
        let file = try resolve(path)
        guard access(file, F_OK) == 0 else { return nil }
        return try algorithm.checksum(ofFileAt: file)
    }

    /// Reads a file ingested in place (an absolute path), or a byte range of it.
    static func readExternal(_ file: String, range: Range<Int64>?) throws -> Data {
        do { return try FileIO.read(URL(filePath: file, directoryHint: .notDirectory), range: range) } catch let error as FileIOError {
            throw ButlerError(error.kind == .missingFile ? .missingArtifact : .storageFailure, "cannot read \(file)", cause: error)
        }
    }

    package func read(_ path: String) throws -> Data {
        try read(path, range: nil)
    }

    package func read(_ path: String, range: Range<Int64>) throws -> Data {
        try read(path, range: Optional(range))
    }

    /// Reads a recorded artifact, or a byte range of it.
    private func read(_ path: String, range: Range<Int64>?) throws -> Data {
        try Self.readExternal(try resolve(path), range: range)
    }

    /// The artifact's file and its status, nil when there is no such file.
    private func status(of path: String) throws -> (file: String, info: stat)? {
        let file = try resolve(path)
        var info = stat()
        guard stat(file, &info) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw failure("stat", file)
        }
        return (file, info)
    }

    package func size(of path: String) throws -> Int64? {
        try status(of: path).map { Int64($0.info.st_size) }
    }

    package func regularFileSize(of path: String) throws -> Int64? {
        guard let (file, info) = try status(of: path) else { return nil }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw ButlerError(.storageFailure, "\(file) is not a regular file") }
        return Int64(info.st_size)
    }

    package func isRegularFile(_ path: String) throws -> Bool {
        let file = try resolve(path)
        var info = stat()
        guard stat(file, &info) == 0 else { throw failure("stat", file) }
        return (info.st_mode & S_IFMT) == S_IFREG
    }

    package func url(for path: String) throws -> URL {
        // An explicit directory hint: without it Foundation stats the path to find out.
        URL(filePath: try resolve(path), directoryHint: .notDirectory)
    }

    package func retrieve(_ path: String, to destination: URL, overwrite: Bool) throws {
        let source = try resolve(path)
        let target = destination.standardizedFileURL.path
        try makeDirectory(String(target[..<target.lastIndex(of: "/")!]))
        if access(target, F_OK) == 0 {
            guard overwrite else { throw ButlerError(.conflict, "\(target) exists (use overwrite)") }
            guard unlink(target) == 0 else { throw failure("delete", target) }
        }
        try copyContents(of: source, to: target)
    }

    package func list(under prefix: String) throws -> [ArtifactListing] {
        let start = prefix.isEmpty ? rootPath : try resolveOwned(prefix, for: "list")
        guard let enumerator = FileManager.default.enumerator(atPath: start) else { return [] }
        let cutoff = Date().addingTimeInterval(-StagedArtifact.leftoverAge)
        var listings: [ArtifactListing] = []
        while let relative = enumerator.nextObject() as? String {
            guard let attributes = enumerator.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular else { continue }
            let name = relative.split(separator: "/").last.map(String.init) ?? relative
            let isStaged = Self.isStagedName(name)
            let file = start + "/" + relative
            listings.append(
                ArtifactListing(
                    path: prefix.isEmpty ? relative : prefix + "/" + relative, size: (attributes[.size] as? NSNumber)?.int64Value ?? 0,
                    modified: attributes[.modificationDate] as? Date ?? .distantPast, isStaged: isStaged,
                    leftover: isStaged ? leftover(name, in: String(file[..<file.lastIndex(of: "/")!]), cutoff: cutoff) : nil))
        }
        return listings.sorted { $0.path < $1.path }
    }

    /// Whether a file name is one ``stage(_:)`` gives (``StagingName``).
    static func isStagedName(_ name: String) -> Bool { StagingName(parsing: name) != nil }

    /// The leftover a staged file at `directory/name` is, if it is one now: its writer is gone
    /// or it is older than ``StagedArtifact/leftoverAge``. Its final name counts as published
    /// by it when that name is the same file (a hard link to it).
    private func leftover(_ name: String, in directory: String, cutoff: Date) -> StagingLeftover? {
        guard let staging = StagingName(parsing: name) else { return nil }
        let path = directory + "/" + name
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFLNK else { return nil }
        guard staging.writerIsGone || Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec)) < cutoff else { return nil }
        let relativeDirectory = directory == rootPath ? "" : String(directory.dropFirst(rootPath.count + 1))
        func relative(_ file: String) -> String { relativeDirectory.isEmpty ? file : relativeDirectory + "/" + file }
        var published: String?
        var finalInfo = stat()
        if info.st_nlink > 1, lstat(directory + "/" + staging.finalName, &finalInfo) == 0, finalInfo.st_ino == info.st_ino,
            finalInfo.st_dev == info.st_dev
        {
            published = relative(staging.finalName)
        }
        return StagingLeftover(staged: relative(name), published: published)
    }

    package func leftovers(besides path: String) -> [StagingLeftover] {
        guard let final = try? resolveOwned(path, for: "list"), let slash = final.lastIndex(of: "/") else { return [] }
        let directory = String(final[..<slash])
        guard sweptDirectories.withLock({ $0.insert(directory).inserted }) else { return [] }
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        let cutoff = Date().addingTimeInterval(-StagedArtifact.leftoverAge)
        return names.compactMap { leftover($0, in: directory, cutoff: cutoff) }
    }

    // MARK: Removal

    package func delete(_ path: String) throws {
        let file = try resolveOwned(path, for: "delete")
        guard unlink(file) == 0 || errno == ENOENT else { throw failure("delete", file) }
        // Remove the directories this emptied, up to (not including) the root.
        var directory = Substring(file)
        while let slash = directory.lastIndex(of: "/") {
            directory = directory[..<slash]
            guard directory.count > rootPath.count, rmdir(String(directory)) == 0 else { return }
        }
    }
}

/// Scratch names that carry their process ID (`<prefix><pid>-…`), so that what a killed
/// process left in shared memory — RAM until the machine reboots — is removed by the next
/// process that makes such names there.
enum ProcessScratch {
    private static let swept = Mutex<Set<String>>([])

    /// Removes `prefix<pid>-*` entries of `directory` whose process is gone (once per
    /// directory and prefix in this process).
    static func sweep(_ directory: String, prefix: String) {
        guard swept.withLock({ $0.insert(directory + "\n" + prefix).inserted }),
            let names = try? FileManager.default.contentsOfDirectory(atPath: directory)
        else { return }
        for name in names where name.hasPrefix(prefix) {
            guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0, pid != getpid(),
                kill(pid, 0) != 0, errno == ESRCH
            else { continue }
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }
}
