//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeCalls
import VoicePipeTestSupport
import VoicePipeTesting

/// An agent that greets the caller by number and answers every turn with silence-free nothing.
final class GreetingAgent: Agent, Sendable {
    let context: CallContext
    let events = Mutex<[String]>([])
    init(context: CallContext) { self.context = context }

    func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        let tone = ToneAgent(duration: .seconds(3)).tone
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("Hello \(context.from ?? "stranger"), thanks for calling."))
            continuation.yield(.audio(tone, sampleRate: 16000))
            continuation.finish()
        }
    }

    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> { AsyncThrowingStream { $0.finish() } }

    func observe(_ event: AgentEvent) async {
        switch event {
        case .callStarted(let context): events.withLock { $0.append("callStarted \(context.from ?? "-")") }
        case .interrupted(let number, let heard, _): events.withLock { $0.append("interrupted \(number): \(heard)") }
        default: break
        }
    }
}

/// The agent's deliveries, queued for the test's loop (the owner task), with a signal per delivery for a
/// loop that waits for them.
final class Inbox: Sendable {
    let items = Mutex<[AgentRunner.Delivery]>([])
    let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self)
    func put(_ delivery: AgentRunner.Delivery) {
        items.withLock { $0.append(delivery) }
        arrived.yield()
    }
    func take() -> [AgentRunner.Delivery] {
        items.withLock { items in
            defer { items.removeAll() }
            return items
        }
    }
}

@Suite("CallSession without sockets")
struct CallSessionTests {
    static let speech = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.samples

    @Test(
        "the agent greets the caller with the call's From number; a barge-in sends clear in the same step",
        .timeLimit(.minutes(3)))
    func greetingAndBargeIn() async throws {
        let made = Mutex<GreetingAgent?>(nil)
        let inbox = Inbox()
        var configuration = CallSession.Configuration()
        configuration.stream.inbound.voiceActivity.model = .classic  // debug builds: the neural VAD is slow
        configuration.turnTaking.echoReturnLossDB = nil
        let origin = ContinuousClock.now
        let call = try CallSession(
            configuration: configuration,
            makeAgent: { context in
                let agent = GreetingAgent(context: context)
                made.withLock { $0 = agent }
                return agent
            }, origin: origin,
            deliver: { inbox.put($0) })
        let twilio = TwilioStreamSimulator(
            configuration: .init(customParameters: [("From", "+15550001234"), ("To", "+15559876543"), ("Direction", "inbound")]))
        var frame: [UInt8] = []
        var sentMedia = 0
        var clearStep: Int?
        var mediaAfterClear = 0
        func drain(step: Int) {
            var message: [UInt8] = []
            while call.nextMessage(into: &message) {
                if message.starts(with: #"{"event":"clear""#.utf8) { clearStep = clearStep ?? step }
                if message.starts(with: #"{"event":"media""#.utf8) {
                    sentMedia += 1
                    if clearStep != nil { mediaAfterClear += 1 }
                }
                message.removeAll(keepingCapacity: true)
            }
        }
        twilio.connected(into: &frame)
        call.receive(frame, arrival: origin)
        frame.removeAll()
        twilio.start(into: &frame)
        call.receive(frame, arrival: origin)
        frame.removeAll()

        #expect(call.context?.from == "+15550001234" && call.context?.to == "+15559876543")
        #expect(call.context?.direction == "inbound" && call.context?.callSid == twilio.configuration.callSid)
        // The greeting plays before the caller says anything. The loop waits for the agent's deliveries, not
        // for a time: with other suites busy on both cores, the agent's tasks can wait long for a thread.
        var arrivals = inbox.arrivals.makeAsyncIterator()
        while call.controller.state != .agentSpeaking, await arrivals.next() != nil {
            for delivery in inbox.take() { call.agent(delivery) }
        }
        drain(step: -1)
        #expect(call.controller.state == .agentSpeaking)
        #expect(sentMedia > 0)
        // The caller talks over it: 20 ms frames of real speech, as Twilio would send them.
        let start = 14291 / 160 * 160
        var codes = [UInt8](repeating: 0xFF, count: 160)
        for step in 0..<100 where clearStep == nil || step < clearStep! + 10 {
            let pcm = Self.speech[(start + step * 160)..<(start + step * 160 + 160)].map(AudioClip.pcm16Sample)
            pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
            codes.withUnsafeBytes { twilio.media($0, timestamp: 20 * step, into: &frame) }
            call.receive(frame, arrival: origin + .milliseconds(20 * (step + 1)))
            frame.removeAll()
            for delivery in inbox.take() { call.agent(delivery) }
            drain(step: step)
        }
        let cleared = try #require(clearStep, "the caller's speech did not interrupt the greeting")
        #expect(cleared < 40, "clear only after \(cleared) frames of speech")
        #expect(mediaAfterClear == 0)
        #expect(call.controller.turns.count == 1)
        #expect(call.integrity.isIntact && call.integrity.framesReceived == call.integrity.framesPlayed)
        call.connectionClosed(error: nil)
        await call.finish()
        #expect(call.closing?.kind == .connectionFailed)  // no stop message: the connection just went away
        let events = try #require(made.withLock { $0 }).events.withLock { $0 }
        #expect(events.first == "callStarted +15550001234")
    }
}
