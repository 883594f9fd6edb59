//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// A host application that embeds VoicePipe. Run it, point your Twilio number's voice webhook at
// <PUBLIC_URL>/twilio/voice, and call: the agent greets you with a chime pitched by your number's last
// digit, then answers every turn with two notes, and hangs up after three turns.
//
//     PUBLIC_URL=https://agent.example.com TWILIO_AUTH_TOKEN=… swift run --package-path Examples/HostedAgent

import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import ServiceLifecycle
import VoiceAgent
import VoicePipeServer

/// A custom agent: it knows its call (the caller's number) and speaks first.
struct ChimeAgent: Agent {
    let caller: String?

    /// `count` samples of a sine at `frequency`, 16 kHz, faded in and out.
    static func note(_ frequency: Double, milliseconds: Int) -> [Float] {
        let count = 16 * milliseconds
        return (0..<count).map { n in
            let fade = min(1, Double(n) / 80, Double(count - 1 - n) / 80)
            return Float(0.3 * fade * sin(2 * Double.pi * frequency * Double(n) / 16000))
        }
    }

    func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        let digit = context.from?.last?.wholeNumberValue ?? 0
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("Hello \(context.from ?? "there")"))
            continuation.yield(.audio(Self.note(440 + 20 * Double(digit), milliseconds: 500), sampleRate: 16000))
            continuation.finish()
        }
    }

    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                for frequency in [523.25, 659.25] {
                    try Task.checkCancellation()  // a barge-in cancels the reply: stop promptly
                    continuation.yield(.text("note \(Int(frequency))"))
                    continuation.yield(.audio(Self.note(frequency, milliseconds: 250), sampleRate: 16000))
                }
                if turn.number >= 3 { continuation.yield(.hangUp) }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    func observe(_ event: AgentEvent) async {
        if case .interrupted(let number, let heard, let played) = event {
            print("turn \(number) cut after \(Int(played)) ms; the caller heard: \(heard)")
        }
    }
}

let environment = ProcessInfo.processInfo.environment
var logger = Logger(label: "hosted-agent")
logger.logLevel = .info
let voicePipe = VoicePipeServer(
    configuration: .init(
        publicURL: environment["PUBLIC_URL"], authToken: environment["TWILIO_AUTH_TOKEN"],
        makeAgent: { context in ChimeAgent(caller: context.from) }),
    logger: logger)

let router = Router(context: BasicWebSocketRequestContext.self)
router.get("/") { _, _ in "My app, with a phone agent at /twilio/voice\n" }
router.get("/calls") { _, _ in "\(voicePipe.statistics.snapshot.totalCalls) calls so far\n" }
router.addRoutes(voicePipe.routes(), atPath: "/twilio")

let app = Application(
    router: router, server: voicePipe.httpServer(webSocketRouter: router),
    configuration: .init(address: .hostname("127.0.0.1", port: Int(environment["PORT"] ?? "") ?? 8080)), logger: logger)
let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
try await services.run()
