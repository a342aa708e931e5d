import Composites
import Foundation
import Testing

@Suite("Storage classes and JSON values")
struct StorageClassTests {
    @Test("built-in storage classes use daf_butler's names")
    func builtIns() throws {
        let registry = StorageClassRegistry()
        #expect(
            Set(registry.names).isSuperset(of: [
                "Bytes", "Exposure", "ExposureF", "StructuredDataDict", "StructuredDataList", "Wcs", "Psf", "PhotoCalib", "VisitInfo",
            ]))
        let exposure = try registry.storageClass(named: "ExposureF")
        #expect(exposure.components["wcs"] == "Wcs" && exposure.derivedComponents["bbox"] == "Box2I")
        for component in exposure.allComponents {
            #expect(registry.names.contains(exposure.componentStorageClass(component)!), "\(component)")
        }
        #expect(try registry.storageClass(named: "ExposureF").parameters == ["bbox", "origin"])
        #expect(try registry.storageClass(named: "StructuredDataDict").accepts(["a": JSONValue.int(1)]))
        #expect(try !registry.storageClass(named: "Bytes").accepts("text"))
        let error = #expect(throws: StorageClassError.self) { try registry.storageClass(named: "NoSuchClass") }
        #expect("\(error!)".contains("unknown storage class 'NoSuchClass'"))
    }

    @Test("registering a class under a taken name with another type is refused")
    func conflicts() throws {
        let registry = StorageClassRegistry()
        try registry.register(StorageClass(name: "Counts", type: [Int].self))
        try registry.register(StorageClass(name: "Counts", type: [Int].self, doc: "again"))
        #expect(throws: StorageClassError.self) { try registry.register(StorageClass(name: "Counts", type: [String].self)) }
    }

    @Test("JSON values keep integers apart from doubles")
    func jsonValues() throws {
        let value: JSONValue = ["visit": 903334, "seeing": 0.7, "ok": true, "tags": ["a", nil]]
        let data = try JSONEncoder().encode(value)
        let decoded = try JSONDecoder().decode(JSONValue.self, from: data)
        #expect(decoded == value)
        #expect(decoded.objectValue?["visit"] == .int(903334))
        #expect(decoded.objectValue?["seeing"]?.doubleValue == 0.7)
        #expect(JSONValue.double(3.0).intValue == 3)
        #expect(JSONValue.string("x").intValue == nil)
    }
}
