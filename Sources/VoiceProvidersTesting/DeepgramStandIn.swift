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

/// Deepgram's live recognition (`/v1/listen`) on a ``StandInHost``, with scripted transcripts.
///
/// The handshake is checked as Deepgram does: `Authorization: Token <key>`, and raw audio needs both
/// `encoding` and `sample_rate` (this stand-in takes only `mulaw` at 8000 Hz); a refusal is an HTTP status
/// with `dg-request-id`, `dg-error` and a JSON body. The audio (binary frames) is recorded byte for byte
/// and split into utterances by energy (speech: a 20 ms block whose RMS exceeds
/// ``Configuration/speechThreshold``). Each utterance gets the next transcript of
/// ``Configuration/transcripts``; each burst of speech reveals one more word in interim `Results`. Finals
/// follow Deepgram's rules in stream time: `is_final` when speech resumes after a pause of 200 ms or more,
/// `is_final` + `speech_final` once the silence reaches `endpointing` ms, `UtteranceEnd` after
/// `utterance_end_ms` of word gap (with `interim_results=true`), a `from_finalize` result for `Finalize`,
/// `Metadata` then close 1000 for `CloseStream`, close 1011 `NET-0001` after ``Configuration/idleTimeout``
/// without audio or `KeepAlive`. Finals, `UtteranceEnd` and `Metadata` go out ``StandInTiming/firstByte``
/// after the audio or message that caused them.
///
/// Faults: `unauthorized`, `rateLimited`, `serverError` refuse the next handshake (each refused request,
/// including a client's repeat of the handshake to read the status, takes one); `malformedFrame` sends a
/// text frame that is not JSON after the first interim result; `dropMidStream` breaks the connection after
/// ``Configuration/dropAfterAudioFrames`` audio frames; `stall` stops sending anything after the first
/// interim result. A broken connection is a frame with a reserved opcode (`StandInHost`'s context gives no
/// access to the TCP channel): the client's WebSocket fails it at once, without a close frame from the
/// server, as an abrupt TCP close would.
public final class DeepgramStandIn: Sendable {
    /// What it accepts and how it answers.
    public struct Configuration: Sendable {
        /// The key it accepts (`Authorization: Token <key>`).
        public var apiKey: String
        /// `firstByte`: the delay of finals after the audio (or `Finalize`) that ends them.
        public var timing: StandInTiming
        /// The transcripts of successive utterances (cycled).
        public var transcripts: [String]
        /// The RMS above which a 20 ms block is speech.
        public var speechThreshold: Float
        /// Noise mode: `speech_final` never comes; only `UtteranceEnd` closes an utterance.
        public var noise: Bool
        /// Closes with 1011 `NET-0001` after this long without audio or `KeepAlive`.
        public var idleTimeout: Duration
        /// Faults for the next handshakes and connections, in order.
        public var faults: [StandInFault]
        /// How many audio frames a `dropMidStream` connection takes before it breaks.
        public var dropAfterAudioFrames: Int

        /// Creates a configuration.
        public init(
            apiKey: String = "dg-test-key", timing: StandInTiming = StandInTiming(firstByte: .milliseconds(150)),
            transcripts: [String] = ["hello world"], speechThreshold: Float = 0.02, noise: Bool = false,
            idleTimeout: Duration = .seconds(10), faults: [StandInFault] = [], dropAfterAudioFrames: Int = 10
        ) {
            self.apiKey = apiKey
            self.timing = timing
            self.transcripts = transcripts
            self.speechThreshold = speechThreshold
            self.noise = noise
            self.idleTimeout = idleTimeout
            self.faults = faults
            self.dropAfterAudioFrames = dropAfterAudioFrames
        }
    }

    /// How a connection ended.
    public enum Ending: Sendable, Hashable {
        /// The client ended it (a close frame or its TCP close).
        case client
        /// The stand-in closed it with this code and reason (1000 after `CloseStream`, 1011 `NET-0001`).
        case closed(code: Int, reason: String)
        /// The stand-in broke it (`dropMidStream`, or an empty binary frame from the client).
        case dropped
    }

    /// One accepted WebSocket.
    public struct Connection: Sendable, Hashable {
        /// The handshake's query string.
        public var query: String
        /// The handshake's `Authorization` header.
        public var authorization: String?
        /// The audio bytes it received.
        public var audioBytes = 0
        /// The `type` of each control message received, in order (`?` for one it could not read).
        public var controlMessages: [String] = []
        /// What it sent, in order: `interim`, `final`, `speech_final`, `from_finalize`, `UtteranceEnd`,
        /// `Metadata`, `malformed`.
        public var sent: [String] = []
        /// How it ended (`nil`: still open).
        public var ending: Ending?
    }

    /// Everything it has seen.
    public struct Recording: Sendable, Hashable {
        /// Every audio byte received, over all connections, in order.
        public var audio: [UInt8] = []
        /// Every control message `type` received, over all connections, in order.
        public var controlMessages: [String] = []
        /// The accepted connections, in order.
        public var connections: [Connection] = []
        /// The statuses of refused requests (handshakes and their plain-GET repeats), in order.
        public var refusals: [Int] = []
    }

    struct State {
        var faults: [StandInFault]
        var recording = Recording()
        var nextTranscript = 0
    }

    /// The configuration it runs with.
    public let configuration: Configuration
    let state: Mutex<State>

    /// Creates a stand-in.
    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
        state = Mutex(State(faults: configuration.faults))
    }

    /// Starts a host with this stand-in mounted.
    public static func start(configuration: Configuration = .init()) async throws -> (StandInHost, DeepgramStandIn) {
        let standIn = DeepgramStandIn(configuration: configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    /// What it has seen so far.
    public var recording: Recording { state.withLock { $0.recording } }

    /// Queues a fault for the next handshake or connection.
    public func enqueue(_ fault: StandInFault) { state.withLock { $0.faults.append(fault) } }

    /// Mounts `/v1/listen`: the WebSocket, and the plain GET a client repeats to read a refused handshake's status.
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        http.get("/v1/listen") { request, _ -> Response in self.refusal(request) }
        webSocket.ws("/v1/listen") { request, _ in
            // A refused upgrade takes its fault and is recorded here; the host can only answer it with a bare
            // 400, so the status, `dg-error` and body go to the plain GET a client repeats to read them.
            let refuse = self.state.withLock { state -> Bool in
                if let (status, _) = self.handshakeProblem(request) {
                    state.recording.refusals.append(status)
                    return true
                }
                guard let first = state.faults.first, Self.isHandshakeFault(first) else { return false }
                state.faults.removeFirst()
                state.recording.refusals.append(Self.status(of: first))
                return true
            }
            return refuse ? .dontUpgrade : .upgrade([:])
        } onUpgrade: { inbound, outbound, context in
            let request = context.request
            let fault = self.state.withLock { state -> StandInFault? in
                state.recording.connections.append(
                    Connection(query: request.uri.query ?? "", authorization: request.headers[.authorization]))
                guard let first = state.faults.first, !Self.isHandshakeFault(first) else { return nil }
                state.faults.removeFirst()
                return first
            }
            let index = self.state.withLock { $0.recording.connections.count - 1 }
            let query = Self.parameters(request.uri.query ?? "")
            try await self.serve(inbound: inbound, outbound: outbound, connection: index, query: query, fault: fault)
        }
    }

    private static func status(of fault: StandInFault) -> Int {
        switch fault {
        case .unauthorized: 401
        case .rateLimited: 429
        case .serverError(let status): status
        case .malformedFrame, .dropMidStream, .stall: 500
        }
    }

    private static func isHandshakeFault(_ fault: StandInFault) -> Bool {
        switch fault {
        case .unauthorized, .rateLimited, .serverError: true
        case .malformedFrame, .dropMidStream, .stall: false
        }
    }

    static func parameters(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            result[name] = value
        }
        return result
    }

    /// Why Deepgram would refuse this handshake (status, message), ignoring faults.
    private func handshakeProblem(_ request: Request) -> (Int, String)? {
        guard request.headers[.authorization] == "Token \(configuration.apiKey)" else {
            return (401, "Invalid credentials.")
        }
        let query = Self.parameters(request.uri.query ?? "")
        guard query["encoding"] == "mulaw", query["sample_rate"] == "8000" else {
            return (400, "Raw audio requires encoding and sample_rate; this stand-in takes encoding=mulaw&sample_rate=8000.")
        }
        return nil
    }

    /// The answer to a handshake the WebSocket router refused (or to a plain GET).
    private func refusal(_ request: Request) -> Response {
        var retryAfter: Duration?
        let (status, message): (Int, String) = state.withLock { state in
            let answer: (Int, String)
            if let problem = handshakeProblem(request) {
                answer = problem
            } else if let first = state.faults.first, Self.isHandshakeFault(first) {
                state.faults.removeFirst()
                switch first {
                case .unauthorized: answer = (401, "Invalid credentials.")
                case .rateLimited(let wait):
                    retryAfter = wait
                    answer = (429, "Too many requests. Please try again later.")
                case .serverError(let status): answer = (status, "Internal server error.")
                default: answer = (500, "Internal server error.")
                }
            } else {
                answer = (426, "Expected a WebSocket upgrade.")
            }
            state.recording.refusals.append(answer.0)
            return answer
        }
        let code =
            switch status {
            case 401: "INVALID_AUTH"
            case 429: "TOO_MANY_REQUESTS"
            case 400: "Bad Request"
            default: "INTERNAL_SERVER_ERROR"
            }
        let requestID = UUID().uuidString.lowercased()
        let body = Self.json(["err_code": code, "err_msg": message, "request_id": requestID])
        var headers: HTTPFields = [.contentType: "application/json"]
        if let name = HTTPField.Name("dg-request-id") { headers[name] = requestID }
        if let name = HTTPField.Name("dg-error") { headers[name] = message }
        if let retryAfter { headers[.retryAfter] = String(retryAfter.components.seconds) }
        return Response(
            status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    func nextTranscript() -> [String] {
        state.withLock { state in
            let transcripts = configuration.transcripts.isEmpty ? [""] : configuration.transcripts
            defer { state.nextTranscript += 1 }
            return transcripts[state.nextTranscript % transcripts.count].split(separator: " ").map(String.init)
        }
    }

    func record(_ connection: Int, _ change: (inout Connection) -> Void) {
        state.withLock { change(&$0.recording.connections[connection]) }
    }
}

// MARK: - A connection

extension DeepgramStandIn {
    /// A message for the client, in order, not before `at`.
    enum Outbound: Sendable {
        case text(String, label: String, at: ContinuousClock.Instant)
        case close(code: Int, reason: String, at: ContinuousClock.Instant)
        case drop
    }

    private struct Broken: Error {}

    /// What the reader, the writer and the idle timer of one connection share.
    private final class Shared: Sendable {
        let lastActivity = Mutex(ContinuousClock.now)
        let interims = Mutex(0)
        let done = Mutex(false)
    }

    func serve(
        inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter, connection: Int, query: [String: String],
        fault: StandInFault?
    ) async throws {
        let (queue, sender) = AsyncStream.makeStream(of: Outbound.self)
        let shared = Shared()
        var listener = Listener(standIn: self, query: query)
        var audioFrames = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            // The writer: in order, each message at its time; a fault may stop or break it.
            group.addTask {
                var malformedSent = false
                for await item in queue {
                    switch item {
                    case .text(let text, let label, let at):
                        try await Task.sleep(until: at)
                        let stalled = fault == .stall && shared.interims.withLock { $0 } > 1
                        if stalled { continue }
                        try await outbound.write(.text(text))
                        self.record(connection) { $0.sent.append(label) }
                        if label == "interim" {
                            shared.interims.withLock { $0 += 1 }
                            if fault == .malformedFrame, !malformedSent {
                                malformedSent = true
                                try await outbound.write(.text("{\"type\": \"Results\", \"channel\": <html>"))
                                self.record(connection) { $0.sent.append("malformed") }
                            }
                        }
                    case .close(let code, let reason, let at):
                        try await Task.sleep(until: at)
                        self.record(connection) { $0.ending = .closed(code: code, reason: reason) }
                        try await outbound.close(WebSocketErrorCode(codeNumber: code), reason: reason)
                        return
                    case .drop:
                        self.record(connection) { $0.ending = .dropped }
                        // A reserved opcode: the client fails the connection at once.
                        let frame = WebSocketFrame(
                            fin: true, opcode: WebSocketOpcode(encodedWebSocketOpcode: 0x3) ?? .pong, data: ByteBuffer())
                        try await outbound.write(.custom(frame))
                        return
                    }
                }
            }
            // NET-0001: no audio nor KeepAlive for idleTimeout.
            let idleTimeout = configuration.idleTimeout
            group.addTask {
                while !shared.done.withLock({ $0 }) {
                    try await Task.sleep(for: .milliseconds(50))
                    if ContinuousClock.now - shared.lastActivity.withLock({ $0 }) >= idleTimeout {
                        sender.yield(.close(code: 1011, reason: "NET-0001", at: .now))
                        return
                    }
                }
            }
            do {
                for try await message in inbound.messages(maxSize: 1 << 20) {
                    switch message {
                    case .binary(let buffer):
                        let bytes = Array(buffer.readableBytesView)
                        guard !bytes.isEmpty else {
                            // Deepgram reads an empty binary frame as the end and closes at once.
                            sender.yield(.drop)
                            throw Broken()
                        }
                        shared.lastActivity.withLock { $0 = .now }
                        audioFrames += 1
                        state.withLock {
                            $0.recording.audio += bytes
                            $0.recording.connections[connection].audioBytes += bytes.count
                        }
                        if fault == .dropMidStream, audioFrames >= configuration.dropAfterAudioFrames {
                            sender.yield(.drop)
                            throw Broken()
                        }
                        for event in listener.feed(bytes) { sender.yield(event) }
                    case .text(let text):
                        let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
                        let type = object?["type"] as? String ?? "?"
                        state.withLock {
                            $0.recording.controlMessages.append(type)
                            $0.recording.connections[connection].controlMessages.append(type)
                        }
                        switch type {
                        case "KeepAlive": shared.lastActivity.withLock { $0 = .now }
                        case "Finalize": for event in listener.flush(fromFinalize: true) { sender.yield(event) }
                        case "CloseStream":
                            for event in listener.flush(fromFinalize: false) where listener.hasWords(event) { sender.yield(event) }
                            sender.yield(listener.metadata())
                            sender.yield(.close(code: 1000, reason: "", at: listener.later()))
                        default: break
                        }
                    }
                }
            } catch is Broken {}
            // The writer sends what is queued (or fails at once if the socket is gone); the idle timer stops.
            sender.finish()
            shared.done.withLock { $0 = true }
            try? await group.waitForAll()
            record(connection) { if $0.ending == nil { $0.ending = .client } }
        }
    }
}

/// The scripted recogniser of one connection, in stream time (samples received).
struct Listener {
    typealias Outbound = DeepgramStandIn.Outbound
    struct Word {
        var text: String
        var start: Double
        var end: Double
    }

    let standIn: DeepgramStandIn
    let endpointing: Int?
    let utteranceEnd: Int?
    let requestID = UUID().uuidString.lowercased()
    private var pending: [UInt8] = []
    private var samples = 0
    /// The current utterance's words (nil: none open).
    private var script: [String]?
    private var revealed: [Word] = []
    private var finalCount = 0
    private var inRun = false
    private var runStart = 0.0
    private var lastSpeechEnd = 0.0
    private var silence = 0
    private var speech = 0
    private var segmentStart = 0.0
    /// The end of the last final word, while an `UtteranceEnd` is owed.
    private var owedUtteranceEnd: Double?

    init(standIn: DeepgramStandIn, query: [String: String]) {
        self.standIn = standIn
        endpointing = query["endpointing"].flatMap { Int($0) }
        utteranceEnd = query["interim_results"] == "true" ? query["utterance_end_ms"].flatMap { Int($0) } : nil
    }

    private var now: Double { Double(samples) / 8000 }
    func later() -> ContinuousClock.Instant { .now + standIn.configuration.timing.firstByte }

    mutating func feed(_ bytes: [UInt8]) -> [Outbound] {
        pending += bytes
        var events: [Outbound] = []
        while pending.count >= 160 {
            var energy: Float = 0
            for byte in pending[0..<160] {
                let value = Float(MuLaw.decode(byte)) / 32768
                energy += value * value
            }
            pending.removeFirst(160)
            let isSpeech = (energy / 160).squareRoot() > standIn.configuration.speechThreshold
            let blockStart = now
            samples += 160
            if isSpeech { events += speechBlock(from: blockStart) } else { events += silenceBlock() }
        }
        return events
    }

    private mutating func speechBlock(from blockStart: Double) -> [Outbound] {
        var events: [Outbound] = []
        if script == nil {
            script = standIn.nextTranscript()
            revealed = []
            finalCount = 0
            speech = 0
        }
        owedUtteranceEnd = nil
        if !inRun {
            // A pause of 200 ms or more inside the utterance: what came before it is final.
            if silence >= 200, finalCount < revealed.count { events.append(final(speechFinal: false, fromFinalize: false)) }
            inRun = true
            runStart = blockStart
        }
        silence = 0
        lastSpeechEnd = now
        speech += 20
        if speech % 100 == 0 { events.append(interim()) }
        return events
    }

    private mutating func silenceBlock() -> [Outbound] {
        var events: [Outbound] = []
        silence += 20
        if inRun, silence >= 60 {
            inRun = false
            if let script, revealed.count < script.count {
                revealed.append(Word(text: script[revealed.count], start: runStart, end: lastSpeechEnd))
                events.append(interim())
            }
        }
        if script != nil, finalCount < revealed.count, !inRun {
            if let endpointing, !standIn.configuration.noise, silence >= endpointing {
                events.append(final(speechFinal: true, fromFinalize: false))
                closeUtterance()
            } else if endpointing == nil || standIn.configuration.noise, silence >= 300 {
                events.append(final(speechFinal: false, fromFinalize: false))
            }
        }
        if let wordEnd = owedUtteranceEnd, let utteranceEnd, now - wordEnd >= Double(utteranceEnd) / 1000 {
            owedUtteranceEnd = nil
            let message = DeepgramStandIn.json(["type": "UtteranceEnd", "channel": [0, 1], "last_word_end": Self.round(wordEnd)])
            events.append(.text(message, label: "UtteranceEnd", at: later()))
            if script != nil, finalCount == revealed.count { closeUtterance() }
        }
        return events
    }

    private mutating func closeUtterance() {
        script = nil
        revealed = []
        finalCount = 0
        inRun = false
    }

    /// `Finalize` (or `CloseStream`): whatever is not final yet, as one final result.
    mutating func flush(fromFinalize: Bool) -> [Outbound] {
        // The audio short of a whole block counts too: stream time is every sample received.
        samples += pending.count
        pending = []
        if let script, revealed.count < script.count, speech > 0 {
            // The recogniser's best guess for the words it has not placed yet: they share the rest.
            let from = inRun ? runStart : lastSpeechEnd
            let rest = script[revealed.count...]
            let step = max(0, (max(now, from) - from) / Double(rest.count))
            for (offset, text) in rest.enumerated() {
                revealed.append(Word(text: text, start: from + step * Double(offset), end: from + step * Double(offset + 1)))
            }
        }
        let event = final(speechFinal: false, fromFinalize: fromFinalize)
        closeUtterance()
        return [event]
    }

    func hasWords(_ event: Outbound) -> Bool {
        if case .text(let text, _, _) = event { return !text.contains("\"words\":[]") }
        return false
    }

    private func result(words: [Word], isFinal: Bool, speechFinal: Bool, fromFinalize: Bool) -> String {
        let start = segmentStart
        let wordObjects: [[String: Any]] = words.map { word in
            let bare = word.text.lowercased().filter { $0.isLetter || $0.isNumber || $0 == "'" }
            return [
                "word": bare, "punctuated_word": word.text, "start": Self.round(word.start), "end": Self.round(word.end),
                "confidence": 0.98,
            ]
        }
        let object: [String: Any] = [
            "type": "Results", "channel_index": [0, 1], "start": Self.round(start), "duration": Self.round(now - start),
            "is_final": isFinal, "speech_final": speechFinal, "from_finalize": fromFinalize,
            "channel": [
                "alternatives": [
                    ["transcript": words.map(\.text).joined(separator: " "), "confidence": words.isEmpty ? 0 : 0.97, "words": wordObjects]
                ]
            ],
            "metadata": [
                "request_id": requestID,
                "model_info": ["name": "general-nova-3", "version": "2025-01-01.0", "arch": "nova-3"],
                "model_uuid": "40bd3654-e622-47c4-a111-63a61b23bd7a",
            ],
        ]
        return DeepgramStandIn.json(object)
    }

    private func interim() -> Outbound {
        var words = Array(revealed[finalCount...])
        if inRun, let script, revealed.count < script.count {
            // The word being spoken: a revision of it at first (half its letters), the whole of it later.
            let text = script[revealed.count]
            let shown = speech % 200 == 0 ? text : String(text.prefix(max(1, text.count / 2)))
            words.append(Word(text: shown, start: runStart, end: now))
        }
        return .text(result(words: words, isFinal: false, speechFinal: false, fromFinalize: false), label: "interim", at: .now)
    }

    private mutating func final(speechFinal: Bool, fromFinalize: Bool) -> Outbound {
        let words = Array(revealed[finalCount...])
        let text = result(words: words, isFinal: true, speechFinal: speechFinal, fromFinalize: fromFinalize)
        finalCount = revealed.count
        segmentStart = now
        if let last = words.last { owedUtteranceEnd = last.end }
        let label = fromFinalize ? "from_finalize" : (speechFinal ? "speech_final" : "final")
        return .text(text, label: label, at: later())
    }

    func metadata() -> Outbound {
        let object: [String: Any] = [
            "type": "Metadata", "transaction_key": "deprecated", "request_id": requestID,
            "sha256": String(repeating: "0", count: 64), "created": ISO8601DateFormatter().string(from: Date()),
            "duration": Self.round(now), "channels": 1,
        ]
        return .text(DeepgramStandIn.json(object), label: "Metadata", at: later())
    }

    static func round(_ value: Double) -> Double { (value * 1000).rounded() / 1000 }
}
