// swift-tools-version: 6.1
import PackageDescription

import class Foundation.ProcessInfo

let environment = ProcessInfo.processInfo.environment

/// Upcoming language features every VoicePipe target opts into (as Hummingbird does).
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// `VOICEPIPE_TARGET_CPU=haswell` builds the DSP code for a known CPU (AVX2). Off by default: a package that
/// others depend on must run on baseline x86-64 (SSE2), and SwiftPM refuses unsafe flags in dependencies.
let targetCPUSettings: [SwiftSetting] =
    environment["VOICEPIPE_TARGET_CPU"].map { [.unsafeFlags(["-target-cpu", $0])] } ?? []

let argumentParser: Target.Dependency = .product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "VoicePipe",
    platforms: [.macOS(.v15)],  // Synchronization.Atomic needs macOS 15; Linux is the target platform.
    products: [
        .library(name: "VoiceDSP", targets: ["VoiceDSP"]),
        .executable(name: "voicepipe", targets: ["voicepipe"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
    ],
    targets: [
        // MARK: - Public API

        /// The streaming DSP core: G.711, ring buffers, resampling, WAV I/O. No dependency but the standard
        /// library and the C libraries it wraps.
        .target(name: "VoiceDSP", dependencies: ["CSampleRate"], swiftSettings: swiftSettings + targetCPUSettings),

        /// The command-line tool: `voicepipe convert`, `voicepipe demo`.
        .executableTarget(name: "voicepipe", dependencies: ["VoiceDSP", argumentParser], swiftSettings: swiftSettings),

        // MARK: - System libraries (Debian: libsamplerate0-dev, libopus-dev)

        .systemLibrary(name: "CSampleRate", pkgConfig: "samplerate", providers: [.apt(["libsamplerate0-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),

        // MARK: - Tests

        /// Test-only helpers: test-vector paths, deterministic random numbers, signal generators.
        .target(name: "VoicePipeTestSupport", path: "Tests/VoicePipeTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "VoiceDSPTests", dependencies: ["VoiceDSP", "VoicePipeTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "CLibraryTests", dependencies: ["CSampleRate", "COpus"], swiftSettings: swiftSettings),
        .testTarget(
            name: "VoicePipeCLITests", dependencies: ["VoiceDSP", "VoicePipeTestSupport"], swiftSettings: swiftSettings),
    ]
)

// MARK: - Benchmarks (opt-in, so that `swift build` and `swift test` never compile the benchmark framework)

/// `VOICEPIPE_BENCHMARKS=1 swift package benchmark` adds the benchmark targets (ordo-one/benchmark).
if environment["VOICEPIPE_BENCHMARKS"] != nil {
    package.dependencies += [
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ]
    package.targets += [
        // Other resamplers, measured against ours in the same run (Debian: libsoxr-dev, libspeexdsp-dev).
        .systemLibrary(name: "CSoxr", path: "Benchmarks/CSoxr", pkgConfig: "soxr", providers: [.apt(["libsoxr-dev"])]),
        .systemLibrary(
            name: "CSpeexDSP", path: "Benchmarks/CSpeexDSP", pkgConfig: "speexdsp", providers: [.apt(["libspeexdsp-dev"])]),
        .executableTarget(
            name: "VoiceDSPBenchmarks",
            dependencies: [
                "VoiceDSP", "CSampleRate", "CSoxr", "CSpeexDSP",
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Benchmarks/VoiceDSPBenchmarks",
            swiftSettings: targetCPUSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    ]
}
