//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A mono audio recording held in memory: Float32 samples at one sample rate.
///
/// Samples are nominally in `-1...1`, where `1` is 16-bit full scale: a 16-bit sample `s` is stored as
/// `Float(s) / 32768`, which is exact, so 16-bit, µ-law and A-law audio survive a round trip through a
/// clip bit for bit. This is the unit of file I/O (``WAVFile``); it is not a real-time type.
public struct AudioClip: Sendable, Equatable {
    /// Samples per second, in Hz.
    public var sampleRate: Int
    /// The samples, nominally in `-1...1`.
    public var samples: [Float]

    /// Creates a clip.
    ///
    /// - Parameters:
    ///   - sampleRate: Samples per second, in Hz.
    ///   - samples: Mono Float32 samples, nominally in `-1...1`.
    public init(sampleRate: Int, samples: [Float]) {
        self.sampleRate = sampleRate
        self.samples = samples
    }

    /// Creates a clip from 16-bit samples.
    ///
    /// - Parameters:
    ///   - sampleRate: Samples per second, in Hz.
    ///   - pcm16: 16-bit linear samples.
    public init(sampleRate: Int, pcm16: [Int16]) {
        self.init(sampleRate: sampleRate, samples: pcm16.map { Float($0) * (1 / 32768) })
    }

    /// The duration, in seconds.
    public var duration: Double { sampleRate > 0 ? Double(samples.count) / Double(sampleRate) : 0 }

    /// The samples as 16-bit PCM: scaled by 32768, rounded to nearest, clipped to the 16-bit range
    /// (NaN becomes 0).
    public var pcm16: [Int16] { samples.map(Self.pcm16Sample) }

    /// Converts one Float32 sample to 16 bits: scaled by 32768, rounded to nearest, clipped; NaN becomes 0.
    ///
    /// - Parameter sample: A sample nominally in `-1...1`.
    /// - Returns: The 16-bit sample.
    @inlinable
    public static func pcm16Sample(_ sample: Float) -> Int16 {
        let scaled = (sample * 32768).rounded()
        guard scaled == scaled else { return 0 }  // NaN
        return Int16(Swift.max(-32768, Swift.min(32767, scaled)))
    }
}
