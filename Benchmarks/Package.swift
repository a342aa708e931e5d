// swift-tools-version:6.1
// Benchmarks of the Swift Butler's I/O hot paths, kept in a nested package so that users of the
// library never pull benchmark tooling. Run with: swift package benchmark (from this directory).
import Foundation
import PackageDescription

/// The root package's identity is its directory name, which differs between clones.
let rootPackage = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "ButlerBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "Profile",
            dependencies: [
                "BareIO",
                .product(name: "Butler", package: rootPackage),
                .product(name: "Sky", package: rootPackage),
                .product(name: "SkyMaps", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Formatters", package: rootPackage),
            ],
            path: "Sources/Profile"
        ),
        .target(
            name: "BareIO",
            path: "Sources/BareIO",
            cSettings: [.unsafeFlags(["-I/usr/include/hdf5/serial"])],
            linkerSettings: [
                .linkedLibrary("cfitsio"), .linkedLibrary("hdf5_serial"),
                .unsafeFlags(["-L/usr/lib/x86_64-linux-gnu/hdf5/serial"]),
            ]
        ),
        .executableTarget(
            name: "Images",
            dependencies: [
                "BareIO",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Formatters", package: rootPackage),
            ],
            path: "Benchmarks/Images",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Scale",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/Scale",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Discovery",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Benchmarks/Discovery",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Spatial",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Sky", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Benchmarks/Spatial",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // The Swift side of the bindings rows: the calls the Python package makes, on the same
        // repository (Benchmarks/bindings_bench.py times them through Python in the same run).
        .executableTarget(
            name: "Bindings",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Formatters", package: rootPackage),
            ],
            path: "Benchmarks/Bindings",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Remote storage (issue 14): S3 on moto and HTTP on nginx, both started by run.sh, against
        // the bare async-http-client request; a cache hit.
        .executableTarget(
            name: "Remote",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Formatters", package: rootPackage),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Benchmarks/Remote",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Tracts",
            dependencies: [
                "BareIO",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "Sky", package: rootPackage),
                .product(name: "SkyMaps", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Benchmarks/Tracts",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "Transfers",
            dependencies: [
                .product(name: "Butler", package: rootPackage), .product(name: "Composites", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Sources/Transfers"
        ),
        .executableTarget(
            name: "Writers",
            dependencies: [.product(name: "Butler", package: rootPackage), .product(name: "Composites", package: rootPackage)],
            path: "Sources/Writers"
        ),
        .executableTarget(
            name: "SmallDatasets",
            dependencies: [
                "BareIO",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Butler", package: rootPackage),
                .product(name: "Composites", package: rootPackage),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Benchmarks/SmallDatasets",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
