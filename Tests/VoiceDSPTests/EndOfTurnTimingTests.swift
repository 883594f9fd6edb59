//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// When the end of a turn comes, measured against the speech itself: real utterances (Allison Smith's
/// prompts, `TestVectors/speech/domain`) through the whole inbound chain as Twilio frames, then silence.
@Suite("End of turn timing")
struct EndOfTurnTimingTests {
    /// The 28 recorded utterances, as µ-law frames.
    static let utterances: [(name: String, frames: [[UInt8]])] = {
        let directory = TestVectors.path("speech/domain")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".wav") }.sorted()) ?? []
        return names.map { name in
            let pcm = try! WAVFile(path: directory + "/" + name).clip.pcm16
            let frames = stride(from: 0, to: pcm.count - 159, by: 160).map { start in pcm[start..<(start + 160)].map(MuLaw.encode) }
            return (name, frames)
        }
    }()

    /// Where speech really ends: after the last 20 ms frame above −40 dBFS (the simulated caller's own
    /// measure of its last speech sample), in samples at 8 kHz.
    static func speechEnd(_ frames: [[UInt8]]) -> Int {
        let last = frames.lastIndex { frame in
            let power =
                frame.reduce(Float(0)) { sum, code in
                    let sample = Float(MuLaw.decode(code)) / 32768
                    return sum + sample * sample
                } / 160
            return power > 1e-4
        }
        return ((last ?? -1) + 1) * 160
    }

    /// Runs one utterance and 1.5 s of silence through a chain; returns the end-of-turn event's positions.
    static func endOfTurn(
        _ frames: [[UInt8]], model: VoiceActivityDetector.Model, speechEndRange: Float?
    ) throws -> (lastSpeechEnd: Int, detectedAt: Int)? {
        let chain = try InboundChain(
            configuration: .init(
                outputRate: 8000, voiceActivity: .init(model: model), endpointer: .init(speechEndRange: speechEndRange)))
        let silence = [UInt8](repeating: 0xFF, count: 160)
        let all = frames + Array(repeating: silence, count: 75)
        for (index, frame) in all.enumerated() {
            _ = frame.withUnsafeBytes { chain.receive(sequence: index, payload: $0, arrival: Double(index) * 20) }
            while let tick = chain.tick(at: Double(index) * 20) {
                if case .endOfTurn(let last, let detected)? = tick.event { return (last, detected) }
            }
        }
        return nil
    }

    /// The end of turn's lag behind the speech's last loud frame, per utterance (ms).
    static func lags(model: VoiceActivityDetector.Model, speechEndRange: Float?) throws -> [Double] {
        try utterances.compactMap { name, frames in
            let event = try #require(try endOfTurn(frames, model: model, speechEndRange: speechEndRange), "\(name): no end of turn")
            // The decision comes exactly the trailing silence after the end it places.
            #expect(event.detectedAt - event.lastSpeechEnd == 4000)
            return Double(event.lastSpeechEnd - speechEnd(frames)) / 8
        }.sorted()
    }

    @Test(
        "the turn ends the trailing silence after the caller's last sound, not after the detector's release",
        arguments: VoiceActivityDetector.Model.allCases)
    func endOfTurnAfterSpeech(model: VoiceActivityDetector.Model) throws {
        let released = try Self.lags(model: model, speechEndRange: nil)
        let placed = try Self.lags(model: model, speechEndRange: Endpointer.Configuration().speechEndRange)
        #expect(placed.count == Self.utterances.count)
        // Every utterance: the end is placed at the last frame above −40 dBFS or one 20 ms frame later (quieter
        // frames within 35 dB of the loudest count as speech too), never before it.
        #expect(placed.allSatisfy { (0...20).contains($0) }, "lags \(placed)")
        // The detector's own release, for the record: the silence counted from it comes that much later.
        #expect(released[released.count / 2] >= 40, "release \(released)")
        print(
            "\(model): release p50 \(released[released.count / 2]) ms (\(released.first!)-\(released.last!)); "
                + "placed by level p50 \(placed[placed.count / 2]) ms (\(placed.first!)-\(placed.last!))")
    }
}
