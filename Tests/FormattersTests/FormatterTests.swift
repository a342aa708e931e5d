import Composites
import Formatters
import Foundation
import Testing

struct Metric: Codable, Equatable, Sendable {
    var name: String
    var value: Double
}

@Suite("JSON, YAML and bytes formatters")
struct FormatterTests {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("formatters-\(UUID().uuidString)")
    let dict = StorageClassRegistry.builtIn.first { $0.name == "StructuredDataDict" }!
    let bytes = StorageClassRegistry.builtIn.first { $0.name == "Bytes" }!

    init() throws { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }

    @Test("JSON and YAML round-trip Codable values and default types", arguments: [JSONFormatter() as any FileFormatter, YAMLFormatter()])
    func structured(formatter: any FileFormatter) throws {
        let url = directory.appendingPathComponent("m" + formatter.defaultExtension)
        try formatter.write(Metric(name: "psf", value: 1.25), storageClass: dict, to: url)
        #expect(try formatter.read(Metric.self, from: url, storageClass: dict, parameters: [:]) == Metric(name: "psf", value: 1.25))
        let untyped = try formatter.read(from: url, storageClass: dict, parameters: [:]) as? [String: JSONValue]
        #expect(untyped == ["name": "psf", "value": 1.25])
        #expect(throws: FormatterError.self) { try formatter.read(from: url, storageClass: dict, parameters: ["bbox": 1]) }
    }

    @Test("JSON output is deterministic (sorted keys)")
    func deterministic() throws {
        let url = directory.appendingPathComponent("d.json")
        try JSONFormatter().write(["b": JSONValue.int(1), "a": 2], storageClass: dict, to: url)
        #expect(try String(contentsOf: url, encoding: .utf8) == #"{"a":2,"b":1}"#)
    }

    @Test("corrupt and missing files give errors naming the file")
    func corrupt() throws {
        let url = directory.appendingPathComponent("bad.json")
        try Data("{not json".utf8).write(to: url)
        let error = #expect(throws: FormatterError.self) { try JSONFormatter().read(from: url, storageClass: dict, parameters: [:]) }
        #expect(error?.path == url.path)
        let missing = directory.appendingPathComponent("missing.yaml")
        let missingError = #expect(throws: FormatterError.self) {
            try YAMLFormatter().read(from: missing, storageClass: dict, parameters: [:])
        }
        #expect("\(missingError!)".contains("missing.yaml"))
        #expect(throws: FormatterError.self) { try JSONFormatter().write(NotEncodable(), storageClass: dict, to: url) }
    }

    @Test("bytes are written and read verbatim")
    func verbatim() throws {
        let url = directory.appendingPathComponent("plot.png")
        let payload = Data((0..<1000).map { UInt8($0 % 251) })
        try BytesFormatter(defaultExtension: ".png").write(payload, storageClass: bytes, to: url)
        #expect(try Data(contentsOf: url) == payload)
        #expect(try BytesFormatter().read([UInt8].self, from: url, storageClass: bytes, parameters: [:]) == [UInt8](payload))
    }

    @Test("formatters are found by name and by extension")
    func lookup() throws {
        let registry = FormatterRegistry()
        #expect(try registry.formatter(forExtension: "yml").name == "YAMLFormatter")
        #expect(try registry.formatter(forExtension: ".PNG").name == "BytesFormatter")
        #expect(throws: FormatterLookupError.self) { try registry.formatter(forExtension: "xyz") }
        #expect(throws: FormatterLookupError.self) { try registry.formatter(named: "FitsFormatter") }
    }
}

struct NotEncodable: Sendable {}
