import Composites

/// Builds the FROM clause and compiles ``QueryExpression``s for one query, joining dimension
/// tables only when an expression needs them (an implied dimension such as `band`, or a
/// record field such as `visit.exposure_time`).
struct QueryBuilder {
    let universe: DimensionUniverse
    let dialect: SQLDialect
    /// Dimensions the query is about; identifiers outside them are errors.
    var available: Set<String> = []
    /// SQL expression giving each dimension's value, once known.
    private(set) var sources: [String: String] = [:]
    private var elementAliases: [String: String] = [:]
    private var from: [String] = []
    private var count = 0

    init(universe: DimensionUniverse, dialect: SQLDialect) {
        self.universe = universe
        self.dialect = dialect
    }

    var fromClause: String { from.joined(separator: " ") }

    /// Starts the query from `table AS alias`, whose columns give `dimensions`.
    mutating func base(table: String, alias: String, dimensions: [String]) {
        from.append("\(table) \(alias)")
        for name in dimensions { sources[name] = "\(alias).\(dialect.quote(name))" }
        available.formUnion(dimensions)
    }

    /// Joins `element`'s table (or starts from it), keyed on the known dimension sources;
    /// returns its alias. Its own and implied dimensions become known.
    @discardableResult
    mutating func joinElement(_ element: DimensionElement, keySources: [String: String]) -> String {
        if let alias = elementAliases[element.name] { return alias }
        count += 1
        let alias = "e\(count)"
        let keys = universe.requiredClosure(of: element) + (element.isDimension ? [element.name] : [])
        let conditions = keys.compactMap { name -> String? in
            guard let source = sources[name] ?? keySources[name] else { return nil }
            return "\(alias).\(dialect.quote(universe.column(for: name, in: element))) = \(source)"
        }
        let table = Registry.dimensionTable(element.name)
        if from.isEmpty {
            from.append("\(table) \(alias)")
        } else if conditions.isEmpty {
            from.append("CROSS JOIN \(table) \(alias)")
        } else {
            from.append("JOIN \(table) \(alias) ON " + conditions.joined(separator: " AND "))
        }
        for name in keys where sources[name] == nil {
            sources[name] = "\(alias).\(dialect.quote(universe.column(for: name, in: element)))"
        }
        for name in element.implies where sources[name] == nil {
            sources[name] = "\(alias).\(dialect.quote(name))"
        }
        available.formUnion(keys)
        available.formUnion(element.implies)
        elementAliases[element.name] = alias
        return alias
    }

    /// The SQL giving `dimension`'s value, joining the table of a dimension that implies it.
    mutating func source(forDimension name: String, context: String) throws -> String {
        if let source = sources[name] { return source }
        guard available.contains(name) || implyingElement(of: name) != nil else {
            throw ButlerError.query("\(context): dimension '\(name)' is not related to this query's dimensions \(available.sorted())")
        }
        guard let implying = implyingElement(of: name) else {
            throw ButlerError.query("\(context): no table gives the value of '\(name)' here")
        }
        for key in universe.requiredClosure(of: implying) + [implying.name] where sources[key] == nil {
            _ = try source(forDimension: key, context: context)
        }
        joinElement(implying, keySources: [:])
        guard let source = sources[name] else { throw ButlerError.query("\(context): cannot resolve '\(name)'") }
        return source
    }

    /// A dimension among the available ones (or reachable from them) whose record implies `name`.
    private func implyingElement(of name: String) -> DimensionElement? {
        var reachable = available
        var changed = true
        while changed {
            changed = false
            for dimension in reachable {
                for implied in universe.elements[dimension]?.implies ?? [] where !reachable.contains(implied) {
                    reachable.insert(implied)
                    changed = true
                }
            }
        }
        return universe.order.lazy.compactMap { universe.elements[$0] }
            .first { reachable.contains($0.name) && $0.implies.contains(name) }
    }

    /// The SQL for a record field `element.field` of a dimension in the query.
    mutating func source(forField element: String, _ field: String, context: String) throws -> (String, FieldType) {
        guard let target = universe.elements[element], !target.isSkypix else {
            throw ButlerError.query("\(context): '\(element)' is not a dimension element")
        }
        let columns = universe.recordColumns(of: target)
        guard let column = columns.first(where: { $0.name == field }) else {
            throw ButlerError.query(
                "\(context): '\(element)' has no field '\(field)'; fields are \(columns.map(\.name).joined(separator: ", "))")
        }
        for key in universe.requiredClosure(of: target) + (target.isDimension ? [element] : []) where sources[key] == nil {
            _ = try source(forDimension: key, context: context)
        }
        let alias = joinElement(target, keySources: [:])
        return ("\(alias).\(dialect.quote(field))", column.type)
    }

    /// Compiled SQL and its bound arguments.
    struct Compiled {
        let sql: String
        let arguments: [SQLValue]
    }

    /// Compiles `expression` to SQL, resolving identifiers to dimensions, fields or `bind`
    /// values, and converting literals to each dimension's type.
    mutating func compile(_ expression: QueryExpression, bind: [String: DataIdValue], context: String) throws -> Compiled {
        var arguments: [SQLValue] = []
        let sql = try render(expression, bind: bind, context: context, arguments: &arguments)
        return Compiled(sql: sql, arguments: arguments)
    }

    private enum Operand {
        case column(String, FieldType)
        case value(JSONValue)
    }

    private mutating func operand(_ expression: QueryExpression, bind: [String: DataIdValue], context: String) throws -> Operand {
        switch expression {
        case .literal(let value): return .value(value)
        case .identifier(let name):
            if let value = bind[name] { return .value(JSONValue(value)) }
            let resolved = universe.aliases[name] ?? name
            if let element = universe.elements[resolved], element.isDimension {
                return .column(try source(forDimension: resolved, context: context), element.primaryKey!.type)
            }
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            if parts.count == 2 {
                let elementName = universe.aliases[parts[0]] ?? parts[0]
                let (sql, type) = try source(forField: elementName, parts[1], context: context)
                return .column(sql, type)
            }
            throw ButlerError.query("\(context): unknown identifier '\(name)' (not a dimension, a record field or a bind name)")
        default:
            throw ButlerError.query("\(context): expected a value or column, got \(expression)")
        }
    }

    private func argument(_ value: JSONValue, for type: FieldType?, context: String) throws -> SQLValue {
        switch (type, value) {
        case (.int?, .string(let text)):
            guard let int = Int64(text) else { throw ButlerError.query("\(context): '\(text)' is not an integer") }
            return .integer(int)
        case (.string?, .int(let int)): return .text(String(int))
        case (_, .int(let int)): return .integer(int)
        case (_, .double(let double)): return .real(double)
        case (_, .string(let text)): return .text(text)
        case (_, .bool(let bool)): return .integer(bool ? 1 : 0)
        case (_, .null): return .null
        default: throw ButlerError.query("\(context): unsupported literal \(value)")
        }
    }

    private mutating func render(
        _ expression: QueryExpression, bind: [String: DataIdValue], context: String, arguments: inout [SQLValue]
    ) throws -> String {
        switch expression {
        case .and(let lhs, let rhs):
            return
                "(\(try render(lhs, bind: bind, context: context, arguments: &arguments)) AND \(try render(rhs, bind: bind, context: context, arguments: &arguments)))"
        case .or(let lhs, let rhs):
            return
                "(\(try render(lhs, bind: bind, context: context, arguments: &arguments)) OR \(try render(rhs, bind: bind, context: context, arguments: &arguments)))"
        case .not(let operand):
            return "(NOT \(try render(operand, bind: bind, context: context, arguments: &arguments)))"
        case .comparison(let op, let lhs, let rhs):
            let left = try operand(lhs, bind: bind, context: context)
            let right = try operand(rhs, bind: bind, context: context)
            let sqlOp = op == "!=" ? "<>" : op
            switch (left, right) {
            case (.column(let a, _), .column(let b, _)):
                return "\(a) \(sqlOp) \(b)"
            case (.column(let column, let type), .value(let value)):
                arguments.append(try argument(value, for: type, context: context))
                return "\(column) \(sqlOp) ?"
            case (.value(let value), .column(let column, let type)):
                arguments.append(try argument(value, for: type, context: context))
                return "? \(sqlOp) \(column)"
            case (.value(let a), .value(let b)):
                arguments.append(try argument(a, for: nil, context: context))
                arguments.append(try argument(b, for: nil, context: context))
                return "? \(sqlOp) ?"
            }
        case .membership(let value, let items, let negated):
            guard case .column(let column, let type) = try operand(value, bind: bind, context: context) else {
                throw ButlerError.query("\(context): the left side of IN must be a dimension or field")
            }
            var placeholders: [String] = []
            for item in items {
                guard case .value(let literal) = try operand(item, bind: bind, context: context) else {
                    throw ButlerError.query("\(context): IN lists hold values only")
                }
                arguments.append(try argument(literal, for: type, context: context))
                placeholders.append("?")
            }
            return "\(column) \(negated ? "NOT IN" : "IN") (\(placeholders.joined(separator: ", ")))"
        case .identifier, .literal:
            if case .literal(.bool(let bool)) = expression { return bool ? "1 = 1" : "1 = 0" }
            throw ButlerError.query("\(context): \(expression) is not a condition")
        }
    }
}
