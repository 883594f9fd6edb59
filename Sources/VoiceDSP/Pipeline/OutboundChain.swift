//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The agent's side of a call: PCM at any rate in, exact 160-byte µ-law frames (20 ms at 8 kHz) out.
///
/// ```
/// push(PCM at the agent's rate) ─▶ Resampler → 8 kHz ─▶ 16-bit ─▶ µ-law ─▶ 160-byte frames
/// ```
///
/// Remainders carry over between pushes, so chunks of any size give the same frames; ``flush(_:)`` ends
/// an utterance, padding its last frame with µ-law silence. Synchronous and reusable; after init nothing
/// allocates.
///
/// - Important: Not thread-safe: use from one task.
public final class OutboundChain {
    /// Bytes per frame: 20 ms of µ-law at 8 kHz.
    public static let frameBytes = 160

    /// The agent's sample rate, in Hz.
    public let inputRate: Int
    private let resampler: Resampler?
    private let resampled: UnsafeMutableBufferPointer<Float>
    private let pcm: UnsafeMutableBufferPointer<Int16>
    private let frame: UnsafeMutableBufferPointer<UInt8>
    private var filled = 0
    private static let block = 480  // input samples resampled per step (20 ms at 24 kHz)

    /// Creates a chain for agent audio at `inputRate`.
    ///
    /// - Throws: ``ResamplerError`` for a rate the resampler refuses.
    public init(inputRate: Int, quality: Resampler.Quality = .telephony) throws(ResamplerError) {
        self.inputRate = inputRate
        resampler = inputRate == 8000 ? nil : try Resampler(inputRate: inputRate, outputRate: 8000, quality: quality)
        let room = Swift.max(Self.block, resampler?.maximumOutputCount(forInputCount: Self.block) ?? 0)
        let tail = Swift.max(room, resampler?.pendingOutputCount ?? 0, 1024)
        resampled = .allocate(capacity: tail)
        pcm = .allocate(capacity: tail)
        frame = .allocate(capacity: Self.frameBytes)
        reset()
    }

    deinit {
        resampled.deallocate()
        pcm.deallocate()
        frame.deallocate()
    }

    /// Drops any partial frame and resampler state.
    public func reset() {
        resampler?.reset()
        filled = 0
    }

    /// Converts agent audio and emits every frame it completes.
    ///
    /// - Parameters:
    ///   - samples: Float32 samples (nominally −1...1) at ``inputRate``, any number.
    ///   - emit: Called with each completed 160-byte frame (valid only during the call).
    /// - Complexity: O(n). Real-time safe: no allocation.
    public func push(_ samples: UnsafeBufferPointer<Float>, _ emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        var offset = 0
        while offset < samples.count {
            let count = Swift.min(Self.block, samples.count - offset)
            let chunk = UnsafeBufferPointer(rebasing: samples[offset..<(offset + count)])
            let produced: Int
            if let resampler {
                produced = resampler.process(chunk, into: resampled)
            } else {
                _ = resampled.update(fromContentsOf: chunk)
                produced = count
            }
            encode(produced, emit)
            offset += count
        }
    }

    /// Ends an utterance: emits the resampler's tail and a last frame padded with µ-law silence (0xFF).
    ///
    /// - Parameter emit: Called with each remaining frame.
    public func flush(_ emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        if let resampler {
            let produced = resampler.flush(into: UnsafeMutableBufferPointer(rebasing: resampled[..<resampler.pendingOutputCount]))
            encode(produced, emit)
            resampler.reset()
        }
        if filled > 0 {
            for i in filled..<Self.frameBytes { frame[i] = 0xFF }
            emit(UnsafeBufferPointer(frame))
            filled = 0
        }
    }

    /// Encodes `count` resampled samples into frames.
    private func encode(_ count: Int, _ emit: (UnsafeBufferPointer<UInt8>) -> Void) {
        for i in 0..<count { pcm[i] = AudioClip.pcm16Sample(resampled[i]) }
        var offset = 0
        while offset < count {
            let take = Swift.min(count - offset, Self.frameBytes - filled)
            MuLaw.encode(
                UnsafeBufferPointer(rebasing: pcm[offset..<(offset + take)]),
                into: UnsafeMutableBufferPointer(rebasing: frame[filled..<(filled + take)]))
            filled += take
            offset += take
            if filled == Self.frameBytes {
                emit(UnsafeBufferPointer(frame))
                filled = 0
            }
        }
    }
}

@available(*, unavailable)
extension OutboundChain: Sendable {}
