/// How a composite storage class is taken apart and put together: daf_butler's
/// `StorageClassDelegate`. The Butler calls it to read one component out of an in-memory
/// value, to replace a stored component with a standalone dataset, and (for disassembled
/// layouts) to split a value into its stored components and assemble it back.
public protocol CompositeAssembler: Sendable {
    /// A stored or derived component of `composite`.
    func component(_ name: String, of composite: any Sendable) throws -> any Sendable
    /// `composite` with stored component `name` replaced by `value`.
    func replacing(_ name: String, with value: any Sendable, in composite: any Sendable) throws -> any Sendable
    /// The stored components of `composite`, by name (absent optional components left out).
    func disassemble(_ composite: any Sendable) throws -> [String: any Sendable]
    /// A composite built from its stored components.
    func assemble(_ components: [String: any Sendable]) throws -> any Sendable
    /// The stored components a derived component is computed from (`bbox` → `[image]`,
    /// `maskedImage` → `[image, mask, variance]`), so that a derived read of a composite stored
    /// one artifact per component touches only those parts — with one source, only what that
    /// part's formatter needs (a header). Empty when the whole composite is needed.
    func sourceComponents(forDerived name: String) -> [String]
}
