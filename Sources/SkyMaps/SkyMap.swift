import Composites
import Crypto
import Foundation
public import Sky

/// A set of overlapping tracts covering part or all of the sky, each cut into patches
/// (lsst.skymap's `RingsSkyMap` and `DiscreteSkyMap`).
///
/// A rings skymap divides declination into `numRings` rings plus two polar caps; each ring is
/// cut in RA into as many tracts as fit at its declination nearest the equator. Tract 0 is the
/// south cap, tract 1 the tract at `raStart` in the southernmost ring, numbering runs east then
/// north, and the north cap is last. Version 0 keeps lsst.skymap's numbering from before
/// DM-14809 (HSC's): the first ring's first and last tracts coincide and the last ring's first
/// tract is missing.
///
/// A skymap is a value: tracts are computed on request (a few microseconds each), so it can be
/// shared between tasks freely.
public struct SkyMap: Sendable, Hashable, Codable {
    /// The definition.
    public let configuration: SkyMapConfiguration
    /// Declination height of a ring, radians (rings; 0 for a discrete skymap).
    public let ringSize: Double
    /// Tracts in each ring, south to north, the polar caps not counted (rings; empty otherwise).
    public let ringTractCounts: [Int]
    /// Tracts before each ring (the south cap not counted): `ringStarts[r] = Σ counts[..<r]`.
    let ringStarts: [Int]

    /// Builds a skymap.
    /// - Throws: ``SkyError`` naming an impossible configuration value.
    public init(_ configuration: SkyMapConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
        if configuration.kind == .rings {
            let rings = configuration.numRings
            ringSize = Double.pi / Double(rings + 1)
            var counts: [Int] = []
            for ring in 0..<rings {
                let start = ringSize * (Double(ring) + 0.5) - 0.5 * .pi
                let stop = start + ringSize
                // Divided at the declination nearest the equator, so neighbours overlap fully.
                let dec = min(abs(start), abs(stop))
                counts.append(Int(2 * .pi * cos(dec) / ringSize) + 1)
            }
            ringTractCounts = counts
            var starts = [0]
            for count in counts { starts.append(starts.last! + count) }
            ringStarts = starts
        } else {
            ringSize = 0
            ringTractCounts = []
            ringStarts = []
        }
    }

    /// Reads a skymap as its configuration (the `skyMap` dataset's YAML) and rebuilds it.
    public init(from decoder: any Decoder) throws {
        try self.init(try SkyMapConfiguration(from: decoder))
    }

    /// Writes the configuration alone: everything else is computed from it.
    public func encode(to encoder: any Encoder) throws { try configuration.encode(to: encoder) }

    /// Number of tracts (IDs are 0..<tractCount).
    public var tractCount: Int {
        configuration.kind == .rings ? ringStarts.last! + 2 : configuration.raList.count
    }

    /// The skymap's identity as lsst.skymap computes it (SHA-1, hex): the `hash` of its
    /// registry record.
    public var hash: String {
        Insecure.SHA1.hash(data: configuration.identityBytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The tract with ID `id`.
    /// - Throws: ``SkyError`` for an ID outside the skymap.
    public func tract(_ id: Int) throws -> TractInfo {
        guard (0..<tractCount).contains(id) else {
            throw SkyError("tract \(id) is not in the skymap, whose tracts are 0–\(tractCount - 1)")
        }
        let overlap = configuration.tractOverlap * .pi / 180
        switch configuration.kind {
        case .discrete:
            let center = try LonLat(lonDegrees: configuration.raList[id], latDegrees: configuration.decList[id])
            return try TractInfo(
                id: id, center: center, radius: configuration.radiusList[id] * .pi / 180, overlap: overlap, configuration: configuration,
                innerBox: nil)
        case .rings:
            let (ring, number) = ringIndices(id)
            let center: LonLat
            let inner: Box
            let rings = configuration.numRings
            if ring == -1 || ring == rings {
                let pole = ring == -1 ? -0.5 * Double.pi : 0.5 * Double.pi
                center = try LonLat(lonRadians: 0, latRadians: pole)
                let edge = ring == -1 ? -0.5 * .pi + 0.5 * ringSize : 0.5 * .pi - 0.5 * ringSize
                inner = try Box(
                    lon1Degrees: 0, lat1Degrees: min(pole, edge) * 180 / .pi, lon2Degrees: 360, lat2Degrees: max(pole, edge) * 180 / .pi)
            } else {
                let dec = ringSize * Double(ring + 1) - 0.5 * .pi
                let raStart = configuration.raStart * .pi / 180
                let width = 2 * Double.pi / Double(ringTractCounts[ring])
                center = try LonLat(
                    lonRadians: Self.wrap(2 * .pi * Double(number) / Double(ringTractCounts[ring]) + raStart), latRadians: dec)
                let south = -0.5 * Double.pi + (Double(ring) + 0.5) * ringSize, north = -0.5 * Double.pi + (Double(ring) + 1.5) * ringSize
                inner = Box(
                    try LonLat(lonRadians: Self.wrap(raStart + (Double(number) - 0.5) * width), latRadians: south),
                    try LonLat(lonRadians: Self.wrap(raStart + (Double(number) + 0.5) * width), latRadians: north))
            }
            return try TractInfo(
                id: id, center: center, radius: 0.5 * ringSize, overlap: overlap, configuration: configuration, innerBox: inner)
        }
    }

    /// Every tract, by ID.
    public var tracts: [TractInfo] {
        get throws { try (0..<tractCount).map(tract) }
    }

    /// The ring (−1 south cap … numRings north cap) and the number within it of tract `id`.
    func ringIndices(_ id: Int) -> (ring: Int, number: Int) {
        let rings = configuration.numRings
        if id == 0 { return (-1, 0) }
        if id == tractCount - 1 { return (rings, 0) }
        var ring = 0, number = id - 1
        if configuration.version == 0 {
            // Kept from before DM-14809: a ring's count is not subtracted when the number equals it.
            while ring < rings, number > ringTractCounts[ring] {
                number -= ringTractCounts[ring]
                ring += 1
            }
        } else {
            while ring < rings, number >= ringTractCounts[ring] {
                number -= ringTractCounts[ring]
                ring += 1
            }
        }
        return (ring, number)
    }

    static func wrap(_ angle: Double) -> Double {
        var a = angle.truncatingRemainder(dividingBy: 2 * .pi)
        if a < 0 { a += 2 * .pi }
        return a
    }

    /// The south edge of the first ring, radians; the north cap starts at its negation.
    private var firstRingStart: Double { ringSize * 0.5 - 0.5 * .pi }

    /// The ring holding latitude `lat` (radians): −1 for the south cap, numRings for the north
    /// cap (lsst.skymap's `_decToRingNum`).
    private func ring(ofLatitude lat: Double) -> Int {
        if lat < firstRingStart { return -1 }
        if lat > -firstRingStart { return configuration.numRings }
        return min(configuration.numRings - 1, Int((lat - firstRingStart) / ringSize))
    }

    /// The number within `ring` of the tract whose centre's RA is nearest `lon` (radians;
    /// lsst.skymap's `_raToTractNum`).
    private func number(ofLongitude lon: Double, inRing ring: Int) -> Int {
        let count = ringTractCounts[ring]
        let number = Int(Self.wrap(lon - configuration.raStart * .pi / 180) / (2 * .pi / Double(count)) + 0.5)
        return number == count ? 0 : number
    }

    /// The ID of tract `number` of `ring` as lsst.skymap finds it: version 0 counts a ring's
    /// first tract as the next ring's (its DM-14809 numbering).
    private func tractID(ring: Int, number: Int) -> Int {
        let extra = configuration.version == 0 && number == 0 && ring != 0 ? 1 : 0
        return ringStarts[ring + extra] + number + 1
    }

    /// The ID of the tract whose centre is nearest `point`: for a rings skymap the tract whose
    /// inner region holds it, found arithmetically (no tract is built).
    public func findTractID(_ point: LonLat) -> Int {
        switch configuration.kind {
        case .rings:
            let ring = ring(ofLatitude: point.lat)
            if ring == -1 { return 0 }
            if ring == configuration.numRings { return tractCount - 1 }
            return tractID(ring: ring, number: number(ofLongitude: point.lon, inRing: ring))
        case .discrete:
            let v = UnitVector3d(point)
            var best = 0, bestDot = -Double.infinity
            for index in configuration.raList.indices {
                // Finite by validation.
                let center = UnitVector3d(try! LonLat(lonDegrees: configuration.raList[index], latDegrees: configuration.decList[index]))
                let dot = v.dot(center)
                if dot > bestDot {
                    best = index
                    bestDot = dot
                }
            }
            return best
        }
    }

    /// The tract whose centre is nearest `point` (lsst.skymap's `findTract`).
    public func findTract(_ point: LonLat) throws -> TractInfo { try tract(findTractID(point)) }

    /// Tract IDs of many points at once (lsst.skymap's `findTractIdArray`), radians in and IDs out
    /// through caller buffers of equal length.
    public func findTractIDs(
        longitudes: UnsafeBufferPointer<Double>, latitudes: UnsafeBufferPointer<Double>, into ids: UnsafeMutableBufferPointer<Int32>
    ) throws {
        guard longitudes.count == latitudes.count, ids.count == longitudes.count else {
            throw SkyError(
                "findTractIDs: \(longitudes.count) longitudes, \(latitudes.count) latitudes and \(ids.count) outputs differ in length")
        }
        for index in 0..<longitudes.count {
            let point = try LonLat(lonRadians: longitudes[index], latRadians: latitudes[index])
            ids[index] = Int32(findTractID(point))
        }
    }

    /// Every tract whose pixel box holds `point` (lsst.skymap's `findAllTracts`).
    public func findAllTracts(_ point: LonLat) throws -> [TractInfo] {
        switch configuration.kind {
        case .discrete:
            return try tracts.filter { $0.contains(point) }
        case .rings:
            let nearest = ring(ofLatitude: point.lat)
            var ids: [Int] = []
            for ring in (nearest - 1)...(nearest + 1) where ring >= 0 && ring < configuration.numRings {
                let count = ringTractCounts[ring]
                let number = number(ofLongitude: point.lon, inRing: ring)
                for candidate in (number - 1)...(number + 1) { ids.append(tractID(ring: ring, number: (candidate + count) % count)) }
            }
            ids += [0, tractCount - 1]
            var seen = Set<Int>()
            return try ids.filter { seen.insert($0).inserted }.map(tract).filter { $0.contains(point) }
        }
    }

    /// Tracts and the patches of each that may hold any of `points` (lsst.skymap's
    /// `findTractPatchList`): for a rings skymap, the tracts holding any point; for a discrete
    /// one, every tract the points' pixel box reaches.
    public func findTractPatchList(_ points: [LonLat]) throws -> [(tract: TractInfo, patches: [PatchInfo])] {
        var result: [(tract: TractInfo, patches: [PatchInfo])] = []
        var seen = Set<Int>()
        let candidates: [TractInfo]
        switch configuration.kind {
        case .discrete: candidates = try tracts
        case .rings: candidates = try points.flatMap(findAllTracts)
        }
        for tract in candidates where !seen.contains(tract.id) {
            let patches = tract.findPatchList(points)
            if !patches.isEmpty {
                seen.insert(tract.id)
                result.append((tract, patches))
            }
        }
        return result
    }

    /// Tracts and their patches whose outer regions overlap `region`, tested exactly against the
    /// tract and patch polygons the registry holds.
    public func findTractPatchList(overlapping region: Region) throws -> [(tract: TractInfo, patches: [PatchInfo])] {
        var result: [(tract: TractInfo, patches: [PatchInfo])] = []
        for id in try candidateTractIDs(region.boundingBox) {
            let tract = try tract(id)
            let patches = try tract.patches(overlapping: region)
            if !patches.isEmpty { result.append((tract, patches)) }
        }
        return result
    }

    /// Tracts whose extent may reach a lon/lat box: for rings, every tract of the rings whose
    /// declinations, two rings wider, meet the box's (RA is left to the exact test after).
    func candidateTractIDs(_ box: Box) throws -> [Int] {
        guard configuration.kind == .rings, !box.isFull else { return Array(0..<tractCount) }
        guard !box.isEmpty else { return [] }
        // A tract reaches at most half a ring plus the overlap past its inner edges, and its
        // corners reach further; two rings either side is generous and cheap.
        let (south, north) = box.latitudes
        var ids: [Int] = []
        if south < firstRingStart + 2 * ringSize { ids.append(0) }
        for ring in 0..<configuration.numRings {
            let ringSouth = firstRingStart + Double(ring) * ringSize, ringNorth = ringSouth + ringSize
            guard ringNorth + 2 * ringSize >= south, ringSouth - 2 * ringSize <= north else { continue }
            for number in 0..<ringTractCounts[ring] { ids.append(tractID(ring: ring, number: number)) }
        }
        if north > -firstRingStart - 2 * ringSize { ids.append(tractCount - 1) }
        var seen = Set<Int>()
        return ids.filter { seen.insert($0).inserted }
    }

    /// The largest patch grid of any tract: the registry's `patch_nx_max` and `patch_ny_max`.
    public var maximumPatchCounts: (x: Int, y: Int) {
        get throws {
            var nx = 0, ny = 0
            for id in 0..<tractCount {
                let tract = try tract(id)
                nx = max(nx, tract.patchCountX)
                ny = max(ny, tract.patchCountY)
            }
            return (nx, ny)
        }
    }
}
