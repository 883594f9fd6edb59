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
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting
import VoiceProviders
import VoiceProvidersTesting

/// µ-law of samples in −1...1, as Twilio's codec would encode them.
private func muLaw(_ samples: [Float]) -> [UInt8] { samples.map { MuLaw.encode(Int16(clamping: Int(($0 * 32768).rounded()))) } }

/// Samples decoded from µ-law bytes.
private func decoded(_ bytes: [UInt8]) -> [Float] { bytes.map { Float(MuLaw.decode($0)) / 32768 } }

private func makeAgent(
    _ host: StandInHost, key: String = "sk-test-realtime", configuration: OpenAIRealtimeAgent.Configuration = .init()
) throws -> OpenAIRealtimeAgent {
    var logger = Logger(label: "test.realtime")
    logger.logLevel = .critical
    return OpenAIRealtimeAgent(
        endpoint: try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: key), configuration: configuration, logger: logger)
}

/// Everything a reply yields.
private func collect(_ stream: AsyncThrowingStream<AgentOutput, any Error>) async throws -> (
    audio: [Float], rates: Set<Int>, text: [String]
) {
    var audio: [Float] = []
    var rates: Set<Int> = []
    var text: [String] = []
    for try await output in stream {
        switch output {
        case .audio(let samples, let rate):
            audio += samples
            rates.insert(rate)
        case .text(let piece): text.append(piece)
        case .hangUp, .progress: break
        }
    }
    return (audio, rates, text)
}

/// Waits up to `seconds` for `condition`.
private func eventually(seconds: Double = 5, _ condition: () -> Bool) async throws {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
}

/// µ-law bytes as they come out of the linear path: µ-law has two codes for silence (0x7F, "negative zero", and
/// 0xFF), which decode to the same sample 0, and re-encoding gives 0xFF. Every other code survives decode→encode.
private func canonical(_ bytes: [UInt8]) -> [UInt8] { muLaw(decoded(bytes)) }

/// The caller's speech as Twilio would carry it: rendered, then through µ-law (so that it is exactly representable).
private func callerSpeech(_ text: String) -> (samples: [Float], bytes: [UInt8]) {
    let bytes = canonical(muLaw(StandInVoice.render(text, sampleRate: 8000).samples))
    return (decoded(bytes), bytes)
}

private func json(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
}

@Suite("OpenAI Realtime agent and stand-in")
struct OpenAIRealtimeTests {
    @Test("GA handshake and session: bearer key, no beta header, session.update with µ-law both ways and no turn detection")
    func sessionShape() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host, configuration: .init(instructions: "Be brief.", transcriptionModel: "gpt-4o-mini-transcribe"))
        let speech = callerSpeech("hello there")
        let reply = try await collect(agent.reply(to: CallerTurn(number: 1, audio: speech.samples, sampleRate: 8000)))
        #expect(!reply.audio.isEmpty)

        let recording = standIn.recording
        #expect(recording.authorizations == ["Bearer sk-test-realtime"])
        #expect(recording.betaHeaders == [nil])
        #expect(recording.queries == ["model=gpt-realtime"])
        #expect(recording.errors.isEmpty)
        #expect(recording.clientEvents.first == "session.update")
        #expect(Array(recording.clientEvents.suffix(2)) == ["input_audio_buffer.commit", "response.create"])
        #expect(Set(recording.clientEvents.dropFirst().dropLast(2)) == ["input_audio_buffer.append"])
        let update = json(try #require(recording.sessionUpdates.first))
        let session = try #require(update["session"] as? [String: Any])
        #expect(session["type"] as? String == "realtime")
        #expect(session["model"] as? String == "gpt-realtime")
        #expect(session["instructions"] as? String == "Be brief.")
        #expect(session["output_modalities"] as? [String] == ["audio"])
        let audio = try #require(session["audio"] as? [String: Any])
        let input = try #require(audio["input"] as? [String: Any])
        let output = try #require(audio["output"] as? [String: Any])
        #expect((input["format"] as? [String: Any])?["type"] as? String == "audio/pcmu")
        #expect(input["turn_detection"] is NSNull)
        #expect((input["transcription"] as? [String: Any])?["model"] as? String == "gpt-4o-mini-transcribe")
        #expect((output["format"] as? [String: Any])?["type"] as? String == "audio/pcmu")
        #expect(output["voice"] as? String == "marin")
        #expect(session["input_audio_format"] == nil && session["voice"] == nil && session["modalities"] == nil)
    }

    @Test("the turn's audio reaches the provider byte for byte, and the reply's audio and transcript come back exactly")
    func audioBothWays() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host)
        let speech = callerSpeech("what is the weather like today")
        let reply = try await collect(agent.reply(to: CallerTurn(number: 1, audio: speech.samples, sampleRate: 8000)))
        #expect(standIn.recording.appendedAudio == speech.bytes)
        let expected = canonical(muLaw(StandInVoice.render(OpenAIRealtimeStandIn.defaultReply, sampleRate: 8000).samples))
        #expect(reply.rates == [8000])
        #expect(muLaw(reply.audio) == expected)
        #expect(reply.text.joined() == OpenAIRealtimeStandIn.defaultReply)
        #expect(standIn.recording.responseStatuses == ["completed"])
    }

    @Test("with the listener, the caller's audio is appended while the turn is under way; at 16 kHz it is resampled to 8 kHz")
    func streamingListener() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host)
        await agent.observe(.callStarted(CallContext(callSid: "CA1")))
        await agent.observe(.turnStarted(number: 1))
        let listener = try #require(agent.callerAudioListener)
        let speech = callerSpeech("one two three four five six")
        let half = speech.samples.count / 2 / 160 * 160
        try await eventually { standIn.recording.handshakes == 1 && standIn.recording.clientEvents.count == 1 }
        for start in stride(from: 0, to: half, by: 160) {
            speech.samples[start..<(start + 160)].withUnsafeBufferPointer { listener.hear($0, sampleRate: 8000, turn: 1) }
        }
        // Half the turn has been heard, the turn is not over: its audio is already at the provider.
        try await eventually { standIn.recording.appendedAudio.count >= half - 800 }
        #expect(standIn.recording.appendedAudio.count >= half - 800)
        #expect(!standIn.recording.clientEvents.contains("input_audio_buffer.commit"))
        for start in stride(from: half, to: speech.samples.count, by: 160) {
            speech.samples[start..<min(speech.samples.count, start + 160)].withUnsafeBufferPointer {
                listener.hear($0, sampleRate: 8000, turn: 1)
            }
        }
        listener.turnEnded(1)
        let turn = CallerTurn(number: 1, audio: speech.samples, sampleRate: 8000)
        let reply = try await collect(agent.reply(to: turn))
        #expect(!reply.audio.isEmpty)
        #expect(standIn.recording.appendedAudio == speech.bytes)
        #expect(standIn.recording.clientEvents.filter { $0 == "input_audio_buffer.commit" }.count == 1)

        // Turn 2 at 16 kHz (a call not at the Twilio rate): 8 kHz µ-law of the same length reaches the provider.
        await agent.observe(.turnStarted(number: 2))
        let wide = try Resampler(inputRate: 8000, outputRate: 16000).resample(speech.samples)
        for start in stride(from: 0, to: wide.count, by: 320) {
            wide[start..<min(wide.count, start + 320)].withUnsafeBufferPointer { listener.hear($0, sampleRate: 16000, turn: 2) }
        }
        listener.turnEnded(2)
        _ = try await collect(agent.reply(to: CallerTurn(number: 2, audio: wide, sampleRate: 16000)))
        let second = standIn.recording.appendedAudio.count - speech.bytes.count
        #expect(abs(second - speech.bytes.count) <= 80)
        #expect(standIn.recording.errors.isEmpty)
        await agent.observe(.callEnded)
    }

    @Test("barge-in: response.cancel while the response runs, then the item truncated at the played milliseconds")
    func cancelAndTruncate() async throws {
        // Audio comes at twice real time, so the response is still running when the caller interrupts.
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(deltaInterval: .milliseconds(50)))
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host)
        let speech = callerSpeech("tell me a story")
        let received = Mutex(0)
        let consumer = Task {
            for try await output in agent.reply(to: CallerTurn(number: 1, audio: speech.samples, sampleRate: 8000)) {
                if case .audio(let samples, _) = output { received.withLock { $0 += samples.count } }
            }
        }
        try await eventually { received.withLock { $0 } >= 8 * 700 }
        consumer.cancel()  // the AgentRunner cancels the reply on barge-in
        await agent.observe(.interrupted(number: 1, heard: "You said", playedMilliseconds: 620))
        try await eventually { standIn.recording.truncations.count == 1 }
        let recording = standIn.recording
        #expect(recording.clientEvents.contains("response.cancel"))
        #expect(recording.responseStatuses == ["cancelled"])
        let truncation = try #require(recording.truncations.first)
        #expect(truncation.audioEndMilliseconds == 620 && truncation.contentIndex == 0)
        #expect(truncation.keptTranscript == "You said something.")
        #expect(recording.errors.isEmpty)
        #expect(agent.truncations.map(\.audioEndMilliseconds) == [620])
    }

    @Test("truncation clamps to the audio received and is skipped when everything received was played")
    func truncationClamp() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host)
        let speech = callerSpeech("tell me a story")
        let reply = try await collect(agent.reply(to: CallerTurn(number: 1, audio: speech.samples, sampleRate: 8000)))
        let total = Double(reply.audio.count) / 8
        // Played all of it (the mark clock can run past the audio: never truncate beyond what was received).
        await agent.observe(.interrupted(number: 1, heard: "", playedMilliseconds: total + 60))
        // Played nothing of a reply that no longer exists: nothing to do.
        await agent.observe(.interrupted(number: 7, heard: "", playedMilliseconds: 100))
        // The greeting (turn 0) is a reply of its own.
        let greeter = try makeAgent(host, configuration: .init(greetingInstructions: "Greet the caller."))
        let greeting = try await collect(try #require(greeter.greeting(for: CallContext(callSid: "CA2"))))
        await greeter.observe(.interrupted(number: 0, heard: "", playedMilliseconds: 1000))
        try await eventually { standIn.recording.truncations.count == 1 }
        let recording = standIn.recording
        #expect(recording.truncations.map(\.audioEndMilliseconds) == [1000])
        #expect(Double(greeting.audio.count) / 8 > 1000)
        #expect(recording.errors.isEmpty)
        #expect(agent.truncations.isEmpty)
        let create = json(try #require(recording.responseCreates.last))
        #expect((create["response"] as? [String: Any])?["instructions"] as? String == "Greet the caller.")
        #expect(!recording.clientEvents.contains("response.cancel"))
    }

    @Test("the stand-in rejects the beta interface and bad requests as production does (raw WebSocket)")
    func betaShapesRejected() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let url = "ws://127.0.0.1:\(host.port)/v1/realtime?model=gpt-realtime"
        let logger = Logger(label: "test.raw")

        // The beta header: an error event, then the socket closes.
        var beta = WebSocketClientConfiguration()
        beta.additionalHeaders[.authorization] = "Bearer sk-test-realtime"
        beta.additionalHeaders[try #require(HTTPField.Name("OpenAI-Beta"))] = "realtime=v1"
        let betaMessages = Mutex<[String]>([])
        try await WebSocketClient.connect(url: url, configuration: beta, logger: logger) { inbound, _, _ in
            for try await message in inbound.messages(maxSize: 1 << 20) {
                if case .text(let text) = message { betaMessages.withLock { $0.append(text) } }
            }
        }
        let betaEvents = betaMessages.withLock { $0 }.map(json)
        #expect(betaEvents.count == 1)
        #expect(betaEvents.first?["type"] as? String == "error")
        #expect((betaEvents.first?["error"] as? [String: Any])?["message"] as? String == "Unknown beta requested: 'realtime'")

        // GA socket, beta-shaped bodies and bad requests.
        var ga = WebSocketClientConfiguration()
        ga.additionalHeaders[.authorization] = "Bearer sk-test-realtime"
        let sends = [
            #"{"type":"session.update","session":{"modalities":["audio"],"input_audio_format":"g711_ulaw","voice":"alloy"}}"#,
            #"{"type":"session.update","session":{"type":"realtime","input_audio_format":"g711_ulaw"}}"#,
            #"{"type":"input_audio_buffer.commit"}"#,
            #"{"type":"response.cancel"}"#,
            #"{"type":"conversation.item.truncate","item_id":"item_x","content_index":0,"audio_end_ms":-5}"#,
            #"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}}}}}"#,
        ]
        let answers = Mutex<[String]>([])
        try await WebSocketClient.connect(url: url, configuration: ga, logger: logger) { inbound, outbound, _ in
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            if case .text(let first)? = try await iterator.next() { answers.withLock { $0.append(first) } }
            for send in sends {
                try await outbound.write(.text(send))
                if case .text(let answer)? = try await iterator.next() { answers.withLock { $0.append(answer) } }
            }
        }
        let events = answers.withLock { $0 }.map(json)
        try #require(events.count == sends.count + 1)
        func error(_ index: Int) -> [String: Any] { events[index]["error"] as? [String: Any] ?? [:] }
        #expect(events[0]["type"] as? String == "session.created")
        #expect(((events[0]["session"] as? [String: Any])?["audio"] as? [String: Any]) != nil)
        #expect(error(1)["message"] as? String == "Missing required parameter: 'session.type'.")
        #expect(error(2)["message"] as? String == "Unknown parameter: 'session.input_audio_format'.")
        #expect(error(3)["code"] as? String == "input_audio_buffer_commit_empty")
        #expect(events[4]["type"] as? String == "error")  // nothing to cancel; the session stays open
        #expect(error(5)["code"] as? String == "integer_below_min_value")
        #expect(events[6]["type"] as? String == "session.updated")
        let effective = (events[6]["session"] as? [String: Any])?["audio"] as? [String: Any]
        #expect(((effective?["input"] as? [String: Any])?["format"] as? [String: Any])?["type"] as? String == "audio/pcmu")
        #expect(((effective?["output"] as? [String: Any])?["voice"] as? String) == "alloy")
        #expect(standIn.recording.clientEvents.filter { $0 == "session.update" }.count == 3)
    }

    @Test("the stand-in refuses a truncate beyond the item's audio, with OpenAI's message, and accepts one within it")
    func truncateTooLong() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders[.authorization] = "Bearer sk-test-realtime"
        let audio = Data(callerSpeech("hello there").bytes).base64EncodedString()
        let seen = Mutex<[String]>([])  // raw JSON texts ([String: Any] is not Sendable)
        try await WebSocketClient.connect(
            url: "ws://127.0.0.1:\(host.port)/v1/realtime?model=gpt-realtime", configuration: configuration, logger: Logger(label: "raw")
        ) { inbound, outbound, _ in
            var iterator = inbound.messages(maxSize: 1 << 20).makeAsyncIterator()
            func next() async throws -> [String: Any] {
                guard case .text(let text)? = try await iterator.next() else { return [:] }
                seen.withLock { $0.append(text) }
                return json(text)
            }
            _ = try await next()
            try await outbound.write(
                .text(
                    #"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"}},"output":{"format":{"type":"audio/pcmu"}}}}}"#
                ))
            _ = try await next()
            try await outbound.write(.text(#"{"type":"input_audio_buffer.append","audio":"\#(audio)"}"#))
            try await outbound.write(.text(#"{"type":"input_audio_buffer.commit"}"#))
            try await outbound.write(.text(#"{"type":"response.create"}"#))
            var done: [String: Any] = [:]
            while done.isEmpty {
                let event = try await next()
                if event.isEmpty { break }
                if event["type"] as? String == "response.done" { done = event }
            }
            let output = (done["response"] as? [String: Any])?["output"] as? [[String: Any]]
            let item = output?.first?["id"] as? String ?? "none"
            let length = Int(standIn.recording.itemMilliseconds[item] ?? 0)
            try await outbound.write(
                .text(#"{"type":"conversation.item.truncate","item_id":"\#(item)","content_index":0,"audio_end_ms":\#(length + 1)}"#))
            _ = try await next()
            try await outbound.write(
                .text(#"{"type":"conversation.item.truncate","item_id":"\#(item)","content_index":0,"audio_end_ms":\#(length - 100)}"#))
            _ = try await next()
        }
        let events = seen.withLock { $0 }.map(json)
        let item = try #require(standIn.recording.itemMilliseconds.keys.first)
        let length = Int(try #require(standIn.recording.itemMilliseconds[item]))
        #expect(length == Int(Double(StandInVoice.render("Short answer.", sampleRate: 8000).samples.count) / 8))
        let refused = try #require(events.dropLast().last)
        #expect(refused["type"] as? String == "error")
        let error = refused["error"] as? [String: Any]
        #expect(error?["message"] as? String == "Audio content of \(length)ms is already shorter than \(length + 1)ms")
        #expect(error?["type"] as? String == "invalid_request_error")
        let accepted = try #require(events.last)
        #expect(accepted["type"] as? String == "conversation.item.truncated")
        #expect(accepted["audio_end_ms"] as? Int == length - 100 && accepted["item_id"] as? String == item)
        #expect(standIn.recording.truncations.map(\.audioEndMilliseconds) == [length - 100])
        #expect(standIn.recording.appendedAudio == callerSpeech("hello there").bytes)
    }

    @Test("a refused key, a rate limit and a 503 at the handshake are typed errors")
    func handshakeFailures() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let turn = CallerTurn(number: 1, audio: callerSpeech("hello").samples, sampleRate: 8000)

        let wrong = try makeAgent(host, key: "sk-wrong-key-1234")
        await #expect {
            _ = try await collect(wrong.reply(to: turn))
        } throws: { error in
            guard case .unauthorized(let provider, 401, let message)? = error as? ProviderError else { return false }
            return provider == "openai" && message.contains("Incorrect API key") && !message.contains("sk-wrong-key-1234")
        }
        standIn.enqueue(.rateLimited(retryAfter: .seconds(2)))
        await #expect {
            _ = try await collect(try makeAgent(host).reply(to: turn))
        } throws: { error in
            guard case .rateLimited(_, let retryAfter, _)? = error as? ProviderError else { return false }
            return retryAfter == .seconds(2)
        }
        standIn.enqueue(.serverError(status: 503))
        await #expect {
            _ = try await collect(try makeAgent(host).reply(to: turn))
        } throws: { error in
            guard case .status(_, 503, _)? = error as? ProviderError else { return false }
            return true
        }
        // The queue is spent: the next call works.
        let reply = try await collect(try makeAgent(host).reply(to: turn))
        #expect(!reply.audio.isEmpty)
    }

    @Test("mid-response faults: a malformed frame, a stall and a dropped socket fail the reply; the next turn reconnects")
    func streamFailures() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host, configuration: .init(firstAudioTimeout: .seconds(3), idleTimeout: .milliseconds(400)))
        func turn(_ number: Int) -> CallerTurn { CallerTurn(number: number, audio: callerSpeech("hello again").samples, sampleRate: 8000) }

        standIn.enqueue(.malformedFrame)
        await #expect {
            _ = try await collect(agent.reply(to: turn(1)))
        } throws: { error in
            guard case .malformed("openai", let detail)? = error as? ProviderError else { return false }
            return !detail.contains("malformed response")  // said once, not wrapped twice
        }
        standIn.enqueue(.stall)
        await #expect {
            _ = try await collect(agent.reply(to: turn(2)))
        } throws: { error in
            guard case .timedOut("openai", "next audio", _)? = error as? ProviderError else { return false }
            return true
        }
        standIn.enqueue(.dropMidStream)
        await #expect {
            _ = try await collect(agent.reply(to: turn(3)))
        } throws: { error in
            guard case .disconnected("openai", _)? = error as? ProviderError else { return false }
            return true
        }
        #expect(standIn.recording.handshakes == 1)
        let reply = try await collect(agent.reply(to: turn(4)))
        #expect(!reply.audio.isEmpty)
        #expect(standIn.recording.handshakes == 2)
        #expect(standIn.recording.responseStatuses.last == "completed")
    }

    @Test("no audio within the first-audio timeout is a typed timeout")
    func firstAudioTimeout() async throws {
        let (host, _) = try await OpenAIRealtimeStandIn.start(.init(timing: StandInTiming(firstByte: .seconds(5))))
        defer { Task { await host.stop() } }
        let agent = try makeAgent(host, configuration: .init(firstAudioTimeout: .milliseconds(300)))
        await #expect {
            _ = try await collect(agent.reply(to: CallerTurn(number: 1, audio: callerSpeech("hello").samples, sampleRate: 8000)))
        } throws: { error in
            guard case .timedOut("openai", "first audio", _)? = error as? ProviderError else { return false }
            return true
        }
    }
}

@Suite("OpenAI Realtime agent in a call", .serialized)
struct OpenAIRealtimeCallTests {
    /// One simulated Twilio call at 8 kHz (µ-law passes untouched both ways) to a server whose agent is an
    /// ``OpenAIRealtimeAgent`` on the stand-in: the caller asks a question, then barges in on the answer.
    private func bargeInCall(
        turnDetection: OpenAIRealtimeAgent.Configuration.TurnDetection, trailingSilence: Duration = .milliseconds(500)
    ) async throws -> (
        result: SimulatedCaller.Result, recording: OpenAIRealtimeStandIn.Recording, agent: OpenAIRealtimeAgent, heard: Double
    ) {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start()
        defer { Task { await host.stop() } }
        let endpoint = try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: "sk-test-realtime")
        let logger = {
            var logger = Logger(label: "test.realtime-call")
            logger.logLevel = .critical
            return logger
        }()
        let agents = Mutex<[OpenAIRealtimeAgent]>([])
        var configuration = VoicePipeServer.Configuration(port: 0)
        configuration.stream.inbound.outputRate = 8000  // the Twilio rate: µ-law passes untouched both ways
        configuration.stream.inbound.voiceActivity.model = .classic  // the neural VAD is slow in debug builds
        configuration.stream.inbound.endpointer.trailingSilence = trailingSilence
        configuration.makeAgent = { _ in
            let agent = OpenAIRealtimeAgent(endpoint: endpoint, configuration: .init(turnDetection: turnDetection), logger: logger)
            agents.withLock { $0.append(agent) }
            return agent
        }
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.runUntilCancelled { listening.yield($0) } }
        defer { serverTask.cancel() }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let question = StandInVoice.render("Could you tell me a long story about the sea?", sampleRate: 8000).samples
        let stop = StandInVoice.render("Wait, stop there.", sampleRate: 8000).samples
        let result = try await SimulatedCaller(
            .init(
                url: "ws://127.0.0.1:\(port)/twilio/media",
                script: [
                    .init(audio: question, cue: .interrupting(after: .zero), text: "question"),
                    .init(audio: stop, cue: .interrupting(after: .milliseconds(1500)), text: "barge-in"),
                ], tailMilliseconds: 1500, maximumMilliseconds: 20_000)
        ).run()

        // What the caller actually heard of the reply before the clear: the agent audio played between its first
        // line and the clear (no greeting, so all of it is the first reply's), in ms (8 µ-law bytes = 1 ms).
        let clear = try #require(result.clearTimes.first)
        let heard = result.segments.filter { $0.start >= result.lineStarts[0] && $0.start < clear }
            .reduce(0.0) { $0 + Double($1.bytes.count) / 8 }
        try await eventually { !standIn.recording.truncations.isEmpty }
        #expect(agents.withLock { $0.count } == 1)
        return (result, standIn.recording, try #require(agents.withLock { $0.first }), heard)
    }

    @Test("a Twilio call at 8 kHz: the caller barges in and the reply is truncated where the caller stopped hearing it")
    func bargeInTruncation() async throws {
        let (result, recording, agent, heard) = try await bargeInCall(turnDetection: .voicePipe)
        #expect(result.clears >= 1)
        #expect(heard >= 1500)
        let truncation = try #require(recording.truncations.first)
        // The agent truncated the item where the server said playback stopped: within half a frame of what the
        // caller heard (the server counts frames from Twilio's mark echoes; the caller counts samples).
        #expect(agent.truncations.map(\.audioEndMilliseconds) == [truncation.audioEndMilliseconds])
        #expect(
            abs(Double(truncation.audioEndMilliseconds) - heard) <= 20,
            "truncated at \(truncation.audioEndMilliseconds) ms, heard \(heard) ms")
        #expect(Double(truncation.audioEndMilliseconds) < truncation.itemMilliseconds)
        #expect(recording.errors.isEmpty, "\(recording.errors)")
        // The first reply's item is the one truncated (the second reply answers the barge-in).
        let firstItem = recording.itemMilliseconds.keys.sorted().first
        #expect(truncation.itemID == firstItem)
        // µ-law untouched: the audio appended is the caller's own bytes.
        let appended = recording.appendedAudio
        #expect(appended.count >= 8000)
        // From 250 ms in: the turn's audio begins with the endpointer's pre-roll, which at the start of the call
        // holds silence from before the caller's first frame.
        let window = Array(appended[2000..<6000])
        let sent = canonical(result.sent)  // the server decodes Twilio's bytes: 0x7F comes back as 0xFF
        let found = (0...(sent.count - window.count)).contains { start in
            sent[start] == window[0] && Array(sent[start..<(start + window.count)]) == window
        }
        #expect(found)
        #expect(recording.clientEvents.filter { $0 == "response.create" }.count == 2)
    }

    @Test(
        "the provider's turn detection: the caller's whole stream goes up, the provider's responses answer, barge-in still truncates",
        arguments: [OpenAIRealtimeAgent.Configuration.TurnDetection.serverVAD(), .semanticVAD(eagerness: .high)])
    func providerTurnDetection(_ turnDetection: OpenAIRealtimeAgent.Configuration.TurnDetection) async throws {
        // VoicePipe ends its turns first (300 ms of silence): its end of turn only starts the wait for the provider.
        let (result, recording, agent, heard) = try await bargeInCall(turnDetection: turnDetection, trailingSilence: .milliseconds(300))
        let update = try #require(recording.sessionUpdates.first)
        #expect(update.contains(#""create_response":true"#) && update.contains(#""interrupt_response":true"#))
        // The agent never commits or asks: the provider's detection does both.
        #expect(!recording.clientEvents.contains("input_audio_buffer.commit"))
        #expect(!recording.clientEvents.contains("response.create"))
        #expect(recording.speechStarts.count >= 2)  // the question and the barge-in
        #expect(recording.vadResponses >= 1)
        // The caller heard the provider's answer, and barging in truncated it where they stopped hearing it.
        #expect(result.clears >= 1)
        #expect(heard >= 1500)
        let truncation = try #require(recording.truncations.first { $0.audioEndMilliseconds > 0 })
        #expect(agent.truncations.contains { $0.itemID == truncation.itemID && $0.audioEndMilliseconds == truncation.audioEndMilliseconds })
        #expect(
            abs(Double(truncation.audioEndMilliseconds) - heard) <= 20,
            "truncated at \(truncation.audioEndMilliseconds) ms, heard \(heard) ms")
        // All of the caller's audio went up, silences included: about as much as the call lasted.
        let callMilliseconds = Double(result.framesSent) * 20
        #expect(Double(recording.appendedAudio.count) / 8 >= callMilliseconds - 500)
        #expect(recording.errors.isEmpty, "\(recording.errors)")
    }
}
