/// A table of another component (the datastore's records) whose rows a registry look-up brings
/// back for the datasets it finds, in the same statement: the owner says which table, which of
/// its columns holds the dataset ID, which columns to return and which equalities restrict the
/// rows; the registry renders the join. No alias or SQL text crosses the seam.
package struct AttachedTable: Sendable, Hashable {
    /// The table's name.
    package let table: String
    /// The column holding the dataset ID the rows belong to.
    package let datasetIdColumn: String
    /// The columns returned, in this order.
    package let columns: [String]
    /// Equalities every attached row satisfies (`datastore_name = 'FileDatastore@…'`).
    package let restrictions: [Restriction]

    /// One `column = value` restriction.
    package struct Restriction: Sendable, Hashable {
        /// The column.
        package let column: String
        /// The value it must equal.
        package let value: SQLValue

        /// `column = value`.
        package init(_ column: String, equals value: SQLValue) {
            self.column = column
            self.value = value
        }
    }

    /// Describes an attachment.
    package init(table: String, datasetIdColumn: String, columns: [String], restrictions: [Restriction] = []) {
        self.table = table
        self.datasetIdColumn = datasetIdColumn
        self.columns = columns
        self.restrictions = restrictions
    }

    /// The rendered join: select-list entries, the `LEFT JOIN … ON …` clause and its arguments
    /// (which precede the WHERE clause's in statement order).
    struct Join {
        let columns: String
        let clause: String
        let arguments: [SQLValue]
    }

    /// Renders the join onto the dataset IDs of `tableAlias` (a tag table), naming the attached
    /// table `alias`.
    func join(onDatasetIdOf tableAlias: String, alias: String, dialect: SQLDialect) -> Join {
        let conditions =
            ["\(alias).\(dialect.quote(datasetIdColumn)) = \(tableAlias).dataset_id"]
            + restrictions.map { "\(alias).\(dialect.quote($0.column)) = ?" }
        return Join(
            columns: columns.map { "\(alias).\(dialect.quote($0))" }.joined(separator: ", "),
            clause: "LEFT JOIN \(dialect.quote(table)) \(alias) ON " + conditions.joined(separator: " AND "),
            arguments: restrictions.map(\.value))
    }
}
