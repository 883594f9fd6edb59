//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Metrics
import MetricsTestKit
import Synchronization
import Testing
import VoiceAgent
import VoiceDSP
import VoicePipeTestSupport

/// The recorded speech of TestVectors/speech/demo-call.wav (8 kHz), by prompt (sample ranges from its README).
enum Speech {
    static let clip = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.samples
    /// "The person at extension" (2.04 s).
    static let thePerson = Array(clip[14291..<30609])
    /// "The person at extension two zero one is unavailable": five prompts, their own leading and trailing
    /// silence trimmed, joined by exactly 300 ms of silence.
    static let sentenceWithPauses: [Float] = {
        let prompts = [14291..<30609, 33009..<38987, 41387..<48385, 50785..<58075, 60475..<70436]
        var joined: [Float] = []
        for (index, range) in prompts.enumerated() {
            if index > 0 { joined += silence(300) }
            joined += trimmed(Array(clip[range]))
        }
        return joined
    }()
    /// Without leading and trailing stretches quieter than -40 dBFS (in 10 ms windows).
    static func trimmed(_ samples: [Float]) -> [Float] {
        let windows = stride(from: 0, to: samples.count - 80, by: 80).filter { start in
            samples[start..<(start + 80)].map { $0 * $0 }.reduce(0, +) / 80 > 1e-4
        }
        guard let first = windows.first, let last = windows.last else { return [] }
        return Array(samples[first..<(last + 80)])
    }
    /// The end of the last 10 ms window louder than -40 dBFS (in samples).
    static func lastLoud(_ samples: [Float]) -> Int {
        var end = 0
        for start in stride(from: 0, to: samples.count - 80, by: 80) {
            var power: Float = 0
            for sample in samples[start..<(start + 80)] { power += sample * sample }
            if power / 80 > 1e-4 { end = start + 80 }
        }
        return end
    }
    /// "Please try your call again later." (2.17 s).
    static let pleaseTry = Array(clip[78436..<95766])
    /// 120 ms from the middle of "two": a cough-length burst of real voice.
    static let burst = Array(clip[35000..<35960])
    static func silence(_ milliseconds: Int) -> [Float] { [Float](repeating: 0, count: milliseconds * 8) }
}

/// A scripted agent: text then audio (a tone), after `delay` ms of "thinking".
struct ScriptedAgent: Agent {
    var text: String
    var milliseconds: Int
    var hangUp = false
    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        let tone = ToneAgent(duration: .milliseconds(milliseconds), sampleRate: 16000).tone
        return AsyncThrowingStream { continuation in
            continuation.yield(.text(text))
            continuation.yield(.audio(tone, sampleRate: 16000))
            if hangUp { continuation.yield(.hangUp) }
            continuation.finish()
        }
    }
}

/// A call on a virtual clock: the caller's audio through a real InboundChain (Silero VAD, Endpointer), the
/// controller, an agent that answers after `agentDelay` ms, and a transport that plays agent audio at
/// real-time pace and reports what has played.
final class Conversation {
    let chain: InboundChain
    let controller: TurnTakingController
    let agent: any Agent
    let agentDelay: Double
    var now = 0.0
    var sequence = 0
    var caller: [Float] = []  // 8 kHz, consumed 160 samples per tick
    var callerOffset = 0
    var intents: [TurnTakingController.Intent] = []
    var log: [(time: Double, intent: TurnTakingController.Intent)] = []
    var speechFrames: [Double] = []  // tick times the VAD called speech
    private var pending: [(time: Double, turn: Int, delivery: Delivery)] = []
    private var playing: [(utterance: Int, remaining: Double, played: Double, complete: Bool, queuedAt: Double)] = []
    var hungUp: Double?
    var clears: [Double] = []
    var interrupted: [(turn: Int, heard: String)] = []
    let listener = RecordingListener()
    var streamed: [[Float]] { listener.chunks.withLock { $0 } }

    enum Delivery {
        case output(AgentOutput)
        case finished
    }

    init(
        agent: any Agent, agentDelay: Double = 50, configuration: TurnTakingController.Configuration = .init(),
        metricsFactory: (any MetricsFactory)? = nil
    ) throws {
        chain = try InboundChain()
        controller =
            if let metricsFactory { TurnTakingController(configuration: configuration, metricsFactory: metricsFactory) } else {
                TurnTakingController(configuration: configuration)
            }
        self.agent = agent
        self.agentDelay = agentDelay
        controller.listener = agent.callerAudioListener ?? listener
    }

    func say(_ samples: [Float]) { caller += samples }

    /// Runs until the caller's audio is used up plus `extra` ms.
    func run(extra: Double = 0, until stop: ((Conversation) -> Bool)? = nil) async throws {
        let end = Double((caller.count - callerOffset) / 160 * 20) + now + extra
        while now < end, hungUp == nil {
            now += 20
            // Agent outputs that are due.
            let due = pending.filter { $0.time <= now }
            pending.removeAll { $0.time <= now }
            for item in due {
                switch item.delivery {
                case .output(let output): controller.agentOutput(output, turn: item.turn, at: now, into: &intents)
                case .finished: controller.agentFinished(turn: item.turn, at: now, into: &intents)
                }
            }
            try await handleIntents()
            // Playback: 20 ms per tick.
            if var head = playing.first, head.queuedAt < now {
                let step = min(20, head.remaining)
                head.remaining -= step
                head.played += step
                playing[0] = head
                if step > 0 || head.complete {
                    controller.played(
                        utterance: head.utterance, playedMilliseconds: head.played, finished: head.complete && head.remaining == 0,
                        cleared: false, at: now, into: &intents)
                }
                if head.complete && head.remaining == 0 { playing.removeFirst() }
            }
            try await handleIntents()
            // The caller: one 20 ms µ-law frame through the chain.
            var frame = [Float](repeating: 0, count: 160)
            if callerOffset + 160 <= caller.count { frame = Array(caller[callerOffset..<(callerOffset + 160)]) }
            callerOffset += 160
            var pcm = frame.map(AudioClip.pcm16Sample)
            var codes = [UInt8](repeating: 0xFF, count: 160)
            pcm.withUnsafeMutableBufferPointer { input in
                codes.withUnsafeMutableBufferPointer { MuLaw.encode(UnsafeBufferPointer(input), into: $0) }
            }
            sequence += 1
            codes.withUnsafeBytes { _ = chain.receive(sequence: sequence, payload: $0, arrival: now) }
            let tick = try #require(chain.tick(at: now))  // in-order play-out: the frame just received
            if tick.decision.isSpeech { speechFrames.append(now) }
            controller.process(tick, at: now, into: &intents)
            try await handleIntents()
            if let stop, stop(self) { break }
        }
    }

    private func handleIntents() async throws {
        while !intents.isEmpty {
            let intent = intents.removeFirst()
            log.append((now, intent))
            switch intent {
            case .startAgent(let turn):
                controller.agentStarted(turn: turn.number, at: now)
                var outputs: [AgentOutput] = []
                for try await output in agent.reply(to: turn) { outputs.append(output) }
                for output in outputs { pending.append((now + agentDelay, turn.number, .output(output))) }
                pending.append((now + agentDelay, turn.number, .finished))
            case .cancelAgent(let turn):
                pending.removeAll { $0.turn == turn }
            case .play(let samples, let rate, let utterance):
                let milliseconds = Double(samples.count) * 1000 / Double(rate)
                if let index = playing.firstIndex(where: { $0.utterance == utterance }) {
                    playing[index].remaining += milliseconds
                } else {
                    playing.append((utterance, milliseconds, 0, false, now))
                }
            case .endUtterance(let utterance):
                if let index = playing.firstIndex(where: { $0.utterance == utterance }) { playing[index].complete = true }
            case .clear:
                clears.append(now)
                for item in playing {
                    controller.played(
                        utterance: item.utterance, playedMilliseconds: item.played, finished: false, cleared: true, at: now,
                        into: &intents)
                }
                playing.removeAll()
            case .hangUp:
                hungUp = now
            case .startGreeting:
                Issue.record("no greeting was asked for")
            case .notifyAgent(let event):
                if case .interrupted(let number, let heard, _) = event { interrupted.append((number, heard)) }
                await agent.observe(event)
            }
        }
    }

    var starts: [Double] { log.compactMap { if case .startAgent = $0.intent { $0.time } else { nil } } }
    var firstPlays: [Double] {
        var seen = Set<Int>()
        return log.compactMap { entry in
            guard case .play(_, _, let utterance) = entry.intent, seen.insert(utterance).inserted else { return nil }
            return entry.time
        }
    }
}

@Suite("Turn taking on recorded speech")
struct TurnTakingScenarioTests {
    @Test("a caller speaks ~2 s, then silence: one turn, reply within the trailing silence + 50 ms of agent time")
    func oneTurn() async throws {
        let call = try Conversation(agent: EchoAgent())
        call.say(Speech.silence(500) + Speech.thePerson + Speech.silence(4000))
        try await call.run()
        #expect(call.controller.turns.count == 1)
        #expect(call.starts.count == 1)
        let turn = try #require(call.controller.turns.first)
        let response = try #require(turn.responseLatency)
        // Trailing silence 500 ms, agent 50 ms, plus at most one frame of tick granularity.
        #expect(response >= 500 && response <= 500 + 50 + 20, "response \(response) ms")
        // Against the recording itself: the clip (2.04 s from 0.5 s) ends in 280 ms of near-digital silence; its
        // last sound above -40 dBFS ends 1.74 s in.
        let truthLast = 500 + Double(Speech.lastLoud(Speech.thePerson)) / 8
        let firstPlay = try #require(call.firstPlays.first)
        #expect(firstPlay - truthLast <= 500 + 50 + 40, "reply \(firstPlay - truthLast) ms after the true last sample")
        // The end of speech is placed by level, not where the detector let go (about 100 ms later): within a
        // frame of the last sound (the decision is stamped when the deciding frame arrived).
        #expect(abs(turn.callerLastSpeech! - truthLast) <= 20, "last speech \(turn.callerLastSpeech!) ms, truth \(truthLast) ms")
        // The pipeline itself adds nothing beyond tick granularity here (the agent's 50 ms excluded).
        #expect(try #require(turn.pipelineAdded) <= 20)
        #expect(call.controller.state == .listening)
        // The echo agent played the utterance back: about its length, pre-roll included.
        #expect(turn.heardText == "(echo of turn 1)")
    }

    @Test("300 ms pauses inside a sentence do not end the turn")
    func pausesInsideSentence() async throws {
        let call = try Conversation(agent: ToneAgent())
        call.say(Speech.silence(300) + Speech.sentenceWithPauses + Speech.silence(1500))
        try await call.run()
        #expect(call.controller.turns.count == 1)
        #expect(call.starts.count == 1)
        let truthLast = 300 + Double(Speech.sentenceWithPauses.count) / 8
        #expect(abs(try #require(call.controller.turns.first?.callerLastSpeech) - truthLast) <= 200)
    }

    @Test("an early start on a short silence is cancelled when the caller goes on, and the reply waits for the real end")
    func earlyStart() async throws {
        let call = try Conversation(agent: ToneAgent(), configuration: .init(earlyStart: .milliseconds(200)))
        call.say(Speech.silence(300) + Speech.sentenceWithPauses + Speech.silence(1500))
        try await call.run()
        #expect(call.controller.turns.count == 1)
        let cancels = call.log.filter { if case .cancelAgent = $0.intent { true } else { false } }
        #expect(call.starts.count == cancels.count + 1 && cancels.count >= 1, "\(call.starts.count) starts")
        // The reply was released only at the confirmed end of turn, and then at once (the agent ran early).
        let turn = try #require(call.controller.turns.first)
        let released = try #require(call.firstPlays.first)
        #expect(released >= turn.endOfTurnDecision!)
        #expect(released - turn.endOfTurnDecision! <= 20)
        #expect(call.firstPlays.count == 1)
    }

    @Test("barge-in after 400 ms of agent audio: clear within a frame of the threshold, transcript cut at the played position")
    func bargeIn() async throws {
        let words = "one two three four five six seven eight nine ten"
        let call = try Conversation(agent: ScriptedAgent(text: words, milliseconds: 3000))
        call.say(Speech.silence(300) + Speech.thePerson + Speech.silence(3000))
        // Run until the reply has played 400 ms, then the caller speaks again.
        try await call.run(until: { call in call.firstPlays.first.map { call.now >= $0 + 400 } ?? false })
        let firstPlay = try #require(call.firstPlays.first)
        call.caller = Array(call.caller[..<call.callerOffset])
        let speechStart = call.now
        call.say(Speech.pleaseTry + Speech.silence(2000))
        try await call.run()

        let clear = try #require(call.clears.first)
        #expect(call.clears.count == 1)
        // The VAD's first speech frame after the caller began, then 200 ms of speech: clear within one frame.
        let firstSpeech = try #require(call.speechFrames.first { $0 > speechStart })
        #expect(clear - firstSpeech <= 200 + 20, "clear \(clear - firstSpeech) ms after the VAD's first speech frame")
        // What played: from the first play to the clear.
        let played = clear - firstPlay
        #expect(played >= 400 && played <= 400 + 400, "played \(played) ms")
        let heard = try #require(call.interrupted.first)
        #expect(heard.turn == 1)
        let expectedWords = Int((played / 3000 * 10).rounded(.up))
        #expect(
            heard.heard == words.split(separator: " ").prefix(expectedWords).joined(separator: " "), "\(heard.heard) after \(played) ms")
        #expect(call.controller.turns[0].interrupted && call.controller.turns[0].heardText == heard.heard)
        // The interruption opened turn 2, which ends and gets its own reply.
        #expect(call.controller.turns.count == 2)
        #expect(call.starts.count == 2)
    }

    @Test("a 120 ms burst of voice while the agent speaks does not interrupt")
    func coughDoesNotInterrupt() async throws {
        let call = try Conversation(agent: ScriptedAgent(text: "a long answer", milliseconds: 3000))
        call.say(Speech.silence(300) + Speech.thePerson + Speech.silence(3000))
        try await call.run(until: { call in call.firstPlays.first.map { call.now >= $0 + 400 } ?? false })
        call.caller = Array(call.caller[..<call.callerOffset])
        call.say(Speech.burst + Speech.silence(3500))
        try await call.run()
        #expect(call.clears.isEmpty)
        #expect(call.controller.turns.count == 1)
        #expect(call.controller.turns[0].heardText == "a long answer" && !call.controller.turns[0].interrupted)
    }

    @Test("the agent hangs up: the call ends once its audio has played")
    func agentHangsUp() async throws {
        let call = try Conversation(agent: ToneAgent(duration: .milliseconds(600), hangUpAfter: 1))
        call.say(Speech.silence(300) + Speech.thePerson + Speech.silence(3000))
        try await call.run()
        let hungUp = try #require(call.hungUp)
        let firstPlay = try #require(call.firstPlays.first)
        #expect(hungUp >= firstPlay + 600 && hungUp <= firstPlay + 600 + 40)
        #expect(call.controller.state == .ended)
        var intents: [TurnTakingController.Intent] = []
        call.controller.callEnded(into: &intents)
        #expect(intents.isEmpty)  // already ended: nothing more to do
    }
}

@Suite("Turn taking: metrics and streaming")
struct TurnTakingMetricsTests {
    @Test("per-turn figures reach swift-metrics; the caller's audio streams to the listener during the turn")
    func metricsAndStreaming() async throws {
        let metrics = TestMetrics()
        let call = try Conversation(
            agent: ToneAgent(), metricsFactory: metrics)
        call.say(Speech.silence(300) + Speech.thePerson + Speech.silence(2000))
        try await call.run()
        let turn = try #require(call.controller.turns.first)
        let response = try metrics.expectTimer("voicepipe_turn_response_seconds")
        #expect(response.values == [Int64(turn.responseLatency! * 1e6)])
        #expect(try metrics.expectTimer("voicepipe_turn_pipeline_added_seconds").values.count == 1)
        #expect(try metrics.expectTimer("voicepipe_turn_end_of_turn_seconds").values.count == 1)
        let played = try metrics.expectTimer("voicepipe_turn_first_audio_played_seconds").values
        #expect(played.count == 1 && played[0] > Int64(turn.responseLatency! * 1e6))
        // Streaming: the pre-roll, then 20 ms (320 samples) per tick of the turn.
        let chunks = call.streamed
        #expect(chunks.first?.count == 4800)
        #expect(chunks.dropFirst().allSatisfy { $0.count == 320 } && chunks.count > 50)
        #expect(chunks.joined().count >= Speech.thePerson.count * 2)
        #expect(call.listener.ends.withLock { $0 } == [1])
    }
}

/// Records what the controller streams to an agent's listener.
final class RecordingListener: CallerAudioListener {
    let chunks = Mutex<[[Float]]>([])
    let ends = Mutex<[Int]>([])
    func hear(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, turn: Int) { chunks.withLock { $0.append(Array(samples)) } }
    func turnEnded(_ turn: Int) { ends.withLock { $0.append(turn) } }
}
