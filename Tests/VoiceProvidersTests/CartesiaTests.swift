//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization
import Testing
import VoiceAgent
import VoiceDSP
import VoiceProviders
import VoiceProvidersTesting

@Suite("Cartesia synthesiser against its stand-in")
struct CartesiaTests {
    static let key = "sk_car_test_key"

    static func synthesizer(
        _ host: StandInHost, key: String = key, configuration: CartesiaSynthesizer.Configuration = .init(voiceID: "voice-1")
    ) throws -> CartesiaSynthesizer {
        CartesiaSynthesizer(endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: key), configuration: configuration)
    }

    static func int16(_ sample: Float) -> Int16 { Int16(clamping: Int((Double(sample) * 32767).rounded())) }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    @Test("µ-law at 8 kHz: the audio is the stand-in's voice sample for sample, the text follows the audio")
    func muLawAudioAndText() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(
            configuration: .init(apiKey: Self.key, timing: .init(firstByte: .milliseconds(20), unitsPerSecond: 200)))
        defer { Task { await host.stop() } }
        let synthesizer = try Self.synthesizer(host)
        #expect(synthesizer.sampleRate == 8000)
        let pieces = ["Hello there, my friend.", " How are you today?", " I can help with that."]
        let stream = try await synthesizer.makeStream()
        for piece in pieces { try await stream.send(piece) }
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let whole = pieces.joined()
        let expected = StandInVoice.render(whole, sampleRate: 8000).samples.map {
            Float(MuLaw.decode(MuLaw.encode(Self.int16($0)))) / 32768
        }
        #expect(run.samples == expected)
        run.checkText(total: whole.unicodeScalars.count) { voicedText(pieces, sampleRate: 8000, heard: $0) }
        #expect(standIn.cancels.isEmpty)
        // Words come out while the audio streams, not only at the end.
        let early = run.chunks.dropLast().compactMap(\.text?.upperBound).max() ?? 0
        #expect(early >= pieces[0].unicodeScalars.count)
    }

    @Test("each send is a generation request in one context, verbatim, and finish ends it")
    func requestShape() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key))
        defer { Task { await host.stop() } }
        let configuration = CartesiaSynthesizer.Configuration(voiceID: "voice-9", modelID: "sonic-3", language: "de")
        let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
        try await stream.send("Guten Tag,")
        try await stream.send(" wie geht's?")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let messages = standIn.allMessages.map { Self.json($0.text) }
        #expect(messages.count == 3)
        let ids = Set(messages.compactMap { $0["context_id"] as? String })
        #expect(ids.count == 1)
        #expect(messages.map { $0["transcript"] as? String } == ["Guten Tag,", " wie geht's?", ""])
        #expect(messages.map { $0["continue"] as? Bool } == [true, true, false])
        for message in messages {
            #expect(message["model_id"] as? String == "sonic-3")
            #expect(message["language"] as? String == "de")
            #expect((message["voice"] as? [String: Any])?["id"] as? String == "voice-9")
            #expect(message["add_timestamps"] as? Bool == true)
            #expect(message["max_buffer_delay_ms"] as? Int == 0)
            let format = message["output_format"] as? [String: Any]
            #expect(format?["container"] as? String == "raw")
            #expect(format?["encoding"] as? String == "pcm_mulaw")
            #expect(format?["sample_rate"] as? Int == 8000)
        }
        let connection = standIn.connections.first
        #expect(connection?.version == "2026-03-01")
        #expect(connection?.usedAPIKeyHeader == true)
        for _ in 0..<100 where standIn.connections.first?.ended != true { try await Task.sleep(for: .milliseconds(50)) }
        #expect(standIn.connections.first?.closedByClient == true)
    }

    @Test("16-bit PCM at 24 kHz decodes within one step of the rendering")
    func pcm16() async throws {
        let (host, _) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key, chunkMilliseconds: 37))
        defer { Task { await host.stop() } }
        let configuration = CartesiaSynthesizer.Configuration(voiceID: "v", encoding: .pcmS16LE, outputSampleRate: 24000)
        let synthesizer = try Self.synthesizer(host, configuration: configuration)
        #expect(synthesizer.sampleRate == 24000)
        let stream = try await synthesizer.makeStream()
        try await stream.send("Sixteen bits, please.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let expected = StandInVoice.render("Sixteen bits, please.", sampleRate: 24000).samples
        #expect(run.samples.count == expected.count)
        #expect(zip(run.samples, expected).allSatisfy { abs($0 - $1) <= 1.5 / 32768 })
        run.checkText(total: 21) { voicedText(["Sixteen bits, please."], sampleRate: 24000, heard: $0) }
    }

    @Test("cancel mid-stream sends cancel for the context, closes the socket and ends the audio")
    func cancelMidStream() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key, timing: .init(unitsPerSecond: 10)))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        try await stream.send("This is a long sentence that takes a good few seconds to stream at this slow pace.")
        var iterator = stream.audio.makeAsyncIterator()
        var first = try await iterator.next()
        while first?.samples.isEmpty == true { first = try await iterator.next() }
        #expect(first != nil)
        stream.cancel()
        let clock = ContinuousClock()
        let start = clock.now
        while try await iterator.next() != nil {}
        #expect(clock.now - start < .seconds(2))
        for _ in 0..<100 where standIn.connections.first?.ended != true { try await Task.sleep(for: .milliseconds(50)) }
        let context = standIn.allMessages.first?.contextID
        #expect(context != nil)
        #expect(standIn.cancels == [context].compactMap { $0 })
        #expect(standIn.connections.first?.ended == true)
        #expect(standIn.connections.first?.closedByClient == true)
    }

    @Test(
        "refused handshakes and broken streams become the right ProviderError",
        arguments: [
            StandInFault.unauthorized, .rateLimited(retryAfter: .seconds(2)), .serverError(status: 503), .malformedFrame, .dropMidStream,
            .stall,
        ])
    func faults(_ fault: StandInFault) async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key, faults: [fault]))
        defer { Task { await host.stop() } }
        let configuration = CartesiaSynthesizer.Configuration(voiceID: "v", chunkTimeout: .milliseconds(500))
        let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
        try await stream.send("This sentence is long enough to need several chunks of audio.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        let error = run.error as? ProviderError
        switch fault {
        case .unauthorized:
            #expect(
                error
                    == .unauthorized(
                        provider: "cartesia", status: 401, message: "Invalid API key. Please check your API key and try again."))
        case .rateLimited:
            guard case .rateLimited(provider: "cartesia", let retryAfter, _) = error else {
                Issue.record("expected rateLimited, got \(String(describing: error))")
                return
            }
            #expect(retryAfter == .seconds(2))
        case .serverError: #expect(error?.kind == "status" && error?.isTransient == true)
        case .malformedFrame: #expect(error?.kind == "malformed")
        case .dropMidStream: #expect(error?.kind == "disconnected")
        case .stall: #expect(error == .timedOut(provider: "cartesia", stage: "next chunk", after: .milliseconds(500)))
        }
        switch fault {
        case .unauthorized, .rateLimited, .serverError:
            #expect(run.chunks.isEmpty)
            #expect(standIn.connections.isEmpty)
        default:
            #expect(!run.samples.isEmpty)
        }
    }

    @Test("a wrong key or a missing version is refused as Cartesia refuses it")
    func handshakeChecks() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host, key: "sk_car_wrong").makeStream()
        try await stream.send("Hello.")
        let run = await SpeechRun.collect(stream)
        #expect((run.error as? ProviderError)?.kind == "unauthorized")
        #expect(standIn.connections.isEmpty)
        // Straight to the stand-in: a Bearer key works, a missing version does not.
        var withBearer = WebSocketClientConfiguration()
        withBearer.additionalHeaders[.authorization] = "Bearer \(Self.key)"
        let opened = Mutex(false)
        let logger = Logger(label: "test")
        _ = try? await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(host.port)/tts/websocket?cartesia_version=2026-03-01", configuration: withBearer, logger: logger
        ) { _, outbound, _ in
            opened.withLock { $0 = true }
            try await outbound.close(.normalClosure, reason: nil)
        }
        #expect(opened.withLock { $0 })
        await #expect(throws: WebSocketClientError.webSocketUpgradeFailed) {
            try await WebSocketClient.connect(url: "ws://127.0.0.1:\(host.port)/tts/websocket", configuration: withBearer, logger: logger) {
                _, _, _ in
            }
        }
        #expect(standIn.refusals.suffix(1) == [400])
    }

    @Test("no first audio within the timeout is a first-byte timeout")
    func firstAudioTimeout() async throws {
        let (host, _) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key, timing: .init(firstByte: .seconds(3))))
        defer { Task { await host.stop() } }
        let configuration = CartesiaSynthesizer.Configuration(voiceID: "v", firstAudioTimeout: .milliseconds(400))
        let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
        try await stream.send("Slow.")
        let run = await SpeechRun.collect(stream)
        #expect(run.error as? ProviderError == .timedOut(provider: "cartesia", stage: "first byte", after: .milliseconds(400)))
    }

    @Test("an error message fails the stream, in the 2026 shape and the older one")
    func errorMessages() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key))
        defer { Task { await host.stop() } }
        for (index, version) in ["2026-03-01", "2024-11-13"].enumerated() {
            let configuration = CartesiaSynthesizer.Configuration(voiceID: "v", modelID: "no-such-model", version: version)
            let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
            try await stream.send("Hello.")
            let run = await SpeechRun.collect(stream)
            guard case .failed(provider: "cartesia", let message) = run.error as? ProviderError else {
                Issue.record("expected failed, got \(String(describing: run.error))")
                continue
            }
            #expect(message.contains("Invalid model_id"))
            #expect(message.contains("invalid_request") == (version == "2026-03-01"))
            // The client, not the stand-in, ends the connection once the error has come.
            for _ in 0..<100 where standIn.connections.dropFirst(index).first?.ended != true {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(standIn.connections.dropFirst(index).first?.closedByClient == true)
        }
    }

    static func request(_ id: String, _ transcript: String, continues: Bool, model: String = "sonic-2", delay: Int? = nil) -> String {
        var object: [String: Any] = [
            "context_id": id, "model_id": model, "transcript": transcript, "continue": continues, "voice": ["mode": "id", "id": "v"],
            "output_format": ["container": "raw", "encoding": "pcm_s16le", "sample_rate": 16000] as [String: Any],
        ]
        if let delay { object["max_buffer_delay_ms"] = delay }
        return String(decoding: try! JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test("the stand-in keeps a context's fields fixed, buffers unfinished sentences and expires ended contexts")
    func standInContexts() async throws {
        let (host, standIn) = try await CartesiaStandIn.start(configuration: .init(apiKey: Self.key, contextExpiry: .milliseconds(200)))
        defer { Task { await host.stop() } }
        var headers = WebSocketClientConfiguration()
        headers.additionalHeaders[.init("X-API-Key")!] = Self.key
        headers.additionalHeaders[.init("Cartesia-Version")!] = "2026-03-01"
        let received = Mutex<[String]>([])  // raw JSON texts ([String: Any] is not Sendable)
        let logger = Logger(label: "test")
        try await WebSocketClient.connect(url: "ws://127.0.0.1:\(host.port)/tts/websocket", configuration: headers, logger: logger) {
            inbound, outbound, _ in
            var messages = inbound.messages(maxSize: 1 << 22).makeAsyncIterator()
            func next() async throws -> [String: Any] {
                guard case .text(let text) = try await messages.next() else { return [:] }
                received.withLock { $0.append(text) }
                return Self.json(text)
            }
            // An unfinished sentence waits (default 3 s buffer); finishing the context speaks it, then done.
            try await outbound.write(.text(Self.request("a", "Wait for", continues: true)))
            try await outbound.write(.text(Self.request("a", " it", continues: false)))
            var types: [String] = []
            while types.last != "done" { types.append(try await next()["type"] as? String ?? "?") }
            #expect(types.contains("chunk") && types.contains("timestamps"))
            // Changing a field within a context is an error.
            try await outbound.write(.text(Self.request("b", "One.", continues: true, delay: 0)))
            try await outbound.write(.text(Self.request("b", " Two.", continues: true, model: "sonic-3", delay: 0)))
            var object = try await next()
            while object["type"] as? String != "error" { object = try await next() }
            #expect(object["context_id"] as? String == "b")
            #expect(object["done"] as? Bool == true)
            #expect(object["title"] is String && object["error_code"] is String && object["status_code"] is Int)
            // A context that ended more than the expiry ago is gone.
            try await Task.sleep(for: .milliseconds(400))
            try await outbound.write(.text(Self.request("a", "Again.", continues: false)))
            object = try await next()
            while object["type"] as? String != "error" { object = try await next() }
            #expect(object["context_id"] as? String == "a")
            try await outbound.close(.normalClosure, reason: nil)
        }
        let words = received.withLock { $0 }.map(Self.json).filter {
            $0["context_id"] as? String == "a" && $0["type"] as? String == "timestamps"
        }
        .flatMap { ($0["word_timestamps"] as? [String: Any])?["words"] as? [String] ?? [] }
        #expect(words == ["Wait", "for", "it"])
        #expect(standIn.messages["a"]?.count == 3)
    }
}
