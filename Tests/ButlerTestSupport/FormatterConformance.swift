package import Composites
package import Formatters
import Foundation
import Testing

/// One formatter with a value it writes and the storage class it reads the value as.
package struct FormatterCase: Sendable, CustomStringConvertible {
    /// The name shown in test results.
    package let name: String
    /// The formatter, configured as a repository would configure it.
    package let formatter: any FileFormatter
    /// The storage class the value is written and read as.
    package let storageClass: StorageClass
    /// A value of the storage class's type.
    package let value: any Sendable
    /// Whether `lhs` and `rhs` hold the same value (the value's own `==`).
    package let equal: @Sendable (any Sendable, any Sendable) -> Bool
    /// Whether a truncated file is detected (opaque bytes are never "corrupt").
    package let detectsTruncation: Bool
    /// Read parameters the formatter accepts for this value, with the value they give.
    package let parameterRead: (parameters: ReadParameters, expected: any Sendable)?

    package var description: String { name }

    /// A case for an `Equatable` value.
    package static func of<T: Equatable & Sendable>(
        _ name: String, _ formatter: any FileFormatter, storageClass: String, value: T, detectsTruncation: Bool = true,
        parameterRead: (ReadParameters, T)? = nil
    ) -> FormatterCase {
        FormatterCase(
            name: name, formatter: formatter,
            storageClass: StorageClassRegistry.builtIn.first { $0.name == storageClass }!, value: value,
            equal: { ($0 as? T) == ($1 as? T) && $0 is T }, detectsTruncation: detectsTruncation,
            parameterRead: parameterRead.map { ($0.0, $0.1 as any Sendable) })
    }

    /// Every built-in formatter, with every write configuration that changes the bytes.
    package static var all: [FormatterCase] {
        let exposure = try! DatastoreConformance.calexp()
        let box = Box2I(x0: 8, y0: 9, x1: 20, y1: 15)
        let cutout = (["bbox": ImageParameters.value(box)] as ReadParameters, try! exposure.subimage(box))
        let tiled = try! FitsExposureFormatter().configured(with: ["compression": "gzip", "tile": [8, 8]])
        let rice = try! FitsExposureFormatter().configured(with: ["compression": "rice"])
        let deflated = try! HDF5ExposureFormatter().configured(with: ["chunk": [8, 8], "deflate": 4])
        let dict: [String: JSONValue] = ["seeing": 0.71, "stars": 1204, "filter": "HSC-I", "flags": [true, false]]
        return [
            .of("JSON", JSONFormatter(), storageClass: "StructuredDataDict", value: dict),
            // Half a YAML mapping is often a smaller, valid mapping: truncation is undetectable.
            .of("YAML", YAMLFormatter(), storageClass: "StructuredDataDict", value: dict, detectsTruncation: false),
            .of(
                "bytes", BytesFormatter(), storageClass: "Bytes", value: Data((0..<3000).map { UInt8(truncatingIfNeeded: $0 &* 13) }),
                detectsTruncation: false),
            .of("FITS exposure", FitsExposureFormatter(), storageClass: "ExposureF", value: exposure, parameterRead: cutout),
            .of("FITS exposure, GZIP tiles", tiled, storageClass: "ExposureF", value: exposure, parameterRead: cutout),
            .of("FITS exposure, RICE", rice, storageClass: "ExposureF", value: exposure, parameterRead: cutout),
            .of("HDF5 exposure, chunked, deflate", deflated, storageClass: "ExposureF", value: exposure, parameterRead: cutout),
            .of(
                "FITS image plane", FitsImageFormatter(), storageClass: "ImageF", value: exposure.image,
                parameterRead: (cutout.0, try! exposure.image.subimage(box))),
            .of("FITS mask plane", FitsImageFormatter(), storageClass: "Mask", value: exposure.mask),
        ]
    }
}

/// The formatter round-trip suite, written once: what every formatter must do with its files.
package struct FormatterConformance {
    let testCase: FormatterCase
    let directory: TemporaryDirectory

    /// The suite for one case, in a fresh directory.
    package init(_ testCase: FormatterCase) throws {
        self.testCase = testCase
        self.directory = try TemporaryDirectory(prefix: "formatter")
    }

    private func file(_ name: String) -> URL {
        directory.url.appendingPathComponent(name + testCase.formatter.defaultExtension)
    }

    /// Written, then read back equal; with parameters, the part they select.
    package func roundTrip() throws {
        let url = file("value")
        try testCase.formatter.write(testCase.value, storageClass: testCase.storageClass, to: url)
        let read = try testCase.formatter.read(from: url, storageClass: testCase.storageClass, parameters: [:])
        #expect(testCase.equal(read, testCase.value), "\(testCase)")
        if let (parameters, expected) = testCase.parameterRead {
            let part = try testCase.formatter.read(from: url, storageClass: testCase.storageClass, parameters: parameters)
            #expect(testCase.equal(part, expected), "\(testCase) with \(parameters)")
        }
    }

    /// Failures carry their kind and name the file: an unknown parameter, a missing file, a
    /// truncated one, a value of another type.
    package func failuresByKind() throws {
        let url = file("value")
        try testCase.formatter.write(testCase.value, storageClass: testCase.storageClass, to: url)
        func kind(_ body: () throws -> Void) -> FileErrorKind? {
            do { try body() } catch let error as any FileFormatError {
                #expect("\(error)".contains(directory.url.lastPathComponent), "\(testCase): \(error) names no file")
                return error.kind
            } catch {
                Issue.record("\(testCase): \(error) has no kind")
            }
            return nil
        }
        let unknown = kind { _ = try testCase.formatter.read(from: url, storageClass: testCase.storageClass, parameters: ["zoom": 2]) }
        #expect(unknown == .invalidRequest, "\(testCase)")
        let missing = kind {
            _ = try testCase.formatter.read(from: file("absent"), storageClass: testCase.storageClass, parameters: [:])
        }
        #expect(missing == .missingFile, "\(testCase)")
        if testCase.detectsTruncation {
            let bytes = try Data(contentsOf: url)
            let truncated = file("truncated")
            try bytes.prefix(bytes.count / 2).write(to: truncated)
            let corrupt = kind { _ = try testCase.formatter.read(from: truncated, storageClass: testCase.storageClass, parameters: [:]) }
            #expect(corrupt == .corruptFile, "\(testCase)")
        }
        let wrong = kind { try testCase.formatter.write(NotAFormatterValue(), storageClass: testCase.storageClass, to: file("wrong")) }
        #expect(wrong == .typeMismatch, "\(testCase)")
    }
}

/// A value no formatter writes.
private struct NotAFormatterValue: Sendable {}
