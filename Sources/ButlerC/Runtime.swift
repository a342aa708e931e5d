import Butler
import Composites
import Dispatch
import Foundation
import Synchronization

/// The C status codes (`butler_status` in `butler.h`): 0 is success, 1–19 are the
/// ``ButlerError/Code`` kinds in a fixed order, 100 and up are the binding's own.
enum Status: Int32 {
    case ok = 0
    case configuration = 1
    case unknownDimension, invalidDataId, dimensionRecord, missingDatasetType, datasetTypeConflict, collection
    case missingDataset, conflict, readOnly, missingArtifact, corruptArtifact, missingComponent, storageFailure, invalidQuery
    case invalidParameter, typeMismatch, invalidArgument, ambiguousCalibration
    case invalidHandle = 100
    case nullArgument, invalidUTF8, invalidJSON, pixelType, bufferTooSmall
    case `internal` = 199

    /// The code of a Butler error kind.
    init(_ code: ButlerError.Code) {
        let kinds: [ButlerError.Code: Status] = [
            .configuration: .configuration, .unknownDimension: .unknownDimension, .invalidDataId: .invalidDataId,
            .dimensionRecord: .dimensionRecord, .missingDatasetType: .missingDatasetType, .datasetTypeConflict: .datasetTypeConflict,
            .collection: .collection, .missingDataset: .missingDataset, .conflict: .conflict, .readOnly: .readOnly,
            .missingArtifact: .missingArtifact, .corruptArtifact: .corruptArtifact, .missingComponent: .missingComponent,
            .storageFailure: .storageFailure, .invalidQuery: .invalidQuery, .invalidParameter: .invalidParameter,
            .typeMismatch: .typeMismatch, .invalidArgument: .invalidArgument, .ambiguousCalibration: .ambiguousCalibration,
        ]
        self = kinds[code] ?? .internal
    }

    /// The name `butler_status_name` gives (the Butler's code names, then the binding's).
    var name: String {
        switch self {
        case .ok: "ok"
        case .invalidHandle: "invalidHandle"
        case .nullArgument: "nullArgument"
        case .invalidUTF8: "invalidUTF8"
        case .invalidJSON: "invalidJSON"
        case .pixelType: "pixelType"
        case .bufferTooSmall: "bufferTooSmall"
        case .internal: "internal"
        default: "\(self)"
        }
    }
}

/// A failure of a C call: its status and the message the caller receives.
struct BindingFailure: Error {
    let status: Status
    let message: String

    init(_ status: Status, _ message: String) {
        self.status = status
        self.message = message
    }

    /// Any error as a status and message: a ``ButlerError`` keeps its kind and description;
    /// anything else is named by its type.
    init(_ error: any Error) {
        switch error {
        case let failure as BindingFailure: self = failure
        case let error as ButlerError: self.init(Status(error.code), error.description)
        case let error as StorageClassError: self.init(.missingComponent, "\(error)")
        case let error as DecodingError: self.init(.invalidJSON, "JSON does not match the expected shape: \(error)")
        default: self.init(.internal, "\(type(of: error)): \(error)")
        }
    }
}

/// Live handles of one kind: C sees small integers cast to pointers, never an address, so a
/// closed or made-up handle is recognised (and a double release is an error, not a crash).
final class HandleTable<Object: Sendable>: Sendable {
    private let state = Mutex<(next: Int, objects: [Int: Object])>((next: 0x10, objects: [:]))
    let kind: String

    init(kind: String) { self.kind = kind }

    /// Registers `object` and returns its handle.
    func insert(_ object: Object) -> OpaquePointer {
        let key = state.withLock { state -> Int in
            state.next += 0x10
            state.objects[state.next] = object
            return state.next
        }
        return OpaquePointer(bitPattern: key)!
    }

    /// The object of a live handle.
    func object(_ handle: OpaquePointer?) throws -> Object {
        guard let handle else { throw BindingFailure(.nullArgument, "the \(kind) handle is NULL") }
        let key = Int(bitPattern: UnsafeRawPointer(handle))
        guard let object = state.withLock({ $0.objects[key] }) else {
            throw BindingFailure(.invalidHandle, "\(kind) handle 0x\(String(key, radix: 16)) is not open (closed already, or never opened)")
        }
        return object
    }

    /// Removes a live handle, returning its object.
    func remove(_ handle: OpaquePointer?) throws -> Object {
        guard let handle else { throw BindingFailure(.nullArgument, "the \(kind) handle is NULL") }
        let key = Int(bitPattern: UnsafeRawPointer(handle))
        guard let object = state.withLock({ $0.objects.removeValue(forKey: key) }) else {
            throw BindingFailure(
                .invalidHandle, "\(kind) handle 0x\(String(key, radix: 16)) is not open (released already, or never opened)")
        }
        return object
    }
}

/// The handles of open Butlers and of exposures given to C.
let butlers = HandleTable<Butler>(kind: "butler")
let exposures = HandleTable<ExposureHandle>(kind: "exposure")

/// Runs an async Butler call to completion on the calling (C) thread. The task starts on this
/// thread (`Task.immediate`) and, on SQLite, usually finishes here without ever suspending, so the
/// call costs no thread hop (a detached task and a semaphore cost ~45 µs here); where it does
/// suspend, it resumes on the concurrency pool while this thread waits. C threads are not the
/// pool's, so waiting here blocks no task the call needs.
func runBlocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let result = Mutex<Result<T, any Error>?>(nil)
    let done = DispatchSemaphore(value: 0)
    Task.immediate {
        let outcome: Result<T, any Error>
        do { outcome = .success(try await body()) } catch { outcome = .failure(error) }
        result.withLock { $0 = outcome }
        done.signal()
    }
    done.wait()
    return try result.withLock { $0! }.get()
}

/// Runs a C entry point's body: the status it returns, and on failure the message stored in
/// `*error` (malloc'd, for `butler_string_free`) when `error` is not NULL.
func entry(_ errorOut: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?, _ body: () throws -> Void) -> Int32 {
    errorOut?.pointee = nil
    do {
        try body()
        return Status.ok.rawValue
    } catch {
        let failure = BindingFailure(error)
        errorOut?.pointee = strdup(failure.message)
        return failure.status.rawValue
    }
}

/// A required C string argument, checked for NULL and UTF-8.
func string(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String {
    guard let pointer else { throw BindingFailure(.nullArgument, "argument '\(name)' is NULL") }
    guard let text = String(validatingCString: pointer) else { throw BindingFailure(.invalidUTF8, "argument '\(name)' is not UTF-8") }
    return text
}

/// An optional C string argument (NULL is nil).
func optionalString(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> String? {
    guard pointer != nil else { return nil }
    return try string(pointer, name)
}

/// A JSON argument decoded as `T`; NULL or empty is `empty`.
func json<T: Decodable>(_ pointer: UnsafePointer<CChar>?, _ name: String, as type: T.Type, empty: T) throws -> T {
    guard let text = try optionalString(pointer, name), !text.trimmingCharacters(in: .whitespaces).isEmpty else { return empty }
    do { return try JSONDecoder().decode(T.self, from: Data(text.utf8)) } catch {
        throw BindingFailure(.invalidJSON, "argument '\(name)' is not the JSON expected (\(T.self)): \(text.prefix(200))")
    }
}

/// A JSON argument parsed by ``JSONText`` (nil for NULL or blank).
func jsonValue(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> JSONValue? {
    guard let text = try optionalString(pointer, name), text.contains(where: { !$0.isWhitespace }) else { return nil }
    return try JSONText.parse(text, argument: name)
}

/// A data ID argument (NULL: empty).
func dataIdArgument(_ pointer: UnsafePointer<CChar>?, _ name: String = "data_id_json") throws -> DataId {
    try jsonValue(pointer, name).map { try JSONText.dataId($0, argument: name) } ?? [:]
}

/// A list-of-names argument (NULL: nil, the default).
func namesArgument(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> [String]? {
    try jsonValue(pointer, name).map { try JSONText.strings($0, argument: name) }
}

/// An object argument (NULL: empty).
func objectArgument(_ pointer: UnsafePointer<CChar>?, _ name: String) throws -> [String: JSONValue] {
    guard let value = try jsonValue(pointer, name) else { return [:] }
    guard case .object(let members) = value else { throw BindingFailure(.invalidJSON, "argument '\(name)' must be a JSON object") }
    return members
}

/// Checks an output pointer.
func output<T>(_ pointer: UnsafeMutablePointer<T>?, _ name: String) throws -> UnsafeMutablePointer<T> {
    guard let pointer else { throw BindingFailure(.nullArgument, "output argument '\(name)' is NULL") }
    return pointer
}

/// Checks an output pointer to a result the library allocates, and clears it (so a failure
/// leaves NULL there, never a stale value).
func output<T>(_ pointer: UnsafeMutablePointer<T?>?, _ name: String) throws -> UnsafeMutablePointer<T?> {
    guard let pointer else { throw BindingFailure(.nullArgument, "output argument '\(name)' is NULL") }
    pointer.pointee = nil
    return pointer
}

/// A malloc'd copy of `text` for C.
func cString(_ text: String) -> UnsafeMutablePointer<CChar> { strdup(text) }

/// JSON text of an encodable value, keys sorted so that output is stable.
func jsonText(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// The JSON form of a dataset reference C and Python receive: {"id", "datasetType", "run", "dataId"}.
func refValue(_ ref: DatasetRef) -> JSONValue {
    .object([
        "id": .string(ref.id.uuidString.lowercased()), "datasetType": .string(ref.datasetType.name), "run": .string(ref.run),
        "dataId": .object(ref.dataId.values.mapValues(dataIdJSON)),
    ])
}

/// A data ID value as JSON.
func dataIdJSON(_ value: DataIdValue) -> JSONValue {
    switch value {
    case .int(let number): .int(number)
    case .string(let text): .string(text)
    }
}
