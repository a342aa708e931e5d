public import Composites
import Foundation
import Sky

/// A skymap's definition in lsst.skymap's field names, as `register-skymap` reads it from YAML:
///
/// ```yaml
/// skyMap: rings          # or discrete
/// numRings: 120          # rings only
/// raStart: 0.0           # rings only, degrees
/// version: 0             # rings only: 0 is the tract numbering HSC's skymaps use, 1 the current
/// projection: TAN        # TAN or STG
/// pixelScale: 0.168      # arcseconds per pixel
/// tractOverlap: 0.016667 # degrees
/// rotation: 0.0          # degrees
/// patchInnerDimensions: [4000, 4000]
/// patchBorder: 100
/// raList: [150.1]        # discrete only, degrees, with decList and radiusList
/// ```
///
/// Defaults are lsst.skymap's (STG, 0.333″, 1° overlap, 4000² patches with 100 px borders).
public struct SkyMapConfiguration: Sendable, Hashable, Codable {
    /// The kinds of skymap.
    public enum Kind: String, Sendable, Hashable, Codable {
        /// lsst.skymap's `RingsSkyMap`: polar caps and rings of declination cut into tracts.
        case rings
        /// lsst.skymap's `DiscreteSkyMap`: square tracts at explicit centres.
        case discrete
    }

    /// Which skymap (`skyMap`).
    public var kind: Kind
    /// Number of declination rings between the polar caps (rings).
    public var numRings: Int
    /// Right ascension of the first tract of every ring, degrees (rings).
    public var raStart: Double
    /// Tract numbering: 0 keeps the numbering of lsst.skymap before DM-14809 (HSC's), 1 the
    /// current one (rings).
    public var version: Int
    /// The tracts' WCS projection.
    public var projection: WcsProjection
    /// Nominal pixel scale, arcseconds per pixel.
    public var pixelScale: Double
    /// Minimum overlap of adjacent tracts, degrees.
    public var tractOverlap: Double
    /// Rotation of the tract WCS, degrees.
    public var rotation: Double
    /// Width and height of a patch's inner region, pixels.
    public var patchInnerDimensions: [Int]
    /// Border between a patch's inner and outer boxes, pixels.
    public var patchBorder: Int
    /// Tract centres' right ascensions, degrees (discrete).
    public var raList: [Double]
    /// Tract centres' declinations, degrees (discrete).
    public var decList: [Double]
    /// Tract half-sizes, degrees (discrete).
    public var radiusList: [Double]

    /// A rings skymap.
    public static func rings(
        numRings: Int, projection: WcsProjection = .stereographic, pixelScale: Double = 0.333, tractOverlap: Double = 1,
        raStart: Double = 0, version: Int = 1, patchInnerDimensions: [Int] = [4000, 4000], patchBorder: Int = 100, rotation: Double = 0
    ) -> SkyMapConfiguration {
        SkyMapConfiguration(
            kind: .rings, numRings: numRings, raStart: raStart, version: version, projection: projection, pixelScale: pixelScale,
            tractOverlap: tractOverlap, rotation: rotation, patchInnerDimensions: patchInnerDimensions, patchBorder: patchBorder,
            raList: [], decList: [], radiusList: [])
    }

    /// A discrete skymap with one tract per (ra, dec, radius), degrees.
    public static func discrete(
        tracts: [(ra: Double, dec: Double, radius: Double)], projection: WcsProjection = .stereographic, pixelScale: Double = 0.333,
        tractOverlap: Double = 1, patchInnerDimensions: [Int] = [4000, 4000], patchBorder: Int = 100, rotation: Double = 0
    ) -> SkyMapConfiguration {
        SkyMapConfiguration(
            kind: .discrete, numRings: 0, raStart: 0, version: 0, projection: projection, pixelScale: pixelScale,
            tractOverlap: tractOverlap, rotation: rotation, patchInnerDimensions: patchInnerDimensions, patchBorder: patchBorder,
            raList: tracts.map(\.ra), decList: tracts.map(\.dec), radiusList: tracts.map(\.radius))
    }

    /// The HSC survey's skymap (`hsc_rings_v1`): 120 rings, TAN, 0.168″, 1′ overlap, version 0.
    public static let hscRings = SkyMapConfiguration.rings(
        numRings: 120, projection: .gnomonic, pixelScale: 0.168, tractOverlap: 1.0 / 60, version: 0)

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case kind = "skyMap"
        case numRings, raStart, version, projection, pixelScale, tractOverlap, rotation, patchInnerDimensions, patchBorder
        case raList, decList, radiusList
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Reads a configuration; a key lsst.skymap does not have is refused by name, so a typo is
    /// not silently replaced by a default.
    public init(from decoder: any Decoder) throws {
        let names = Set(CodingKeys.allCases.map(\.rawValue))
        let unknown = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue).filter { !names.contains($0) }
        guard unknown.isEmpty else {
            throw SkyError("unknown skymap configuration keys \(unknown.sorted()); known: \(names.sorted().joined(separator: ", "))")
        }
        let container = try decoder.container(keyedBy: CodingKeys.self)
        kind = try container.decode(Kind.self, forKey: .kind)
        numRings = try container.decodeIfPresent(Int.self, forKey: .numRings) ?? 0
        raStart = try container.decodeIfPresent(Double.self, forKey: .raStart) ?? 0
        version = try container.decodeIfPresent(Int.self, forKey: .version) ?? (kind == .rings ? 1 : 0)
        projection = try container.decodeIfPresent(WcsProjection.self, forKey: .projection) ?? .stereographic
        pixelScale = try container.decodeIfPresent(Double.self, forKey: .pixelScale) ?? 0.333
        tractOverlap = try container.decodeIfPresent(Double.self, forKey: .tractOverlap) ?? 1
        rotation = try container.decodeIfPresent(Double.self, forKey: .rotation) ?? 0
        patchInnerDimensions = try container.decodeIfPresent([Int].self, forKey: .patchInnerDimensions) ?? [4000, 4000]
        patchBorder = try container.decodeIfPresent(Int.self, forKey: .patchBorder) ?? 100
        raList = try container.decodeIfPresent([Double].self, forKey: .raList) ?? []
        decList = try container.decodeIfPresent([Double].self, forKey: .decList) ?? []
        radiusList = try container.decodeIfPresent([Double].self, forKey: .radiusList) ?? []
    }

    /// The memberwise configuration.
    public init(
        kind: Kind, numRings: Int, raStart: Double, version: Int, projection: WcsProjection, pixelScale: Double, tractOverlap: Double,
        rotation: Double, patchInnerDimensions: [Int], patchBorder: Int, raList: [Double], decList: [Double], radiusList: [Double]
    ) {
        self.kind = kind
        self.numRings = numRings
        self.raStart = raStart
        self.version = version
        self.projection = projection
        self.pixelScale = pixelScale
        self.tractOverlap = tractOverlap
        self.rotation = rotation
        self.patchInnerDimensions = patchInnerDimensions
        self.patchBorder = patchBorder
        self.raList = raList
        self.decList = decList
        self.radiusList = radiusList
    }

    /// Checks every value a skymap is built from.
    /// - Throws: ``SkyError`` naming the first impossible value.
    public func validate() throws {
        func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
            if !condition { throw SkyError(message()) }
        }
        try require(pixelScale.isFinite && pixelScale > 0, "pixelScale \(pixelScale)″ is not a finite scale > 0")
        try require(tractOverlap.isFinite && tractOverlap >= 0 && tractOverlap < 90, "tractOverlap \(tractOverlap)° is not in [0°, 90°)")
        try require(rotation.isFinite, "rotation \(rotation)° is not finite")
        try require(
            patchInnerDimensions.count == 2 && patchInnerDimensions.allSatisfy { $0 > 0 },
            "patchInnerDimensions \(patchInnerDimensions) are not two sizes > 0")
        try require(
            patchBorder >= 0 && patchInnerDimensions.allSatisfy { patchBorder < $0 },
            "patchBorder \(patchBorder) is not ≥ 0 and smaller than the patch inner size \(patchInnerDimensions)")
        switch kind {
        case .rings:
            try require(numRings > 0, "numRings \(numRings) is not > 0")
            try require(numRings < 100_000, "numRings \(numRings) would make tracts smaller than a pixel row")
            try require(raStart.isFinite && raStart >= 0 && raStart < 360, "raStart \(raStart)° is not in [0°, 360°)")
            try require(version == 0 || version == 1, "version \(version) is not 0 or 1")
        case .discrete:
            try require(!raList.isEmpty, "a discrete skymap needs at least one tract (raList is empty)")
            try require(
                raList.count == decList.count && raList.count == radiusList.count,
                "raList (\(raList.count)), decList (\(decList.count)) and radiusList (\(radiusList.count)) differ in length")
            for (index, (ra, (dec, radius))) in zip(raList, zip(decList, radiusList)).enumerated() {
                try require(ra.isFinite && dec.isFinite && abs(dec) <= 90, "tract \(index) centre (\(ra)°, \(dec)°) is not on the sphere")
                try require(radius.isFinite && radius > 0 && radius < 90, "tract \(index) radius \(radius)° is not in (0°, 90°)")
            }
        }
    }

    /// lsst.skymap's identity of a skymap: SHA-1 of the class name, the packed tract-builder
    /// configuration (`<iiidd3sd`) and the class's own fields, so a skymap registered by the LSST
    /// stack and one defined here with the same values have the same hash.
    var identityBytes: [UInt8] {
        var bytes = Array((kind == .rings ? "RingsSkyMap" : "DiscreteSkyMap").utf8)
        func int32(_ value: Int) { withUnsafeBytes(of: Int32(truncatingIfNeeded: value).littleEndian) { bytes += $0 } }
        func double(_ value: Double) { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        int32(patchInnerDimensions[0])
        int32(patchInnerDimensions[1])
        int32(patchBorder)
        double(tractOverlap)
        double(pixelScale)
        bytes += Array(projection.rawValue.utf8.prefix(3))
        double(rotation)
        switch kind {
        case .rings:
            int32(numRings)
            double(raStart)
        case .discrete:
            raList.forEach(double)
            decList.forEach(double)
            radiusList.forEach(double)
        }
        return bytes
    }
}
