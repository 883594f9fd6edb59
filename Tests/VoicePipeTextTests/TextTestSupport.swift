//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TwilioCore
import TwilioMediaStreams
import TwilioMessaging
import TwilioREST
import TwilioTesting
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeStore
import VoicePipeTestSupport
import VoicePipeText

/// A model that answers from the messages it is given, and keeps each request's messages for the test.
final class RecordingModel: LanguageModel, Sendable {
    let requests = Mutex<[[ChatMessage]]>([])
    /// Requests that have to wait before the model answers (a model that stalls).
    let gate = Mutex<CheckedContinuation<Void, Never>?>(nil)
    let stalls: Bool

    init(stalls: Bool = false) { self.stalls = stalls }

    func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        requests.withLock { $0.append(messages) }
        let stalls = self.stalls
        return AsyncThrowingStream { continuation in
            let task = Task {
                if stalls {
                    try? await Task.sleep(for: .seconds(3600))
                    continuation.finish(throwing: CancellationError())  // stopped while stalled: no answer
                    return
                }
                let last = messages.last { $0.role == .user }?.content ?? ""
                continuation.yield(.text("Re: \(last)"))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// The store, stand-in Twilio and VoicePipe server of one test, on loopback.
struct TextRig {
    let standIn: TwilioStandIn
    let store: SQLiteConversationStore
    let path: String
    let server: VoicePipeServer
    let agent: TextAgent?
    let port: Int
    let task: Task<Void, any Error>
    var base: String { "http://127.0.0.1:\(port)" }
    var smsURL: String { base + "/twilio/sms" }
    var mediaURL: String { "ws://127.0.0.1:\(port)/twilio/media" }

    /// Starts everything. `path` reuses a store file (a restart); `answers` adds a text agent.
    static func start(
        standIn existing: TwilioStandIn? = nil, path: String? = nil, model: (any LanguageModel)? = RecordingModel(),
        sender: ((any TextSender) -> any TextSender)? = nil,
        makeAgent: (@Sendable (CallContext, any ConversationStore) -> any Agent)? = nil
    ) async throws -> TextRig {
        let standIn: TwilioStandIn
        if let existing { standIn = existing } else { standIn = try await TwilioStandIn.start() }
        let path = path ?? FileManager.default.temporaryDirectory.appendingPathComponent("vp-text-\(UUID().uuidString).db").path
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let store = try await SQLiteConversationStore.open(path: path, logger: logger)
        try await store.migrate()
        let client = TwilioMessagingClient(
            credentials: .authToken(accountSid: standIn.accountSid, authToken: standIn.authToken),
            configuration: .init(baseURL: standIn.baseURL))
        // No status callback of its own: the server gives each reply the one next to the webhook it came by.
        let twilioSender = TwilioTextSender(client: client)
        let agent = model.map {
            TextAgent(
                store: store, model: $0, sender: sender?(twilioSender) ?? twilioSender,
                configuration: .init(retryDelay: .milliseconds(20)), logger: logger)
        }
        var configuration = VoicePipeServer.Configuration(port: 0, authToken: standIn.authToken)
        configuration.store = store
        configuration.textAgent = agent
        configuration.stream.inbound.voiceActivity.model = .classic
        if let makeAgent { configuration.makeAgent = { makeAgent($0, store) } }
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let task = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        let bound = try #require(await iterator.next())
        return TextRig(standIn: standIn, store: store, path: path, server: server, agent: agent, port: bound, task: task)
    }

    /// Stops the server and closes the store (the stand-in keeps running unless `standIn` is true).
    func stop(standIn stopStandIn: Bool = true) async {
        task.cancel()
        _ = await task.result
        try? await store.close()
        if stopStandIn { await standIn.stop() }
    }

    /// The signature Twilio puts on the media stream's upgrade (a GET of the `wss` URL, no parameters).
    func signature(media url: String) -> String { RequestValidator(authToken: standIn.authToken).signature(url: url) }

    func get(_ path: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 22)))
    }

    func post(_ path: String, form: String, headers: [(String, String)] = []) async throws -> (status: Int, body: String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }
}

/// Polls `condition` every 10 ms for up to `seconds`.
func eventually(seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}

enum Speech {
    static let clip = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.samples
    /// "The person at extension" (2.04 s).
    static let thePerson = Array(clip[14291..<30609])
    static func silence(_ milliseconds: Int) -> [Float] { [Float](repeating: 0, count: milliseconds * 8) }
}
