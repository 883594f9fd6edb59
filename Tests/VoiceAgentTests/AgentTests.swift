//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import VoiceAgent

/// An agent that never finishes unless cancelled; it records that it saw the cancellation.
final class SlowAgent: Agent {
    let cancelled = Mutex(false)
    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                continuation.yield(.audio([0.1, 0.2], sampleRate: 16000))
                do {
                    try await Task.sleep(for: .seconds(60))
                } catch {
                    self.cancelled.withLock { $0 = true }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

final class Deliveries: Sendable {
    let items = Mutex<[AgentRunner.Delivery]>([])
    func append(_ delivery: AgentRunner.Delivery) { items.withLock { $0.append(delivery) } }
    var finished: Bool { items.withLock { $0.contains { if case .finished = $0 { true } else { false } } } }
}

@Suite("Agents and the runner")
struct AgentTests {
    static let origin = ContinuousClock.now
    static let clock: @Sendable () -> Double = {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    @Test("the echo agent plays the turn back in 100 ms chunks; the tone agent hangs up when told")
    func builtInAgents() async throws {
        let audio = (0..<3500).map { Float($0) }
        var echoed: [Float] = []
        for try await output in EchoAgent().reply(to: CallerTurn(number: 2, audio: audio, sampleRate: 16000)) {
            if case .audio(let samples, 16000) = output {
                #expect(samples.count <= 1600)
                echoed += samples
            }
        }
        #expect(echoed == audio)
        var last: AgentOutput?
        for try await output in ToneAgent(hangUpAfter: 2).reply(to: CallerTurn(number: 2, audio: [], sampleRate: 16000)) { last = output }
        guard case .hangUp = last else {
            Issue.record("no hang-up")
            return
        }
        #expect(ToneAgent().tone.count == 4800)
    }

    @Test("cancel returns at once, the reply task is cancelled, and nothing of it is delivered afterwards")
    func runnerCancels() async throws {
        let agent = SlowAgent()
        let deliveries = Deliveries()
        let runner = AgentRunner(agent: agent, clock: Self.clock) { deliveries.append($0) }
        runner.start(CallerTurn(number: 1, audio: [], sampleRate: 16000))
        while deliveries.items.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(1)) }
        #expect(!deliveries.finished)
        runner.cancel(turn: 1)  // synchronous: a barge-in's clear can go out in the same step
        let countAtCancel = deliveries.items.withLock { $0.count }
        await runner.finish()  // waits for the runner's task
        // The reply's own inner task learns of the cancel through the stream's termination handler, on
        // another thread: give it a bounded moment rather than assume it ran before finish() returned.
        let deadline = ContinuousClock.now + .seconds(5)
        while !agent.cancelled.withLock({ $0 }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        #expect(agent.cancelled.withLock { $0 })
        #expect(deliveries.items.withLock { $0.count } == countAtCancel, "a cancelled reply delivered after cancel")
        let kinds = deliveries.items.withLock { items in
            items.map { delivery -> String in
                switch delivery {
                case .started: "started"
                case .output: "output"
                case .finished(_, let error): error == nil ? "finished" : "failed"
                }
            }
        }
        #expect(kinds == ["started", "output"])
    }

    @Test("a reply cancelled before it started never starts; the same turn started again runs")
    func cancelledBeforeStart() async throws {
        let deliveries = Deliveries()
        let runner = AgentRunner(agent: ToneAgent(), clock: Self.clock) { deliveries.append($0) }
        runner.start(CallerTurn(number: 2, audio: [], sampleRate: 16000))
        runner.cancel(turn: 2)
        runner.start(CallerTurn(number: 2, audio: [], sampleRate: 16000))  // an early start, then the real one
        while !deliveries.finished { try await Task.sleep(for: .milliseconds(1)) }
        await runner.finish()
        let started = deliveries.items.withLock { $0.filter { if case .started = $0 { true } else { false } }.count }
        #expect(started == 1)
    }

    @Test("events reach observe in order, and a reply starts after the events queued before it")
    func eventsInOrder() async throws {
        final class Recorder: Agent, Sendable {
            let log = Mutex<[String]>([])
            func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
                log.withLock { $0.append("reply \(turn.number)") }
                return AsyncThrowingStream { $0.finish() }
            }
            func observe(_ event: AgentEvent) async {
                try? await Task.sleep(for: .milliseconds(5))  // a slow observer still comes first
                if case .turnEnded(let turn) = event { log.withLock { $0.append("ended \(turn.number)") } }
                if case .callStarted(let context) = event { log.withLock { $0.append("started \(context.from ?? "")") } }
            }
        }
        let agent = Recorder()
        let deliveries = Deliveries()
        let runner = AgentRunner(agent: agent, clock: Self.clock) { deliveries.append($0) }
        runner.observe(.callStarted(CallContext(callSid: "CA1", from: "+15550001111")))
        let turn = CallerTurn(number: 1, audio: [], sampleRate: 16000)
        runner.observe(.turnEnded(turn))
        runner.start(turn)
        while !deliveries.finished { try await Task.sleep(for: .milliseconds(1)) }
        await runner.finish()
        #expect(agent.log.withLock { $0 } == ["started +15550001111", "ended 1", "reply 1"])
    }

    @Test("a failing agent is reported, not fatal")
    func failingAgent() async throws {
        struct Failing: Agent {
            struct Oops: Error {}
            func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
                AsyncThrowingStream { $0.finish(throwing: Oops()) }
            }
        }
        let deliveries = Deliveries()
        let runner = AgentRunner(agent: Failing(), clock: Self.clock) { deliveries.append($0) }
        runner.start(CallerTurn(number: 3, audio: [], sampleRate: 16000))
        while !deliveries.finished { try await Task.sleep(for: .milliseconds(1)) }
        await runner.finish()
        let failed = deliveries.items.withLock {
            $0.contains { if case .finished(3, let error?) = $0 { error.contains("Oops") } else { false } }
        }
        #expect(failed)
    }

    @Test("latency figures and the call summary")
    func summary() {
        var record = TurnRecord(number: 1)
        record.callerLastSpeech = 1000
        record.endOfTurnDecision = 1500
        record.agentStarted = 1501
        record.agentFirstOutput = 1801
        record.firstAudioToTransport = 1803
        #expect(record.responseLatency == 803)
        #expect(record.pipelineAdded == 3)
        var other = record
        other.firstAudioToTransport = 1813
        let summary = CallSummary([record, other, TurnRecord(number: 3)])
        #expect(summary.turns == 2 && summary.responseP50 == 803 && summary.responseP95 == 813 && summary.pipelineAddedP95 == 13)
        #expect(CallSummary.percentile([5, 1, 4, 2, 3], 0.5) == 3 && CallSummary.percentile([], 0.5) == nil)
    }
}
