import Foundation
public import Sky

/// What the universe knows about the sky: which elements have regions, how they group into
/// families that are related by overlap, and the pixelizations of skypix dimensions.
extension DimensionUniverse {
    /// The name of `element`'s region field (`region`), if it has one.
    public func regionField(of element: DimensionElement) -> String? {
        element.metadata.first { $0.type == .region }?.name
    }

    /// Elements whose records carry a region, in universe order.
    public var spatialElements: [DimensionElement] {
        order.compactMap { elements[$0] }.filter { regionField(of: $0) != nil }
    }

    /// The dimensions identifying a record of `element`: its required dimensions and, for a
    /// dimension, itself (`visit_detector_region`: instrument, visit, detector).
    func identifyingDimensions(of element: DimensionElement) -> [String] {
        requiredClosure(of: element) + (element.isDimension ? [element.name] : [])
    }

    /// The columns of `element`'s table holding its identifying dimensions, in the same order.
    func identifyingColumns(of element: DimensionElement) -> [String] {
        identifyingDimensions(of: element).map { column(for: $0, in: element) }
    }

    /// The table listing, per record of a spatial element, the common-skypix pixels its
    /// region's envelope holds.
    static func overlapTable(_ element: String) -> String { Registry.dimensionTable(element) + "_overlap" }

    /// The spatial elements a set of dimensions relates, one per family — the family's finest
    /// member whose identifying dimensions are all present (`visit_detector_region` over
    /// `visit`, `patch` over `tract`) — and the skypix dimensions among them. Two or more mean
    /// a spatial join.
    func spatialFamilies(of dimensions: Set<String>) -> [SpatialOperand] {
        let chosen = spatialFamilyMembers.compactMap { family in
            family.members.lazy.compactMap { self.elements[$0] }.first { Set(self.identifyingDimensions(of: $0)).isSubset(of: dimensions) }
        }
        let skypix = sorted(dimensions).compactMap { elements[$0] }.filter(\.isSkypix)
        return sorted(chosen.map(\.name)).map { SpatialOperand.element(elements[$0]!) } + skypix.map(SpatialOperand.skypix)
    }

    /// The pixel-index range of a skypix dimension.
    func validPixels(of element: DimensionElement) -> ClosedRange<Int64>? {
        guard let (system, level) = element.skypixLevel else { return nil }
        switch system {
        case "htm": return (Int64(8) << Int64(2 * level))...((Int64(16) << Int64(2 * level)) - 1)
        default: return 0...(12 * (Int64(1) << Int64(2 * level)) - 1)
        }
    }

    /// The pixels of skypix dimension `element` that may meet `constraint` (its envelope, as
    /// sphgeom's pixelization of that system computes it).
    /// - Throws: ``ButlerError/Code/invalidQuery`` for a HEALPix level beyond
    ///   ``HEALPixNested/maxCoveringOrder``.
    func envelope(of constraint: SkyConstraint, skypix element: DimensionElement, context: String) throws -> RangeSet {
        guard let (system, level) = element.skypixLevel else {
            throw ButlerError.query("\(context): \(element.name) is not a sky pixelization")
        }
        do {
            if system == "htm" { return constraint.envelope(try HTMPixelization(level: level)) }
            return try constraint.envelope(try HEALPixNested(order: level))
        } catch let error as SkyError {
            throw ButlerError(
                .invalidQuery, "\(context): pixels of \(element.name) overlapping \(constraint): \(error.message)", cause: error)
        }
    }
}

/// One side of a spatial relation: an element with regions, or a skypix dimension.
enum SpatialOperand: Hashable {
    case element(DimensionElement)
    case skypix(DimensionElement)
}

/// A sky constraint from a where-expression: a point (`POINT(ra, dec)`) or a region
/// (`CIRCLE`, `BOX`, `POLYGON`, `REGION('…')`, a bound region).
public enum SkyConstraint: Sendable, Hashable, CustomStringConvertible {
    /// A point: a region overlaps it when it contains it.
    case point(LonLat)
    /// A region.
    case region(Region)

    /// Whether a record's region overlaps the constraint — exact for circles and polygons;
    /// where sphgeom cannot tell (a box near a polygon's edge) it counts as overlapping, so
    /// nothing that overlaps is ever left out.
    public func isOverlapped(by region: Region) -> Bool {
        switch self {
        case .point(let point): return region.contains(UnitVector3d(point))
        case .region(let other): return region.overlaps(other) != false
        }
    }

    /// The pixels of `pixelization` that may meet the constraint.
    func envelope(_ pixelization: HTMPixelization) -> RangeSet {
        switch self {
        case .point(let point): return RangeSet(value: pixelization.index(of: point))
        case .region(let region): return pixelization.envelope(region)
        }
    }

    /// The pixels of `pixelization` that may meet the constraint.
    func envelope(_ pixelization: HEALPixNested) throws -> RangeSet {
        switch self {
        case .point(let point): return RangeSet(value: UInt64(pixelization.index(of: UnitVector3d(point))))
        case .region(let region): return try pixelization.envelope(region)
        }
    }

    public var description: String {
        switch self {
        case .point(let p): "POINT(\(p.lonDegrees), \(p.latDegrees))"
        case .region(let r): r.description
        }
    }
}
