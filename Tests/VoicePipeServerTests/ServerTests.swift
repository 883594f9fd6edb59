//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HummingbirdWSClient
import InMemoryTracing
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Testing
import Tracing
import TwilioCore
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeTestSupport
import VoicePipeTesting

/// A server on a free loopback port for the length of a test.
struct RunningServer {
    let server: VoicePipeServer
    let port: Int
    let task: Task<Void, any Error>
    var mediaURL: String { "ws://127.0.0.1:\(port)/twilio/media" }
    var httpBase: String { "http://127.0.0.1:\(port)" }

    /// Debug builds run the neural VAD ten times slower than release: the server tests use the classic
    /// detector so that their timing checks measure the server, not the unoptimised model.
    static func start(_ configuration: VoicePipeServer.Configuration = .init(port: 0)) async throws -> RunningServer {
        var configuration = configuration
        configuration.port = 0
        configuration.stream.inbound.voiceActivity.model = .classic
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())
        return RunningServer(server: server, port: port, task: task)
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }

    /// Waits until no call is active (or `seconds` have passed).
    func settle(seconds: Int = 2) async throws {
        for _ in 0..<(seconds * 100) where server.statistics.snapshot.activeCalls > 0 {
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        try await request(path, method: .GET, headers: headers, body: nil)
    }

    func request(_ path: String, method: HTTPMethod, headers: [(String, String)], body: String?) async throws -> (status: Int, body: String)
    {
        var request = HTTPClientRequest(url: httpBase + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// Sends raw bytes to the server and returns what it answers until it closes the connection (with `headOnly`,
/// until the end of the response head).
func rawExchange(port: Int, _ request: String, headOnly: Bool = false) async throws -> String {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: request))
        var response = ""
        for try await buffer in inbound {
            response += String(buffer: buffer)
            if headOnly, response.contains("\r\n\r\n") { break }  // the connection may stay open after the head
        }
        return response
    }
}

/// Runs the heavy socket tests one at a time: a 100-call storm next to a timing check would measure the
/// storm, not the server.
actor Exclusive {
    static let shared = Exclusive()
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func run<Value: Sendable>(_ body: @Sendable () async throws -> Value) async throws -> Value {
        if busy {
            await withCheckedContinuation { waiting.append($0) }
        }
        busy = true
        defer {
            if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}

enum Speech {
    static let clip = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.samples
    /// "The person at extension" (2.04 s).
    static let thePerson = Array(clip[14291..<30609])
    static func silence(_ milliseconds: Int) -> [Float] { [Float](repeating: 0, count: milliseconds * 8) }
}

@Suite("VoicePipe server", .serialized)
struct ServerTests {
    @Test("end to end over real WebSockets: a simulated Twilio call gets its echo, on time, and the server counts it")
    func endToEnd() async throws {
        let tracer = InMemoryTracer()
        var configuration = VoicePipeServer.Configuration(port: 0)
        configuration.tracer = tracer
        let running = try await RunningServer.start(configuration)
        let audio = Speech.silence(300) + Speech.thePerson + Speech.silence(300)
        let result = try await SimulatedCaller(.init(url: running.mediaURL, audio: audio, tailMilliseconds: 3500)).run()
        try await running.settle()
        #expect(result.protocolErrors.isEmpty)
        #expect(result.turns.count == 1)
        let latency = try #require(result.turns.first?.latency)
        #expect(latency > 500 && latency < 1200, "latency \(latency) ms")  // 500 ms of trailing silence, then at once
        // The echo: the caller's speech came back (pre-roll included), and every frame's mark was echoed.
        let replyEnergy = result.reply.reduce(0) { $0 + $1 * $1 }
        let speechEnergy = Speech.thePerson.reduce(0) { $0 + $1 * $1 }
        #expect(replyEnergy > speechEnergy * 0.5 && replyEnergy < speechEnergy * 2, "\(replyEnergy) vs \(speechEnergy)")
        #expect(result.mediaReceived > 100 && result.marksEchoed == result.mediaReceived)
        #expect(result.lateSends == 0)
        let stats = running.server.statistics.snapshot
        #expect(stats.totalCalls == 1 && stats.activeCalls == 0 && stats.failedCalls == 0 && stats.turns == 1)
        // Every frame the caller sent reached the agent's side, once, in order; nothing was dropped or inserted.
        #expect(stats.playedFrames == stats.inboundFrames && stats.droppedFrames == 0 && stats.insertedSilence == 0)
        #expect(stats.concealedFrames == 0 && stats.damagedCalls == 0)
        #expect(try #require(stats.pipelineAddedP99) < 5)
        #expect(stats.inboundFrames == result.framesSent)
        let metrics = try await running.get("/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("voicepipe_turn_response_seconds"))
        #expect(metrics.body.contains("voicepipe_calls_total 1"))
        let health = try await running.get("/health")
        #expect(health.status == 200 && health.body.contains("\"totalCalls\":1"))
        // A span for the call and one for its turn, with the call's id and the turn's latency.
        let spans = tracer.finishedSpans
        let call = try #require(spans.first { $0.operationName == "voicepipe.call" })
        #expect(call.attributes["twilio.call_sid"]?.toSpanAttribute() == .string("CA00000000000000000000000000000000"))
        let turn = try #require(spans.first { $0.operationName == "voicepipe.turn" })
        #expect(turn.parentSpanID == call.spanID)
        guard case .double(let response)? = turn.attributes["voicepipe.turn.response_ms"]?.toSpanAttribute() else {
            Issue.record("no response latency on the turn span")
            return
        }
        #expect(abs(response - 500) < 100)
        await running.stop()
    }

    @Test("graceful shutdown ends open calls cleanly and records them")
    func gracefulShutdown() async throws {
        let running = try await RunningServer.start()
        let url = running.mediaURL
        let call = Task {
            try await SimulatedCaller(.init(url: url, audio: Speech.silence(300) + Speech.thePerson, tailMilliseconds: 5000)).run()
        }
        try await Task.sleep(for: .seconds(1))
        #expect(running.server.statistics.snapshot.activeCalls == 1)
        await running.stop()
        let result = try await call.value  // the caller saw the server close the socket, not an error
        #expect(result.framesSent < 100)
        let stats = running.server.statistics.snapshot
        #expect(stats.activeCalls == 0 && stats.totalCalls == 1 && stats.inboundFrames > 0)
    }

    @Test("the voice webhook answers TwiML that connects the media stream with the call's parameters")
    func voiceWebhook() async throws {
        let running = try await RunningServer.start()
        let response = try await running.request(
            "/twilio/voice", method: .POST, headers: [], body: "CallSid=CA123&From=%2B14155550199&To=%2B14155550100&Direction=inbound")
        #expect(response.status == 200)
        let expected = TwiML.response([
            .connect(
                TwiML.Stream(
                    url: running.mediaURL,
                    parameters: [("CallSid", "CA123"), ("From", "+14155550199"), ("To", "+14155550100"), ("Direction", "inbound")]))
        ]).xml
        #expect(response.body == expected)
        let status = try await running.request(
            "/twilio/status", method: .POST, headers: [], body: "CallSid=CA123&AccountSid=AC1&CallStatus=completed&CallDuration=4")
        #expect(status.status == 204)
        #expect(running.server.statistics.snapshot.statusCallbacks == ["completed": 1])
        let bad = try await running.request("/twilio/status", method: .POST, headers: [], body: "CallStatus=completed")
        #expect(bad.status == 400)
        await running.stop()
    }

    @Test("with an auth token: forged or missing signatures get 403, before any WebSocket upgrade; valid ones pass")
    func signatures() async throws {
        let token = "test-auth-token"
        let publicURL = "https://agent.example.com"
        let running = try await RunningServer.start(.init(port: 0, publicURL: publicURL, authToken: token))
        let validator = RequestValidator(authToken: token)
        let form = [("CallSid", "CA9"), ("From", "+14155550199")]
        let body = FormEncoding.encode(form)
        let good = validator.signature(url: publicURL + "/twilio/voice", parameters: form)
        #expect(try await running.request("/twilio/voice", method: .POST, headers: [], body: body).status == 403)
        #expect(
            try await running.request("/twilio/voice", method: .POST, headers: [("X-Twilio-Signature", "Zm9yZ2Vk")], body: body).status
                == 403)
        let accepted = try await running.request("/twilio/voice", method: .POST, headers: [("X-Twilio-Signature", good)], body: body)
        #expect(accepted.status == 200 && accepted.body.contains("wss://agent.example.com/twilio/media"))

        // The WebSocket upgrade is signed over the wss:// URL, as a GET with no parameters.
        let wsSignature = validator.signature(url: "wss://agent.example.com/twilio/media")
        #expect(try await running.get("/twilio/media").status == 403)
        #expect(try await running.get("/twilio/media", headers: [("X-Twilio-Signature", wsSignature)]).status == 400)
        // An upgrade as Twilio's request would look, with a forged signature, none, or the voice webhook's (valid,
        // but not for the media URL): each gets 403 before anything is upgraded. The status line is checked, not
        // just that the upgrade failed: a dropped or refused connection must not pass for a refusal.
        func upgrade(_ signature: String?) -> String {
            var request = "GET /twilio/media HTTP/1.1\r\nHost: agent.example.com\r\n"
            request += "Connection: Upgrade\r\nUpgrade: websocket\r\n"
            request += "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            if let signature { request += "x-twilio-signature: \(signature)\r\n" }
            return request + "\r\n"
        }
        let refusedSignatures: [String?] = ["Zm9yZ2Vk", nil, good]
        for signature in refusedSignatures {
            let refused = try await rawExchange(port: running.port, upgrade(signature))
            #expect(refused.hasPrefix("HTTP/1.1 403 Forbidden\r\n"), "signature \(signature ?? "none"): \(refused)")
        }
        let audio = Speech.silence(200)
        let call = try await SimulatedCaller(
            .init(url: running.mediaURL, audio: audio, tailMilliseconds: 0, headers: [("X-Twilio-Signature", wsSignature)])
        ).run()
        #expect(call.framesSent == 10)
        try await running.settle()
        let stats = running.server.statistics.snapshot
        #expect(stats.refusedRequests == 6 && stats.totalCalls == 1)
        await running.stop()
    }
}
