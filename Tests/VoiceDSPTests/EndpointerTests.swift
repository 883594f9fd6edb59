//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceDSP

@Suite("Endpointer")
struct EndpointerTests {
    /// Feeds 20 ms frames at 8 kHz following `pattern` (milliseconds of speech / silence, alternating,
    /// starting with speech) and collects the events.
    static func run(_ pattern: [Int], configuration: Endpointer.Configuration = .init()) -> [Endpointer.Event] {
        var endpointer = Endpointer(configuration: configuration)
        var events: [Endpointer.Event] = []
        for (index, milliseconds) in pattern.enumerated() {
            for _ in 0..<(milliseconds / 20) {
                if let event = endpointer.process(isSpeech: index % 2 == 0, length: 160) { events.append(event) }
            }
        }
        return events
    }

    @Test("1.5 s of speech then silence: one turn, started at sample 0, ended 500 ms after the last speech")
    func oneTurn() {
        #expect(Self.run([1500, 2000]) == [.speechStarted(speechStart: 0), .endOfTurn(lastSpeechEnd: 12000, detectedAt: 16000)])
    }

    @Test("300 ms pauses inside a sentence do not end the turn")
    func pausesDoNotSplit() {
        let events = Self.run([600, 300, 400, 300, 800, 1000])
        #expect(events == [.speechStarted(speechStart: 0), .endOfTurn(lastSpeechEnd: 19200, detectedAt: 23200)])
    }

    @Test("bursts shorter than the minimum speech duration start nothing")
    func shortBursts() {
        #expect(Self.run([100, 500, 100, 500, 60, 2000]).isEmpty)
    }

    @Test("a turn is cut at the maximum length and a new one starts if speech goes on")
    func maximumTurn() {
        let configuration = Endpointer.Configuration(maximumTurn: .seconds(2))
        let events = Self.run([3000, 1000], configuration: configuration)
        #expect(
            events == [
                .speechStarted(speechStart: 0), .maximumTurnReached(at: 16000), .speechStarted(speechStart: 16000),
                .endOfTurn(lastSpeechEnd: 24000, detectedAt: 28000),
            ])
    }

    @Test("the trailing silence is configurable")
    func trailingSilence() {
        let configuration = Endpointer.Configuration(trailingSilence: .milliseconds(800))
        #expect(
            Self.run([600, 600, 600, 1000], configuration: configuration) == [
                .speechStarted(speechStart: 0), .endOfTurn(lastSpeechEnd: 14400, detectedAt: 20800),
            ])
    }

    @Test("a policy means the same durations at any rate: 500 ms of trailing silence at 16 kHz is 8,000 samples")
    func rateIndependentPolicy() {
        var endpointer = Endpointer(configuration: .init(trailingSilence: .milliseconds(500)), sampleRate: 16000)
        var events: [Endpointer.Event] = []
        for frame in 0..<150 {  // 1 s of speech, then 2 s of silence, in 20 ms frames of 320 samples
            if let event = endpointer.process(isSpeech: frame < 50, length: 320) { events.append(event) }
        }
        #expect(events == [.speechStarted(speechStart: 0), .endOfTurn(lastSpeechEnd: 16000, detectedAt: 24000)])
    }
}
