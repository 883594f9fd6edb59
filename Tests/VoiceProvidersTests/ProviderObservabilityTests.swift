//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Logging
import Metrics
import MetricsTestKit
import Synchronization
import Testing
import VoiceAgent
import VoiceDSP
import VoiceProviders
import VoiceProvidersTesting

// MARK: - Recording logs

/// Every message logged through its loggers, rendered as text with its metadata (the handler's, the
/// provider's and the call's) and its error.
final class LogRecording: Sendable {
    struct Entry: Sendable {
        var label: String
        var level: Logger.Level
        var text: String
    }

    private let entries = Mutex<[Entry]>([])

    /// A logger at `.trace` whose every message is kept here.
    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { RecordingLogHandler(label: $0, recording: self) }
        logger.logLevel = .trace
        return logger
    }

    func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }

    var all: [Entry] { entries.withLock { $0 } }
}

/// A log handler that hands everything to a ``LogRecording``.
struct RecordingLogHandler: LogHandler {
    let label: String
    let recording: LogRecording
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let given = event.metadata { merged.merge(given) { _, new in new } }
        var text = event.message.description
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) { text += " \(key)=\(value)" }
        if let error = event.error { text += " error=\(error) \(String(reflecting: error))" }
        recording.append(LogRecording.Entry(label: label, level: event.level, text: text))
    }
}

// MARK: - Routing swift-metrics to one test

/// The process's swift-metrics backend once any test here asks for it (`MetricsSystem.bootstrap` can happen
/// only once per process): every value goes to the `TestMetrics` bound to the task that records it, and
/// nowhere when none is bound.
///
/// The clients take no metrics factory (``ProviderMetrics`` uses the process's), and their provider and
/// operation labels are fixed, so figures from other tests that run at the same time could not be told
/// apart in one shared `TestMetrics`. The clients record from their own tasks, which inherit task-local
/// values: binding a fresh `TestMetrics` around one test's work gives that test its own figures.
final class ScopedMetrics: MetricsFactory {
    @TaskLocal static var current: TestMetrics?

    private static let bootstrapped: Bool = {
        MetricsSystem.bootstrap(ScopedMetrics())
        return true
    }()

    /// Runs `body` with whatever it, and the tasks it starts, record going to `metrics`. Clients must be
    /// made inside `body` (their metrics are made with them, from the process's backend).
    static func recording(into metrics: TestMetrics, _ body: () async throws -> Void) async rethrows {
        precondition(bootstrapped)
        try await $current.withValue(metrics) { try await body() }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Counter(label: label, dimensions: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Recorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Timer(label: label, dimensions: dimensions)
    }

    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    private final class Counter: CounterHandler {
        let label: String
        let dimensions: [(String, String)]
        init(label: String, dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions
        }
        private var target: (any CounterHandler)? { ScopedMetrics.current?.makeCounter(label: label, dimensions: dimensions) }
        func increment(by amount: Int64) { target?.increment(by: amount) }
        func reset() { target?.reset() }
    }

    private final class Recorder: RecorderHandler {
        let label: String
        let dimensions: [(String, String)]
        let aggregate: Bool
        init(label: String, dimensions: [(String, String)], aggregate: Bool) {
            self.label = label
            self.dimensions = dimensions
            self.aggregate = aggregate
        }
        private var target: (any RecorderHandler)? {
            ScopedMetrics.current?.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
        }
        func record(_ value: Int64) { target?.record(value) }
        func record(_ value: Double) { target?.record(value) }
    }

    private final class Timer: TimerHandler {
        let label: String
        let dimensions: [(String, String)]
        init(label: String, dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = dimensions
        }
        func recordNanoseconds(_ duration: Int64) {
            ScopedMetrics.current?.makeTimer(label: label, dimensions: dimensions).recordNanoseconds(duration)
        }
    }
}

// MARK: - Keys

/// The keys the tests drive the clients with, and the forms in which they must never appear.
enum Secrets {
    static let key = "sk-SECRET-1234567890abcdef"
    /// A key the stand-ins refuse.
    static let wrongKey = "sk-WRONG-SECRET-0987654321fedcba"

    /// Each key, its `Authorization` forms (OpenAI's `Bearer`, Deepgram's `Token`), and its middle, which
    /// a redaction that only kept the ends short would still show.
    static let forms =
        [key, wrongKey].flatMap { [$0, "Bearer \($0)", "Token \($0)"] } + [
            "SECRET-1234567890", "WRONG-SECRET-0987654321",
        ]

    /// The forms of a key that `text` shows.
    static func leaks(in text: String) -> [String] { forms.filter { text.contains($0) } }

    /// An error as a log line or an alert would show it.
    static func rendered(_ error: any Error) -> [String] {
        var dumped = ""
        dump(error, to: &dumped)
        return ["\(error)", String(reflecting: error), dumped]
    }
}

// MARK: - Secrets are never logged

@Suite("Provider clients never log their keys")
struct ProviderSecretTests {
    /// What a client is put through.
    enum Scenario: String, CaseIterable, Sendable {
        case success, wrongKey, unauthorized, rateLimited, serverError, malformedFrame, dropMidStream, stall

        var key: String { self == .wrongKey ? Secrets.wrongKey : Secrets.key }

        var fault: StandInFault? {
            switch self {
            case .success, .wrongKey: nil
            case .unauthorized: .unauthorized
            case .rateLimited: .rateLimited(retryAfter: .milliseconds(200))
            case .serverError: .serverError(status: 503)
            case .malformedFrame: .malformedFrame
            case .dropMidStream: .dropMidStream
            case .stall: .stall
            }
        }

        /// The fault once, or `copies` times for a fault that refuses a handshake (a WebSocket client repeats a
        /// refused handshake as a plain GET to learn why, and a stand-in may refuse each).
        func faults(handshakeCopies copies: Int = 1) -> [StandInFault] {
            guard let fault else { return [] }
            switch fault {
            case .unauthorized, .rateLimited, .serverError: return Array(repeating: fault, count: copies)
            default: return [fault]
            }
        }

        /// A timeout short where a stall is to be noticed, generous elsewhere (a loaded machine must not turn a
        /// slow answer into a timeout).
        func timeout(_ short: Duration) -> Duration { self == .stall ? short : .seconds(5) }
    }

    /// The hosted clients.
    enum Client: String, CaseIterable, Sendable {
        case openAIChat, deepgram, cartesia, elevenLabs, openAISpeech, openAIRealtime

        /// The ``ProviderError/kind`` a scenario ends with (`nil`: it succeeds), as each client's own tests
        /// establish: the HTTP clients retry a 429 and a 503, Deepgram skips a malformed frame.
        func expectedKind(_ scenario: Scenario) -> String? {
            switch scenario {
            case .success: nil
            case .wrongKey, .unauthorized: "unauthorized"
            case .rateLimited: self == .openAIChat || self == .openAISpeech ? nil : "rate_limited"
            case .serverError: self == .openAIChat || self == .openAISpeech ? nil : "status"
            case .malformedFrame: self == .deepgram ? nil : "malformed"
            case .dropMidStream: "disconnected"
            case .stall: "timeout"
            }
        }
    }

    /// What one scenario left behind: the error the client surfaced, and the client and endpoint as text.
    struct Outcome {
        var error: (any Error)?
        var texts: [String] = []
    }

    static func endpoint(_ host: StandInHost, path: String = "", _ scenario: Scenario) throws -> ProviderEndpoint {
        try ProviderEndpoint(baseURL: host.baseURL + path, apiKey: scenario.key)
    }

    static func run(_ client: Client, _ scenario: Scenario, logger: Logger) async throws -> Outcome {
        switch client {
        case .openAIChat: try await chat(scenario, logger)
        case .deepgram: try await deepgram(scenario, logger)
        case .cartesia: try await cartesia(scenario, logger)
        case .elevenLabs: try await elevenLabs(scenario, logger)
        case .openAISpeech: try await openAISpeech(scenario, logger)
        case .openAIRealtime: try await realtime(scenario, logger)
        }
    }

    static func chat(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await OpenAIChatStandIn.start(configuration: .init(apiKey: Secrets.key, faults: scenario.faults()))
        defer { Task { await host.stop() } }
        let model = OpenAIChatModel(
            endpoint: try endpoint(host, path: "/v1", scenario),
            configuration: .init(model: "gpt-4o-mini", chunkTimeout: scenario.timeout(.milliseconds(300))), logger: logger)
        var outcome = Outcome(texts: ["\(model)", String(reflecting: model), "\(model.endpoint)"])
        do {
            for try await _ in model.respond(to: [ChatMessage(.user, "Hello there")]) {}
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func deepgram(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await DeepgramStandIn.start(
            configuration: .init(apiKey: Secrets.key, faults: scenario.faults(handshakeCopies: 2), dropAfterAudioFrames: 5))
        defer { Task { await host.stop() } }
        let recognizer = DeepgramRecognizer(
            endpoint: try endpoint(host, scenario), configuration: .init(finalTimeout: scenario.timeout(.milliseconds(500))),
            logger: logger)
        var outcome = Outcome(texts: ["\(recognizer)", String(reflecting: recognizer)])
        do {
            let session = try await recognizer.makeSession()
            do {
                try DeepgramTests.feed(session, DeepgramTests.line("hello world", silence: 0.5).samples)
                _ = try await session.finishUtterance()
            } catch {
                outcome.error = error
            }
            await session.close()
        } catch {
            outcome.error = error
        }
        return outcome
    }

    static func cartesia(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await CartesiaStandIn.start(configuration: .init(apiKey: Secrets.key, faults: scenario.faults()))
        defer { Task { await host.stop() } }
        let synthesizer = CartesiaSynthesizer(
            endpoint: try endpoint(host, scenario),
            configuration: .init(voiceID: "voice-1", chunkTimeout: scenario.timeout(.milliseconds(500))), logger: logger)
        return Outcome(
            error: try await speak(try await synthesizer.makeStream()), texts: ["\(synthesizer)", String(reflecting: synthesizer)])
    }

    static func elevenLabs(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await ElevenLabsStandIn.start(configuration: .init(apiKey: Secrets.key, faults: scenario.faults()))
        defer { Task { await host.stop() } }
        let timeout = scenario.timeout(.milliseconds(600))
        let synthesizer = ElevenLabsSynthesizer(
            endpoint: try endpoint(host, scenario),
            configuration: .init(voiceID: "stand-in-voice", firstAudioTimeout: timeout, chunkTimeout: timeout), logger: logger)
        return Outcome(
            error: try await speak(try await synthesizer.makeStream()), texts: ["\(synthesizer)", String(reflecting: synthesizer)])
    }

    static func openAISpeech(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Secrets.key, faults: scenario.faults()))
        defer { Task { await host.stop() } }
        let synthesizer = OpenAISpeechSynthesizer(
            endpoint: try endpoint(host, path: "/v1", scenario),
            configuration: .init(chunkTimeout: scenario.timeout(.milliseconds(500))), logger: logger)
        return Outcome(
            error: try await speak(try await synthesizer.makeStream()), texts: ["\(synthesizer)", String(reflecting: synthesizer)])
    }

    /// Speaks one sentence and returns the error the audio ended with, if any.
    static func speak(_ stream: any SynthesisStream) async throws -> (any Error)? {
        try? await stream.send("This sentence is long enough to need several chunks of audio. ")
        try? await stream.finish()
        return await SpeechRun.collect(stream).error
    }

    static func realtime(_ scenario: Scenario, _ logger: Logger) async throws -> Outcome {
        let (host, _) = try await OpenAIRealtimeStandIn.start(
            .init(apiKey: Secrets.key, reply: { _ in "Hello there, how can I help?" }, faults: scenario.faults()))
        defer { Task { await host.stop() } }
        let agent = OpenAIRealtimeAgent(
            endpoint: try endpoint(host, path: "/v1", scenario),
            configuration: .init(firstAudioTimeout: .seconds(5), idleTimeout: scenario.timeout(.milliseconds(400))), logger: logger)
        var outcome = Outcome(texts: ["\(agent)", String(reflecting: agent)])
        let speech = StandInVoice.render("hello there", sampleRate: 8000).samples
        do {
            for try await _ in agent.reply(to: CallerTurn(number: 1, audio: speech, sampleRate: 8000)) {}
        } catch {
            outcome.error = error
        }
        await agent.observe(.callEnded)
        return outcome
    }

    @Test(
        "no log message, metadata value or error shows the key, through success and every fault the stand-in injects",
        arguments: Client.allCases)
    func keyNeverShown(client: Client) async throws {
        let recording = LogRecording()
        var shown: [(scenario: Scenario, text: String)] = []
        for scenario in Scenario.allCases {
            let outcome = try await Self.run(client, scenario, logger: recording.logger("test.\(client).\(scenario)"))
            shown += outcome.texts.map { (scenario, $0) }
            if let error = outcome.error { shown += Secrets.rendered(error).map { (scenario, $0) } }
            // Each scenario went the way it is named for.
            #expect(
                (outcome.error as? ProviderError)?.kind == client.expectedKind(scenario),
                "\(client) \(scenario): \(String(describing: outcome.error))")
        }
        // Connections close, and their last messages are logged, after the clients have answered.
        try await Task.sleep(for: .milliseconds(300))
        let entries = recording.all
        #expect(entries.count > Scenario.allCases.count, "the clients should log through the logger given")
        #expect(entries.contains { $0.level == .trace || $0.level == .debug }, "the loggers should log at trace level")
        for entry in entries {
            let leaks = Secrets.leaks(in: entry.text)
            #expect(leaks.isEmpty, "\(entry.label) logged \(leaks) at \(entry.level): \(entry.text)")
        }
        for (scenario, text) in shown {
            let leaks = Secrets.leaks(in: text)
            #expect(leaks.isEmpty, "\(client) \(scenario) showed \(leaks): \(text)")
        }
    }

    @Test("the recording handler keeps every level, the logger's and the call's metadata (nested too) and the error")
    func recordingSeesEverything() {
        struct Refusal: Error, CustomStringConvertible { var description: String { "refused \(Secrets.wrongKey)" } }
        let recording = LogRecording()
        var logger = recording.logger("test.recording")
        logger[metadataKey: "authorization"] = "Bearer \(Secrets.key)"
        logger.trace("plain")
        logger[metadataKey: "authorization"] = nil
        logger.debug("nested", metadata: ["request": ["headers": ["Token \(Secrets.key)"]]])
        logger.warning("failed", error: Refusal())
        let entries = recording.all
        #expect(entries.map(\.level) == [.trace, .debug, .warning])
        #expect(
            entries.map { Secrets.leaks(in: $0.text).first } == [
                "sk-SECRET-1234567890abcdef", "sk-SECRET-1234567890abcdef", Secrets.wrongKey,
            ])
    }

    @Test("an endpoint's description shows the base URL and at most the key's last four characters")
    func endpointDescription() throws {
        let endpoint = try ProviderEndpoint(baseURL: "https://api.openai.com/v1", apiKey: Secrets.key)
        for text in ["\(endpoint)", String(reflecting: endpoint)] {
            #expect(Secrets.leaks(in: text).isEmpty, "\(text)")
            #expect(text == "https://api.openai.com/v1 (key …cdef)")
        }
        // A short key shows none of its characters.
        let short = try ProviderEndpoint(baseURL: "http://127.0.0.1:8080", apiKey: "s3cr3t")
        #expect("\(short)" == "http://127.0.0.1:8080 (key …set)")
    }

    @Test(
        "a base URL that carries credentials is refused, and neither the refusal nor the environment's error repeats them",
        arguments: [
            "https://user:\(Secrets.key)@api.openai.com/v1", "https://\(Secrets.key)@api.openai.com/v1",
            "https://api.openai.com/v1?api-key=\(Secrets.key)", "https://api.openai.com/v1/#\(Secrets.key)",
            "http://127.0.0.1:8080?key=\(Secrets.key)", "user:\(Secrets.key)@api.openai.com/v1",
        ])
    func credentialsInBaseURL(url: String) {
        #expect(Secrets.leaks(in: url) == [Secrets.key, "SECRET-1234567890"], "the URL under test carries the key")
        do {
            let endpoint = try ProviderEndpoint(baseURL: url, apiKey: "sk-another-key-0123456789")
            Issue.record("a base URL with credentials was accepted: \(endpoint)")
        } catch {
            for text in Secrets.rendered(error) { #expect(Secrets.leaks(in: text).isEmpty, "\(text)") }
            #expect("\(error)".contains("api.openai.com") || "\(error)".contains("127.0.0.1"), "the message should name the host")
        }
        do {
            let endpoint = try Provider.openAI.endpoint(from: ["OPENAI_API_KEY": "sk-another-key-0123456789", "OPENAI_BASE_URL": url])
            Issue.record("a base URL with credentials was accepted: \(endpoint)")
        } catch {
            #expect("\(error)".hasPrefix("OPENAI_BASE_URL: "))
            for text in Secrets.rendered(error) { #expect(Secrets.leaks(in: text).isEmpty, "\(text)") }
        }
    }
}

// MARK: - Per-provider metrics

@Suite("Per-provider metrics have the right values")
struct ProviderMetricsValueTests {
    static let firstByte = "voicepipe_provider_first_byte_seconds"
    static let errors = "voicepipe_provider_errors_total"
    static let retries = "voicepipe_provider_retries_total"

    /// One provider's figures in a test's `TestMetrics`.
    struct Figures {
        let metrics: TestMetrics
        let dimensions: [(String, String)]

        init(_ metrics: TestMetrics, provider: String, operation: String) {
            self.metrics = metrics
            dimensions = [("provider", provider), ("operation", operation)]
        }

        /// Every time to first byte recorded, in nanoseconds.
        var firstBytes: [Int64] { metrics.timers(label: ProviderMetricsValueTests.firstByte, dimensions: dimensions).flatMap(\.values) }
        var retries: Int64 { metrics.counterTotal(label: ProviderMetricsValueTests.retries, dimensions: dimensions) }
        /// Errors of every kind.
        var errors: Int64 { metrics.counterTotal(label: ProviderMetricsValueTests.errors, dimensions: dimensions) }
        func errors(_ kind: String) -> Int64 {
            metrics.counterTotal(label: ProviderMetricsValueTests.errors, dimensions: dimensions + [("kind", kind)])
        }
    }

    // MARK: OpenAI chat

    /// Starts a chat stand-in, asks one question inside a fresh metrics scope, and returns the reply's text, the
    /// error it ended with, the statuses the stand-in answered, and the figures.
    static func chat(
        timing: StandInTiming = .immediate, faults: [StandInFault] = [], openAIFaults: [OpenAIChatStandIn.OpenAIFault] = []
    ) async throws -> (text: String, error: ProviderError?, statuses: [Int], figures: Figures) {
        let metrics = TestMetrics()
        var text = ""
        var failure: ProviderError?
        var statuses: [Int] = []
        try await ScopedMetrics.recording(into: metrics) {
            let (host, standIn) = try await OpenAIChatStandIn.start(
                configuration: .init(apiKey: Secrets.key, timing: timing, faults: faults, openAIFaults: openAIFaults))
            defer { Task { await host.stop() } }
            let model = OpenAIChatModel(
                endpoint: try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: Secrets.key),
                configuration: .init(model: "gpt-4o-mini"))
            do {
                for try await output in model.respond(to: [ChatMessage(.user, "Hi")]) {
                    if case .text(let piece) = output { text += piece }
                }
            } catch {
                failure = try #require(error as? ProviderError)
            }
            statuses = standIn.statuses
        }
        return (text, failure, statuses, Figures(metrics, provider: "openai", operation: "chat"))
    }

    @Test("chat: a success records one time to first byte, at least the stand-in's delay, and no error or retry")
    func chatSuccess() async throws {
        let (text, error, _, figures) = try await Self.chat(timing: StandInTiming(firstByte: .milliseconds(150)))
        #expect(error == nil)
        #expect(text == "You said: Hi. How can I help?")
        #expect(figures.firstBytes.count == 1)
        #expect(figures.firstBytes.allSatisfy { $0 >= 150_000_000 }, "\(figures.firstBytes) ns")
        #expect(figures.errors == 0)
        #expect(figures.retries == 0)
    }

    @Test("chat: a 429 with a short Retry-After, then a success: one retry, one rate_limited error, and the reply")
    func chatRateLimitThenSuccess() async throws {
        let (text, error, statuses, figures) = try await Self.chat(
            timing: StandInTiming(firstByte: .milliseconds(50)), faults: [.rateLimited(retryAfter: .milliseconds(200))])
        #expect(error == nil)
        #expect(text == "You said: Hi. How can I help?")
        #expect(statuses == [429, 200])
        #expect(figures.retries == 1)
        #expect(figures.errors(ProviderError.rateLimited(provider: "openai", retryAfter: nil, message: "").kind) == 1)
        #expect(figures.errors == 1)
        #expect(figures.firstBytes.count == 1)
        #expect(figures.firstBytes.allSatisfy { $0 >= 50_000_000 }, "\(figures.firstBytes) ns")
    }

    @Test("chat: a 401 records one unauthorized error, no retry and no first byte")
    func chatUnauthorized() async throws {
        let (_, error, statuses, figures) = try await Self.chat(faults: [.unauthorized])
        #expect(error?.kind == "unauthorized")
        #expect(statuses == [401])
        #expect(figures.errors("unauthorized") == 1)
        #expect(figures.errors == 1)
        #expect(figures.retries == 0)
        #expect(figures.firstBytes.isEmpty)
    }

    @Test("chat: insufficient_quota is not retried; it is a 429 .status error with OpenAI's message, not transient")
    func chatInsufficientQuota() async throws {
        let (_, error, statuses, figures) = try await Self.chat(openAIFaults: [.insufficientQuota])
        #expect(statuses == [429])
        guard case .status(provider: "openai", status: 429, let message) = error else {
            Issue.record("expected .status 429, got \(String(describing: error))")
            return
        }
        #expect(message.hasPrefix("You exceeded your current quota"))
        #expect(error?.isTransient == false)  // waiting does not refill a quota
        #expect(figures.retries == 0)
        #expect(figures.errors("status") == 1)
    }

    @Test("chat: x-should-retry: false stops the retry of a 503; x-should-retry: true retries a 404")
    func chatShouldRetryHeader() async throws {
        let refused = try await Self.chat(openAIFaults: [.shouldRetry(status: 503, false)])
        #expect(refused.statuses == [503])
        guard case .status(provider: "openai", status: 503, _) = refused.error else {
            Issue.record("expected .status 503, got \(String(describing: refused.error))")
            return
        }
        #expect(refused.figures.retries == 0)
        #expect(refused.figures.errors("status") == 1)

        let retried = try await Self.chat(openAIFaults: [.shouldRetry(status: 404, true)])
        #expect(retried.statuses == [404, 200])
        #expect(retried.error == nil)
        #expect(retried.text == "You said: Hi. How can I help?")
        #expect(retried.figures.retries == 1)
    }

    // MARK: Cartesia (WebSocket)

    /// Speaks one sentence through a Cartesia stand-in inside a fresh metrics scope.
    static func cartesia(timing: StandInTiming = .immediate, faults: [StandInFault] = []) async throws -> (
        run: SpeechRun, figures: Figures
    ) {
        let metrics = TestMetrics()
        var run = SpeechRun()
        try await ScopedMetrics.recording(into: metrics) {
            let (host, _) = try await CartesiaStandIn.start(configuration: .init(apiKey: Secrets.key, timing: timing, faults: faults))
            defer { Task { await host.stop() } }
            let synthesizer = CartesiaSynthesizer(
                endpoint: try ProviderEndpoint(baseURL: host.baseURL, apiKey: Secrets.key), configuration: .init(voiceID: "voice-1"))
            let stream = try await synthesizer.makeStream()
            try await stream.send("Hello there, how are you today?")
            try await stream.finish()
            run = await SpeechRun.collect(stream)
        }
        return (run, Figures(metrics, provider: "cartesia", operation: "speak"))
    }

    @Test("Cartesia: a success records one time to first byte, at least the stand-in's delay, and no error")
    func cartesiaSuccess() async throws {
        let (run, figures) = try await Self.cartesia(timing: StandInTiming(firstByte: .milliseconds(150)))
        #expect(run.error == nil)
        #expect(!run.samples.isEmpty)
        #expect(figures.firstBytes.count == 1)
        #expect(figures.firstBytes.allSatisfy { $0 >= 150_000_000 }, "\(figures.firstBytes) ns")
        #expect(figures.errors == 0)
        #expect(figures.retries == 0)
    }

    @Test("Cartesia: a refused key records one unauthorized error, no retry and no first byte")
    func cartesiaUnauthorized() async throws {
        let (run, figures) = try await Self.cartesia(faults: [.unauthorized])
        #expect((run.error as? ProviderError)?.kind == "unauthorized")
        #expect(figures.errors("unauthorized") == 1)
        #expect(figures.errors == 1)
        #expect(figures.retries == 0)
        #expect(figures.firstBytes.isEmpty)
    }

    @Test("Cartesia: a rate-limited handshake records one rate_limited error and no first byte")
    func cartesiaRateLimited() async throws {
        let (run, figures) = try await Self.cartesia(faults: [.rateLimited(retryAfter: .seconds(2))])
        #expect((run.error as? ProviderError)?.kind == "rate_limited")
        #expect(figures.errors("rate_limited") == 1)
        #expect(figures.errors == 1)
        #expect(figures.retries == 0)
        #expect(figures.firstBytes.isEmpty)
    }
}
