//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdWebSocket
import NIOCore
import NIOWebSocket
import Synchronization
import VoiceDSP

/// ElevenLabs' single-context text-to-speech WebSocket (`/v1/text-to-speech/{voice_id}/stream-input`), as a
/// loopback stand-in.
///
/// It follows the service's rules: the key in the `xi-api-key` header (a refused handshake is answered with
/// 401 and ElevenLabs' `detail` body) or in the first message; the first message must be exactly `" "`; text
/// accumulates and no audio is made until the buffer reaches the first `chunk_length_schedule` threshold
/// (default 120 characters) unless a message asks for `flush` or `try_trigger_generation` (above a small
/// minimum) or the connection uses `auto_mode`; audio then comes in bursts of chunks, each with an `alignment`
/// whose times restart at 0 in every chunk and a `normalizedAlignment` that differs from the input; `{"text":""}`
/// speaks the rest, sends `{"isFinal":true}` and closes; a lone `" "` keeps the connection alive; the stand-in
/// closes with 1008 after `inactivity_timeout` seconds without text. Speech is ``StandInVoice`` rendered at the
/// requested `pcm_*`, `ulaw_8000` or `alaw_8000` format (samples quantised as `Int16(x * 32768)`, rounded).
public final class ElevenLabsStandIn: Sendable {
    /// What the stand-in accepts and how it behaves.
    public struct Configuration: Sendable {
        /// The only key it accepts.
        public var apiKey: String
        /// The voice ids it knows; any other is refused in-band (1008).
        public var voices: [String]
        /// `firstByte`: the delay before each generation's first chunk; `unitsPerSecond`: chunks per second
        /// within a burst (0: as fast as the loopback allows).
        public var timing: StandInTiming
        /// The audio in one message.
        public var chunkDuration: Duration
        /// The fewest buffered characters `try_trigger_generation` acts on.
        public var minimumTriggerCharacters: Int
        /// Faults applied to the next connections, one each, in order.
        public var faults: [StandInFault]

        /// Creates a configuration.
        public init(
            apiKey: String = "elevenlabs-stand-in-key", voices: [String] = ["stand-in-voice"], timing: StandInTiming = .immediate,
            chunkDuration: Duration = .milliseconds(250), minimumTriggerCharacters: Int = 50, faults: [StandInFault] = []
        ) {
            self.apiKey = apiKey
            self.voices = voices
            self.timing = timing
            self.chunkDuration = chunkDuration
            self.minimumTriggerCharacters = minimumTriggerCharacters
            self.faults = faults
        }
    }

    /// How a connection ended.
    public enum End: Sendable, Hashable {
        /// The stand-in sent `isFinal` after `{"text":""}` and closed normally.
        case completed
        /// The client closed the connection before the final message (a cancelled reply).
        case clientClosedMidStream
        /// The stand-in closed it with this code (1008 after an error message, 1011 for an injected drop).
        case closedByStandIn(code: Int, reason: String)
    }

    /// One WebSocket connection the stand-in accepted.
    public struct Connection: Sendable, Hashable {
        /// The voice id in the path.
        public var voiceID: String
        /// The query parameters.
        public var query: [String: String]
        /// Whether the `xi-api-key` header was present.
        public var keyInHeader: Bool
        /// Every text message received, verbatim, in order.
        public var messages: [String]
        /// The texts it generated audio for, one per generation, in order.
        public var generations: [String]
        /// How it ended (`nil` while open).
        public var end: End?
    }

    /// A handshake the stand-in refused (answered over HTTP).
    public struct Refusal: Sendable, Hashable {
        /// The status it answered.
        public var status: Int
        /// The voice id in the path.
        public var voiceID: String
    }

    private struct State {
        var faults: [StandInFault]
        var connections: [Connection] = []
        var refusals: [Refusal] = []
        /// The injected fault of the last refused upgrade, answered again to a plain GET that asks why.
        var pendingRefusal: StandInFault?
    }

    private let configuration: Configuration
    private let state: Mutex<State>

    /// The output formats ElevenLabs accepts.
    public static let outputFormats: Set<String> = [
        "mp3_22050_32", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192", "pcm_8000", "pcm_16000",
        "pcm_22050", "pcm_24000", "pcm_32000", "pcm_44100", "pcm_48000", "ulaw_8000", "alaw_8000", "opus_48000_32", "opus_48000_64",
        "opus_48000_96", "opus_48000_128", "opus_48000_192",
    ]

    /// ElevenLabs' default `chunk_length_schedule`.
    public static let defaultSchedule = [120, 160, 250, 290]

    /// Creates a stand-in.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.state = Mutex(State(faults: configuration.faults))
    }

    /// Starts a host with this stand-in alone.
    public static func start(configuration: Configuration = Configuration()) async throws -> (StandInHost, ElevenLabsStandIn) {
        let standIn = ElevenLabsStandIn(configuration: configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    /// Adds the WebSocket route and the `GET` that answers refused handshakes.
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        let path: RouterPath = "/v1/text-to-speech/:voice/stream-input"
        webSocket.ws(path) { request, _ in
            self.shouldUpgrade(request)
        } onUpgrade: { inbound, outbound, context in
            try await self.serve(request: context.request, inbound: inbound, outbound: outbound)
        }
        http.get(path) { request, _ in self.refuse(request) }
    }

    /// The connections accepted, in order.
    public var connections: [Connection] { state.withLock { $0.connections } }
    /// The handshakes refused, in order.
    public var refusals: [Refusal] { state.withLock { $0.refusals } }
    /// Queues a fault for the next connection.
    public func inject(_ fault: StandInFault) { state.withLock { $0.faults.append(fault) } }

    // MARK: - Handshake

    private static func isHandshakeFault(_ fault: StandInFault) -> Bool {
        switch fault {
        case .unauthorized, .rateLimited, .serverError: true
        case .malformedFrame, .dropMidStream, .stall: false
        }
    }

    private static let keyField = HTTPField.Name("xi-api-key")!

    /// The status a handshake refused for `fault` is answered with.
    private static func status(_ fault: StandInFault) -> Int {
        switch fault {
        case .unauthorized: 401
        case .rateLimited: 429
        case .serverError(let status): status
        case .malformedFrame, .dropMidStream, .stall: 426
        }
    }

    /// Decides the handshake; each refusal is recorded here, once, where it is decided (the `GET` route that
    /// answers it may also be asked again by the client).
    private func shouldUpgrade(_ request: Request) -> RouterShouldUpgrade {
        let voice = Self.voiceID(request.uri.path)
        if let key = request.headers[Self.keyField], key != configuration.apiKey {
            state.withLock { $0.refusals.append(Refusal(status: 401, voiceID: voice)) }
            return .dontUpgrade
        }
        return state.withLock { state in
            guard let fault = state.faults.first, Self.isHandshakeFault(fault) else {
                state.pendingRefusal = nil
                return .upgrade([:])
            }
            state.faults.removeFirst()
            state.pendingRefusal = fault
            state.refusals.append(Refusal(status: Self.status(fault), voiceID: voice))
            return .dontUpgrade
        }
    }

    private static func voiceID(_ path: String) -> String {
        let parts = path.split(separator: "/")
        return parts.count >= 3 ? String(parts[2]) : ""
    }

    /// Answers a refused handshake (and a plain `GET` asking why it was refused) as ElevenLabs does.
    private func refuse(_ request: Request) -> Response {
        let upgrading = request.headers[.upgrade] != nil
        let fault: StandInFault? = state.withLock { state in
            let fault = state.pendingRefusal
            if !upgrading { state.pendingRefusal = nil }
            return fault
        }
        func answer(_ status: Int, _ code: String, _ message: String, headers: HTTPFields = [:]) -> Response {
            var fields = headers
            fields[.contentType] = "application/json"
            let body = "{\"detail\":{\"status\":\"\(code)\",\"message\":\"\(message)\"}}"
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        switch fault {
        case .unauthorized: return answer(401, "invalid_api_key", "Invalid API key")
        case .rateLimited(let retryAfter):
            var headers: HTTPFields = [:]
            if let retryAfter {
                let (seconds, attoseconds) = retryAfter.components
                headers[HTTPField.Name("retry-after")!] = String(seconds + (attoseconds > 0 ? 1 : 0))
            }
            return answer(429, "too_many_concurrent_requests", "Too many concurrent requests for your subscription.", headers: headers)
        case .serverError(let status): return answer(status, "internal_server_error", "An internal server error occurred.")
        case .malformedFrame, .dropMidStream, .stall, nil: break
        }
        if let key = request.headers[Self.keyField], key != configuration.apiKey {
            return answer(401, "invalid_api_key", "Invalid API key")
        }
        return answer(426, "upgrade_required", "This endpoint only accepts WebSocket connections.")
    }

    // MARK: - Session

    /// Why the stand-in ends a session with an error message and close 1008.
    private struct Refused: Error {
        var code: String
        var message: String
    }

    /// A piece of work for the task that writes audio.
    private enum Job: Sendable {
        case generate(String)
        case final
    }

    private func serve(request: Request, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        let headerKey = request.headers[Self.keyField]
        let index = state.withLock { state in
            state.connections.append(
                Connection(
                    voiceID: Self.voiceID(request.uri.path), query: query, keyInHeader: headerKey != nil, messages: [], generations: [],
                    end: nil))
            return state.connections.count - 1
        }
        let fault: StandInFault? = state.withLock { state in
            guard let fault = state.faults.first, !Self.isHandshakeFault(fault) else { return nil }
            state.faults.removeFirst()
            return fault
        }
        let session = Session(
            standIn: self, index: index, query: query, headerKey: headerKey, fault: fault, inbound: inbound, outbound: outbound)
        let end = await session.run()
        state.withLock { $0.connections[index].end = end }
        if case .closedByStandIn(let code, let reason) = end {
            if code == 1011 { throw Dropped() }
            try? await outbound.close(.init(codeNumber: code), reason: reason)
        }
    }

    /// When the client last sent text.
    private final class LastText: Sendable {
        let value = Mutex(ContinuousClock.now)
    }

    /// Whether the writer has sent (or is sending) the final message.
    private final class FinalSent: Sendable {
        let value = Mutex(false)
    }

    /// Thrown to make the server close the connection with 1011, as if it had failed mid-stream.
    private struct Dropped: Error {}

    fileprivate func record(_ index: Int, message: String) { state.withLock { $0.connections[index].messages.append(message) } }
    fileprivate func record(_ index: Int, generation: String) { state.withLock { $0.connections[index].generations.append(generation) } }

    /// One connection's state machine.
    private struct Session {
        let standIn: ElevenLabsStandIn
        let index: Int
        let query: [String: String]
        let headerKey: String?
        let fault: StandInFault?
        let inbound: WebSocketInboundStream
        let outbound: WebSocketOutboundWriter

        var configuration: Configuration { standIn.configuration }

        /// Runs the session; returns how it ended.
        func run() async -> End {
            let (jobs, jobContinuation) = AsyncStream.makeStream(of: Job.self)
            let lastText = LastText()
            let finalSent = FinalSent()
            let inactivity = Duration.seconds(Int(query["inactivity_timeout"] ?? "") ?? 20)
            return await withTaskGroup(of: End?.self) { group in
                group.addTask { await speak(jobs, finalSent: finalSent) }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(50))
                        if lastText.value.withLock({ ContinuousClock.now - $0 }) > inactivity {
                            let seconds = inactivity.components.seconds
                            let refused = Refused(
                                code: "input_timeout_exceeded",
                                message: "Have not received new text for \(seconds) seconds. Closing connection.")
                            await sendError(refused)
                            return .closedByStandIn(code: 1008, reason: refused.message)
                        }
                    }
                    return nil
                }
                group.addTask {
                    do {
                        try await receive(jobs: jobContinuation, lastText: lastText)
                        // The client closed; after the final message that is the writer's to report.
                        return finalSent.value.withLock { $0 } ? nil : .clientClosedMidStream
                    } catch let refused as Refused {
                        await sendError(refused)
                        return .closedByStandIn(code: 1008, reason: refused.message)
                    } catch {
                        return finalSent.value.withLock { $0 } ? nil : .clientClosedMidStream
                    }
                }
                var end: End?
                // The first task to decide the end wins: the writer (completed, drop), the receiver (client
                // closed, error) or the inactivity watch; a receiver that sees the client close after the final
                // message returns nil and leaves it to the writer.
                while let result = await group.next() {
                    if let result {
                        end = result
                        break
                    }
                }
                jobContinuation.finish()
                group.cancelAll()
                return end ?? .clientClosedMidStream
            }
        }

        private func sendError(_ refused: Refused) async {
            let object: [String: Any] = ["message": refused.message, "error": refused.code, "code": 1008]
            if let text = Self.json(object) { try? await outbound.write(.text(text)) }
        }

        static func json(_ object: [String: Any]) -> String? {
            guard let data = try? JSONSerialization.data(withJSONObject: object) else { return nil }
            return String(decoding: data, as: UTF8.self)
        }

        /// Reads the client's messages until it closes (after `{"text":""}` it only watches for the close).
        private func receive(jobs: AsyncStream<Job>.Continuation, lastText: LastText) async throws {
            var initialized = false
            var buffer = ""
            var schedule = ElevenLabsStandIn.defaultSchedule
            var step = 0
            var closing = false
            let autoMode = query["auto_mode"] == "true"
            for try await message in inbound.messages(maxSize: 1 << 20) {
                guard case .text(let text) = message else {
                    throw Refused(code: "invalid_message", message: "Only text messages are accepted.")
                }
                standIn.record(index, message: text)
                if closing { continue }
                guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
                else {
                    throw Refused(code: "invalid_message", message: "Invalid JSON message.")
                }
                guard let piece = object["text"] as? String else {
                    throw Refused(code: "invalid_message", message: "Field 'text' is required.")
                }
                if !initialized {
                    try checkFirst(object, piece: piece)
                    if let generation = object["generation_config"] as? [String: Any], let given = generation["chunk_length_schedule"] {
                        guard let values = given as? [Int], !values.isEmpty, values.allSatisfy({ (50...500).contains($0) }) else {
                            throw Refused(
                                code: "invalid_request", message: "chunk_length_schedule values must be between 50 and 500.")
                        }
                        schedule = values
                    }
                    initialized = true
                    lastText.value.withLock { $0 = ContinuousClock.now }
                    continue
                }
                if piece.isEmpty {
                    lastText.value.withLock { $0 = ContinuousClock.now + .seconds(3600) }  // no more text is due
                    let rest = buffer
                    if rest.contains(where: { !$0.isWhitespace }) { jobs.yield(.generate(rest)) }
                    jobs.yield(.final)
                    jobs.finish()
                    closing = true
                    continue
                }
                lastText.value.withLock { $0 = ContinuousClock.now }
                if piece == " " { continue }  // keep-alive
                buffer += piece
                let count = buffer.unicodeScalars.count
                let flush = object["flush"] as? Bool == true
                let trigger = object["try_trigger_generation"] as? Bool == true && count >= configuration.minimumTriggerCharacters
                let sentence = autoMode && buffer.trimmingCharacters(in: .whitespaces).last.map { ".!?".contains($0) } == true
                if flush || trigger || sentence || (!autoMode && count >= schedule[step]) {
                    if buffer.contains(where: { !$0.isWhitespace }) { jobs.yield(.generate(buffer)) }
                    buffer = ""
                    step = min(step + 1, schedule.count - 1)
                }
            }
        }

        private func checkFirst(_ object: [String: Any], piece: String) throws {
            let key = headerKey ?? (object["xi-api-key"] as? String)
            guard key == configuration.apiKey else {
                throw Refused(code: "invalid_api_key", message: "Invalid API key")
            }
            let voice = standIn.state.withLock { $0.connections[index].voiceID }
            guard configuration.voices.contains(voice) else {
                throw Refused(code: "voice_not_found", message: "A voice with voice_id \(voice) does not exist.")
            }
            let format = query["output_format"] ?? "mp3_44100_128"
            guard ElevenLabsStandIn.outputFormats.contains(format) else {
                throw Refused(code: "invalid_output_format", message: "Invalid output format: \(format).")
            }
            guard Self.encoding(format) != nil else {
                throw Refused(code: "unsupported_output_format", message: "The stand-in renders only pcm_*, ulaw_8000 and alaw_8000.")
            }
            guard piece == " " else {
                throw Refused(code: "invalid_request", message: "The first message must have text set to a single space.")
            }
        }

        enum Encoding {
            case pcm(Int)
            case ulaw
            case alaw

            var sampleRate: Int {
                switch self {
                case .pcm(let rate): rate
                case .ulaw, .alaw: 8000
                }
            }
        }

        static func encoding(_ format: String) -> Encoding? {
            if format == "ulaw_8000" { return .ulaw }
            if format == "alaw_8000" { return .alaw }
            if format.hasPrefix("pcm_"), let rate = Int(format.dropFirst(4)) { return .pcm(rate) }
            return nil
        }

        /// Writes the audio of each generation; returns how the session ends (nil: the client went away, or a
        /// stalled session that leaves the end to the client).
        private func speak(_ jobs: AsyncStream<Job>, finalSent: FinalSent) async -> End? {
            let encoding = Self.encoding(query["output_format"] ?? "mp3_44100_128") ?? .ulaw
            var sentAudio = false
            for await job in jobs {
                switch job {
                case .final:
                    if fault == .stall { return nil }  // silent to the end, the connection left open
                    finalSent.value.withLock { $0 = true }
                    let final = "{\"audio\":null,\"isFinal\":true,\"normalizedAlignment\":null,\"alignment\":null}"
                    do { try await outbound.write(.text(final)) } catch { return .clientClosedMidStream }
                    return .completed
                case .generate(let text):
                    standIn.record(index, generation: text)
                    if fault == .stall { continue }
                    // Due `firstByte` after the text came, the rendering included.
                    let due = ContinuousClock.now + configuration.timing.firstByte
                    let messages = Self.messages(for: text, encoding: encoding, chunk: configuration.chunkDuration)
                    try? await Task.sleep(until: due)
                    for message in messages {
                        if Task.isCancelled { return nil }
                        if sentAudio, fault == .dropMidStream { return .closedByStandIn(code: 1011, reason: "dropped") }
                        let frame = sentAudio || fault != .malformedFrame ? message : "{\"audio\":\"%%not base64%%\",\"isFinal\":"
                        do { try await outbound.write(.text(frame)) } catch { return nil }
                        sentAudio = true
                        if configuration.timing.interval > .zero { try? await Task.sleep(for: configuration.timing.interval) }
                    }
                }
            }
            return nil
        }

        /// The audio messages of one generation: ``StandInVoice`` audio cut into chunks, each with alignment
        /// times relative to the chunk.
        static func messages(for text: String, encoding: Encoding, chunk: Duration) -> [String] {
            let rate = encoding.sampleRate
            let (samples, words) = StandInVoice.render(text, sampleRate: rate)
            let scalars = Array(text.unicodeScalars)
            // Each character's start and duration in ms: a word's letters share its sound; the spaces after it
            // share the pause that follows.
            var starts = [Double](repeating: 0, count: scalars.count)
            var durations = [Double](repeating: 0, count: scalars.count)
            let total = Double(samples.count) * 1000 / Double(rate)
            for (n, word) in words.enumerated() {
                let count = word.characters.count
                let step = (word.end - word.start) * 1000 / Double(count)
                for (k, i) in word.characters.enumerated() {
                    starts[i] = word.start * 1000 + Double(k) * step
                    durations[i] = step
                }
                let gapEnd = n + 1 < words.count ? words[n + 1].characters.lowerBound : scalars.count
                let gap = word.characters.upperBound..<gapEnd
                let pauseEnd = n + 1 < words.count ? words[n + 1].start * 1000 : total
                let pauseStep = gap.isEmpty ? 0 : (pauseEnd - word.end * 1000) / Double(gap.count)
                for (k, i) in gap.enumerated() {
                    starts[i] = word.end * 1000 + Double(k) * pauseStep
                    durations[i] = pauseStep
                }
            }
            let (seconds, attoseconds) = chunk.components
            let chunkSamples = max(1, Int((Double(seconds) + Double(attoseconds) / 1e18) * Double(rate)))
            var messages: [String] = []
            var next = 0
            var offset = 0
            while offset < samples.count || next < scalars.count {
                let end = min(samples.count, offset + chunkSamples)
                let chunkStart = Double(offset) * 1000 / Double(rate)
                let chunkEnd = end >= samples.count ? Double.infinity : Double(end) * 1000 / Double(rate)
                var chars: [String] = []
                var charStarts: [Int] = []
                var charDurations: [Int] = []
                while next < scalars.count, starts[next] < chunkEnd {
                    chars.append(String(scalars[next]))
                    // Whole milliseconds, the end rounded up: a character never seems to end before its sound.
                    let start = Int((starts[next] - chunkStart).rounded())
                    let end = Int((starts[next] + durations[next] - chunkStart).rounded(.up))
                    charStarts.append(start)
                    charDurations.append(max(0, end - start))
                    next += 1
                }
                let audio = Self.encode(samples[offset..<end], encoding)
                // The normaliser's text: a leading space, then lowercase letters and digits spelt out.
                let normalized = chars.isEmpty ? [] : [" "] + chars.map { Self.normalize($0) }
                let normalizedStarts = chars.isEmpty ? [] : [0] + charStarts
                let normalizedDurations = chars.isEmpty ? [] : [0] + charDurations
                let object: [String: Any] = [
                    "audio": audio.base64EncodedString(),
                    "alignment": ["chars": chars, "charStartTimesMs": charStarts, "charDurationsMs": charDurations],
                    "normalizedAlignment": [
                        "chars": normalized.flatMap { $0.map(String.init) },
                        "charStartTimesMs": zip(normalized, normalizedStarts).flatMap { Array(repeating: $1, count: $0.count) },
                        "charDurationsMs": zip(normalized, normalizedDurations).flatMap { Array(repeating: $1, count: $0.count) },
                    ],
                ]
                if let message = json(object) { messages.append(message) }
                offset = end
                if end >= samples.count { break }
            }
            return messages
        }

        /// What the normaliser makes of one character: lowercase letters, digits spelt out.
        static func normalize(_ character: String) -> String {
            let digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
            if let digit = Int(character), (0...9).contains(digit), character.count == 1 { return digits[digit] }
            return character.lowercased()
        }

        static func encode(_ samples: ArraySlice<Float>, _ encoding: Encoding) -> Data {
            var bytes: [UInt8] = []
            for sample in samples {
                let value = Int16(clamping: Int((Double(sample) * 32768).rounded()))
                switch encoding {
                case .ulaw: bytes.append(MuLaw.encode(value))
                case .alaw: bytes.append(ALaw.encode(value))
                case .pcm:
                    bytes.append(UInt8(truncatingIfNeeded: value))
                    bytes.append(UInt8(truncatingIfNeeded: value >> 8))
                }
            }
            return Data(bytes)
        }
    }
}
