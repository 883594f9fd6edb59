//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AgentTestSupport
import Foundation
import Synchronization
import Testing
import VoiceAgent
import VoicePipeServer
import VoicePipeTesting

/// A model that repeats what it heard.
private struct Repeats: LanguageModel {
    func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        let heard = messages.last?.content ?? ""
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("You said: \(heard)."))
            continuation.finish()
        }
    }
}

@Suite("Call records", .serialized)
struct CallRecordTests {
    @Test("GET /calls/{callSid}: the caller's words as recognised, the agent's reply as heard, and each stage's timing")
    func callRecord() async throws {
        try await Exclusive.shared.run {
            var configuration = VoicePipeServer.Configuration(port: 0)
            configuration.makeAgent = { _ in
                CascadeAgent(recognizer: HearsText("the person at extension"), model: Repeats(), synthesizer: Hums())
            }
            configuration.callRecordsToken = "secret"
            let running = try await RunningServer.start(configuration)
            let callSid = "CA" + String(repeating: "1", count: 32)
            let audio = Speech.silence(300) + Speech.thePerson + Speech.silence(300)
            let result = try await SimulatedCaller(
                .init(url: running.mediaURL, audio: audio, tailMilliseconds: 3000, call: .init(callSid: callSid, streamSid: "MZ1"))
            ).run()
            try await running.settle()
            #expect(result.turns.count == 1 && result.turns[0].latency != nil)

            #expect(try await running.get("/calls/\(callSid)").status == 401)
            #expect(try await running.get("/calls/\(callSid)", headers: [("Authorization", "Bearer wrong")]).status == 401)
            #expect(try await running.get("/calls/CAnothere", headers: [("Authorization", "Bearer secret")]).status == 404)
            let response = try await running.get("/calls/\(callSid)", headers: [("Authorization", "Bearer secret")])
            #expect(response.status == 200)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let record = try decoder.decode(CallRecord.self, from: Data(response.body.utf8))
            #expect(record.callSid == callSid && record.ended != nil)
            let turn = try #require(record.turns.first)
            #expect(turn.callerText == "the person at extension")
            #expect(turn.agentText == "You said: the person at extension.")
            #expect(turn.heardText == turn.agentText && !turn.interrupted)
            for stage in ["endOfTurn", "recognizer", "model", "synthesizer", "response", "played"] {
                #expect(turn.latency[stage] != nil, "no \(stage) latency")
            }
            let timeline = turn.timeline
            let ordered = [
                timeline.callerLastSpeech, timeline.endOfTurnDecision, timeline.recognizerFinal, timeline.modelFirstText,
                timeline.synthesizerFirstAudio, timeline.firstAudioToTransport, timeline.firstAudioPlayed,
            ]
            .compactMap { $0 }
            #expect(ordered.count == 7 && ordered == ordered.sorted(), "\(ordered)")
            // The recogniser had the turn before it ended: its final comes within a few tens of ms of the end of turn.
            #expect(try #require(turn.latency["recognizer"]) < 50)
            // The stages reach the metrics too.
            let metrics = try await running.get("/metrics").body
            for stage in ["recognizer", "model", "synthesizer"] {
                #expect(metrics.contains("voicepipe_turn_\(stage)_seconds_count 1"), "no \(stage) timer")
            }
            await running.stop()
        }
    }
}
