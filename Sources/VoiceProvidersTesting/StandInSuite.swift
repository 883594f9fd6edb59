//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Logging

/// Every provider's stand-in on one loopback server, with the environment that points VoicePipe at them:
/// what `voicepipe stand-ins` runs, and what the end-to-end tests and the latency benchmark call through.
///
/// Routes: OpenAI chat, speech and Realtime under `/v1`, Deepgram at `/v1/listen`, ElevenLabs at
/// `/v1/text-to-speech/{voice}/stream-input`, Cartesia at `/tts/websocket`. Every stand-in accepts
/// ``apiKey``.
public final class StandInSuite: Sendable {
    /// The providers' delays.
    public struct Latency: Sendable, Hashable {
        /// Deepgram: from the end of speech (or `Finalize`) to the final result.
        public var recognizerFinal: Duration
        /// The chat model: time to the first token.
        public var modelFirstToken: Duration
        /// The chat model: tokens per second after the first.
        public var modelTokensPerSecond: Double
        /// ElevenLabs, Cartesia, OpenAI speech: from the text to the first audio.
        public var voiceFirstByte: Duration
        /// Realtime: from `response.create` to the first audio.
        public var realtimeFirstAudio: Duration

        /// Creates a set of delays.
        public init(
            recognizerFinal: Duration, modelFirstToken: Duration, modelTokensPerSecond: Double, voiceFirstByte: Duration,
            realtimeFirstAudio: Duration
        ) {
            self.recognizerFinal = recognizerFinal
            self.modelFirstToken = modelFirstToken
            self.modelTokensPerSecond = modelTokensPerSecond
            self.voiceFirstByte = voiceFirstByte
            self.realtimeFirstAudio = realtimeFirstAudio
        }

        /// Published figures for hosted providers: a recogniser's final 150 ms after the end of speech, a
        /// model's first token after 350 ms then 40 tokens/s, a voice's first audio after 200 ms, Realtime's
        /// first audio after 500 ms (see BENCHMARKS.md for the sources).
        public static let published = Latency(
            recognizerFinal: .milliseconds(150), modelFirstToken: .milliseconds(350), modelTokensPerSecond: 40,
            voiceFirstByte: .milliseconds(200), realtimeFirstAudio: .milliseconds(500))

        /// No delays: as fast as the loopback allows.
        public static let immediate = Latency(
            recognizerFinal: .zero, modelFirstToken: .zero, modelTokensPerSecond: 0, voiceFirstByte: .zero, realtimeFirstAudio: .zero)
    }

    /// The key every stand-in accepts.
    public static let apiKey = "stand-in-key"
    /// The ElevenLabs voice the stand-in knows, besides those passed to ``start(port:latency:transcripts:voices:logger:)``.
    public static let elevenLabsVoice = "stand-in-voice"

    /// The server.
    public let host: StandInHost
    /// OpenAI-compatible chat completions.
    public let chat: OpenAIChatStandIn
    /// OpenAI `/v1/audio/speech`.
    public let speech: OpenAISpeechStandIn
    /// OpenAI Realtime.
    public let realtime: OpenAIRealtimeStandIn
    /// Deepgram live recognition.
    public let deepgram: DeepgramStandIn
    /// ElevenLabs stream-input.
    public let elevenLabs: ElevenLabsStandIn
    /// Cartesia's WebSocket.
    public let cartesia: CartesiaStandIn

    private init(
        host: StandInHost, chat: OpenAIChatStandIn, speech: OpenAISpeechStandIn, realtime: OpenAIRealtimeStandIn,
        deepgram: DeepgramStandIn, elevenLabs: ElevenLabsStandIn, cartesia: CartesiaStandIn
    ) {
        self.host = host
        self.chat = chat
        self.speech = speech
        self.realtime = realtime
        self.deepgram = deepgram
        self.elevenLabs = elevenLabs
        self.cartesia = cartesia
    }

    /// Starts every stand-in on one server.
    ///
    /// - Parameters:
    ///   - port: The port (0: any free one).
    ///   - latency: The providers' delays.
    ///   - transcripts: What the Deepgram stand-in "recognises", utterance after utterance (cycled).
    ///   - voices: ElevenLabs voice ids it accepts besides ``elevenLabsVoice``.
    public static func start(
        port: Int = 0, latency: Latency = .published, transcripts: [String] = ["hello world"], voices: [String] = [],
        logger: Logger = Logger(label: "voicepipe.stand-ins")
    ) async throws -> StandInSuite {
        let key = apiKey
        let chat = OpenAIChatStandIn(
            configuration: .init(
                apiKey: key, timing: StandInTiming(firstByte: latency.modelFirstToken, unitsPerSecond: latency.modelTokensPerSecond)))
        let speech = OpenAISpeechStandIn(configuration: .init(apiKey: key, timing: StandInTiming(firstByte: latency.voiceFirstByte)))
        let realtime = OpenAIRealtimeStandIn(.init(apiKey: key, timing: StandInTiming(firstByte: latency.realtimeFirstAudio)))
        let deepgram = DeepgramStandIn(
            configuration: .init(apiKey: key, timing: StandInTiming(firstByte: latency.recognizerFinal), transcripts: transcripts))
        let elevenLabs = ElevenLabsStandIn(
            configuration: .init(apiKey: key, voices: [elevenLabsVoice] + voices, timing: StandInTiming(firstByte: latency.voiceFirstByte)))
        let cartesia = CartesiaStandIn(configuration: .init(apiKey: key, timing: StandInTiming(firstByte: latency.voiceFirstByte)))
        let host = try await StandInHost.start(port: port, logger: logger) { http, webSocket in
            chat.register(http: http, webSocket: webSocket)
            speech.register(http: http, webSocket: webSocket)
            realtime.register(http: http, webSocket: webSocket)
            deepgram.register(http: http, webSocket: webSocket)
            elevenLabs.register(http: http, webSocket: webSocket)
            cartesia.register(http: http, webSocket: webSocket)
        }
        return StandInSuite(
            host: host, chat: chat, speech: speech, realtime: realtime, deepgram: deepgram, elevenLabs: elevenLabs, cartesia: cartesia)
    }

    /// The environment variables that point VoicePipe's clients at this suite.
    public var environment: [String: String] {
        let base = host.baseURL
        return [
            "OPENAI_API_KEY": Self.apiKey, "OPENAI_BASE_URL": base + "/v1",
            "DEEPGRAM_API_KEY": Self.apiKey, "DEEPGRAM_BASE_URL": base,
            "ELEVENLABS_API_KEY": Self.apiKey, "ELEVENLABS_BASE_URL": base,
            "CARTESIA_API_KEY": Self.apiKey, "CARTESIA_BASE_URL": base,
        ]
    }

    /// Stops the server.
    public func stop() async { await host.stop() }
}
