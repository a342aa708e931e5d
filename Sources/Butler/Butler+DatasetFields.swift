public import Composites
public import Foundation

/// Dataset fields: values taken from datasets at put (in the put's transaction) or ingest
/// (right after it), kept in the registry and usable in queries (`calexp.seeing < 0.8`).
extension Butler {
    /// Fills the declared fields of datasets of `datasetType` in `collections` (matching
    /// `expression`) from the datasets themselves — reading only the component a field's
    /// source starts with — for those never indexed, or all with `reindex`. Returns how many
    /// datasets were indexed. This is how datasets put before a field was declared get it.
    @discardableResult
    public func indexFields(
        _ datasetType: String, collections: [String]? = nil, where expression: String? = nil, bind: [String: BindValue] = [:],
        reindex: Bool = false
    ) async throws -> Int {
        try requireWriteable("index-fields \(datasetType)")
        let type = try await self.datasetType(datasetType)
        guard !type.fields.isEmpty else {
            throw ButlerError(
                .invalidArgument, "\(datasetType) declares no fields (add some with registerDatasetType(…, fields:) or --field)")
        }
        var refs = try await queryDatasets([datasetType], collections: collections ?? ["*"], where: expression, bind: bind)
        if !reindex {
            let registry = self.registry
            let ids = refs.map(\.id)
            let lacking = try await registry.database.read { session in
                try registry.datasetsLackingFieldValues(session, try registry.datasetTypeRecord(session, named: datasetType), ids: ids)
            }
            refs = refs.filter { lacking.contains($0.id) }
        }
        try await indexFields(of: refs)
        return refs.count
    }

    /// The stored field values of `refs`, by dataset ID; a dataset never indexed is absent.
    public func fieldValues(of refs: [DatasetRef]) async throws -> [UUID: [String: JSONValue]] {
        let registry = self.registry
        let byType = Dictionary(grouping: refs.filter { !$0.datasetType.fields.isEmpty }, by: \.datasetType.name)
        guard !byType.isEmpty else { return [:] }
        return try await registry.database.read { session in
            var result: [UUID: [String: JSONValue]] = [:]
            for (name, group) in byType {
                let record = try registry.datasetTypeRecord(session, named: name)
                result.merge(try registry.fieldValues(session, record, ids: group.map(\.id))) { _, new in new }
            }
            return result
        }
    }

    /// Reads and stores the field values of stored datasets, in transactions of a few hundred.
    func indexFields(of refs: [DatasetRef]) async throws {
        let extractor = DatasetFieldExtractor(storageClasses: storageClasses)
        let registry = self.registry
        for start in stride(from: 0, to: refs.count, by: 256) {
            var batch: [(DatasetRef, [String: JSONValue])] = []
            for ref in refs[start..<min(refs.count, start + 256)] {
                let storageClass = try storageClasses.storageClass(named: ref.datasetType.storageClassName)
                let located = try await located(ref)
                // One read per component the sources start with (the whole dataset for the rest).
                let groups = Dictionary(grouping: ref.datasetType.fields) { DatasetFieldExtractor.component(of: $0, in: storageClass) }
                var values: [String: JSONValue] = [:]
                for (component, fields) in groups {
                    let value = try read(located, component: component, parameters: [:])
                    let valueClass =
                        try component.map {
                            try storageClasses.storageClass(named: storageClass.components[$0] ?? storageClass.derivedComponents[$0]!)
                        } ?? storageClass
                    for field in fields {
                        let path = field.source.split(separator: ".").map(String.init).dropFirst(component == nil ? 0 : 1)
                        let found = try extractor.resolve(value, storageClass: valueClass, path: path)
                        values[field.name] = try DatasetFieldExtractor.converted(found, to: field, context: "index-fields of \(ref)")
                    }
                }
                batch.append((ref, values))
            }
            let indexed = batch
            try await registry.database.writeRetrying { session in
                for (ref, values) in indexed {
                    let record = try registry.datasetTypeRecord(session, named: ref.datasetType.name)
                    try registry.setFieldValues(session, record, datasetId: ref.id, values: values)
                }
            }
        }
    }
}
