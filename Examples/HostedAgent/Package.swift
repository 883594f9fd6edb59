// swift-tools-version: 6.1
// An app of your own that embeds VoicePipe: its own routes, VoicePipe's Twilio routes mounted under /twilio,
// and a custom agent. Built by CI (`swift build --package-path Examples/HostedAgent`).
import PackageDescription

import struct Foundation.URL

/// A path dependency's identity is its folder's name (the checkout may be called anything).
let voicePipe = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../..")
    .standardized.lastPathComponent

let package = Package(
    name: "HostedAgent",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .executableTarget(
            name: "HostedAgent",
            dependencies: [
                .product(name: "VoicePipeServer", package: voicePipe),
                .product(name: "VoiceAgent", package: voicePipe),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.enableUpcomingFeature("ExistentialAny")])
    ]
)
