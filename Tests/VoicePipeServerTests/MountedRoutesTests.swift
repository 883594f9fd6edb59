//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing
import TwilioCore
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting

@Suite("VoicePipe mounted in a host's Hummingbird app")
struct MountedRoutesTests {
    @Test("the host's app serves VoicePipe's routes under /twilio: signed webhook, greeting by From, echo, 403 for forgeries")
    func mounted() async throws {
        let token = "host-auth-token"
        let publicURL = "https://agent.example.com"
        let greeting = AudioClip(sampleRate: 16000, samples: ToneAgent(duration: .milliseconds(400)).tone)
        let callers = Mutex<[String]>([])
        var configuration = VoicePipeServer.Configuration(
            publicURL: publicURL, authToken: token,
            makeAgent: { context in
                callers.withLock { $0.append(context.from ?? "-") }
                return EchoAgent(greeting: greeting)
            })
        configuration.stream.inbound.voiceActivity.model = .classic  // debug builds: the neural VAD is slow
        var logger = Logger(label: "host")
        logger.logLevel = .critical
        let voicePipe = VoicePipeServer(configuration: configuration, logger: logger)

        // The host's own app: its routes, VoicePipe's under /twilio, WebSocket upgrades by the router.
        let router = Router(context: BasicWebSocketRequestContext.self)
        router.get("/hello") { _, _ in "hello from the host" }
        router.addRoutes(voicePipe.routes(), atPath: "/twilio")
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, server: voicePipe.httpServer(webSocketRouter: router),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { listening.yield($0.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        let running = RunningServer(server: voicePipe, port: port, task: task)

        #expect(try await running.get("/hello").body == "hello from the host")
        // The webhook, signed over the public URL of the mounted path, names the mounted media route.
        let validator = RequestValidator(authToken: token)
        let form = [("CallSid", "CA7"), ("From", "+14155550123"), ("To", "+14155550100")]
        let signed = validator.signature(url: publicURL + "/twilio/voice", parameters: form)
        let body = FormEncoding.encode(form)
        #expect(try await running.request("/twilio/voice", method: .POST, headers: [], body: body).status == 403)
        let answer = try await running.request("/twilio/voice", method: .POST, headers: [("X-Twilio-Signature", signed)], body: body)
        #expect(answer.status == 200)
        #expect(answer.body.contains(#"<Stream url="wss://agent.example.com/twilio/media">"#), "\(answer.body)")
        #expect(answer.body.contains(#"<Parameter name="From" value="+14155550123" />"#))

        // A forged upgrade gets a 403 response, and no call starts.
        var upgrade = "GET /twilio/media HTTP/1.1\r\nHost: agent.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        upgrade += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nX-Twilio-Signature: Zm9yZ2Vk\r\n\r\n"
        let refused = try await rawExchange(port: port, upgrade, headOnly: true)
        #expect(refused.hasPrefix("HTTP/1.1 403"), "\(refused)")

        // A signed call: the agent, made with the call's From number, greets first, then echoes the caller.
        let audio = Speech.silence(1500) + Speech.thePerson + Speech.silence(300)
        let caller = SimulatedCaller(
            .init(
                url: running.mediaURL, audio: audio, tailMilliseconds: 3500,
                call: .init(customParameters: [("From", "+14155550123"), ("To", "+14155550100")]),
                headers: [("X-Twilio-Signature", validator.signature(url: "wss://agent.example.com/twilio/media"))]))
        let result = try await caller.run()
        #expect(result.protocolErrors.isEmpty)
        #expect(callers.withLock { $0 } == ["+14155550123"])
        let firstHeard = try #require(result.segments.first)
        #expect(firstHeard.start < 1000, "the greeting began at \(firstHeard.start) ms, before the caller spoke")
        #expect(result.turns.count == 1 && result.turns[0].latency != nil)
        try await running.settle()
        let stats = voicePipe.statistics.snapshot
        #expect(stats.totalCalls == 1 && stats.failedCalls == 0 && stats.refusedRequests == 2)
        #expect(stats.playedFrames == stats.inboundFrames && stats.droppedFrames == 0)
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
