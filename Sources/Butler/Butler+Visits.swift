import Composites
import Foundation
import Sky
import SkyMaps

/// How ``Butler/defineVisits(instrument:where:system:updateRecords:)`` groups exposures into
/// visits: daf_butler's visit systems.
public enum VisitSystem: String, Sendable, CaseIterable {
    /// One visit per exposure, with the exposure's ID (visit system 0).
    case oneToOne = "one-to-one"
    /// One visit per exposure group (`group` record), with its first exposure's ID (system 2).
    case byGroupMetadata = "by-group-metadata"

    /// The visit system's ID, as obs_base numbers them.
    public var id: Int64 { self == .oneToOne ? 0 : 2 }
}

/// A visit ``Butler/defineVisits(instrument:where:system:updateRecords:)`` wrote.
public struct DefinedVisit: Sendable, Hashable {
    /// The visit's ID.
    public let visit: Int64
    /// The exposures it groups.
    public let exposures: [Int64]
    /// How many detectors have a region in it.
    public let detectors: Int
}

extension Butler {
    /// Groups science exposures of `instrument` into visits (daf_butler's `define-visits`):
    /// writes each visit record with its timespan, summed exposure time and region — the convex
    /// hull of its detectors' regions — and its `visit_detector_region` records (per detector,
    /// the hull of that detector's regions in the visit's exposures), `visit_definition` and
    /// `visit_system_membership`. Regions come from the exposures' `exposure_detector_region`
    /// records (written by raw ingest from each raw's WCS). All in one transaction.
    ///
    /// Visits already defined are left as they are unless `updateRecords` (then rewritten).
    /// - Parameter expression: a where-expression selecting exposures (`exposure.day_obs =
    ///   20240101`); all science exposures when nil.
    /// - Throws: ``ButlerError`` naming an exposure without detector regions, or no exposure.
    @discardableResult
    public func defineVisits(
        instrument: String, where expression: String? = nil, system: VisitSystem = .oneToOne, updateRecords: Bool = false
    ) async throws -> [DefinedVisit] {
        try requireWriteable("define visits of \(instrument)")
        let predicate = try QueryExpression.predicate(expression, dataId: ["instrument": .string(instrument)], bind: [:])
        let registry = self.registry
        return try await registry.database.writeRetrying { session in
            try registry.defineVisits(session, instrument: instrument, where: predicate, system: system, updateRecords: updateRecords)
        }
    }
}

extension Registry {
    func defineVisits(
        _ session: any SQLSession, instrument: String, where predicate: QueryExpression?, system: VisitSystem, updateRecords: Bool
    ) throws -> [DefinedVisit] {
        let exposures = try queryDimensionRecords(session, element: "exposure", where: predicate, bind: [:]).filter {
            let type = $0["observation_type"].stringValue ?? "science"
            return type == "science" || type.isEmpty
        }
        guard !exposures.isEmpty else {
            throw ButlerError.dimensionRecord(
                "define-visits: no science exposure of \(instrument) matches \(predicate.map { "'\($0)'" } ?? "")")
        }
        // Exposures → visits.
        var groups: [Int64: [DimensionRecord]] = [:]
        var firstOfGroup: [String: Int64] = [:]
        for exposure in exposures.sorted(by: { ($0["id"].intValue ?? 0) < ($1["id"].intValue ?? 0) }) {
            let id = exposure["id"].intValue!
            switch system {
            case .oneToOne: groups[id] = [exposure]
            case .byGroupMetadata:
                let group = exposure["group"].stringValue ?? String(id)
                let visit = firstOfGroup[group] ?? id
                firstOfGroup[group] = visit
                groups[visit, default: []].append(exposure)
            }
        }
        let existing = Set(
            try queryDimensionRecords(session, element: "visit", where: .equal("instrument", .string(instrument)), bind: [:]).compactMap {
                $0["id"].intValue
            })
        let wanted = groups.keys.sorted().filter { updateRecords || !existing.contains($0) }
        if wanted.isEmpty { return [] }
        // Each exposure's detector regions.
        let exposureIds = wanted.flatMap { groups[$0]!.map { $0["id"].intValue! } }
        let regionRecords = try queryDimensionRecords(
            session, element: "exposure_detector_region",
            where: .and(
                .equal("instrument", .string(instrument)),
                .membership(.identifier("exposure"), exposureIds.map { .literal(.int($0)) }, negated: false)),
            bind: [:])
        var regions: [Int64: [(detector: Int64, region: Region)]] = [:]
        for record in regionRecords {
            guard let text = record["region"].stringValue, let exposure = record["exposure"].intValue,
                let detector = record["detector"].intValue
            else { continue }
            regions[exposure, default: []].append((detector, try Region(base64: text)))
        }
        if let missing = exposureIds.first(where: { regions[$0] == nil }) {
            throw ButlerError.dimensionRecord(
                "define-visits: exposure \(instrument)/\(missing) has no detector regions (exposure_detector_region); ingest its raws with a WCS first"
            )
        }
        let mode: RecordInsertMode = updateRecords ? .replace : .insert
        try insertDimensionRecords(
            session, element: "visit_system",
            records: [["instrument": .string(instrument), "id": .int(system.id), "name": .string(system.rawValue)]],
            mode: .skipExisting)
        var defined: [DefinedVisit] = []
        for visit in wanted {
            let members = groups[visit]!
            let first = members[0]
            var corners: [Int64: [UnitVector3d]] = [:]
            for exposure in members {
                for (detector, region) in regions[exposure["id"].intValue!]! { corners[detector, default: []] += Self.vertices(of: region) }
            }
            let begin = members.compactMap { $0["timespan_begin"].intValue }.min()
            let end = members.compactMap { $0["timespan_end"].intValue }.max()
            do {
                let visitRegion = try ConvexPolygon(hullOf: corners.values.flatMap { $0 })
                var record: [String: JSONValue] = [
                    "instrument": .string(instrument), "id": .int(visit),
                    "name": .string(
                        system == .oneToOne ? (first["obs_id"].stringValue ?? String(visit)) : (first["group"].stringValue ?? String(visit))
                    ),
                    "physical_filter": first["physical_filter"], "day_obs": first["day_obs"],
                    "exposure_time": .double(members.compactMap { $0["exposure_time"].doubleValue }.reduce(0, +)),
                    "region": .string(Region.polygon(visitRegion).base64),
                ]
                for field in ["target_name", "observation_reason", "science_program", "azimuth", "zenith_angle"] where !first[field].isNull
                {
                    record[field] = first[field]
                }
                if let begin, let end { record["timespan"] = ["begin": .int(begin), "end": .int(end)] }
                try insertDimensionRecords(session, element: "visit", records: [record], mode: mode)
                try insertDimensionRecords(
                    session, element: "visit_detector_region",
                    records: try corners.keys.sorted().map { detector in
                        [
                            "instrument": .string(instrument), "visit": .int(visit), "detector": .int(detector),
                            "region": .string(Region.polygon(try ConvexPolygon(hullOf: corners[detector]!)).base64),
                        ]
                    }, mode: mode)
            } catch let error as SkyError {
                throw ButlerError.dimensionRecord(
                    "define-visits: visit \(instrument)/\(visit): its detector regions make no convex region: \(error.message)")
            }
            try insertDimensionRecords(
                session, element: "visit_definition",
                records: members.map { ["instrument": .string(instrument), "exposure": $0["id"], "visit": .int(visit)] },
                mode: .skipExisting)
            try insertDimensionRecords(
                session, element: "visit_system_membership",
                records: [["instrument": .string(instrument), "visit": .int(visit), "visit_system": .int(system.id)]], mode: .skipExisting)
            defined.append(DefinedVisit(visit: visit, exposures: members.map { $0["id"].intValue! }, detectors: corners.count))
        }
        return defined
    }

    /// The points a region is the hull of (a polygon's vertices; a circle's or box's bounding
    /// box corners, so that the hull holds it).
    static func vertices(of region: Region) -> [UnitVector3d] {
        switch region {
        case .polygon(let polygon): return polygon.vertices
        case .union(let operands), .intersection(let operands): return operands.flatMap(vertices)
        case .circle, .box:
            let box = region.boundingBox
            let (west, east) = box.longitudes, (south, north) = box.latitudes
            return [(west, south), (east, south), (east, north), (west, north)].compactMap {
                (try? LonLat(lonRadians: $0.0, latRadians: $0.1)).map(UnitVector3d.init)
            }
        }
    }
}

/// A detector region recomputed from a WCS put for a raw (`exposure`) or a calexp (`visit`):
/// written in the put's transaction, so later spatial queries use the better position.
struct DetectorRegionUpdate: Sendable {
    let instrument: String
    /// `exposure` or `visit`.
    let dimension: String
    let value: Int64
    let detector: Int64
    let region: Region
}

extension Butler {
    /// The detector region a WCS put means: for a `Wcs` dataset of a data ID with a detector and
    /// an exposure or a visit, the parent composite's bounding box (`calexp` for `calexp.wcs`,
    /// found in any collection) through the new WCS. Nil when there is nothing to update.
    func detectorRegionUpdate(for value: any Sendable, ref: DatasetRef) async throws -> DetectorRegionUpdate? {
        guard let wcs = value as? Wcs, let parent = ref.datasetType.name.split(separator: ".").first.map(String.init),
            ref.datasetType.name.contains("."),
            case .string(let instrument)? = ref.dataId["instrument"], case .int(let detector)? = ref.dataId["detector"]
        else { return nil }
        let dimension: String
        let value: Int64
        if case .int(let visit)? = ref.dataId["visit"] {
            (dimension, value) = ("visit", visit)
        } else if case .int(let exposure)? = ref.dataId["exposure"] {
            (dimension, value) = ("exposure", exposure)
        } else {
            return nil
        }
        guard (try? await registry.database.read({ try self.registry.datasetTypeRecord($0, named: parent) })) != nil,
            let parentRef = try await queryDatasets([parent], collections: ["*"], dataId: ref.dataId.requiredMapping).first
        else { return nil }
        let bbox = try await get(parentRef, component: "bbox", as: Box2I.self)
        let region: Region
        do { region = try wcs.skyRegion(covering: bbox) } catch let error as SkyError {
            throw ButlerError(
                .invalidDataId, "put of \(ref): the WCS gives no sky region for \(parentRef)'s box \(bbox): \(error.message)", cause: error)
        }
        return DetectorRegionUpdate(instrument: instrument, dimension: dimension, value: value, detector: detector, region: region)
    }
}

extension Registry {
    /// Writes a recomputed detector region: the exposure's or visit's detector region record,
    /// then what follows from it — for an exposure, the detector's region in each visit holding
    /// it (the hull over the visit's exposures); for a visit, the visit's region (the hull of its
    /// detectors').
    func apply(_ update: DetectorRegionUpdate, _ session: any SQLSession) throws {
        let instrument = JSONValue.string(update.instrument)
        var visits: [Int64] = []
        if update.dimension == "exposure" {
            try insertDimensionRecords(
                session, element: "exposure_detector_region",
                records: [
                    [
                        "instrument": instrument, "exposure": .int(update.value), "detector": .int(update.detector),
                        "region": .string(update.region.base64),
                    ]
                ], mode: .replace)
            let definitions = try queryDimensionRecords(
                session, element: "visit_definition",
                where: .and(.equal("instrument", .string(update.instrument)), .equal("exposure", .int(update.value))), bind: [:])
            for visit in definitions.compactMap({ $0["visit"].intValue }) {
                let members = try queryDimensionRecords(
                    session, element: "visit_definition",
                    where: .and(.equal("instrument", .string(update.instrument)), .equal("visit", .int(visit))), bind: [:]
                ).compactMap { $0["exposure"].intValue }
                let regions = try queryDimensionRecords(
                    session, element: "exposure_detector_region",
                    where: .and(
                        .and(.equal("instrument", .string(update.instrument)), .equal("detector", .int(update.detector))),
                        .membership(.identifier("exposure"), members.map { .literal(.int($0)) }, negated: false)), bind: [:])
                let corners = try regions.compactMap { $0["region"].stringValue }.flatMap { Self.vertices(of: try Region(base64: $0)) }
                try writeDetectorRegion(
                    session, instrument, visit: visit, detector: update.detector, region: .polygon(try ConvexPolygon(hullOf: corners)))
                visits.append(visit)
            }
        } else {
            try writeDetectorRegion(session, instrument, visit: update.value, detector: update.detector, region: update.region)
            visits.append(update.value)
        }
        for visit in visits {
            let detectors = try queryDimensionRecords(
                session, element: "visit_detector_region",
                where: .and(.equal("instrument", .string(update.instrument)), .equal("visit", .int(visit))), bind: [:])
            let corners = try detectors.compactMap { $0["region"].stringValue }.flatMap { Self.vertices(of: try Region(base64: $0)) }
            let hull = Region.polygon(try ConvexPolygon(hullOf: corners))
            let key: [SQLValue] = [.text(update.instrument), .integer(visit)]
            let written = try session.query(
                "UPDATE \(Self.dimensionTable("visit")) SET region = ? WHERE instrument = ? AND id = ? RETURNING 1",
                [.text(hull.base64)] + key)
            if !written.isEmpty {
                try writeOverlaps(session, universe.elements["visit"]!, key: key, region: hull, replacing: true)
                forgetRecords(of: "visit")
            }
        }
    }

    private func writeDetectorRegion(
        _ session: any SQLSession, _ instrument: JSONValue, visit: Int64, detector: Int64, region: Region
    ) throws {
        try insertDimensionRecords(
            session, element: "visit_detector_region",
            records: [["instrument": instrument, "visit": .int(visit), "detector": .int(detector), "region": .string(region.base64)]],
            mode: .replace)
    }
}
