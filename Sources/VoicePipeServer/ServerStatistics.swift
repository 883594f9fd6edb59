//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Metrics
import Synchronization
import VoiceAgent
import VoicePipeCalls

/// What a server's calls have done: counters for `/health`, `/metrics` and the load test.
public final class ServerStatistics: Sendable {
    /// A snapshot.
    public struct Snapshot: Sendable, Codable, Hashable {
        /// Calls in progress.
        public var activeCalls = 0
        /// Calls since start.
        public var totalCalls = 0
        /// Calls ended by a protocol error, an oversized message or a dropped connection.
        public var failedCalls = 0
        /// Requests refused for a bad or missing signature.
        public var refusedRequests = 0
        /// Media frames received (20 ms each).
        public var inboundFrames = 0
        /// Frames handed to the calls' agents, in order.
        public var playedFrames = 0
        /// Gaps concealed because Twilio skipped `chunk` numbers.
        public var concealedFrames = 0
        /// Frames dropped (late, duplicate, overflowing): zero on a reliable transport.
        public var droppedFrames = 0
        /// Silent periods inserted while a jitter buffer filled (scheduled play-out only).
        public var insertedSilence = 0
        /// Calls whose caller audio did not reach the agent intact (frames dropped or silence inserted).
        public var damagedCalls = 0
        /// 20 ms clock ticks that ran more than 20 ms late (scheduled play-out only).
        public var lateTicks = 0
        /// Agent media frames written to the sockets.
        public var outboundFrames = 0
        /// Turns answered.
        public var turns = 0
        /// Barge-ins.
        public var interruptions = 0
        /// Pipeline-added latency over the kept turns (ms).
        public var pipelineAddedP50: Double?
        /// Pipeline-added latency, 99th percentile (ms).
        public var pipelineAddedP99: Double?
        /// Response latency (caller's last speech to first reply audio handed over), ms.
        public var responseP50: Double?
        /// Response latency, 99th percentile, ms.
        public var responseP99: Double?
        /// Status callbacks received, by status.
        public var statusCallbacks: [String: Int] = [:]
        /// Text webhooks (Messaging inbound, status callbacks, Conversations events) handled.
        public var textWebhooks = 0
        /// Text webhooks refused as malformed (400) or failed in the store (500, for Twilio to retry).
        public var failedTextWebhooks = 0
        /// Time to acknowledge a text webhook (read, validate, persist, answer), ms, median over the kept ones.
        public var textWebhookP50: Double?
        /// Time to acknowledge a text webhook, 99th percentile, ms.
        public var textWebhookP99: Double?
        /// Writes of calls and call turns to the store, made by the transcript writer (never by a call's loop).
        public var storeWrites = 0
        /// Such writes that failed (logged).
        public var failedStoreWrites = 0
        /// Time of one such write, ms, median.
        public var storeWriteP50: Double?
    }

    private struct State {
        var snapshot = Snapshot()
        var pipelineAdded: [Double] = []
        var response: [Double] = []
        var textWebhook: [Double] = []
        var storeWrite: [Double] = []
    }

    private let state = Mutex(State())
    private let activeGauge: Gauge
    private let callsCounter: Counter
    private let lateCounter: Counter
    private let damageCounter: Counter
    private static let kept = 100_000  // latency samples kept for percentiles

    init(factory: any MetricsFactory) {
        activeGauge = Gauge(label: "voicepipe_active_calls", factory: factory)
        callsCounter = Counter(label: "voicepipe_calls_total", factory: factory)
        lateCounter = Counter(label: "voicepipe_late_ticks_total", factory: factory)
        damageCounter = Counter(label: "voicepipe_inbound_frames_damaged_total", factory: factory)
    }

    /// The current figures.
    public var snapshot: Snapshot {
        state.withLock { state in
            var snapshot = state.snapshot
            snapshot.pipelineAddedP50 = CallSummary.percentile(state.pipelineAdded, 0.5)
            snapshot.pipelineAddedP99 = CallSummary.percentile(state.pipelineAdded, 0.99)
            snapshot.responseP50 = CallSummary.percentile(state.response, 0.5)
            snapshot.responseP99 = CallSummary.percentile(state.response, 0.99)
            snapshot.textWebhookP50 = CallSummary.percentile(state.textWebhook, 0.5)
            snapshot.textWebhookP99 = CallSummary.percentile(state.textWebhook, 0.99)
            snapshot.storeWriteP50 = CallSummary.percentile(state.storeWrite, 0.5)
            return snapshot
        }
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(snapshot)) ?? Data("{}".utf8), as: UTF8.self) + "\n"
    }

    func callStarted() {
        callsCounter.increment()
        let active = state.withLock { state in
            state.snapshot.activeCalls += 1
            state.snapshot.totalCalls += 1
            return state.snapshot.activeCalls
        }
        activeGauge.record(active)
    }

    func callEnded(failed: Bool, intact: Bool, turns: [TurnRecord]) {
        let active = state.withLock { state in
            state.snapshot.activeCalls -= 1
            if failed { state.snapshot.failedCalls += 1 }
            if !intact { state.snapshot.damagedCalls += 1 }
            for turn in turns {
                guard let added = turn.pipelineAdded else { continue }
                state.snapshot.turns += 1
                if turn.interrupted { state.snapshot.interruptions += 1 }
                if state.pipelineAdded.count < Self.kept { state.pipelineAdded.append(added) }
                if let response = turn.responseLatency, state.response.count < Self.kept { state.response.append(response) }
            }
            return state.snapshot.activeCalls
        }
        activeGauge.record(active)
    }

    /// Adds what a call's caller audio counts have grown by since `previous`.
    func add(_ integrity: CallSession.Integrity, since previous: CallSession.Integrity) {
        let damaged = integrity.framesDropped - previous.framesDropped + integrity.silenceInserted - previous.silenceInserted
        if damaged > 0 { damageCounter.increment(by: damaged) }
        state.withLock { state in
            state.snapshot.inboundFrames += integrity.framesReceived - previous.framesReceived
            state.snapshot.playedFrames += integrity.framesPlayed - previous.framesPlayed
            state.snapshot.concealedFrames += integrity.framesConcealed - previous.framesConcealed
            state.snapshot.droppedFrames += integrity.framesDropped - previous.framesDropped
            state.snapshot.insertedSilence += integrity.silenceInserted - previous.silenceInserted
            state.snapshot.outboundFrames += integrity.framesSent - previous.framesSent
        }
    }

    /// Counts a 20 ms clock tick that ran late.
    func lateTick() {
        lateCounter.increment()
        state.withLock { $0.snapshot.lateTicks += 1 }
    }

    func refused() { state.withLock { $0.snapshot.refusedRequests += 1 } }

    func textWebhook(milliseconds: Double, failed: Bool) {
        state.withLock { state in
            state.snapshot.textWebhooks += 1
            if failed { state.snapshot.failedTextWebhooks += 1 }
            Self.keep(milliseconds, in: &state.textWebhook)
        }
    }

    func storeWrite(milliseconds: Double) {
        state.withLock { state in
            state.snapshot.storeWrites += 1
            Self.keep(milliseconds, in: &state.storeWrite)
        }
    }

    func storeWriteFailed() { state.withLock { $0.snapshot.failedStoreWrites += 1 } }

    /// Keeps the latest values (a window of ``kept``).
    private static func keep(_ value: Double, in values: inout [Double]) {
        if values.count >= kept { values.removeFirst(kept / 2) }
        values.append(value)
    }

    func statusCallback(_ status: String) { state.withLock { $0.snapshot.statusCallbacks[status, default: 0] += 1 } }
}
