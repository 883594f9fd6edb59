//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import COpus
import COpusShims

/// A mono Opus encoder (libopus) that owns its C state: created in `init`, destroyed exactly once in
/// `deinit`, never copied (a class with no way to reach the pointer).
///
/// - Important: Not thread-safe: one encoder per stream.
/// - Note: ``encode(_:into:)`` does not allocate.
public final class OpusEncoder {
    /// What the encoder optimises for.
    public enum Application: Sendable, Hashable {
        /// `OPUS_APPLICATION_VOIP`: speech intelligibility, the right choice for calls.
        case voip
        /// `OPUS_APPLICATION_AUDIO`: fidelity for music and mixed content.
        case audio

        var code: Int32 { self == .voip ? OPUS_APPLICATION_VOIP : OPUS_APPLICATION_AUDIO }
    }

    /// The sample rate, in Hz (8,000, 12,000, 16,000, 24,000 or 48,000).
    public let sampleRate: Int
    private let state: OpaquePointer

    /// Creates an encoder.
    ///
    /// - Parameters:
    ///   - sampleRate: 8,000, 12,000, 16,000, 24,000 or 48,000 Hz.
    ///   - application: `.voip` by default.
    ///   - bitrate: Bits per second (500...512,000), or nil for libopus's default for the rate.
    ///   - forwardErrorCorrection: Adds in-band FEC so that a lost packet can be rebuilt from the next one.
    ///   - expectedPacketLossPercentage: Tells the encoder how much loss to prepare FEC for (0...100).
    /// - Throws: ``OpusError`` for invalid settings.
    public init(
        sampleRate: Int, application: Application = .voip, bitrate: Int? = nil, forwardErrorCorrection: Bool = false,
        expectedPacketLossPercentage: Int = 0
    ) throws(OpusError) {
        var error: Int32 = 0
        guard [8000, 12000, 16000, 24000, 48000].contains(sampleRate),
            let state = opus_encoder_create(Int32(sampleRate), 1, application.code, &error)
        else { throw error < 0 ? OpusError(rawValue: error) : .badArgument }
        self.state = state
        self.sampleRate = sampleRate
        if let bitrate { try Self.check(copus_encoder_set_bitrate(state, Int32(clamping: bitrate))) }
        try Self.check(copus_encoder_set_inband_fec(state, forwardErrorCorrection ? 1 : 0))
        try Self.check(copus_encoder_set_packet_loss_percentage(state, Int32(clamping: expectedPacketLossPercentage)))
    }

    deinit { opus_encoder_destroy(state) }

    private static func check(_ status: Int32) throws(OpusError) {
        if status < 0 { throw OpusError(rawValue: status) }
    }

    /// The bitrate in use, in bits per second.
    public var bitrate: Int {
        var value: Int32 = 0
        _ = copus_encoder_get_bitrate(state, &value)
        return Int(value)
    }

    /// The encoder's look-ahead, in samples: the delay it adds.
    public var lookahead: Int {
        var value: Int32 = 0
        _ = copus_encoder_get_lookahead(state, &value)
        return Int(value)
    }

    /// Encodes one frame.
    ///
    /// - Parameters:
    ///   - frame: 2.5, 5, 10, 20, 40 or 60 ms of 16-bit samples at ``sampleRate``.
    ///   - packet: Receives the packet; 1,275 bytes always suffice.
    /// - Returns: The packet's length in bytes.
    /// - Throws: ``OpusError/badArgument`` for a frame length Opus does not allow, or
    ///   ``OpusError/bufferTooSmall``.
    public func encode(_ frame: UnsafeBufferPointer<Int16>, into packet: UnsafeMutableBufferPointer<UInt8>) throws(OpusError) -> Int {
        guard let pcm = frame.baseAddress, let out = packet.baseAddress else { throw .badArgument }
        let bytes = opus_encode(state, pcm, Int32(frame.count), out, Int32(clamping: packet.count))
        if bytes < 0 { throw OpusError(rawValue: bytes) }
        return Int(bytes)
    }
}

@available(*, unavailable)
extension OpusEncoder: Sendable {}
