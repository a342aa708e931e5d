import Composites
import Foundation

/// A reversible map from data IDs to integers with a known bit count (daf_butler's
/// `DimensionPacker`): pipelines use the integers as ID prefixes (source IDs, random seeds).
public protocol DimensionPacker: Sendable {
    /// The dimensions of the data IDs packed, `fixed` ones first.
    var dimensions: [String] { get }
    /// Values every packed data ID shares (the instrument, the skymap): not in the integer.
    var fixed: DataId { get }
    /// The number of bits every packed integer fits in.
    var maxBits: Int { get }
    /// The integer of one data ID.
    /// - Throws: ``ButlerError`` naming a value out of the packer's range or a data ID of other
    ///   dimensions or fixed values.
    func pack(_ dataId: DataId) throws -> Int64
    /// The data ID of an integer made by ``pack(_:)``.
    /// - Throws: ``ButlerError`` for an integer no data ID packs to.
    func unpack(_ packed: Int64) throws -> DataId
}

/// The bits needed for the values 0..<count (Python's `(count - 1).bit_length()`).
private func bitLength(_ count: Int64) -> Int { count <= 1 ? 0 : 64 - (count - 1).leadingZeroBitCount }

/// Packs `{instrument, exposure or visit, detector}` as `detector + detectorCount · observation`,
/// with counts from the instrument record's `detector_max` and `exposure_max`/`visit_max`
/// (lsst.pipe.base's `ObservationDimensionPacker`, the `visit_detector` and `exposure_detector`
/// packers of daf_butler's universe).
public struct ObservationDimensionPacker: DimensionPacker, Hashable {
    /// Which observation dimension is packed.
    public enum Observation: String, Sendable, Hashable, CaseIterable {
        /// Exposures (`exposure_detector`).
        case exposure
        /// Visits (`visit_detector`).
        case visit
    }

    /// The instrument every data ID has.
    public let instrument: String
    /// Exposure or visit.
    public let observation: Observation
    /// One more than the largest detector ID.
    public let detectorCount: Int64
    /// One more than the largest exposure or visit ID.
    public let observationCount: Int64

    /// A packer for explicit bounds.
    /// - Throws: ``ButlerError`` when a bound is not positive or the product overflows 63 bits.
    public init(instrument: String, observation: Observation, detectorCount: Int64, observationCount: Int64) throws {
        guard detectorCount > 0, observationCount > 0 else {
            throw ButlerError(
                .dimensionRecord,
                "instrument \(instrument): \(observation.rawValue)_max \(observationCount) and detector_max \(detectorCount) must both be > 0 to pack data IDs"
            )
        }
        guard !detectorCount.multipliedReportingOverflow(by: observationCount).overflow else {
            throw ButlerError(
                .dimensionRecord, "instrument \(instrument): \(observationCount) × \(detectorCount) IDs do not fit in 63 bits")
        }
        self.instrument = instrument
        self.observation = observation
        self.detectorCount = detectorCount
        self.observationCount = observationCount
    }

    public var dimensions: [String] { ["instrument", observation.rawValue, "detector"] }
    public var fixed: DataId { ["instrument": .string(instrument)] }
    public var maxBits: Int { bitLength(observationCount * detectorCount) }

    /// The integer of (observation, detector).
    /// - Throws: ``ButlerError`` naming a value outside 0..<count.
    public func pack(observation id: Int64, detector: Int64) throws -> Int64 {
        guard (0..<detectorCount).contains(detector) else {
            throw ButlerError.invalidDataId(
                "detector ID \(detector) of \(instrument) is out of bounds; expected 0 ≤ detector < \(detectorCount)")
        }
        guard (0..<observationCount).contains(id) else {
            throw ButlerError.invalidDataId(
                "\(observation.rawValue) ID \(id) of \(instrument) is out of bounds; expected 0 ≤ \(observation.rawValue) < \(observationCount)"
            )
        }
        return detector + detectorCount * id
    }

    public func pack(_ dataId: DataId) throws -> Int64 {
        try checkFixed(dataId, fixed, context: "\(observation.rawValue)_detector packer")
        return try pack(
            observation: try intValue(dataId, observation.rawValue, context: "\(observation.rawValue)_detector packer"),
            detector: try intValue(dataId, "detector", context: "\(observation.rawValue)_detector packer"))
    }

    public func unpack(_ packed: Int64) throws -> DataId {
        guard packed >= 0, packed < observationCount * detectorCount else {
            throw ButlerError.invalidDataId(
                "\(packed) is not a packed \(observation.rawValue)_detector ID of \(instrument) (0 ≤ id < \(observationCount * detectorCount))"
            )
        }
        return [
            "instrument": .string(instrument), observation.rawValue: .int(packed / detectorCount), "detector": .int(packed % detectorCount),
        ]
    }

    /// Packs whole arrays: `packed[i]` of (`observations[i]`, `detectors[i]`); buffers of one length.
    /// - Throws: ``ButlerError`` naming the first element out of range (nothing useful is left
    ///   in `packed` then).
    public func pack(
        observations: UnsafeBufferPointer<Int64>, detectors: UnsafeBufferPointer<Int64>, into packed: UnsafeMutableBufferPointer<Int64>
    ) throws {
        guard observations.count == detectors.count, packed.count == observations.count else {
            throw ButlerError.invalidDataId(
                "packing \(observations.count) \(observation.rawValue)s with \(detectors.count) detectors into \(packed.count) slots: lengths differ"
            )
        }
        let detectorCount = self.detectorCount, observationCount = self.observationCount
        // One branch-free pass (it vectorises); the range check is folded into one flag.
        var outOfRange = false
        for index in 0..<packed.count {
            let o = observations[index], d = detectors[index]
            outOfRange =
                outOfRange || (UInt64(bitPattern: d) >= UInt64(detectorCount)) || (UInt64(bitPattern: o) >= UInt64(observationCount))
            packed[index] = d &+ detectorCount &* o
        }
        if outOfRange {
            for index in 0..<packed.count {
                do { _ = try pack(observation: observations[index], detector: detectors[index]) } catch let error as ButlerError {
                    throw ButlerError(.invalidDataId, "element \(index): \(error.message)", cause: error)
                }
            }
        }
    }

    /// Unpacks whole arrays into caller buffers of `packed`'s length.
    /// - Throws: ``ButlerError`` naming the first integer no data ID packs to.
    public func unpack(
        _ packed: UnsafeBufferPointer<Int64>, observations: UnsafeMutableBufferPointer<Int64>, detectors: UnsafeMutableBufferPointer<Int64>
    ) throws {
        guard observations.count == packed.count, detectors.count == packed.count else {
            throw ButlerError.invalidDataId(
                "unpacking \(packed.count) IDs into \(observations.count) and \(detectors.count) slots: lengths differ")
        }
        let detectorCount = self.detectorCount, limit = UInt64(observationCount * detectorCount)
        var outOfRange = false
        for index in 0..<packed.count {
            let value = packed[index]
            outOfRange = outOfRange || UInt64(bitPattern: value) >= limit
            observations[index] = value / detectorCount
            detectors[index] = value % detectorCount
        }
        if outOfRange, let bad = packed.firstIndex(where: { UInt64(bitPattern: $0) >= limit }) {
            _ = try unpack(packed[bad])
        }
    }
}

/// Packs `{skymap, tract, patch}` and optionally `band` as
/// `patch + patchCount · (tract + tractCount · bandIndex)` (lsst.skymap's
/// `SkyMapDimensionPacker`, the `tract_patch` and `tract_patch_band` packers of daf_butler's
/// universe), with counts from the skymap record (`tract_max`, `patch_nx_max · patch_ny_max`).
public struct SkyMapDimensionPacker: DimensionPacker, Hashable {
    /// lsst.skymap's default band numbering: no band (0), the broad bands, HSC's and DECam's
    /// narrow bands, in this order.
    public static let supportedBands: [String?] =
        [nil] + "ugrizyUBGVRIZYJHK".map { String($0) } + ["N387", "N515", "N656", "N816", "N921", "N1010"]
        + ["N419", "N540", "N708", "N964"]

    /// The skymap every data ID has.
    public let skymap: String
    /// One more than the largest tract ID.
    public let tractCount: Int64
    /// Patches per tract (one more than the largest patch ID).
    public let patchCount: Int64
    /// Band numbers; empty when bands are not packed.
    public let bands: [String: Int64]
    /// Bands reserved in the integer (0: no band dimension; 1: band present but free).
    public let bandCount: Int64

    /// A packer for explicit bounds. `bands` nil takes ``supportedBands``; `bandCount` nil
    /// takes the number of bands, 0 packs no band.
    /// - Throws: ``ButlerError`` for bounds that are not positive or overflow 63 bits.
    public init(skymap: String, tractCount: Int64, patchCount: Int64, bands: [String: Int64]? = nil, bandCount: Int64? = 0) throws {
        let bands =
            bands ?? Dictionary(uniqueKeysWithValues: Self.supportedBands.enumerated().compactMap { i, b in b.map { ($0, Int64(i)) } })
        let count = bandCount ?? Int64(Self.supportedBands.count)
        guard tractCount > 0, patchCount > 0, count >= 0 else {
            throw ButlerError(
                .dimensionRecord, "skymap \(skymap): tract_max \(tractCount), \(patchCount) patches and \(count) bands cannot pack data IDs"
            )
        }
        let (product, overflow) = tractCount.multipliedReportingOverflow(by: patchCount)
        guard !overflow, !product.multipliedReportingOverflow(by: max(1, count)).overflow else {
            throw ButlerError(
                .dimensionRecord, "skymap \(skymap): \(tractCount) tracts × \(patchCount) patches × \(count) bands exceed 63 bits")
        }
        self.skymap = skymap
        self.tractCount = tractCount
        self.patchCount = patchCount
        self.bands = count == 0 ? [:] : bands
        self.bandCount = count
    }

    public var dimensions: [String] { bandCount == 0 ? ["skymap", "tract", "patch"] : ["skymap", "tract", "patch", "band"] }
    public var fixed: DataId { ["skymap": .string(skymap)] }
    public var maxBits: Int { bitLength(tractCount * patchCount * max(1, bandCount)) }

    /// The integer of (tract, patch, band).
    /// - Throws: ``ButlerError`` naming a value out of range or a band the packer does not number.
    public func pack(tract: Int64, patch: Int64, band: String? = nil) throws -> Int64 {
        guard (0..<patchCount).contains(patch) else {
            throw ButlerError.invalidDataId("patch ID \(patch) of skymap \(skymap) is out of bounds; expected 0 ≤ patch < \(patchCount)")
        }
        guard (0..<tractCount).contains(tract) else {
            throw ButlerError.invalidDataId("tract ID \(tract) of skymap \(skymap) is out of bounds; expected 0 ≤ tract < \(tractCount)")
        }
        var packed = patch + patchCount * tract
        if bandCount > 0 {
            guard let band else { throw ButlerError.invalidDataId("the tract_patch_band packer of skymap \(skymap) needs a band") }
            guard let index = bands[band] else {
                throw ButlerError.invalidDataId(
                    "band '\(band)' is not numbered by this packer; bands are \(bands.keys.sorted().joined(separator: ", "))")
            }
            guard index < bandCount else {
                throw ButlerError.invalidDataId("band '\(band)' is number \(index), beyond the \(bandCount) bands the packer reserves")
            }
            packed += index * patchCount * tractCount
        }
        return packed
    }

    public func pack(_ dataId: DataId) throws -> Int64 {
        let context = bandCount == 0 ? "tract_patch packer" : "tract_patch_band packer"
        try checkFixed(dataId, fixed, context: context)
        let band: String?
        if bandCount > 0 {
            guard case .string(let text) = dataId["band"] else {
                throw ButlerError.invalidDataId("\(context): data ID \(DimensionUniverse.render(dataId)) has no band")
            }
            band = text
        } else {
            band = nil
        }
        return try pack(
            tract: try intValue(dataId, "tract", context: context), patch: try intValue(dataId, "patch", context: context), band: band)
    }

    public func unpack(_ packed: Int64) throws -> DataId {
        let limit = tractCount * patchCount * max(1, bandCount)
        guard packed >= 0, packed < limit else {
            throw ButlerError.invalidDataId("\(packed) is not a packed tract/patch ID of skymap \(skymap) (0 ≤ id < \(limit))")
        }
        var result: DataId = ["skymap": .string(skymap)]
        var rest = packed
        if bandCount > 0 {
            let index = packed / (tractCount * patchCount)
            rest = packed % (tractCount * patchCount)
            guard let band = bands.first(where: { $0.value == index })?.key else {
                throw ButlerError.invalidDataId("\(packed) has band number \(index), which names no band of this packer")
            }
            result["band"] = .string(band)
        }
        result["tract"] = .int(rest / patchCount)
        result["patch"] = .int(rest % patchCount)
        return result
    }

    /// Packs whole arrays of tracts and patches (no band) into caller buffers of one length.
    /// - Throws: ``ButlerError`` naming the first element out of range.
    public func pack(
        tracts: UnsafeBufferPointer<Int64>, patches: UnsafeBufferPointer<Int64>, bandIndex: Int64 = 0,
        into packed: UnsafeMutableBufferPointer<Int64>
    ) throws {
        guard tracts.count == patches.count, packed.count == tracts.count else {
            throw ButlerError.invalidDataId(
                "packing \(tracts.count) tracts with \(patches.count) patches into \(packed.count) slots: lengths differ")
        }
        guard bandIndex >= 0, bandIndex < max(1, bandCount) else {
            throw ButlerError.invalidDataId("band number \(bandIndex) is beyond the \(bandCount) bands the packer reserves")
        }
        let patchCount = self.patchCount, tractCount = self.tractCount, offset = bandIndex * patchCount * tractCount
        var outOfRange = false
        for index in 0..<packed.count {
            let t = tracts[index], p = patches[index]
            outOfRange = outOfRange || (UInt64(bitPattern: p) >= UInt64(patchCount)) || (UInt64(bitPattern: t) >= UInt64(tractCount))
            packed[index] = p &+ patchCount &* t &+ offset
        }
        if outOfRange {
            for index in 0..<packed.count {
                do { _ = try pack(tract: tracts[index], patch: patches[index], band: bands.first { $0.value == bandIndex }?.key) } catch let
                    error as ButlerError
                {
                    throw ButlerError(.invalidDataId, "element \(index): \(error.message)", cause: error)
                }
            }
        }
    }
}

/// The integer value of `name` in a data ID.
private func intValue(_ dataId: DataId, _ name: String, context: String) throws -> Int64 {
    guard case .int(let value) = dataId[name] else {
        throw ButlerError.invalidDataId("\(context): data ID \(DimensionUniverse.render(dataId)) has no integer \(name)")
    }
    return value
}

/// Refuses a data ID whose fixed values (instrument, skymap) differ from the packer's.
private func checkFixed(_ dataId: DataId, _ fixed: DataId, context: String) throws {
    for (name, value) in fixed where dataId[name] != value {
        throw ButlerError.invalidDataId("\(context) for \(DimensionUniverse.render(fixed)) cannot pack \(DimensionUniverse.render(dataId))")
    }
}

extension Butler {
    /// The `visit_detector` or `exposure_detector` packer of an instrument, with bounds from its
    /// record.
    /// - Throws: ``ButlerError`` when the instrument is unknown or its record lacks the bounds.
    public func observationPacker(
        instrument: String, observation: ObservationDimensionPacker.Observation = .visit
    ) async throws
        -> ObservationDimensionPacker
    {
        guard let record = try await dimensionRecords("instrument", dataId: ["instrument": .string(instrument)]).first else {
            throw ButlerError.invalidDataId("instrument '\(instrument)' is not known")
        }
        guard let detectors = record["detector_max"].intValue, let observations = record["\(observation.rawValue)_max"].intValue else {
            throw ButlerError(
                .dimensionRecord,
                "instrument \(instrument) has no detector_max or \(observation.rawValue)_max: its data IDs cannot be packed")
        }
        return try ObservationDimensionPacker(
            instrument: instrument, observation: observation, detectorCount: detectors, observationCount: observations)
    }

    /// The `tract_patch` (no `bands`… `bandCount` 0) or `tract_patch_band` packer of a skymap,
    /// with bounds from its record.
    /// - Throws: ``ButlerError`` when the skymap is unknown or its record lacks the bounds.
    public func skyMapPacker(skymap: String, bands: [String: Int64]? = nil, bandCount: Int64? = 0) async throws -> SkyMapDimensionPacker {
        guard let record = try await dimensionRecords("skymap", dataId: ["skymap": .string(skymap)]).first else {
            throw ButlerError.invalidDataId("skymap '\(skymap)' is not known")
        }
        guard let tracts = record["tract_max"].intValue, let nx = record["patch_nx_max"].intValue, let ny = record["patch_ny_max"].intValue
        else {
            throw ButlerError(
                .dimensionRecord, "skymap \(skymap) has no tract_max or patch_nx_max/patch_ny_max: its data IDs cannot be packed")
        }
        return try SkyMapDimensionPacker(skymap: skymap, tractCount: tracts, patchCount: nx * ny, bands: bands, bandCount: bandCount)
    }
}
