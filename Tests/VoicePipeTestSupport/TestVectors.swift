//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation

/// Locates and loads files under the repository's `TestVectors/` folder.
public enum TestVectors {
    /// The repository root, derived from this file's location at build time.
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // VoicePipeTestSupport
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    /// The absolute path of `TestVectors/<relativePath>`.
    public static func path(_ relativePath: String) -> String {
        repositoryRoot.appendingPathComponent("TestVectors").appendingPathComponent(relativePath).path
    }

    /// The bytes of `TestVectors/<relativePath>`.
    public static func bytes(_ relativePath: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(relativePath))))
    }

    /// The little-endian Int16 values of `TestVectors/<relativePath>`.
    public static func int16LittleEndian(_ relativePath: String) throws -> [Int16] {
        let raw = try bytes(relativePath)
        return stride(from: 0, to: raw.count - 1, by: 2).map { Int16(bitPattern: UInt16(raw[$0]) | UInt16(raw[$0 + 1]) << 8) }
    }
}

extension TestVectors {
    /// The little-endian Float32 values of `TestVectors/<relativePath>`.
    public static func floatLittleEndian(_ relativePath: String) throws -> [Float] {
        let raw = try bytes(relativePath)
        return stride(from: 0, to: raw.count - 3, by: 4).map {
            Float(bitPattern: UInt32(raw[$0]) | UInt32(raw[$0 + 1]) << 8 | UInt32(raw[$0 + 2]) << 16 | UInt32(raw[$0 + 3]) << 24)
        }
    }
}

/// A small deterministic pseudo-random generator (SplitMix64) so that failures reproduce.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator from a seed.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
