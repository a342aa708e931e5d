import Formatters
public import Foundation
public import Sky

/// The type of a dimension key or record field.
public enum FieldType: String, Sendable, Codable {
    /// A 64-bit integer.
    case int
    /// A double-precision number.
    case float
    /// Text (with an advisory maximum length).
    case string
    /// A boolean.
    case bool
    /// A sky region, stored as its text encoding.
    case region
}

/// One key or metadata field of a dimension element.
public struct DimensionField: Sendable, Hashable, Codable {
    /// Column and record-field name.
    public let name: String
    /// Value type.
    public let type: FieldType
    /// Advisory maximum length for strings.
    public let length: Int?
    /// What the field means.
    public let doc: String?
}

/// A table of the dimension universe: a dimension (it has keys and can appear in data IDs) or
/// an element that only relates dimensions (e.g. `visit_detector_region`).
public struct DimensionElement: Sendable, Hashable {
    /// The element's name.
    public let name: String
    /// What the element is.
    public let doc: String
    /// Elements whose keys identify this one (direct, not transitive).
    public let requires: [String]
    /// Dimensions whose values a record of this element determines (direct).
    public let implies: [String]
    /// Primary key first, then alternate unique keys; empty for non-dimension elements.
    public let keys: [DimensionField]
    /// Further record fields.
    public let metadata: [DimensionField]
    /// Whether records have `timespan_begin`/`timespan_end` (TAI nanoseconds).
    public let hasTimespan: Bool
    /// Whether this is a sky pixelization level (no records, integer pixel IDs).
    public let isSkypix: Bool
    /// For a sky pixelization level: its system (`htm`, `healpix`) and level.
    public internal(set) var skypixLevel: (system: String, level: Int)? {
        get { skypixSystem.map { ($0, skypixDepth) } }
        set {
            skypixSystem = newValue?.system
            skypixDepth = newValue?.level ?? 0
        }
    }
    var skypixSystem: String? = nil
    var skypixDepth = 0

    /// True when the element can appear in a data ID.
    public var isDimension: Bool { !keys.isEmpty }
    /// The primary key field of a dimension.
    public var primaryKey: DimensionField? { keys.first }
}

/// The set of dimensions and elements a repository understands, loaded from a config file.
///
/// The default follows daf_butler's universe (namespace `daf_butler`, version 8). Elements keep
/// their definition order, which is also the order of dimensions in data IDs and tables.
public struct DimensionUniverse: Sendable {
    /// The universe's namespace (`daf_butler` for the default).
    public let namespace: String
    /// The universe's version.
    public let version: Int
    /// Every element by name.
    public let elements: [String: DimensionElement]
    /// Element names in definition order (skypix levels last).
    public let order: [String]
    /// Alternative names accepted in data IDs (`ccdnum` → `detector`).
    public private(set) var aliases: [String: String]
    /// The common sky pixelization (e.g. `htm7`).
    public let commonSkypix: String
    /// The common sky pixelization's HTM level: the overlap tables of regions are at it.
    public let commonPixelization: HTMPixelization
    /// Families of elements whose regions relate by overlap, each finest first (daf_butler's
    /// `topology.spatial`): a query relates one member of each family it spans.
    let spatialFamilyMembers: [(name: String, members: [String])]
    private let rank: [String: Int]
    /// Each element's required closure (``requiredClosure(of:)``), computed once: data ID
    /// expansion asks for it per dimension of every data ID.
    private(set) var requiredClosures: [String: [String]] = [:]

    /// Loads the universe shipped with the package.
    public static func defaultUniverse(aliases: [String: String] = [:]) throws -> DimensionUniverse {
        let base = try builtIn.get()
        if aliases.isEmpty { return base }
        return try base.withAliases(aliases)
    }

    /// The packaged universe, parsed once per process.
    private static let builtIn: Result<DimensionUniverse, any Error> = Result { try loadBuiltIn() }

    private static func loadBuiltIn() throws -> DimensionUniverse {
        guard let url = Bundle.module.url(forResource: "dimensions", withExtension: "yaml") else {
            throw ButlerError.configuration("the default dimension universe (dimensions.yaml) is missing from the package resources")
        }
        return try load(from: url)
    }

    /// The same universe with other data ID aliases.
    public func withAliases(_ aliases: [String: String]) throws -> DimensionUniverse {
        for (alias, target) in aliases where elements[target]?.isDimension != true {
            throw ButlerError.configuration("data ID alias '\(alias)' points to '\(target)', which is not a dimension")
        }
        var copy = self
        copy.aliases = aliases
        return copy
    }

    /// Loads a universe from a YAML file laid out like daf_butler's `dimensions.yaml`.
    public static func load(from url: URL, aliases: [String: String] = [:]) throws -> DimensionUniverse {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ButlerError.configuration("cannot read dimension universe \(url.path): \(error.localizedDescription)")
        }
        return try DimensionUniverse(yaml: text, source: url.path, aliases: aliases)
    }

    /// Parses a universe from YAML text; `source` names it in errors.
    public init(yaml: String, source: String = "<yaml>", aliases: [String: String] = [:]) throws {
        let config: UniverseConfig
        do { config = try YAMLSupport.decode(UniverseConfig.self, from: yaml) } catch {
            throw ButlerError.configuration("invalid dimension universe \(source): \(error)")
        }
        var elements: [String: DimensionElement] = [:]
        var order: [String] = []
        let names = Self.orderedNames(in: yaml, keys: Set(config.elements.keys))
        for name in names {
            guard let element = config.elements[name] else { continue }
            for dependency in (element.requires ?? []) + (element.implies ?? []) where elements[dependency] == nil {
                throw ButlerError.configuration(
                    "dimension universe \(source): element '\(name)' depends on '\(dependency)', which is not defined before it")
            }
            elements[name] = DimensionElement(
                name: name, doc: element.doc ?? "", requires: element.requires ?? [],
                implies: element.implies ?? [], keys: element.keys ?? [], metadata: element.metadata ?? [],
                hasTimespan: element.timespan ?? false, isSkypix: false)
            order.append(name)
        }
        for (system, settings) in (config.skypix?.systems ?? [:]).sorted(by: { $0.key < $1.key }) {
            for level in 0...settings.maxLevel {
                let name = "\(system)\(level)"
                guard ["htm", "healpix"].contains(system) else {
                    throw ButlerError.configuration(
                        "dimension universe \(source): unknown sky pixelization system '\(system)' (htm, healpix)")
                }
                var element = DimensionElement(
                    name: name, doc: "Level \(level) of the \(system) sky pixelization.", requires: [],
                    implies: [], keys: [DimensionField(name: "id", type: .int, length: nil, doc: nil)],
                    metadata: [], hasTimespan: false, isSkypix: true)
                element.skypixLevel = (system, level)
                elements[name] = element
                order.append(name)
            }
        }
        for (alias, target) in aliases where elements[target]?.isDimension != true {
            throw ButlerError.configuration("data ID alias '\(alias)' points to '\(target)', which is not a dimension")
        }
        self.namespace = config.namespace
        self.version = config.version
        self.elements = elements
        self.order = order
        self.aliases = aliases
        self.commonSkypix = config.skypix?.common ?? "htm7"
        guard let common = elements[commonSkypix]?.skypixLevel, common.system == "htm" else {
            throw ButlerError.configuration(
                "dimension universe \(source): the common sky pixelization '\(commonSkypix)' must be an htm level it defines")
        }
        self.commonPixelization = try HTMPixelization(level: common.level)
        var families: [(name: String, members: [String])] = []
        for (family, members) in (config.topology?.spatial ?? [:]).sorted(by: { $0.key < $1.key }) {
            for member in members where elements[member].map({ $0.metadata.contains { $0.type == .region } }) != true {
                throw ButlerError.configuration(
                    "dimension universe \(source): spatial family \(family) lists '\(member)', which has no region field")
            }
            families.append((family, members))
        }
        // A spatial element no family lists is a family of its own.
        for name in order
        where elements[name]!.metadata.contains(where: { $0.type == .region }) && !families.contains(where: { $0.members.contains(name) }) {
            families.append((name, [name]))
        }
        self.spatialFamilyMembers = families
        self.rank = Dictionary(uniqueKeysWithValues: order.enumerated().map { ($1, $0) })
        self.requiredClosures = Dictionary(uniqueKeysWithValues: elements.values.map { ($0.name, computeRequiredClosure(of: $0)) })
    }

    /// YAML mappings lose their order in Swift dictionaries; recover it from the text so that
    /// elements keep the order their authors wrote (dependencies first).
    private static func orderedNames(in yaml: String, keys: Set<String>) -> [String] {
        let ordered = (try? YAMLSupport.orderedKeys(in: yaml, at: ["elements"])) ?? []
        return ordered.isEmpty ? keys.sorted() : ordered
    }

    /// The element called `name`.
    public func element(_ name: String) throws -> DimensionElement {
        if let element = elements[name] { return element }
        throw ButlerError.unknownDimension(name, known: dimensionNames)
    }

    /// Every dimension (element with keys), in universe order.
    public var dimensionNames: [String] {
        order.filter { elements[$0]!.isDimension && !elements[$0]!.isSkypix }
    }

    /// Sorts names into universe order.
    public func sorted(_ names: some Sequence<String>) -> [String] {
        names.sorted { (rank[$0] ?? .max, $0) < (rank[$1] ?? .max, $1) }
    }

    /// The dimension group spanned by `names`: their required closure plus implied dimensions.
    /// - Throws: ``ButlerError/Code/unknownDimension`` for a name that is not a dimension.
    public func group(_ names: some Sequence<String>) throws -> DimensionGroup {
        var required = Set<String>()
        func addRequired(_ name: String) throws {
            let resolved = aliases[name] ?? name
            guard let element = elements[resolved], element.isDimension else {
                throw ButlerError.unknownDimension(name, known: dimensionNames)
            }
            guard required.insert(resolved).inserted else { return }
            for dependency in element.requires { try addRequired(dependency) }
        }
        for name in names { try addRequired(name) }
        var implied = Set<String>()
        var frontier = Array(required)
        while let name = frontier.popLast() {
            for dependency in elements[name]!.implies where !required.contains(dependency) {
                if implied.insert(dependency).inserted { frontier.append(dependency) }
            }
        }
        // An implied dimension's own required dimensions join the required set.
        for name in implied {
            for dependency in elements[name]!.requires where !implied.contains(dependency) {
                try addRequired(dependency)
            }
        }
        return DimensionGroup(required: sorted(required), implied: sorted(implied.subtracting(required)))
    }
}

/// An ordered set of dimensions: those that identify data (required) and those whose values
/// follow from them (implied), e.g. `{instrument, visit, detector}` implying `physical_filter`,
/// `band`, `day_obs`.
///
/// A class, not a struct: every data ID and dataset type holds one, and sharing a single
/// immutable instance makes copying refs and data IDs cheap.
public final class DimensionGroup: Sendable, Hashable, CustomStringConvertible {
    /// Dimensions whose values identify a data ID, in universe order.
    public let required: [String]
    /// Dimensions determined by the required ones, in universe order.
    public let implied: [String]
    /// Required then implied dimension names (stored: data IDs look names up on hot paths).
    public let names: [String]

    /// A group of `required` and `implied` dimensions (use ``DimensionUniverse/group(_:)``).
    public init(required: [String], implied: [String]) {
        self.required = required
        self.implied = implied
        self.names = required + implied
    }

    public static func == (lhs: DimensionGroup, rhs: DimensionGroup) -> Bool {
        lhs === rhs || (lhs.required == rhs.required && lhs.implied == rhs.implied)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(required)
    }

    /// `{instrument, visit, detector}`.
    public var description: String { "{" + required.joined(separator: ", ") + "}" }
}

private struct UniverseConfig: Decodable {
    struct Skypix: Decodable {
        struct System: Decodable {
            let maxLevel: Int
            enum CodingKeys: String, CodingKey { case maxLevel = "max_level" }
        }
        let common: String?
        let systems: [String: System]?
    }
    struct Element: Decodable {
        let doc: String?
        let requires: [String]?
        let implies: [String]?
        let keys: [DimensionField]?
        let metadata: [DimensionField]?
        let timespan: Bool?
    }
    struct Topology: Decodable {
        let spatial: [String: [String]]?
    }
    let namespace: String
    let version: Int
    let skypix: Skypix?
    let elements: [String: Element]
    let topology: Topology?
}
