//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
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
import VoicePipeCalls

/// One call's socket: reads Twilio's frames (stamping each at the read), hands them, the agent's
/// deliveries and the clock to a ``CallSession`` in order on one task, and writes what the session has to
/// send. Everything about the call itself lives in the session.
struct CallHandler {
    let server: VoicePipeServer
    var logger: Logger

    enum Input: Sendable {
        case text(String, arrived: ContinuousClock.Instant)
        case tick(due: ContinuousClock.Instant)
        case agent(AgentRunner.Delivery)
        case closed(reason: String?)
        case shutdown
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let configuration = server.configuration
        let statistics = server.statistics
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let call = try CallSession(
            configuration: .init(stream: configuration.stream, turnTaking: configuration.turnTaking),
            makeAgent: configuration.makeAgent, metricsFactory: server.metricsFactory, logger: logger,
            tracer: configuration.tracer ?? InstrumentationSystem.tracer
        ) { continuation.yield(.agent($0)) }
        let queued = QueuedFrames()  // text frames read but not yet handled: a flood is refused, not buffered
        statistics.callStarted()
        var reported = CallSession.Integrity()
        var recordedTurns: [TurnRecord] = []
        var storedTurns: [Int: TurnRecord] = [:]  // each turn as last handed to the transcript writer
        var storedStart = false
        let started = Date()
        func report(ended: Bool = false) {
            let integrity = call.integrity
            statistics.add(integrity, since: reported)
            reported = integrity
            if let context = call.context, ended || call.controller.turns != recordedTurns {
                recordedTurns = call.controller.turns
                server.calls.update(context: context, started: started, turns: recordedTurns, ended: ended)
                if let writer = server.transcripts, let contact = context.contactAddress, contact.hasPrefix("+") {
                    store(recordedTurns, context: context, contact: contact, ended: ended, writer: writer)
                }
            }
        }
        /// Hands the turns that changed to the transcript writer (a queue: nothing here waits for the store).
        func store(_ turns: [TurnRecord], context: CallContext, contact: String, ended: Bool, writer: TranscriptWriter) {
            if !storedStart {
                writer.submit(.start(context, contact: contact, at: started))
                storedStart = true
            }
            for turn in turns {
                guard turn.callerText?.isEmpty == false || turn.heardText?.isEmpty == false else { continue }
                // Written when its words change; its final timings once more when the call ends.
                let stored = storedTurns[turn.number]
                let wordsChanged =
                    stored?.callerText != turn.callerText || stored?.heardText != turn.heardText
                    || stored?.interrupted != turn.interrupted
                guard wordsChanged || (ended && stored != turn) else { continue }
                storedTurns[turn.number] = turn
                writer.submit(.turn(turn, callSid: context.callSid, contact: contact, at: Date()))
            }
            if ended { writer.submit(.end(callSid: context.callSid, at: Date())) }
        }

        // A scheduled play-out needs the 20 ms clock; in-order play-out is driven by arrivals.
        let scheduled = configuration.stream.inbound.jitterBuffer.playout == .scheduled
        let metronomeID = scheduled ? server.metronome.add { continuation.yield(.tick(due: $0)) } : nil
        defer { metronomeID.map(server.metronome.remove) }
        var message: [UInt8] = []
        message.reserveCapacity(512)
        var handled = 0
        var writable = true  // false once a write failed: the reader's close then says how the call ended
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {  // the socket
                    do {
                        for try await message in inbound.messages(maxSize: configuration.maximumMessageBytes) {
                            let arrived = ContinuousClock.now  // stamped at the read, not when handled
                            switch message {
                            case .text(let text):
                                guard queued.add() <= Self.maximumQueuedFrames else {
                                    continuation.yield(.closed(reason: "flood: more than \(Self.maximumQueuedFrames) frames waiting"))
                                    return
                                }
                                continuation.yield(.text(text, arrived: arrived))
                            case .binary: continuation.yield(.closed(reason: "binary frame (Twilio sends text only)"))
                            }
                        }
                        continuation.yield(.closed(reason: nil))
                    } catch {
                        continuation.yield(.closed(reason: "\(error)"))
                    }
                }

                for await input in inputs {
                    switch input {
                    case .text(let text, let arrived):
                        queued.remove()
                        call.receive(text, arrival: arrived)
                    case .tick(let due):
                        if ContinuousClock.now - due > .milliseconds(20) { statistics.lateTick() }
                        call.tick(at: due)
                    case .agent(let delivery):
                        call.agent(delivery)
                        if case .finished = delivery { report() }
                    case .closed(let reason):
                        call.connectionClosed(error: reason)
                    case .shutdown:
                        call.shutdown()
                    }
                    message.removeAll(keepingCapacity: true)
                    while call.nextMessage(into: &message) {
                        defer { message.removeAll(keepingCapacity: true) }
                        guard writable else { continue }
                        do {
                            try await outbound.write(.text(String(decoding: message, as: UTF8.self)))
                        } catch {
                            // The peer is closing (perhaps after a `stop` still queued here): stop writing and
                            // let the frames already read, and the reader's close, end the call.
                            writable = false
                        }
                    }
                    handled += 1
                    if handled % 50 == 0 { report() }
                    if call.closing != nil { break }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            continuation.yield(.shutdown)
        }

        continuation.finish()
        await call.finish()
        report(ended: true)
        let closing = call.closing
        statistics.callEnded(failed: closing?.isFailure ?? true, intact: call.integrity.isIntact, turns: call.controller.turns)
        switch closing?.kind {
        case .protocolError?: try? await outbound.close(.policyViolation, reason: closing?.reason)
        default: try? await outbound.close(.normalClosure, reason: nil)
        }
    }

    /// Text frames a call may have waiting (20 s of Twilio's media): more means a flood.
    static let maximumQueuedFrames = 1000
}

/// A count shared by a call's socket reader and its loop.
final class QueuedFrames: Sendable {
    private let count = Atomic<Int>(0)
    /// Counts one more; returns the new count.
    func add() -> Int { count.add(1, ordering: .relaxed).newValue }
    func remove() { count.subtract(1, ordering: .relaxed) }
}
