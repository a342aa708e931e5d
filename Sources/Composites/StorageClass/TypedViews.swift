/// A plain array view of an image: values in row-major order with their shape, for code that
/// wants numbers rather than image types (numpy's layout: `shape = [height, width]`).
public struct PixelArray<Element: PixelValue>: Sendable, Equatable {
    /// `[height, width]`.
    public let shape: [Int]
    /// Row-major values.
    public let values: [Element]
    /// Parent coordinates of `values[0]`.
    public let xy0: Point2I

    /// A view of `image`.
    public init(_ image: Image<Element>) {
        shape = [image.height, image.width]
        values = image.pixels
        xy0 = image.xy0
    }
}

/// A conversion a storage class declares from its in-memory type to another type, used by
/// `get(…, as:)` (daf_butler's storage class converters).
public struct TypeConverter: Sendable {
    /// The target type's identity.
    public let target: ObjectIdentifier
    /// The target type's name, for messages.
    public let targetName: String
    /// Performs the conversion.
    public let convert: @Sendable (any Sendable) throws -> any Sendable

    /// A converter from `Source` to `Target`.
    public init<Source, Target: Sendable>(
        from source: Source.Type, to target: Target.Type, _ convert: @escaping @Sendable (Source) throws -> Target
    ) {
        self.target = ObjectIdentifier(Target.self)
        self.targetName = "\(Target.self)"
        self.convert = { value in
            guard let typed = value as? Source else {
                throw StorageClassError.wrongType("converter to \(Target.self)", expected: "\(Source.self)", got: "\(type(of: value))")
            }
            return try convert(typed)
        }
    }
}
