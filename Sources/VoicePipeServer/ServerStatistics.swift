//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Metrics
import Synchronization
import VoiceAgent

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
        /// Media frames received.
        public var inboundFrames = 0
        /// Inbound frames not processed within 20 ms of arriving.
        public var lateInboundFrames = 0
        /// 20 ms ticks that ran more than 20 ms late.
        public var lateTicks = 0
        /// Ticks run.
        public var ticks = 0
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
    }

    private struct State {
        var snapshot = Snapshot()
        var pipelineAdded: [Double] = []
        var response: [Double] = []
    }

    private let state = Mutex(State())
    private let activeGauge: Gauge
    private let callsCounter: Counter
    private let lateCounter: Counter
    private static let kept = 100_000  // latency samples kept for percentiles

    init(factory: any MetricsFactory) {
        activeGauge = Gauge(label: "voicepipe_active_calls", factory: factory)
        callsCounter = Counter(label: "voicepipe_calls_total", factory: factory)
        lateCounter = Counter(label: "voicepipe_late_frames_total", factory: factory)
    }

    /// The current figures.
    public var snapshot: Snapshot {
        state.withLock { state in
            var snapshot = state.snapshot
            snapshot.pipelineAddedP50 = CallSummary.percentile(state.pipelineAdded, 0.5)
            snapshot.pipelineAddedP99 = CallSummary.percentile(state.pipelineAdded, 0.99)
            snapshot.responseP50 = CallSummary.percentile(state.response, 0.5)
            snapshot.responseP99 = CallSummary.percentile(state.response, 0.99)
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

    func callEnded(failed: Bool, turns: [TurnRecord]) {
        let active = state.withLock { state in
            state.snapshot.activeCalls -= 1
            if failed { state.snapshot.failedCalls += 1 }
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

    /// Adds one call's frame counts.
    func frames(inbound: Int, lateInbound: Int, ticks: Int, lateTicks: Int, outbound: Int) {
        lateCounter.increment(by: lateInbound + lateTicks)
        state.withLock { state in
            state.snapshot.inboundFrames += inbound
            state.snapshot.lateInboundFrames += lateInbound
            state.snapshot.ticks += ticks
            state.snapshot.lateTicks += lateTicks
            state.snapshot.outboundFrames += outbound
        }
    }

    func refused() { state.withLock { $0.snapshot.refusedRequests += 1 } }

    func statusCallback(_ status: String) { state.withLock { $0.snapshot.statusCallbacks[status, default: 0] += 1 } }
}
