// swift-tools-version:6.1
// libFuzzer targets for the Swift Butler's parsers (issue 10, point 3), kept in a nested
// package: they are built with `-sanitize=fuzzer,address` over the whole build, which no user
// wants. Run with `bash Fuzz/run.sh` (the test command runs each target for a bounded time).
import Foundation
import PackageDescription

/// The root package's identity is its directory name, which differs between clones.
let rootPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

/// A fuzz target has no `main` of its own: libFuzzer's driver calls its test function (see
/// FuzzDriver for the debug build's renamed entry point).
func fuzzTarget(_ name: String, _ products: [String]) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", "FuzzDriver"] + products.map { .product(name: $0, package: rootPackage) },
        path: "Sources/\(name)",
        swiftSettings: [.unsafeFlags(["-parse-as-library"])]
    )
}

let package = Package(
    name: "ButlerFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
    ],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport"),
        .target(name: "FuzzDriver", path: "Sources/FuzzDriver"),
        fuzzTarget("FuzzWhere", ["Butler"]),
        fuzzTarget("FuzzFITS", ["Formatters", "Composites"]),
        fuzzTarget("FuzzHDF5", ["Formatters", "Composites"]),
        fuzzTarget("FuzzConfig", ["Butler", "Formatters", "Composites"]),
        .executableTarget(
            name: "FuzzCSV",
            dependencies: ["FuzzDriver", .product(name: "SwiftCSV", package: "SwiftCSV")],
            path: "Sources/FuzzCSV",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
