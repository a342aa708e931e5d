import Composites
import Foundation
import Sky
import Yams

/// daf_butler's YAML export format (version 1.0.2, `lsst.daf.butler.transfers._yaml`), written
/// and read: `description`, `version`, `universe_version`, `universe_namespace`, then `data`, a
/// list of `dimension`, `collection`, `dataset_type`, `dataset` and `associations` items. Its
/// tags: `!uuid` for dataset IDs, `!butler_time/tai/iso` for times,
/// `!lsst.daf.butler.Timespan` for validity ranges, `!<lsst.sphgeom.ConvexPolygon>` (and the
/// other region classes) with the hex sphgeom encoding for regions.
///
/// Records travel with daf_butler's field names: a timespan is `datetime_begin` and
/// `datetime_end` in the file (`timespan_begin`/`timespan_end` TAI nanoseconds here).
public enum ExportFile {
    /// The format version written, and the newest read.
    public static let version = (major: 1, minor: 0, patch: 2)

    // MARK: Writing

    /// The export as daf_butler's YAML.
    public static func yaml(_ export: RepositoryExport) throws -> String {
        var data: [Block] = []
        for dimension in export.dimensions {
            data.append(
                .mapping([
                    ("type", .scalar("dimension")), ("element", string(dimension.element)),
                    ("records", .sequence(try dimension.records.map { try recordBlock($0) })),
                ]))
        }
        for collection in export.collections {
            var pairs: [(String, Block)] = [
                ("type", .scalar("collection")), ("collection_type", string(collection.type.rawValue)), ("name", string(collection.name)),
            ]
            if let doc = collection.doc, !doc.isEmpty { pairs.append(("doc", string(doc))) }
            switch collection.type {
            case .run: pairs += [("host", null), ("timespan_begin", null), ("timespan_end", null)]
            case .chained: pairs.append(("children", .sequence(collection.children.map(string))))
            case .tagged, .calibration: break
            }
            data.append(.mapping(pairs))
        }
        var typesWritten = Set<String>()
        for group in export.datasets {
            let type = group.datasetType
            if typesWritten.insert(type.name).inserted {
                data.append(
                    .mapping([
                        ("type", .scalar("dataset_type")), ("name", string(type.name)),
                        ("dimensions", .sequence(type.dimensions.map(string))),
                        ("storage_class", string(type.storageClass)), ("is_calibration", .scalar(type.isCalibration ? "true" : "false")),
                    ]))
            }
            let records = group.files.map { file -> Block in
                var pairs: [(String, Block)] = [
                    ("dataset_id", .sequence(file.ids.map(uuid))), ("data_id", .sequence(file.dataIds.map(dataIdBlock))),
                    ("path", string(file.path)),
                ]
                if let formatter = file.formatter { pairs.append(("formatter", string(formatter))) }
                return .mapping(pairs)
            }
            data.append(
                .mapping([
                    ("type", .scalar("dataset")), ("dataset_type", string(type.name)), ("run", string(group.run)),
                    ("records", .sequence(records)),
                ]))
        }
        for association in export.associations {
            if let timespan = association.timespan {
                let range = Block.mapping([("timespan", timespanBlock(timespan)), ("dataset_ids", .sequence(association.ids.map(uuid)))])
                data.append(
                    .mapping([
                        ("type", .scalar("associations")), ("collection", string(association.collection)),
                        ("collection_type", .scalar("CALIBRATION")), ("validity_ranges", .sequence([range])),
                    ]))
            } else {
                data.append(
                    .mapping([
                        ("type", .scalar("associations")), ("collection", string(association.collection)),
                        ("collection_type", .scalar("TAGGED")), ("dataset_ids", .sequence(association.ids.map(uuid))),
                    ]))
            }
        }
        let root = Block.mapping([
            ("description", .scalar("Butler Data Repository Export")),
            ("version", .scalar("\(version.major).\(version.minor).\(version.patch)")),
            ("universe_version", .scalar(String(export.universeVersion))), ("universe_namespace", string(export.universeNamespace)),
            ("data", .sequence(data)),
        ])
        var text = ""
        root.write(into: &text, indent: 0)
        return text
    }

    /// YAML in block style, as PyYAML writes daf_butler's exports. Written here rather than by
    /// Yams: Yams' emitter drops the tags of scalars (`!uuid`, `!butler_time/tai/iso`), which
    /// daf_butler's loader needs.
    private indirect enum Block {
        /// A scalar already written as YAML (quoted, tagged).
        case scalar(String)
        /// A mapping, with an optional tag (written as is: `!<lsst.sphgeom.Circle>`).
        case mapping([(String, Block)], tag: String? = nil)
        case sequence([Block])

        func write(into text: inout String, indent: Int) {
            let pad = String(repeating: " ", count: indent)
            switch self {
            case .scalar(let value):
                text += value + "\n"
            case .mapping(let pairs, _):
                for (index, (key, value)) in pairs.enumerated() {
                    // The first pair of a sequence item follows its "- ".
                    if index > 0 || !text.hasSuffix("- ") { text += pad }
                    text += key + ":"
                    value.writeValue(into: &text, indent: indent)
                }
            case .sequence(let items):
                for item in items {
                    text += pad + "- "
                    switch item {
                    case .scalar(let value): text += value + "\n"
                    case .mapping(let pairs, let tag) where tag == nil && !pairs.isEmpty: item.write(into: &text, indent: indent + 2)
                    default:
                        text.removeLast(1)
                        item.writeValue(into: &text, indent: indent)
                    }
                }
            }
        }

        /// After `key:` — a scalar on the same line, a collection below it.
        func writeValue(into text: inout String, indent: Int) {
            switch self {
            case .scalar(let value):
                text += " " + value + "\n"
            case .mapping(let pairs, let tag):
                if let tag { text += " " + tag }
                if pairs.isEmpty {
                    text += " {}\n"
                } else {
                    text += "\n"
                    write(into: &text, indent: indent + 2)
                }
            case .sequence(let items):
                if items.isEmpty {
                    text += " []\n"
                } else {
                    text += "\n"
                    write(into: &text, indent: indent + 2)
                }
            }
        }
    }

    private static var null: Block { .scalar("null") }

    /// A string scalar: plain when YAML reads it back as this string, else single-quoted.
    private static func string(_ text: String) -> Block {
        let plain =
            !text.isEmpty && text.allSatisfy { $0.isLetter || $0.isNumber || "_-./@".contains($0) } && text.first != "-"
            && text.first != "." && text.first != "@" && Resolver.default.resolveTag(of: Node.scalar(.init(text))) == .str
        return .scalar(plain ? text : quoted(text))
    }

    private static func quoted(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''").replacingOccurrences(of: "\n", with: "\n\n") + "'"
    }

    private static func uuid(_ id: UUID) -> Block { .scalar("!uuid '" + id.uuidString.lowercased() + "'") }

    private static func time(_ nanoseconds: Int64) -> Block {
        .scalar(
            "!butler_time/tai/iso '" + AstroTime(taiNanoseconds: nanoseconds).isot(scale: .tai).replacingOccurrences(of: "T", with: " ")
                + "'")
    }

    private static func timespanBlock(_ timespan: Timespan) -> Block {
        .mapping(
            [
                ("begin", timespan.begin.map { time($0.taiNanoseconds) } ?? null),
                ("end", timespan.end.map { time($0.taiNanoseconds) } ?? null),
            ],
            tag: "!lsst.daf.butler.Timespan")
    }

    private static func value(_ value: JSONValue) -> Block {
        switch value {
        case .null: return null
        case .bool(let flag): return .scalar(flag ? "true" : "false")
        case .int(let number): return .scalar(String(number))
        case .double(let number): return .scalar(floatText(number))
        case .string(let text): return string(text)
        case .array(let items): return .sequence(items.map(Self.value))
        case .object(let fields): return .mapping(fields.sorted { $0.key < $1.key }.map { ($0.key, Self.value($0.value)) })
        }
    }

    /// A float as YAML 1.1 (PyYAML) reads one: with a decimal point even in exponent form.
    private static func floatText(_ number: Double) -> String {
        if number.isNaN { return ".nan" }
        if number.isInfinite { return number > 0 ? ".inf" : "-.inf" }
        var text = "\(number)"
        if !text.contains(".") {
            if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) { text.insert(contentsOf: ".0", at: e) } else { text += ".0" }
        }
        if let e = text.firstIndex(of: "e"), text[text.index(after: e)] != "-", text[text.index(after: e)] != "+" {
            text.insert("+", at: text.index(after: e))
        }
        return text
    }

    private static func dataIdBlock(_ dataId: DataId) -> Block {
        .mapping(
            dataId.sorted { $0.key < $1.key }.map { key, value in
                switch value {
                case .int(let number): (key, Block.scalar(String(number)))
                case .string(let text): (key, string(text))
                }
            })
    }

    /// A record with daf_butler's field names: its timespan as two times, its region tagged.
    private static func recordBlock(_ record: [String: JSONValue]) throws -> Block {
        var pairs: [(String, Block)] = []
        for (key, field) in record.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "timespan_begin", "timespan_end":
                let name = key == "timespan_begin" ? "datetime_begin" : "datetime_end"
                guard case .int(let nanoseconds) = field,
                    nanoseconds != (key == "timespan_begin" ? Timespan.minNanoseconds : Timespan.maxNanoseconds)
                else {
                    pairs.append((name, null))
                    continue
                }
                pairs.append((name, time(nanoseconds)))
            case "region":
                guard case .string(let text) = field else {
                    pairs.append((key, null))
                    continue
                }
                let region = try Registry.parseRegion(text)
                pairs.append((key, .mapping([("encoded", .scalar(hex(region.encoded)))], tag: "!<\(sphgeomClass(region))>")))
            default:
                pairs.append((key, value(field)))
            }
        }
        return .mapping(pairs)
    }

    private static func sphgeomClass(_ region: Region) -> String {
        switch region {
        case .circle: "lsst.sphgeom.Circle"
        case .box: "lsst.sphgeom.Box"
        case .polygon: "lsst.sphgeom.ConvexPolygon"
        case .union: "lsst.sphgeom.UnionRegion"
        case .intersection: "lsst.sphgeom.IntersectionRegion"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }

    // MARK: Reading

    /// Reads daf_butler's YAML export format.
    /// - Throws: ``ButlerError/Code/invalidParameter`` naming `source` and the line of what is
    ///   wrong (a newer major or minor version is refused, as daf_butler refuses it).
    public static func read(_ text: String, source: String) throws -> RepositoryExport {
        let root: Node
        do {
            guard let composed = try Yams.compose(yaml: text) else { throw Failure(source, nil, "the file is empty") }
            root = composed
        } catch let failure as Failure {
            throw failure.error
        } catch {
            throw ButlerError(.invalidParameter, "\(source) is not YAML: \(error)", cause: error)
        }
        do { return try read(root, source: source) } catch let failure as Failure { throw failure.error }
    }

    /// A problem at a node, turned into a ``ButlerError`` naming the file and line.
    private struct Failure: Error {
        let error: ButlerError
        init(_ source: String, _ node: Node?, _ message: String) {
            let line = node?.mark.map { " line \($0.line)" } ?? ""
            error = ButlerError(.invalidParameter, "\(source)\(line): \(message)")
        }
    }

    private static func read(_ root: Node, source: String) throws -> RepositoryExport {
        func fail(_ node: Node?, _ message: String) -> Failure { Failure(source, node, message) }
        guard let top = root.mapping else { throw fail(root, "an export file is a mapping with version and data") }
        guard let versionText = top["version"]?.string else { throw fail(root, "no version") }
        let parts = versionText.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 3, parts[0] == version.major, parts[1] <= version.minor else {
            throw fail(
                top["version"],
                "export format \(versionText) cannot be read (this Butler reads \(version.major).0.x up to \(version.major).\(version.minor).\(version.patch))"
            )
        }
        var export = RepositoryExport(
            universeNamespace: top["universe_namespace"]?.string ?? "daf_butler", universeVersion: top["universe_version"]?.int ?? 0)
        guard let items = top["data"]?.sequence else { throw fail(root, "no data list") }
        var types: [String: RepositoryExport.DatasetTypeEntry] = [:]
        for item in items {
            guard let fields = item.mapping, let kind = fields["type"]?.string else { throw fail(item, "an item without a type") }
            func required(_ key: String) throws -> Node {
                guard let node = fields[key] else { throw fail(item, "a \(kind) item without \(key)") }
                return node
            }
            func text(_ key: String) throws -> String {
                let node = try required(key)
                guard let value = node.string, node.tag.description != Tag.Name.null.rawValue else {
                    throw fail(node, "\(key) is not a string")
                }
                return value
            }
            switch kind {
            case "dimension":
                let element = try text("element")
                guard let records = try required("records").sequence else { throw fail(item, "records is not a list") }
                export.dimensions.append(
                    .init(element: element, records: try records.map { try recordFields($0, element: element, fail: fail) }))
            case "collection":
                let name = try text("name")
                guard let type = CollectionType(rawValue: try text("collection_type")) else {
                    throw fail(
                        fields["collection_type"], "collection \(name) has an unknown type \(fields["collection_type"]?.string ?? "")")
                }
                let children = try fields["children"]?.sequence?.map { child in
                    guard let name = child.string else { throw fail(child, "a child collection that is not a name") }
                    return name
                }
                export.collections.append(.init(name: name, type: type, doc: fields["doc"]?.string, children: children ?? []))
            case "dataset_type":
                let name = try text("name")
                guard let dimensions = try required("dimensions").sequence?.compactMap(\.string) else {
                    throw fail(item, "dataset type \(name) has no dimension list")
                }
                types[name] = .init(
                    name: name, dimensions: dimensions, storageClass: try text("storage_class"),
                    isCalibration: fields["is_calibration"]?.bool ?? false)
            case "dataset":
                let name = try text("dataset_type")
                guard let type = types[name] else { throw fail(item, "datasets of \(name) come before its dataset_type item") }
                guard let records = try required("records").sequence else { throw fail(item, "records is not a list") }
                let files = try records.map { record -> RepositoryExport.DatasetFile in
                    guard let entry = record.mapping, let path = entry["path"]?.string else {
                        throw fail(record, "a \(name) dataset without a path")
                    }
                    let ids = try (entry["dataset_id"]?.sequence ?? []).map { node -> UUID in
                        guard let text = node.string, let id = UUID(uuidString: text) else {
                            throw fail(node, "dataset ID '\(node.string ?? "")' of \(path) is not a UUID")
                        }
                        return id
                    }
                    let dataIds = try (entry["data_id"]?.sequence ?? []).map { try dataIdFields($0, fail: fail) }
                    guard !ids.isEmpty, ids.count == dataIds.count else {
                        throw fail(record, "\(path): \(ids.count) dataset IDs and \(dataIds.count) data IDs")
                    }
                    return .init(ids: ids, dataIds: dataIds, path: path, formatter: entry["formatter"]?.string)
                }
                export.datasets.append(.init(datasetType: type, run: try text("run"), files: files))
            case "associations":
                let collection = try text("collection")
                if let ranges = fields["validity_ranges"]?.sequence {
                    for range in ranges {
                        guard let timespanNode = range.mapping?["timespan"] else {
                            throw fail(range, "a validity range without a timespan")
                        }
                        export.associations.append(
                            .init(
                                collection: collection, timespan: try timespan(timespanNode, fail: fail),
                                ids: try ids(range.mapping?["dataset_ids"], fail: fail)))
                    }
                } else {
                    export.associations.append(
                        .init(collection: collection, timespan: nil, ids: try ids(fields["dataset_ids"], fail: fail)))
                }
            default:
                throw fail(item, "unknown item type '\(kind)'")
            }
        }
        return export
    }

    private static func ids(_ node: Node?, fail: (Node?, String) -> Failure) throws -> [UUID] {
        guard let list = node?.sequence else { throw fail(node, "no dataset_ids list") }
        return try list.map { item in
            guard let text = item.string, let id = UUID(uuidString: text) else {
                throw fail(item, "'\(item.string ?? "")' is not a dataset ID")
            }
            return id
        }
    }

    private static func dataIdFields(_ node: Node, fail: (Node?, String) -> Failure) throws -> DataId {
        guard let mapping = node.mapping else { throw fail(node, "a data ID that is not a mapping") }
        var dataId: DataId = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, "a data ID key that is not a name") }
            if let number = value.int {
                dataId[name] = .int(Int64(number))
            } else if let text = value.string {
                dataId[name] = .string(text)
            } else {
                throw fail(value, "data ID value of \(name) is neither an integer nor a string")
            }
        }
        return dataId
    }

    /// A record's fields by this Butler's names: times to TAI nanoseconds, regions to base64.
    private static func recordFields(_ node: Node, element: String, fail: (Node?, String) -> Failure) throws -> [String: JSONValue] {
        guard let mapping = node.mapping else { throw fail(node, "a \(element) record that is not a mapping") }
        var fields: [String: JSONValue] = [:]
        for (key, value) in mapping {
            guard let name = key.string else { throw fail(key, "a \(element) field name that is not a string") }
            switch name {
            case "datetime_begin", "datetime_end", "timespan_begin", "timespan_end":
                let ours = name.hasSuffix("begin") ? "timespan_begin" : "timespan_end"
                fields[ours] = try timeValue(value, fail: fail).map { .int($0.taiNanoseconds) } ?? .null
            case "region" where value.tag.description.hasPrefix("lsst.sphgeom."):
                guard let encoded = value.mapping?["encoded"]?.string, let bytes = bytes(hex: encoded) else {
                    throw fail(value, "\(element) region is not an encoded sphgeom region")
                }
                do { fields[name] = .string(try Region(encoded: bytes).base64) } catch {
                    throw fail(value, "\(element) region cannot be decoded: \(error)")
                }
            default:
                fields[name] = try jsonValue(value, fail: fail)
            }
        }
        return fields
    }

    private static func jsonValue(_ node: Node, fail: (Node?, String) -> Failure) throws -> JSONValue {
        switch node {
        case .scalar(let scalar):
            switch node.tag.description {
            case Tag.Name.null.rawValue: return .null
            case Tag.Name.bool.rawValue: return .bool(node.bool ?? false)
            case Tag.Name.int.rawValue: return node.int.map { .int(Int64($0)) } ?? .string(scalar.string)
            case Tag.Name.float.rawValue: return node.float.map { .double($0) } ?? .string(scalar.string)
            default: return .string(scalar.string)
            }
        case .sequence(let items): return .array(try items.map { try jsonValue($0, fail: fail) })
        case .mapping(let pairs):
            var object: [String: JSONValue] = [:]
            for (key, value) in pairs { object[key.string ?? ""] = try jsonValue(value, fail: fail) }
            return .object(object)
        case .alias: throw fail(node, "YAML aliases are not read")
        }
    }

    private static func timeValue(_ node: Node, fail: (Node?, String) -> Failure) throws -> AstroTime? {
        if node.tag.description == Tag.Name.null.rawValue || node.string == "null" || node.string == "~" { return nil }
        guard let text = node.string else { throw fail(node, "a time that is not a string") }
        // `!butler_time/<scale>/<format>`.
        let parts = node.tag.description.split(separator: "/")
        let scale = parts.count == 3 ? TimeScale(rawValue: String(parts[1])) : .tai
        let format = parts.count == 3 ? TimeFormat(rawValue: String(parts[2])) : nil
        do { return try AstroTime(value: text, format: format ?? .iso, scale: scale ?? .tai) } catch {
            throw fail(node, "'\(text)' is not a time: \(error)")
        }
    }

    private static func timespan(_ node: Node, fail: (Node?, String) -> Failure) throws -> Timespan {
        guard let mapping = node.mapping else { throw fail(node, "a timespan that is not a mapping of begin and end") }
        let begin = try mapping["begin"].map { try timeValue($0, fail: fail) } ?? nil
        let end = try mapping["end"].map { try timeValue($0, fail: fail) } ?? nil
        do { return try Timespan(begin: begin, end: end) } catch { throw fail(node, "\(error)") }
    }

    private static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}
