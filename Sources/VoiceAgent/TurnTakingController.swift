//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
public import Metrics
public import VoiceDSP

/// Who speaks when: turns the caller's audio and voice-activity events into agent turns, plays the agent's
/// replies, stops them when the caller barges in, and times every turn.
///
/// Synchronous and transport-agnostic: the call's owner task feeds it every ``InboundChain`` tick, the
/// agent's outputs and the transport's playback reports, and carries out the ``Intent``s it returns
/// (start or cancel the agent, play audio, `clear`, hang up). Nothing here waits or spawns tasks.
///
/// ```
/// listening ──speech──▶ callerSpeaking ──end of turn──▶ awaitingAgent ──first audio──▶ agentSpeaking
///     ▲                      ▲                              │ (caller resumes: cancel)        │
///     │                      └────────── barge-in: cancel agent, clear ◀──────────────────────┤
///     └──────────────────────────── reply played to the end ◀─────────────────────────────────┘
/// ```
///
/// - Greeting: ``callStarted(_:into:)`` lets the agent speak first (turn 0); the caller can barge in on it.
/// - End of turn: the ``InboundChain``'s `Endpointer` (trailing silence, minimum speech, maximum turn).
///   With ``Configuration/earlyStart`` the agent starts on a shorter silence; its output is held
///   until the end of turn is confirmed, and it is cancelled if the caller goes on.
/// - Barge-in: caller speech for ``Configuration/bargeIn`` in a row while the agent's audio
///   plays, counting only frames louder than the agent's own level less ``Configuration/echoReturnLossDB``
///   (quieter speech-like audio is taken for the agent's echo). Short noises never reach the threshold.
/// - Transcript: text is placed on the audio that follows it; when a reply is cut, the words are kept in
///   proportion to the audio the transport reports played.
///
/// - Important: Not thread-safe: the call's owner task drives it.
public final class TurnTakingController {
    /// Policy.
    public struct Configuration: Sendable {
        /// Caller speech needed to interrupt the agent (default 200 ms).
        public var bargeIn: Duration
        /// How much quieter than the agent's own output the caller's audio may be and still interrupt, in dB
        /// (default 15; `nil` to ignore levels).
        public var echoReturnLossDB: Float?
        /// Start the agent after this much silence, before the end of turn is confirmed (default `nil`: off).
        public var earlyStart: Duration?
        /// Audio kept from before the detected speech start (default 300 ms).
        public var preRoll: Duration

        /// Creates a policy. The sample rate is the ticks' own (``InboundChain/Tick/sampleRate``).
        public init(
            bargeIn: Duration = .milliseconds(200), echoReturnLossDB: Float? = 15, earlyStart: Duration? = nil,
            preRoll: Duration = .milliseconds(300)
        ) {
            self.bargeIn = bargeIn
            self.echoReturnLossDB = echoReturnLossDB
            self.earlyStart = earlyStart
            self.preRoll = preRoll
        }
    }

    /// Who has the floor.
    public enum State: Sendable, Hashable {
        /// Nobody speaks.
        case listening
        /// The caller's turn is under way.
        case callerSpeaking
        /// The turn ended; the agent's reply has not produced audio yet.
        case awaitingAgent
        /// The agent's reply is playing.
        case agentSpeaking
        /// The call is over.
        case ended
    }

    /// What the owner must do.
    public enum Intent: Sendable {
        /// Run the agent's reply to this turn (and report its outputs with the turn's number).
        case startAgent(CallerTurn)
        /// Run the agent's greeting as turn 0 (``Agent/greeting(for:)``).
        case startGreeting(CallContext)
        /// Cancel the reply to this turn (without waiting: nothing of it is delivered afterwards).
        case cancelAgent(turn: Int)
        /// Tell the agent (``Agent/observe(_:)``).
        case notifyAgent(AgentEvent)
        /// Play agent audio as part of utterance `utterance`.
        case play([Float], sampleRate: Int, utterance: Int)
        /// The utterance is complete.
        case endUtterance(Int)
        /// Stop the agent's audio now (Twilio: `clear`).
        case clear
        /// End the call.
        case hangUp
    }

    /// The policy in use.
    public let configuration: Configuration
    /// Who has the floor.
    public private(set) var state = State.listening
    /// Every turn so far.
    public private(set) var turns: [TurnRecord] = []
    /// The call's latency summary.
    public var summary: CallSummary { CallSummary(turns) }
    /// Hears the caller's audio while a turn is under way (the agent's ``Agent/callerAudioListener``): the
    /// pre-roll when the turn starts, each tick's audio, then the end of the turn; or every tick, when it
    /// ``CallerAudioListener/hearsBetweenTurns``. Called on the owner's task.
    public var listener: (any CallerAudioListener)? {
        didSet { listenerHearsAll = listener?.hearsBetweenTurns ?? false }
    }
    private var listenerHearsAll = false

    // The caller, in samples at the ticks' rate.
    private var sampleRate = 0  // of the ticks; set by the first
    private var position = 0  // the end of the last tick
    private var preRoll: [Float] = []
    private var preRollHead = 0
    private var turnAudio: [Float] = []
    private var turnNumber = 0
    private var turnStart = 0  // the stream position of turnAudio's first sample
    private var silentSamples = 0
    private var bargeInSamples = 0
    private var bargeInSamplesNeeded = 1  // the policy at the ticks' rate
    private var earlyStartSamples: Int?

    // The agent.
    private var agentTurn: Int?  // the turn whose reply is running
    private var held: [AgentOutput]?  // outputs of an early start, until the end of turn is confirmed
    private var utterance = 0
    private var utteranceOpen = false
    private var utteranceTurn = 0
    private var utteranceAudioMilliseconds = 0.0
    private var segments: [(startMilliseconds: Double, text: String)] = []
    private var agentLevel: Float = 0
    private var agentLevelSamples = 0
    private var pendingHangUp = false
    private var heldFinished = false
    private let echoFactor: Float

    private let responseTimer: Metrics.Timer
    private let pipelineTimer: Metrics.Timer
    private let endOfTurnTimer: Metrics.Timer
    private let playedTimer: Metrics.Timer
    private let stageTimers: [ReplyStage: Metrics.Timer]

    /// The stages of a reply that a ``CascadeAgent``-like agent reports, each timed from the step before.
    private enum ReplyStage: Hashable { case recognizer, model, synthesizer }
    private let bargeIns: Counter

    /// Creates a controller.
    ///
    /// - Parameter metricsFactory: Where the per-turn figures go (swift-metrics; by default the bootstrapped
    ///   backend, a no-op unless the app bootstraps one): timers `voicepipe_turn_response_seconds` (caller's
    ///   last speech to first reply audio handed over), `voicepipe_turn_pipeline_added_seconds`,
    ///   `voicepipe_turn_end_of_turn_seconds` (last speech to the decision),
    ///   `voicepipe_turn_first_audio_played_seconds` (last speech to first reply audio played), for agents that
    ///   report ``ReplyProgress`` `voicepipe_turn_recognizer_seconds` (end-of-turn decision to the recogniser's
    ///   final), `voicepipe_turn_model_seconds` (final to the model's first text) and
    ///   `voicepipe_turn_synthesizer_seconds` (first text to the synthesiser's first audio), and the counter
    ///   `voicepipe_barge_ins_total`.
    public init(configuration: Configuration = Configuration(), metricsFactory: any MetricsFactory = MetricsSystem.factory) {
        responseTimer = Metrics.Timer(label: "voicepipe_turn_response_seconds", factory: metricsFactory)
        pipelineTimer = Metrics.Timer(label: "voicepipe_turn_pipeline_added_seconds", factory: metricsFactory)
        endOfTurnTimer = Metrics.Timer(label: "voicepipe_turn_end_of_turn_seconds", factory: metricsFactory)
        playedTimer = Metrics.Timer(label: "voicepipe_turn_first_audio_played_seconds", factory: metricsFactory)
        stageTimers = [
            .recognizer: Metrics.Timer(label: "voicepipe_turn_recognizer_seconds", factory: metricsFactory),
            .model: Metrics.Timer(label: "voicepipe_turn_model_seconds", factory: metricsFactory),
            .synthesizer: Metrics.Timer(label: "voicepipe_turn_synthesizer_seconds", factory: metricsFactory),
        ]
        bargeIns = Counter(label: "voicepipe_barge_ins_total", factory: metricsFactory)
        self.configuration = configuration
        echoFactor = configuration.echoReturnLossDB.map { Float(pow(10, Double(-$0) / 20)) } ?? 0
    }

    /// Sizes the buffers and thresholds for the ticks' rate (on the first tick, or when the rate changes).
    private func adopt(sampleRate rate: Int) {
        sampleRate = rate
        bargeInSamplesNeeded = max(1, configuration.bargeIn.sampleCount(at: rate))
        earlyStartSamples = configuration.earlyStart?.sampleCount(at: rate)
        preRoll = [Float](repeating: 0, count: max(1, configuration.preRoll.sampleCount(at: rate)))
        preRollHead = 0
        turnAudio.reserveCapacity(rate * 10)
    }

    /// Milliseconds of audio in `count` samples at the ticks' rate.
    private func milliseconds(_ count: Int) -> Double { sampleRate > 0 ? Double(count) * 1000 / Double(sampleRate) : 0 }

    // MARK: - The caller

    /// Takes one tick of the caller's side (any length and rate: the tick says which).
    ///
    /// - Parameters:
    ///   - tick: The ``InboundChain``'s tick.
    ///   - time: The tick's time, in ms (the chain's clock): when its audio arrived.
    ///   - intents: Receives what to do.
    public func process(_ tick: InboundChain.Tick, at time: Double, into intents: inout [Intent]) {
        if tick.sampleRate != sampleRate { adopt(sampleRate: tick.sampleRate) }
        position = tick.endPosition
        guard state != .ended else { return }
        remember(tick.audio)
        if state == .callerSpeaking || listenerHearsAll { listener?.hear(tick.audio, sampleRate: sampleRate, turn: turnNumber) }
        let isSpeech = tick.decision.isSpeech

        switch tick.event {
        case .speechStarted?:
            if state == .listening {
                beginTurn(at: time, into: &intents)
            } else if state == .awaitingAgent, agentTurn == 0 {  // the caller speaks before the greeting plays
                intents.append(.cancelAgent(turn: 0))
                agentTurn = nil
                beginTurn(at: time, into: &intents)
            } else if state == .awaitingAgent, let running = agentTurn {  // the caller went on: one turn after all
                intents.append(.cancelAgent(turn: running))
                agentTurn = nil
                held = nil
                state = .callerSpeaking
            }
        case .endOfTurn(let lastSpeechEnd, _)?:
            if state == .callerSpeaking { endTurn(lastSpeechEnd: lastSpeechEnd, cut: false, at: time, into: &intents) }
        case .maximumTurnReached?:
            if state == .callerSpeaking { endTurn(lastSpeechEnd: position, cut: true, at: time, into: &intents) }
        case nil:
            break
        }

        let count = tick.audio.count
        switch state {
        case .callerSpeaking:
            silentSamples = isSpeech ? 0 : silentSamples + count
            if isSpeech, held != nil, let running = agentTurn {  // an early start, and the caller goes on
                intents.append(.cancelAgent(turn: running))
                agentTurn = nil
                held = nil
            }
            if let early = earlyStartSamples, agentTurn == nil, silentSamples >= early {
                held = []
                heldFinished = false
                startAgent(cut: false, into: &intents)
            }
        case .agentSpeaking:
            let loud = Self.rms(tick.audio) > agentLevel * echoFactor
            bargeInSamples = isSpeech && loud ? bargeInSamples + count : 0
            if bargeInSamples >= bargeInSamplesNeeded { bargeIn(at: time, into: &intents) }
        default:
            bargeInSamples = 0
        }
    }

    /// The call's stream started: tells the agent, and runs its greeting (turn 0) if it has one.
    ///
    /// Call once, before the first tick. The caller can barge in on the greeting like on any reply; if they
    /// start speaking before it produces audio, it is cancelled.
    public func callStarted(_ context: CallContext, into intents: inout [Intent]) {
        guard state == .listening, agentTurn == nil, turnNumber == 0 else { return }
        intents.append(.notifyAgent(.callStarted(context)))
        agentTurn = 0
        utteranceAudioMilliseconds = 0
        segments.removeAll()
        agentLevel = 0
        agentLevelSamples = 0
        state = .awaitingAgent
        intents.append(.startGreeting(context))
    }

    /// Reports a key the caller pressed.
    public func dtmf(_ digit: String, into intents: inout [Intent]) {
        intents.append(.notifyAgent(.dtmf(digit)))
    }

    /// The call ended (the caller hung up, or the stream stopped).
    public func callEnded(into intents: inout [Intent]) {
        guard state != .ended else { return }
        if let running = agentTurn { intents.append(.cancelAgent(turn: running)) }
        agentTurn = nil
        state = .ended
        intents.append(.notifyAgent(.callEnded))
    }

    private func remember(_ audio: UnsafeBufferPointer<Float>) {
        if state == .callerSpeaking || state == .awaitingAgent {
            turnAudio.append(contentsOf: audio)
        }
        for sample in audio {
            preRoll[preRollHead] = sample
            preRollHead = preRollHead + 1 == preRoll.count ? 0 : preRollHead + 1
        }
    }

    private func beginTurn(at time: Double, into intents: inout [Intent]) {
        turnNumber += 1
        turns.append(TurnRecord(number: turnNumber))
        turnAudio.removeAll(keepingCapacity: true)
        turnAudio.append(contentsOf: preRoll[preRollHead...])
        turnAudio.append(contentsOf: preRoll[..<preRollHead])
        turnStart = position - preRoll.count
        silentSamples = 0
        state = .callerSpeaking
        intents.append(.notifyAgent(.turnStarted(number: turnNumber)))
        if let listener, !listenerHearsAll {
            turnAudio.withUnsafeBufferPointer { listener.hear($0, sampleRate: sampleRate, turn: turnNumber) }
        }
    }

    private func endTurn(lastSpeechEnd: Int, cut: Bool, at time: Double, into intents: inout [Intent]) {
        let last = time - milliseconds(position - lastSpeechEnd)
        update(turnNumber) {
            $0.callerLastSpeech = last
            $0.endOfTurnDecision = time
        }
        endOfTurnTimer.recordNanoseconds(Int64((time - last) * 1e6))
        state = .awaitingAgent
        listener?.turnEnded(turnNumber)
        let turn = CallerTurn(number: turnNumber, audio: turnAudio, sampleRate: sampleRate, wasCut: cut, startPosition: turnStart)
        intents.append(.notifyAgent(.turnEnded(turn)))
        if let early = held, agentTurn == turnNumber {  // confirmed: release what the early start produced
            held = nil
            for output in early { agentOutput(output, turn: turnNumber, at: time, into: &intents) }
            if heldFinished { agentFinished(turn: turnNumber, at: time, into: &intents) }
        } else {
            startAgent(cut: cut, into: &intents)
        }
    }

    private func startAgent(cut: Bool, into intents: inout [Intent]) {
        agentTurn = turnNumber
        utteranceAudioMilliseconds = 0  // the reply's transcript and level start afresh
        segments.removeAll()
        agentLevel = 0
        agentLevelSamples = 0
        intents.append(
            .startAgent(CallerTurn(number: turnNumber, audio: turnAudio, sampleRate: sampleRate, wasCut: cut, startPosition: turnStart)))
    }

    private func bargeIn(at time: Double, into intents: inout [Intent]) {
        bargeIns.increment()
        if let running = agentTurn { intents.append(.cancelAgent(turn: running)) }
        agentTurn = nil
        held = nil
        intents.append(.clear)
        utteranceOpen = false
        pendingHangUp = false
        update(utteranceTurn) { $0.interrupted = true }
        bargeInSamples = 0
        beginTurn(at: time, into: &intents)
    }

    // MARK: - The agent

    /// The agent's reply task for `turn` started running.
    public func agentStarted(turn: Int, at time: Double) {
        update(turn) { if $0.agentStarted == nil { $0.agentStarted = time } }
    }

    /// Takes one output of the agent's reply to `turn` (stale turns are ignored).
    ///
    /// - Parameters:
    ///   - producedAt: When the agent produced it (default: `time`), for the agent's own share of latency.
    ///   - time: Now, in ms.
    public func agentOutput(
        _ output: AgentOutput, turn: Int, producedAt: Double? = nil, at time: Double, into intents: inout [Intent]
    ) {
        guard turn == agentTurn, state != .ended else { return }
        if case .progress(let step) = output {
            let at = producedAt ?? time
            var timed: (ReplyStage, from: Double?)?
            update(turn) { record in
                switch step {
                case .recognized(let text):
                    record.callerText = text
                    record.recognizerFinal = at
                    timed = (.recognizer, record.endOfTurnDecision)
                case .modelFirstText:
                    guard record.modelFirstText == nil else { return }
                    record.modelFirstText = at
                    timed = (.model, record.recognizerFinal)
                case .modelFirstClause:
                    guard record.modelFirstClause == nil else { return }
                    record.modelFirstClause = at
                case .synthesizerFirstAudio:
                    guard record.synthesizerFirstAudio == nil else { return }
                    record.synthesizerFirstAudio = at
                    timed = (.synthesizer, record.modelFirstClause ?? record.modelFirstText)
                }
            }
            if let (stage, from) = timed, let from { stageTimers[stage]?.recordNanoseconds(Int64(max(0, at - from) * 1e6)) }
            return
        }
        update(turn) { if $0.agentFirstOutput == nil { $0.agentFirstOutput = producedAt ?? time } }
        if held != nil {
            held!.append(output)
            return
        }
        switch output {
        case .audio(let samples, let sampleRate):
            guard !samples.isEmpty, sampleRate > 0 else { return }
            if !utteranceOpen || utteranceTurn != turn {
                utterance += 1
                utteranceOpen = true
                utteranceTurn = turn
                update(turn) { $0.firstAudioToTransport = time }
                recordLatency(turn)
            }
            let level = Self.rms(samples)
            let total = agentLevelSamples + samples.count
            agentLevel = ((agentLevel * agentLevel * Float(agentLevelSamples) + level * level * Float(samples.count)) / Float(total))
                .squareRoot()
            agentLevelSamples = total
            utteranceAudioMilliseconds += Double(samples.count) * 1000 / Double(sampleRate)
            state = .agentSpeaking
            intents.append(.play(samples, sampleRate: sampleRate, utterance: utterance))
        case .text(let text):
            segments.append((utteranceAudioMilliseconds, text))
            update(turn) { $0.agentText += $0.agentText.isEmpty ? text : " " + text }
        case .hangUp:
            pendingHangUp = true
            if utteranceOpen, utteranceTurn == turn {
                intents.append(.endUtterance(utterance))
            } else {
                finishCall(into: &intents)
            }
        case .progress:
            break
        }
    }

    /// The agent's reply to `turn` ended (normally or with an error).
    public func agentFinished(turn: Int, at time: Double, into intents: inout [Intent]) {
        guard turn == agentTurn else { return }
        if held != nil {  // an early start: it stays "running" until the end of turn is confirmed
            heldFinished = true
            return
        }
        agentTurn = nil
        if utteranceOpen, utteranceTurn == turn {
            if !pendingHangUp { intents.append(.endUtterance(utterance)) }
        } else if state == .awaitingAgent {
            state = .listening  // nothing to say
        }
    }

    // MARK: - Playback

    /// Takes the transport's report of how much of utterance `utterance` has played.
    ///
    /// - Parameters:
    ///   - playedMilliseconds: The audio played so far.
    ///   - finished: Every frame played and the utterance complete.
    ///   - cleared: Cut by `clear`; `playedMilliseconds` is final.
    public func played(
        utterance: Int, playedMilliseconds: Double, finished: Bool, cleared: Bool, at time: Double, into intents: inout [Intent]
    ) {
        guard utterance == self.utterance || cleared else { return }
        if playedMilliseconds > 0, utteranceTurn >= 1, utteranceTurn <= turns.count, turns[utteranceTurn - 1].firstAudioPlayed == nil {
            update(utteranceTurn) { $0.firstAudioPlayed = time }
            if let last = turns[utteranceTurn - 1].callerLastSpeech { playedTimer.recordNanoseconds(Int64((time - last) * 1e6)) }
        }
        if cleared {
            let heard = Self.heard(segments, total: utteranceAudioMilliseconds, playedMilliseconds: playedMilliseconds)
            update(utteranceTurn) { $0.heardText = heard }
            intents.append(.notifyAgent(.interrupted(number: utteranceTurn, heard: heard, playedMilliseconds: playedMilliseconds)))
            return
        }
        guard finished, utterance == self.utterance else { return }
        utteranceOpen = false
        update(utteranceTurn) { $0.heardText = $0.agentText }
        if pendingHangUp {
            finishCall(into: &intents)
        } else if state == .agentSpeaking {
            state = .listening
        }
    }

    private func finishCall(into intents: inout [Intent]) {
        if let running = agentTurn { intents.append(.cancelAgent(turn: running)) }
        agentTurn = nil
        state = .ended
        intents.append(.hangUp)
    }

    // MARK: - Helpers

    private func update(_ turn: Int, _ change: (inout TurnRecord) -> Void) {
        guard turn >= 1, turn <= turns.count else { return }
        change(&turns[turn - 1])
    }

    private func recordLatency(_ turn: Int) {
        guard turn >= 1, turn <= turns.count else { return }
        if let response = turns[turn - 1].responseLatency { responseTimer.recordNanoseconds(Int64(response * 1e6)) }
        if let added = turns[turn - 1].pipelineAdded { pipelineTimer.recordNanoseconds(Int64(max(0, added) * 1e6)) }
    }

    /// The words of `segments` that had played by `playedMilliseconds`: each segment's words spread evenly
    /// over its audio (up to the next segment's start, or `total` for the last), a word counted once its
    /// share of the audio has begun.
    static func heard(_ segments: [(startMilliseconds: Double, text: String)], total: Double, playedMilliseconds: Double) -> String {
        var words: [Substring] = []
        for (index, segment) in segments.enumerated() where segment.startMilliseconds < playedMilliseconds {
            let end = index + 1 < segments.count ? segments[index + 1].startMilliseconds : total
            let segmentWords = segment.text.split(whereSeparator: \.isWhitespace)
            guard end > segment.startMilliseconds else {
                words += segmentWords
                continue
            }
            let fraction = min(1, (playedMilliseconds - segment.startMilliseconds) / (end - segment.startMilliseconds))
            words += segmentWords.prefix(Int((fraction * Double(segmentWords.count)).rounded(.up)))
        }
        return words.joined(separator: " ")
    }

    static func rms(_ samples: some Collection<Float>) -> Float {
        guard !samples.isEmpty else { return 0 }
        var sum: Float = 0
        for sample in samples { sum += sample * sample }
        return (sum / Float(samples.count)).squareRoot()
    }
}

@available(*, unavailable)
extension TurnTakingController: Sendable {}
