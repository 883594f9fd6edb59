//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import VoiceAgent
import VoicePipeStore

/// Writes calls and their turns to the ``ConversationStore`` from a task of its own: a call's loop only
/// hands a value over (``submit(_:)`` never waits), so no store write ever runs on a call's audio path, and
/// a slow database delays the transcript, never the call.
final class TranscriptWriter: Sendable {
    enum Write: Sendable {
        case start(CallContext, contact: String, at: Date)
        case turn(TurnRecord, callSid: String, contact: String, at: Date)
        case end(callSid: String, at: Date)
        /// Not a write: resumed once every write queued before it is done.
        case flush(CheckedContinuation<Void, Never>)
    }

    let store: any ConversationStore
    private let continuation: AsyncStream<Write>.Continuation

    init(store: any ConversationStore, statistics: ServerStatistics, logger: Logger) {
        self.store = store
        let (writes, continuation) = AsyncStream.makeStream(of: Write.self)
        self.continuation = continuation
        Task {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for await write in writes {
                let started = ContinuousClock.now
                do {
                    switch write {
                    case .start(let context, let contact, let at):
                        try await store.startCall(
                            CallStart(callSid: context.callSid, contact: contact, from: context.from, to: context.to, startedAt: at))
                    case .turn(let record, let callSid, let contact, let at):
                        let timings = (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) }
                        try await store.recordTurn(
                            CallTurn(
                                callSid: callSid, contact: contact, number: record.number, callerText: record.callerText,
                                agentText: record.heardText, interrupted: record.interrupted, at: at, timings: timings))
                    case .end(let callSid, let at):
                        try await store.endCall(callSid: callSid, at: at)
                    case .flush(let continuation):
                        continuation.resume()
                        continue
                    }
                    statistics.storeWrite(milliseconds: (ContinuousClock.now - started).milliseconds)
                } catch {
                    statistics.storeWriteFailed()
                    logger.error("transcript write failed: \(error)")
                }
            }
        }
    }

    deinit { continuation.finish() }

    /// Queues a write; returns at once.
    func submit(_ write: Write) { continuation.yield(write) }

    /// Returns once every write queued so far is done (the server calls it when it stops, before the host
    /// closes the store).
    func flush() async {
        await withCheckedContinuation { continuation in
            if case .terminated = self.continuation.yield(.flush(continuation)) { continuation.resume() }
        }
    }
}

extension Duration {
    var milliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1000 + Double(attoseconds) / 1e15
    }
}
