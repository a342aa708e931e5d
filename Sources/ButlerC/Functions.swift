import Butler
public import CButlerABI
import Composites
import Formatters
import Foundation

// The C ABI's entry points (documented in CButlerABI/include/butler.h, with ownership and
// thread-safety). Each checks its arguments, runs the Butler call, and turns any error into a
// status and a message (`entry`).

/// A C string argument (`const char *`).
public typealias CString = UnsafePointer<CChar>
/// The `char **error` argument every entry point takes.
public typealias ErrorOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
/// A `char **` result argument.
public typealias StringOut = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>

private func staticString(_ text: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
}

/// The library's version string (static).
@_cdecl("butler_version")
public func butlerVersion() -> UnsafePointer<CChar> { staticString("1.0.0") }

/// The ABI version the library implements.
@_cdecl("butler_abi_version")
public func butlerABIVersion() -> Int32 { 1 }

/// The name of a status code (static).
@_cdecl("butler_status_name")
public func butlerStatusName(_ status: Int32) -> UnsafePointer<CChar> {
    guard let known = Status(rawValue: status) else { return staticString("unknown") }
    let names: [Status: StaticString] = [
        .ok: "ok", .configuration: "configuration", .unknownDimension: "unknownDimension", .invalidDataId: "invalidDataId",
        .dimensionRecord: "dimensionRecord", .missingDatasetType: "missingDatasetType", .datasetTypeConflict: "datasetTypeConflict",
        .collection: "collection", .missingDataset: "missingDataset", .conflict: "conflict", .readOnly: "readOnly",
        .missingArtifact: "missingArtifact", .corruptArtifact: "corruptArtifact", .missingComponent: "missingComponent",
        .storageFailure: "storageFailure", .invalidQuery: "invalidQuery", .invalidParameter: "invalidParameter",
        .typeMismatch: "typeMismatch", .invalidArgument: "invalidArgument", .ambiguousCalibration: "ambiguousCalibration",
        .invalidHandle: "invalidHandle", .nullArgument: "nullArgument", .invalidUTF8: "invalidUTF8", .invalidJSON: "invalidJSON",
        .pixelType: "pixelType", .bufferTooSmall: "bufferTooSmall", .internal: "internal",
    ]
    return staticString(names[known] ?? "unknown")
}

/// Frees a string the library returned.
@_cdecl("butler_string_free")
public func butlerStringFree(_ string: UnsafeMutablePointer<CChar>?) { free(string) }

/// Frees a byte buffer the library returned.
@_cdecl("butler_bytes_free")
public func butlerBytesFree(_ bytes: UnsafeMutableRawPointer?) { free(bytes) }

/// The options `butler_create` reads.
private struct CreateOptions: Decodable {
    var database: String?
    var namespace: String?
    var seedConfig: String?

    enum CodingKeys: String, CodingKey {
        case database, namespace
        case seedConfig = "seed_config"
    }
}

/// Creates an empty repository.
@_cdecl("butler_create")
public func butlerCreate(_ root: CString?, _ options: CString?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let root = try string(root, "root")
        let options = try json(options, "options_json", as: CreateOptions.self, empty: CreateOptions())
        var config = RepositoryConfig.defaultConfig()
        if let seed = options.seedConfig {
            let url = URL(fileURLWithPath: seed)
            config = try RepositoryConfig.load(root: url.deletingLastPathComponent(), fileName: url.lastPathComponent)
        }
        if let database = options.database { config.registry.db = database }
        if let namespace = options.namespace { config.registry.namespace = namespace }
        let finalConfig = config
        _ = try runBlocking { try await Butler.createRepository(at: URL(fileURLWithPath: root), config: finalConfig) }
    }
}

/// The options `butler_open` reads.
private struct OpenOptions: Decodable {
    var collections: [String]?
    var run: String?
    var writeable: Bool?
    var verifyChecksums: Bool?

    enum CodingKeys: String, CodingKey {
        case collections, run, writeable
        case verifyChecksums = "verify_checksums"
    }
}

/// Opens a repository.
@_cdecl("butler_open")
public func butlerOpen(_ root: CString?, _ options: CString?, _ handle: UnsafeMutablePointer<OpaquePointer?>?, _ error: ErrorOut?) -> Int32
{
    entry(error) {
        let out = try output(handle, "butler")
        let root = try string(root, "root")
        let options = try json(options, "options_json", as: OpenOptions.self, empty: OpenOptions())
        let butler = try runBlocking {
            try await Butler(
                repository: URL(fileURLWithPath: root), collections: options.collections ?? [], run: options.run,
                writeable: options.writeable ?? true, verifyChecksums: options.verifyChecksums ?? false)
        }
        out.pointee = butlers.insert(butler)
    }
}

/// Closes a repository and releases its handle.
@_cdecl("butler_close")
public func butlerClose(_ handle: OpaquePointer?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let butler = try butlers.remove(handle)
        try runBlocking { try await butler.close() }
    }
}

/// Registers a dataset type.
@_cdecl("butler_register_dataset_type")
public func butlerRegisterDatasetType(
    _ handle: OpaquePointer?, _ name: CString?, _ storageClass: CString?, _ dimensions: CString?, _ isCalibration: Int32, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let butler = try butlers.object(handle)
        let name = try string(name, "name"), storageClass = try string(storageClass, "storage_class")
        let dimensions = try namesArgument(dimensions, "dimensions_json") ?? []
        _ = try runBlocking {
            try await butler.registerDatasetType(
                name, dimensions: dimensions, storageClass: storageClass, isCalibration: isCalibration != 0)
        }
    }
}

/// What `butler_describe_dataset_type` returns.
private struct DatasetTypeDescription: Encodable {
    let name: String
    let storageClass: String
    let dimensions: [String]
    let isCalibration: Bool
    let kind: String
}

/// Which get suits a storage class: exposure planes, bytes, or JSON.
private func readKind(_ storageClass: StorageClass) -> String {
    let name = "\(storageClass.inMemoryType)"
    if name.hasPrefix("Exposure<") || name.hasPrefix("MaskedImage<") || name.hasPrefix("Image<") || name == "Mask" { return "exposure" }
    if storageClass.inMemoryType == Data.self { return "bytes" }
    return "json"
}

/// Describes a dataset type or component.
@_cdecl("butler_describe_dataset_type")
public func butlerDescribeDatasetType(_ handle: OpaquePointer?, _ name: CString?, _ result: StringOut?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let butler = try butlers.object(handle)
        let name = try string(name, "name")
        let out = try output(result, "json")
        let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
        let (datasetType, parentClass) = try storageClass(of: parts[0], in: butler)
        var storageClass = parentClass
        if parts.count == 2 {
            guard let component = storageClass.components[parts[1]] ?? storageClass.derivedComponents[parts[1]] else {
                throw BindingFailure(
                    .missingComponent,
                    "\(parts[0]) (\(storageClass.name)) has no component '\(parts[1])'; it has "
                        + (Array(storageClass.components.keys) + Array(storageClass.derivedComponents.keys)).sorted().joined(
                            separator: ", "))
            }
            storageClass = try butler.storageClasses.storageClass(named: component)
        }
        out.pointee = cString(
            try jsonText(
                DatasetTypeDescription(
                    name: name, storageClass: storageClass.name, dimensions: datasetType.dimensions.required,
                    isCalibration: datasetType.isCalibration, kind: readKind(storageClass))))
    }
}

/// Inserts dimension records.
@_cdecl("butler_insert_dimension_records")
public func butlerInsertDimensionRecords(_ handle: OpaquePointer?, _ element: CString?, _ records: CString?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let butler = try butlers.object(handle)
        let element = try string(element, "element")
        _ = try string(records, "records_json")
        guard case .array(let items) = try jsonValue(records, "records_json") ?? .array([]) else {
            throw BindingFailure(.invalidJSON, "argument 'records_json' must be a JSON array of objects")
        }
        let rows = try items.map { item -> [String: JSONValue] in
            guard case .object(let record) = item else {
                throw BindingFailure(.invalidJSON, "argument 'records_json': \(item) is not an object")
            }
            return record
        }
        _ = try runBlocking { try await butler.insertDimensionRecords(element, rows) }
    }
}

/// Stores a value and writes its reference to `refOut` (when given).
private func put(
    _ value: some Sendable, _ butler: Butler, _ datasetType: String, _ dataId: DataId, _ run: String?, _ refOut: StringOut?
) throws {
    let ref = try runBlocking { try await butler.put(value, datasetType, dataId: dataId, run: run) }
    refOut?.pointee = cString(try JSONText.write(refValue(ref)))
}

/// Stores bytes.
@_cdecl("butler_put_bytes")
public func butlerPutBytes(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ run: CString?, _ bytes: UnsafeRawPointer?, _ size: Int,
    _ refOut: StringOut?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        refOut?.pointee = nil
        let (butler, datasetType, dataId) = try target(handle, datasetType, dataId)
        guard size == 0 || bytes != nil else { throw BindingFailure(.nullArgument, "argument 'bytes' is NULL with size \(size)") }
        let data = size == 0 ? Data() : Data(bytes: bytes!, count: size)
        try put(data, butler, datasetType, dataId, try optionalString(run, "run"), refOut)
    }
}

/// Decodes a value of `storageClass` from JSON text through the storage class's decoder.
private func decodeValue(_ text: String, storageClass: StorageClass, context: String) throws -> any Sendable {
    guard let decode = storageClass.decodeDefault else {
        throw BindingFailure(.typeMismatch, "\(context): storage class \(storageClass.name) has no JSON form")
    }
    let decoder = JSONDecoder()
    decoder.userInfo[ValueDecoding.key] = ValueDecoding(decode: decode)
    do { return try decoder.decode(ValueDecoding.Decoded.self, from: Data(text.utf8)).value } catch {
        throw BindingFailure(.invalidJSON, "\(context): the JSON is not a \(storageClass.name) value: \(error)")
    }
}

/// Carries a storage class's decoder into `JSONDecoder`.
private struct ValueDecoding: @unchecked Sendable {
    static let key = CodingUserInfoKey(rawValue: "butler.valueDecoding")!
    let decode: @Sendable (any Decoder) throws -> any Sendable

    struct Decoded: Decodable {
        let value: any Sendable
        init(from decoder: any Decoder) throws {
            guard let decoding = decoder.userInfo[ValueDecoding.key] as? ValueDecoding else {
                throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "no storage class decoder"))
            }
            value = try decoding.decode(decoder)
        }
    }
}

/// Stores a value given as JSON.
@_cdecl("butler_put_json")
public func butlerPutJSON(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ run: CString?, _ text: CString?, _ refOut: StringOut?,
    _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        refOut?.pointee = nil
        let (butler, name, dataId) = try target(handle, datasetType, dataId)
        let text = try string(text, "json")
        let (_, storageClass) = try storageClass(of: name, in: butler)
        let value = try decodeValue(text, storageClass: storageClass, context: "put of \(name)")
        try put(value, butler, name, dataId, try optionalString(run, "run"), refOut)
    }
}

/// Reads a caller's plane as an image of `P`, checking its type, size and origin.
private func image<P: ImagePixel>(_ plane: UnsafePointer<butler_plane>, as type: P.Type, name: String, like box: Box2I?) throws -> Image<P>
{
    let p = plane.pointee
    guard p.pixel_type == pixelCode(P.self) else {
        throw BindingFailure(.pixelType, "the \(name) plane is \(pixelName(p.pixel_type)) where \(pixelName(pixelCode(P.self))) is needed")
    }
    guard p.width > 0, p.height > 0, p.width <= Int64(Int32.max), p.height <= Int64(Int32.max) else {
        throw BindingFailure(.invalidArgument, "the \(name) plane is \(p.width) × \(p.height) pixels")
    }
    let width = Int(p.width), height = Int(p.height), size = MemoryLayout<P>.stride
    guard p.row_stride >= Int64(width * size) else {
        throw BindingFailure(.invalidArgument, "the \(name) plane's row stride \(p.row_stride) is less than a row (\(width * size) bytes)")
    }
    guard let data = p.data else { throw BindingFailure(.nullArgument, "the \(name) plane's data is NULL") }
    let bbox = Box2I(min: Point2I(Int(p.x0), Int(p.y0)), extent: Extent2I(width, height))
    if let box, box != bbox { throw BindingFailure(.invalidArgument, "the \(name) plane covers \(bbox), the image \(box)") }
    // Copied once, rows written straight into the array (no zeroing pass first).
    let rowBytes = width * size
    let pixels = [P](unsafeUninitializedCapacity: width * height) { buffer, initialized in
        let out = UnsafeMutableRawPointer(buffer.baseAddress!)
        if Int(p.row_stride) == rowBytes {
            out.copyMemory(from: data, byteCount: rowBytes * height)
        } else {
            for row in 0..<height { (out + row * rowBytes).copyMemory(from: data + row * Int(p.row_stride), byteCount: rowBytes) }
        }
        initialized = width * height
    }
    return try Image(bbox: bbox, pixels: pixels)
}

/// An exposure of pixel type `P` from the caller's planes and component JSON.
private func exposure<P: ImagePixel>(
    _ type: P.Type, image imagePlane: UnsafePointer<butler_plane>, mask: UnsafePointer<butler_plane>?,
    variance: UnsafePointer<butler_plane>?, components: [String: JSONValue]
) throws -> Exposure<P> {
    let pixels = try image(imagePlane, as: P.self, name: "image", like: nil)
    let maskImage = try mask.map { try image($0, as: Int32.self, name: "mask", like: pixels.bbox) } ?? Image<Int32>(bbox: pixels.bbox)
    let varianceImage =
        try variance.map { try image($0, as: Float.self, name: "variance", like: pixels.bbox) } ?? Image<Float>(bbox: pixels.bbox)
    var result = Exposure(
        maskedImage: try MaskedImage(image: pixels, mask: Mask(image: maskImage, planes: Mask.defaultPlanes), variance: varianceImage))
    func decode<T: Decodable>(_ key: String, _ type: T.Type) throws -> T? {
        guard let value = components[key] else { return nil }
        do { return try JSONDecoder().decode(T.self, from: JSONEncoder().encode(value)) } catch {
            throw BindingFailure(.invalidJSON, "component '\(key)' is not a \(T.self) in its JSON form: \(error)")
        }
    }
    let unknown = Set(components.keys).subtracting(["wcs", "psf", "photoCalib", "visitInfo", "metadata"])
    guard unknown.isEmpty else {
        throw BindingFailure(.invalidArgument, "unknown components \(unknown.sorted()); known: wcs, psf, photoCalib, visitInfo, metadata")
    }
    result.wcs = try decode("wcs", Wcs.self)
    result.psf = try decode("psf", Psf.self)
    result.photoCalib = try decode("photoCalib", PhotoCalib.self)
    result.visitInfo = try decode("visitInfo", VisitInfo.self)
    if let metadata = try decode("metadata", Metadata.self) { result.metadata = metadata }
    return result
}

/// Stores an exposure from the caller's planes.
@_cdecl("butler_put_exposure")
public func butlerPutExposure(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ run: CString?, _ imagePlane: UnsafePointer<butler_plane>?,
    _ mask: UnsafePointer<butler_plane>?, _ variance: UnsafePointer<butler_plane>?, _ components: CString?, _ refOut: StringOut?,
    _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        refOut?.pointee = nil
        let (butler, name, dataId) = try target(handle, datasetType, dataId)
        guard let imagePlane else { throw BindingFailure(.nullArgument, "argument 'image' is NULL") }
        let parts = try objectArgument(components, "components_json")
        let run = try optionalString(run, "run")
        let (type, storageClass) = try storageClass(of: name, in: butler)
        let inMemory = storageClass.inMemoryType
        func store<E: AnyExposure>(_ exposureType: E.Type) throws {
            try put(
                try exposure(E.Pixel.self, image: imagePlane, mask: mask, variance: variance, components: parts), butler, name, dataId, run,
                refOut)
        }
        guard let exposureType = inMemory as? any AnyExposure.Type else {
            throw BindingFailure(.typeMismatch, "\(name) is stored as \(type.storageClassName), not an exposure")
        }
        try store(exposureType)
    }
}

/// Finds a dataset's reference.
@_cdecl("butler_find_dataset")
public func butlerFindDataset(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?, _ refOut: StringOut?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let out = try output(refOut, "ref_json")
        let (butler, name, dataId, collections) = try lookup(handle, datasetType, dataId, collections)
        out.pointee = cString(try JSONText.write(refValue(try findRef(butler, name, dataId, collections))))
    }
}

/// The Butler, dataset type and data ID a call names.
private func target(_ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?) throws -> (Butler, String, DataId) {
    (try butlers.object(handle), try string(datasetType, "dataset_type"), try dataIdArgument(dataId))
}

/// The Butler, dataset type, data ID and collections of a look-up.
private func lookup(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?
) throws -> (Butler, String, DataId, [String]?) {
    let (butler, name, values) = try target(handle, datasetType, dataId)
    return (butler, name, values, try namesArgument(collections, "collections_json"))
}

/// A registered dataset type and its storage class.
private func storageClass(of name: String, in butler: Butler) throws -> (DatasetType, StorageClass) {
    let type = try runBlocking { try await butler.datasetType(name) }
    return (type, try butler.storageClasses.storageClass(named: type.storageClassName))
}

/// The dataset found first, or a missing-dataset error naming the data ID and collections.
private func findRef(_ butler: Butler, _ name: String, _ dataId: DataId, _ collections: [String]?) throws -> DatasetRef {
    guard let ref = try runBlocking({ try await butler.findDataset(name, dataId: dataId, collections: collections) }) else {
        let rendered = dataId.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        throw BindingFailure(
            .missingDataset, "no \(name) with data ID \(rendered) in collections \(collections ?? butler.defaultCollections)")
    }
    return ref
}

/// Reads a Bytes dataset.
@_cdecl("butler_get_bytes")
public func butlerGetBytes(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?,
    _ bytesOut: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, _ sizeOut: UnsafeMutablePointer<Int>?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let bytes = try output(bytesOut, "bytes"), size = try output(sizeOut, "size")
        size.pointee = 0
        let (butler, name, dataId, collections) = try lookup(handle, datasetType, dataId, collections)
        let data = try runBlocking { try await butler.get(name, dataId: dataId, collections: collections, as: Data.self) }
        let buffer = malloc(max(1, data.count))!
        data.withUnsafeBytes { if let base = $0.baseAddress { buffer.copyMemory(from: base, byteCount: $0.count) } }
        bytes.pointee = buffer
        size.pointee = data.count
    }
}

/// Reads a dataset or component as JSON.
@_cdecl("butler_get_json")
public func butlerGetJSON(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?, _ parameters: CString?,
    _ result: StringOut?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let out = try output(result, "json")
        let (butler, name, dataId, collections) = try lookup(handle, datasetType, dataId, collections)
        let parameters = try objectArgument(parameters, "parameters_json")
        let value = try runBlocking { try await butler.get(name, dataId: dataId, collections: collections, parameters: parameters) }
        // JSON storage classes go through the fast writer; other values through their Codable form.
        let plain: JSONValue? =
            switch value {
            case let members as [String: JSONValue]: .object(members)
            case let items as [JSONValue]: .array(items)
            case let single as JSONValue: single
            default: nil
            }
        if let plain {
            out.pointee = cString(try JSONText.write(plain))
            return
        }
        guard !(value is Data), let encodable = value as? any Encodable else {
            throw BindingFailure(
                .typeMismatch, "\(name) is a \(type(of: value)), which has no JSON form (use butler_get_bytes or butler_get_exposure)")
        }
        out.pointee = cString(try jsonText(encodable))
    }
}

/// Reads an image, masked image or exposure.
@_cdecl("butler_get_exposure")
public func butlerGetExposure(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?, _ parameters: CString?,
    _ result: UnsafeMutablePointer<OpaquePointer?>?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let out = try output(result, "exposure")
        let (butler, name, dataId, collections) = try lookup(handle, datasetType, dataId, collections)
        let parameters = try objectArgument(parameters, "parameters_json")
        let value = try runBlocking { try await butler.get(name, dataId: dataId, collections: collections, parameters: parameters) }
        out.pointee = exposures.insert(try ExposureHandle.make(value, context: name))
    }
}

/// The URL of a dataset's artifact.
@_cdecl("butler_get_uri")
public func butlerGetURI(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ dataId: CString?, _ collections: CString?, _ result: StringOut?, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let out = try output(result, "uri")
        let (butler, name, dataId, collections) = try lookup(handle, datasetType, dataId, collections)
        let ref = try findRef(butler, name, dataId, collections)
        let urls = try runBlocking { try await butler.artifactURLs(ref) }
        guard urls.count == 1 else {
            throw BindingFailure(.typeMismatch, "\(name) is stored in \(urls.count) artifacts (\(urls.map(\.path))); ask for a component")
        }
        out.pointee = cString(urls[0].absoluteString)
    }
}

/// Queries datasets.
@_cdecl("butler_query_datasets")
public func butlerQueryDatasets(
    _ handle: OpaquePointer?, _ datasetType: CString?, _ collections: CString?, _ whereText: CString?, _ findFirst: Int32,
    _ result: StringOut?,
    _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let butler = try butlers.object(handle)
        let out = try output(result, "json")
        let name = try string(datasetType, "dataset_type")
        let collections = try namesArgument(collections, "collections_json")
        let expression = try optionalString(whereText, "where")
        let refs = try runBlocking {
            try await butler.queryDatasets([name], collections: collections, where: expression, findFirst: findFirst != 0)
        }
        out.pointee = cString(try JSONText.write(.array(refs.map(refValue))))
    }
}

/// Queries data IDs.
@_cdecl("butler_query_data_ids")
public func butlerQueryDataIds(
    _ handle: OpaquePointer?, _ dimensions: CString?, _ whereText: CString?, _ result: StringOut?, _ error: ErrorOut?
)
    -> Int32
{
    entry(error) {
        let butler = try butlers.object(handle)
        let out = try output(result, "json")
        _ = try string(dimensions, "dimensions_json")
        let names = try namesArgument(dimensions, "dimensions_json") ?? []
        let expression = try optionalString(whereText, "where")
        let ids = try runBlocking { try await butler.queryDataIds(names, where: expression) }
        out.pointee = cString(try JSONText.write(.array(ids.map { .object($0.values.mapValues(dataIdJSON)) })))
    }
}

/// A view of an exposure's plane.
@_cdecl("butler_exposure_plane")
public func butlerExposurePlane(
    _ handle: OpaquePointer?, _ plane: CString?, _ view: UnsafeMutablePointer<butler_plane>?, _ error: ErrorOut?
)
    -> Int32
{
    entry(error) {
        let exposure = try exposures.object(handle)
        let out = try output(view, "view")
        let buffer = try exposure.plane(try string(plane, "plane"))
        out.pointee = butler_plane(
            data: buffer.data, pixel_type: buffer.pixelType, width: Int64(buffer.width), height: Int64(buffer.height),
            row_stride: Int64(buffer.width * buffer.bytesPerPixel), x0: Int64(exposure.bbox.min.x), y0: Int64(exposure.bbox.min.y))
    }
}

/// Copies an exposure's plane into the caller's buffer.
@_cdecl("butler_exposure_copy_plane")
public func butlerExposureCopyPlane(
    _ handle: OpaquePointer?, _ plane: CString?, _ pixelType: Int32, _ buffer: UnsafeMutableRawPointer?, _ size: Int, _ error: ErrorOut?
) -> Int32 {
    entry(error) {
        let exposure = try exposures.object(handle)
        let name = try string(plane, "plane")
        let source = try exposure.plane(name)
        guard pixelType == source.pixelType else {
            throw BindingFailure(.pixelType, "the \(name) plane is \(pixelName(source.pixelType)), not \(pixelName(pixelType))")
        }
        guard let buffer else { throw BindingFailure(.nullArgument, "argument 'buffer' is NULL") }
        let needed = source.width * source.height * source.bytesPerPixel
        guard size >= needed else {
            throw BindingFailure(
                .bufferTooSmall, "the \(name) plane needs \(needed) bytes (\(source.width) × \(source.height)), the buffer has \(size)")
        }
        buffer.copyMemory(from: source.data, byteCount: needed)
    }
}

/// An exposure's component as JSON.
@_cdecl("butler_exposure_component")
public func butlerExposureComponent(_ handle: OpaquePointer?, _ component: CString?, _ result: StringOut?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let exposure = try exposures.object(handle)
        let out = try output(result, "json")
        let name = try string(component, "component")
        let known = ["wcs", "psf", "photoCalib", "visitInfo", "metadata", "bbox"]
        guard let text = try exposure.component(name) else {
            throw BindingFailure(
                known.contains(name) ? .missingComponent : .invalidArgument,
                known.contains(name) ? "this exposure has no \(name)" : "'\(name)' is not a component (\(known.joined(separator: ", ")))")
        }
        out.pointee = cString(text)
    }
}

/// An exposure's WCS as FITS cards.
@_cdecl("butler_exposure_wcs_header")
public func butlerExposureWcsHeader(_ handle: OpaquePointer?, _ result: StringOut?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let exposure = try exposures.object(handle)
        let out = try output(result, "json")
        guard let header = try exposure.wcsHeader() else { throw BindingFailure(.missingComponent, "this exposure has no wcs") }
        out.pointee = cString(header)
    }
}

/// A WCS (JSON) as FITS cards for a pixel grid starting at parent (x0, y0).
@_cdecl("butler_wcs_fits_header")
public func butlerWcsFITSHeader(_ wcsText: CString?, _ x0: Int64, _ y0: Int64, _ result: StringOut?, _ error: ErrorOut?) -> Int32 {
    entry(error) {
        let out = try output(result, "json")
        _ = try string(wcsText, "wcs_json")
        let wcs = try json(wcsText, "wcs_json", as: Wcs.self, empty: Wcs(crpix: Point2D(0, 0), crval: SpherePoint(ra: 0, dec: 0), cd: []))
        guard x0.magnitude < 1 << 40, y0.magnitude < 1 << 40 else {
            throw BindingFailure(.invalidArgument, "origin (\(x0), \(y0)) is out of range")
        }
        out.pointee = cString(try ExposureHandle.fitsHeader(wcs, xy0: Point2I(Int(x0), Int(y0))))
    }
}

/// Releases an exposure handle.
@_cdecl("butler_exposure_free")
public func butlerExposureFree(_ handle: OpaquePointer?) -> Int32 {
    entry(nil) { _ = try exposures.remove(handle) }
}
