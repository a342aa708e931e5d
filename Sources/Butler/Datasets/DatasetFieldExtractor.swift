import Composites
import Foundation

/// Takes the values of a dataset type's declared fields out of an in-memory dataset, following
/// each field's dotted source: a component of the storage class first where the first step
/// names one (`metadata`, `visitInfo`, `psf`), then keys — FITS keywords of a `Metadata`, keys
/// of a dictionary, properties of a `Codable` value as it encodes.
struct DatasetFieldExtractor: Sendable {
    let storageClasses: StorageClassRegistry

    /// The component a field's source starts with, if its first step names one: reading only
    /// that component of a stored dataset is enough to index the field.
    static func component(of field: DatasetField, in storageClass: StorageClass) -> String? {
        let first = field.source.split(separator: ".", maxSplits: 1).first.map(String.init) ?? field.source
        return storageClass.components[first] != nil || storageClass.derivedComponents[first] != nil ? first : nil
    }

    /// The values of `fields` in `value` (a dataset of `storageClass`), `.null` for those the
    /// dataset lacks.
    /// - Throws: ``ButlerError/Code/typeMismatch`` naming the field, its source and the
    ///   dataset (`context`) when a value is of another kind than declared.
    func values(
        of fields: [DatasetField], in value: any Sendable, storageClass: StorageClass?, context: String
    ) throws -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for field in fields {
            let path = field.source.split(separator: ".").map(String.init)
            let found = try resolve(value, storageClass: storageClass, path: path[...])
            result[field.name] = try Self.converted(found, to: field, context: context)
        }
        return result
    }

    /// The value at `path` in `value`, `.null` where a step finds nothing.
    func resolve(_ value: any Sendable, storageClass: StorageClass?, path: ArraySlice<String>) throws -> JSONValue {
        guard let step = path.first else { return try Self.json(value) }
        if let storageClass, let assembler = storageClass.assembler,
            let componentClass = storageClass.components[step] ?? storageClass.derivedComponents[step]
        {
            // A component the dataset does not hold (an Exposure without a visitInfo) is absent.
            guard let component = try? assembler.component(step, of: value) else { return .null }
            return try resolve(component, storageClass: try? storageClasses.storageClass(named: componentClass), path: path.dropFirst())
        }
        if let metadata = value as? Metadata {
            guard let card = metadata[step] else { return .null }
            return Self.navigate(card, path.dropFirst())
        }
        return Self.navigate(try Self.json(value), path)
    }

    private static func navigate(_ value: JSONValue, _ path: ArraySlice<String>) -> JSONValue {
        var current = value
        for step in path {
            switch current {
            case .object(let object): current = object[step] ?? .null
            case .array(let array): current = Int(step).flatMap { array.indices.contains($0) ? array[$0] : nil } ?? .null
            default: return .null
            }
        }
        return current
    }

    /// A value as JSON: itself, a header's cards by keyword, or how it encodes.
    static func json(_ value: any Sendable) throws -> JSONValue {
        switch value {
        case let json as JSONValue: return json
        case let metadata as Metadata:
            var object: [String: JSONValue] = [:]
            for card in metadata.cards where object[card.key] == nil { object[card.key] = card.value }
            return .object(object)
        case let int as Int: return .int(Int64(int))
        case let int as Int64: return .int(int)
        case let double as Double: return .double(double)
        case let float as Float: return .double(Double(float))
        case let text as String: return .string(text)
        case let bool as Bool: return .bool(bool)
        case let encodable as any Encodable:
            let data = try JSONEncoder().encode(encodable)
            return try JSONDecoder().decode(JSONValue.self, from: data)
        default:
            throw ButlerError.typeMismatch("a \(type(of: value)) has no fields a dataset field can take")
        }
    }

    /// `value` as `field` declares it: numbers widen to float, integral floats narrow to int,
    /// 0/1 read as bool, numbers print as text; anything else is an error.
    static func converted(_ value: JSONValue, to field: DatasetField, context: String) throws -> JSONValue {
        switch (field.type, value) {
        case (_, .null): return .null
        case (.int, .int), (.float, .double), (.string, .string), (.bool, .bool): return value
        case (.float, .int(let int)): return .double(Double(int))
        case (.int, .double(let double)) where double.rounded() == double && abs(double) < 9e18: return .int(Int64(double))
        case (.bool, .int(let int)) where int == 0 || int == 1: return .bool(int == 1)
        case (.string, .int(let int)): return .string(String(int))
        case (.string, .double(let double)): return .string(String(double))
        case (.string, .bool(let bool)): return .string(bool ? "true" : "false")
        case (.float, .string(let text)) where Double(text.trimmingCharacters(in: .whitespaces)) != nil:
            return .double(Double(text.trimmingCharacters(in: .whitespaces))!)
        case (.int, .string(let text)) where Int64(text.trimmingCharacters(in: .whitespaces)) != nil:
            return .int(Int64(text.trimmingCharacters(in: .whitespaces))!)
        default:
            throw ButlerError.typeMismatch(
                "\(context): field \(field.name) (\(field.type.rawValue)) takes \(field.source), which is \(value), not a \(field.type.rawValue)"
            )
        }
    }
}
