public import Foundation

/// Dataset references, data IDs and dataset types as JSON, in daf_butler's serialized shapes
/// (`SerializedDatasetRef`, `SerializedDataCoordinate`, `SerializedDatasetType`), so that refs
/// can be shipped to worker processes, written by one tool and read by another — by this
/// Butler or by daf_butler's `DatasetRef.from_json`.
///
/// Decoding resolves dimension names, so it needs the repository's ``DimensionUniverse``: put
/// it in the decoder's `userInfo` under ``CodingUserInfoKey/dimensionUniverse``, or use
/// ``Butler/decodeRefs(from:)``.
extension CodingUserInfoKey {
    /// The ``DimensionUniverse`` that decoding a ``DataCoordinate``, ``DatasetType`` or
    /// ``DatasetRef`` resolves dimension names in.
    public static var dimensionUniverse: CodingUserInfoKey { CodingUserInfoKey(rawValue: "butler.dimensionUniverse")! }
}

extension DimensionUniverse {
    /// The universe a decoder was given, or a decoding error saying how to give one.
    static func from(_ decoder: any Decoder, decoding what: String) throws -> DimensionUniverse {
        guard let universe = decoder.userInfo[.dimensionUniverse] as? DimensionUniverse else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: decoder.codingPath,
                    debugDescription:
                        "decoding a \(what) needs the repository's dimension universe in the decoder's userInfo[.dimensionUniverse] (or Butler.decodeRefs)"
                ))
        }
        return universe
    }

    /// The group identified by a data ID's keys, as daf_butler reads them: a key implied by
    /// another key (`physical_filter` beside `visit`) is an implied value, not a required one.
    func group(identifiedBy keys: some Collection<String>) throws -> DimensionGroup {
        let names = Set(keys.map { aliases[$0] ?? $0 })
        var implied = Set<String>()
        for name in names { implied.formUnion(try group([name]).implied) }
        return try group(names.subtracting(implied))
    }
}

extension DataCoordinate: Codable {
    private enum CodingKeys: String, CodingKey {
        case dataId
        case records
    }

    /// Writes `{"dataId": {…}}`: every value known (required and, once expanded, implied).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(values, forKey: .dataId)
    }

    /// Reads `{"dataId": {…}}` (dimension records, if present, are not read: expand the data
    /// ID through a Butler for them).
    public init(from decoder: any Decoder) throws {
        let universe = try DimensionUniverse.from(decoder, decoding: "data ID")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let values = try container.decode(DataId.self, forKey: .dataId)
        do {
            self = try universe.standardize(values, for: try universe.group(identifiedBy: values.keys), context: "decoded data ID")
        } catch {
            throw DecodingError.dataCorruptedError(forKey: .dataId, in: container, debugDescription: "\(error)")
        }
    }
}

extension DatasetType: Codable {
    private enum CodingKeys: String, CodingKey {
        case name
        case storageClass
        case dimensions
        case parentStorageClass
        case isCalibration
    }

    /// Writes the name, storage class, required dimensions and calibration flag.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(name, forKey: .name)
        try container.encode(storageClassName, forKey: .storageClass)
        try container.encode(dimensions.required, forKey: .dimensions)
        try container.encode(isCalibration, forKey: .isCalibration)
    }

    /// Reads a dataset type written by ``encode(to:)`` or by daf_butler.
    public convenience init(from decoder: any Decoder) throws {
        let universe = try DimensionUniverse.from(decoder, decoding: "dataset type")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let name = try container.decode(String.self, forKey: .name)
        guard let storageClass = try container.decodeIfPresent(String.self, forKey: .storageClass),
            let names = try container.decodeIfPresent([String].self, forKey: .dimensions)
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .name, in: container,
                debugDescription: "dataset type \(name) was written without its storage class and dimensions (daf_butler's minimal form)")
        }
        let dimensions: DimensionGroup
        do { dimensions = try universe.group(names) } catch {
            throw DecodingError.dataCorruptedError(forKey: .dimensions, in: container, debugDescription: "dataset type \(name): \(error)")
        }
        self.init(
            name: name, dimensions: dimensions, storageClass: storageClass,
            isCalibration: try container.decodeIfPresent(Bool.self, forKey: .isCalibration) ?? false)
    }
}

extension DatasetRef: Codable {
    private enum CodingKeys: String, CodingKey {
        case id
        case datasetType
        case dataId
        case run
        case component
    }

    private enum DataIdKeys: String, CodingKey {
        case dataId
    }

    /// Writes `{"id", "datasetType", "dataId": {"dataId"}, "run"}` (daf_butler's
    /// `SerializedDatasetRef`).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(datasetType, forKey: .datasetType)
        try container.encode(dataId, forKey: .dataId)
        try container.encode(run, forKey: .run)
    }

    /// Reads a reference written by ``encode(to:)`` or daf_butler's `to_json()`; the data ID
    /// is read for the dataset type's dimensions.
    public init(from decoder: any Decoder) throws {
        let universe = try DimensionUniverse.from(decoder, decoding: "dataset reference")
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .id)
        guard let id = UUID(uuidString: text) else {
            throw DecodingError.dataCorruptedError(forKey: .id, in: container, debugDescription: "'\(text)' is not a dataset ID (a UUID)")
        }
        guard let datasetType = try container.decodeIfPresent(DatasetType.self, forKey: .datasetType),
            let run = try container.decodeIfPresent(String.self, forKey: .run)
        else {
            throw DecodingError.dataCorruptedError(
                forKey: .datasetType, in: container,
                debugDescription: "dataset \(text) was written without its dataset type or run (daf_butler's minimal form)")
        }
        let values = try container.nestedContainer(keyedBy: DataIdKeys.self, forKey: .dataId).decode(DataId.self, forKey: .dataId)
        let dataId: DataCoordinate
        do { dataId = try universe.standardize(values, for: datasetType.dimensions, context: "data ID of dataset \(text)") } catch {
            throw DecodingError.dataCorruptedError(forKey: .dataId, in: container, debugDescription: "\(error)")
        }
        self.init(id: id, datasetType: datasetType, dataId: dataId, run: run)
    }
}

extension Butler {
    /// Dataset references from JSON: one reference, an array of them, or one per line (JSON
    /// Lines), each in daf_butler's `SerializedDatasetRef` shape (``DatasetRef`` encodes to it;
    /// daf_butler's `DatasetRef.to_json()` writes it), read with this repository's dimensions.
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming the line or the field that is
    ///   wrong.
    public func decodeRefs(from data: Data) throws -> [DatasetRef] {
        let decoder = JSONDecoder()
        decoder.userInfo[.dimensionUniverse] = universe
        let text = Data(data.drop { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 })
        if text.first == UInt8(ascii: "[") {
            do { return try decoder.decode([DatasetRef].self, from: text) } catch {
                throw ButlerError(.invalidParameter, "cannot read dataset references: \(Self.describe(error))", cause: error)
            }
        }
        do { return [try decoder.decode(DatasetRef.self, from: text)] } catch let single {
            // JSON Lines: one object per line, nothing else (a pretty-printed object is not).
            let lines = text.split(separator: 0x0A).enumerated().map { ($0 + 1, Data($1)) }.filter { line in
                line.1.contains { $0 != 0x20 && $0 != 0x0D && $0 != 0x09 }
            }
            guard lines.count > 1, lines.allSatisfy({ $0.1.first == UInt8(ascii: "{") }) else {
                throw ButlerError(.invalidParameter, "cannot read a dataset reference: \(Self.describe(single))", cause: single)
            }
            return try lines.map { number, line in
                do { return try decoder.decode(DatasetRef.self, from: line) } catch {
                    throw ButlerError(
                        .invalidParameter, "cannot read the dataset reference on line \(number): \(Self.describe(error))", cause: error)
                }
            }
        }
    }

    /// JSON for `refs`: an array of daf_butler `SerializedDatasetRef` objects.
    public func encodeRefs(_ refs: [DatasetRef]) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(refs)
    }

    /// A decoding error as one line: what was wrong, and where.
    static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "\(error)" }
        let (context, what): (DecodingError.Context, String) =
            switch error {
            case .dataCorrupted(let context): (context, "")
            case .keyNotFound(let key, let context): (context, "no \(key.stringValue)")
            case .typeMismatch(let type, let context): (context, "not a \(type)")
            case .valueNotFound(let type, let context): (context, "no \(type) value")
            @unknown default: (DecodingError.Context(codingPath: [], debugDescription: "\(error)"), "")
            }
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return [what, context.debugDescription, path.isEmpty ? "" : "at \(path)"].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}
