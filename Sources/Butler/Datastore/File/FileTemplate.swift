import Foundation

/// A daf_butler file template: `{run:/}/{datasetType}/{band:?}/{datasetType}_{visit:08d}_{run}`.
///
/// Fields are `run`, `collection` (the run), `datasetType`, `component`, `id`, and any
/// dimension of the (expanded) data ID. `:?` marks a field optional: when it has no value
/// the field disappears with the separator before it. `:/` keeps slashes in `run`; elsewhere
/// a `/` in a value becomes `_`. A numeric format such as `08d` zero-pads integers.
public struct FileTemplate: Sendable, Hashable, CustomStringConvertible {
    enum Part: Sendable, Hashable {
        case literal(String)
        case field(name: String, optional: Bool, keepSlashes: Bool, width: Int?)
    }

    /// The template text.
    public let template: String
    let parts: [Part]

    /// Parses a template.
    /// - Throws: ``ButlerError/Code/configuration`` for unbalanced braces or empty fields.
    public init(_ template: String) throws {
        self.template = template
        var parts: [Part] = []
        var literal = ""
        var iterator = template.makeIterator()
        while let character = iterator.next() {
            if character == "}" {
                throw ButlerError.configuration("file template '\(template)' has an unmatched '}'")
            }
            guard character == "{" else {
                literal.append(character)
                continue
            }
            var body = ""
            var closed = false
            while let inner = iterator.next() {
                if inner == "}" {
                    closed = true
                    break
                }
                body.append(inner)
            }
            guard closed, !body.isEmpty else {
                throw ButlerError.configuration("file template '\(template)' has an unterminated or empty field")
            }
            if !literal.isEmpty {
                parts.append(.literal(literal))
                literal = ""
            }
            let pieces = body.split(separator: ":", maxSplits: 1).map(String.init)
            let spec = pieces.count > 1 ? pieces[1] : ""
            var width: Int?
            if spec.hasSuffix("d"), let value = Int(spec.dropLast()) { width = value }
            parts.append(.field(name: pieces[0], optional: spec.contains("?"), keepSlashes: spec.contains("/"), width: width))
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        self.parts = parts
    }

    public var description: String { template }

    /// Every field name the template mentions.
    public var fields: Set<String> {
        Set(parts.compactMap { if case .field(let name, _, _, _) = $0 { return name } else { return nil } })
    }

    /// Checks that paths made from this template cannot collide for distinct datasets of a
    /// type with `required` dimensions: either `{id}` or `{run}` plus every required dimension.
    public func validate(required: [String], datasetType: String) throws {
        let fields = self.fields
        if fields.contains("id") { return }
        let missing = (["run"] + required).filter { !fields.contains($0) && !(($0 == "run") && fields.contains("collection")) }
        if !missing.isEmpty {
            throw ButlerError.configuration(
                "file template '\(template)' for \(datasetType) cannot give unique paths: it lacks \(missing.map { "{\($0)}" }.joined(separator: ", ")) (or use {id})"
            )
        }
    }

    /// Renders the template. `values` maps field names to their values; a non-optional field
    /// without a value is an error naming it. The result is a relative path that cannot
    /// escape the datastore root: every value is sanitised segment by segment.
    public func format(_ values: [String: String]) throws -> String {
        var output = ""
        for part in parts {
            switch part {
            case .literal(let text):
                output += text
            case .field(let name, let optional, let keepSlashes, let width):
                guard let raw = values[name], !raw.isEmpty else {
                    if optional {
                        // Drop the separator that introduced the missing field.
                        if let last = output.last, "_-.".contains(last) { output.removeLast() }
                        continue
                    }
                    throw ButlerError.configuration("file template '\(template)' needs a value for '{\(name)}'")
                }
                var text = raw
                if let width, let int = Int64(raw), int >= 0 {
                    let digits = String(int)
                    text = String(repeating: "0", count: max(0, width - digits.count)) + digits
                }
                output +=
                    keepSlashes
                    ? text.split(separator: "/", omittingEmptySubsequences: true).map { Self.sanitize(String($0)) }.joined(separator: "/")
                    : Self.sanitize(text)
            }
        }
        let segments = output.split(separator: "/", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "_")) }
            .filter { !$0.isEmpty }
        guard !segments.isEmpty, !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            throw ButlerError.configuration("file template '\(template)' gave an unusable path '\(output)'")
        }
        return segments.joined(separator: "/")
    }

    /// Keeps letters, digits and `._-+=,@`; anything else (including `/`) becomes `_`, and a
    /// value made only of dots is spelled out (`..` → `dotdot`), so no value can climb out of
    /// the root and distinct values stay distinct.
    static func sanitize(_ value: String) -> String {
        var bytes = Array(value.utf8)
        var changed = false
        for index in bytes.indices where !allowed[Int(bytes[index])] {
            bytes[index] = UInt8(ascii: "_")
            changed = true
        }
        var result = changed ? String(decoding: bytes, as: UTF8.self) : value
        if !bytes.isEmpty, bytes.allSatisfy({ $0 == UInt8(ascii: ".") }) { result = String(repeating: "dot", count: bytes.count) }
        return result
    }

    /// Bytes allowed in a path segment; every other byte (including each byte of a non-ASCII
    /// character) becomes `_`.
    private static let allowed: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for byte in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+=,@".utf8 { table[Int(byte)] = true }
        return table
    }()
}
