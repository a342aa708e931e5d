import Composites
import Foundation
import Sky

/// An exact region test a query applies to its rows after the SQL, whose spatial terms are
/// coarse (records sharing a common-skypix pixel): the SQL finds every candidate, the test
/// drops those whose regions do not in fact overlap.
enum RegionFilter {
    /// The region in a column overlaps a constraint from the where-expression.
    case constraint(column: String, SkyConstraint)
    /// The regions of two joined records overlap.
    case pair(String, String)
}

/// Applies a query's region filters to its rows: decodes each region text once per query.
struct RegionFilterEvaluator {
    /// The SQL of every column the filters read, selected after the query's own columns.
    let columns: [String]
    /// Each filter as the positions (in `columns`) of the regions it reads, and its constraint.
    private let tests: [(first: Int, second: Int?, constraint: SkyConstraint?)]
    private var decoded: [String: Region?] = [:]

    init(_ filters: [RegionFilter]) {
        var columns: [String] = []
        func position(_ column: String) -> Int {
            if let known = columns.firstIndex(of: column) { return known }
            columns.append(column)
            return columns.count - 1
        }
        tests = filters.map { filter in
            switch filter {
            case .constraint(let column, let constraint): (position(column), nil, constraint)
            case .pair(let a, let b): (position(a), position(b), nil)
            }
        }
        self.columns = columns
    }

    var isEmpty: Bool { tests.isEmpty }

    /// Whether a row passes, its region columns starting at `offset`.
    mutating func passes(offset: Int, _ row: (Int) -> SQLValue) throws -> Bool {
        for test in tests {
            guard let first = try region(row(offset + test.first)) else { return false }
            if let constraint = test.constraint {
                if !constraint.isOverlapped(by: first) { return false }
            } else if let second = test.second {
                guard let other = try region(row(offset + second)) else { return false }
                if first.overlaps(other) == false { return false }
            }
        }
        return true
    }

    private mutating func region(_ value: SQLValue) throws -> Region? {
        guard case .text(let text) = value else { return nil }
        if let known = decoded[text] { return known }
        let region: Region
        do { region = try Region(base64: text) } catch let error as SkyError {
            throw ButlerError(.invalidQuery, "a stored region '\(text.prefix(60))' cannot be decoded: \(error.message)", cause: error)
        }
        decoded[text] = region
        return region
    }
}

extension QueryBuilder {
    /// `OVERLAPS` between a sky constraint and a skypix dimension or a record region; nil when
    /// neither side is a sky constraint (a timespan OVERLAPS).
    mutating func spatialOverlaps(
        _ lhs: QueryExpression, _ rhs: QueryExpression, bind: [String: BindValue], context: String, arguments: inout [SQLValue]
    ) throws -> String? {
        let (skySide, other): (SkyConstraint, QueryExpression)
        if let constraint = try skyConstraint(rhs, bind: bind, context: context) {
            (skySide, other) = (constraint, lhs)
        } else if let constraint = try skyConstraint(lhs, bind: bind, context: context) {
            (skySide, other) = (constraint, rhs)
        } else {
            return nil
        }
        guard case .identifier(let name) = other else {
            throw ButlerError.query("\(context): \(skySide) OVERLAPS a skypix dimension or a record's region, not '\(other)'")
        }
        let parts = name.split(separator: ".").map(String.init)
        let elementName = universe.aliases[parts[0]] ?? parts[0]
        guard let element = universe.elements[elementName] else {
            throw ButlerError.query("\(context): '\(name)' is not a dimension element, so it has no region to overlap \(skySide)")
        }
        if element.isSkypix, parts.count == 1 {
            // A pixel overlaps the constraint when it is in its envelope at that level.
            let column = try source(forDimension: elementName, context: context)
            let ranges = try universe.envelope(of: skySide, skypix: element, context: context).ranges
            if ranges.isEmpty { return "1 = 0" }
            return "("
                + ranges.map { range in
                    arguments.append(.integer(Int64(range.0)))
                    arguments.append(.integer(Int64(range.1)))
                    return "(\(column) >= ? AND \(column) < ?)"
                }.joined(separator: " OR ") + ")"
        }
        guard let field = universe.regionField(of: element), parts.count == 1 || (parts.count == 2 && parts[1] == field) else {
            throw ButlerError.query(
                "\(context): '\(name)' has no region (elements with regions: \(universe.spatialElements.map { "\($0.name).region" }.joined(separator: ", ")))"
            )
        }
        guard negationDepth == 0 else {
            throw ButlerError.query(
                "\(context): '\(name) OVERLAPS \(skySide)' must be a term of the top-level AND (not under OR or NOT): its exact test runs after the SQL"
            )
        }
        let (column, _) = try source(forField: elementName, field, context: context)
        let alias = elementAliases[elementName]!
        let keys = universe.identifyingColumns(of: element)
        let pixels = skySide.envelope(universe.commonPixelization).ranges
        if pixels.isEmpty { return "1 = 0" }
        var terms = keys.map { "o.\(dialect.quote($0)) = \(alias).\(dialect.quote($0))" }
        terms.append(
            "("
                + pixels.map { range in
                    arguments.append(.integer(Int64(range.0)))
                    arguments.append(.integer(Int64(range.1)))
                    return "(o.skypix_index >= ? AND o.skypix_index < ?)"
                }.joined(separator: " OR ") + ")")
        regionFilters.append(.constraint(column: column, skySide))
        return "EXISTS (SELECT 1 FROM \(DimensionUniverse.overlapTable(elementName)) o WHERE " + terms.joined(separator: " AND ") + ")"
    }

    /// The sky constraint an expression stands for: `POINT(ra, dec)`, `CIRCLE(ra, dec, r)`,
    /// `BOX(ra, dec, width, height)`, `POLYGON(ra1, dec1, …)`, `REGION('POS string')` (degrees,
    /// daf_butler's forms), a name bound to a sky value or to an IVOA POS string; nil for
    /// anything else.
    mutating func skyConstraint(_ expression: QueryExpression, bind: [String: BindValue], context: String) throws -> SkyConstraint? {
        switch expression {
        case .bind(let name), .identifier(let name):
            switch bind[name] {
            case .sky(let constraint)?:
                usedBinds.insert(name)
                return constraint
            case .string(let text)? where ["CIRCLE", "RANGE", "POLYGON"].contains(text.prefix(while: { !$0.isWhitespace })):
                // A region given as text (`--bind r='CIRCLE 150 2 0.1'` on the command line).
                usedBinds.insert(name)
                do { return .region(try Region(ivoaPOS: text)) } catch let error as SkyError {
                    throw ButlerError(.invalidQuery, "\(context): :\(name): \(error.message)", cause: error)
                }
            default:
                return nil
            }
        case .function(let rawName, let arguments):
            let name = rawName.uppercased()
            guard ["POINT", "CIRCLE", "BOX", "POLYGON", "REGION"].contains(name) else { return nil }
            do {
                if name == "REGION" {
                    guard arguments.count == 1, case .literal(.string(let text)) = arguments[0] else {
                        throw ButlerError.query("\(context): REGION takes one string, an IVOA POS ('CIRCLE 150 2 0.1')")
                    }
                    return .region(try Region(ivoaPOS: text))
                }
                let numbers = try arguments.map { try number($0, bind: bind, function: name, context: context) }
                switch name {
                case "POINT":
                    guard numbers.count == 2 else {
                        throw ButlerError.query("\(context): POINT takes (ra, dec), got \(numbers.count) values")
                    }
                    return .point(try LonLat(lonDegrees: numbers[0], latDegrees: numbers[1]))
                case "CIRCLE":
                    guard numbers.count == 3 else {
                        throw ButlerError.query("\(context): CIRCLE takes (ra, dec, radius), got \(numbers.count) values")
                    }
                    return .region(.circle(try Circle(lonDegrees: numbers[0], latDegrees: numbers[1], radiusDegrees: numbers[2])))
                case "BOX":
                    guard numbers.count == 4 else {
                        throw ButlerError.query("\(context): BOX takes (ra, dec, width, height), got \(numbers.count) values")
                    }
                    let center = try LonLat(lonDegrees: numbers[0], latDegrees: numbers[1])
                    return .region(.box(try Box(center: center, halfWidthDegrees: numbers[2] / 2, halfHeightDegrees: numbers[3] / 2)))
                default:
                    guard numbers.count >= 6, numbers.count % 2 == 0 else {
                        throw ButlerError.query("\(context): POLYGON takes at least 3 (ra, dec) pairs, got \(numbers.count) values")
                    }
                    let pairs = stride(from: 0, to: numbers.count, by: 2).map { (numbers[$0], numbers[$0 + 1]) }
                    return .region(.polygon(try ConvexPolygon(hullOfDegrees: pairs)))
                }
            } catch let error as SkyError {
                throw ButlerError(.invalidQuery, "\(context): \(expression): \(error.message)", cause: error)
            }
        default:
            return nil
        }
    }

    /// A numeric argument of a sky function: a number, a negated number or a bound number.
    private mutating func number(
        _ expression: QueryExpression, bind: [String: BindValue], function: String, context: String
    ) throws -> Double {
        switch expression {
        case .literal(.int(let int)): return Double(int)
        case .literal(.double(let double)): return double
        case .negation(let inner): return -(try number(inner, bind: bind, function: function, context: context))
        case .positive(let inner): return try number(inner, bind: bind, function: function, context: context)
        case .bind(let name), .identifier(let name):
            switch bind[name] {
            case .int(let int)?:
                usedBinds.insert(name)
                return Double(int)
            case .double(let double)?:
                usedBinds.insert(name)
                return double
            default: break
            }
        default: break
        }
        throw ButlerError.query("\(context): \(function) arguments are numbers or names bound to numbers, not '\(expression)'")
    }

    /// Joins the operands of a spatial relation through the common-skypix overlap tables: each
    /// element's table and its overlap rows, all sharing a pixel (a skypix dimension at the
    /// common level takes that pixel as its value), and an exact test for each pair of regions.
    /// - Throws: ``ButlerError/Code/invalidQuery`` for a skypix dimension at another level
    ///   (relate it with `OVERLAPS`), or with no element to relate it to.
    mutating func joinSpatially(_ operands: [SpatialOperand], context: String) throws {
        var pixelSource: String?
        var regionColumns: [String] = []
        for case .element(let element) in operands {
            for name in universe.identifyingDimensions(of: element) where sources[name] == nil {
                _ = try source(forDimension: name, context: context)
            }
            let alias = joinElement(element, keySources: [:])
            count += 1
            let overlap = "o\(count)"
            var conditions = universe.identifyingColumns(of: element).map {
                "\(overlap).\(dialect.quote($0)) = \(alias).\(dialect.quote($0))"
            }
            if let pixelSource { conditions.append("\(overlap).skypix_index = \(pixelSource)") }
            from.append("JOIN \(DimensionUniverse.overlapTable(element.name)) \(overlap) ON " + conditions.joined(separator: " AND "))
            pixelSource = pixelSource ?? "\(overlap).skypix_index"
            regionColumns.append("\(alias).\(dialect.quote(universe.regionField(of: element)!))")
        }
        for case .skypix(let element) in operands {
            guard element.name == universe.commonSkypix else {
                throw ButlerError.query(
                    "\(context): \(element.name) can be related to regions only at the common level \(universe.commonSkypix); constrain it with '\(element.name) OVERLAPS …' instead"
                )
            }
            guard let pixelSource else {
                throw ButlerError.query("\(context): \(element.name) has nothing with a region to be related to")
            }
            if let existing = sources[element.name] {
                from[from.count - 1] += " AND \(existing) = \(pixelSource)"
            } else {
                sources[element.name] = pixelSource
                available.insert(element.name)
            }
        }
        for i in regionColumns.indices {
            for j in regionColumns.indices where j > i { regionFilters.append(.pair(regionColumns[i], regionColumns[j])) }
        }
    }
}

extension QueryExpression {
    /// The dimensions the expression's identifiers name beyond bind names: a dimension, or the
    /// identifying dimensions of an element whose field it reads (`visit_detector_region.region`
    /// names instrument, visit and detector).
    func referencedDimensions(_ universe: DimensionUniverse, bind: [String: BindValue]) -> Set<String> {
        var names = Set<String>()
        for identifier in identifiers where bind[identifier] == nil {
            let head = identifier.split(separator: ".", maxSplits: 1).first.map(String.init) ?? identifier
            guard let element = universe.elements[universe.aliases[head] ?? head] else { continue }
            names.formUnion(universe.identifyingDimensions(of: element))
        }
        return names
    }

    /// Whether the expression relates a record's region to a sky constraint (which needs the
    /// record's dimensions in the query).
    func hasRegionOverlap(_ universe: DimensionUniverse) -> Bool {
        switch self {
        case .comparison("OVERLAPS", let lhs, let rhs):
            return [lhs, rhs].contains { side in
                guard case .identifier(let name) = side else { return false }
                let head = name.split(separator: ".").first.map(String.init) ?? name
                return universe.elements[universe.aliases[head] ?? head].map { universe.regionField(of: $0) != nil } ?? false
            }
        case .and(let a, let b), .or(let a, let b): return a.hasRegionOverlap(universe) || b.hasRegionOverlap(universe)
        case .not(let a): return a.hasRegionOverlap(universe)
        default: return false
        }
    }
}
