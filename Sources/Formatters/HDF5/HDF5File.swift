import CHDF5Shim
public import Composites
import Foundation

/// How image planes are laid out in HDF5: chunk shape and optional shuffle + deflate.
public struct HDF5Layout: Sendable, Hashable, Codable {
    /// Chunk width and height in pixels (clipped to the image).
    public var chunk: Extent2I
    /// Deflate level 1–9, or nil for no compression (shuffle is applied with deflate).
    public var deflate: Int?

    /// A layout (default 256 × 256 chunks, uncompressed).
    public init(chunk: Extent2I = Extent2I(256, 256), deflate: Int? = nil) {
        self.chunk = chunk
        self.deflate = deflate
    }
}

/// One open HDF5 file: the only owner of its `hid_t`; objects opened inside it are closed
/// before the call that opened them returns.
///
/// Not `Sendable`; HDF5 serialises calls with its own global lock (Debian's thread-safe build).
final class HDF5File {
    private var id: hid_t
    let path: String
    /// Groups and datasets opened for attribute access, kept open until the file closes:
    /// reading ten attributes of `/wcs` opens it once, not ten times.
    private var openObjects: [String: hid_t] = [:]

    private init(id: hid_t, path: String) {
        self.id = id
        self.path = path
    }

    deinit {
        for object in openObjects.values { H5Oclose(object) }
        if id >= 0 { H5Fclose(id) }
    }

    static func open(_ path: String) throws -> HDF5File {
        CHDF5.quiet()
        guard FileManager.default.fileExists(atPath: path) else {
            throw HDF5Error(path: path, kind: .missingFile, message: "no such file", context: "opening")
        }
        let access = try unlockedAccess(path)
        defer { H5Pclose(access) }
        let id = try CHDF5.check(H5Fopen(path, butler_h5f_acc_rdonly(), access), "H5Fopen", path: path, context: "opening")
        return HDF5File(id: id, path: path)
    }

    static func create(_ path: String) throws -> HDF5File {
        CHDF5.quiet()
        let access = try unlockedAccess(path)
        defer { H5Pclose(access) }
        // The 1.8 file format and later (superblock v2+, object headers v2) checksum every piece
        // of metadata, so a corrupt header is an HDF5 error on open, not bytes libhdf5 trusts:
        // FuzzHDF5 found libhdf5 1.10 reading past a buffer on a flipped bit in an unchecksummed
        // (superblock v0) object header. h5py reads this format.
        try CHDF5.check(
            H5Pset_libver_bounds(access, H5F_LIBVER_V18, H5F_LIBVER_V110), "H5Pset_libver_bounds", path: path, context: "creating")
        // Metadata (object headers, chunk-index nodes, attributes) is allocated from 64 KiB
        // blocks rather than 2 KiB ones, so it lies together at the start of the file instead
        // of between the chunks: a ranged read of a remote file fetches it in one range (16
        // pieces for a 4096² exposure before).
        try CHDF5.check(H5Pset_meta_block_size(access, 64 << 10), "H5Pset_meta_block_size", path: path, context: "creating")
        let id = try CHDF5.check(
            H5Fcreate(path, butler_h5f_acc_excl(), hid_t(H5P_DEFAULT), access), "H5Fcreate", path: path, context: "creating")
        return HDF5File(id: id, path: path)
    }

    /// File access without HDF5's flock-based locking. Artifacts are written once under a
    /// temporary name and only read afterwards, so the lock protects nothing; and HDF5 opens
    /// files without close-on-exec, so a child process started meanwhile (a test spawning a
    /// tool) inherits the descriptor and keeps the lock, failing later opens with EAGAIN.
    private static func unlockedAccess(_ path: String) throws -> hid_t {
        let access = try CHDF5.check(H5Pcreate(butler_h5p_file_access()), "H5Pcreate", path: path, context: "configuring file access")
        try CHDF5.check(H5Pset_file_locking(access, false, true), "H5Pset_file_locking", path: path, context: "configuring file access")
        return access
    }

    func close() throws {
        guard id >= 0 else { return }
        for object in openObjects.values { H5Oclose(object) }
        openObjects.removeAll()
        let status = H5Fclose(id)
        id = -1
        try CHDF5.check(status, "H5Fclose", path: path, context: "closing")
    }

    @discardableResult
    private func check<T: BinaryInteger>(_ value: T, _ function: String, _ context: @autoclosure () -> String) throws -> T {
        try CHDF5.check(value, function, path: path, context: context())
    }

    /// Whether a link (dataset or group) exists.
    func exists(_ name: String) -> Bool {
        // Parents first: H5Lexists fails on a missing intermediate group.
        var prefix = ""
        for part in name.split(separator: "/") {
            prefix += "/" + part
            if H5Lexists(id, prefix, hid_t(H5P_DEFAULT)) <= 0 { return false }
        }
        return true
    }

    // MARK: Datasets

    /// Writes a 2-d dataset of `P` (height × width, row-major, as numpy sees it).
    func writeImage<P: ImagePixel>(_ name: String, _ pixels: [P], width: Int, height: Int, layout: HDF5Layout) throws {
        var dims: [hsize_t] = [hsize_t(height), hsize_t(width)]
        let space = try check(H5Screate_simple(2, &dims, nil), "H5Screate_simple", "describing \(name)")
        defer { H5Sclose(space) }
        let properties = try check(H5Pcreate(butler_h5p_dataset_create()), "H5Pcreate", "configuring \(name)")
        defer { H5Pclose(properties) }
        if width > 0 && height > 0 {
            var chunk: [hsize_t] = [hsize_t(min(layout.chunk.height, height)), hsize_t(min(layout.chunk.width, width))]
            try check(H5Pset_chunk(properties, 2, &chunk), "H5Pset_chunk", "chunking \(name)")
            if let level = layout.deflate {
                try check(H5Pset_shuffle(properties), "H5Pset_shuffle", "shuffling \(name)")
                try check(H5Pset_deflate(properties, UInt32(level)), "H5Pset_deflate", "compressing \(name)")
            }
        }
        let type = P.kind.hdf5NativeType
        let dataset = try check(
            H5Dcreate2(id, name, type, space, hid_t(H5P_DEFAULT), properties, hid_t(H5P_DEFAULT)), "H5Dcreate2", "creating \(name)")
        defer { H5Dclose(dataset) }
        try pixels.withUnsafeBytes { buffer in
            _ = try check(
                H5Dwrite(dataset, type, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), buffer.baseAddress),
                "H5Dwrite", "writing \(name)")
        }
    }

    /// A dataset handle, opened once per file and kept with the attribute objects.
    private func dataset(_ name: String) throws -> hid_t {
        if let object = openObjects[name] { return object }
        let dataset = try check(H5Dopen2(id, name, hid_t(H5P_DEFAULT)), "H5Dopen2", "opening \(name)")
        openObjects[name] = dataset
        return dataset
    }

    /// The shape of a 2-d dataset and the pixel kind of its elements (nil for another type).
    struct ImageShape {
        let width: Int
        let height: Int
        let kind: PixelKind?
    }

    /// The shape and element kind of a 2-d dataset; refuses shapes beyond ``FileLimits``
    /// before anything is allocated for them.
    func imageShape(_ name: String) throws -> ImageShape {
        let dataset = try dataset(name)
        let space = try check(H5Dget_space(dataset), "H5Dget_space", "reading the shape of \(name)")
        defer { H5Sclose(space) }
        var dims: [hsize_t] = [0, 0]
        let rank = try check(H5Sget_simple_extent_ndims(space), "H5Sget_simple_extent_ndims", "reading the shape of \(name)")
        guard rank == 2 else {
            throw HDF5Error(path: path, kind: .corruptFile, message: "\(name) has \(rank) dimensions, not 2", context: "reading \(name)")
        }
        try check(H5Sget_simple_extent_dims(space, &dims, nil), "H5Sget_simple_extent_dims", "reading the shape of \(name)")
        let axes = dims.reversed().map { $0 > UInt64(Int.max) ? -1 : Int($0) }
        if let refusal = FileLimits.refusal(axes: axes) {
            throw HDF5Error(path: path, kind: .corruptFile, message: "\(name): \(refusal)", context: "reading \(name)")
        }
        let fileType = try check(H5Dget_type(dataset), "H5Dget_type", "reading the type of \(name)")
        defer { H5Tclose(fileType) }
        try requirePlausibleStorage(dataset, name, dims: dims, elementSize: H5Tget_size(fileType))
        let kind = PixelKind.allCases.first { H5Tequal(fileType, $0.hdf5NativeType) > 0 }
        return ImageShape(width: axes[0], height: axes[1], kind: kind)
    }

    /// The deflate ratio no stored bytes can exceed (zlib's bound is about 1032:1).
    static let maxCompressionRatio: UInt64 = 1100

    /// Refuses a dataset whose declared pixels its file cannot hold, before libhdf5 allocates
    /// for them: chunks larger than the dataset, or more pixel bytes than the stored bytes could
    /// decompress to, or stored bytes the file does not have. FuzzHDF5 found a 14 KB file whose
    /// chunk index made libhdf5 allocate 3.7 GB for one chunk.
    private func requirePlausibleStorage(_ dataset: hid_t, _ name: String, dims: [hsize_t], elementSize: Int) throws {
        func refuse(_ message: String) -> HDF5Error {
            HDF5Error(path: path, kind: .corruptFile, message: "\(name): \(message)", context: "reading \(name)")
        }
        let plist = try check(H5Dget_create_plist(dataset), "H5Dget_create_plist", "reading the layout of \(name)")
        defer { H5Pclose(plist) }
        if H5Pget_layout(plist) == H5D_CHUNKED {
            var chunk: [hsize_t] = [0, 0]
            guard H5Pget_chunk(plist, 2, &chunk) == 2 else { throw refuse("its chunk shape is not 2-d") }
            if chunk[0] == 0 || chunk[1] == 0 || chunk[0] > max(dims[0], 1) || chunk[1] > max(dims[1], 1) {
                throw refuse("chunks of \(chunk[1])×\(chunk[0]) do not fit its \(dims[1])×\(dims[0]) pixels")
            }
        }
        let declared = dims[0] * dims[1] * UInt64(max(elementSize, 1))
        let stored = H5Dget_storage_size(dataset)
        var info = stat()
        if stat(path, &info) == 0, stored > UInt64(info.st_size) {
            // libhdf5 allocates a chunk's stored size to read it.
            throw refuse("its chunks claim \(stored) stored bytes in a file of \(info.st_size)")
        }
        if declared > stored * Self.maxCompressionRatio + (1 << 20) {
            throw refuse("declares \(declared) bytes of pixels but stores only \(stored)")
        }
    }

    /// Reads the pixels of a 2-d dataset inside `box` (local, inclusive), or all: a hyperslab,
    /// so only the chunks it touches are read.
    func readImage<P: ImagePixel>(_ name: String, as type: P.Type, width: Int, height: Int, box: Box2I?) throws -> [P] {
        let dataset = try dataset(name)
        let region = box ?? Box2I(min: Point2I(0, 0), extent: Extent2I(width, height))
        let memoryType = P.kind.hdf5NativeType
        if box == nil {
            return try pixelsFilled(P.self, count: region.area) { base in
                try check(
                    H5Dread(dataset, memoryType, hid_t(H5S_ALL), hid_t(H5S_ALL), hid_t(H5P_DEFAULT), base),
                    "H5Dread", "reading \(name)")
            }
        }
        let fileSpace = try check(H5Dget_space(dataset), "H5Dget_space", "selecting in \(name)")
        defer { H5Sclose(fileSpace) }
        var start: [hsize_t] = [hsize_t(region.min.y), hsize_t(region.min.x)]
        var count: [hsize_t] = [hsize_t(region.height), hsize_t(region.width)]
        try check(
            H5Sselect_hyperslab(fileSpace, H5S_SELECT_SET, &start, nil, &count, nil), "H5Sselect_hyperslab",
            "selecting \(region) in \(name)")
        let memorySpace = try check(H5Screate_simple(2, &count, nil), "H5Screate_simple", "describing a \(region.extent) read")
        defer { H5Sclose(memorySpace) }
        return try pixelsFilled(P.self, count: region.area) { base in
            try check(
                H5Dread(dataset, memoryType, memorySpace, fileSpace, hid_t(H5P_DEFAULT), base),
                "H5Dread", "reading \(region) of \(name)")
        }
    }

    // MARK: Groups and attributes

    /// Creates a group (parents must exist).
    func createGroup(_ name: String) throws {
        let group = try check(
            H5Gcreate2(id, name, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)), "H5Gcreate2", "creating group \(name)")
        H5Gclose(group)
    }

    private func withObject<T>(_ name: String, _ body: (hid_t) throws -> T) throws -> T {
        if let object = openObjects[name] { return try body(object) }
        let object = try check(H5Oopen(id, name, hid_t(H5P_DEFAULT)), "H5Oopen", "opening \(name)")
        openObjects[name] = object
        return try body(object)
    }

    /// Writes a numeric attribute (scalar when one value, else a 1-d array).
    func setAttribute(_ object: String, _ name: String, doubles values: [Double]) throws {
        try setAttribute(object, name, type: butler_h5t_native_double(), count: values.count) { values.withUnsafeBytes { $0.baseAddress } }
    }

    /// Writes an integer attribute (scalar when one value, else a 1-d array).
    func setAttribute(_ object: String, _ name: String, ints values: [Int64]) throws {
        try setAttribute(object, name, type: butler_h5t_native_int64(), count: values.count) { values.withUnsafeBytes { $0.baseAddress } }
    }

    private func setAttribute(_ object: String, _ name: String, type: hid_t, count: Int, _ bytes: () -> UnsafeRawPointer?) throws {
        try withObject(object) { target in
            var dims: [hsize_t] = [hsize_t(count)]
            let space =
                count == 1
                ? try check(H5Screate(H5S_SCALAR), "H5Screate", "describing \(name)")
                : try check(H5Screate_simple(1, &dims, nil), "H5Screate_simple", "describing \(name)")
            defer { H5Sclose(space) }
            let attribute = try check(
                H5Acreate2(target, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)),
                "H5Acreate2", "creating attribute \(object)@\(name)")
            defer { H5Aclose(attribute) }
            try check(H5Awrite(attribute, type, bytes()), "H5Awrite", "writing attribute \(object)@\(name)")
        }
    }

    /// Writes a fixed-length string attribute (h5py reads it as bytes; `.decode()` gives text).
    func setAttribute(_ object: String, _ name: String, string value: String) throws {
        try withObject(object) { target in
            let bytes = Array(value.utf8)
            let type = try check(H5Tcopy(butler_h5t_c_s1()), "H5Tcopy", "making a string type")
            defer { H5Tclose(type) }
            try check(H5Tset_size(type, max(1, bytes.count)), "H5Tset_size", "sizing attribute \(name)")
            let space = try check(H5Screate(H5S_SCALAR), "H5Screate", "describing \(name)")
            defer { H5Sclose(space) }
            let attribute = try check(
                H5Acreate2(target, name, type, space, hid_t(H5P_DEFAULT), hid_t(H5P_DEFAULT)),
                "H5Acreate2", "creating attribute \(object)@\(name)")
            defer { H5Aclose(attribute) }
            let padded = bytes.isEmpty ? [UInt8(0)] : bytes
            try padded.withUnsafeBytes { buffer in
                _ = try check(H5Awrite(attribute, type, buffer.baseAddress), "H5Awrite", "writing attribute \(object)@\(name)")
            }
        }
    }

    /// Whether `object` has attribute `name`.
    func hasAttribute(_ object: String, _ name: String) throws -> Bool {
        try withObject(object) { H5Aexists($0, name) > 0 }
    }

    /// Reads a numeric attribute as doubles (converted by HDF5), or nil if absent.
    func doubles(_ object: String, _ name: String) throws -> [Double]? {
        try numbers(object, name, type: butler_h5t_native_double(), as: Double.self)
    }

    /// Reads a numeric attribute as integers, or nil if absent.
    func ints(_ object: String, _ name: String) throws -> [Int64]? {
        try numbers(object, name, type: butler_h5t_native_int64(), as: Int64.self)
    }

    private func numbers<T: Numeric>(_ object: String, _ name: String, type: hid_t, as: T.Type) throws -> [T]? {
        try withObject(object) { target in
            guard H5Aexists(target, name) > 0 else { return nil }
            let attribute = try check(H5Aopen(target, name, hid_t(H5P_DEFAULT)), "H5Aopen", "opening attribute \(object)@\(name)")
            defer { H5Aclose(attribute) }
            let space = try check(H5Aget_space(attribute), "H5Aget_space", "reading attribute \(object)@\(name)")
            defer { H5Sclose(space) }
            let count = try check(H5Sget_simple_extent_npoints(space), "H5Sget_simple_extent_npoints", "sizing \(object)@\(name)")
            guard count <= 1 << 20 else {
                throw HDF5Error(
                    path: path, kind: .corruptFile, message: "attribute \(object)@\(name) has \(count) values", context: "reading \(name)")
            }
            var values = [T](repeating: .zero, count: Int(count))
            try values.withUnsafeMutableBytes { buffer in
                _ = try check(H5Aread(attribute, type, buffer.baseAddress), "H5Aread", "reading attribute \(object)@\(name)")
            }
            return values
        }
    }

    /// Reads a fixed-length string attribute, or nil if absent.
    func string(_ object: String, _ name: String) throws -> String? {
        try withObject(object) { target in
            guard H5Aexists(target, name) > 0 else { return nil }
            let attribute = try check(H5Aopen(target, name, hid_t(H5P_DEFAULT)), "H5Aopen", "opening attribute \(object)@\(name)")
            defer { H5Aclose(attribute) }
            let type = try check(H5Aget_type(attribute), "H5Aget_type", "reading attribute \(object)@\(name)")
            defer { H5Tclose(type) }
            guard H5Tget_class(type) == H5T_STRING, H5Tis_variable_str(type) == 0 else {
                throw HDF5Error(
                    path: path, kind: .corruptFile, message: "attribute \(object)@\(name) is not a fixed-length string",
                    context: "reading \(name)")
            }
            let size = H5Tget_size(type)
            guard size <= 1 << 24 else {
                throw HDF5Error(
                    path: path, kind: .corruptFile, message: "attribute \(object)@\(name) claims \(size) bytes", context: "reading \(name)")
            }
            var buffer = [UInt8](repeating: 0, count: size + 1)
            try buffer.withUnsafeMutableBytes { raw in
                _ = try check(H5Aread(attribute, type, raw.baseAddress), "H5Aread", "reading attribute \(object)@\(name)")
            }
            return String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension HDF5File {
    /// Where a chunked 2-d dataset's chunks lie, by chunk (row-major from the first pixel):
    /// each chunk's `[address, stored size]`, empty for one never written. Nil for a dataset
    /// that is not chunked or not 2-d. Chunks are looked up by coordinate (libhdf5 1.10's
    /// lookup by index walks the index each time).
    func chunkLayout(_ name: String) throws -> (chunk: Extent2I, shape: ImageShape, chunks: [[Int64]])? {
        let shape = try imageShape(name)
        let dataset = try dataset(name)
        let plist = try check(H5Dget_create_plist(dataset), "H5Dget_create_plist", "reading the layout of \(name)")
        defer { H5Pclose(plist) }
        var chunk: [hsize_t] = [0, 0]
        guard H5Pget_layout(plist) == H5D_CHUNKED, H5Pget_chunk(plist, 2, &chunk) == 2, chunk[0] > 0, chunk[1] > 0 else { return nil }
        let (chunkHeight, chunkWidth) = (Int(chunk[0]), Int(chunk[1]))
        let rows = (shape.height + chunkHeight - 1) / chunkHeight
        let columns = (shape.width + chunkWidth - 1) / chunkWidth
        var chunks: [[Int64]] = []
        chunks.reserveCapacity(rows * columns)
        for row in 0..<rows {
            for column in 0..<columns {
                var offset: [hsize_t] = [hsize_t(row * chunkHeight), hsize_t(column * chunkWidth)]
                var mask: UInt32 = 0, address: haddr_t = 0, size: hsize_t = 0
                try check(
                    H5Dget_chunk_info_by_coord(dataset, &offset, &mask, &address, &size), "H5Dget_chunk_info_by_coord",
                    "locating chunk (\(row), \(column)) of \(name)")
                let unallocated = address == haddr_t.max || size == 0
                chunks.append(unallocated ? [] : [Int64(address), Int64(size)])
            }
        }
        return (Extent2I(chunkWidth, chunkHeight), shape, chunks)
    }
}
