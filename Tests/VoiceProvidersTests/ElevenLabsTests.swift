//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import VoiceAgent
import VoiceDSP
import VoiceProviders
import VoiceProvidersTesting

@Suite("ElevenLabs synthesiser against its stand-in")
struct ElevenLabsTests {
    static let voice = "stand-in-voice"

    static func synthesizer(
        _ host: StandInHost, key: String = ElevenLabsStandIn.Configuration().apiKey,
        _ configure: (inout ElevenLabsSynthesizer.Configuration) -> Void = { _ in }
    ) throws -> ElevenLabsSynthesizer {
        var configuration = ElevenLabsSynthesizer.Configuration(voiceID: voice)
        configure(&configuration)
        return ElevenLabsSynthesizer(endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: key), configuration: configuration)
    }

    /// Reads a stream's audio in the background.
    final class Reader: Sendable {
        let chunks = Mutex<[SynthesizedAudio]>([])
        let outcome = Mutex<Result<Void, any Error>?>(nil)

        init(_ stream: any SynthesisStream) {
            Task { await self.read(stream) }
        }

        private func read(_ stream: any SynthesisStream) async {
            do {
                for try await chunk in stream.audio { chunks.withLock { $0.append(chunk) } }
                outcome.withLock { $0 = .success(()) }
            } catch {
                outcome.withLock { $0 = .failure(error) }
            }
        }

        /// Waits (at most 5 s) for the stream to end; returns the error it ended with, if any.
        func error() async -> ProviderError? {
            _ = await poll { outcome.withLock { $0 != nil } }
            guard case .failure(let error) = outcome.withLock({ $0 }) else { return nil }
            return error as? ProviderError
        }
    }

    /// Polls `condition` every 20 ms for up to `limit`; returns whether it became true.
    static func poll(_ limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// What a µ-law client hears of `text` rendered by the stand-in voice.
    static func heard(_ text: String) -> [Float] {
        StandInVoice.render(text, sampleRate: 8000).samples.map {
            Float(MuLaw.decode(MuLaw.encode(Int16(clamping: Int((Double($0) * 32768).rounded()))))) / 32768
        }
    }

    @Test("the first clause, far shorter than 120 characters, is spoken before any more text is sent")
    func firstClauseAtOnce() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        let reader = Reader(stream)
        try await stream.send("Sure, ")
        let spoke = await Self.poll { reader.chunks.withLock { !$0.isEmpty } }
        #expect(spoke)
        #expect(standIn.connections.first?.generations == ["Sure, "])
        try await stream.send("one moment.")
        try await stream.finish()
        #expect(await reader.error() == nil)
    }

    @Test("audio is the stand-in voice sample for sample, and text ranges never run ahead of it")
    func audioAndAlignment() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        let reader = Reader(stream)
        let clauses = ["Hello there, ", "how are you doing today? ", "I have 3 options for you, all of them good. ", "Goodbye."]
        for clause in clauses { try await stream.send(clause) }
        try await stream.finish()
        #expect(await reader.error() == nil)
        let text = clauses.joined()
        let chunks = reader.chunks.withLock { $0 }

        // What was flushed, each clause as a generation of its own; the last gained the trailing space.
        let generations = try #require(standIn.connections.first).generations
        #expect(generations == ["Hello there, ", "how are you doing today? ", "I have 3 options for you, all of them good. ", "Goodbye. "])
        #expect(chunks.flatMap(\.samples) == generations.flatMap { Self.heard($0) })

        // When each character's sound ends, in samples of the whole reply.
        var ends = [Int](repeating: 0, count: text.unicodeScalars.count + 1)
        var base = 0
        var offset = 0
        for generation in generations {
            let (samples, words) = StandInVoice.render(generation, sampleRate: 8000)
            for word in words {
                for index in word.characters where offset + index < ends.count {
                    ends[offset + index] = base + Int((word.end * 8000).rounded())
                }
            }
            base += samples.count
            offset += generation.unicodeScalars.count
        }
        let scalars = Array(text.unicodeScalars)
        var delivered = 0
        var covered = 0
        var progressive = false
        for (index, chunk) in chunks.enumerated() {
            delivered += chunk.samples.count
            let range = try #require(chunk.text)
            #expect(range.lowerBound == covered)
            covered = range.upperBound
            if let last = scalars[..<range.upperBound].lastIndex(where: { !$0.properties.isWhitespace }) {
                #expect(ends[last] <= delivered, "chunk \(index) claims \(range) before its audio ends")
            }
            if index < chunks.count - 2, !range.isEmpty { progressive = true }
        }
        #expect(covered == scalars.count)
        #expect(progressive)
    }

    @Test("the wire messages: one space first, clauses ending in a space with flush, then an empty text")
    func messageShape() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let synthesizer = try Self.synthesizer(host) {
            $0.voiceSettings = .init(stability: 0.5, speed: 1.1)
            $0.inactivityTimeout = 60
        }
        let stream = try await synthesizer.makeStream()
        let reader = Reader(stream)
        try await stream.send("Right away, ")
        try await stream.send("   ")
        try await stream.send("it is done")
        try await stream.finish()
        #expect(await reader.error() == nil)
        let connection = try #require(standIn.connections.first)
        #expect(connection.keyInHeader)
        #expect(connection.voiceID == Self.voice)
        #expect(connection.query["model_id"] == "eleven_flash_v2_5")
        #expect(connection.query["output_format"] == "ulaw_8000")
        #expect(connection.query["inactivity_timeout"] == "60")
        #expect(connection.query["sync_alignment"] == "true")
        #expect(await Self.poll { standIn.connections.first?.end == .completed })
        let messages = try connection.messages.map { try #require(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        try #require(messages.count == 4)
        #expect(messages[0]["text"] as? String == " ")
        #expect(messages[0]["flush"] == nil)
        let settings = try #require(messages[0]["voice_settings"] as? [String: Any])
        #expect(settings["stability"] as? Double == 0.5)
        #expect(settings["speed"] as? Double == 1.1)
        #expect(messages[1]["text"] as? String == "Right away, ")
        #expect(messages[2]["text"] as? String == "it is done ")
        #expect(messages[1]["flush"] as? Bool == true && messages[2]["flush"] as? Bool == true)
        #expect(messages[3]["text"] as? String == "")
        #expect(messages[3].count == 1)
        // The whitespace-only piece still counts in the agent's offsets.
        #expect(reader.chunks.withLock { $0.last?.text?.upperBound } == "Right away,    it is done".unicodeScalars.count)
    }

    @Test("cancel mid-stream ends audio at once and the stand-in sees the client close")
    func cancelMidStream() async throws {
        let timing = StandInTiming(unitsPerSecond: 5)  // 250 ms chunks at 5 per second: a long reply takes seconds
        let (host, standIn) = try await ElevenLabsStandIn.start(configuration: .init(timing: timing))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        let reader = Reader(stream)
        try await stream.send("This is a rather long sentence that keeps going on and on for quite a while, so it can be interrupted. ")
        #expect(await Self.poll { reader.chunks.withLock { !$0.isEmpty } })
        stream.cancel()
        #expect(await Self.poll(.seconds(2)) { reader.outcome.withLock { $0 != nil } })
        #expect(await reader.error() == nil)
        #expect(await Self.poll { standIn.connections.first?.end == .clientClosedMidStream })
        let heard = reader.chunks.withLock { $0.flatMap(\.samples).count }
        #expect(heard < Self.heard(try #require(standIn.connections.first?.generations.first)).count)
    }

    /// The error a one-clause reply ends with. `timeout` is short only where a timeout is the expected outcome:
    /// on a loaded machine a tight limit would turn a slow answer into a spurious timeout.
    static func failure(
        _ host: StandInHost, key: String = ElevenLabsStandIn.Configuration().apiKey, voice: String = voice,
        timeout: Duration = .seconds(4)
    ) async throws -> ProviderError? {
        let synthesizer = try Self.synthesizer(host, key: key) {
            $0.voiceID = voice
            $0.firstAudioTimeout = timeout
            $0.chunkTimeout = timeout
        }
        let stream = try await synthesizer.makeStream()
        let reader = Reader(stream)
        try? await stream.send("Hello there, how are you today? ")
        try? await stream.finish()
        return await reader.error()
    }

    @Test(
        "each injected fault gives the matching ProviderError",
        arguments: [
            (StandInFault.unauthorized, "unauthorized"), (.rateLimited(retryAfter: .seconds(7)), "rate_limited"),
            (.serverError(status: 503), "status"), (.malformedFrame, "malformed"), (.dropMidStream, "disconnected"), (.stall, "timeout"),
        ])
    func faults(fault: StandInFault, kind: String) async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start(configuration: .init(faults: [fault]))
        defer { Task { await host.stop() } }
        let error = try #require(try await Self.failure(host, timeout: fault == .stall ? .seconds(1) : .seconds(4)))
        #expect(error.kind == kind)
        switch error {
        case .unauthorized(_, let status, let message): #expect(status == 401 && message == "Invalid API key")
        case .rateLimited(_, let retryAfter, _): #expect(retryAfter == .seconds(7))
        case .status(_, let status, _): #expect(status == 503)
        case .timedOut(_, let stage, _): #expect(stage == "first byte")
        default: break
        }
        // The fault was used up: the next reply works.
        #expect(try await Self.failure(host) == nil)
        #expect(standIn.refusals.isEmpty == (kind != "unauthorized" && kind != "rate_limited" && kind != "status"))
    }

    @Test("a wrong key is refused at the handshake with ElevenLabs' 401, and the key is not in the error")
    func wrongKey() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let error = try #require(try await Self.failure(host, key: "sk-wrong-secret-key"))
        #expect(error == .unauthorized(provider: "elevenlabs", status: 401, message: "Invalid API key"))
        #expect(!error.description.contains("sk-wrong"))
        #expect(standIn.connections.isEmpty)
    }

    @Test("an error message and a 1008 close end the stream with .failed")
    func inBandErrors() async throws {
        let (host, _) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let unknown = try #require(try await Self.failure(host, voice: "no-such-voice"))
        guard case .failed(_, let message) = unknown else {
            Issue.record("expected .failed, got \(unknown)")
            return
        }
        #expect(message.contains("does not exist"))

        // Say nothing past the inactivity timeout: ElevenLabs closes with an error message and 1008.
        let synthesizer = try Self.synthesizer(host) { $0.inactivityTimeout = 1 }
        let stream = try await synthesizer.makeStream()
        let reader = Reader(stream)
        let error = await reader.error()
        guard case .failed(_, let timeoutMessage) = error else {
            Issue.record("expected .failed, got \(String(describing: error))")
            return
        }
        #expect(timeoutMessage.contains("Have not received new text"))
    }

    @Test("16-bit PCM at 24 kHz decodes to the stand-in voice")
    func pcm() async throws {
        let (host, _) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let synthesizer = try Self.synthesizer(host) { $0.outputFormat = .pcm24000 }
        #expect(synthesizer.sampleRate == 24000)
        let stream = try await synthesizer.makeStream()
        let reader = Reader(stream)
        try await stream.send("Testing one two. ")
        try await stream.finish()
        #expect(await reader.error() == nil)
        let expected = StandInVoice.render("Testing one two. ", sampleRate: 24000).samples.map {
            Float(Int16(clamping: Int((Double($0) * 32768).rounded()))) / 32768
        }
        #expect(reader.chunks.withLock { $0.flatMap(\.samples) } == expected)
    }
}

@Suite("ElevenLabs stand-in protocol rules")
struct ElevenLabsStandInTests {
    /// Messages a raw client received.
    final class Inbox: Sendable {
        let texts = Mutex<[String]>([])
        var count: Int { texts.withLock { $0.count } }
        /// The messages as JSON objects (those that are).
        var messages: [[String: Any]] {
            texts.withLock { $0 }.compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    @Test("text is buffered until the first schedule threshold (120 characters) without flush; alignment restarts per chunk")
    func buffering() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders[HTTPField.Name("xi-api-key")!] = ElevenLabsStandIn.Configuration().apiKey
        let url = "ws://127.0.0.1:\(host.port)/v1/text-to-speech/stand-in-voice/stream-input?output_format=ulaw_8000"
        let inbox = Inbox()
        let short = "Hello there, this is short. "
        let long = String(repeating: "More words to fill the buffer. ", count: 4)
        try await WebSocketClient.connect(url: url, configuration: configuration, logger: Logger(label: "test")) { inbound, outbound, _ in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 22) {
                        if case .text(let text) = message { inbox.texts.withLock { $0.append(text) } }
                    }
                }
                try await outbound.write(.text(#"{"text":" "}"#))
                try await outbound.write(.text(#"{"text":" "}"#))  // keep-alive
                try await outbound.write(.text(#"{"text":"\#(short)"}"#))
                try await Task.sleep(for: .milliseconds(400))
                #expect(inbox.count == 0, "audio before 120 characters were buffered")
                try await outbound.write(.text(#"{"text":"\#(long)"}"#))  // now 152 characters
                #expect(await ElevenLabsTests.poll { inbox.count > 0 })
                try await outbound.write(.text(#"{"text":""}"#))
                #expect(await ElevenLabsTests.poll { inbox.messages.last?["isFinal"] as? Bool == true })
                group.cancelAll()
            }
        }
        #expect(standIn.connections.first?.generations == [short + long])
        let messages = inbox.messages
        let audio = messages.filter { $0["audio"] is String }
        try #require(audio.count >= 2)
        var chars = ""
        for message in audio {
            let alignment = try #require(message["alignment"] as? [String: Any])
            let starts = try #require(alignment["charStartTimesMs"] as? [Int])
            #expect(starts.first.map { $0 < 250 } ?? true, "times are relative to the chunk")
            chars += try #require(alignment["chars"] as? [String]).joined()
            let normalized = try #require(message["normalizedAlignment"] as? [String: Any])
            #expect(normalized["chars"] as? [String] != alignment["chars"] as? [String] || alignment["chars"] as? [String] == [])
        }
        #expect(chars == short + long)
        #expect(messages.last?["audio"] is NSNull)
    }

    @Test("a key in the first message is checked: a wrong one gets an error message and close 1008")
    func keyInFirstMessage() async throws {
        let (host, standIn) = try await ElevenLabsStandIn.start()
        defer { Task { await host.stop() } }
        let url = "ws://127.0.0.1:\(host.port)/v1/text-to-speech/stand-in-voice/stream-input?output_format=ulaw_8000"
        let inbox = Inbox()
        let close = try await WebSocketClient.connect(url: url, logger: Logger(label: "test")) { inbound, outbound, _ in
            try await outbound.write(.text(#"{"text":" ","xi-api-key":"wrong"}"#))
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { inbox.texts.withLock { $0.append(text) } }
            }
        }
        #expect(close != nil)
        #expect(await ElevenLabsTests.poll { standIn.connections.first?.end == .closedByStandIn(code: 1008, reason: "Invalid API key") })
        #expect(inbox.messages.first?["error"] as? String == "invalid_api_key")
    }
}
