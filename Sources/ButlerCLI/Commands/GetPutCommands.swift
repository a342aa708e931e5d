import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation

struct Get: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read a dataset (or one component) and write it to a file, or print a small value as JSON.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type (or parent.component); not with --ref-file.") var datasetType: String?
    @Option(
        name: .customLong("ref-file"),
        help:
            "Read the dataset named in this JSON file: a serialized dataset reference (daf_butler's to_json, Butler.encodeRefs) or a row of query-datasets --json."
    )
    var refFile: String?
    @OptionGroup var collections: CollectionOptions
    @Option(name: .customLong("data-id"), parsing: .singleValue, help: "A dimension value KEY=VALUE (repeatable, comma-separated).")
    var dataIds: [String] = []
    @Option(name: .long, help: "A component (wcs, psf, photoCalib, visitInfo, bbox, image…).") var component: String?
    @Option(name: .long, help: "Cutout box x0,y0,x1,y1 (inclusive corners).") var bbox: String?
    @Option(name: .long, help: "Coordinates of --bbox: parent (default) or local.") var origin: String?
    @Option(name: .shortAndLong, help: "Write to this file (.fits, .h5, .json, .png preview, or raw bytes for anything else).") var output:
        String?
    @Flag(name: .long, help: "Check the artifact against its recorded checksum before reading it.") var verify = false
    @Option(name: .long, help: "For -o FILE.png: zscale (default), asinh or linear.") var stretch = "zscale"

    func run() async throws {
        guard let scale = ImageStretch(rawValue: stretch) else {
            throw ValidationError("--stretch \(stretch): use one of \(ImageStretch.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var parameters: ReadParameters = [:]
        if let bbox {
            let corners = bbox.split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            guard corners.count == 4 else { throw ValidationError("--bbox must be x0,y0,x1,y1") }
            parameters["bbox"] = .array(corners.map(JSONValue.int))
        }
        if let origin {
            guard ImageOrigin(rawValue: origin) != nil else { throw ValidationError("--origin must be parent or local") }
            parameters["origin"] = .string(origin)
        }
        guard (datasetType == nil) != (refFile == nil) else {
            throw ValidationError("name the dataset by a dataset type and --data-id, or by --ref-file, not both")
        }
        let (name, value) = try await withButler(repo, writeable: false, verifyChecksums: verify) { butler -> (String, any Sendable) in
            if let refFile {
                let ref = try await readRef(refFile, butler)
                let name = component.map { "\(ref.datasetType.name).\($0)" } ?? ref.datasetType.name
                return (name, try await butler.get(ref, component: component, parameters: parameters))
            }
            let name = component.map { "\(datasetType!).\($0)" } ?? datasetType!
            let value = try await butler.get(
                name, dataId: try parseDataId(dataIds), collections: collections.list.isEmpty ? nil : collections.list,
                parameters: parameters)
            return (name, value)
        }
        guard let output else {
            guard let encodable = value as? any Encodable, !(value is Data) else {
                throw CommandFailure("\(name) is a \(type(of: value)); write it to a file with -o FILE (.fits, .h5)")
            }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(encodable), as: UTF8.self))
            return
        }
        try ValueFile.write(value, to: output, stretch: scale)
        print("Wrote \(name) to \(output)")
    }
}

/// The one dataset a `--ref-file` names: a serialized reference, or a row of
/// `query-datasets --json` (found by its ID).
func readRef(_ path: String, _ butler: Butler) async throws -> DatasetRef {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
        throw CommandFailure("cannot read the reference file \(path): \(error.localizedDescription)")
    }
    let refs: [DatasetRef]
    do { refs = try butler.decodeRefs(from: data) } catch let decoding {
        // query-datasets --json: rows with the dataset's ID among their columns.
        guard let rows = try? JSONDecoder().decode(JSONValue.self, from: data), let ids = queryRowIds(rows) else {
            throw CommandFailure("\(path): \(decoding)")
        }
        var found: [DatasetRef] = []
        for id in ids {
            guard let ref = try await butler.dataset(id: id) else {
                throw CommandFailure("\(path): dataset \(id.uuidString.lowercased()) is not in \(butler.root.path)")
            }
            found.append(ref)
        }
        refs = found
    }
    guard refs.count == 1 else { throw CommandFailure("\(path) names \(refs.count) datasets; get reads one") }
    return refs[0]
}

/// The dataset IDs of `query-datasets --json` rows, or nil when `value` is not such rows.
private func queryRowIds(_ value: JSONValue) -> [UUID]? {
    let rows: [JSONValue]
    switch value {
    case .array(let array): rows = array
    case .object: rows = [value]
    default: return nil
    }
    var ids: [UUID] = []
    for row in rows {
        guard case .object(let fields) = row, let text = fields["id"]?.stringValue, let id = UUID(uuidString: text) else { return nil }
        ids.append(id)
    }
    return ids
}

struct Put: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Store a file of a known format (.fits, .h5, .json, .yaml, or bytes) as a new dataset.")

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The dataset type (registered).") var datasetType: String
    @Argument(help: "The file to read.") var file: String
    @Option(name: .customLong("data-id"), parsing: .singleValue, help: "A dimension value KEY=VALUE (repeatable, comma-separated).")
    var dataIds: [String] = []
    @Option(name: .long, help: "The RUN collection to put into.") var run: String
    @OptionGroup var existing: ExistingDatasetOptions

    func run() async throws {
        let ref = try await withButler(repo) { butler in
            let type = try await butler.datasetType(datasetType)
            let storageClass = try butler.storageClasses.storageClass(named: type.storageClassName)
            let formatter = try butler.formatters.formatter(forExtension: URL(fileURLWithPath: file).pathExtension)
            let value = try formatter.read(from: URL(fileURLWithPath: file), storageClass: storageClass, parameters: [:])
            return try await butler.put(
                value, datasetType, dataId: try parseDataId(dataIds), run: run, ifExists: try existing.policy(),
                extendRun: existing.extendRun)
        }
        print("Put \(ref)")
    }
}

/// Writes in-memory values to files chosen by extension.
enum ValueFile {
    static func write(_ value: any Sendable, to path: String, stretch: ImageStretch = .zscale) throws {
        if FileManager.default.fileExists(atPath: path) { throw CommandFailure("\(path) exists; refusing to overwrite") }
        let url = URL(fileURLWithPath: path)
        switch url.pathExtension.lowercased() {
        case "fits", "fit", "h5", "hdf5":
            let hdf5 = url.pathExtension.lowercased().hasPrefix("h")
            func write<E: AnyExposure>(_ value: E) throws {
                if hdf5 { try ExposureHDF5.write(value.exposure, to: path) } else { try ExposureFITS.write(value.exposure, to: path) }
            }
            guard let exposure = value as? any AnyExposure else {
                throw CommandFailure("a \(type(of: value)) cannot be written as \(url.pathExtension); use .json")
            }
            try write(exposure)
        case "png":
            // A preview of the image plane, stretched to 8-bit gray.
            func preview<E: AnyExposure>(_ exposure: E) -> GrayscalePNG { stretch.preview(exposure.exposure.image) }
            func preview<I: AnyImage>(_ image: I) -> GrayscalePNG { stretch.preview(image.image) }
            let png: GrayscalePNG
            if let exposure = value as? any AnyExposure {
                png = preview(exposure)
            } else if let image = value as? any AnyImage {
                png = preview(image)
            } else {
                throw CommandFailure("a \(type(of: value)) has no image to preview as PNG; use .fits, .h5 or .json")
            }
            try png.encoded().write(to: url)
        case "json":
            guard let encodable = value as? any Encodable else { throw CommandFailure("a \(type(of: value)) cannot be written as JSON") }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(encodable).write(to: url)
        default:
            guard let bytes = value as? Data else {
                throw CommandFailure("a \(type(of: value)) needs a .fits, .h5 or .json file name")
            }
            try bytes.write(to: url)
        }
    }
}
