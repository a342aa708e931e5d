/// What a dataset *is* in memory: daf_butler's storage class.
///
/// A storage class names the Swift type a plain `get` returns, the components a composite is
/// made of, the derived components computed on read, and the read parameters it accepts.
/// Formatters use ``decodeDefault`` to turn a decoded document into that type without knowing
/// it at compile time.
public struct StorageClass: Sendable, CustomStringConvertible {
    /// The name used in dataset type definitions, e.g. `StructuredDataDict`.
    public let name: String
    /// The Swift type a `get` without `as:` returns.
    public let inMemoryType: any Sendable.Type
    /// Stored components: component name → storage class name.
    public let components: [String: String]
    /// Derived (computed, not stored) components: component name → storage class name.
    public let derivedComponents: [String: String]
    /// Names of the read parameters this storage class accepts (e.g. `bbox`).
    public let parameters: Set<String>
    /// A sentence for people listing storage classes.
    public let doc: String
    /// Decodes ``inMemoryType`` from any `Decoder`, when that type is `Decodable`.
    ///
    /// Why a closure: `any Decodable` cannot be cast back to `any Sendable` at run time, so
    /// the generic initialiser captures the concrete type while it is still known.
    public let decodeDefault: (@Sendable (any Decoder) throws -> any Sendable)?
    /// Takes composites apart and puts them together; nil for classes without components.
    public let assembler: (any CompositeAssembler)?
    /// Conversions to other in-memory types for `get(…, as:)`.
    public let converters: [TypeConverter]
    /// The storage class this one was defined from in configuration (`like:`), if any.
    public let basedOn: String?

    /// A storage class whose in-memory type can be decoded from structured documents.
    public init<T: Sendable & Decodable>(
        name: String, type: T.Type, components: [String: String] = [:],
        derivedComponents: [String: String] = [:], parameters: Set<String> = [], doc: String = "",
        assembler: (any CompositeAssembler)? = nil, converters: [TypeConverter] = []
    ) {
        self.name = name
        self.inMemoryType = type
        self.components = components
        self.derivedComponents = derivedComponents
        self.parameters = parameters
        self.doc = doc
        self.decodeDefault = { decoder in try T(from: decoder) }
        self.assembler = assembler
        self.converters = converters
        self.basedOn = nil
    }

    /// A storage class whose in-memory type is not `Decodable` (images, opaque handles).
    public init<T: Sendable>(
        name: String, opaqueType type: T.Type, components: [String: String] = [:],
        derivedComponents: [String: String] = [:], parameters: Set<String> = [], doc: String = "",
        assembler: (any CompositeAssembler)? = nil, converters: [TypeConverter] = []
    ) {
        self.name = name
        self.inMemoryType = type
        self.components = components
        self.derivedComponents = derivedComponents
        self.parameters = parameters
        self.doc = doc
        self.decodeDefault = nil
        self.assembler = assembler
        self.converters = converters
        self.basedOn = nil
    }

    private init(copying base: StorageClass, name: String, doc: String?) {
        self.name = name
        self.inMemoryType = base.inMemoryType
        self.components = base.components
        self.derivedComponents = base.derivedComponents
        self.parameters = base.parameters
        self.doc = doc ?? base.doc
        self.decodeDefault = base.decodeDefault
        self.assembler = base.assembler
        self.converters = base.converters
        self.basedOn = base.basedOn ?? base.name
    }

    /// A storage class with another name and the same type, components, parameters,
    /// assembler and converters (a storage class defined in configuration with `like:`).
    public func renamed(_ name: String, doc: String? = nil) -> StorageClass {
        StorageClass(copying: self, name: name, doc: doc)
    }

    /// The converter to `type`, if declared.
    public func converter<T>(to type: T.Type) -> TypeConverter? {
        converters.first { $0.target == ObjectIdentifier(T.self) }
    }

    /// The storage class name of a stored or derived component, or nil.
    public func componentStorageClass(_ component: String) -> String? {
        components[component] ?? derivedComponents[component]
    }

    /// Every stored and derived component name, sorted.
    public var allComponents: [String] { (Array(components.keys) + Array(derivedComponents.keys)).sorted() }

    /// True when the storage class has stored components (it is a composite).
    public var isComposite: Bool { !components.isEmpty }

    /// The storage class name and its Swift type.
    public var description: String { "\(name) (\(inMemoryType))" }

    /// Whether `value` can be stored under this storage class as it is.
    public func accepts(_ value: Any) -> Bool {
        func matches<T>(_ type: T.Type) -> Bool { value is T }
        return _openExistential(inMemoryType, do: matches)
    }
}
