//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

@Suite("Opus encoder and decoder")
struct OpusTests {
    /// 20 ms frames of the bundled speech at `rate`, as 16-bit samples.
    static func speechFrames(rate: Int) throws -> [[Int16]] {
        let clip = try WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip
        let samples = rate == 8000 ? clip.samples : try Resampler(inputRate: 8000, outputRate: rate).resample(clip.samples)
        let pcm = AudioClip(sampleRate: rate, samples: samples).pcm16
        let frame = rate / 50
        return stride(from: 0, to: pcm.count - frame + 1, by: frame).map { Array(pcm[$0..<($0 + frame)]) }
    }

    static func encode(_ frames: [[Int16]], with encoder: OpusEncoder) throws -> [[UInt8]] {
        var packet = [UInt8](repeating: 0, count: 1275)
        return try frames.map { frame in
            let count = try frame.withUnsafeBufferPointer { pcm in
                try packet.withUnsafeMutableBufferPointer { try encoder.encode(pcm, into: $0) }
            }
            return Array(packet[..<count])
        }
    }

    /// SNR of `decoded` against `reference`, after removing the codec's delay (searched over 0...max).
    static func snr(_ reference: [Int16], _ decoded: [Int16], maximumDelay: Int) -> Double {
        var best = -Double.infinity
        for delay in 0...maximumDelay {
            var signal = 0.0
            var noise = 0.0
            for i in 0..<(reference.count - maximumDelay) {
                let r = Double(reference[i])
                let d = Double(decoded[i + delay])
                signal += r * r
                noise += (r - d) * (r - d)
            }
            best = max(best, 10 * log10(signal / noise))
        }
        return best
    }

    @Test("speech round-trips at every telephony rate with a sane SNR", arguments: [8000, 16000, 24000, 48000])
    func roundTrip(rate: Int) throws {
        let frames = try Self.speechFrames(rate: rate)
        let encoder = try OpusEncoder(sampleRate: rate, bitrate: 32000)
        let decoder = try OpusDecoder(sampleRate: rate)
        #expect(encoder.bitrate == 32000)
        let packets = try Self.encode(frames, with: encoder)
        #expect(packets.allSatisfy { !$0.isEmpty && $0.count <= 1275 })
        var decoded: [Int16] = []
        var out = [Int16](repeating: 0, count: rate * 120 / 1000)
        for packet in packets {
            let n = try packet.withUnsafeBufferPointer { p in try out.withUnsafeMutableBufferPointer { try decoder.decode(p, into: $0) } }
            #expect(n == rate / 50)
            decoded += out[..<n]
        }
        // Opus is a perceptual codec: waveform SNR on speech at 32 kbit/s is modest but clearly above noise.
        let reference = frames.flatMap { $0 }
        #expect(Self.snr(reference, decoded, maximumDelay: encoder.lookahead + rate / 100) >= 10)
    }

    @Test("a lost packet is concealed, and rebuilt from the next packet's FEC")
    func lossConcealmentAndFEC() throws {
        let rate = 16000
        let frames = Array(try Self.speechFrames(rate: rate)[50..<150])
        let encoder = try OpusEncoder(sampleRate: rate, bitrate: 32000, forwardErrorCorrection: true, expectedPacketLossPercentage: 10)
        let packets = try Self.encode(frames, with: encoder)
        var out = [Int16](repeating: 0, count: 320)
        func decodeAll(lose lost: Int, recover: Bool) throws -> [Int16] {
            let decoder = try OpusDecoder(sampleRate: rate)
            var pcm: [Int16] = []
            for (index, packet) in packets.enumerated() {
                let n: Int
                if index == lost {
                    n = try out.withUnsafeMutableBufferPointer { buffer in
                        recover
                            ? try packets[index + 1].withUnsafeBufferPointer { try decoder.recover(from: $0, into: buffer) }
                            : try decoder.conceal(into: buffer)
                    }
                } else {
                    n = try packet.withUnsafeBufferPointer { p in try out.withUnsafeMutableBufferPointer { try decoder.decode(p, into: $0) }
                    }
                }
                #expect(n == 320)
                pcm += out[..<n]
            }
            return pcm
        }
        let clean = try decodeAll(lose: -1, recover: false)
        // Lose the loudest frame of the middle of the stretch.
        let energies = frames.map { frame in frame.reduce(0.0) { $0 + Double($1) * Double($1) } }
        let lost = (20..<80).max { energies[$0] < energies[$1] }!
        let concealed = try decodeAll(lose: lost, recover: false)
        let recovered = try decodeAll(lose: lost, recover: true)
        // Error energy in the lost frame and the one after, against the clean decode.
        func error(_ pcm: [Int16]) -> Double {
            var sum = 0.0
            for i in (lost * 320)..<((lost + 2) * 320) {
                let d = Double(pcm[i]) - Double(clean[i])
                sum += d * d
            }
            return sum
        }
        #expect(concealed[lost * 320..<(lost + 1) * 320].contains { $0 != 0 }, "PLC produces audio, not silence")
        #expect(error(concealed) > 0, "concealment is an estimate")
        #expect(error(recovered) < error(concealed), "FEC rebuilds the lost frame better than concealment")
    }

    @Test("bad packets and bad arguments give typed errors")
    func errors() throws {
        #expect(throws: OpusError.badArgument) { try OpusEncoder(sampleRate: 44100) }
        #expect(throws: OpusError.badArgument) { try OpusDecoder(sampleRate: 11025) }
        let encoder = try OpusEncoder(sampleRate: 8000)
        var packet = [UInt8](repeating: 0, count: 1275)
        let oddFrame = [Int16](repeating: 0, count: 100)  // 12.5 ms: not an Opus frame size
        #expect(throws: OpusError.badArgument) {
            _ = try oddFrame.withUnsafeBufferPointer { pcm in
                try packet.withUnsafeMutableBufferPointer { try encoder.encode(pcm, into: $0) }
            }
        }
        let decoder = try OpusDecoder(sampleRate: 8000)
        var out = [Int16](repeating: 0, count: 960)
        for garbage: [UInt8] in [[], [0xFF, 0xFF, 0xFF], [0x0B] + [UInt8](repeating: 0xFF, count: 3)] {
            #expect(throws: OpusError.self) {
                _ = try garbage.withUnsafeBufferPointer { p in try out.withUnsafeMutableBufferPointer { try decoder.decode(p, into: $0) } }
            }
        }
        #expect(OpusError.invalidPacket.description == "opus: corrupted stream")
    }
}

@Suite("OpusJitterDecoder")
struct OpusJitterDecoderTests {
    @Test("lost packets are rebuilt from FEC when the next packet is buffered, concealed otherwise")
    func lossHandling() throws {
        let rate = 16000
        let frames = Array(try OpusTests.speechFrames(rate: rate)[50..<250])
        let encoder = try OpusEncoder(sampleRate: rate, bitrate: 32000, forwardErrorCorrection: true, expectedPacketLossPercentage: 10)
        let packets = try OpusTests.encode(frames, with: encoder)
        let decoder = try OpusJitterDecoder(sampleRate: rate)
        let lost: Set<Int> = [30, 60, 61, 120]
        var out = [Int16](repeating: 0, count: 320)
        var sources: [OpusJitterDecoder.Source] = []
        for tick in 0..<(packets.count + 6) {
            let now = Double(tick) * 20
            // Packet n arrives at n × 20 + 60 ms: the one after a lost packet is buffered by its turn.
            let arriving = tick - 3
            if arriving >= 0 && arriving < packets.count && !lost.contains(arriving) {
                packets[arriving].withUnsafeBytes { _ = decoder.receive(sequence: arriving, packet: $0, arrival: now) }
            }
            sources.append(out.withUnsafeMutableBufferPointer { decoder.tick(at: now, into: $0) })
        }
        let recovered = Set(sources.compactMap { if case .recovered(let s) = $0 { s } else { nil } })
        let concealed = Set(sources.compactMap { if case .concealed(let s) = $0 { s } else { nil } }.filter { $0 < packets.count })
        // 60's successor 61 is lost too: 60 is concealed; 61 is rebuilt from 62; 30 and 120 from their successors.
        #expect(recovered == [30, 61, 120])
        #expect(concealed == [60])
        #expect(decoder.jitterBuffer.statistics.lost >= lost.count)
    }
}
