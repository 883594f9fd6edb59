//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import COpus
import COpusShims

/// A mono Opus decoder (libopus) that owns its C state: created in `init`, destroyed exactly once in
/// `deinit`.
///
/// Besides decoding, it conceals lost packets (``conceal(into:)``: libopus's packet-loss concealment) and
/// rebuilds a lost packet from the FEC data in the packet after it (``recover(from:into:)``).
///
/// - Important: Not thread-safe: one decoder per stream.
/// - Note: Decoding does not allocate.
public final class OpusDecoder {
    /// The output sample rate, in Hz (8,000, 12,000, 16,000, 24,000 or 48,000).
    public let sampleRate: Int
    private let state: OpaquePointer

    /// Creates a decoder.
    ///
    /// - Parameter sampleRate: 8,000, 12,000, 16,000, 24,000 or 48,000 Hz.
    /// - Throws: ``OpusError/badArgument`` for other rates.
    public init(sampleRate: Int) throws(OpusError) {
        var error: Int32 = 0
        guard [8000, 12000, 16000, 24000, 48000].contains(sampleRate),
            let state = opus_decoder_create(Int32(sampleRate), 1, &error)
        else { throw error < 0 ? OpusError(rawValue: error) : .badArgument }
        self.state = state
        self.sampleRate = sampleRate
    }

    deinit { opus_decoder_destroy(state) }

    /// Decodes one packet.
    ///
    /// - Parameters:
    ///   - packet: An Opus packet.
    ///   - output: Room for the packet's samples (120 ms at ``sampleRate`` always suffices).
    /// - Returns: The number of samples written.
    /// - Throws: ``OpusError/invalidPacket`` for a corrupt packet, ``OpusError/bufferTooSmall`` if
    ///   `output` cannot hold it.
    public func decode(_ packet: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) throws(OpusError) -> Int {
        guard let data = packet.baseAddress, packet.count > 0 else { throw .invalidPacket }
        return try run(data, Int32(clamping: packet.count), output, fec: 0)
    }

    /// Conceals one lost packet: libopus extrapolates `output.count` samples from what it has decoded.
    ///
    /// - Parameter output: As many samples as the lost packet held (e.g. 20 ms).
    /// - Returns: The number of samples written.
    public func conceal(into output: UnsafeMutableBufferPointer<Int16>) throws(OpusError) -> Int {
        try run(nil, 0, output, fec: 0)
    }

    /// Rebuilds a lost packet from the in-band FEC data carried by the packet that followed it (or
    /// conceals it if that packet has none).
    ///
    /// - Parameters:
    ///   - next: The packet after the lost one.
    ///   - output: As many samples as the lost packet held.
    /// - Returns: The number of samples written. Decode `next` itself afterwards as usual.
    public func recover(from next: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) throws(OpusError) -> Int {
        guard let data = next.baseAddress, next.count > 0 else { throw .invalidPacket }
        return try run(data, Int32(clamping: next.count), output, fec: 1)
    }

    private func run(
        _ data: UnsafePointer<UInt8>?, _ length: Int32, _ output: UnsafeMutableBufferPointer<Int16>, fec: Int32
    ) throws(OpusError) -> Int {
        guard let pcm = output.baseAddress else { throw .bufferTooSmall }
        let samples = opus_decode(state, data, length, pcm, Int32(clamping: output.count), fec)
        if samples < 0 { throw OpusError(rawValue: samples) }
        return Int(samples)
    }
}

@available(*, unavailable)
extension OpusDecoder: Sendable {}
