//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
public import Logging
public import VoiceAgent

/// Deepgram live recognition over a WebSocket (`/v1/listen`), behind ``VoiceAgent/SpeechRecognizer``.
///
/// A session holds one socket for the call. It sends the caller's audio as 8 kHz μ-law, exactly the bytes
/// Twilio sent when the audio came from a Media Stream (but for μ-law's negative zero, 0x7F, which decodes to
/// the same sample as 0xFF and goes out as 0xFF), and collects Deepgram's interim and final results.
/// At the end of each utterance it sends `Finalize` and waits (at most ``Configuration/finalTimeout``) for
/// the flushed result. Between utterances it sends `KeepAlive`; a socket that drops between utterances is
/// reopened for the next one.
public struct DeepgramRecognizer: SpeechRecognizer {
    /// The options of the live stream.
    public struct Configuration: Sendable, Hashable {
        /// The model (`nova-3`).
        public var model: String
        /// The language (`en`).
        public var language: String
        /// Whether to ask for interim results (`partialResult()` needs them; so does `UtteranceEnd`).
        public var interimResults: Bool
        /// Deepgram's endpointing, in milliseconds of silence (`nil`: `endpointing=false`).
        public var endpointingMilliseconds: Int?
        /// The word gap after which Deepgram sends `UtteranceEnd`, in milliseconds (`nil`: not asked for).
        public var utteranceEndMilliseconds: Int?
        /// Smart formatting (numbers, dates…).
        public var smartFormat: Bool
        /// Punctuation and capitals.
        public var punctuate: Bool
        /// Words or phrases to favour (`keyterm`, Nova-3).
        public var keyterms: [String]
        /// How often to send `KeepAlive` while no audio flows (Deepgram closes after 10 s without either).
        public var keepAliveInterval: Duration
        /// How long ``RecognitionSession/finishUtterance()`` waits for the final after `Finalize`.
        public var finalTimeout: Duration
        /// How long the WebSocket handshake may take.
        public var connectTimeout: Duration

        /// Creates a configuration.
        public init(
            model: String = "nova-3", language: String = "en", interimResults: Bool = true,
            endpointingMilliseconds: Int? = 300, utteranceEndMilliseconds: Int? = 1000, smartFormat: Bool = true,
            punctuate: Bool = true, keyterms: [String] = [], keepAliveInterval: Duration = .seconds(4),
            finalTimeout: Duration = .seconds(3), connectTimeout: Duration = .seconds(5)
        ) {
            self.model = model
            self.language = language
            self.interimResults = interimResults
            self.endpointingMilliseconds = endpointingMilliseconds
            self.utteranceEndMilliseconds = utteranceEndMilliseconds
            self.smartFormat = smartFormat
            self.punctuate = punctuate
            self.keyterms = keyterms
            self.keepAliveInterval = keepAliveInterval
            self.finalTimeout = finalTimeout
            self.connectTimeout = connectTimeout
        }
    }

    /// Where Deepgram lives and the key.
    public let endpoint: ProviderEndpoint
    /// The stream's options.
    public let configuration: Configuration
    let logger: Logger
    let httpClient: HTTPClient

    /// Creates a recogniser. `httpClient` is used only to read the status of a refused handshake.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration = .init(),
        logger: Logger = Logger(label: "voicepipe.deepgram"), httpClient: HTTPClient = ProviderHTTPClient.shared
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.logger = logger
        self.httpClient = httpClient
    }

    /// 8000 Hz: the session sends 8 kHz μ-law, the telephone line's own format.
    public var sampleRate: Int { 8000 }

    /// The query of the `/v1/listen` handshake.
    public var query: [(String, String)] {
        var query: [(String, String)] = [
            ("model", configuration.model), ("encoding", "mulaw"), ("sample_rate", "8000"), ("channels", "1"),
            ("interim_results", configuration.interimResults ? "true" : "false"),
            ("endpointing", configuration.endpointingMilliseconds.map(String.init) ?? "false"),
        ]
        if let ms = configuration.utteranceEndMilliseconds { query.append(("utterance_end_ms", String(ms))) }
        query.append(("smart_format", configuration.smartFormat ? "true" : "false"))
        query.append(("punctuate", configuration.punctuate ? "true" : "false"))
        query.append(("language", configuration.language))
        for term in configuration.keyterms { query.append(("keyterm", term)) }
        return query
    }

    /// Opens the socket and returns the call's session.
    ///
    /// - Throws: ``ProviderError`` when the handshake is refused (`.unauthorized`, `.rateLimited`, `.status`
    ///   with Deepgram's `dg-error`), times out, or the host cannot be reached.
    public func makeSession() async throws -> any RecognitionSession {
        let session = DeepgramSession(recognizer: self)
        try await session.start()
        return session
    }
}
