import ArgumentParser
import Butler
import Composites
import Formatters
import Foundation
import Sky
import SkyMaps

/// `butler register-skymap REPO NAME --config FILE.yaml` (the command lsst's pipe_tasks adds to
/// daf_butler's CLI).
struct RegisterSkyMap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register-skymap",
        abstract: "Define a skymap's tracts and patches (records with regions) and store it as a skyMap dataset.",
        discussion: """
            The YAML file uses lsst.skymap's field names: skyMap (rings or discrete), numRings, raStart, \
            version (0: HSC's tract numbering, 1: the current), projection (TAN or STG), pixelScale (arcsec), \
            tractOverlap (deg), rotation (deg), patchInnerDimensions [x, y], patchBorder, and for a discrete \
            skymap raList, decList, radiusList (deg). -c FIELD=VALUE overrides a field of the file (as \
            daf_butler's register-skymap does; VALUE is YAML: 120, TAN, [4000, 4000]). Registering the same \
            definition again does nothing.
            """)

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The skymap's name (e.g. hsc_rings_v1).") var name: String
    @Option(name: [.customLong("config"), .customLong("config-file"), .customShort("C")], help: "The skymap definition (YAML).")
    var config: String
    @Option(
        name: [.customShort("c"), .customLong("config-override")], parsing: .singleValue,
        help: "Override a field of the definition, FIELD=VALUE (repeatable).")
    var overrides: [String] = []

    func run() async throws {
        var text: String
        do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
            throw ValidationError("cannot read skymap configuration \(config): \(error.localizedDescription)")
        }
        if !overrides.isEmpty { text = try Self.applying(overrides, to: text, file: config) }
        let skymap: SkyMap
        do {
            skymap = try SkyMap(try YAMLSupport.decode(SkyMapConfiguration.self, from: text, userInfo: [:]))
        } catch let error as SkyError {
            throw ValidationError("skymap configuration \(config): \(error.message)")
        } catch {
            throw ValidationError("skymap configuration \(config) is not a skymap definition: \(error)")
        }
        let start = Date()
        let result = try await withButler(repo) { butler in try await butler.registerSkyMap(name, skymap) }
        if result.tracts == 0 {
            print("Skymap \(name) (hash \(result.hash)) was already registered" + (result.wroteDataset ? "; wrote its skyMap dataset" : ""))
        } else {
            let seconds = String(format: "%.1f", Date().timeIntervalSince(start))
            print("Registered skymap \(name) (hash \(result.hash)): \(result.tracts) tracts, \(result.patches) patches in \(seconds) s")
        }
    }
}

extension RegisterSkyMap {
    /// The definition's YAML with `FIELD=VALUE` overrides applied (each value read as YAML).
    static func applying(_ overrides: [String], to text: String, file: String) throws -> String {
        guard case .object(var fields) = try YAMLSupport.decode(JSONValue.self, from: text) else {
            throw ValidationError("skymap configuration \(file) is not a mapping of fields")
        }
        for override in overrides {
            let parts = override.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].trimmingCharacters(in: .whitespaces).isEmpty else {
                throw ValidationError("-c \(override): expected FIELD=VALUE")
            }
            do {
                fields[parts[0].trimmingCharacters(in: .whitespaces)] = try YAMLSupport.decode(JSONValue.self, from: parts[1])
            } catch {
                throw ValidationError("-c \(override): the value is not YAML: \(error)")
            }
        }
        return try YAMLSupport.encode(JSONValue.object(fields))
    }
}

/// `butler pack-data-ids REPO PACKER`: data IDs to integers with daf_butler's packers, or back.
struct PackDataIds: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pack-data-ids",
        abstract:
            "Pack data IDs into integers with a dimension packer (visit_detector, exposure_detector, tract_patch, tract_patch_band), or unpack.",
        discussion: """
            The packer's fixed dimension comes from --data-id (instrument=… or skymap=…); its bounds from that record \
            (detector_max and visit_max/exposure_max; tract_max and patch_nx_max × patch_ny_max). Without --unpack, \
            every data ID the query finds is printed with its integer; the packer's bit count is printed first.
            """)

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "visit_detector, exposure_detector, tract_patch or tract_patch_band.") var packer: String
    @OptionGroup var constraints: ConstraintOptions
    @Option(name: .long, parsing: .upToNextOption, help: "Integers to unpack instead of packing.") var unpack: [Int64] = []
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let fixed = try constraints.dataId()
        let rows: Rows = try await withButler(repo, writeable: false) { butler in
            let chosen: any DimensionPacker
            switch packer {
            case "visit_detector", "exposure_detector":
                guard case .string(let instrument) = fixed["instrument"] else {
                    throw ValidationError("\(packer) needs --data-id instrument=NAME")
                }
                chosen = try await butler.observationPacker(
                    instrument: instrument, observation: packer == "visit_detector" ? .visit : .exposure)
            case "tract_patch", "tract_patch_band":
                guard case .string(let skymap) = fixed["skymap"] else { throw ValidationError("\(packer) needs --data-id skymap=NAME") }
                chosen = try await butler.skyMapPacker(skymap: skymap, bandCount: packer == "tract_patch" ? 0 : nil)
            default:
                throw ValidationError("unknown packer '\(packer)': visit_detector, exposure_detector, tract_patch or tract_patch_band")
            }
            if !output.json { print("\(packer): \(chosen.maxBits) bits") }
            var rows = Rows(columns: chosen.dimensions + ["packed"])
            if unpack.isEmpty {
                let dimensions = chosen.dimensions.filter { chosen.fixed[$0] == nil } + chosen.fixed.keys.sorted()
                let dataIds = try await butler.queryDataIds(
                    dimensions, where: constraints.where, dataId: fixed, bind: try constraints.binds())
                for dataId in dataIds {
                    let values = Dictionary(uniqueKeysWithValues: chosen.dimensions.compactMap { name in dataId[name].map { (name, $0) } })
                    let packed = try chosen.pack(values)
                    rows.append(chosen.dimensions.map { values[$0]?.json ?? .null } + [.int(packed)])
                }
            } else {
                for value in unpack {
                    let dataId = try chosen.unpack(value)
                    rows.append(chosen.dimensions.map { dataId[$0]?.json ?? .null } + [.int(value)])
                }
            }
            return rows
        }
        rows.print(json: output.json)
    }
}
