//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdWebSocket
import NIOCore
import Synchronization
import VoiceDSP

/// Cartesia's TTS WebSocket (`/tts/websocket`) on loopback, with contexts as Cartesia documents them.
///
/// The handshake needs the key (`X-API-Key`, or `Authorization: Bearer`) and a version (`Cartesia-Version`
/// header or `cartesia_version` query, the query winning); otherwise it is refused with 401 or 400, and a
/// `GET` on the same path (the client asking why) answers with the same status and body.
///
/// Each generation request appends its `transcript` verbatim to its context. While `continue` is true only
/// complete sentences are spoken, the rest waiting up to `max_buffer_delay_ms` (3000 by default; 0 speaks
/// every input at once); `flush` or `continue: false` speaks everything, and `continue: false` ends with
/// `done`. Audio is ``StandInVoice``'s rendering of each spoken segment at the requested encoding and rate,
/// in `chunk` messages of ``Configuration/chunkMilliseconds``, each followed by a `timestamps` message for
/// the words that end inside it (seconds from the start of the context's audio). A context's fields other
/// than `transcript`/`continue` must not change; an input to a context that ended more than
/// ``Configuration/contextExpiry`` ago is an error, sent in the shape of the requested version (2026:
/// `title`, `message`, `error_code`…; before 2025: `error` as one string).
///
/// Faults: `unauthorized`, `rateLimited`, `serverError` refuse the next handshake; `malformedFrame`,
/// `dropMidStream` and `stall` apply to the next connection after its first audio chunk (a drop ends the
/// connection with close code 1011 and no `done`: the server API gives no raw socket to cut).
public final class CartesiaStandIn: Sendable {
    /// The stand-in's settings.
    public struct Configuration: Sendable {
        /// The key a handshake must carry.
        public var apiKey: String
        /// `firstByte`: the wait before a context's first chunk; `unitsPerSecond`: chunks per second (0: as fast
        /// as the loopback allows).
        public var timing: StandInTiming
        /// The audio in each chunk, in milliseconds.
        public var chunkMilliseconds: Int
        /// How long after its `done` a context still takes input.
        public var contextExpiry: Duration
        /// Faults for the next connections, one per connection, in order.
        public var faults: [StandInFault]

        /// Creates a configuration.
        public init(
            apiKey: String = "sk_car_stand-in", timing: StandInTiming = .immediate, chunkMilliseconds: Int = 100,
            contextExpiry: Duration = .seconds(1), faults: [StandInFault] = []
        ) {
            self.apiKey = apiKey
            self.timing = timing
            self.chunkMilliseconds = max(1, chunkMilliseconds)
            self.contextExpiry = contextExpiry
            self.faults = faults
        }
    }

    /// A message received on a connection.
    public struct ReceivedMessage: Sendable, Hashable {
        /// The text frame as received.
        public var text: String
        /// Its `context_id`.
        public var contextID: String?
        /// Its `transcript`.
        public var transcript: String?
        /// Its `continue`.
        public var continues: Bool?
        /// Whether it is a cancel.
        public var isCancel: Bool
    }

    /// A connection accepted.
    public struct Connection: Sendable, Hashable {
        /// The `Cartesia-Version` in effect.
        public var version: String
        /// Whether the key came as `X-API-Key` (else `Authorization: Bearer`).
        public var usedAPIKeyHeader: Bool
        /// Whether it has ended.
        public var ended: Bool
        /// Whether the client closed it (as opposed to the stand-in, by a fault).
        public var closedByClient: Bool
    }

    private struct State {
        var faults: [StandInFault]
        var pendingRefusal: StandInFault?
        var refusals: [Int] = []
        var connections: [Connection] = []
        var messages: [String: [ReceivedMessage]] = [:]
        var allMessages: [ReceivedMessage] = []
        var cancels: [String] = []
    }

    private let configuration: Configuration
    private let state: Mutex<State>

    /// Creates a stand-in; mount it with ``register(http:webSocket:)``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        state = Mutex(State(faults: configuration.faults))
    }

    /// Starts a ``StandInHost`` with just this stand-in.
    public static func start(configuration: Configuration = Configuration()) async throws -> (StandInHost, CartesiaStandIn) {
        let standIn = CartesiaStandIn(configuration: configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    /// Adds the WebSocket route `/tts/websocket` and the `GET` that explains refused handshakes.
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        webSocket.ws("/tts/websocket") { request, _ in
            self.shouldUpgrade(request)
        } onUpgrade: { inbound, outbound, context in
            try await self.serve(request: context.request, inbound: inbound, outbound: outbound)
        }
        http.get("/tts/websocket") { request, _ in self.refuse(request) }
    }

    /// The messages received, by context id, in order.
    public var messages: [String: [ReceivedMessage]] { state.withLock { $0.messages } }
    /// Every message received, in order.
    public var allMessages: [ReceivedMessage] { state.withLock { $0.allMessages } }
    /// The context ids cancelled, in order.
    public var cancels: [String] { state.withLock { $0.cancels } }
    /// The connections accepted, in order.
    public var connections: [Connection] { state.withLock { $0.connections } }
    /// The statuses of the WebSocket handshakes refused, in order (a plain `GET` asking why is not counted).
    public var refusals: [Int] { state.withLock { $0.refusals } }
    /// Queues faults for the next connections.
    public func inject(_ faults: [StandInFault]) { state.withLock { $0.faults.append(contentsOf: faults) } }

    // MARK: - Handshake

    private static let apiKeyField = HTTPField.Name("X-API-Key")!
    private static let versionField = HTTPField.Name("Cartesia-Version")!

    private static func query(_ request: Request, _ name: String) -> String? {
        request.uri.queryParameters[Substring(name)].map(String.init)
    }

    private static func version(_ request: Request) -> String? {
        let version = query(request, "cartesia_version") ?? request.headers[versionField]
        return version.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The key presented and whether it came as `X-API-Key`.
    private static func key(_ request: Request) -> (key: String, header: Bool)? {
        if let key = request.headers[apiKeyField] { return (key, true) }
        if let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") {
            return (String(authorization.dropFirst("Bearer ".count)), false)
        }
        if let key = query(request, "api_key") { return (key, false) }
        return nil
    }

    /// Why a handshake is refused for its credentials or version: (status, message), or nil.
    private func credentialProblem(_ request: Request) -> (Int, String)? {
        guard let key = Self.key(request), key.key == configuration.apiKey else {
            return (401, "Invalid API key. Please check your API key and try again.")
        }
        guard Self.version(request) != nil else {
            return (400, "Cartesia-Version header or cartesia_version query parameter is required.")
        }
        return nil
    }

    private static func isHandshakeFault(_ fault: StandInFault) -> Bool {
        switch fault {
        case .unauthorized, .rateLimited, .serverError: true
        case .malformedFrame, .dropMidStream, .stall: false
        }
    }

    /// The status a handshake fault refuses with.
    private static func refusalStatus(_ fault: StandInFault) -> Int {
        switch fault {
        case .unauthorized: 401
        case .rateLimited: 429
        case .serverError(let status): status
        case .malformedFrame, .dropMidStream, .stall: 400
        }
    }

    /// Decides the handshake and records a refusal here: Hummingbird answers a refused upgrade itself
    /// (without consulting the HTTP router), so the status and body come from ``refuse(_:)`` only when the
    /// client asks again with a plain `GET`.
    private func shouldUpgrade(_ request: Request) -> RouterShouldUpgrade {
        if let (status, _) = credentialProblem(request) {
            state.withLock { $0.refusals.append(status) }
            return .dontUpgrade
        }
        return state.withLock { state in
            guard let fault = state.faults.first, Self.isHandshakeFault(fault) else {
                state.pendingRefusal = nil
                return .upgrade([:])
            }
            state.faults.removeFirst()
            state.pendingRefusal = fault
            state.refusals.append(Self.refusalStatus(fault))
            return .dontUpgrade
        }
    }

    /// Answers a plain `GET` asking why a handshake was refused (and any other `GET` on the path).
    private func refuse(_ request: Request) -> Response {
        let upgrading = request.headers[.upgrade] != nil
        let fault = state.withLock { state in
            let fault = state.pendingRefusal
            if !upgrading { state.pendingRefusal = nil }
            return fault
        }
        func answer(_ status: Int, _ title: String, _ message: String, headers: HTTPFields = [:]) -> Response {
            var fields = headers
            fields[.contentType] = "application/json"
            let body: [String: Any] = [
                "title": title, "message": message, "error_code": title.lowercased().replacingOccurrences(of: " ", with: "_"),
                "status_code": status, "request_id": "req_standin", "doc_url": "https://docs.cartesia.ai/api-reference/tts/websocket",
            ]
            let data = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])) ?? Data()
            return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        if let (status, message) = credentialProblem(request) {
            return answer(status, status == 401 ? "Unauthorized" : "Bad Request", message)
        }
        switch fault {
        case .unauthorized: return answer(401, "Unauthorized", "Invalid API key. Please check your API key and try again.")
        case .rateLimited(let retryAfter):
            var headers: HTTPFields = [:]
            if let retryAfter {
                let (seconds, attoseconds) = retryAfter.components
                headers[HTTPField.Name("retry-after")!] = String(seconds + (attoseconds > 0 ? 1 : 0))
            }
            return answer(429, "Too Many Requests", "You have reached the concurrency limit of your plan.", headers: headers)
        case .serverError(let status): return answer(status, "Internal Server Error", "An internal error occurred.")
        case .malformedFrame, .dropMidStream, .stall, nil:
            return answer(400, "Bad Request", "Expected a WebSocket upgrade.")
        }
    }

    // MARK: - Connection

    /// Ends the connection in the handler (Hummingbird then closes it with 1011).
    private struct Dropped: Error {}

    private func serve(request: Request, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        let version = Self.version(request) ?? ""
        let usedHeader = Self.key(request)?.header ?? false
        let (index, fault) = state.withLock { state -> (Int, StandInFault?) in
            state.connections.append(Connection(version: version, usedAPIKeyHeader: usedHeader, ended: false, closedByClient: false))
            let fault = state.faults.first.flatMap { Self.isHandshakeFault($0) ? nil : $0 }
            if fault != nil { state.faults.removeFirst() }
            return (state.connections.count - 1, fault)
        }
        let (outgoing, output) = AsyncStream.makeStream(of: CartesiaStandInOutgoing.self)
        let session = Session(standIn: self, configuration: configuration, version: version, fault: fault, output: output)
        var closedByClient = false
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for await item in outgoing {
                        switch item {
                        case .text(let text): try await outbound.write(.text(text))
                        case .drop: throw Dropped()
                        }
                    }
                    return false
                }
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { session.receive(text) }
                    }
                    return true
                }
                closedByClient = try await group.next() ?? false
                group.cancelAll()
            }
        } catch {
            session.stop()
            end(index, byClient: false)
            throw error
        }
        session.stop()
        end(index, byClient: closedByClient)
    }

    private func end(_ index: Int, byClient: Bool) {
        state.withLock { state in
            state.connections[index].ended = true
            state.connections[index].closedByClient = byClient
        }
    }

    fileprivate func record(_ message: ReceivedMessage) {
        state.withLock { state in
            state.allMessages.append(message)
            if let id = message.contextID { state.messages[id, default: []].append(message) }
            if message.isCancel, let id = message.contextID { state.cancels.append(id) }
        }
    }

    /// The bytes of `samples` in `encoding`.
    static func encode(_ samples: [Float], encoding: String) -> [UInt8] {
        func int16(_ sample: Float) -> Int16 { Int16(clamping: Int((Double(sample) * 32767).rounded())) }
        switch encoding {
        case "pcm_mulaw": return samples.map { MuLaw.encode(int16($0)) }
        case "pcm_alaw": return samples.map { ALaw.encode(int16($0)) }
        case "pcm_f32le":
            return samples.flatMap { sample -> [UInt8] in
                let bits = sample.bitPattern
                return [UInt8(bits & 0xff), UInt8(bits >> 8 & 0xff), UInt8(bits >> 16 & 0xff), UInt8(bits >> 24)]
            }
        default:
            return samples.flatMap { sample -> [UInt8] in
                let bits = UInt16(bitPattern: int16(sample))
                return [UInt8(bits & 0xff), UInt8(bits >> 8)]
            }
        }
    }

    static func bytesPerSample(_ encoding: String) -> Int {
        switch encoding {
        case "pcm_mulaw", "pcm_alaw": 1
        case "pcm_f32le": 4
        default: 2
        }
    }
}

/// What a connection's writer sends.
private enum CartesiaStandInOutgoing: Sendable {
    case text(String)
    case drop
}

/// One connection's contexts.
private final class Session: Sendable {
    struct Context {
        /// The request's fields other than `transcript`/`continue`, to compare later inputs with.
        var fields: String
        var events: AsyncStream<Event>.Continuation
        var task: Task<Void, Never>?
        var endedAt: ContinuousClock.Instant?
        var failed = false
        var cancelled = false
    }

    enum Event: Sendable {
        case input(transcript: String, continues: Bool, flush: Bool)
        case timer(generation: Int)
    }

    /// What a context speaks with.
    struct Voice: Sendable {
        var encoding: String
        var sampleRate: Int
        var maxBufferDelay: Int
    }

    private let standIn: CartesiaStandIn
    private let configuration: CartesiaStandIn.Configuration
    private let version: String
    private let output: AsyncStream<CartesiaStandInOutgoing>.Continuation
    private let contexts = Mutex<[String: Context]>([:])
    private let fault: Mutex<StandInFault?>
    private let stalled = Atomic<Bool>(false)

    static let encodings: Set<String> = ["pcm_f32le", "pcm_s16le", "pcm_mulaw", "pcm_alaw"]
    static let sampleRates: Set<Int> = [8000, 16000, 22050, 24000, 44100, 48000]

    init(
        standIn: CartesiaStandIn, configuration: CartesiaStandIn.Configuration, version: String, fault: StandInFault?,
        output: AsyncStream<CartesiaStandInOutgoing>.Continuation
    ) {
        self.standIn = standIn
        self.configuration = configuration
        self.version = version
        self.fault = Mutex(fault)
        self.output = output
    }

    /// Stops every context (the connection ended).
    func stop() {
        let all = contexts.withLock { contexts in
            defer { contexts = [:] }
            return Array(contexts.values)
        }
        for context in all {
            context.events.finish()
            context.task?.cancel()
        }
        output.finish()
    }

    private func send(_ object: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        output.yield(.text(String(decoding: data, as: UTF8.self)))
    }

    private func sendError(_ contextID: String?, title: String, message: String, code: String, status: Int = 400) {
        var object: [String: Any] = ["type": "error", "done": true, "status_code": status]
        if let contextID { object["context_id"] = contextID }
        if version < "2025" {
            object["error"] = message
        } else {
            object["title"] = title
            object["message"] = message
            object["error_code"] = code
            object["doc_url"] = "https://docs.cartesia.ai/api-reference/tts/websocket"
            object["request_id"] = "req_standin_\(UInt32.random(in: 0...UInt32.max))"
        }
        send(object)
        if let contextID {
            let stopped = contexts.withLock { contexts -> Context? in
                contexts[contextID]?.failed = true
                return contexts[contextID]
            }
            stopped?.task?.cancel()
        }
    }

    /// Handles one text frame from the client.
    func receive(_ text: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            standIn.record(.init(text: text, contextID: nil, transcript: nil, continues: nil, isCancel: false))
            sendError(nil, title: "Invalid request", message: "The message is not valid JSON.", code: "invalid_json")
            return
        }
        let contextID = object["context_id"] as? String
        let isCancel = object["cancel"] as? Bool == true
        standIn.record(
            .init(
                text: text, contextID: contextID, transcript: object["transcript"] as? String, continues: object["continue"] as? Bool,
                isCancel: isCancel))
        if isCancel {
            guard let contextID else { return }
            let cancelled = contexts.withLock { contexts -> Context? in
                guard var context = contexts[contextID] else { return nil }
                context.cancelled = true
                context.endedAt = context.endedAt ?? .now
                contexts[contextID] = context
                return context
            }
            cancelled?.events.finish()
            cancelled?.task?.cancel()
            return
        }
        guard let contextID, !contextID.isEmpty else {
            sendError(nil, title: "Invalid request", message: "context_id is required.", code: "invalid_request")
            return
        }
        if let problem = Self.validate(object) {
            sendError(contextID, title: "Invalid request", message: problem, code: "invalid_request")
            return
        }
        let transcript = object["transcript"] as? String ?? ""
        let continues = object["continue"] as? Bool ?? false
        let flush = object["flush"] as? Bool ?? false
        var fields = object
        fields["transcript"] = nil
        fields["continue"] = nil
        let fieldSet =
            (try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])).map { String(decoding: $0, as: UTF8.self) } ?? ""

        let format = object["output_format"] as? [String: Any] ?? [:]
        let voice = Voice(
            encoding: format["encoding"] as? String ?? "pcm_s16le", sampleRate: format["sample_rate"] as? Int ?? 24000,
            maxBufferDelay: object["max_buffer_delay_ms"] as? Int ?? 3000)
        let expiry = configuration.contextExpiry
        enum Outcome {
            case accepted, expired, changed, ignored
            case started(AsyncStream<Event>, AsyncStream<Event>.Continuation)
        }
        let outcome = contexts.withLock { contexts -> Outcome in
            if let context = contexts[contextID] {
                if context.failed { return .expired }
                if let ended = context.endedAt, ContinuousClock.now - ended > expiry { return .expired }
                if context.cancelled { return .ignored }
                guard context.fields == fieldSet else { return .changed }
                context.events.yield(.input(transcript: transcript, continues: continues, flush: flush))
                contexts[contextID]?.endedAt = nil
                return .accepted
            }
            let (events, continuation) = AsyncStream.makeStream(of: Event.self)
            continuation.yield(.input(transcript: transcript, continues: continues, flush: flush))
            contexts[contextID] = Context(fields: fieldSet, events: continuation, task: nil)
            return .started(events, continuation)
        }
        switch outcome {
        case .accepted, .ignored: break
        case .started(let events, let continuation):
            let task = Task { await self.run(contextID, voice: voice, events: events, continuation: continuation) }
            let cancelled = contexts.withLock { contexts -> Bool in
                contexts[contextID]?.task = task
                return contexts[contextID].map { $0.cancelled || $0.failed } ?? true
            }
            if cancelled { task.cancel() }
        case .expired:
            sendError(
                contextID, title: "Context expired", message: "Context \(contextID) has expired or is no longer valid.",
                code: "context_expired")
        case .changed:
            sendError(
                contextID, title: "Invalid request",
                message: "All fields except transcript and continue must stay the same within a context.",
                code: "context_fields_changed")
        }
    }

    private static func validate(_ object: [String: Any]) -> String? {
        guard let model = object["model_id"] as? String else { return "model_id is required." }
        guard model.hasPrefix("sonic") else { return "Invalid model_id: \(model) is not a Cartesia TTS model." }
        guard object["transcript"] is String else { return "transcript is required." }
        switch object["voice"] {
        case let voice as [String: Any]:
            guard let id = voice["id"] as? String, !id.isEmpty else { return "voice.id is required." }
            if let mode = voice["mode"] as? String, mode != "id" { return "voice.mode must be \"id\"." }
        case let id as String where !id.isEmpty: break
        default: return "voice is required."
        }
        guard let format = object["output_format"] as? [String: Any] else { return "output_format is required." }
        guard format["container"] as? String == "raw" else { return "output_format.container must be \"raw\" on the WebSocket." }
        guard let encoding = format["encoding"] as? String, encodings.contains(encoding) else {
            return "output_format.encoding must be one of pcm_f32le, pcm_s16le, pcm_mulaw, pcm_alaw."
        }
        guard let rate = format["sample_rate"] as? Int, sampleRates.contains(rate) else {
            return "output_format.sample_rate must be one of 8000, 16000, 22050, 24000, 44100, 48000."
        }
        if let delay = object["max_buffer_delay_ms"] {
            guard let value = delay as? Int, (0...5000).contains(value) else { return "max_buffer_delay_ms must be 0-5000." }
        }
        if let value = object["continue"], !(value is Bool) { return "continue must be a boolean." }
        return nil
    }

    /// The end of the last complete sentence in `text` (after its terminator), or nil.
    private static func lastSentenceEnd(_ text: [Unicode.Scalar]) -> Int? {
        var end: Int?
        for index in text.indices where ".!?".unicodeScalars.contains(text[index]) {
            if index + 1 == text.count || text[index + 1].properties.isWhitespace { end = index + 1 }
        }
        return end
    }

    /// Speaks one context: its inputs, in order.
    private func run(
        _ id: String, voice: Voice, events: AsyncStream<Event>, continuation: AsyncStream<Event>.Continuation
    ) async {
        var buffer: [Unicode.Scalar] = []
        var audioSeconds = 0.0
        var first = true
        var generation = 0
        var flushes = 0
        func speakAll() async throws {
            let text = String(String.UnicodeScalarView(buffer))
            buffer = []
            try await speak(text, id: id, voice: voice, first: &first, audioSeconds: &audioSeconds)
        }
        do {
            for await event in events {
                switch event {
                case .input(let transcript, let continues, let flush):
                    buffer.append(contentsOf: transcript.unicodeScalars)
                    generation += 1
                    if !continues {
                        try await speakAll()
                        send(["type": "done", "done": true, "status_code": 206, "context_id": id])
                        contexts.withLock { $0[id]?.endedAt = .now }
                    } else if flush {
                        try await speakAll()
                        flushes += 1
                        send([
                            "type": "flush_done", "done": false, "flush_done": true, "flush_id": flushes, "status_code": 206,
                            "context_id": id,
                        ])
                    } else if voice.maxBufferDelay == 0 {
                        try await speakAll()
                    } else {
                        if let end = Self.lastSentenceEnd(buffer) {
                            let rest = Array(buffer[end...])
                            buffer = Array(buffer[..<end])
                            try await speakAll()
                            buffer = rest
                        }
                        if !buffer.isEmpty {
                            let current = generation
                            let delay = Duration.milliseconds(voice.maxBufferDelay)
                            Task {
                                try? await Task.sleep(for: delay)
                                continuation.yield(.timer(generation: current))
                            }
                        }
                    }
                case .timer(let current):
                    if current == generation, !buffer.isEmpty { try await speakAll() }
                }
            }
        } catch {
            // Cancelled: the context or the connection ended.
        }
    }

    /// Sends `text`'s audio and timestamps.
    private func speak(_ text: String, id: String, voice: Voice, first: inout Bool, audioSeconds: inout Double) async throws {
        // The first audio is due `firstByte` after the text came: the rendering is inside that wait, as a real
        // voice's compute is inside its time to first byte.
        let due = ContinuousClock.now + configuration.timing.firstByte
        let rendered = StandInVoice.render(text, sampleRate: voice.sampleRate)
        guard !rendered.samples.isEmpty || !rendered.words.isEmpty else { return }
        if first {
            first = false
            if configuration.timing.firstByte > .zero { try await Task.sleep(until: due) }
        }
        let rate = Double(voice.sampleRate)
        let perChunk = max(1, voice.sampleRate * configuration.chunkMilliseconds / 1000)
        let bytesPerSample = CartesiaStandIn.bytesPerSample(voice.encoding)
        let bytes = CartesiaStandIn.encode(rendered.samples, encoding: voice.encoding)
        var nextWord = 0
        var start = 0
        let offset = audioSeconds
        func timestamps(upTo seconds: Double) {
            var words: [String] = []
            var starts: [Double] = []
            var ends: [Double] = []
            while nextWord < rendered.words.count, rendered.words[nextWord].end <= seconds + 1e-9 {
                let word = rendered.words[nextWord]
                words.append(word.text)
                starts.append(offset + word.start)
                ends.append(offset + word.end)
                nextWord += 1
            }
            guard !words.isEmpty else { return }
            send([
                "type": "timestamps", "context_id": id, "done": false, "status_code": 206,
                "word_timestamps": ["words": words, "start": starts, "end": ends] as [String: Any],
            ])
        }
        while start < rendered.samples.count {
            try Task.checkCancellation()
            while stalled.load(ordering: .relaxed) { try await Task.sleep(for: .seconds(3600)) }
            let end = min(rendered.samples.count, start + perChunk)
            let data = Data(bytes[(start * bytesPerSample)..<(end * bytesPerSample)]).base64EncodedString()
            send(["type": "chunk", "data": data, "done": false, "status_code": 206, "step_time": 12.5, "context_id": id])
            start = end
            timestamps(upTo: Double(end) / rate)
            switch fault.withLock({ fault in
                defer { fault = nil }
                return fault
            }) {
            case .malformedFrame: output.yield(.text("{\"type\":\"chunk\",\"data\":\"UklGR"))
            case .dropMidStream:
                output.yield(.drop)
                throw CancellationError()
            case .stall: stalled.store(true, ordering: .relaxed)
            default: break
            }
            if configuration.timing.interval > .zero { try await Task.sleep(for: configuration.timing.interval) }
        }
        timestamps(upTo: .infinity)
        audioSeconds += Double(rendered.samples.count) / rate
    }
}
