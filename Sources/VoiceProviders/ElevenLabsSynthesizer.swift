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

/// ElevenLabs text-to-speech over its single-context WebSocket (`/v1/text-to-speech/{voice_id}/stream-input`).
///
/// Each reply gets its own connection, opened by ``makeStream()`` so the handshake overlaps the model's first
/// tokens. Every clause is sent with `flush: true`: ElevenLabs buffers text until 120 characters by default, and
/// `try_trigger_generation` only acts above a minimum, so a short first clause ("Sure, ") would otherwise wait
/// for the rest of the reply. Audio is `ulaw_8000` by default (the telephone's own format, so no resampling) or
/// 16-bit PCM at 16 or 24 kHz. Each chunk's ``SynthesizedAudio/text`` comes from the server's `alignment`
/// (times relative to each chunk, so a running offset is kept) and ends after the last whole word whose sound
/// ends within the audio delivered so far: a chunk boundary inside a word never puts half the word in the
/// transcript kept on barge-in.
public struct ElevenLabsSynthesizer: SpeechSynthesizer {
    /// What to ask ElevenLabs for.
    public struct Configuration: Sendable, Hashable {
        /// The audio format requested (`output_format`).
        public enum OutputFormat: String, Sendable, Hashable, CaseIterable {
            /// G.711 µ-law at 8 kHz: what a phone call carries.
            case ulaw8000 = "ulaw_8000"
            /// 16-bit little-endian PCM at 16 kHz.
            case pcm16000 = "pcm_16000"
            /// 16-bit little-endian PCM at 24 kHz.
            case pcm24000 = "pcm_24000"

            /// The sample rate, in Hz.
            public var sampleRate: Int {
                switch self {
                case .ulaw8000: 8000
                case .pcm16000: 16000
                case .pcm24000: 24000
                }
            }
        }

        /// The voice's settings (`voice_settings`); `nil` fields are left to the voice's defaults.
        public struct VoiceSettings: Sendable, Hashable {
            /// 0...1: higher is steadier, lower more expressive.
            public var stability: Double?
            /// 0...1: how closely to keep to the original voice.
            public var similarityBoost: Double?
            /// 0.7...1.2: speaking rate.
            public var speed: Double?

            /// Creates settings.
            public init(stability: Double? = nil, similarityBoost: Double? = nil, speed: Double? = nil) {
                self.stability = stability
                self.similarityBoost = similarityBoost
                self.speed = speed
            }
        }

        /// The voice id (required).
        public var voiceID: String
        /// The model (`model_id`).
        public var modelID: String
        /// The audio format.
        public var outputFormat: OutputFormat
        /// Voice settings sent in the first message, if any.
        public var voiceSettings: VoiceSettings?
        /// `generation_config.chunk_length_schedule`, if any (each 50...500 characters).
        public var chunkLengthSchedule: [Int]?
        /// Seconds without text before ElevenLabs closes the connection (`inactivity_timeout`, at most 180);
        /// `nil`: the service's default, 20.
        public var inactivityTimeout: Int?
        /// Asks for alignment with every audio chunk (`sync_alignment`).
        public var syncAlignment: Bool
        /// How long to wait for the first audio after the first text.
        public var firstAudioTimeout: Duration
        /// How long to wait for the next audio while text is still unspoken.
        public var chunkTimeout: Duration

        /// Creates a configuration.
        public init(
            voiceID: String, modelID: String = "eleven_flash_v2_5", outputFormat: OutputFormat = .ulaw8000,
            voiceSettings: VoiceSettings? = nil, chunkLengthSchedule: [Int]? = nil, inactivityTimeout: Int? = nil,
            syncAlignment: Bool = true, firstAudioTimeout: Duration = .seconds(5), chunkTimeout: Duration = .seconds(5)
        ) {
            self.voiceID = voiceID
            self.modelID = modelID
            self.outputFormat = outputFormat
            self.voiceSettings = voiceSettings
            self.chunkLengthSchedule = chunkLengthSchedule
            self.inactivityTimeout = inactivityTimeout
            self.syncAlignment = syncAlignment
            self.firstAudioTimeout = firstAudioTimeout
            self.chunkTimeout = chunkTimeout
        }
    }

    /// Where ElevenLabs is, and the key.
    public let endpoint: ProviderEndpoint
    /// What is asked of it.
    public let configuration: Configuration
    let httpClient: HTTPClient
    let logger: Logger
    let metrics = ProviderMetrics(provider: "elevenlabs", operation: "speak")

    /// Creates a synthesiser. `httpClient` is used only to learn why a handshake was refused.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration, httpClient: HTTPClient = ProviderHTTPClient.shared,
        logger: Logger = Logger(label: "voicepipe.elevenlabs")
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
    }

    /// The sample rate of ``Configuration/outputFormat``.
    public var sampleRate: Int { configuration.outputFormat.sampleRate }

    /// Opens the connection for one reply and returns at once; a refused handshake or an unreachable host
    /// comes out of the stream's `audio` (and its next `send`) as a ``ProviderError``.
    public func makeStream() async throws -> any SynthesisStream {
        let stream = ElevenLabsSynthesisStream(synthesizer: self)
        stream.start()
        return stream
    }

    var path: String {
        "/v1/text-to-speech/\(ProviderEndpoint.percentEncode(configuration.voiceID))/stream-input"
    }

    var query: [(String, String)] {
        var query = [("model_id", configuration.modelID), ("output_format", configuration.outputFormat.rawValue)]
        if let timeout = configuration.inactivityTimeout { query.append(("inactivity_timeout", String(timeout))) }
        if configuration.syncAlignment { query.append(("sync_alignment", "true")) }
        return query
    }

    /// The first message: one space, and the voice settings and chunk schedule when set.
    var initialMessage: String {
        var object: [String: Any] = ["text": " "]
        if let settings = configuration.voiceSettings {
            var values: [String: Any] = [:]
            if let stability = settings.stability { values["stability"] = stability }
            if let similarity = settings.similarityBoost { values["similarity_boost"] = similarity }
            if let speed = settings.speed { values["speed"] = speed }
            object["voice_settings"] = values
        }
        if let schedule = configuration.chunkLengthSchedule { object["generation_config"] = ["chunk_length_schedule": schedule] }
        return Self.json(object)
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// One reply over one ElevenLabs connection.
final class ElevenLabsSynthesisStream: SynthesisStream, Sendable {
    private static let provider = "elevenlabs"

    /// What the stream knows, under one lock.
    private struct State {
        /// Everything sent on the wire, and for each wire scalar the offset in the agent's text just after it.
        var wire: [Unicode.Scalar] = []
        var agentEnd: [Int] = []
        /// How many scalars the agent has sent.
        var agentCount = 0
        /// The wire offset just after the last non-space character sent.
        var wireContentEnd = 0
        /// How far the alignment has been matched in `wire`.
        var cursor = 0
        /// Places text may be cut, in order: the agent offset after each whole word or space matched and the
        /// time its sound ends, in ms.
        var pending: [(end: Int, time: Double)] = []
        /// When the sound of the word being matched (its characters may span chunks) ends so far, in ms.
        var wordEnd: Double?
        var pendingIndex = 0
        /// The agent offset up to which audio has been delivered.
        var covered = 0
        var deliveredSamples = 0
        var firstTextAt: ContinuousClock.Instant?
        var gotAudio = false
        var finished = false
        var deadline: ContinuousClock.Instant?
        var ended = false
        var failure: ProviderError?
        var task: Task<Void, Never>?
    }

    private let synthesizer: ElevenLabsSynthesizer
    private let state = Mutex(State())
    private let outgoing: AsyncStream<String>
    private let outgoingContinuation: AsyncStream<String>.Continuation
    private let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
    let audio: AsyncThrowingStream<SynthesizedAudio, any Error>

    init(synthesizer: ElevenLabsSynthesizer) {
        self.synthesizer = synthesizer
        (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: String.self)
        (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        outgoingContinuation.yield(synthesizer.initialMessage)
    }

    func start() {
        let task = Task { await self.run() }
        let ended = state.withLock { state in
            state.task = task
            return state.ended
        }
        if ended { task.cancel() }
    }

    // MARK: - Text

    func send(_ text: String) async throws {
        let message: String? = try state.withLock { state in
            if let failure = state.failure { throw failure }
            guard !state.ended, !state.finished else { return nil }
            let scalars = Array(text.unicodeScalars)
            let start = state.agentCount
            state.agentCount += scalars.count
            // A piece with no words is not sent: a lone " " is ElevenLabs' keep-alive, "" would end the stream.
            guard scalars.contains(where: { !$0.properties.isWhitespace }) else { return nil }
            var wire = text
            state.wire += scalars
            state.agentEnd += (1...scalars.count).map { start + $0 }
            state.wireContentEnd = (state.wire.lastIndex { !$0.properties.isWhitespace } ?? -1) + 1
            if scalars.last != " " {
                // ElevenLabs wants text to end with a single space; the space voices nothing of the agent's.
                wire += " "
                state.wire.append(" ")
                state.agentEnd.append(state.agentCount)
            }
            let now = ContinuousClock.now
            if state.firstTextAt == nil { state.firstTextAt = now }
            if state.deadline == nil { state.deadline = now + timeout(state) }
            return ElevenLabsSynthesizer.json(["text": wire, "flush": true])
        }
        if let message { outgoingContinuation.yield(message) }
    }

    func finish() async throws {
        let send: Bool = try state.withLock { state in
            if let failure = state.failure { throw failure }
            guard !state.ended, !state.finished else { return false }
            state.finished = true
            if state.deadline == nil { state.deadline = .now + timeout(state) }
            return true
        }
        guard send else { return }
        outgoingContinuation.yield(ElevenLabsSynthesizer.json(["text": ""]))
        outgoingContinuation.finish()
    }

    func cancel() { end(nil) }

    private func timeout(_ state: State) -> Duration {
        state.gotAudio ? synthesizer.configuration.chunkTimeout : synthesizer.configuration.firstAudioTimeout
    }

    /// Ends the stream once: with `error`, or (nil) cancelled; closes the connection.
    private func end(_ error: ProviderError?) {
        let (first, task): (Bool, Task<Void, Never>?) = state.withLock { state in
            guard !state.ended else { return (false, nil) }
            state.ended = true
            state.failure = error
            return (true, state.task)
        }
        guard first else { return }
        if let error {
            synthesizer.metrics.recordError(error)
            synthesizer.logger.warning("ElevenLabs synthesis failed: \(error)")
            continuation.finish(throwing: error)
        } else {
            continuation.finish()
        }
        outgoingContinuation.finish()
        task?.cancel()
    }

    // MARK: - Connection

    private func run() async {
        let configuration = synthesizer.configuration
        let url = synthesizer.endpoint.webSocketURL(synthesizer.path, query: synthesizer.query)
        var client = WebSocketClientConfiguration()
        client.maxFrameSize = 16 << 20
        client.closeTimeout = .seconds(1)
        client.additionalHeaders[HTTPField.Name("xi-api-key")!] = synthesizer.endpoint.apiKey
        synthesizer.logger.debug(
            "ElevenLabs stream for voice \(configuration.voiceID) at \(synthesizer.endpoint) (\(configuration.outputFormat.rawValue))")
        do {
            let close = try await WebSocketClient.connect(url: url, configuration: client, logger: synthesizer.logger) {
                inbound, outbound, _ in
                try await self.converse(inbound: inbound, outbound: outbound)
            }
            if let close, close.closeCode == .policyViolation {
                end(.failed(provider: Self.provider, message: close.reason ?? "policy violation (1008)"))
            } else {
                let code = close.map { " with code \($0.closeCode)" } ?? ""
                end(.disconnected(provider: Self.provider, detail: "the connection closed\(code) before the final message"))
            }
        } catch let error as ProviderError {
            end(error)
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            guard !state.withLock({ $0.ended }) else { return }
            end(await refusal())
        } catch {
            end(.disconnected(provider: Self.provider, detail: "\(error)"))
        }
    }

    /// Asks over plain HTTP why the handshake was refused (the WebSocket client does not keep the response).
    private func refusal() async -> ProviderError {
        var request = HTTPClientRequest(url: synthesizer.endpoint.httpURL(synthesizer.path, query: synthesizer.query))
        request.headers.add(name: "xi-api-key", value: synthesizer.endpoint.apiKey)
        do {
            let response = try await synthesizer.httpClient.execute(request, timeout: .seconds(5))
            let body = try await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            guard status >= 400, status != 426 else {
                return .disconnected(provider: Self.provider, detail: "the WebSocket handshake was refused")
            }
            let headers = response.headers.map { (name: $0.name, value: $0.value) }
            return .forStatus(provider: Self.provider, status: status, body: String(buffer: body), headers: headers)
        } catch {
            return .disconnected(provider: Self.provider, detail: "the WebSocket handshake was refused")
        }
    }

    private func converse(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await message in self.outgoing { try await outbound.write(.text(message)) }
            }
            group.addTask { try await self.watch() }
            defer { group.cancelAll() }
            do {
                for try await message in inbound.messages(maxSize: 16 << 20) {
                    guard case .text(let text) = message else {
                        throw ProviderError.malformed(provider: Self.provider, detail: "a binary message")
                    }
                    if try receive(text) { return }
                }
            } catch let error as ProviderError {
                end(error)
            }
        }
    }

    /// Ends the stream with a timeout when audio is due and does not come.
    private func watch() async throws {
        let configuration = synthesizer.configuration
        while true {
            try await Task.sleep(for: .milliseconds(50))
            let expired: ProviderError? = state.withLock { state in
                guard !state.ended, let deadline = state.deadline, deadline < .now else { return nil }
                return state.gotAudio
                    ? .timedOut(provider: Self.provider, stage: "next chunk", after: configuration.chunkTimeout)
                    : .timedOut(provider: Self.provider, stage: "first byte", after: configuration.firstAudioTimeout)
            }
            if let expired {
                end(expired)
                return
            }
        }
    }

    // MARK: - Server messages

    /// Handles one server message; returns true after the final one.
    private func receive(_ text: String) throws(ProviderError) -> Bool {
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw .malformed(provider: Self.provider, detail: "a message that is not a JSON object")
        }
        if let error = object["error"], !(error is NSNull) {
            let message = (object["message"] as? String) ?? (error as? String) ?? "\(error)"
            throw .failed(provider: Self.provider, message: message)
        }
        var samples: [Float] = []
        if let encoded = object["audio"], !(encoded is NSNull) {
            guard let encoded = encoded as? String, let bytes = Data(base64Encoded: encoded) else {
                throw .malformed(provider: Self.provider, detail: "audio that is not base64")
            }
            samples = try decode(bytes)
        }
        let alignment = try Self.alignment(object["alignment"])
        let isFinal = object["isFinal"] as? Bool == true
        let rate = Double(synthesizer.sampleRate)
        let (chunk, firstAudio): (SynthesizedAudio?, Duration?) = state.withLock { state in
            guard !state.ended else { return (nil, nil) }
            let chunkStart = Double(state.deliveredSamples) * 1000 / rate
            if let alignment { match(alignment, from: chunkStart, in: &state) }
            state.deliveredSamples += samples.count
            let delivered = Double(state.deliveredSamples) * 1000 / rate
            let start = state.covered
            while state.pendingIndex < state.pending.count, state.pending[state.pendingIndex].time <= delivered {
                state.covered = max(state.covered, state.pending[state.pendingIndex].end)
                state.pendingIndex += 1
            }
            if isFinal { state.covered = state.agentCount }
            var firstAudio: Duration?
            if !samples.isEmpty {
                if !state.gotAudio, let first = state.firstTextAt { firstAudio = .now - first }
                state.gotAudio = true
                let unspoken = state.cursor < state.wireContentEnd
                state.deadline = state.finished || unspoken ? .now + synthesizer.configuration.chunkTimeout : nil
            }
            guard !samples.isEmpty || state.covered > start else { return (nil, firstAudio) }
            return (SynthesizedAudio(samples: samples, text: start..<state.covered), firstAudio)
        }
        if let firstAudio { synthesizer.metrics.recordFirstByte(firstAudio) }
        if let chunk { continuation.yield(chunk) }
        if isFinal {
            let ended = state.withLock { state in
                let was = state.ended
                state.ended = true
                return was
            }
            if !ended {
                continuation.finish()
                outgoingContinuation.finish()
            }
        }
        return isFinal
    }

    private typealias Alignment = (chars: [String], starts: [Double], durations: [Double])

    private static func alignment(_ value: Any?) throws(ProviderError) -> Alignment? {
        guard let value, !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any], let chars = object["chars"] as? [String],
            let starts = object["charStartTimesMs"] as? [NSNumber], let durations = object["charDurationsMs"] as? [NSNumber],
            starts.count == chars.count, durations.count == chars.count
        else { throw .malformed(provider: provider, detail: "an alignment whose arrays do not match") }
        return (chars, starts.map(\.doubleValue), durations.map(\.doubleValue))
    }

    /// Matches the alignment's characters to the text sent (the server may add spaces, and skips nothing else
    /// we rely on) and queues each space, and each word once its last character is matched, with the time its
    /// sound ends.
    private func match(_ alignment: Alignment, from chunkStart: Double, in state: inout State) {
        for (index, character) in alignment.chars.enumerated() {
            let scalars = Array(character.unicodeScalars)
            guard !scalars.isEmpty else { continue }
            let time = chunkStart + alignment.starts[index] + alignment.durations[index]
            if scalars.allSatisfy(\.properties.isWhitespace) {
                if state.cursor < state.wire.count, state.wire[state.cursor].properties.isWhitespace {
                    state.cursor += 1
                    state.pending.append((state.agentEnd[state.cursor - 1], time))
                }
                continue
            }
            var position = state.cursor
            var found: Int?
            while position + scalars.count <= state.wire.count, position <= state.cursor + 16 {
                if state.wire[position..<position + scalars.count].elementsEqual(scalars) {
                    found = position
                    break
                }
                position += 1
            }
            guard let found else { continue }
            state.cursor = found + scalars.count
            let wordEnd = max(state.wordEnd ?? time, time)
            if state.cursor == state.wire.count || state.wire[state.cursor].properties.isWhitespace {
                state.pending.append((state.agentEnd[state.cursor - 1], wordEnd))
                state.wordEnd = nil
            } else {
                state.wordEnd = wordEnd
            }
        }
    }

    private func decode(_ bytes: Data) throws(ProviderError) -> [Float] {
        switch synthesizer.configuration.outputFormat {
        case .ulaw8000:
            return bytes.map { Float(MuLaw.decode($0)) / 32768 }
        case .pcm16000, .pcm24000:
            guard bytes.count % 2 == 0 else {
                throw .malformed(provider: Self.provider, detail: "16-bit audio with an odd byte count (\(bytes.count))")
            }
            var samples: [Float] = []
            samples.reserveCapacity(bytes.count / 2)
            var index = bytes.startIndex
            while index < bytes.endIndex {
                let value = Int16(bitPattern: UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8)
                samples.append(Float(value) / 32768)
                index += 2
            }
            return samples
        }
    }
}
