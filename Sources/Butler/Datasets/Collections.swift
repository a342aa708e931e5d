/// The kinds of collection (daf_butler's `CollectionType`).
public enum CollectionType: String, Sendable, CaseIterable, Codable {
    /// Where datasets are born; at most one dataset per dataset type and data ID.
    case run = "RUN"
    /// Any association of existing datasets (one per dataset type and data ID).
    case tagged = "TAGGED"
    /// An ordered search path over other collections.
    case chained = "CHAINED"
    /// Tagged with a validity time range per association (certified calibrations).
    case calibration = "CALIBRATION"

    /// The integer stored in the registry's `collection.type` column.
    var code: Int64 {
        switch self {
        case .run: return 1
        case .tagged: return 2
        case .chained: return 3
        case .calibration: return 4
        }
    }

    init?(code: Int64) {
        guard let match = Self.allCases.first(where: { $0.code == code }) else { return nil }
        self = match
    }
}

/// A collection as listed by queries.
public struct CollectionInfo: Sendable, Hashable {
    /// The collection's name.
    public let name: String
    /// Its type.
    public let type: CollectionType
    /// For CHAINED collections, the children in search order.
    public let children: [String]
    /// Free-text documentation.
    public let doc: String
}

/// How ``Butler/setCollectionChain(_:children:mode:)`` changes a chain (daf_butler's
/// `collection-chain --mode`).
public enum ChainMode: String, Sendable, CaseIterable {
    /// Replace the children.
    case redefine
    /// Add children at the end.
    case extend
    /// Add children at the front.
    case prepend
    /// Remove the named children.
    case remove
    /// Remove children by position (0 = first); with no positions, the first child.
    case pop
}
