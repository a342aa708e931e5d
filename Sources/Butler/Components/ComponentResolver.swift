import Composites

/// The component-resolution rule (DESIGN §3.1), in one place: which dataset supplies each
/// stored component of a composite found along a search path.
///
/// A standalone `parent.component` dataset (a refitted `calexp.wcs`, a per-visit
/// `calexp.visitInfo` found by projecting the parent's data ID) found at an earlier position of
/// the search path than the parent's own run wins. A component binding (`src.photoCalib:
/// calexp.photoCalib`) supplies a component from another dataset type: it wins by the same
/// order, and also when the parent stored no such component. Otherwise the copy stored with
/// the parent is used. A get by ref has no search path and reads the stored copies.
struct ComponentResolver: Sendable {
    let registry: Registry
    let datastore: any Datastore
    let storageClasses: StorageClassRegistry
    /// `parent.component: target.component` bindings from the repository configuration.
    let bindings: [String: String]

    /// The candidate replacements of a composite's stored components, found inside the
    /// caller's unit of work (so that a get is one registry access).
    func overrides(_ session: any SQLSession, for located: Located) throws -> [ComponentOverride] {
        guard !located.searchPath.isEmpty else { return [] }
        let storageClass = try storageClasses.storageClass(named: located.ref.datasetType.storageClassName)
        guard storageClass.isComposite, storageClass.assembler != nil else { return [] }
        let parentName = located.ref.datasetType.name
        var expanded: DataCoordinate?
        /// The parent's data ID projected onto `group`, expanding it once if needed.
        func project(_ group: DimensionGroup) throws -> DataCoordinate? {
            var values: [String: DataIdValue] = [:]
            for name in group.required {
                if let value = located.ref.dataId[name] ?? expanded?[name] {
                    values[name] = value
                } else {
                    expanded = try expanded ?? registry.expand(session, located.ref.dataId, context: "\(parentName) data ID")
                    guard let value = expanded?[name] else { return nil }
                    values[name] = value
                }
            }
            return DataCoordinate(dimensions: group, values: values)
        }
        func find(_ record: DatasetTypeRecord) throws -> Registry.Found? {
            guard let coordinate = try project(record.datasetType.dimensions) else { return nil }
            return try registry.findRanked(
                session, record, coordinate, in: located.searchPath, timespan: located.timespan, attaching: datastore.recordsAttachment)
        }
        var overrides: [ComponentOverride] = []
        let types = try registry.componentTypes(session, of: parentName).filter { storageClass.components[$0.key] != nil }
        for (component, record) in types.sorted(by: { $0.key < $1.key }) {
            guard let found = try find(record), found.rank < located.rank else { continue }
            overrides.append(
                ComponentOverride(
                    component: component, ref: found.ref, records: datastore.records(attached: found.attached, datasetId: found.ref.id),
                    winsByRank: true, isBinding: false, boundComponent: nil))
        }
        for binding in bindings(of: parentName, storageClass) where !overrides.contains(where: { $0.component == binding.component }) {
            // The bound component comes out of the target dataset, or from a standalone
            // `target.component` dataset (what a subset carries instead of the target's
            // pixels); the one found earlier in the search path supplies it.
            var supplier: (found: Registry.Found, component: String?)?
            if let record = try registry.findDatasetType(session, named: binding.targetType), let found = try find(record) {
                supplier = (found, binding.targetComponent)
            }
            if let record = try registry.findDatasetType(session, named: binding.targetType + "." + binding.targetComponent),
                let found = try find(record), found.rank < supplier?.found.rank ?? .max
            {
                supplier = (found, nil)
            }
            guard let (found, component) = supplier else { continue }
            overrides.append(
                ComponentOverride(
                    component: binding.component, ref: found.ref,
                    records: datastore.records(attached: found.attached, datasetId: found.ref.id),
                    winsByRank: found.rank < located.rank, isBinding: true, boundComponent: component))
        }
        return overrides
    }

    /// A binding of one of `parent`'s stored components to a component of another dataset type.
    private struct Binding {
        let component: String
        let targetType: String
        let targetComponent: String
    }

    /// The configured bindings that apply to `parent`, by component.
    private func bindings(of parent: String, _ storageClass: StorageClass) -> [Binding] {
        bindings.compactMap { key, target -> Binding? in
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            let targetParts = target.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, parts[0] == parent, storageClass.components[parts[1]] != nil, targetParts.count == 2 else { return nil }
            return Binding(component: parts[1], targetType: targetParts[0], targetComponent: targetParts[1])
        }.sorted { $0.component < $1.component }
    }
}

/// A dataset that may replace a composite's stored component.
struct ComponentOverride: Sendable {
    let component: String
    /// The supplying dataset: a standalone component, or (for a binding) a composite.
    let ref: DatasetRef
    let records: [StoredFileInfo]
    /// Found earlier in the search path than the parent's run: it wins outright.
    let winsByRank: Bool
    /// Supplied through a component binding (`src.photoCalib: calexp.photoCalib`).
    let isBinding: Bool
    /// For a binding to a composite, the component to read out of `ref` (`photoCalib` of a
    /// calexp); nil when `ref` is the component itself.
    let boundComponent: String?

    /// Whether it replaces the stored copy: by search order, or (bindings) when the parent
    /// stored none.
    func applies(storedIn value: (any Sendable)?, assembler: (any CompositeAssembler)?) -> Bool {
        if winsByRank { return true }
        guard isBinding, let value, let assembler else { return false }
        return (try? assembler.component(component, of: value)) == nil
    }
}
