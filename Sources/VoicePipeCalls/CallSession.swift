//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Logging
public import Metrics
public import Tracing
public import TwilioMediaStreams
public import VoiceAgent
import VoiceDSP

/// One phone call, bound to its agent, independent of any server or WebSocket library: Twilio's text
/// frames and the agent's outputs in, the text frames to send back out.
///
/// A `CallSession` binds a ``MediaStreamSession`` (Twilio's protocol, the caller's audio chain, paced
/// playback), a ``TurnTakingController`` (who speaks when) and an ``AgentRunner`` (the agent's replies as
/// tasks). It owns the mapping between the transport's utterances and the controller's, and forwards what
/// Twilio reports played or cleared. It is synchronous: the host's socket code calls it from the call's
/// one owner task and sends what ``nextMessage(into:)`` hands out.
///
/// ```swift
/// let call = CallSession(configuration: .init(), makeAgent: { context in MyAgent(caller: context.from) }) { delivery in
///     inputs.yield(.agent(delivery))  // the agent's outputs come back to the owner task
/// }
/// // For each text frame read from the socket (stamp the arrival when it is read):
/// call.receive(bytes, arrival: arrived)
/// // For each agent delivery:
/// call.agent(delivery)
/// // After every step:
/// while call.nextMessage(into: &frame) { try await socket.send(frame); frame.removeAll(keepingCapacity: true) }
/// if let closing = call.closing { /* close the socket with closing.code */ }
/// // When the socket is gone:
/// call.connectionClosed(error: nil); await call.finish()
/// ```
///
/// Caller audio integrity: with the default in-order play-out (``JitterBuffer/Playout/inOrder``; Twilio's
/// WebSocket runs over TCP, which neither loses nor reorders), every media frame is played into the
/// chain as soon as it is received, in order; nothing is inserted or dropped, whatever the host's
/// backlog, and only a skipped `chunk` is concealed. With ``JitterBuffer/Playout/scheduled`` the host must
/// call ``tick(at:)`` every 20 ms instead.
///
/// - Important: Not thread-safe: drive it from the call's owner task. Nothing here waits: cancelling the
///   agent on barge-in does not wait for its task, so `clear` goes out in the same step.
public final class CallSession {
    /// Settings.
    public struct Configuration: Sendable {
        /// Twilio's side: the caller's audio chain (jitter buffer play-out, VAD, endpointer, the agent's
        /// sample rate), message limits, the playback lead.
        public var stream: MediaStreamSession.Configuration
        /// Turn-taking policy.
        public var turnTaking: TurnTakingController.Configuration

        /// Creates settings; the defaults suit Twilio Media Streams and a 16 kHz agent.
        public init(stream: MediaStreamSession.Configuration = .init(), turnTaking: TurnTakingController.Configuration = .init()) {
            self.stream = stream
            self.turnTaking = turnTaking
        }
    }

    /// Why and how the host should close the socket.
    public struct Closing: Sendable, Hashable {
        /// How the call ended.
        public enum Kind: Sendable, Hashable {
            /// Twilio stopped the stream, the agent hung up, or the host shut down: close normally.
            case normal
            /// Twilio sent something malformed or too large: close with a policy violation.
            case protocolError
            /// The connection was lost, or sent what Twilio never sends.
            case connectionFailed
        }

        /// How the call ended.
        public var kind: Kind
        /// One line for the log and the close frame.
        public var reason: String

        /// Whether the call counts as failed.
        public var isFailure: Bool { kind != .normal }
    }

    /// The caller's audio as the session handled it: proof that nothing was inserted or dropped.
    public struct Integrity: Sendable, Hashable, Codable {
        /// 20 ms media frames received from Twilio (after re-framing to 160 bytes).
        public var framesReceived = 0
        /// Frames handed to the agent's side (turn taking and the agent), in order.
        public var framesPlayed = 0
        /// Gaps filled because Twilio skipped `chunk` numbers (frames that never came).
        public var framesConcealed = 0
        /// Frames dropped (late, duplicate or overflowing): zero on a reliable transport.
        public var framesDropped = 0
        /// Periods of silence inserted while the jitter buffer filled (scheduled play-out only).
        public var silenceInserted = 0
        /// Agent media frames sent to Twilio.
        public var framesSent = 0

        /// Creates zero counts.
        public init() {}

        /// True when every frame received reached the agent's side exactly once and nothing was added
        /// but the concealment of real gaps.
        public var isIntact: Bool { framesDropped == 0 && silenceInserted == 0 && framesPlayed == framesReceived }
    }

    /// The settings in use.
    public let configuration: Configuration
    /// Twilio's side of the call.
    public let stream: MediaStreamSession
    /// Who speaks when; its ``TurnTakingController/turns`` hold every turn's timings.
    public let controller: TurnTakingController
    /// The call, once Twilio's `start` has arrived.
    public private(set) var context: CallContext?
    /// Set when the call is over: send what ``nextMessage(into:)`` still has, then close the socket.
    public private(set) var closing: Closing?
    /// The caller's audio, counted.
    public var integrity: Integrity {
        var integrity = counts
        let jitter = stream.inbound.jitterBuffer.statistics
        integrity.framesDropped = jitter.late + jitter.duplicates + jitter.overflowed + jitter.dropped
        return integrity
    }
    /// The milliseconds clock every time stamp of the call is on (0 at the session's creation).
    public let origin: ContinuousClock.Instant

    private let makeAgent: @Sendable (CallContext) -> any Agent
    private let deliver: @Sendable (AgentRunner.Delivery) -> Void
    private var runner: AgentRunner?
    private var logger: Logger
    private let tracer: any Tracer
    private let callSpan: any Span
    private var turnSpan: (any Span)?
    private var intents: [TurnTakingController.Intent] = []
    private var utteranceMap: [Int: Int] = [:]  // session utterance → controller utterance
    private var currentUtterance: Int?
    private var counts = Integrity()

    /// Creates a call.
    ///
    /// - Parameters:
    ///   - configuration: Settings.
    ///   - makeAgent: Makes the call's agent once the stream has started and the ``CallContext`` is known.
    ///   - metricsFactory: Where the per-turn metrics go (default: the bootstrapped backend).
    ///   - logger: The call's logger; the session adds `callSid` and `streamSid` metadata.
    ///   - tracer: Traces the call (`voicepipe.call`) and each turn (`voicepipe.turn`, a child span).
    ///   - origin: Time zero of the call's clock (default: now).
    ///   - deliver: Receives the agent's progress from its tasks: queue it for the owner task, which hands
    ///     it to ``agent(_:)``.
    /// - Throws: What ``MediaStreamSession`` throws for its settings (an unsupported agent sample rate, a
    ///   voice activity configuration the detector refuses).
    public init(
        configuration: Configuration = Configuration(), makeAgent: @escaping @Sendable (CallContext) -> any Agent,
        metricsFactory: any MetricsFactory = MetricsSystem.factory, logger: Logger = Logger(label: "voicepipe.call"),
        tracer: any Tracer = InstrumentationSystem.tracer, origin: ContinuousClock.Instant = .now,
        deliver: @escaping @Sendable (AgentRunner.Delivery) -> Void
    ) throws {
        self.configuration = configuration
        stream = try MediaStreamSession(configuration: configuration.stream)
        controller = TurnTakingController(configuration: configuration.turnTaking, metricsFactory: metricsFactory)
        self.makeAgent = makeAgent
        self.deliver = deliver
        self.logger = logger
        self.tracer = tracer
        self.origin = origin
        callSpan = tracer.startAnySpan("voicepipe.call")
    }

    /// Milliseconds since ``origin``.
    public func milliseconds(at instant: ContinuousClock.Instant) -> Double {
        (instant - origin).inMilliseconds
    }

    // MARK: - Inputs

    /// Handles one text frame from Twilio.
    ///
    /// - Parameters:
    ///   - frame: The frame's bytes.
    ///   - arrival: When the socket read it (not when it is handled: a backlog must not look like jitter).
    public func receive(_ frame: UnsafeRawBufferPointer, arrival: ContinuousClock.Instant) {
        guard closing == nil else { return }
        let now = milliseconds(at: arrival)
        let event: MediaStreamSession.Event?
        do {
            event = try stream.receive(frame, at: now)
        } catch {
            logger.warning("closing call: \(error)")
            close(.protocolError, error.code.rawValue)
            return
        }
        switch event {
        case .started(let started)?:
            start(started)
        case .audio(let frames)?:
            counts.framesReceived += frames
            if stream.inbound.jitterBuffer.configuration.playout == .inOrder { playReceived(at: now) }
        case .dtmf(let digit)?:
            controller.dtmf(digit, into: &intents)
        case .played(let playback)?:
            if let utterance = utteranceMap[playback.utterance.rawValue] {
                controller.played(
                    utterance: utterance, playedMilliseconds: Double(playback.playedMilliseconds), finished: playback.isFinished,
                    cleared: false, at: now, into: &intents)
            }
        case .cleared(let cut)?:
            forward(cut, at: now)
        case .stopped?:
            logger.info("stream stopped by Twilio")
            controller.callEnded(into: &intents)
            close(.normal, "stopped")
        case .unknown(let name)?:
            logger.debug("unknown event \(name)")
        case .connected?, .mark?, nil:
            break
        }
        carryOut(at: now)
    }

    /// Handles one text frame from Twilio.
    public func receive(_ frame: [UInt8], arrival: ContinuousClock.Instant) {
        frame.withUnsafeBytes { receive($0, arrival: arrival) }
    }

    /// Handles one text frame from Twilio.
    public func receive(_ text: String, arrival: ContinuousClock.Instant) {
        var text = text
        text.withUTF8 { receive(UnsafeRawBufferPointer($0), arrival: arrival) }
    }

    /// Plays out 20 ms on the clock: only with ``JitterBuffer/Playout/scheduled`` play-out (call it every
    /// 20 ms); with in-order play-out frames are played as they arrive, and this does nothing.
    ///
    /// - Parameter time: When the tick was due.
    public func tick(at time: ContinuousClock.Instant) {
        guard closing == nil, stream.state == .streaming,
            stream.inbound.jitterBuffer.configuration.playout == .scheduled
        else { return }
        let now = milliseconds(at: time)
        if let tick = stream.inbound.tick(at: now) { process(tick, at: now) }
        carryOut(at: now)
    }

    /// Handles one delivery from the agent's tasks.
    public func agent(_ delivery: AgentRunner.Delivery, at time: ContinuousClock.Instant = .now) {
        let now = milliseconds(at: time)
        switch delivery {
        case .started(let turn, let at):
            controller.agentStarted(turn: turn, at: at)
        case .output(let output, let turn, let producedAt):
            controller.agentOutput(output, turn: turn, producedAt: producedAt, at: now, into: &intents)
        case .finished(let turn, let error):
            if let error { logger.error("agent failed on turn \(turn): \(error)") }
            controller.agentFinished(turn: turn, at: now, into: &intents)
        }
        carryOut(at: now)
    }

    /// The socket is gone: `error` says why, `nil` for an orderly close.
    public func connectionClosed(error: String?) {
        let now = milliseconds(at: .now)
        if let error {
            logger.warning("connection closed: \(error)")
            close(.connectionFailed, error)
        } else if stream.state != .stopped, closing == nil {
            logger.warning("connection closed without a stop message")
            close(.connectionFailed, "closed without a stop message")
        }
        controller.callEnded(into: &intents)
        carryOut(at: now)
    }

    /// The host is shutting down: ends the call normally.
    public func shutdown() {
        guard closing == nil else { return }
        logger.info("server shutting down: ending the call")
        controller.callEnded(into: &intents)
        close(.normal, "shutting down")
        carryOut(at: milliseconds(at: .now))
    }

    /// Ends the call's work: cancels the agent, waits for its tasks, and ends the call's spans. Call once,
    /// after the socket has closed.
    public func finish() async {
        if controller.state != .ended {
            controller.callEnded(into: &intents)
            carryOut(at: milliseconds(at: .now))
        }
        endTurnSpan()
        await runner?.finish()
        callSpan.end()
        logger.info("call ended: \(controller.summary)")
    }

    // MARK: - Output

    /// Writes the next message that may be sent now, if any (`clear`, a media frame, its mark).
    ///
    /// Call after every input until it returns `false`.
    ///
    /// - Parameter output: The message is appended (clear it between messages; keep its capacity).
    /// - Returns: Whether a message was written.
    public func nextMessage(into output: inout [UInt8]) -> Bool {
        let start = output.count
        guard stream.nextMessage(into: &output) else { return false }
        if output[start...].starts(with: #"{"event":"media""#.utf8) { counts.framesSent += 1 }
        return true
    }

    // MARK: - Internals

    private func start(_ started: TwilioMessage.Start) {
        let parameters = started.start.customParameters
        let context = CallContext(
            callSid: started.start.callSid, streamSid: started.streamSid, accountSid: started.start.accountSid,
            from: parameters["From"] ?? parameters["from"], to: parameters["To"] ?? parameters["to"],
            direction: parameters["Direction"] ?? parameters["direction"], customParameters: parameters)
        self.context = context
        logger[metadataKey: "callSid"] = .string(context.callSid)
        logger[metadataKey: "streamSid"] = .string(context.streamSid)
        callSpan.attributes["twilio.call_sid"] = context.callSid
        logger.info("stream started")
        let origin = origin
        let agent = makeAgent(context)
        controller.listener = agent.callerAudioListener
        runner = AgentRunner(
            agent: agent,
            clock: { (ContinuousClock.now - origin).inMilliseconds }, deliver: deliver)
        controller.callStarted(context, into: &intents)
    }

    /// In-order play-out: every frame received so far goes through the chain and the controller now.
    private func playReceived(at now: Double) {
        while let tick = stream.inbound.tick(at: now) {
            process(tick, at: now)
            carryOut(at: now)  // a barge-in's clear goes out before the next frame is looked at
        }
    }

    private func process(_ tick: InboundChain.Tick, at now: Double) {
        switch tick.source {
        case .frame: counts.framesPlayed += 1
        case .concealed: counts.framesConcealed += 1
        case .buffering: counts.silenceInserted += 1
        }
        controller.process(tick, at: now, into: &intents)
    }

    private func forward(_ cut: [MediaStreamSession.Playback], at now: Double) {
        for playback in cut {
            guard let utterance = utteranceMap[playback.utterance.rawValue] else { continue }
            controller.played(
                utterance: utterance, playedMilliseconds: Double(playback.playedMilliseconds), finished: false,
                cleared: true, at: now, into: &intents)
        }
    }

    private func close(_ kind: Closing.Kind, _ reason: String) {
        if closing == nil { closing = Closing(kind: kind, reason: reason) }
    }

    /// Carries out the controller's intents.
    private func carryOut(at now: Double) {
        var index = 0
        while index < intents.count {
            let intent = intents[index]
            index += 1
            switch intent {
            case .startAgent(let turn):
                runner?.start(turn)
            case .startGreeting(let context):
                runner?.greet(context)
            case .cancelAgent(let turn):
                runner?.cancel(turn: turn)  // returns at once: a clear that follows goes out in this step
            case .notifyAgent(let event):
                if case .turnStarted(let number) = event {
                    endTurnSpan()
                    let turn = tracer.startAnySpan("voicepipe.turn", context: callSpan.context)
                    turn.attributes["voicepipe.turn"] = number
                    turnSpan = turn
                }
                runner?.observe(event)
            case .play(let samples, let rate, let utterance):
                if currentUtterance != utterance {
                    currentUtterance = utterance
                    utteranceMap[stream.beginUtterance().rawValue] = utterance
                }
                do { try stream.play(samples, sampleRate: rate) } catch {
                    logger.error("agent audio at \(rate) Hz refused: \(error)")
                }
            case .endUtterance(let utterance):
                if currentUtterance == utterance { stream.endUtterance() }
            case .clear:
                if let cut = stream.clear(at: now) { forward(cut, at: now) }
                currentUtterance = nil
            case .hangUp:
                logger.info("agent hung up")
                close(.normal, "agent hung up")
            }
        }
        intents.removeAll(keepingCapacity: true)
    }

    private func endTurnSpan() {
        guard let turn = turnSpan else { return }
        if case .int64(let index)? = turn.attributes["voicepipe.turn"]?.toSpanAttribute(), index >= 1,
            index <= controller.turns.count
        {
            let record = controller.turns[Int(index) - 1]
            if let response = record.responseLatency { turn.attributes["voicepipe.turn.response_ms"] = response }
            if let added = record.pipelineAdded { turn.attributes["voicepipe.turn.pipeline_added_ms"] = added }
            turn.attributes["voicepipe.turn.interrupted"] = record.interrupted
        }
        turn.end()
        turnSpan = nil
    }
}

@available(*, unavailable)
extension CallSession: Sendable {}
