//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

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

/// A whole call through the hosted providers' stand-ins: Deepgram hears, the chat model answers, Cartesia
/// speaks, over real sockets end to end (Twilio's side, the server, and each provider).
@Suite("A cascade on hosted providers, end to end")
struct HostedCascadeTests {
    static let story =
        "Once upon a time, a small company answered every call itself. The phones rang all day, and nobody had time to eat. "
        + "Then they built an agent that listened, thought and spoke, and it never got tired of answering the same questions. "
        + "It told callers when the shop opened, took their messages, and booked their appointments, day and night, "
        + "in rain and in sunshine, and the people of the company finally had time for lunch."

    /// A prompt from Allison Smith's Asterisk recordings (Debian's asterisk-core-sounds-en-wav), 8 kHz.
    static func prompt(_ name: String) throws -> [Float] {
        let clip = try WAVFile(path: "/usr/share/asterisk/sounds/en/\(name).wav").clip
        return clip.samples + [Float](repeating: 0, count: 1600)
    }

    @Test(
        "the caller hears the stand-in's voice, a barge-in cancels the model and the voice at the providers, and goodbye hangs up")
    func conversation() async throws {
        let deepgram = DeepgramStandIn(
            configuration: .init(
                apiKey: "dg", timing: StandInTiming(firstByte: .milliseconds(50)),
                transcripts: ["hello world", "tell me a story", "thank you", "goodbye"]))
        let chat = OpenAIChatStandIn(
            configuration: .init(
                apiKey: "sk", timing: StandInTiming(firstByte: .milliseconds(50), unitsPerSecond: 20),
                reply: { request in
                    let last = request.lastUserText?.lowercased() ?? ""
                    if last.contains("story") { return .text(Self.story) }
                    return OpenAIChatStandIn.defaultReply(request)
                }))
        let cartesia = CartesiaStandIn(configuration: .init(apiKey: "ca", timing: StandInTiming(firstByte: .milliseconds(50))))
        let host = try await StandInHost.start { http, webSocket in
            deepgram.register(http: http, webSocket: webSocket)
            chat.register(http: http, webSocket: webSocket)
            cartesia.register(http: http, webSocket: webSocket)
        }
        let recognizer = DeepgramRecognizer(endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: "dg"))
        let model = OpenAIChatModel(
            endpoint: try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: "sk"), configuration: .init(model: "gpt-test"),
            tools: [.hangUp()])
        let synthesizer = CartesiaSynthesizer(
            endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: "ca"), configuration: .init(voiceID: "voice-1"))

        var configuration = VoicePipeServer.Configuration(port: 0) { _ in
            CascadeAgent(recognizer: recognizer, model: model, synthesizer: synthesizer)
        }
        configuration.stream.inbound.outputRate = 8000  // Twilio's µ-law reaches Deepgram byte for byte
        configuration.stream.inbound.voiceActivity.model = .classic  // debug builds run the neural VAD slowly
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        let port = try #require(await iterator.next())

        let script: [SimulatedCaller.Line] = [
            .init(audio: try Self.prompt("hello-world"), cue: .afterReply(pause: .milliseconds(300)), text: "hello world"),
            .init(audio: try Self.prompt("vm-intro"), cue: .afterReply(pause: .milliseconds(300)), text: "tell me a story"),
            // Cuts the story short, 1.5 s into it.
            .init(audio: try Self.prompt("auth-thankyou"), cue: .interrupting(after: .milliseconds(1500)), text: "thank you"),
            .init(audio: try Self.prompt("goodbye"), cue: .afterReply(pause: .milliseconds(300)), text: "goodbye"),
        ]
        let caller = SimulatedCaller(
            .init(url: "ws://127.0.0.1:\(port)/twilio/media", script: script, tailMilliseconds: 3000, maximumMilliseconds: 40_000))
        let result = try await caller.run()
        serverTask.cancel()
        _ = await serverTask.result
        await host.stop()

        // µ-law's "negative zero" (0x7F) decodes to the same sample as 0xFF, so once decoded for the VAD it
        // comes back as 0xFF: the one byte value that is not passed through as sent.
        func normalized(_ bytes: some Collection<UInt8>) -> [UInt8] { bytes.map { $0 == 0x7F ? 0xFF : $0 } }

        // Deepgram got the caller's audio byte for byte as Twilio sent it: a stretch of speech it received
        // (from its first non-silent byte on) is found, unchanged, in what the caller sent.
        let received = deepgram.recording.audio
        #expect(received.count > 8000)
        let speech = received.firstIndex { $0 != 0xFF && $0 != 0x7F } ?? 0
        let probe = received[speech..<min(received.count, speech + 1600)]
        #expect(probe.count == 1600 && normalized(result.sent).firstRange(of: probe) != nil, "Deepgram's audio is not the caller's µ-law")

        // The caller heard the stand-in's voice: the stand-in's rendering of the reply's first word, as the
        // µ-law it sends (it scales by 32,767), is in what the caller heard, sample for sample.
        let word = StandInVoice.render("You", sampleRate: 8000)
        let voiced = word.samples.prefix(Int(word.words[0].end * 8000))
        let expected = normalized(voiced.map { MuLaw.encode(Int16(clamping: Int((Double($0) * 32767).rounded()))) })
        let heard = result.segments.flatMap(\.bytes)
        #expect(expected.count > 1000 && heard.firstRange(of: expected) != nil, "the caller did not hear the stand-in's voice")

        // The barge-in: a clear during the story, and both providers saw the reply cancelled.
        #expect(result.clears >= 1)
        #expect(!cartesia.cancels.isEmpty, "Cartesia never saw the cancel")
        #expect(chat.clientDisconnects >= 1, "the chat stand-in never saw the request cancelled")
        // Goodbye: the model called hang_up and the server ended the call.
        #expect(result.hungUp)
        #expect(chat.requests.contains { $0.messages.last?.role == "tool" } || chat.requests.count >= 4)
    }
}
