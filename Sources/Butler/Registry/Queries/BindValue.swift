import Composites

/// A value bound to a `:name` (or a bare name) in a where-expression: a number or a string, or
/// a list of them for `IN (:name)`.
public enum BindValue: Sendable, Hashable, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral,
    ExpressibleByArrayLiteral
{
    /// An integer.
    case int(Int64)
    /// A floating-point number.
    case double(Double)
    /// A string.
    case string(String)
    /// A list, for `IN (:name)`.
    case list([BindValue])
    /// A sky point or region, for `OVERLAPS :name`.
    case sky(SkyConstraint)

    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: BindValue...) { self = .list(elements) }

    /// A data-ID value as a bind value.
    public init(_ value: DataIdValue) {
        switch value {
        case .int(let int): self = .int(int)
        case .string(let text): self = .string(text)
        }
    }

    /// The value as a literal, or nil for a list.
    var scalar: JSONValue? {
        switch self {
        case .int(let int): return .int(int)
        case .double(let double): return .double(double)
        case .string(let text): return .string(text)
        case .list, .sky: return nil
        }
    }
}
