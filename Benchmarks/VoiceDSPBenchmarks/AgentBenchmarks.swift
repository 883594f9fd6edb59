//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Benchmark
import VoiceAgent
import VoiceDSP

/// An agent whose reply is ready at once: what is left is the pipeline's own time.
struct ReadyAgent: Agent {
    let audio = [Float](repeating: 0.1, count: 320)
    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        let audio = audio
        return AsyncThrowingStream { continuation in
            continuation.yield(.audio(audio, sampleRate: 16000))
            continuation.finish()
        }
    }
}

/// Pipeline-added latency: from the tick that decides the end of a turn to the first reply audio handed
/// to the transport, through the real asynchronous path (the controller's intent, `AgentRunner` starting
/// the reply task, its delivery through an `AsyncStream` back to the call's loop, the controller's `play`),
/// minus the agent's own time (its task's start to its first output). Recorded per turn as a custom metric.
func agentBenchmarks() {
    let metric = BenchmarkMetric.custom("pipeline-added (us)", polarity: .prefersSmaller, useScalingFactor: false)
    let config = Benchmark.Configuration(
        metrics: [.wallClock, metric], timeUnits: .microseconds, warmupIterations: 20, maxDuration: .seconds(3),
        maxIterations: 5000)
    let origin = ContinuousClock.now
    let clock: @Sendable () -> Double = {
        let elapsed = ContinuousClock.now - origin
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
    Benchmark("agent: end of turn -> first reply audio handed over (ReadyAgent via AgentRunner)", configuration: config) { benchmark in
        let controller = TurnTakingController()
        let (deliveries, continuation) = AsyncStream.makeStream(of: AgentRunner.Delivery.self)
        let runner = AgentRunner(agent: ReadyAgent(), clock: clock) { continuation.yield($0) }
        var iterator = deliveries.makeAsyncIterator()
        var intents: [TurnTakingController.Intent] = []
        let audio = UnsafeMutableBufferPointer<Float>.allocate(capacity: 320)
        audio.initialize(repeating: 0)
        defer { audio.deallocate() }
        var position = 0  // 16 kHz samples: 320 per 20 ms tick
        func tick(_ speech: Bool, _ event: Endpointer.Event?) {
            let tick = InboundChain.Tick(
                source: .frame(sequence: position / 320), audio: UnsafeBufferPointer(audio), sampleRate: 16000, position: position,
                decision: .init(probability: speech ? 0.9 : 0.1, isSpeech: speech), event: event)
            position += 320
            controller.process(tick, at: clock(), into: &intents)
        }
        var utterance = 0
        for _ in benchmark.scaledIterations {
            intents.removeAll(keepingCapacity: true)
            tick(true, .speechStarted(speechStart: position))
            intents.removeAll(keepingCapacity: true)
            let decision = clock()
            tick(false, .endOfTurn(lastSpeechEnd: position + 320 - 8000, detectedAt: position + 320))
            guard let start = intents.first(where: { if case .startAgent = $0 { true } else { false } }),
                case .startAgent(let turn) = start
            else { fatalError("no start") }
            intents.removeAll(keepingCapacity: true)
            runner.start(turn)
            var handedOver: Double?
            var agentTime = 0.0
            var started = 0.0
            while handedOver == nil, let delivery = await iterator.next() {
                switch delivery {
                case .started(let number, let at):
                    started = at
                    controller.agentStarted(turn: number, at: at)
                case .output(let output, let number, let producedAt):
                    agentTime = producedAt - started
                    controller.agentOutput(output, turn: number, producedAt: producedAt, at: clock(), into: &intents)
                    if case .play(_, _, let id)? = intents.first {
                        handedOver = clock()
                        utterance = id
                    }
                case .finished: break
                }
            }
            benchmark.measurement(metric, Int(((handedOver! - decision - agentTime) * 1000).rounded()))
            // Let the rest of the reply finish, and play it out, so the next turn starts from listening.
            while let delivery = await iterator.next() {
                if case .finished(let number, _) = delivery {
                    controller.agentFinished(turn: number, at: clock(), into: &intents)
                    break
                }
            }
            controller.played(utterance: utterance, playedMilliseconds: 20, finished: true, cleared: false, at: clock(), into: &intents)
        }
        continuation.finish()
    }
}
