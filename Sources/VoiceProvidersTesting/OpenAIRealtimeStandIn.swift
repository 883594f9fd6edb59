//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import VoiceDSP

/// A stand-in for the OpenAI Realtime API (GA interface) over WebSocket, `/v1/realtime?model=…`.
///
/// It checks `Authorization: Bearer <key>` (a refused handshake falls through to an HTTP `401` with OpenAI's
/// error body), refuses the beta interface as production does (an `OpenAI-Beta: realtime=v1` header gets an
/// `error` event "Unknown beta requested: 'realtime'" and the socket closes; a beta `session.update` gets
/// "Missing required parameter: 'session.type'" or "Unknown parameter: 'session.input_audio_format'"), sends
/// `session.created` first and answers `session.update` with `session.updated` holding the full effective
/// session. Input audio is recorded byte for byte; `input_audio_buffer.commit` on an empty (or shorter than
/// 100 ms) buffer is an error. `response.create` streams the scripted reply, voiced by ``StandInVoice``, as
/// `response.output_audio.delta` bursts faster than real time with the transcript interleaved, then the
/// `…done` events and `response.done`. `response.cancel` stops it (`status:"cancelled"`,
/// `reason:"client_cancelled"`), or is an error when nothing is active; `conversation.item.truncate` is checked
/// against the audio sent for the item (`Audio content of Xms is already shorter than Yms`,
/// `integer_below_min_value`) and answered with `conversation.item.truncated`.
///
/// Turn detection is simulated, in audio time (the bytes appended on the connection since the session began,
/// divided by the input format's bytes per ms; never the wall clock). The session starts with `server_vad`, as
/// production's does, so a client that never sends `session.update` gets it; `turn_detection: null` turns it off
/// (manual commits only). A `session.update` that sets `turn_detection` replaces it whole, the fields it leaves out
/// taking OpenAI's documented defaults (`threshold` 0.5, `prefix_padding_ms` 300, `silence_duration_ms` 500,
/// `create_response` and `interrupt_response` true, `eagerness` `auto`). The appended audio is decoded by its
/// format (`audio/pcmu`, `audio/pcma`, or `audio/pcm` 16-bit little-endian) and cut into 10 ms windows; a window
/// is speech when its RMS level exceeds `−70 + 60 × threshold` dBFS (−40 dBFS at the default 0.5: ``StandInVoice``
/// speech, about −16 dBFS, is well above it, low line noise well below). The first speech window sends
/// `input_audio_buffer.speech_started` (`audio_start_ms`: that window's start minus `prefix_padding_ms`, not
/// below 0) and names the user item to come; with `interrupt_response` it cancels an active response
/// (`status:"cancelled"`, `reason:"turn_detected"`; the audio already sent stays truncatable). After
/// `silence_duration_ms` of consecutive non-speech windows, `input_audio_buffer.speech_stopped` follows, its
/// `audio_end_ms` being the audio time at which the silence completed (the end of the last speech window plus
/// `silence_duration_ms`, as OpenAI documents it: "includes the min_silence_duration_ms"); then the buffer up to
/// that point is committed as `input_audio_buffer.commit` would (same item id), and with `create_response` a
/// response starts as a bare `response.create` would (none when one is still active). `semantic_vad` is the
/// stand-in's approximation of production's turn-end model: the same detector with `prefix_padding_ms` 300 and a
/// silence that depends on `eagerness` (`high` 300 ms, `medium` and `auto` 600 ms, `low` 1,000 ms).
/// `idle_timeout_ms` is accepted and echoed but never fires. `input_audio_buffer.clear` and a manual
/// `input_audio_buffer.commit` also end the speech under way (more speech after them starts a new item).
public final class OpenAIRealtimeStandIn: Sendable {
    /// What the scripted reply is asked for.
    public struct ReplyRequest: Sendable, Hashable {
        /// The response's number on this stand-in, from 1.
        public var number: Int
        /// The input audio committed on the connection so far, in ms.
        public var committedMilliseconds: Double
        /// The `instructions` of `response.create`, when given.
        public var instructions: String?
    }

    /// Settings.
    public struct Configuration: Sendable {
        /// The key clients must present.
        public var apiKey: String
        /// `firstByte`: from `response.create` to the first audio delta.
        public var timing: StandInTiming
        /// The audio in one `response.output_audio.delta` (default 100 ms).
        public var audioPerDelta: Duration
        /// The pause between two deltas (default 10 ms: ten times faster than real time).
        public var deltaInterval: Duration
        /// The text of each reply.
        public var reply: @Sendable (ReplyRequest) -> String
        /// Faults for the next connections (`unauthorized`, `rateLimited`, `serverError`: the handshake is
        /// refused) or responses (`malformedFrame`, `dropMidStream`, `stall`: after the first delta), in order.
        public var faults: [StandInFault]

        /// Creates settings.
        public init(
            apiKey: String = "sk-test-realtime", timing: StandInTiming = StandInTiming(firstByte: .milliseconds(40)),
            audioPerDelta: Duration = .milliseconds(100), deltaInterval: Duration = .milliseconds(10),
            reply: @escaping @Sendable (ReplyRequest) -> String = { _ in OpenAIRealtimeStandIn.defaultReply },
            faults: [StandInFault] = []
        ) {
            self.apiKey = apiKey
            self.timing = timing
            self.audioPerDelta = audioPerDelta
            self.deltaInterval = deltaInterval
            self.reply = reply
            self.faults = faults
        }
    }

    /// The default reply: long enough to barge in on.
    public static let defaultReply =
        "You said something. Here is a long answer that goes on for a while, so that you can interrupt it whenever you like."

    /// A truncation the stand-in accepted.
    public struct Truncation: Sendable, Hashable {
        /// The assistant item.
        public var itemID: String
        /// Always 0.
        public var contentIndex: Int
        /// Where its audio was cut, in ms.
        public var audioEndMilliseconds: Int
        /// The audio the item had, in ms.
        public var itemMilliseconds: Double
        /// The transcript kept (the words begun before the cut).
        public var keptTranscript: String
    }

    /// What the stand-in saw.
    public struct Recording: Sendable {
        /// WebSocket handshakes that reached the stand-in (accepted or refused).
        public var handshakes = 0
        /// The `Authorization` header of each handshake.
        public var authorizations: [String?] = []
        /// The `OpenAI-Beta` header of each handshake (`nil`: none).
        public var betaHeaders: [String?] = []
        /// The query of each handshake's URL.
        public var queries: [String] = []
        /// Every client event's `type`, in order, over all connections.
        public var clientEvents: [String] = []
        /// Every `session.update` as sent (JSON text).
        public var sessionUpdates: [String] = []
        /// Every `response.create` as sent (JSON text).
        public var responseCreates: [String] = []
        /// Every byte appended to the input audio buffer, in order.
        public var appendedAudio: [UInt8] = []
        /// Every `error` event sent: its `error.code` (or `error.type`) and message.
        public var errors: [(code: String, message: String)] = []
        /// Accepted truncations.
        public var truncations: [Truncation] = []
        /// `response.done` statuses sent, in order (`completed`, `cancelled`).
        public var responseStatuses: [String] = []
        /// The audio sent per assistant item, in ms, by item id.
        public var itemMilliseconds: [String: Double] = [:]
        /// Connections that ended (closed by the client, or dropped by a fault).
        public var closedConnections = 0
        /// The `audio_start_ms` of every `input_audio_buffer.speech_started` sent, in order, over all connections.
        public var speechStarts: [Int] = []
        /// The `audio_end_ms` of every `input_audio_buffer.speech_stopped` sent, in order, over all connections.
        public var speechStops: [Int] = []
        /// Responses that turn detection created (`create_response`), over all connections.
        public var vadResponses = 0
    }

    /// The settings.
    public let configuration: Configuration
    private let state: Mutex<(recording: Recording, faults: [StandInFault], counter: Int, lastRefusal: StandInFault?)>

    /// Creates a stand-in; mount it with ``register(http:webSocket:)``.
    public init(_ configuration: Configuration = Configuration()) {
        self.configuration = configuration
        state = Mutex((Recording(), configuration.faults, 0, nil))
    }

    /// Starts a host with this stand-in on it. Clients use `host.baseURL + "/v1"`.
    public static func start(_ configuration: Configuration = Configuration()) async throws -> (StandInHost, OpenAIRealtimeStandIn) {
        let standIn = OpenAIRealtimeStandIn(configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    /// What it has seen so far.
    public var recording: Recording { state.withLock { $0.recording } }

    /// Every client event's `type`, in order.
    public var clientEventTypes: [String] { recording.clientEvents }

    /// Queues a fault for the next connection or response.
    public func enqueue(_ fault: StandInFault) { state.withLock { $0.faults.append(fault) } }

    /// Mounts `/v1/realtime`: the WebSocket, and the HTTP answer to a refused handshake.
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        http.get("/v1/realtime") { request, _ -> Response in self.refusal(request) }
        webSocket.ws("/v1/realtime") { request, _ in
            let authorization = request.headers[.authorization]
            let beta = HTTPField.Name("OpenAI-Beta").flatMap { request.headers[$0] }
            let refuse = self.state.withLock { state -> Bool in
                state.recording.handshakes += 1
                state.recording.authorizations.append(authorization)
                state.recording.betaHeaders.append(beta)
                state.recording.queries.append(request.uri.query ?? "")
                if authorization != "Bearer \(self.configuration.apiKey)" {
                    state.lastRefusal = .unauthorized
                    return true
                }
                // A handshake fault is spent by the handshake it refuses; its answer stays for the plain GET
                // a client repeats the request with to read the status (until the next accepted handshake).
                guard let first = state.faults.first, Self.isHandshakeFault(first) else {
                    state.lastRefusal = nil
                    return false
                }
                state.faults.removeFirst()
                state.lastRefusal = first
                return true
            }
            return refuse ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let beta = HTTPField.Name("OpenAI-Beta").flatMap { context.request.headers[$0] }
            let query = context.request.uri.queryParameters
            let model = query["model"].map(String.init) ?? "gpt-realtime"
            try await self.serve(inbound: inbound, outbound: outbound, model: model, beta: beta)
        }
    }

    private static func isHandshakeFault(_ fault: StandInFault) -> Bool {
        switch fault {
        case .unauthorized, .rateLimited, .serverError: true
        case .malformedFrame, .dropMidStream, .stall: false
        }
    }

    /// The answer to a handshake the WebSocket router refused, or to a plain GET: WebSocket clients do not
    /// expose a refused handshake's response, so a client reads it by repeating the request without the upgrade;
    /// that GET gets the answer of the last handshake, when it was refused (the fault was taken by the handshake).
    private func refusal(_ request: Request) -> Response {
        let authorization = request.headers[.authorization]
        let fault = state.withLock { state -> StandInFault? in
            if authorization != "Bearer \(configuration.apiKey)" { return .unauthorized }
            return state.lastRefusal
        }
        func answer(_ status: HTTPResponse.Status, _ body: String, _ headers: HTTPFields = [:]) -> Response {
            var fields = headers
            fields[.contentType] = "application/json"
            return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        switch fault {
        case .unauthorized?:
            let shown = authorization.map { String($0.dropFirst("Bearer ".count).suffix(4)) } ?? ""
            let message =
                authorization == nil
                ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
                : "Incorrect API key provided: sk-...\(shown). You can find your API key at https://platform.openai.com/account/api-keys."
            return answer(
                .unauthorized,
                Self.errorBody(message: message, type: "invalid_request_error", code: authorization == nil ? nil : "invalid_api_key"))
        case .rateLimited(let retryAfter)?:
            var headers: HTTPFields = [:]
            if let retryAfter, let ms = HTTPField.Name("retry-after-ms"), let seconds = HTTPField.Name("retry-after") {
                let milliseconds = Int(retryAfter.components.seconds * 1000 + retryAfter.components.attoseconds / 1_000_000_000_000_000)
                headers[ms] = String(milliseconds)
                headers[seconds] = String((milliseconds + 999) / 1000)
            }
            return answer(
                .tooManyRequests,
                Self.errorBody(
                    message: "Rate limit reached for gpt-realtime on requests per min (RPM). Please try again later.", type: "requests",
                    code: "rate_limit_exceeded"), headers)
        case .serverError(let status)?:
            return answer(
                HTTPResponse.Status(code: status),
                Self.errorBody(
                    message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: nil))
        default:
            return answer(.badRequest, Self.errorBody(message: "Expected a WebSocket upgrade.", type: "invalid_request_error", code: nil))
        }
    }

    private static func errorBody(message: String, type: String, code: String?) -> String {
        json(["error": ["message": message, "type": type, "param": NSNull(), "code": code.map { $0 as Any } ?? NSNull()]])
    }

    fileprivate static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    fileprivate func nextID(_ prefix: String) -> String {
        let number = state.withLock { state in
            state.counter += 1
            return state.counter
        }
        return "\(prefix)_\(String(repeating: "0", count: max(0, 6 - String(number).count)))\(number)"
    }

    fileprivate func record(_ change: (inout Recording) -> Void) { state.withLock { change(&$0.recording) } }

    fileprivate func takeResponseFault() -> StandInFault? {
        state.withLock { state in
            guard let first = state.faults.first, !Self.isHandshakeFault(first) else { return nil }
            state.faults.removeFirst()
            return first
        }
    }

    // MARK: - A connection

    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, model: String, beta: String?) async throws {
        let (out, sender) = AsyncStream.makeStream(of: Outgoing.self)
        let session = RealtimeSession(standIn: self, model: model, sender: sender)
        defer { record { $0.closedConnections += 1 } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await item in out {
                    switch item {
                    case .text(let text): try await outbound.write(.text(text))
                    case .close(let code):
                        try await outbound.close(code, reason: nil)
                        return
                    }
                }
            }
            if let beta, beta.lowercased().contains("realtime") {
                session.sendError(
                    type: "invalid_request_error", code: "invalid_beta", message: "Unknown beta requested: 'realtime'", param: nil)
                sender.yield(.close(.policyViolation))
            } else {
                session.sendCreated()
                for try await message in inbound.messages(maxSize: 16 << 20) {
                    switch message {
                    case .text(let text): session.handle(text)
                    case .binary:
                        session.sendError(
                            type: "invalid_request_error", code: "invalid_json",
                            message: "We could not parse the JSON body of your request: binary frames are not supported.", param: nil)
                    }
                }
            }
            session.end()
            sender.finish()
            try await group.waitForAll()
        }
    }

    fileprivate enum Outgoing: Sendable {
        case text(String)
        case close(WebSocketErrorCode)
    }

    /// Turn detection over a connection's appended audio: the audio decoded by its format and cut into 10 ms
    /// windows of audio time, a window being speech when its RMS level exceeds the threshold's.
    fileprivate struct TurnDetector {
        /// What the effective `turn_detection` asks for.
        struct Settings {
            /// The RMS level (full scale 1) above which a window is speech.
            var level: Double
            var prefixPaddingMilliseconds: Double
            var silenceDurationMilliseconds: Double
            var createResponse: Bool
            var interruptResponse: Bool

            /// The settings of a `turn_detection` value; nil when it is null (manual commits only).
            init?(_ value: (any Sendable)?) {
                guard let object = value as? [String: any Sendable], let type = object["type"] as? String else { return nil }
                func number(_ key: String, _ fallback: Double) -> Double {
                    switch object[key] {
                    case let value as Int: Double(value)
                    case let value as Double: value
                    default: fallback
                    }
                }
                let server = type == "server_vad"
                level = Self.level(threshold: server ? number("threshold", 0.5) : 0.5)
                prefixPaddingMilliseconds = server ? number("prefix_padding_ms", 300) : 300
                silenceDurationMilliseconds =
                    server ? number("silence_duration_ms", 500) : Self.semanticSilence(eagerness: object["eagerness"] as? String)
                createResponse = object["create_response"] as? Bool ?? true
                interruptResponse = object["interrupt_response"] as? Bool ?? true
            }

            /// The RMS level of a `threshold` in 0...1: −70 + 60 × threshold dBFS (−40 dBFS at 0.5).
            static func level(threshold: Double) -> Double { pow(10, (-70 + 60 * threshold) / 20) }

            /// The stand-in's approximation of `semantic_vad`: a silence that depends on the eagerness.
            static func semanticSilence(eagerness: String?) -> Double {
                switch eagerness {
                case "high": 300
                case "low": 1000
                default: 600  // medium, auto
                }
            }
        }

        /// A change the detector saw, in ms of audio since the session began.
        enum Event {
            /// Speech began; the time already has the prefix padding taken off (not below 0).
            case started(audioStart: Double)
            /// The silence after speech lasted `silence_duration_ms`; the time is where it completed.
            case stopped(audioEnd: Double)
        }

        /// nil: turn detection is off; the audio clock still runs.
        var settings: Settings?
        private var format = "audio/pcm"
        /// The audio time at the start of `window`, in ms since the session began.
        private var clock = 0.0
        private var window: [Int16] = []
        /// The first byte of a 16-bit sample split across two appends.
        private var lowByte: UInt8?
        private var speaking = false
        /// The end of the last speech window.
        private var lastSpeech = 0.0

        private var samplesPerMillisecond: Int { format == "audio/pcm" ? 24 : 8 }

        /// A new input format: the part window of the old one counts as audio time and is dropped.
        mutating func setFormat(_ newFormat: String) {
            guard newFormat != format else { return }
            clock += Double(window.count) / Double(samplesPerMillisecond)
            window.removeAll()
            lowByte = nil
            format = newFormat
        }

        /// The speech under way is over (the buffer was cleared or committed by the client): more speech is a new turn.
        mutating func endSpeech() { speaking = false }

        /// Takes appended audio; returns each change with the number of bytes of `bytes` up to the window it was seen at.
        mutating func feed(_ bytes: Data) -> [(event: Event, offset: Int)] {
            var events: [(event: Event, offset: Int)] = []
            let size = samplesPerMillisecond * 10
            for (offset, byte) in bytes.enumerated() {
                let sample: Int16
                switch format {
                case "audio/pcmu": sample = MuLaw.decode(byte)
                case "audio/pcma": sample = ALaw.decode(byte)
                default:
                    guard let low = lowByte else {
                        lowByte = byte
                        continue
                    }
                    lowByte = nil
                    sample = Int16(bitPattern: UInt16(low) | UInt16(byte) << 8)
                }
                window.append(sample)
                if window.count == size, let event = classifyWindow() { events.append((event, offset + 1)) }
            }
            return events
        }

        private mutating func classifyWindow() -> Event? {
            let start = clock
            let energy = window.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(window.count)
            window.removeAll(keepingCapacity: true)
            clock += 10
            guard let settings else { return nil }
            if energy.squareRoot() / 32768 > settings.level {
                lastSpeech = clock
                guard !speaking else { return nil }
                speaking = true
                return .started(audioStart: max(0, start - settings.prefixPaddingMilliseconds))
            }
            guard speaking, clock - lastSpeech >= settings.silenceDurationMilliseconds else { return nil }
            speaking = false
            return .stopped(audioEnd: clock)
        }
    }

    /// One connection's conversation.
    fileprivate final class RealtimeSession: Sendable {
        struct Item {
            var bytes = 0
            var bytesPerMillisecond = 8.0
            var words: [StandInVoice.Word] = []
        }
        struct State {
            var session: [String: any Sendable]
            var inputBytes = 0
            var inputBytesPerMillisecond = 8.0
            var committedMilliseconds = 0.0
            var items: [String: Item] = [:]
            var lastItem: String?
            var active: (id: String, item: String, task: Task<Void, Never>)?
            var audioSent = false
            var responses = 0
            /// Turn detection over the appended audio (its settings nil: `turn_detection` is null).
            var detector = TurnDetector()
            /// The user item the speech under way will be committed as (named by `speech_started`).
            var speechItem: String?
        }

        let standIn: OpenAIRealtimeStandIn
        let sender: AsyncStream<Outgoing>.Continuation
        let state: Mutex<State>

        init(standIn: OpenAIRealtimeStandIn, model: String, sender: AsyncStream<Outgoing>.Continuation) {
            self.standIn = standIn
            self.sender = sender
            let session: [String: any Sendable] = [
                "type": "realtime", "object": "realtime.session", "id": standIn.nextID("sess"), "model": model,
                "output_modalities": ["audio"], "instructions": "", "tools": [String](), "tool_choice": "auto",
                "max_output_tokens": "inf", "tracing": nil as String?, "truncation": "auto", "prompt": nil as String?,
                "expires_at": Int(Date().timeIntervalSince1970) + 3600,
                "audio": [
                    "input": [
                        "format": ["type": "audio/pcm", "rate": 24000] as [String: any Sendable], "transcription": nil as String?,
                        "noise_reduction": nil as String?,
                        "turn_detection": [
                            "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200,
                            "idle_timeout_ms": nil as Int?, "create_response": true, "interrupt_response": true,
                        ] as [String: any Sendable],
                    ] as [String: any Sendable],
                    "output": [
                        "format": ["type": "audio/pcm", "rate": 24000] as [String: any Sendable], "voice": "alloy", "speed": 1.0,
                    ] as [String: any Sendable],
                ] as [String: any Sendable],
            ]
            var initial = State(session: session)
            initial.detector.settings = TurnDetector.Settings(Self.turnDetection(in: session))
            state = Mutex(initial)
        }

        /// The effective session's `audio.input.turn_detection`.
        static func turnDetection(in session: [String: any Sendable]) -> (any Sendable)? {
            ((session["audio"] as? [String: any Sendable])?["input"] as? [String: any Sendable])?["turn_detection"]
        }

        func send(_ type: String, _ fields: [String: Any]) {
            var event = fields
            event["type"] = type
            event["event_id"] = standIn.nextID("event")
            sender.yield(.text(OpenAIRealtimeStandIn.json(event)))
        }

        func sendError(type: String, code: String?, message: String, param: String?, eventID: String? = nil) {
            standIn.record { $0.errors.append((code ?? type, message)) }
            send(
                "error",
                [
                    "error": [
                        "type": type, "code": code.map { $0 as Any } ?? NSNull(), "message": message,
                        "param": param.map { $0 as Any } ?? NSNull(), "event_id": eventID.map { $0 as Any } ?? NSNull(),
                    ]
                ])
        }

        func sendCreated() { send("session.created", ["session": Self.plain(state.withLock { $0.session })]) }

        func end() {
            state.withLock { state in
                state.active?.task.cancel()
                state.active = nil
            }
        }

        /// A Sendable JSON value back to Foundation's `Any` (nil → NSNull).
        static func plain(_ value: any Sendable) -> Any {
            switch value {
            case let dictionary as [String: any Sendable]: return dictionary.mapValues { plain($0) }
            case let array as [any Sendable]: return array.map { plain($0) }
            case let optional as String?: return optional.map { $0 as Any } ?? NSNull()
            case let optional as Int?: return optional.map { $0 as Any } ?? NSNull()
            default: return value
            }
        }

        static func isBoolean(_ number: NSNumber) -> Bool { String(cString: number.objCType) == "c" }

        /// Foundation's parsed JSON to a Sendable value.
        static func sendable(_ value: Any) -> any Sendable {
            switch value {
            case let dictionary as [String: Any]: return dictionary.mapValues { sendable($0) } as [String: any Sendable]
            case let array as [Any]: return array.map { sendable($0) } as [any Sendable]
            case let string as String: return string
            case let number as NSNumber:
                if isBoolean(number) { return number.boolValue }
                return number.doubleValue == Double(number.intValue) ? number.intValue as any Sendable : number.doubleValue
            default: return nil as String?
            }
        }

        func handle(_ text: String) {
            guard let data = text.data(using: .utf8), let event = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                sendError(
                    type: "invalid_request_error", code: "invalid_json",
                    message:
                        "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.)",
                    param: nil)
                return
            }
            let type = event["type"] as? String ?? ""
            let eventID = event["event_id"] as? String
            standIn.record { $0.clientEvents.append(type) }
            switch type {
            case "session.update":
                standIn.record { $0.sessionUpdates.append(text) }
                updateSession(event, eventID: eventID)
            case "input_audio_buffer.append":
                guard let audio = event["audio"] as? String, let bytes = Data(base64Encoded: audio) else {
                    sendError(
                        type: "invalid_request_error", code: "invalid_value",
                        message: "Invalid 'audio'. Expected base64-encoded audio bytes.",
                        param: "audio", eventID: eventID)
                    return
                }
                append(bytes)
            case "input_audio_buffer.clear":
                state.withLock { state in
                    state.inputBytes = 0
                    state.detector.endSpeech()
                    state.speechItem = nil
                }
                send("input_audio_buffer.cleared", [:])
            case "input_audio_buffer.commit":
                commit(eventID: eventID)
            case "response.create":
                standIn.record { $0.responseCreates.append(text) }
                createResponse(event, eventID: eventID)
            case "response.cancel":
                cancel(event, eventID: eventID)
            case "conversation.item.truncate":
                truncate(event, eventID: eventID)
            case "conversation.item.create", "conversation.item.delete", "conversation.item.retrieve", "output_audio_buffer.clear":
                sendError(
                    type: "invalid_request_error", code: "unsupported", message: "The stand-in does not implement '\(type)'.",
                    param: "type", eventID: eventID)
            default:
                sendError(
                    type: "invalid_request_error", code: "invalid_value",
                    message: "Invalid value: '\(type)'. Supported values are: 'session.update', 'input_audio_buffer.append', "
                        + "'input_audio_buffer.commit', 'input_audio_buffer.clear', 'conversation.item.create', "
                        + "'conversation.item.truncate', 'conversation.item.delete', 'conversation.item.retrieve', "
                        + "'response.create', 'response.cancel' and 'output_audio_buffer.clear'.",
                    param: "type", eventID: eventID)
            }
        }

        private static let sessionKeys: Set<String> = [
            "type", "model", "instructions", "output_modalities", "tools", "tool_choice", "max_output_tokens", "truncation",
            "tracing", "prompt", "include", "audio",
        ]
        private static let inputKeys: Set<String> = ["format", "noise_reduction", "transcription", "turn_detection"]
        private static let outputKeys: Set<String> = ["format", "voice", "speed"]
        /// What a `turn_detection` object takes for the fields it leaves out (OpenAI's documented defaults).
        private static let turnDetectionDefaults: [String: [String: any Sendable]] = [
            "server_vad": [
                "type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 500,
                "idle_timeout_ms": nil as Int?, "create_response": true, "interrupt_response": true,
            ],
            "semantic_vad": ["type": "semantic_vad", "eagerness": "auto", "create_response": true, "interrupt_response": true],
        ]

        private func updateSession(_ event: [String: Any], eventID: String?) {
            func fail(_ code: String, _ message: String, _ param: String) {
                sendError(type: "invalid_request_error", code: code, message: message, param: param, eventID: eventID)
            }
            guard let update = event["session"] as? [String: Any] else {
                return fail("missing_required_parameter", "Missing required parameter: 'session'.", "session")
            }
            guard let type = update["type"] as? String else {
                return fail("missing_required_parameter", "Missing required parameter: 'session.type'.", "session.type")
            }
            guard type == "realtime" else {
                return fail(
                    "invalid_value", "Invalid value: '\(type)'. Supported values are: 'realtime' and 'transcription'.", "session.type")
            }
            for key in update.keys.sorted() where !Self.sessionKeys.contains(key) {
                return fail("unknown_parameter", "Unknown parameter: 'session.\(key)'.", "session.\(key)")
            }
            let audio = update["audio"] as? [String: Any] ?? [:]
            for key in audio.keys.sorted() where key != "input" && key != "output" {
                return fail("unknown_parameter", "Unknown parameter: 'session.audio.\(key)'.", "session.audio.\(key)")
            }
            let input = audio["input"] as? [String: Any] ?? [:]
            let output = audio["output"] as? [String: Any] ?? [:]
            for key in input.keys.sorted() where !Self.inputKeys.contains(key) {
                return fail("unknown_parameter", "Unknown parameter: 'session.audio.input.\(key)'.", "session.audio.input.\(key)")
            }
            for key in output.keys.sorted() where !Self.outputKeys.contains(key) {
                return fail("unknown_parameter", "Unknown parameter: 'session.audio.output.\(key)'.", "session.audio.output.\(key)")
            }
            for (side, format) in [("input", input["format"]), ("output", output["format"])] {
                guard let format else { continue }
                let formatType = (format as? [String: Any])?["type"] as? String ?? "\(format)"
                guard ["audio/pcm", "audio/pcmu", "audio/pcma"].contains(formatType) else {
                    return fail(
                        "invalid_value",
                        "Invalid value: '\(formatType)'. Supported values are: 'audio/pcm', 'audio/pcmu', and 'audio/pcma'.",
                        "session.audio.\(side).format.type")
                }
            }
            var turnDetection: [String: any Sendable]?
            if let value = input["turn_detection"], !(value is NSNull) {
                let param = "session.audio.input.turn_detection"
                guard let object = value as? [String: Any] else {
                    return fail("invalid_type", "Invalid type for '\(param)': expected an object or null.", param)
                }
                guard let type = object["type"] as? String else {
                    return fail("missing_required_parameter", "Missing required parameter: '\(param).type'.", "\(param).type")
                }
                guard let defaults = Self.turnDetectionDefaults[type] else {
                    return fail(
                        "invalid_value", "Invalid value: '\(type)'. Supported values are: 'server_vad' and 'semantic_vad'.", "\(param).type"
                    )
                }
                if type == "semantic_vad", let eagerness = object["eagerness"] as? String,
                    !["low", "medium", "high", "auto"].contains(eagerness)
                {
                    return fail(
                        "invalid_value", "Invalid value: '\(eagerness)'. Supported values are: 'low', 'medium', 'high', and 'auto'.",
                        "\(param).eagerness")
                }
                if let threshold = (object["threshold"] as? NSNumber)?.doubleValue, !(0...1).contains(threshold) {
                    let below = threshold < 0
                    return fail(
                        below ? "decimal_below_min_value" : "decimal_above_max_value",
                        "Invalid '\(param).threshold': decimal \(below ? "below minimum" : "above maximum") value. Expected a value "
                            + "\(below ? ">= 0" : "<= 1"), but got \(threshold) instead.", "\(param).threshold")
                }
                turnDetection = defaults.merging(object.mapValues { Self.sendable($0) }) { $1 }
            }
            if let modalities = update["output_modalities"] as? [String], modalities != ["audio"], modalities != ["text"] {
                return fail(
                    "invalid_value", "Invalid 'session.output_modalities': expected ['audio'] or ['text'].", "session.output_modalities")
            }
            let voiceLocked = state.withLock { state in
                guard state.audioSent, let voice = output["voice"] as? String else { return false }
                let current =
                    ((state.session["audio"] as? [String: any Sendable])?["output"] as? [String: any Sendable])?["voice"] as? String
                return voice != current
            }
            if voiceLocked {
                return fail(
                    "cannot_update_voice", "Cannot update a conversation's voice if assistant audio is present.",
                    "session.audio.output.voice")
            }
            let effective = state.withLock { state -> [String: any Sendable] in
                for (key, value) in update where key != "audio" { state.session[key] = Self.sendable(value) }
                var audioState = state.session["audio"] as? [String: any Sendable] ?? [:]
                for (side, fields) in [("input", input), ("output", output)] {
                    var sideState = audioState[side] as? [String: any Sendable] ?? [:]
                    for (key, value) in fields { sideState[key] = Self.sendable(value) }
                    if side == "input", let turnDetection { sideState["turn_detection"] = turnDetection }
                    if var format = sideState["format"] as? [String: any Sendable], format["type"] as? String == "audio/pcm",
                        format["rate"] == nil
                    {
                        format["rate"] = 24000
                        sideState["format"] = format
                    }
                    audioState[side] = sideState
                }
                state.session["audio"] = audioState
                state.inputBytesPerMillisecond = Self.bytesPerMillisecond(audioState, side: "input")
                state.detector.setFormat(Self.format(audioState, side: "input"))
                state.detector.settings = TurnDetector.Settings(Self.turnDetection(in: state.session))
                if state.detector.settings == nil {
                    state.detector.endSpeech()
                    state.speechItem = nil
                }
                return state.session
            }
            send("session.updated", ["session": Self.plain(effective)])
        }

        static func format(_ audio: [String: any Sendable], side: String) -> String {
            (((audio[side] as? [String: any Sendable])?["format"]) as? [String: any Sendable])?["type"] as? String ?? "audio/pcm"
        }

        static func bytesPerMillisecond(_ audio: [String: any Sendable], side: String) -> Double {
            format(audio, side: side) == "audio/pcm" ? 48 : 8
        }

        /// Appends input audio; turn detection acts at the window where it detects a change, so that the buffer a
        /// `speech_stopped` commits ends there (the rest of the append goes to the next buffer).
        private func append(_ bytes: Data) {
            standIn.record { $0.appendedAudio.append(contentsOf: bytes) }
            let events = state.withLock { $0.detector.feed(bytes) }
            var buffered = 0
            for (event, offset) in events {
                state.withLock { $0.inputBytes += offset - buffered }
                buffered = offset
                switch event {
                case .started(let audioStart): speechStarted(audioStart: audioStart)
                case .stopped(let audioEnd): speechStopped(audioEnd: audioEnd)
                }
            }
            state.withLock { $0.inputBytes += bytes.count - buffered }
        }

        private func speechStarted(audioStart: Double) {
            let start = Int(audioStart.rounded())
            let (item, interrupt) = state.withLock { state -> (String, Bool) in
                let item = standIn.nextID("item")
                state.speechItem = item
                return (item, state.detector.settings?.interruptResponse ?? false)
            }
            standIn.record { $0.speechStarts.append(start) }
            send("input_audio_buffer.speech_started", ["audio_start_ms": start, "item_id": item])
            if interrupt { _ = cancelActive(nil, reason: "turn_detected") }
        }

        private func speechStopped(audioEnd: Double) {
            let end = Int(audioEnd.rounded())
            let (item, create) = state.withLock { state -> (String, Bool) in
                let item = state.speechItem ?? standIn.nextID("item")
                state.speechItem = item
                return (item, state.detector.settings?.createResponse ?? false)
            }
            standIn.record { $0.speechStops.append(end) }
            send("input_audio_buffer.speech_stopped", ["audio_end_ms": end, "item_id": item])
            commit(eventID: nil, automatic: true)
            if create { createResponse([:], eventID: nil, automatic: true) }
        }

        /// Commits the input buffer as a user item (the one `speech_started` named, when speech is under way).
        /// `automatic`: turn detection's commit, which has no minimum length and sends no error.
        private func commit(eventID: String?, automatic: Bool = false) {
            let outcome = state.withLock { state -> (ms: Double, item: String, previous: String?)? in
                let ms = Double(state.inputBytes) / state.inputBytesPerMillisecond
                guard ms >= 100 || (automatic && state.inputBytes > 0) else {
                    if automatic { state.speechItem = nil }
                    return (ms, "", nil)
                }
                state.inputBytes = 0
                state.committedMilliseconds += ms
                let previous = state.lastItem
                let item = state.speechItem ?? standIn.nextID("item")
                state.speechItem = nil
                // Turn detection has already ended its own speech (and may have begun the next in the same append).
                if !automatic { state.detector.endSpeech() }
                state.lastItem = item
                return (ms, item, previous)
            }
            guard let outcome, !outcome.item.isEmpty else {
                guard !automatic else { return }
                let ms = outcome?.ms ?? 0
                sendError(
                    type: "invalid_request_error", code: "input_audio_buffer_commit_empty",
                    message: "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has "
                        + String(format: "%.2f", ms) + "ms of audio.", param: nil, eventID: eventID)
                return
            }
            let previous = outcome.previous.map { $0 as Any } ?? NSNull()
            send("input_audio_buffer.committed", ["previous_item_id": previous, "item_id": outcome.item])
            let item: [String: Any] = [
                "id": outcome.item, "object": "realtime.item", "type": "message", "status": "completed", "role": "user",
                "content": [["type": "input_audio", "transcript": NSNull()]],
            ]
            send("conversation.item.added", ["previous_item_id": previous, "item": item])
            send("conversation.item.done", ["previous_item_id": previous, "item": item])
        }

        /// Starts a response. `automatic`: turn detection's (`create_response`), which is skipped without an error
        /// when a response is still active.
        private func createResponse(_ event: [String: Any], eventID: String?, automatic: Bool = false) {
            let overrides = event["response"] as? [String: Any] ?? [:]
            let instructions = overrides["instructions"] as? String
            let begun = state.withLock { state -> (id: String, item: String, previous: String?, number: Int, committed: Double)? in
                guard state.active == nil else { return nil }
                state.responses += 1
                let previous = state.lastItem
                let item = standIn.nextID("item")
                state.lastItem = item
                return (standIn.nextID("resp"), item, previous, state.responses, state.committedMilliseconds)
            }
            guard let begun else {
                guard !automatic else { return }
                let active = state.withLock { $0.active?.id } ?? ""
                sendError(
                    type: "invalid_request_error", code: "conversation_already_has_active_response",
                    message:
                        "Conversation already has an active response in progress: \(active). Wait until the response is finished before "
                        + "creating a new response.", param: nil, eventID: eventID)
                return
            }
            if automatic { standIn.record { $0.vadResponses += 1 } }
            let text = standIn.configuration.reply(
                ReplyRequest(number: begun.number, committedMilliseconds: begun.committed, instructions: instructions))
            let fault = standIn.takeResponseFault()
            // The opening events go out before anything can cancel the response (a cancellation's events follow them).
            state.withLock { state in
                let previous = begun.previous.map { $0 as Any } ?? NSNull()
                let itemObject: [String: Any] = [
                    "id": begun.item, "object": "realtime.item", "type": "message", "status": "in_progress", "role": "assistant",
                    "content": [Any](),
                ]
                let base: [String: Any] = ["response_id": begun.id, "item_id": begun.item, "output_index": 0, "content_index": 0]
                let response = Self.responseObject(begun.id, status: "in_progress", reason: nil, output: [], session: state.session)
                send("response.created", ["response": response])
                send("response.output_item.added", ["response_id": begun.id, "output_index": 0, "item": itemObject])
                send("conversation.item.added", ["previous_item_id": previous, "item": itemObject])
                send("response.content_part.added", base.merging(["part": ["type": "audio", "transcript": ""]]) { $1 })
                let task = Task { await self.stream(id: begun.id, item: begun.item, previous: begun.previous, text: text, fault: fault) }
                state.active = (begun.id, begun.item, task)
            }
        }

        private static func responseObject(
            _ id: String, status: String, reason: String?, output: [[String: Any]], session: [String: any Sendable]
        ) -> [String: Any] {
            let audio = session["audio"] as? [String: any Sendable] ?? [:]
            let outputAudio = audio["output"] as? [String: any Sendable] ?? [:]
            return [
                "object": "realtime.response", "id": id, "status": status,
                "status_details": reason.map { ["type": status, "reason": $0] as Any } ?? NSNull(), "output": output,
                "conversation_id": "conv_standin", "output_modalities": ["audio"], "max_output_tokens": "inf",
                "audio": [
                    "output": [
                        "format": Self.plain(outputAudio["format"] ?? "audio/pcm"), "voice": Self.plain(outputAudio["voice"] ?? "alloy"),
                    ]
                ],
                "usage": status == "in_progress" ? NSNull() : ["total_tokens": 0, "input_tokens": 0, "output_tokens": 0] as Any,
                "metadata": NSNull(),
            ]
        }

        /// Streams a response begun by `createResponse`. Each step checks that the response is still active and sends
        /// under the session's lock, so that nothing of it follows a cancellation's `response.done`.
        private func stream(id: String, item: String, previous: String?, text: String, fault: StandInFault?) async {
            let audio = state.withLock { $0.session["audio"] as? [String: any Sendable] ?? [:] }
            let format = Self.format(audio, side: "output")
            let rate = format == "audio/pcm" ? 24000 : 8000
            let rendered = StandInVoice.render(text, sampleRate: rate)
            let bytes = Self.encode(rendered.samples, format: format)
            let bytesPerMs = Self.bytesPerMillisecond(audio, side: "output")
            state.withLock { $0.items[item] = Item(bytes: 0, bytesPerMillisecond: bytesPerMs, words: rendered.words) }
            standIn.record { $0.itemMilliseconds[item] = 0 }
            let base: [String: Any] = ["response_id": id, "item_id": item, "output_index": 0, "content_index": 0]
            try? await Task.sleep(for: standIn.configuration.timing.firstByte)
            let chunk = max(
                1,
                Int(
                    Double(standIn.configuration.audioPerDelta.components.seconds * 1000) * bytesPerMs
                        + Double(standIn.configuration.audioPerDelta.components.attoseconds) / 1e15 * bytesPerMs))
            var offset = 0
            var nextWord = 0
            var transcript = ""
            while offset < bytes.count {
                let end = min(bytes.count, offset + chunk)
                let endSeconds = Double(end) / bytesPerMs / 1000
                var words: [String] = []
                while nextWord < rendered.words.count, rendered.words[nextWord].start < endSeconds {
                    words.append(rendered.words[nextWord].text)
                    nextWord += 1
                }
                let delta = words.isEmpty ? nil : (transcript.isEmpty ? "" : " ") + words.joined(separator: " ")
                let piece = Data(bytes[offset..<end]).base64EncodedString()
                let sent = state.withLock { state -> Bool in
                    guard !Task.isCancelled, state.active == nil || state.active?.id == id else { return false }
                    state.items[item]?.bytes = end
                    state.audioSent = true
                    if let delta { send("response.output_audio_transcript.delta", base.merging(["delta": delta]) { $1 }) }
                    standIn.record { $0.itemMilliseconds[item] = Double(end) / bytesPerMs }
                    send("response.output_audio.delta", base.merging(["delta": piece]) { $1 })
                    return true
                }
                guard sent else { return }
                transcript += delta ?? ""
                offset = end
                if let fault {
                    switch fault {
                    case .malformedFrame:
                        sender.yield(.text("{\"type\":\"response.output_audio.delta\",\"response_id\":\"\(id)\",\"delta\":"))
                        finishFaulted()
                        return
                    case .dropMidStream:
                        finishFaulted()
                        sender.yield(.close(.unexpectedServerError))
                        return
                    case .stall:
                        finishFaulted()
                        return
                    default:
                        break
                    }
                }
                try? await Task.sleep(for: standIn.configuration.deltaInterval)
            }
            let itemObject: [String: Any] = [
                "id": item, "object": "realtime.item", "type": "message", "status": "completed", "role": "assistant",
                "content": [["type": "output_audio", "transcript": transcript]],
            ]
            state.withLock { state in
                guard !Task.isCancelled, state.active == nil || state.active?.id == id else { return }
                state.active = nil
                send("response.output_audio.done", base)
                send("response.output_audio_transcript.done", base.merging(["transcript": transcript]) { $1 })
                send("response.content_part.done", base.merging(["part": ["type": "audio", "transcript": transcript]]) { $1 })
                send("response.output_item.done", ["response_id": id, "output_index": 0, "item": itemObject])
                send("conversation.item.done", ["previous_item_id": previous.map { $0 as Any } ?? NSNull(), "item": itemObject])
                let response = Self.responseObject(id, status: "completed", reason: nil, output: [itemObject], session: state.session)
                send("response.done", ["response": response])
                standIn.record { $0.responseStatuses.append("completed") }
            }
        }

        /// A faulted response is no longer active (the next `response.create` is accepted).
        private func finishFaulted() { state.withLock { $0.active = nil } }

        static func encode(_ samples: [Float], format: String) -> [UInt8] {
            let pcm = samples.map { Int16(clamping: Int(($0 * 32768).rounded())) }
            switch format {
            case "audio/pcmu": return pcm.map { MuLaw.encode($0) }
            case "audio/pcma": return pcm.map { ALaw.encode($0) }
            default: return pcm.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] }
            }
        }

        private func cancel(_ event: [String: Any], eventID: String?) {
            guard cancelActive(event["response_id"] as? String, reason: "client_cancelled") else {
                sendError(
                    type: "invalid_request_error", code: "response_cancel_not_active",
                    message: "Cancellation failed: no active response found.", param: nil, eventID: eventID)
                return
            }
        }

        /// Cancels the active response (when `requested` is given, only if it is that one) for `reason`
        /// (`client_cancelled`, `turn_detected`): `response.output_item.done` (incomplete), then `response.done`
        /// (`cancelled`). The audio it sent stays truncatable. False when nothing matching is active.
        private func cancelActive(_ requested: String?, reason: String) -> Bool {
            state.withLock { state -> Bool in
                guard let active = state.active, requested == nil || requested == active.id else { return false }
                active.task.cancel()
                state.active = nil
                let item: [String: Any] = [
                    "id": active.item, "object": "realtime.item", "type": "message", "status": "incomplete", "role": "assistant",
                    "content": [["type": "output_audio", "transcript": NSNull()]],
                ]
                send("response.output_item.done", ["response_id": active.id, "output_index": 0, "item": item])
                let response = Self.responseObject(active.id, status: "cancelled", reason: reason, output: [item], session: state.session)
                send("response.done", ["response": response])
                standIn.record { $0.responseStatuses.append("cancelled") }
                return true
            }
        }

        private func truncate(_ event: [String: Any], eventID: String?) {
            func fail(_ code: String?, _ message: String, _ param: String?) {
                sendError(type: "invalid_request_error", code: code, message: message, param: param, eventID: eventID)
            }
            guard let itemID = event["item_id"] as? String else {
                return fail("missing_required_parameter", "Missing required parameter: 'item_id'.", "item_id")
            }
            guard let contentIndex = (event["content_index"] as? NSNumber)?.intValue else {
                return fail("missing_required_parameter", "Missing required parameter: 'content_index'.", "content_index")
            }
            guard let endNumber = event["audio_end_ms"] as? NSNumber, !Self.isBoolean(endNumber) else {
                return fail("missing_required_parameter", "Missing required parameter: 'audio_end_ms'.", "audio_end_ms")
            }
            guard endNumber.doubleValue == endNumber.doubleValue.rounded() else {
                return fail(
                    "invalid_type", "Invalid type for 'audio_end_ms': expected an integer, but got a decimal number instead.",
                    "audio_end_ms")
            }
            let end = endNumber.intValue
            guard end >= 0 else {
                return fail(
                    "integer_below_min_value",
                    "Invalid 'audio_end_ms': integer below minimum value. Expected a value >= 0, but got \(end) instead.",
                    "audio_end_ms")
            }
            guard let item = state.withLock({ $0.items[itemID] }) else {
                return fail("item_truncate_invalid_item_id", "Item with item_id '\(itemID)' not found.", "item_id")
            }
            guard contentIndex == 0 else {
                return fail("invalid_value", "Invalid 'content_index': the item has no content part \(contentIndex).", "content_index")
            }
            let length = Double(item.bytes) / item.bytesPerMillisecond
            guard Double(end) <= length else {
                return fail(
                    nil, "Audio content of \(Int(length))ms is already shorter than \(end)ms", nil)
            }
            let kept = item.words.filter { $0.start * 1000 < Double(end) }.map(\.text).joined(separator: " ")
            standIn.record {
                $0.truncations.append(
                    Truncation(
                        itemID: itemID, contentIndex: contentIndex, audioEndMilliseconds: end, itemMilliseconds: length,
                        keptTranscript: kept))
            }
            send("conversation.item.truncated", ["item_id": itemID, "content_index": contentIndex, "audio_end_ms": end])
        }
    }
}
