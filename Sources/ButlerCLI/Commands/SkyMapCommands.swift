import ArgumentParser
import Butler
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
            skymap raList, decList, radiusList (deg). Registering the same definition again does nothing.
            """)

    @Argument(help: "The repository root.") var repo: String
    @Argument(help: "The skymap's name (e.g. hsc_rings_v1).") var name: String
    @Option(name: [.customLong("config"), .customLong("config-file"), .customShort("C")], help: "The skymap definition (YAML).")
    var config: String

    func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: config, encoding: .utf8) } catch {
            throw ValidationError("cannot read skymap configuration \(config): \(error.localizedDescription)")
        }
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
