package import Formatters
package import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

private let storageLogger = Logger(label: "butler.storage")

/// What the reads of a remote storage need from its protocol (S3, HTTP): whole and ranged
/// gets, streamed downloads and sizes of objects named by key.
package protocol RemoteObjectReader: Sendable {
    /// An object's bytes (a `range` of them), or nil when it does not exist.
    func get(_ key: String, range: Range<Int64>?) throws -> Data?
    /// Streams an object into a local file; false when it does not exist.
    func download(_ key: String, to destination: String) throws -> Bool
    /// An object's size, or nil when it does not exist.
    func objectSize(_ key: String) throws -> Int64?
    /// The object's URL, for messages.
    func url(_ key: String) -> String
    /// What the reader has sent and received.
    var counters: TransferCounters { get }
    /// Several ranges of an object (sorted, disjoint, none empty), each delivered to
    /// `receive` once with its bytes (in any order, possibly from several threads); false when
    /// the object does not exist. The default fetches them in parallel, one request each (S3
    /// takes one range per GET).
    func get(_ key: String, ranges: [Range<Int64>], receive: @escaping @Sendable (Range<Int64>, Data) throws -> Void) throws -> Bool
    /// Neighbouring ranges closer than this are fetched as one: where each range costs a
    /// request, the gap's bytes cost less.
    var coalescingGap: Int64 { get }
}

extension RemoteObjectReader {
    package var coalescingGap: Int64 { 64 << 10 }

    /// Ranged requests in flight at once for one read.
    static var rangeParallelism: Int { 8 }

    package func get(_ key: String, ranges: [Range<Int64>], receive: @escaping @Sendable (Range<Int64>, Data) throws -> Void) throws -> Bool
    {
        let missing = Atomic<Bool>(false)
        try concurrently(ranges, width: Self.rangeParallelism) { range in
            guard let data = try get(key, range: range) else {
                missing.store(true, ordering: .relaxed)
                return
            }
            try receive(range, data)
        }
        return !missing.load(ordering: .relaxed)
    }
}

/// A storage whose artifacts are objects behind a ``RemoteObjectReader``: reads are written
/// once here for every remote protocol — through the ``ArtifactCache`` for readers that need a
/// file, by range for cutouts, afresh for verification. Paths starting with `/` name local
/// files ingested in place (`direct`) and are read locally.
package protocol RemoteArtifactStorage: ArtifactStorage {
    associatedtype Reader: RemoteObjectReader
    /// The protocol's reader.
    var reader: Reader { get }
    /// Where downloaded artifacts are kept.
    var cache: ArtifactCache { get }
    /// A local directory for transient files (staged writes, verification downloads).
    var scratchDirectory: String { get }
    /// The object key of an artifact path.
    /// - Throws: ``ButlerError/Code/storageFailure`` for a path that is not plainly relative.
    func key(_ path: String) throws -> String
}

extension RemoteArtifactStorage {
    /// Artifacts up to this size are fetched into memory, larger ones streamed to a file.
    static var inMemoryFetchLimit: Int64 { 4 << 20 }

    /// The directory for staged writes and verification downloads, beside the cache (on its
    /// file system, so that nothing large lands in a small /tmp).
    static func makeScratchDirectory(in cache: ArtifactCache) throws -> String {
        let directory = cache.directory.appendingPathComponent("staging").path
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ButlerError(.storageFailure, "cannot create the staging directory \(directory)", cause: error)
        }
        return directory
    }

    /// The key of a plain relative path under `prefix` (no `.`, `..` or empty segments).
    func key(_ path: String, prefix: String) throws -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard !path.isEmpty, !parts.contains(where: { $0 == ".." || $0 == "." || $0.isEmpty }) else {
            throw ButlerError(.storageFailure, "artifact path '\(path)' is not a plain relative path under \(location)")
        }
        return prefix.isEmpty ? path : prefix + "/" + path
    }

    /// The cache entry of an artifact: a rewritten artifact (another checksum) is another entry.
    private func cacheEntryName(_ record: StoredFileInfo) -> String {
        ArtifactCache.entryName(location: location, path: record.path, version: record.checksum ?? "size:\(record.fileSize)")
    }

    private func missing(_ key: String) -> ButlerError {
        ButlerError(.missingArtifact, "artifact \(reader.url(key)) does not exist")
    }

    package func localFile(for record: StoredFileInfo, admit: (String) throws -> Void) throws -> String? {
        if record.isExternal { return record.path }
        let key = try key(record.path)
        let name = cacheEntryName(record)
        return try cache.file(
            named: name, dataset: record.datasetId,
            fetch: { file in
                // A small artifact comes in one read into memory and one write: streaming to a
                // file hops through swift-nio's file-I/O threads, which costs more than the bytes.
                if record.fileSize <= Self.inMemoryFetchLimit {
                    guard let data = try reader.get(key, range: nil) else { throw missing(key) }
                    // FileIO, not FileManager.createFile: Foundation's write fsyncs on Linux, a
                    // millisecond a file here, and a cache copy needs no durability.
                    do { try FileIO.write(data, to: URL(filePath: file, directoryHint: .notDirectory)) } catch {
                        throw ButlerError(.storageFailure, "cannot write \(file) while downloading \(reader.url(key))", cause: error)
                    }
                } else {
                    guard try reader.download(key, to: file) else { throw missing(key) }
                }
            }, admit: admit
        ).path
    }

    package var readsByRange: Bool { true }

    package var transferStatistics: RemoteTransferStatistics { reader.counters.statistics }

    package func partialFile(for record: StoredFileInfo, need: ByteLayout.Need, formatter: any FileFormatter) throws -> PartialArtifact? {
        if record.isExternal { return nil }
        let name = cacheEntryName(record)
        if try cache.cachedFile(named: name) != nil { return nil }
        let key = try key(record.path)
        let url = reader.url(key)
        // The artifact's headers and tables (and its layout, if it had to be learned) from an
        // earlier read: this one fetches pixels only. A damaged pack is fetched again.
        let packName = name + ".ranges"
        let pack = try cache.cachedFile(named: packName).flatMap { try? RangePack(contentsOf: $0) }
        let fetcher = try RangeFetcher(
            reader: reader, key: key, size: record.fileSize,
            in: PartialArtifact.directory(holding: Self.partialSizeGuess, else: scratchDirectory))
        if let pack { try fetcher.place(pack) }
        guard let layout = try record.layout ?? pack?.layout ?? learnLayout(fetcher, formatter: formatter, path: record.path),
            // A box outside the image: the headers are enough for the formatter to say so.
            let ranges = layout.ranges(for: need) ?? layout.ranges(for: .metadata)
        else { return nil }
        try fetcher.fetch(ranges)
        if pack == nil, let metadata = layout.ranges(for: .metadata) {
            let learned = record.layout == nil ? layout : nil
            do {
                _ = try cache.file(
                    named: packName, dataset: record.datasetId,
                    fetch: { try RangePack.write(layout: learned, ranges: metadata, of: fetcher.file, to: $0) }, admit: { _ in })
            } catch {
                // An optimisation only: the next read fetches the headers again.
                storageLogger.warning("cannot keep the headers of \(url) in the cache: \(error)")
            }
        }
        return fetcher.file
    }

    /// Bytes fetched at least when a header walk reaches bytes not yet fetched: a header of
    /// a few blocks and the tile table after it, in one request.
    private static var headerReadAhead: Int64 { 16 << 10 }

    /// Room a ranged read is assumed to need before its layout is known.
    private static var partialSizeGuess: Int64 { 32 << 20 }

    /// The layout of an artifact with none recorded, found from its own headers: the
    /// formatter says where they lie (fetched through `fetcher`), then reads the layout from
    /// the partial file. Nil when the format cannot say (the artifact is read whole) or the
    /// headers do not make sense (the whole read reports what is wrong).
    private func learnLayout(_ fetcher: RangeFetcher<Reader>, formatter: any FileFormatter, path: String) throws -> ByteLayout? {
        let file = fetcher.file
        let metadata: [Range<Int64>]?
        do {
            metadata = try formatter.metadataRanges(fileSize: fetcher.size, path: fetcher.url) { range in
                try fetcher.fetch([range], readingAhead: Self.headerReadAhead)
                return try file.read(range)
            }
        } catch let error as ButlerError {
            throw error
        } catch {
            storageLogger.info("no byte layout from the headers of \(fetcher.url): \(error); reading it whole")
            return nil
        }
        guard let metadata else { return nil }
        try fetcher.fetch(metadata)
        do { return try formatter.byteLayout(of: URL(filePath: file.path, directoryHint: .notDirectory)) } catch {
            storageLogger.info("no byte layout from the headers of \(fetcher.url): \(error); reading it whole")
            return nil
        }
    }

    package func checksum(of path: String, algorithm: ChecksumAlgorithm) throws -> String? {
        if path.hasPrefix("/") { return try algorithm.checksum(ofFileAt: path) }
        let key = try key(path)
        let file = scratchDirectory + "/verify-\(UUID().uuidString)"
        defer { unlink(file) }
        guard try reader.download(key, to: file) else { return nil }
        return try algorithm.checksum(ofFileAt: file)
    }

    package func read(_ path: String) throws -> Data {
        if path.hasPrefix("/") { return try LocalStorage.readExternal(path, range: nil) }
        let key = try key(path)
        guard let data = try reader.get(key, range: nil) else { throw missing(key) }
        return data
    }

    package func read(_ path: String, range: Range<Int64>) throws -> Data {
        if path.hasPrefix("/") { return try LocalStorage.readExternal(path, range: range) }
        let key = try key(path)
        guard let data = try reader.get(key, range: range) else { throw missing(key) }
        return data
    }

    package func size(of path: String) throws -> Int64? {
        if path.hasPrefix("/") {
            var info = stat()
            return stat(path, &info) == 0 ? Int64(info.st_size) : nil
        }
        return try reader.objectSize(try key(path))
    }

    package func isRegularFile(_ path: String) throws -> Bool {
        if path.hasPrefix("/") {
            var info = stat()
            return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
        }
        return try size(of: path) != nil
    }

    package func retrieve(_ path: String, to destination: URL, overwrite: Bool) throws {
        let target = destination.standardizedFileURL.path
        let directory = (target as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
            throw ButlerError(.storageFailure, "cannot create directory \(directory)", cause: error)
        }
        if access(target, F_OK) == 0, !overwrite { throw ButlerError(.conflict, "\(target) exists (use overwrite)") }
        // Downloaded beside the target under a hidden name, then renamed: never a partial file.
        let partial = directory + "/." + (target as NSString).lastPathComponent + ".\(UUID().uuidString).part"
        defer { unlink(partial) }
        if path.hasPrefix("/") {
            do { try FileManager.default.copyItem(atPath: path, toPath: partial) } catch {
                throw ButlerError(.storageFailure, "cannot copy \(path) to \(target)", cause: error)
            }
        } else {
            let key = try key(path)
            guard try reader.download(key, to: partial) else { throw missing(key) }
        }
        guard rename(partial, target) == 0 else {
            throw ButlerError(.storageFailure, "cannot write \(target): \(String(cString: strerror(errno)))")
        }
    }

    /// Nothing: staging is local, and an object a killed writer left is an orphan `verify`
    /// finds.
    package func leftovers(besides path: String) -> [StagingLeftover] { [] }
}

/// Runs `body` on every item, at most `width` at once on threads of their own (the work blocks
/// on the network; dispatch's pool would run only as many as there are cores), and throws the
/// first error after all have finished.
func concurrently<Item: Sendable>(_ items: [Item], width: Int, _ body: @escaping @Sendable (Item) throws -> Void) throws {
    if items.count <= 1 {
        for item in items { try body(item) }
        return
    }
    let next = Atomic<Int>(0)
    let failure = Mutex<(any Error)?>(nil)
    let group = DispatchGroup()
    for _ in 0..<min(width, items.count) {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            while failure.withLock({ $0 == nil }) {
                let index = next.add(1, ordering: .relaxed).oldValue
                guard index < items.count else { return }
                do { try body(items[index]) } catch {
                    failure.withLock { if $0 == nil { $0 = error } }
                }
            }
        }
    }
    group.wait()
    if let error = failure.withLock({ $0 }) { throw error }
}

/// Some byte ranges of a remote artifact at their offsets in a sparse local file of the
/// artifact's size (the rest reads as zeros, and readers never touch it), under a scratch name
/// while this object lives and removed with it.
package final class PartialArtifact: Sendable {
    /// Where a file holding `bytes` goes: in shared memory (`/dev/shm`, tmpfs) when it has room
    /// to spare — writing the ranges to ext4 and evicting them again was a third of a cutout's
    /// time — else in `fallback`, beside the cache.
    static func directory(holding bytes: Int64, else fallback: String) -> String {
        let shared = "/dev/shm"
        var info = statvfs()
        guard bytes <= 256 << 20, access(shared, W_OK) == 0, statvfs(shared, &info) == 0,
            Int64(info.f_bavail) * Int64(info.f_frsize) > 4 * bytes
        else { return fallback }
        return shared
    }

    /// The file.
    package let path: String
    private let descriptor: Int32
    private let source: String

    /// An empty sparse file of `size` bytes for ranges of `source` (a URL, for messages).
    init(size: Int64, of source: String, in directory: String) throws {
        self.source = source
        ProcessScratch.sweep(directory, prefix: "butler-ranges-")
        path = directory + "/butler-ranges-\(getpid())-\(UUID().uuidString)"
        descriptor = open(path, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw ButlerError(.storageFailure, "cannot create \(path) for byte ranges of \(source): \(String(cString: strerror(errno)))")
        }
        guard ftruncate(descriptor, off_t(size)) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            unlink(path)
            throw ButlerError(.storageFailure, "cannot size \(path) for byte ranges of \(source): \(reason)")
        }
    }

    /// Writes `data` at `offset` (from any thread: `pwrite` keeps no position).
    func write(_ data: Data, at offset: Int64) throws {
        let written = data.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == data.count else {
            throw ButlerError(.storageFailure, "cannot write \(path) with bytes of \(source): \(String(cString: strerror(errno)))")
        }
    }

    /// The bytes of `range` (zeros where nothing was written).
    func read(_ range: Range<Int64>) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count)
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(range.lowerBound)) }
        guard count == range.count else {
            throw ButlerError(.storageFailure, "cannot read \(path) holding bytes of \(source): \(String(cString: strerror(errno)))")
        }
        return bytes
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}

/// Fetches byte ranges of one object into a ``PartialArtifact``, each byte once: ranges
/// already fetched are not asked for again, neighbours are coalesced as the reader prefers.
final class RangeFetcher<Reader: RemoteObjectReader> {
    let reader: Reader
    let key: String
    let size: Int64
    let file: PartialArtifact
    /// What the file holds so far (sorted, disjoint).
    private var held: [Range<Int64>] = []

    var url: String { reader.url(key) }

    init(reader: Reader, key: String, size: Int64, in directory: String) throws {
        self.reader = reader
        self.key = key
        self.size = size
        file = try PartialArtifact(size: size, of: reader.url(key), in: directory)
    }

    /// Fetches what the file lacks of `ranges`, in one batch of requests, each missing part
    /// extended to `readingAhead` bytes at least (a header walk reads block by block).
    func fetch(_ ranges: [Range<Int64>], readingAhead: Int64 = 0) throws {
        let whole = 0..<size
        var missing: [Range<Int64>] = []
        for range in ByteLayout.coalesce(ranges.map { $0.clamped(to: whole) }, gap: 0) {
            missing += ByteLayout.complement(of: held.filter { $0.overlaps(range) }, within: range)
        }
        missing = missing.map { ($0.lowerBound..<max($0.upperBound, $0.lowerBound + readingAhead)).clamped(to: whole) }
        let requests = ByteLayout.coalesce(missing, gap: reader.coalescingGap)
        guard !requests.isEmpty else { return }
        let (file, url) = (file, url)
        let found = try reader.get(key, ranges: requests) { range, data in
            guard data.count == range.count else {
                throw ButlerError(
                    .storageFailure,
                    "\(url) answered bytes \(range.lowerBound)..<\(range.upperBound) with \(data.count) bytes (was it replaced?)",
                    isRetryable: true)
            }
            try file.write(data, at: range.lowerBound)
        }
        guard found else { throw ButlerError(.missingArtifact, "artifact \(url) does not exist") }
        held = ByteLayout.coalesce(held + requests, gap: 0)
    }

    /// Writes a pack's bytes into the file.
    func place(_ pack: RangePack) throws {
        for (range, bytes) in pack.contents { try file.write(bytes, at: range.lowerBound) }
        held = ByteLayout.coalesce(held + pack.contents.map(\.0), gap: 0)
    }
}
