// swift-tools-version:6.1
// The Swift Butler: a data-access framework for astronomical survey pipelines.
import PackageDescription

/// One settings list shared by every Swift target: Swift 6 mode is the package default;
/// these add the strictness we hold ourselves to.
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "SwiftButler",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Butler", targets: ["Butler"]),
        .library(name: "ButlerZip", targets: ["ButlerZip"]),
        .library(name: "Composites", targets: ["Composites"]),
        .library(name: "Sky", targets: ["Sky"]),
        .library(name: "SkyMaps", targets: ["SkyMaps"]),
        .library(name: "Formatters", targets: ["Formatters"]),
        .executable(name: "butler", targets: ["ButlerCLI"]),
        // The C ABI (`Bindings/include/butler.h`) as a shared library, libSwiftButler.so: what the
        // C++ header and the Python package call.
        .library(name: "SwiftButler", type: .dynamic, targets: ["ButlerC"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.20"),
    ],
    targets: [
        .systemLibrary(
            name: "CFitsShim",
            pkgConfig: "cfitsio",
            providers: [.apt(["libcfitsio-dev"])]
        ),
        .systemLibrary(name: "CPosixShim"),
        // CRC-32C for artifact checksums (the SSE 4.2 instruction is an intrinsic Swift cannot name).
        .target(name: "CChecksum"),
        .systemLibrary(
            name: "CHDF5Shim",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),
        // Spherical geometry and sky pixelizations: a leaf, pure Swift, no I/O.
        .target(
            name: "Sky",
            dependencies: [.product(name: "BigInt", package: "BigInt")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Composites",
            swiftSettings: strictSettings
        ),
        // Skymaps (tracts and patches) and the image ↔ sky geometry that needs both WCS and regions.
        .target(
            name: "SkyMaps",
            dependencies: ["Sky", "Composites", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Formatters",
            dependencies: [
                "Composites", "CFitsShim", "CHDF5Shim",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "Butler",
            dependencies: [
                "Composites", "Formatters", "CPosixShim", "CChecksum", "Sky", "SkyMaps",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.copy("Resources/dimensions.yaml")],
            swiftSettings: strictSettings
        ),
        // Zips of datasets (daf_butler's format) with ZIPFoundation, apart from Butler so that the
        // C modules ZIPFoundation brings in stay out of Butler's compilation.
        .target(
            name: "ButlerZip",
            dependencies: ["Butler", .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "ButlerCLI",
            dependencies: [
                "Butler", "ButlerZip", "Composites", "Formatters", "Sky", "SkyMaps",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        // The C ABI: the header (CButlerABI/include/butler.h) and @_cdecl functions over the
        // Butler's public API (ButlerC), handles checked in a table.
        .target(name: "CButlerABI"),
        .target(
            name: "ButlerC",
            dependencies: ["Butler", "Composites", "Formatters", "CButlerABI"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "ButlerTestSupport",
            dependencies: ["Butler", "Composites", "Formatters"],
            path: "Tests/ButlerTestSupport",
            swiftSettings: strictSettings
        ),
        // Writer processes for the crash-consistency harness and the concurrent-writer tests.
        .executableTarget(
            name: "TestWriter",
            dependencies: ["Butler", "ButlerTestSupport", "Composites"],
            path: "Tests/TestWriter",
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "SkyTests",
            dependencies: ["Sky", "SkyMaps", "Composites", "Formatters", "ButlerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "CompositesTests",
            dependencies: ["Composites"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "FormattersTests",
            dependencies: ["Formatters", "Composites", "ButlerTestSupport"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ButlerTests",
            dependencies: ["Butler", "ButlerZip", "ButlerTestSupport", "Composites", "Formatters", "Sky", "SkyMaps"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "ButlerCLITests",
            dependencies: ["ButlerTestSupport", "Composites", "Formatters", "Sky", "SkyMaps"],
            swiftSettings: strictSettings
        ),
    ]
)
