//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
public import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization
public import VoiceAgent
import VoiceDSP

/// Cartesia's TTS WebSocket (`/tts/websocket`) as a ``SpeechSynthesizer``.
///
/// Each reply stream opens its own WebSocket when it is made (so the handshake overlaps the model's first
/// tokens) and speaks in one Cartesia context: every ``SynthesisStream/send(_:)`` is a generation request
/// with `continue: true` and the text verbatim (Cartesia concatenates a context's transcripts as they are),
/// ``SynthesisStream/finish()`` an empty transcript with `continue: false`, ``SynthesisStream/cancel()``
/// `{context_id, cancel: true}` and a close. By default it asks for µ-law at 8 kHz, the phone call's own
/// format, so the pipeline needs no resampler.
///
/// Text attribution comes from Cartesia's word timestamps (seconds from the start of the context's audio):
/// each word is found, in order, in the text sent, and a chunk's ``SynthesizedAudio/text`` runs to the end
/// of the last word that ends within the audio delivered so far. Timestamps that arrive after their audio
/// are handed out at once as a chunk without samples; `done` ends with a chunk covering whatever is left.
public struct CartesiaSynthesizer: SpeechSynthesizer {
    /// What to ask Cartesia for.
    public struct Configuration: Sendable, Hashable {
        /// The audio encodings this client decodes.
        public enum Encoding: String, Sendable, Hashable {
            /// 8-bit G.711 µ-law: the phone call's format at 8 kHz.
            case pcmMulaw = "pcm_mulaw"
            /// 16-bit signed little-endian PCM.
            case pcmS16LE = "pcm_s16le"
        }

        /// The model, e.g. `sonic-2`, `sonic-3`.
        public var modelID: String
        /// The voice's id (required: Cartesia has no default voice).
        public var voiceID: String
        /// The language code.
        public var language: String
        /// The API version, sent as `Cartesia-Version`.
        public var version: String
        /// The output encoding.
        public var encoding: Encoding
        /// The output sample rate: 8000 for µ-law; 8000, 16000, 22050, 24000, 44100 or 48000 for 16-bit PCM.
        public var outputSampleRate: Int
        /// Cartesia's `max_buffer_delay_ms`: how long it holds an unfinished sentence waiting for more text.
        /// 0 (the default) speaks each piece as it arrives: the agent sends whole clauses, so waiting for the
        /// rest of a sentence (Cartesia's default 3000 ms) would only delay a reply's first words; `nil`
        /// leaves the field out.
        public var maxBufferDelayMilliseconds: Int?
        /// The longest wait from the first text sent (or the connection being opened) to the first audio.
        public var firstAudioTimeout: Duration
        /// The longest wait for the next message while audio is owed (text sent and not answered, or the end
        /// asked for and `done` not yet come).
        public var chunkTimeout: Duration

        /// Creates a configuration.
        public init(
            voiceID: String, modelID: String = "sonic-2", language: String = "en", version: String = "2026-03-01",
            encoding: Encoding = .pcmMulaw, outputSampleRate: Int = 8000, maxBufferDelayMilliseconds: Int? = 0,
            firstAudioTimeout: Duration = .seconds(5), chunkTimeout: Duration = .seconds(5)
        ) {
            self.voiceID = voiceID
            self.modelID = modelID
            self.language = language
            self.version = version
            self.encoding = encoding
            self.outputSampleRate = outputSampleRate
            self.maxBufferDelayMilliseconds = maxBufferDelayMilliseconds
            self.firstAudioTimeout = firstAudioTimeout
            self.chunkTimeout = chunkTimeout
        }
    }

    /// Where Cartesia lives.
    public let endpoint: ProviderEndpoint
    /// The model, voice, format and timeouts.
    public let configuration: Configuration
    private let httpClient: HTTPClient
    private let logger: Logger
    private let metrics = ProviderMetrics(provider: "cartesia", operation: "speak")

    /// The output sample rate.
    public var sampleRate: Int { configuration.outputSampleRate }

    /// Creates a synthesiser. `httpClient` is used only to learn why a refused handshake was refused.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration, httpClient: HTTPClient = ProviderHTTPClient.shared,
        logger: Logger = Logger(label: "voicepipe.cartesia")
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Opens a stream for one reply and starts its WebSocket handshake.
    ///
    /// - Throws: ``ProviderError/configuration(_:)`` for an empty voice id or an unsupported rate; handshake
    ///   failures come out of ``SynthesisStream/audio``.
    public func makeStream() async throws -> any SynthesisStream {
        guard !configuration.voiceID.isEmpty else { throw ProviderError.configuration("Cartesia needs a voice id") }
        let rates: Set<Int> = configuration.encoding == .pcmMulaw ? [8000] : [8000, 16000, 22050, 24000, 44100, 48000]
        guard rates.contains(configuration.outputSampleRate) else {
            throw ProviderError.configuration(
                "Cartesia \(configuration.encoding.rawValue) at \(configuration.outputSampleRate) Hz is not supported here")
        }
        return CartesiaStream(endpoint: endpoint, configuration: configuration, httpClient: httpClient, logger: logger, metrics: metrics)
    }
}

/// One reply spoken by Cartesia: one WebSocket, one context.
final class CartesiaStream: SynthesisStream {
    static let provider = "cartesia"

    private enum Outgoing: Sendable {
        case text(String)
        case close
    }

    private struct State {
        /// Everything sent, in Unicode scalars.
        var sent: [Unicode.Scalar] = []
        var finished = false
        var cancelled = false
        var ended = false
        var opened = ContinuousClock.now
        var firstSend: ContinuousClock.Instant?
        var lastSend: ContinuousClock.Instant?
        var finishedAt: ContinuousClock.Instant?
        var lastMessage: ContinuousClock.Instant?
        var firstAudio = false
        /// Words matched in `sent`: where each ends in the audio (seconds) and in the text.
        var words: [(end: Double, characters: Int)] = []
        var nextWord = 0
        var searchFrom = 0
        /// The text handed out so far ends here.
        var attributed = 0
        var deliveredSamples = 0
        var carry: UInt8?
    }

    let audio: AsyncThrowingStream<SynthesizedAudio, any Error>
    private let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let state = Mutex(State())
    private let tasks = Mutex<[Task<Void, Never>]>([])
    private let contextID = UUID().uuidString.lowercased()
    private let configuration: CartesiaSynthesizer.Configuration
    private let metrics: ProviderMetrics
    private let logger: Logger

    init(
        endpoint: ProviderEndpoint, configuration: CartesiaSynthesizer.Configuration, httpClient: HTTPClient, logger: Logger,
        metrics: ProviderMetrics
    ) {
        self.configuration = configuration
        self.metrics = metrics
        self.logger = logger
        (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        let (messages, outgoing) = AsyncStream.makeStream(of: Outgoing.self)
        self.outgoing = outgoing
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.cancel() }
        }
        let handle: @Sendable (String) throws -> Bool = { [weak self] text in
            guard let self else { return true }
            return try self.handle(text)
        }
        let onEnd: @Sendable (ProviderError?) -> Void = { [weak self] error in self?.end(error) }
        let connection = Task {
            await Self.connect(
                endpoint: endpoint, configuration: configuration, httpClient: httpClient, logger: logger, messages: messages,
                handle: handle, onEnd: onEnd)
        }
        let watchdog = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                if let expired = self.expiry() {
                    self.fail(expired)
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        tasks.withLock { $0 = [connection, watchdog] }
    }

    deinit {
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    // MARK: Sending

    private func message(transcript: String, continues: Bool) -> String {
        var object: [String: Any] = [
            "context_id": contextID, "model_id": configuration.modelID, "voice": ["mode": "id", "id": configuration.voiceID],
            "language": configuration.language, "add_timestamps": true,
            "output_format": [
                "container": "raw", "encoding": configuration.encoding.rawValue, "sample_rate": configuration.outputSampleRate,
            ] as [String: Any],
        ]
        if let delay = configuration.maxBufferDelayMilliseconds { object["max_buffer_delay_ms"] = delay }
        object["transcript"] = transcript
        object["continue"] = continues
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    func send(_ text: String) async throws {
        guard !text.isEmpty else { return }
        let proceed = try state.withLock { (state) throws(ProviderError) -> Bool in
            guard !state.cancelled, !state.ended else { return false }
            guard !state.finished else { throw .configuration("send(_:) after finish() on a Cartesia stream") }
            state.sent.append(contentsOf: text.unicodeScalars)
            state.firstSend = state.firstSend ?? .now
            state.lastSend = .now
            return true
        }
        if proceed { outgoing.yield(.text(message(transcript: text, continues: true))) }
    }

    func finish() async throws {
        let proceed = state.withLock { state -> Bool in
            guard !state.cancelled, !state.ended, !state.finished else { return false }
            state.finished = true
            state.finishedAt = .now
            return true
        }
        if proceed { outgoing.yield(.text(message(transcript: "", continues: false))) }
    }

    func cancel() {
        let (first, sentSomething) = state.withLock { state -> (Bool, Bool) in
            defer { state.cancelled = true }
            return (!state.cancelled && !state.ended, state.firstSend != nil)
        }
        guard first else { return }
        if sentSomething {
            let data =
                (try? JSONSerialization.data(withJSONObject: ["context_id": contextID, "cancel": true], options: [.sortedKeys])) ?? Data()
            outgoing.yield(.text(String(decoding: data, as: UTF8.self)))
        }
        outgoing.yield(.close)
        outgoing.finish()
        continuation.finish()
        // The close handshake should end the connection at once; make sure it ends even if the server is silent.
        let all = tasks.withLock { $0 }
        Task {
            try? await Task.sleep(for: .seconds(2))
            for task in all { task.cancel() }
        }
        for task in all.dropFirst() { task.cancel() }
    }

    // MARK: Ending

    /// The timeout that has passed, if any.
    private func expiry() -> ProviderError? {
        state.withLock { state -> ProviderError? in
            guard !state.ended, !state.cancelled else { return nil }
            let now = ContinuousClock.now
            if !state.firstAudio {
                // The handshake counts from the stream's opening; the first audio from the first text.
                let start = state.firstSend ?? state.opened
                let limit = state.firstSend == nil ? configuration.firstAudioTimeout + .seconds(5) : configuration.firstAudioTimeout
                if state.firstSend != nil || state.lastMessage == nil, now - start > limit {
                    return .timedOut(provider: Self.provider, stage: state.firstSend == nil ? "handshake" : "first byte", after: limit)
                }
                return nil
            }
            let last = state.lastMessage ?? state.opened
            var owed: ContinuousClock.Instant?
            if let sent = state.lastSend, sent > last { owed = sent }
            if state.finished { owed = max(owed ?? last, last, state.finishedAt ?? last) }
            if let owed, now - owed > configuration.chunkTimeout {
                return .timedOut(provider: Self.provider, stage: "next chunk", after: configuration.chunkTimeout)
            }
            return nil
        }
    }

    /// Ends `audio` with `error` (once), and the connection.
    private func fail(_ error: ProviderError) {
        let first = state.withLock { state in
            defer { state.ended = true }
            return !state.ended && !state.cancelled
        }
        guard first else { return }
        metrics.recordError(error)
        logger.warning("cartesia: \(error)")
        continuation.finish(throwing: error)
        outgoing.yield(.close)
        outgoing.finish()
        for task in tasks.withLock({ $0 }) { task.cancel() }
    }

    /// The connection ended: with `error`, or cleanly.
    private func end(_ error: ProviderError?) {
        let (done, cancelled) = state.withLock { ($0.ended, $0.cancelled) }
        if done || cancelled {
            for task in tasks.withLock({ $0 }) { task.cancel() }
            return
        }
        fail(error ?? .disconnected(provider: Self.provider, detail: "the connection closed before done"))
    }

    // MARK: Receiving

    /// Handles one text frame; returns true at `done`.
    private func handle(_ text: String) throws(ProviderError) -> Bool {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw .malformed(provider: Self.provider, detail: "a message that is not a JSON object: \(text.prefix(80))")
        }
        if let id = object["context_id"] as? String, id != contextID { return false }
        let type = object["type"] as? String
        let now = ContinuousClock.now
        state.withLock { $0.lastMessage = now }
        switch type {
        case "error":
            let message =
                (object["message"] as? String) ?? (object["error"] as? String) ?? (object["title"] as? String) ?? "unknown error"
            let code = (object["error_code"] as? String).map { " (\($0))" } ?? ""
            throw .failed(provider: Self.provider, message: message + code)
        case "chunk",
            nil where object["data"] != nil:
            guard let data = object["data"] as? String, let bytes = Data(base64Encoded: data) else {
                throw .malformed(provider: Self.provider, detail: "a chunk without valid base64 data")
            }
            try deliver(Array(bytes))
            return false
        case "timestamps":
            try timestamps(object["word_timestamps"])
            return false
        case "done",
            nil where object["done"] as? Bool == true:
            finishAudio()
            return true
        default:
            return false  // flush_done, phoneme_timestamps, and what later versions add
        }
    }

    private func deliver(_ bytes: [UInt8]) throws(ProviderError) {
        let rate = Double(configuration.outputSampleRate)
        let encoding = configuration.encoding
        let (chunk, range, first) = state.withLock { state -> ([Float], Range<Int>, Bool) in
            var samples: [Float]
            switch encoding {
            case .pcmMulaw:
                samples = bytes.map { Float(MuLaw.decode($0)) / 32768 }
            case .pcmS16LE:
                var pcm = bytes
                if let byte = state.carry {
                    pcm.insert(byte, at: 0)
                    state.carry = nil
                }
                if pcm.count % 2 == 1 { state.carry = pcm.removeLast() }
                samples = [Float](repeating: 0, count: pcm.count / 2)
                for n in samples.indices {
                    samples[n] = Float(Int16(bitPattern: UInt16(pcm[2 * n]) | UInt16(pcm[2 * n + 1]) << 8)) / 32768
                }
            }
            state.deliveredSamples += samples.count
            let first = !state.firstAudio && !samples.isEmpty
            if first { state.firstAudio = true }
            let start = state.attributed
            Self.attribute(&state, heard: Double(state.deliveredSamples) / rate, rate: rate)
            return (samples, start..<state.attributed, first)
        }
        if first, let start = state.withLock({ $0.firstSend }) { metrics.recordFirstByte(.now - start) }
        if !chunk.isEmpty || !range.isEmpty { continuation.yield(SynthesizedAudio(samples: chunk, text: range)) }
    }

    /// Moves `attributed` to the end of the last word whose sound has been delivered.
    private static func attribute(_ state: inout State, heard: Double, rate: Double) {
        let tolerance = 0.5 / rate
        while state.nextWord < state.words.count, state.words[state.nextWord].end <= heard + tolerance {
            state.attributed = max(state.attributed, state.words[state.nextWord].characters)
            state.nextWord += 1
        }
    }

    private func timestamps(_ value: Any?) throws(ProviderError) {
        guard let timestamps = value as? [String: Any], let words = timestamps["words"] as? [String],
            let ends = timestamps["end"] as? [Any], ends.count == words.count
        else { throw .malformed(provider: Self.provider, detail: "timestamps without matching words and end times") }
        var seconds: [Double] = []
        for end in ends {
            guard let value = (end as? NSNumber)?.doubleValue else {
                throw .malformed(provider: Self.provider, detail: "a word end time that is not a number")
            }
            seconds.append(value)
        }
        let rate = Double(configuration.outputSampleRate)
        let range = state.withLock { state -> Range<Int> in
            for (word, end) in zip(words, seconds) {
                let scalars = Array(word.unicodeScalars)
                guard !scalars.isEmpty, let found = Self.find(scalars, in: state.sent, from: state.searchFrom) else { continue }
                state.searchFrom = found + scalars.count
                state.words.append((end, found + scalars.count))
            }
            let start = state.attributed
            Self.attribute(&state, heard: Double(state.deliveredSamples) / rate, rate: rate)
            return start..<state.attributed
        }
        // The words' audio has already gone out: say so now rather than with the next chunk.
        if !range.isEmpty { continuation.yield(SynthesizedAudio(samples: [], text: range)) }
    }

    /// The first place at or after `start` where `word` occurs in `text`.
    private static func find(_ word: [Unicode.Scalar], in text: [Unicode.Scalar], from start: Int) -> Int? {
        guard word.count <= text.count else { return nil }
        var index = start
        while index + word.count <= text.count {
            if text[index] == word[0], text[index..<(index + word.count)].elementsEqual(word) { return index }
            index += 1
        }
        return nil
    }

    private func finishAudio() {
        let range = state.withLock { state -> Range<Int>? in
            guard !state.ended, !state.cancelled else { return nil }
            state.ended = true
            defer { state.attributed = state.sent.count }
            return state.attributed..<max(state.attributed, state.sent.count)
        }
        guard let range else { return }
        continuation.yield(SynthesizedAudio(samples: [], text: range))
        continuation.finish()
        outgoing.yield(.close)
        outgoing.finish()
    }

    // MARK: Connection

    /// Runs the WebSocket: writes `messages`, hands text frames to `handle` until it returns true, then
    /// closes; `onEnd` gets nil after `done` or a close, else the error.
    private static func connect(
        endpoint: ProviderEndpoint, configuration: CartesiaSynthesizer.Configuration, httpClient: HTTPClient, logger: Logger,
        messages: AsyncStream<Outgoing>, handle: @escaping @Sendable (String) throws -> Bool,
        onEnd: @escaping @Sendable (ProviderError?) -> Void
    ) async {
        var clientConfiguration = WebSocketClientConfiguration()
        clientConfiguration.additionalHeaders[HTTPField.Name("X-API-Key")!] = endpoint.apiKey
        clientConfiguration.additionalHeaders[HTTPField.Name("Cartesia-Version")!] = configuration.version
        clientConfiguration.maxFrameSize = 16 << 20
        do {
            try await WebSocketClient.connect(
                url: endpoint.webSocketURL("/tts/websocket"), configuration: clientConfiguration, logger: logger
            ) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Bool.self) { group in
                    group.addTask {
                        for await message in messages {
                            switch message {
                            case .text(let text): try await outbound.write(.text(text))
                            case .close:
                                try? await outbound.close(.normalClosure, reason: nil)
                                return false
                            }
                        }
                        try? await outbound.close(.normalClosure, reason: nil)
                        return false
                    }
                    group.addTask {
                        do {
                            for try await message in inbound.messages(maxSize: 16 << 20) {
                                guard case .text(let text) = message else {
                                    throw ProviderError.malformed(provider: provider, detail: "a binary frame")
                                }
                                _ = try handle(text)
                            }
                        } catch let error as ProviderError {
                            // Fail the stream now: WebSocketClient rethrows a handler's error only after its close
                            // handshake, which can take up to its close timeout (15 s).
                            onEnd(error)
                            throw error
                        }
                        return true
                    }
                    while let finished = try await group.next() {
                        if finished { break }
                    }
                    group.cancelAll()
                }
            }
            onEnd(nil)  // the stream knows whether `done` came
        } catch let error as ProviderError {
            onEnd(error)
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            onEnd(await refusal(endpoint: endpoint, configuration: configuration, httpClient: httpClient, logger: logger))
        } catch is CancellationError {
            onEnd(nil)
        } catch {
            onEnd(.disconnected(provider: provider, detail: "\(error)"))
        }
    }

    /// Why the handshake was refused: the same request as a plain `GET`, for its status and body.
    private static func refusal(
        endpoint: ProviderEndpoint, configuration: CartesiaSynthesizer.Configuration, httpClient: HTTPClient, logger: Logger
    ) async -> ProviderError {
        var request = HTTPClientRequest(url: endpoint.httpURL("/tts/websocket"))
        request.headers.add(name: "X-API-Key", value: endpoint.apiKey)
        request.headers.add(name: "Cartesia-Version", value: configuration.version)
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(5), logger: logger)
            let body = String(buffer: try await response.body.collect(upTo: 1 << 16))
            let status = Int(response.status.code)
            guard status >= 400 else {
                return .status(provider: provider, status: status, message: "the WebSocket handshake was refused")
            }
            return .forStatus(provider: provider, status: status, body: body, headers: response.headers.map { ($0.name, $0.value) })
        } catch {
            return .disconnected(provider: provider, detail: "the WebSocket handshake was refused (\(error))")
        }
    }
}
