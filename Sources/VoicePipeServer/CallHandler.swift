//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import ServiceLifecycle
import Synchronization
import Tracing
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP

/// One call: the owner task of a Media Stream WebSocket. Everything that happens to the call (a text
/// frame, a 20 ms tick, an agent output, a shutdown) arrives as one input on one stream and is handled in
/// order by this task, so the session, chain and controller need no locks.
struct CallHandler {
    let server: VoicePipeServer
    var logger: Logger

    init(server: VoicePipeServer, logger: Logger) {
        self.server = server
        self.logger = logger
    }

    enum Input: Sendable {
        case text(String, arrived: ContinuousClock.Instant)
        case tick(due: ContinuousClock.Instant)
        case agent(AgentRunner.Delivery)
        case closed(reason: String?)
        case shutdown
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let tracer = server.configuration.tracer ?? InstrumentationSystem.tracer
        let span = tracer.startAnySpan("voicepipe.call")
        defer { span.end() }
        try await runCall(inbound: inbound, outbound: outbound, tracer: tracer, span: span)
    }

    private func runCall(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, tracer: any Tracer, span: any Span
    ) async throws {
        var logger = logger
        let configuration = server.configuration
        let statistics = server.statistics
        let session = try MediaStreamSession(
            configuration: .init(inbound: configuration.inbound, maximumLead: configuration.maximumLead))
        let controller = TurnTakingController(configuration: configuration.turnTaking, metricsFactory: server.metricsFactory)
        let agent = configuration.makeAgent()
        let start = ContinuousClock.now
        let clock: @Sendable () -> Double = { Self.milliseconds(ContinuousClock.now - start) }
        let runner = AgentRunner(agent: agent, clock: clock)
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let queued = QueuedFrames()  // text frames read but not yet handled: a flood is refused, not buffered
        statistics.callStarted()

        var counts = (inbound: 0, lateInbound: 0, ticks: 0, lateTicks: 0, outbound: 0)
        var failed = false
        var intents: [TurnTakingController.Intent] = []
        var message: [UInt8] = []
        message.reserveCapacity(512)
        var utteranceMap: [Int: Int] = [:]  // session utterance → controller utterance
        var currentUtterance: Int?
        var ending = false
        var turnSpan: (any Span)?  // the current turn's span, a child of the call's
        func endTurnSpan() {
            guard let turn = turnSpan else { return }
            if case .int64(let index)? = turn.attributes["voicepipe.turn"]?.toSpanAttribute(), index >= 1, index <= controller.turns.count {
                let record = controller.turns[Int(index) - 1]
                if let response = record.responseLatency { turn.attributes["voicepipe.turn.response_ms"] = response }
                if let added = record.pipelineAdded { turn.attributes["voicepipe.turn.pipeline_added_ms"] = added }
                turn.attributes["voicepipe.turn.interrupted"] = record.interrupted
            }
            turn.end()
            turnSpan = nil
        }

        func flushCounts() {
            statistics.frames(
                inbound: counts.inbound, lateInbound: counts.lateInbound, ticks: counts.ticks, lateTicks: counts.lateTicks,
                outbound: counts.outbound)
            counts = (0, 0, 0, 0, 0)
        }

        let metronomeID = server.metronome.add { continuation.yield(.tick(due: $0)) }  // the 20 ms clock
        defer { server.metronome.remove(metronomeID) }
        try await withGracefulShutdownHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {  // the socket
                    do {
                        for try await message in inbound.messages(maxSize: configuration.maximumMessageBytes) {
                            switch message {
                            case .text(let text):
                                guard queued.add() <= Self.maximumQueuedFrames else {
                                    continuation.yield(.closed(reason: "flood: more than \(Self.maximumQueuedFrames) frames waiting"))
                                    return
                                }
                                continuation.yield(.text(text, arrived: .now))
                            case .binary: continuation.yield(.closed(reason: "binary frame (Twilio sends text only)"))
                            }
                        }
                        continuation.yield(.closed(reason: nil))
                    } catch {
                        continuation.yield(.closed(reason: "\(error)"))
                    }
                }

                inputLoop: for await input in inputs {
                    let now = clock()
                    switch input {
                    case .text(var text, let arrived):
                        queued.remove()
                        let event: MediaStreamSession.Event?
                        do {
                            event = try text.withUTF8 { try session.receive(UnsafeRawBufferPointer($0), at: now) }
                        } catch let error as TwilioProtocolError {
                            logger.warning("closing call: \(error)")
                            failed = true
                            try? await outbound.close(.policyViolation, reason: error.code.rawValue)
                            break inputLoop
                        }
                        switch event {
                        case .started(let started)?:
                            logger[metadataKey: "callSid"] = .string(started.start.callSid)
                            logger[metadataKey: "streamSid"] = .string(started.streamSid)
                            span.attributes["twilio.call_sid"] = started.start.callSid
                            logger.info("stream started")
                        case .audio(let frames)?:
                            counts.inbound += frames
                            if ContinuousClock.now - arrived > .milliseconds(20) { counts.lateInbound += frames }
                        case .dtmf(let digit)?:
                            controller.dtmf(digit, into: &intents)
                        case .played(let playback)?:
                            if let utterance = utteranceMap[playback.utterance.rawValue] {
                                controller.played(
                                    utterance: utterance, playedMilliseconds: Double(playback.playedMilliseconds),
                                    finished: playback.isFinished, cleared: false, at: now, into: &intents)
                            }
                        case .cleared(let cut)?:
                            for playback in cut {
                                guard let utterance = utteranceMap[playback.utterance.rawValue] else { continue }
                                controller.played(
                                    utterance: utterance, playedMilliseconds: Double(playback.playedMilliseconds), finished: false,
                                    cleared: true, at: now, into: &intents)
                            }
                        case .stopped?:
                            logger.info("stream stopped by Twilio")
                            controller.callEnded(into: &intents)
                            ending = true
                        case .unknown(let name)?:
                            logger.debug("unknown event \(name)")
                        case .connected?, .mark?, nil:
                            break
                        }
                    case .tick(let due):
                        guard session.state == .streaming else { continue }
                        counts.ticks += 1
                        if ContinuousClock.now - due > .milliseconds(20) { counts.lateTicks += 1 }
                        let tick = session.inbound.tick(at: now)
                        controller.process(tick, at: now, into: &intents)
                        if counts.ticks % 50 == 0 { flushCounts() }
                    case .agent(let delivery):
                        switch delivery {
                        case .started(let turn, let at): controller.agentStarted(turn: turn, at: at)
                        case .output(let output, let turn, let producedAt):
                            controller.agentOutput(output, turn: turn, producedAt: producedAt, at: now, into: &intents)
                        case .finished(let turn, let error):
                            if let error { logger.error("agent failed on turn \(turn): \(error)") }
                            controller.agentFinished(turn: turn, at: now, into: &intents)
                        }
                    case .closed(let reason):
                        if let reason {
                            logger.warning("connection closed: \(reason)")
                            failed = true
                        } else if session.state != .stopped {
                            logger.warning("connection closed without a stop message")
                            failed = true
                        }
                        controller.callEnded(into: &intents)
                        ending = true
                    case .shutdown:
                        logger.info("server shutting down: ending the call")
                        controller.callEnded(into: &intents)
                        ending = true
                    }

                    // Carry out the controller's intents.
                    while !intents.isEmpty {
                        let intent = intents.removeFirst()
                        switch intent {
                        case .startAgent(let turn):
                            runner.start(turn) { continuation.yield(.agent($0)) }
                        case .cancelAgent(let turn):
                            await runner.cancel(turn: turn)
                        case .notifyAgent(let event):
                            if case .turnStarted(let number) = event {
                                endTurnSpan()
                                let turn = tracer.startAnySpan("voicepipe.turn", context: span.context)
                                turn.attributes["voicepipe.turn"] = number
                                turnSpan = turn
                            }
                            await agent.observe(event)
                        case .play(let samples, let rate, let utterance):
                            if currentUtterance != utterance {
                                currentUtterance = utterance
                                utteranceMap[session.beginUtterance().rawValue] = utterance
                            }
                            do { try session.play(samples, sampleRate: rate) } catch {
                                logger.error("agent audio at \(rate) Hz refused: \(error)")
                            }
                        case .endUtterance(let utterance):
                            if currentUtterance == utterance { session.endUtterance() }
                        case .clear:
                            if let cut = session.clear(at: now) {
                                for playback in cut {
                                    guard let utterance = utteranceMap[playback.utterance.rawValue] else { continue }
                                    controller.played(
                                        utterance: utterance, playedMilliseconds: Double(playback.playedMilliseconds),
                                        finished: false, cleared: true, at: now, into: &intents)
                                }
                            }
                            currentUtterance = nil
                        case .hangUp:
                            logger.info("agent hung up")
                            ending = true
                        }
                    }

                    // Send what may go now.
                    message.removeAll(keepingCapacity: true)
                    while session.nextMessage(into: &message) {
                        if message.starts(with: #"{"event":"media""#.utf8) { counts.outbound += 1 }
                        do {
                            try await outbound.write(.text(String(decoding: message, as: UTF8.self)))
                        } catch {
                            ending = true
                            break
                        }
                        message.removeAll(keepingCapacity: true)
                    }
                    if ending { break }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.yield(.shutdown)
        }

        continuation.finish()
        endTurnSpan()
        await runner.cancelAll()
        flushCounts()
        statistics.callEnded(failed: failed, turns: controller.turns)
        logger.info("call ended: \(controller.summary)")
        try? await outbound.close(.normalClosure, reason: nil)
    }

    /// Text frames a call may have waiting (20 s of Twilio's media): more means a flood.
    static let maximumQueuedFrames = 1000

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }
}

/// A count shared by a call's socket reader and its loop.
final class QueuedFrames: Sendable {
    private let count = Atomic<Int>(0)
    /// Counts one more; returns the new count.
    func add() -> Int { count.add(1, ordering: .relaxed).newValue }
    func remove() { count.subtract(1, ordering: .relaxed) }
}
