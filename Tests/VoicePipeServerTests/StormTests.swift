//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting

/// An echo agent that also keeps every turn it was handed, by call.
final class RecordingEcho: Sendable {
    let turns = Mutex<[String: [CallerTurn]]>([:])

    struct Agent: VoiceAgent.Agent {
        let callSid: String
        let recorder: RecordingEcho
        func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
            recorder.turns.withLock { $0[callSid, default: []].append(turn) }
            return EchoAgent().reply(to: turn)
        }
    }

    func make(_ context: CallContext) -> any VoiceAgent.Agent { Agent(callSid: context.callSid, recorder: self) }
}

@Suite("Connection storm", .serialized)
struct StormTests {
    static let callers = 100

    @Test("100 callers connect at once with distinct speech: every agent hears its caller's audio sample for sample")
    func storm() async throws {
        try await Exclusive.shared.run { try await Self.storm() }
    }

    static func storm() async throws {
        let recorder = RecordingEcho()
        var configuration = VoicePipeServer.Configuration(port: 0, makeAgent: recorder.make)
        configuration.stream.inbound.outputRate = 8000  // the agent hears Twilio's samples unresampled
        let running = try await RunningServer.start(configuration)
        let seconds = 6
        let window = seconds * 8000
        let results = try await withThrowingTaskGroup(of: (String, SimulatedCaller.Result).self) { group in
            for index in 0..<callers {
                // Distinct speech per caller: a 6 s window of the recording, starting 0.21 s later for each caller.
                let start = (index * 1680) % (Speech.clip.count - window)
                let audio = Array(Speech.clip[start..<(start + window)])
                let sid = String(index + 1).leftPadded(to: 32)
                group.addTask {
                    let caller = SimulatedCaller(
                        .init(
                            url: running.mediaURL, audio: audio, tailMilliseconds: 2000,
                            call: .init(callSid: "CA" + sid, streamSid: "MZ" + sid)))
                    return ("CA" + sid, try await caller.run())
                }
            }
            var results: [(String, SimulatedCaller.Result)] = []
            for try await result in group { results.append(result) }
            return results
        }
        try await running.settle(seconds: 10)
        await running.stop()

        #expect(results.count == callers)
        let turns = recorder.turns.withLock { $0 }
        var checkedSamples = 0
        var damagedTurns: [String] = []
        for (callSid, result) in results {
            #expect(result.protocolErrors.isEmpty)
            // What the caller sent, after G.711, is what its agent must have received.
            let sent = result.sent.map { Float(MuLaw.decode($0)) / 32768 }
            let received = turns[callSid] ?? []
            for turn in received {
                #expect(turn.sampleRate == 8000)
                for (index, sample) in turn.audio.enumerated() {
                    let position = turn.startPosition + index
                    let expected: Float = position >= 0 && position < sent.count ? sent[position] : 0
                    if sample != expected {
                        damagedTurns.append("\(callSid) turn \(turn.number): sample \(position)")
                        break
                    }
                }
                checkedSamples += turn.audio.count
            }
        }
        #expect(damagedTurns.isEmpty, "\(damagedTurns.count) damaged turns: \(damagedTurns.prefix(5))")
        #expect(checkedSamples > callers * 8000)  // at least a second of speech per caller was compared
        let stats = running.server.statistics.snapshot
        #expect(stats.damagedCalls == 0)
        #expect(stats.playedFrames == stats.inboundFrames && stats.droppedFrames == 0 && stats.insertedSilence == 0)
        #expect(stats.concealedFrames == 0)
    }
}

extension String {
    func leftPadded(to length: Int) -> String { String(repeating: "0", count: Swift.max(0, length - count)) + self }
}
