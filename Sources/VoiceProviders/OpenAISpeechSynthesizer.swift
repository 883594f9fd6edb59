//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization
public import VoiceAgent

/// OpenAI's speech endpoint (`POST /v1/audio/speech`) as a ``SpeechSynthesizer``: raw 24 kHz 16-bit mono PCM.
///
/// OpenAI takes whole inputs, so each clause sent to a stream is one request, made as soon as the clause is
/// sent: the next clause's request runs while the previous one's audio streams, and audio comes out in
/// clause order. A clause longer than OpenAI's limit (4,096 characters) is split at spaces into requests
/// within it. OpenAI gives no word timings, so a clause's characters are attributed to its audio
/// proportionally as it arrives, at word boundaries and behind the audio (a clause's last word only with its
/// last audio). A 429 or 5xx before any audio is retried (at most ``Configuration/maxRetries`` times) after
/// the response's `retry-after-ms`/`retry-after`.
public struct OpenAISpeechSynthesizer: SpeechSynthesizer {
    /// What to ask OpenAI for.
    public struct Configuration: Sendable, Hashable {
        /// The model: `gpt-4o-mini-tts`, `tts-1`, `tts-1-hd`.
        public var model: String
        /// The voice: `alloy`, `coral`, `marin`…
        public var voice: String
        /// How to speak (tone, pace); not for `tts-1*`.
        public var instructions: String?
        /// 0.25…4.0; `nil`: OpenAI's default (1.0).
        public var speed: Double?
        /// The longest wait from a request to its first audio byte.
        public var firstAudioTimeout: Duration
        /// The longest wait between two pieces of a response body.
        public var chunkTimeout: Duration
        /// Retries of a request answered 429 or 5xx before any audio.
        public var maxRetries: Int

        /// Creates a configuration.
        public init(
            model: String = "gpt-4o-mini-tts", voice: String = "alloy", instructions: String? = nil, speed: Double? = nil,
            firstAudioTimeout: Duration = .seconds(5), chunkTimeout: Duration = .seconds(5), maxRetries: Int = 2
        ) {
            self.model = model
            self.voice = voice
            self.instructions = instructions
            self.speed = speed
            self.firstAudioTimeout = firstAudioTimeout
            self.chunkTimeout = chunkTimeout
            self.maxRetries = maxRetries
        }
    }

    /// Where OpenAI lives (the base URL includes `/v1`).
    public let endpoint: ProviderEndpoint
    /// The model, voice and timeouts.
    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let metrics = ProviderMetrics(provider: "openai", operation: "speak")

    /// 24,000 Hz: OpenAI's `pcm` format.
    public var sampleRate: Int { 24000 }

    /// Creates a synthesiser.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration = Configuration(), httpClient: HTTPClient = ProviderHTTPClient.shared,
        logger: Logger = Logger(label: "voicepipe.openai.speech")
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Opens a stream for one reply (no request is made until text is sent).
    public func makeStream() async throws -> any SynthesisStream {
        OpenAISpeechStream(
            requester: OpenAISpeechRequester(
                endpoint: endpoint, configuration: configuration, httpClient: httpClient, logger: logger, metrics: metrics))
    }
}

/// Makes the requests of one stream.
struct OpenAISpeechRequester: Sendable {
    let endpoint: ProviderEndpoint
    let configuration: OpenAISpeechSynthesizer.Configuration
    let httpClient: HTTPClient
    let logger: Logger
    let metrics: ProviderMetrics
    static let provider = "openai"

    func body(for input: String) -> Data {
        var object: [String: Any] = [
            "model": configuration.model, "input": input, "voice": configuration.voice, "response_format": "pcm",
        ]
        if let instructions = configuration.instructions { object["instructions"] = instructions }
        if let speed = configuration.speed { object["speed"] = speed }
        return (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
    }

    /// Streams `input`'s audio bytes into `output`, retrying before the first byte; throws ``ProviderError``.
    func run(_ input: String, into output: AsyncThrowingStream<[UInt8], any Error>.Continuation, watch: SpeechRequestWatchdog) async throws
    {
        let body = body(for: input)
        var attempt = 0
        while true {
            var request = HTTPClientRequest(url: endpoint.httpURL("/audio/speech"))
            request.method = .POST
            request.headers.add(name: "Authorization", value: "Bearer \(endpoint.apiKey)")
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
            watch.expect(within: configuration.firstAudioTimeout, stage: "first byte")
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(
                    request, timeout: .nanoseconds(Int64(configuration.firstAudioTimeout.speechNanoseconds)), logger: logger)
            } catch {
                throw Self.map(error, watch: watch, timeout: configuration.firstAudioTimeout)
            }
            guard response.status.code == 200 else {
                let text: String
                do {
                    text = String(buffer: try await response.body.collect(upTo: 1 << 16))
                } catch {
                    throw Self.map(error, watch: watch, timeout: configuration.firstAudioTimeout)
                }
                let headers = response.headers.map { (name: $0.name, value: $0.value) }
                let failure = ProviderError.forStatus(
                    provider: Self.provider, status: Int(response.status.code), body: text, headers: headers)
                let status = Int(response.status.code)
                if attempt < configuration.maxRetries, status == 429 || status >= 500 {
                    let wait = ProviderError.retryAfter(headers) ?? .milliseconds(250 << attempt)
                    if wait <= .seconds(10) {
                        attempt += 1
                        metrics.recordError(failure)
                        metrics.recordRetry()
                        logger.info("openai speech: HTTP \(status), retry \(attempt) after \(wait)")
                        watch.expect(within: wait + configuration.firstAudioTimeout, stage: "first byte")
                        try await Task.sleep(for: wait)
                        continue
                    }
                }
                throw failure
            }
            do {
                for try await buffer in response.body {
                    watch.expect(within: configuration.chunkTimeout, stage: "next chunk")
                    output.yield(Array(buffer.readableBytesView))
                }
            } catch {
                throw Self.map(error, watch: watch, timeout: configuration.chunkTimeout)
            }
            return
        }
    }

    static func map(_ error: any Error, watch: SpeechRequestWatchdog, timeout: Duration) -> any Error {
        if let expired = watch.expired { return expired }
        if let error = error as? ProviderError { return error }
        if error is CancellationError { return error }
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded { return ProviderError.timedOut(provider: provider, stage: "first byte", after: timeout) }
            if error == .cancelled { return CancellationError() }
        }
        return ProviderError.disconnected(provider: provider, detail: "\(error)")
    }
}

/// A deadline that a request keeps pushing back; when it passes, the request is cancelled and fails with
/// ``ProviderError/timedOut(provider:stage:after:)``.
final class SpeechRequestWatchdog: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant
        var stage: String
        var after: Duration
        var expired: ProviderError?
        var stopped = false
    }
    private let state: Mutex<State>
    private let provider: String

    init(provider: String) {
        self.provider = provider
        state = Mutex(State(deadline: .now + .seconds(3600), stage: "first byte", after: .zero))
    }

    /// Expects progress within `after` from now.
    func expect(within after: Duration, stage: String) {
        state.withLock { state in
            state.deadline = .now + after
            state.stage = stage
            state.after = after
        }
    }

    /// The timeout, once it happened.
    var expired: ProviderError? { state.withLock { $0.expired } }

    /// Stops watching.
    func stop() { state.withLock { $0.stopped = true } }

    /// Runs until stopped or expired; `onExpiry` is called once when the deadline passes.
    func watch(onExpiry: @Sendable () -> Void) async {
        while !Task.isCancelled {
            let (deadline, done) = state.withLock { state -> (ContinuousClock.Instant, Bool) in
                if state.stopped { return (.now, true) }
                if ContinuousClock.now >= state.deadline {
                    state.expired = .timedOut(provider: provider, stage: state.stage, after: state.after)
                    return (.now, true)
                }
                return (state.deadline, false)
            }
            if done {
                if expired != nil { onExpiry() }
                return
            }
            try? await Task.sleep(until: min(deadline, .now + .milliseconds(200)), clock: .continuous)
        }
    }
}

extension Duration {
    fileprivate var speechNanoseconds: Double {
        Double(components.seconds) * 1e9 + Double(components.attoseconds) / 1e9
    }
}

/// One reply spoken by OpenAI: one request per clause.
final class OpenAISpeechStream: SynthesisStream {
    /// A clause: its characters and its audio bytes as they arrive.
    struct Job: Sendable {
        var range: Range<Int>
        var scalars: [Unicode.Scalar]
        var bytes: AsyncThrowingStream<[UInt8], any Error>
    }

    private struct State {
        var offset = 0
        var finished = false
        var cancelled = false
        var requests: [Task<Void, Never>] = []
        var firstSend: ContinuousClock.Instant?
    }

    let audio: AsyncThrowingStream<SynthesizedAudio, any Error>
    private let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
    private let jobs: AsyncStream<Job>.Continuation
    private let state = Mutex(State())
    private let requester: OpenAISpeechRequester
    private let sequencer = Mutex<Task<Void, Never>?>(nil)

    init(requester: OpenAISpeechRequester) {
        self.requester = requester
        (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        let (jobStream, jobs) = AsyncStream.makeStream(of: Job.self)
        self.jobs = jobs
        let task = Task { [weak self] in
            guard let self else { return }
            await self.sequence(jobStream)
        }
        sequencer.withLock { $0 = task }
        continuation.onTermination = { [weak self] _ in self?.stopRequests() }
    }

    /// The longest `input` OpenAI takes, in characters.
    static let maximumInput = 4096

    func send(_ text: String) async throws {
        if text.unicodeScalars.count > Self.maximumInput {
            for piece in Self.pieces(of: text, limit: Self.maximumInput) { try await send(piece) }
            return
        }
        let scalars = Array(text.unicodeScalars)
        let range: Range<Int>? = try state.withLock { (state) throws(ProviderError) -> Range<Int>? in
            guard !state.cancelled else { return nil }
            guard !state.finished else { throw .configuration("send(_:) after finish() on an OpenAI speech stream") }
            if state.firstSend == nil { state.firstSend = .now }
            defer { state.offset += scalars.count }
            return state.offset..<(state.offset + scalars.count)
        }
        guard let range else { return }
        let (bytes, output) = AsyncThrowingStream.makeStream(of: [UInt8].self)
        if scalars.contains(where: { !$0.properties.isWhitespace }) {
            let requester = requester
            let task = Task {
                let watch = SpeechRequestWatchdog(provider: OpenAISpeechRequester.provider)
                let work = Task { try await requester.run(text, into: output, watch: watch) }
                let dog = Task { await watch.watch { work.cancel() } }
                do {
                    try await withTaskCancellationHandler {
                        try await work.value
                    } onCancel: {
                        work.cancel()
                    }
                    output.finish()
                } catch {
                    output.finish(throwing: watch.expired ?? error)
                }
                watch.stop()
                dog.cancel()
            }
            let keep = state.withLock { state in
                if !state.cancelled { state.requests.append(task) }
                return !state.cancelled
            }
            if !keep { task.cancel() }
        } else {
            output.finish()
        }
        jobs.yield(Job(range: range, scalars: scalars, bytes: bytes))
    }

    func finish() async throws {
        state.withLock { $0.finished = true }
        jobs.finish()
    }

    func cancel() {
        state.withLock { $0.cancelled = true }
        jobs.finish()
        continuation.finish()
        stopRequests()
    }

    private func stopRequests() {
        let tasks = state.withLock { state in
            defer { state.requests = [] }
            return state.requests
        }
        for task in tasks { task.cancel() }
        sequencer.withLock { $0 }?.cancel()
    }

    /// `text` cut into pieces of at most `limit` Unicode scalars (so at most `limit` characters), each ending
    /// after a space where there is one within reach; together they are `text`.
    static func pieces(of text: String, limit: Int) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var pieces: [String] = []
        var start = 0
        while scalars.count - start > limit {
            var end = start + limit
            if let space = (start + 1..<end).last(where: { scalars[$0 - 1].properties.isWhitespace }) { end = space }
            pieces.append(String(String.UnicodeScalarView(scalars[start..<end])))
            start = end
        }
        pieces.append(String(String.UnicodeScalarView(scalars[start...])))
        return pieces
    }

    /// Plays the clauses' audio in order.
    private func sequence(_ jobs: AsyncStream<Job>) async {
        var secondsPerScalar = 0.08
        var first = true
        let rate = Double(24000)
        do {
            for await job in jobs {
                var carry: UInt8?
                var samples = 0
                var attributed = job.range.lowerBound
                // The offset (in the clause) of the end of each word but the last.
                var wordEnds: [Int] = []
                var index = 0
                while index < job.scalars.count {
                    while index < job.scalars.count, job.scalars[index].properties.isWhitespace { index += 1 }
                    guard index < job.scalars.count else { break }
                    while index < job.scalars.count, !job.scalars[index].properties.isWhitespace { index += 1 }
                    wordEnds.append(index)
                }
                if !wordEnds.isEmpty { wordEnds.removeLast() }
                var nextWord = 0
                for try await bytes in job.bytes {
                    try Task.checkCancellation()
                    var pcm = bytes
                    if let byte = carry {
                        pcm.insert(byte, at: 0)
                        carry = nil
                    }
                    if pcm.count % 2 == 1 { carry = pcm.removeLast() }
                    guard !pcm.isEmpty else { continue }
                    var chunk = [Float](repeating: 0, count: pcm.count / 2)
                    for n in 0..<chunk.count {
                        let value = Int16(bitPattern: UInt16(pcm[2 * n]) | UInt16(pcm[2 * n + 1]) << 8)
                        chunk[n] = Float(value) / 32768
                    }
                    samples += chunk.count
                    if first {
                        first = false
                        if let start = state.withLock({ $0.firstSend }) { requester.metrics.recordFirstByte(.now - start) }
                    }
                    let heard = Double(samples) / rate
                    while nextWord < wordEnds.count, Double(wordEnds[nextWord]) * secondsPerScalar <= heard { nextWord += 1 }
                    let end = nextWord > 0 ? job.range.lowerBound + wordEnds[nextWord - 1] : job.range.lowerBound
                    let start = attributed
                    attributed = max(attributed, end)
                    continuation.yield(SynthesizedAudio(samples: chunk, text: start..<attributed))
                }
                if carry != nil {
                    throw ProviderError.malformed(provider: OpenAISpeechRequester.provider, detail: "the PCM body ended in half a sample")
                }
                if attributed < job.range.upperBound || job.range.isEmpty {
                    continuation.yield(SynthesizedAudio(samples: [], text: attributed..<job.range.upperBound))
                }
                if samples > 0, !job.scalars.isEmpty {
                    // Words are attributed by the pace of the clauses so far, with a margin so they lag the audio.
                    secondsPerScalar = 1.3 * Double(samples) / rate / Double(job.scalars.count)
                }
            }
            continuation.finish()
        } catch {
            if let failure = error as? ProviderError { requester.metrics.recordError(failure) }
            continuation.finish(throwing: error is CancellationError ? nil : error)
            stopRequests()
        }
    }
}
