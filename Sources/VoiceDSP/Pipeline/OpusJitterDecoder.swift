//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Opus packets through a ``JitterBuffer`` into an ``OpusDecoder``, with loss handled by the codec: a gap
/// is rebuilt from the in-band FEC of the packet after it when that packet is already buffered, and
/// concealed by libopus's packet-loss concealment otherwise.
///
/// Call ``receive(sequence:packet:arrival:)`` as packets arrive and ``tick(at:into:)`` once per packet
/// duration. Allocation-free after init.
///
/// - Important: Not thread-safe: use from one task.
public final class OpusJitterDecoder {
    /// Where a tick's audio came from.
    public enum Source: Sendable, Equatable {
        /// A received packet.
        case packet(sequence: Int)
        /// A lost packet rebuilt from the next packet's FEC data.
        case recovered(sequence: Int)
        /// A lost packet concealed by libopus.
        case concealed(sequence: Int)
        /// The jitter buffer is filling: silence.
        case buffering
    }

    /// The jitter buffer (for its statistics).
    public let jitterBuffer: JitterBuffer
    private let decoder: OpusDecoder
    private let samplesPerPacket: Int
    private let packet: UnsafeMutableRawBufferPointer
    /// FEC rebuilds, PLC concealments.
    public private(set) var recovered = 0
    public private(set) var concealed = 0

    /// Creates a decoder for a stream of `packetMilliseconds` packets at `sampleRate`.
    ///
    /// - Throws: ``OpusError`` for a rate libopus does not support.
    public init(
        sampleRate: Int, packetMilliseconds: Int = 20, jitterBuffer configuration: JitterBuffer.Configuration = .init()
    ) throws(OpusError) {
        decoder = try OpusDecoder(sampleRate: sampleRate)
        samplesPerPacket = sampleRate * packetMilliseconds / 1000
        var configuration = configuration
        configuration.frameBytes = 1275
        configuration.frameDuration = .milliseconds(packetMilliseconds)
        jitterBuffer = JitterBuffer(configuration: configuration)
        packet = .allocate(byteCount: 1275, alignment: 16)
    }

    deinit { packet.deallocate() }

    /// Hands an arriving packet to the jitter buffer.
    @discardableResult
    public func receive(sequence: Int, packet: UnsafeRawBufferPointer, arrival: Double) -> JitterBuffer.InsertResult {
        jitterBuffer.insert(sequence: sequence, payload: packet, arrival: arrival)
    }

    /// Plays out one packet's worth of audio.
    ///
    /// - Parameters:
    ///   - time: Now, in milliseconds on the arrivals' clock.
    ///   - output: Receives one packet duration of samples.
    /// - Returns: Where the audio came from. A corrupt packet is concealed like a lost one.
    public func tick(at time: Double, into output: UnsafeMutableBufferPointer<Int16>) -> Source {
        precondition(output.count >= samplesPerPacket)
        let pcm = UnsafeMutableBufferPointer(rebasing: output[..<samplesPerPacket])
        switch jitterBuffer.pop(into: packet, at: time) {
        case .frame(let sequence, let bytes):
            let data = UnsafeBufferPointer(start: packet.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes)
            if (try? decoder.decode(data, into: pcm)) != nil { return .packet(sequence: sequence) }
            concealed += 1
            _ = try? decoder.conceal(into: pcm)
            return .concealed(sequence: sequence)
        case .conceal(let sequence):
            if let bytes = jitterBuffer.peek(sequence: sequence + 1, into: packet) {
                let next = UnsafeBufferPointer(start: packet.baseAddress!.assumingMemoryBound(to: UInt8.self), count: bytes)
                if (try? decoder.recover(from: next, into: pcm)) != nil {
                    recovered += 1
                    return .recovered(sequence: sequence)
                }
            }
            concealed += 1
            if (try? decoder.conceal(into: pcm)) == nil { pcm.update(repeating: 0) }
            return .concealed(sequence: sequence)
        case .buffering:
            pcm.update(repeating: 0)
            return .buffering
        }
    }
}

@available(*, unavailable)
extension OpusJitterDecoder: Sendable {}
