//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceAgent
import VoiceDSP
import VoiceProviders
import VoiceProvidersTesting

@Suite("Deepgram live recognition against its stand-in")
struct DeepgramTests {
    /// A stand-in, and a recogniser pointed at it.
    struct Fixture {
        let host: StandInHost
        let standIn: DeepgramStandIn
        let recognizer: DeepgramRecognizer

        init(
            _ configuration: DeepgramStandIn.Configuration = .init(), client: DeepgramRecognizer.Configuration = .init(),
            key: String = "dg-test-key"
        ) async throws {
            (host, standIn) = try await DeepgramStandIn.start(configuration: configuration)
            recognizer = DeepgramRecognizer(
                endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: key), configuration: client)
        }
    }

    /// Speech as Twilio would carry it: StandInVoice's rendering of `text`, then `silence` seconds of silence,
    /// as μ-law bytes and as the floats those bytes decode to.
    static func line(_ text: String, silence: Double = 0) -> (bytes: [UInt8], samples: [Float]) {
        var samples = StandInVoice.render(text, sampleRate: 8000).samples
        samples += repeatElement(0, count: Int(silence * 8000))
        let bytes = samples.map { MuLaw.encode(Int16(max(-32768, min(32767, ($0 * 32768).rounded())))) }
        return (bytes, bytes.map { Float(MuLaw.decode($0)) / 32768 })
    }

    /// Feeds `samples` 20 ms at a time, as the agent's recognition task does.
    static func feed(_ session: any RecognitionSession, _ samples: [Float]) throws {
        try samples.withUnsafeBufferPointer { buffer in
            var start = 0
            while start < buffer.count {
                let end = min(buffer.count, start + 160)
                try session.accept(UnsafeBufferPointer(rebasing: buffer[start..<end]))
                start = end
            }
        }
    }

    /// Polls `condition` every 20 ms for up to `limit`.
    static func eventually(within limit: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test("the stand-in receives exactly the μ-law bytes of the audio fed, with the documented query and auth")
    func bytesQueryAndAuth() async throws {
        let fixture = try await Fixture(client: .init(keyterms: ["VoicePipe"]))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        let audio = Self.line("hello world", silence: 0.6)
        try Self.feed(session, audio.samples)
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == "hello world")
        #expect(transcript.isFinal)
        let recording = fixture.standIn.recording
        // μ-law has two codes for zero, 0x7F (-0) and 0xFF (+0); both decode to the sample 0, which the session
        // sends as 0xFF. Every other byte must arrive unchanged, in order, none missing and none added.
        #expect(recording.audio == audio.bytes.map { $0 == 0x7F ? 0xFF : $0 })
        let connection = try #require(recording.connections.first)
        #expect(connection.authorization == "Token dg-test-key")
        #expect(
            connection.query
                == "model=nova-3&encoding=mulaw&sample_rate=8000&channels=1&interim_results=true&endpointing=300"
                + "&utterance_end_ms=1000&smart_format=true&punctuate=true&language=en&keyterm=VoicePipe")
        #expect(connection.ending == nil)
        await session.close()
    }

    @Test("partial results appear during the utterance; Finalize brings the final")
    func partialsThenFinalize() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("hello world").samples)
        var partials: [String] = []
        let sawPartial = await Self.eventually {
            if let partial = session.partialResult(), partials.last != partial.text {
                #expect(!partial.isFinal)
                partials.append(partial.text)
            }
            return partials.last == "hello world"
        }
        #expect(sawPartial, "partials seen: \(partials)")
        #expect(!fixture.standIn.recording.connections[0].sent.contains { $0 == "final" || $0 == "speech_final" })
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == "hello world")
        #expect(fixture.standIn.recording.controlMessages == ["Finalize"])
        #expect(fixture.standIn.recording.connections[0].sent.last == "from_finalize")
        await session.close()
    }

    @Test("several is_final results before speech_final are concatenated")
    func severalFinals() async throws {
        let text = "One two. Three four. Five."
        let fixture = try await Fixture(.init(transcripts: [text]))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line(text, silence: 0.5).samples)
        #expect(await Self.eventually { fixture.standIn.recording.connections[0].sent.contains("speech_final") })
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == text)
        #expect(transcript.words.map(\.text) == ["One", "two.", "Three", "four.", "Five."])
        let finals = fixture.standIn.recording.connections[0].sent.filter { $0 != "interim" }
        #expect(Array(finals.prefix(3)) == ["final", "final", "speech_final"])
        await session.close()
    }

    @Test("in noise, speech_final never comes and UtteranceEnd closes the utterance (no Finalize needed)")
    func noiseClosedByUtteranceEnd() async throws {
        let fixture = try await Fixture(.init(noise: true))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("hello world", silence: 1.3).samples)
        #expect(await Self.eventually { fixture.standIn.recording.connections[0].sent.contains("UtteranceEnd") })
        try await Task.sleep(for: .milliseconds(500))  // for the client to read it
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == "hello world")
        let recording = fixture.standIn.recording
        #expect(!recording.connections[0].sent.contains("speech_final"))
        #expect(recording.controlMessages.isEmpty)
        await session.close()
    }

    @Test("word times count from the utterance's first sample, in the second utterance of a session too")
    func wordTimingsOverTwoUtterances() async throws {
        let fixture = try await Fixture(.init(transcripts: ["good morning", "see you soon"]))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("good morning", silence: 0.5).samples)
        #expect(try await session.finishUtterance().text == "good morning")
        let second = StandInVoice.render("see you soon", sampleRate: 8000)
        try Self.feed(session, Self.line("see you soon", silence: 0.5).samples)
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == "see you soon")
        #expect(transcript.words.count == second.words.count)
        for (heard, spoken) in zip(transcript.words, second.words) {
            #expect(abs(heard.start - spoken.start) < 0.045, "\(heard) vs \(spoken)")
            #expect(abs(heard.end - spoken.end) < 0.045, "\(heard) vs \(spoken)")
        }
        #expect(fixture.standIn.recording.connections.count == 1)
        await session.close()
    }

    @Test("cancelUtterance drops the abandoned utterance's results, even those still in flight")
    func cancelDropsResults() async throws {
        let fixture = try await Fixture(.init(transcripts: ["first words", "second try"]))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("first words").samples)
        #expect(await Self.eventually { session.partialResult() != nil })
        session.cancelUtterance()
        #expect(session.partialResult() == nil)
        try Self.feed(session, Self.line("second try", silence: 0.5).samples)
        let transcript = try await session.finishUtterance()
        #expect(transcript.text == "second try")
        // The cancelled utterance's flush did come back, and was not taken.
        #expect(fixture.standIn.recording.connections[0].sent.filter { $0 == "from_finalize" }.count >= 1)
        await session.close()
    }

    @Test("KeepAlive goes out while no audio flows")
    func keepAlive() async throws {
        let fixture = try await Fixture(client: .init(keepAliveInterval: .milliseconds(200)))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        #expect(await Self.eventually { fixture.standIn.recording.controlMessages.filter { $0 == "KeepAlive" }.count >= 3 })
        #expect(fixture.standIn.recording.audio.isEmpty)
        await session.close()
    }

    @Test("a refused key is .unauthorized with Deepgram's dg-error; a 429 is .rateLimited")
    func refusedHandshakes() async throws {
        let fixture = try await Fixture(key: "wrong-key")
        defer { Task { await fixture.host.stop() } }
        await #expect(throws: ProviderError.unauthorized(provider: "deepgram", status: 401, message: "Invalid credentials.")) {
            _ = try await fixture.recognizer.makeSession()
        }
        #expect(fixture.standIn.recording.connections.isEmpty)
        #expect(fixture.standIn.recording.refusals == [401, 401])
        // The client repeats the refused handshake to read its status: both attempts meet the fault.
        let limited = try await Fixture(.init(faults: [.rateLimited(retryAfter: .seconds(2)), .rateLimited(retryAfter: .seconds(2))]))
        defer { Task { await limited.host.stop() } }
        await #expect(
            throws: ProviderError.rateLimited(
                provider: "deepgram", retryAfter: .seconds(2), message: "Too many requests. Please try again later.")
        ) { _ = try await limited.recognizer.makeSession() }
        #expect(limited.standIn.recording.refusals == [429, 429])
    }

    @Test("a malformed frame is logged and skipped: the session goes on and the utterance completes")
    func malformedFrameSurvived() async throws {
        let fixture = try await Fixture(.init(faults: [.malformedFrame]))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("hello world", silence: 0.5).samples)
        #expect(try await session.finishUtterance().text == "hello world")
        let recording = fixture.standIn.recording
        #expect(recording.connections.count == 1)
        #expect(recording.connections[0].sent.contains("malformed"))
        await session.close()
    }

    @Test("a drop mid-utterance is .disconnected; the next utterance works on a new connection")
    func dropThenReconnect() async throws {
        let fixture = try await Fixture(
            .init(transcripts: ["lost words", "hello again"], faults: [.dropMidStream], dropAfterAudioFrames: 5))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("lost words", silence: 0.5).samples)
        do {
            let transcript = try await session.finishUtterance()
            Issue.record("expected a disconnection, got \(transcript)")
        } catch let error as ProviderError {
            guard case .disconnected = error else {
                Issue.record("expected .disconnected, got \(error)")
                return
            }
        }
        try Self.feed(session, Self.line("hello again", silence: 0.5).samples)
        #expect(try await session.finishUtterance().text == "hello again")
        let recording = fixture.standIn.recording
        #expect(recording.connections.count == 2)
        #expect(recording.connections.first?.ending == .dropped)
        await session.close()
    }

    @Test("a stalled stream gives .timedOut within finalTimeout")
    func stallTimesOut() async throws {
        let fixture = try await Fixture(.init(faults: [.stall]), client: .init(finalTimeout: .seconds(1)))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("hello world").samples)
        let began = ContinuousClock.now
        await #expect(throws: ProviderError.timedOut(provider: "deepgram", stage: "final result", after: .seconds(1))) {
            _ = try await session.finishUtterance()
        }
        let waited = ContinuousClock.now - began
        #expect(waited >= .milliseconds(900) && waited < .seconds(4))
        await session.close()
    }

    @Test("NET-0001: an idle close between utterances is survived; mid-utterance it is .disconnected with the code")
    func idleClose() async throws {
        let fixture = try await Fixture(
            .init(transcripts: ["hello world", "still here"], idleTimeout: .milliseconds(400)),
            client: .init(keepAliveInterval: .seconds(30)))
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        #expect(
            await Self.eventually { fixture.standIn.recording.connections.first?.ending == .closed(code: 1011, reason: "NET-0001") })
        try await Task.sleep(for: .milliseconds(500))  // for the client to read the close
        try Self.feed(session, Self.line("hello world", silence: 0.5).samples)
        #expect(try await session.finishUtterance().text == "hello world")
        #expect(fixture.standIn.recording.connections.count == 2)
        // Audio stops mid-utterance for longer than the idle timeout.
        try Self.feed(session, Self.line("still").samples)
        #expect(
            await Self.eventually {
                let connections = fixture.standIn.recording.connections
                return connections.count >= 2 && connections.last?.ending != nil
            })
        do {
            _ = try await session.finishUtterance()
            Issue.record("expected a disconnection")
        } catch let error as ProviderError {
            #expect(error == .disconnected(provider: "deepgram", detail: "closed 1011 NET-0001"))
        }
        await session.close()
    }

    @Test("close sends CloseStream; the stand-in answers Metadata and closes 1000")
    func closeSendsCloseStream() async throws {
        let fixture = try await Fixture()
        defer { Task { await fixture.host.stop() } }
        let session = try await fixture.recognizer.makeSession()
        try Self.feed(session, Self.line("hello world", silence: 0.5).samples)
        _ = try await session.finishUtterance()
        await session.close()
        let connection = try #require(fixture.standIn.recording.connections.first)
        #expect(connection.controlMessages.last == "CloseStream")
        #expect(connection.sent.last == "Metadata")
        #expect(connection.ending == .closed(code: 1000, reason: ""))
    }
}
