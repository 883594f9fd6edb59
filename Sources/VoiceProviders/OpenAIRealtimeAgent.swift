//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
import Foundation
public import Logging
import Synchronization
public import VoiceAgent
import VoiceDSP

/// A speech-to-speech agent on the OpenAI Realtime API (GA interface, WebSocket): the model hears the
/// caller's audio and answers with audio, with no recogniser or synthesiser of VoicePipe's in between.
///
/// Make one per call (a server's `makeAgent`). Who ends the caller's turns is a choice
/// (``Configuration/TurnDetection``):
/// - ``Configuration/TurnDetection/voicePipe`` (the default): VoicePipe's voice activity detection ends the
///   caller's turns (the session's `turn_detection` is `null`), the agent appends the turn's audio to the
///   provider's input buffer as it is heard (``callerAudioListener``), and at the end of the turn sends
///   `input_audio_buffer.commit` and `response.create`.
/// - ``Configuration/TurnDetection/serverVAD(threshold:prefixPadding:silence:)`` and
///   ``Configuration/TurnDetection/semanticVAD(eagerness:)``: the provider's own detection decides when the caller
///   has finished and starts the response itself (`create_response`, `interrupt_response`); the agent streams all
///   of the caller's audio, silences included, and each reply VoicePipe asks for takes the provider's newest
///   response (waiting for it when the provider has not decided yet). VoicePipe still plays the audio, detects
///   barge-in and truncates; its endpointer only bounds the wait, so set its silence at or below the provider's
///   (`InboundChain.Configuration.endpointer`). A response the provider started for speech that went on
///   (`input_audio_buffer.speech_started` before any reply took it) is dropped and truncated to nothing, so the
///   model does not remember saying it. G.711 µ-law passes both ways untouched at 8 kHz: the
/// caller's audio is re-encoded to the bytes Twilio sent, and the reply's µ-law is decoded to 8 kHz samples
/// that the outbound path encodes back to the same bytes. Run the call at an 8 kHz agent rate
/// (`InboundChain.Configuration.outputRate = 8000`) for that; at 16 kHz the caller's audio is resampled.
///
/// Barge-in: VoicePipe cuts the reply (Twilio's buffer is cleared) and reports, from Twilio's mark echoes,
/// how much of it the caller heard (``AgentEvent/interrupted(number:heard:playedMilliseconds:)``). The agent
/// then cancels the response if it is still running and truncates the assistant item in which playback
/// stopped at that point (`conversation.item.truncate`), clamped to the audio actually received, so that the
/// model's memory of the conversation holds only what the caller heard.
///
/// Failures are ``ProviderError``s thrown from the reply's stream (the call goes on: the controller treats it
/// as a reply that ended); a dropped socket is replaced on the next turn, with a fresh conversation.
public final class OpenAIRealtimeAgent: Agent {
    /// Settings.
    public struct Configuration: Sendable {
        /// Who decides that the caller's turn has ended.
        public enum TurnDetection: Sendable, Hashable {
            /// VoicePipe's voice activity detection and endpointer (the session's `turn_detection` is `null`;
            /// the agent commits the input buffer and asks for a response at each turn's end).
            case voicePipe
            /// The provider's voice activity detection (`server_vad`): speech above `threshold` (0...1), kept with
            /// `prefixPadding` of audio before it, ends after `silence`.
            case serverVAD(threshold: Double = 0.5, prefixPadding: Duration = .milliseconds(300), silence: Duration = .milliseconds(500))
            /// The provider's semantic turn detection (`semantic_vad`): a model judges from the words whether the caller
            /// has finished; `eagerness` trades speed for patience.
            case semanticVAD(eagerness: Eagerness = .auto)

            /// How soon `semantic_vad` answers (the provider's longest waits: low 8 s, medium 4 s, high 2 s).
            public enum Eagerness: String, Sendable, Hashable, CaseIterable {
                /// Waits longest for the caller to go on.
                case low
                /// The middle way.
                case medium
                /// Answers soonest.
                case high
                /// The provider's choice (medium).
                case auto
            }

            /// Whether the provider detects turns (and so hears all of the caller's audio).
            public var isProvider: Bool { self != .voicePipe }
        }

        /// The model (`gpt-realtime`).
        public var model: String
        /// The voice (`marin`; fixed once the session has produced audio).
        public var voice: String
        /// The session's instructions.
        public var instructions: String?
        /// Instructions for the greeting response, said before the caller speaks (`nil`: no greeting).
        public var greetingInstructions: String?
        /// Who ends turns (default ``TurnDetection/voicePipe``).
        public var turnDetection: TurnDetection
        /// A transcription model for the caller's audio (`audio.input.transcription`), e.g. `gpt-4o-mini-transcribe`.
        public var transcriptionModel: String?
        /// The longest wait for the socket and the session (default 10 s).
        public var connectTimeout: Duration
        /// The longest wait from `response.create` to the first audio (default 10 s).
        public var firstAudioTimeout: Duration
        /// The longest silence between two events of a response once its audio has begun (default 10 s).
        public var idleTimeout: Duration

        /// Creates settings.
        public init(
            model: String = "gpt-realtime", voice: String = "marin", instructions: String? = nil, greetingInstructions: String? = nil,
            turnDetection: TurnDetection = .voicePipe, transcriptionModel: String? = nil, connectTimeout: Duration = .seconds(10),
            firstAudioTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(10)
        ) {
            self.model = model
            self.voice = voice
            self.instructions = instructions
            self.greetingInstructions = greetingInstructions
            self.turnDetection = turnDetection
            self.transcriptionModel = transcriptionModel
            self.connectTimeout = connectTimeout
            self.firstAudioTimeout = firstAudioTimeout
            self.idleTimeout = idleTimeout
        }
    }

    /// The provider's endpoint.
    public let endpoint: ProviderEndpoint
    /// The settings.
    public let configuration: Configuration
    /// Metrics: provider `openai`, operation `realtime`.
    public let metrics = ProviderMetrics(provider: "openai", operation: "realtime")
    private let httpClient: HTTPClient
    private let logger: Logger
    private let ring: CallerAudioRing
    private let state = Mutex(State())

    /// The sample rate of everything exchanged with the provider (G.711 µ-law).
    static let rate = 8000

    /// Creates the agent of one call.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration = Configuration(), httpClient: HTTPClient = ProviderHTTPClient.shared,
        logger: Logger = Logger(label: "voicepipe.openai-realtime")
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.httpClient = httpClient
        self.logger = logger
        ring = CallerAudioRing(hearsBetweenTurns: configuration.turnDetection.isProvider)
    }

    /// The ring the controller writes the caller's audio into.
    public var callerAudioListener: (any CallerAudioListener)? { ring }

    /// Truncations sent so far: the item, and where its audio was cut (ms).
    public var truncations: [(itemID: String, audioEndMilliseconds: Int)] { state.withLock { $0.truncations } }

    // MARK: - State

    private struct Item {
        var id: String
        var bytes: Int
    }

    /// One reply (or the greeting) and its response; or a response the provider started on its own that no
    /// reply has taken yet (`turn` is `nil`: its events wait in `backlog`).
    private struct Reply {
        var turn: Int?
        var responseID: String?
        var items: [Item] = []
        var done = false
        var cancelSent = false
        var sink: AsyncStream<Signal>.Continuation?
        var backlog: [RealtimeServerEvent] = []
    }

    enum Signal: Sendable {
        case event(RealtimeServerEvent)
        case failure(ProviderError)
        case deadline
    }

    private struct State {
        var connection: (id: Int, socket: OpenAIRealtimeConnection)?
        var connecting: (id: Int, task: Task<OpenAIRealtimeConnection, any Error>)?
        var connections = 0
        var replies: [Int: Reply] = [:]  // by token
        var latest: [Int: Int] = [:]  // turn → token of its latest reply
        var byResponse: [String: Int] = [:]  // response id → token
        var pendingCreates: [Int] = []  // tokens whose response.created has not come
        var byEvent: [String: Int] = [:]  // client event id → token (commit, response.create)
        var tokens = 0
        var events = 0
        // The caller's audio, as µ-law bytes of the turn under way.
        var audioTurn = -1
        var audio: [UInt8] = []
        var appended: (connection: Int, count: Int)?
        var committed = 0  // bytes of `audio` committed
        var endsHandled: [Int: Int] = [:]
        var pump: Task<Void, Never>?
        var truncations: [(itemID: String, audioEndMilliseconds: Int)] = []
        var ended = false
        // Provider turn detection: responses the provider started that no reply has taken (tokens, oldest
        // first), and the reply waiting for the next one.
        var untaken: [Int] = []
        var waiting: Int?

        mutating func nextEventID() -> String {
            events += 1
            return "vp_evt_\(events)"
        }
    }

    // MARK: - Agent

    public func observe(_ event: AgentEvent) async {
        switch event {
        case .callStarted:
            startPump()
            Task { _ = try? await self.connected() }  // open the session while the call starts
        case .turnStarted:
            startPump()
        case .interrupted(let number, _, let played):
            interrupted(turn: number, playedMilliseconds: played)
        case .callEnded:
            let (pump, socket, connecting) = state.withLock { state in
                state.ended = true
                for token in state.replies.keys { state.replies[token]?.sink?.finish() }
                return (state.pump, state.connection?.socket, state.connecting?.task)
            }
            ring.close()
            await pump?.value
            connecting?.cancel()
            socket?.close()
        case .turnEnded, .dtmf:
            break
        }
    }

    public func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        guard let instructions = configuration.greetingInstructions else { return nil }
        return .reply { yield in try await self.respond(turn: 0, caller: nil, needed: 0, instructions: instructions, yield) }
    }

    public func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        startPump()
        let needed = ring.endsWritten(turn: turn.number)
        return .reply { yield in try await self.respond(turn: turn.number, caller: turn, needed: needed, instructions: nil, yield) }
    }

    // MARK: - The session

    /// The open session, connecting (or reconnecting after a drop) if needed.
    private func connected() async throws(ProviderError) -> OpenAIRealtimeConnection {
        while true {
            enum Step {
                case ready(OpenAIRealtimeConnection)
                case wait(Int, Task<OpenAIRealtimeConnection, any Error>)
            }
            let step = state.withLock { state -> Step in
                if let current = state.connection, !current.socket.isClosed { return .ready(current.socket) }
                if let connecting = state.connecting { return .wait(connecting.id, connecting.task) }
                state.connections += 1
                let id = state.connections
                let task = Task { () throws(ProviderError) -> OpenAIRealtimeConnection in try await self.open(id: id) }
                state.connecting = (id, task)
                return .wait(id, task)
            }
            switch step {
            case .ready(let socket): return socket
            case .wait(let id, let task):
                let result = await task.result
                state.withLock { state in
                    if state.connecting?.id == id { state.connecting = nil }
                    if case .success(let socket) = result, !state.ended { state.connection = (id, socket) }
                }
                switch result {
                case .success(let socket):
                    let (ended, turn) = state.withLock { ($0.ended, $0.audioTurn) }
                    if ended {
                        socket.close()
                        throw .disconnected(provider: "openai", detail: "the call ended")
                    }
                    // The caller's audio heard while the session was opening goes out now, not at the next frame
                    // (with the provider detecting turns, the pump sends it with the next frame, in order).
                    if !configuration.turnDetection.isProvider { flush(turn: turn, force: true) }
                    return socket
                case .failure(let error as ProviderError):
                    metrics.recordError(error)
                    throw error
                case .failure(let error):
                    throw .disconnected(provider: "openai", detail: "\(error)")
                }
            }
        }
    }

    private func open(id: Int) async throws(ProviderError) -> OpenAIRealtimeConnection {
        let url = endpoint.webSocketURL("/realtime", query: [("model", configuration.model)])
        let httpURL = endpoint.httpURL("/realtime", query: [("model", configuration.model)])
        logger.debug("connecting to the Realtime API at \(endpoint)")
        return try await OpenAIRealtimeConnection.open(
            url: url, httpURL: httpURL, apiKey: endpoint.apiKey, sessionUpdate: sessionUpdate(), timeout: configuration.connectTimeout,
            httpClient: httpClient, logger: logger, onEvent: { [weak self] event in self?.received(event, connection: id) },
            onClose: { [weak self] error in self?.closed(connection: id, error) })
    }

    /// The GA `session.update`: µ-law both ways, and the turn detection chosen.
    func sessionUpdate() -> String {
        var input: [String: Any] = ["format": ["type": "audio/pcmu"], "turn_detection": turnDetection()]
        if let model = configuration.transcriptionModel { input["transcription"] = ["model": model] }
        var session: [String: Any] = [
            "type": "realtime", "model": configuration.model, "output_modalities": ["audio"],
            "audio": ["input": input, "output": ["format": ["type": "audio/pcmu"], "voice": configuration.voice]],
        ]
        if let instructions = configuration.instructions { session["instructions"] = instructions }
        return Self.json(["type": "session.update", "session": session])
    }

    /// `audio.input.turn_detection`: `null`, or the provider's detection, which starts responses itself and
    /// cancels one when the caller speaks over it.
    private func turnDetection() -> Any {
        switch configuration.turnDetection {
        case .voicePipe:
            return NSNull()
        case .serverVAD(let threshold, let prefixPadding, let silence):
            return [
                "type": "server_vad", "threshold": threshold, "prefix_padding_ms": Int(prefixPadding.inMilliseconds.rounded()),
                "silence_duration_ms": Int(silence.inMilliseconds.rounded()), "create_response": true, "interrupt_response": true,
            ]
        case .semanticVAD(let eagerness):
            return ["type": "semantic_vad", "eagerness": eagerness.rawValue, "create_response": true, "interrupt_response": true]
        }
    }

    static func json(_ object: [String: Any]) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private func closed(connection id: Int, _ error: ProviderError) {
        let sinks = state.withLock { state -> [AsyncStream<Signal>.Continuation] in
            guard state.connection?.id == id else { return [] }
            state.connection = nil
            state.appended = nil
            state.pendingCreates.removeAll()
            for token in state.untaken { state.replies[token] = nil }  // the provider's responses went with it
            state.untaken.removeAll()
            return state.replies.values.filter { !$0.done }.compactMap(\.sink)
        }
        if !sinks.isEmpty { logger.warning("the Realtime socket ended: \(error)") }
        for sink in sinks { sink.yield(.failure(error)) }
        // The provider's turn detection hears the caller only through an open session: open the next one now.
        if configuration.turnDetection.isProvider, !state.withLock({ $0.ended }) {
            Task { _ = try? await self.connected() }
        }
    }

    /// A server event, on the socket's task.
    private func received(_ event: RealtimeServerEvent, connection id: Int) {
        let (sink, log, stale) = state.withLock { state -> (AsyncStream<Signal>.Continuation?, String?, [String]) in
            guard state.connection?.id == id || state.connecting?.id == id else { return (nil, nil, []) }
            var token: Int?
            var log: String?
            var stale: [String] = []
            switch event.type {
            case "response.created":
                guard let responseID = event.responseID else { return (nil, nil, []) }
                if !state.pendingCreates.isEmpty {
                    token = state.pendingCreates.removeFirst()
                } else if configuration.turnDetection.isProvider {
                    // The provider decided the caller had finished: the waiting reply takes it, or it waits for one.
                    state.tokens += 1
                    token = state.tokens
                    state.replies[token!] = Reply(turn: nil)
                    if let waiting = state.waiting {
                        state.waiting = nil
                        take(token!, for: waiting, &state)
                        token = waiting
                    } else {
                        state.untaken.append(token!)
                    }
                } else {
                    return (nil, nil, [])
                }
                state.byResponse[responseID] = token!
                state.replies[token!]?.responseID = responseID
            case "input_audio_buffer.speech_started":
                // The caller went on: responses started for what they had said so far are stale.
                for untaken in state.untaken { stale += drop(untaken, &state) }
                state.untaken.removeAll()
                return (nil, nil, stale)
            case "response.output_item.added":
                guard let found = event.responseID.flatMap({ state.byResponse[$0] }), let item = event.itemID else { return (nil, nil, []) }
                if state.replies[found]?.items.contains(where: { $0.id == item }) == false {
                    state.replies[found]?.items.append(Item(id: item, bytes: 0))
                }
                return (nil, nil, [])
            case "response.output_audio.delta":
                guard let found = event.responseID.flatMap({ state.byResponse[$0] }), let item = event.itemID,
                    let count = event.audio?.count
                else { return (nil, nil, []) }
                if let index = state.replies[found]?.items.firstIndex(where: { $0.id == item }) {
                    state.replies[found]?.items[index].bytes += count
                } else {
                    state.replies[found]?.items.append(Item(id: item, bytes: count))
                }
                token = found
            case "response.output_audio_transcript.delta", "response.done":
                token = event.responseID.flatMap { state.byResponse[$0] }
                if let token, event.type == "response.done" { state.replies[token]?.done = true }
            case "error":
                log = "Realtime error \(event.errorCode ?? "?"): \(event.errorMessage ?? "")"
                if let eventID = event.errorEventID {
                    guard let found = state.byEvent[eventID] else { return (nil, log, []) }  // a cancel or truncate
                    token = found
                } else {
                    let active = state.replies.values.first { !$0.done && $0.sink != nil }
                    return (active?.sink, log, [])
                }
            case "voicepipe.malformed":
                let active = state.replies.values.first { !$0.done && $0.sink != nil }
                return (active?.sink, event.errorMessage, [])
            default:
                return (nil, nil, [])
            }
            guard let token, let reply = state.replies[token] else { return (nil, log, []) }
            if reply.turn == nil { state.replies[token]?.backlog.append(event) }  // no reply has taken it yet
            return (reply.sink, log, [])
        }
        if let log { logger.warning("\(log)") }
        if !stale.isEmpty, let socket = state.withLock({ $0.connection?.socket }) {
            for message in stale { socket.send(message) }
        }
        sink?.yield(.event(event))
    }

    /// Reply `reply` takes the provider's response of `token` (and the events it has had so far).
    private func take(_ token: Int, for reply: Int, _ state: inout State) {
        guard var response = state.replies.removeValue(forKey: token) else { return }
        response.turn = state.replies[reply]?.turn
        response.sink = state.replies[reply]?.sink
        for event in response.backlog { response.sink?.yield(.event(event)) }
        response.backlog.removeAll()
        state.replies[reply] = response
        if let id = response.responseID { state.byResponse[id] = reply }
    }

    /// Forgets an untaken response (the provider cancels it itself if it still runs: `interrupt_response`) and
    /// truncates its audio to nothing, so the model does not remember saying what the caller never heard.
    /// Returns the client events to send.
    private func drop(_ token: Int, _ state: inout State) -> [String] {
        guard let reply = state.replies.removeValue(forKey: token) else { return [] }
        if let id = reply.responseID { state.byResponse[id] = nil }
        var messages: [String] = []
        for item in reply.items where item.bytes > 0 {
            messages.append(
                Self.json([
                    "type": "conversation.item.truncate", "event_id": state.nextEventID(), "item_id": item.id, "content_index": 0,
                    "audio_end_ms": 0,
                ]))
            state.truncations.append((item.id, 0))
        }
        return messages
    }

    // MARK: - A response

    private func respond(
        turn: Int, caller: CallerTurn?, needed: Int, instructions: String?, _ yield: @escaping @Sendable (AgentOutput) -> Void
    ) async throws {
        do {
            try await respondOrThrow(turn: turn, caller: caller, needed: needed, instructions: instructions, yield)
        } catch let error as ProviderError {
            metrics.recordError(error)
            logger.error("Realtime reply to turn \(turn) failed: \(error)")
            throw error
        }
    }

    private func respondOrThrow(
        turn: Int, caller: CallerTurn?, needed: Int, instructions: String?, _ yield: @escaping @Sendable (AgentOutput) -> Void
    ) async throws {
        let socket = try await connected()
        // With the provider detecting turns, a reply takes the response the provider starts; otherwise the agent
        // commits the turn's audio and asks for one.
        let providerTurn = caller != nil && configuration.turnDetection.isProvider
        if let caller, !providerTurn {
            // Everything the listener heard of the turn is appended before the commit.
            var waited = 0
            while waited < 400, state.withLock({ $0.endsHandled[turn, default: 0] }) < needed {
                try await Task.sleep(for: .milliseconds(5))
                waited += 1
            }
            let appends = pendingAudio(for: caller, socket: socket)
            for append in appends { socket.send(append) }
        }
        try Task.checkCancellation()
        let (signals, sink) = AsyncStream.makeStream(of: Signal.self)
        let deadline = Mutex(ContinuousClock.now + configuration.firstAudioTimeout)
        let (token, commitID, createID, stale) = state.withLock { state -> (Int, String?, String?, [String]) in
            state.tokens += 1
            let token = state.tokens
            state.replies[token] = Reply(turn: turn, sink: sink)
            if let old = state.latest[turn] { state.replies[old]?.sink = nil }
            state.latest[turn] = token
            if providerTurn {
                // The newest response the provider started; older ones answered less than the caller said.
                guard let newest = state.untaken.popLast() else {
                    state.waiting = token
                    return (token, nil, nil, [])
                }
                var stale: [String] = []
                for older in state.untaken { stale += drop(older, &state) }
                state.untaken.removeAll()
                take(newest, for: token, &state)
                return (token, nil, nil, stale)
            }
            var commitID: String?
            if caller != nil {
                commitID = state.nextEventID()
                state.byEvent[commitID!] = token
            }
            let createID = state.nextEventID()
            state.byEvent[createID] = token
            state.pendingCreates.append(token)
            return (token, commitID, createID, [])
        }
        for message in stale { socket.send(message) }
        if let commitID { socket.send(Self.json(["type": "input_audio_buffer.commit", "event_id": commitID])) }
        let started = ContinuousClock.now
        if let createID {
            var create: [String: Any] = ["type": "response.create", "event_id": createID]
            if let instructions { create["response"] = ["instructions": instructions] }
            socket.send(Self.json(create))
        }

        let watchdog = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
                if ContinuousClock.now > deadline.withLock({ $0 }) {
                    sink.yield(.deadline)
                    return
                }
            }
        }
        var gotAudio = false
        defer {
            watchdog.cancel()
            sink.finish()
            let cancel = state.withLock { state -> [String: Any]? in
                state.replies[token]?.sink = nil
                if state.waiting == token { state.waiting = nil }
                // The provider's detection cancels its own responses when the caller speaks (`interrupt_response`).
                guard !providerTurn, let reply = state.replies[token], !reply.done, !reply.cancelSent else { return nil }
                state.replies[token]?.cancelSent = true
                let event = state.nextEventID()
                return reply.responseID.map { ["type": "response.cancel", "event_id": event, "response_id": $0] }
                    ?? ["type": "response.cancel", "event_id": event]
            }
            if let cancel { socket.send(Self.json(cancel)) }
        }
        for await signal in signals {
            switch signal {
            case .deadline:
                let after = gotAudio ? configuration.idleTimeout : configuration.firstAudioTimeout
                throw ProviderError.timedOut(provider: "openai", stage: gotAudio ? "next audio" : "first audio", after: after)
            case .failure(let error):
                throw error
            case .event(let event):
                if gotAudio { deadline.withLock { $0 = .now + configuration.idleTimeout } }
                switch event.type {
                case "response.output_audio.delta":
                    guard let bytes = event.audio, !bytes.isEmpty else { continue }
                    if !gotAudio {
                        gotAudio = true
                        metrics.recordFirstByte(.now - started)
                        deadline.withLock { $0 = .now + configuration.idleTimeout }
                    }
                    yield(.audio(bytes.map { Float(MuLaw.decode($0)) / 32768 }, sampleRate: Self.rate))
                case "response.output_audio_transcript.delta":
                    if let text = event.text, !text.isEmpty { yield(.text(text)) }
                case "response.done":
                    switch event.status {
                    case "failed":
                        throw ProviderError.failed(
                            provider: "openai", message: "the response failed (\(event.reason ?? "no reason given"))")
                    default:
                        return
                    }
                case "error":
                    throw ProviderError.failed(provider: "openai", message: "\(event.errorCode ?? "error"): \(event.errorMessage ?? "")")
                case "voicepipe.malformed":
                    throw ProviderError.malformed(provider: "openai", detail: event.errorMessage ?? "a malformed frame")
                default:
                    break
                }
            }
        }
        try Task.checkCancellation()
        throw ProviderError.disconnected(provider: "openai", detail: "the reply ended without response.done")
    }

    /// The `input_audio_buffer.append` events still needed for `turn` on `socket`: what the listener heard and
    /// has not been appended on this connection, or the turn's own audio when the listener heard none of it.
    private func pendingAudio(for turn: CallerTurn, socket: OpenAIRealtimeConnection) -> [String] {
        let heard = state.withLock { state -> [UInt8]? in
            guard let connection = state.connection, connection.socket === socket, state.audioTurn == turn.number, !state.audio.isEmpty
            else { return nil }
            let from = state.appended?.connection == connection.id ? state.appended!.count : state.committed
            state.appended = (connection.id, state.audio.count)
            state.committed = state.audio.count
            return Array(state.audio[min(from, state.audio.count)...])
        }
        return Self.appends(heard ?? Self.muLaw(turn.audio, sampleRate: turn.sampleRate))
    }

    static func appends(_ bytes: [UInt8]) -> [String] {
        stride(from: 0, to: bytes.count, by: 32_000).map { start in
            let chunk = bytes[start..<min(bytes.count, start + 32_000)]
            return json(["type": "input_audio_buffer.append", "audio": Data(chunk).base64EncodedString()])
        }
    }

    /// `samples` at `sampleRate` as 8 kHz µ-law.
    static func muLaw(_ samples: [Float], sampleRate: Int) -> [UInt8] {
        var input = samples
        if sampleRate != rate, let resampler = try? Resampler(inputRate: sampleRate, outputRate: rate) {
            input = resampler.resample(samples)
        }
        return input.map { MuLaw.encode(Int16(clamping: Int(($0 * 32768).rounded()))) }
    }

    // MARK: - The caller's audio

    private func startPump() {
        state.withLock { state in
            guard state.pump == nil, !state.ended else { return }
            state.pump = Task { await self.pump() }
        }
    }

    /// Drains the ring: encodes each turn's audio (all of the caller's audio, when the provider detects turns)
    /// as 8 kHz µ-law and appends it to the session as it comes.
    private func pump() async {
        let continuous = configuration.turnDetection.isProvider
        var resampler: Resampler?
        var scratch = [Float](repeating: 0, count: 4 * CallerAudioRing.Frame.capacity)
        var codes: [UInt8] = []
        codes.reserveCapacity(4 * CallerAudioRing.Frame.capacity)
        for await _ in ring.signals {
            while let frame = ring.read() {
                let turn = Int(frame.turn)
                if frame.isEndOfTurn {
                    if continuous { continue }
                    flush(turn: turn, force: true)
                    state.withLock { $0.endsHandled[turn, default: 0] += 1 }
                    continue
                }
                codes.removeAll(keepingCapacity: true)
                let rate = Int(frame.sampleRate)
                if rate == Self.rate {
                    frame.withSamples { samples in
                        for sample in samples { codes.append(MuLaw.encode(Int16(clamping: Int((sample * 32768).rounded())))) }
                    }
                } else {
                    if resampler?.inputRate != rate { resampler = try? Resampler(inputRate: rate, outputRate: Self.rate) }
                    guard let converter = resampler else { continue }
                    let needed = converter.maximumOutputCount(forInputCount: CallerAudioRing.Frame.capacity)
                    if scratch.count < needed { scratch = [Float](repeating: 0, count: needed) }
                    let produced = frame.withSamples { input in
                        scratch.withUnsafeMutableBufferPointer { converter.process(input, into: $0) }
                    }
                    for sample in scratch[..<produced] { codes.append(MuLaw.encode(Int16(clamping: Int((sample * 32768).rounded())))) }
                }
                if continuous {
                    stream(codes)
                    continue
                }
                let clear = state.withLock { state -> OpenAIRealtimeConnection? in
                    var stale: OpenAIRealtimeConnection?
                    if state.audioTurn != turn {
                        // A new turn: audio of an older turn that was appended but never committed is dropped.
                        if let appended = state.appended, let connection = state.connection, appended.connection == connection.id,
                            appended.count > state.committed
                        {
                            stale = connection.socket
                        }
                        state.audioTurn = turn
                        state.audio.removeAll(keepingCapacity: true)
                        state.committed = 0
                        state.appended = state.connection.map { ($0.id, 0) }
                    }
                    state.audio.append(contentsOf: codes)
                    return stale
                }
                clear?.send(Self.json(["type": "input_audio_buffer.clear"]))
                flush(turn: turn, force: false)
            }
        }
    }

    /// Appends the caller's audio as it comes, every 20 ms, for the provider's turn detection. Without a session
    /// (opening, or replaced after a drop) the last second is kept for the next one. Pump task only.
    private func stream(_ codes: [UInt8]) {
        let (socket, kept) = state.withLock { state -> (OpenAIRealtimeConnection?, [UInt8]) in
            guard let connection = state.connection, !connection.socket.isClosed else {
                state.audio.append(contentsOf: codes)
                if state.audio.count > Self.rate { state.audio.removeFirst(state.audio.count - Self.rate) }
                return (nil, [])
            }
            defer { state.audio.removeAll(keepingCapacity: true) }
            return (connection.socket, state.audio)
        }
        guard let socket else { return }
        for append in Self.appends(kept.isEmpty ? codes : kept + codes) { socket.send(append) }
    }

    /// Appends the turn's audio not yet sent on the open connection: in 100 ms pieces, or all of it (`force`).
    private func flush(turn: Int, force: Bool) {
        let (socket, bytes) = state.withLock { state -> (OpenAIRealtimeConnection?, [UInt8]) in
            guard state.audioTurn == turn, let connection = state.connection, !connection.socket.isClosed else { return (nil, []) }
            let from = state.appended?.connection == connection.id ? state.appended!.count : state.committed
            guard state.audio.count - from >= (force ? 1 : 800) else { return (nil, []) }
            state.appended = (connection.id, state.audio.count)
            return (connection.socket, Array(state.audio[from...]))
        }
        guard let socket else { return }
        for append in Self.appends(bytes) { socket.send(append) }
    }

    // MARK: - Barge-in

    /// The caller heard `played` ms of turn `turn`'s reply: cancel the response if it still runs, and truncate
    /// the item in which playback stopped there (clamped to the audio received; nothing when all of it played).
    private func interrupted(turn: Int, playedMilliseconds played: Double) {
        let (socket, messages) = state.withLock { state -> (OpenAIRealtimeConnection?, [String]) in
            guard let token = state.latest[turn], let reply = state.replies[token], let connection = state.connection else {
                return (nil, [])
            }
            var messages: [String] = []
            // The provider's own detection cancels what runs when the caller speaks (`interrupt_response`).
            if !configuration.turnDetection.isProvider, !reply.done, !reply.cancelSent, reply.responseID != nil {
                state.replies[token]?.cancelSent = true
                messages.append(Self.json(["type": "response.cancel", "event_id": state.nextEventID(), "response_id": reply.responseID!]))
            }
            var start = 0.0
            for item in reply.items {
                let length = Double(item.bytes) / 8
                if played < start + length {
                    let end = min(Int(length.rounded(.down)), max(0, Int((played - start).rounded(.down))))
                    messages.append(
                        Self.json([
                            "type": "conversation.item.truncate", "event_id": state.nextEventID(), "item_id": item.id, "content_index": 0,
                            "audio_end_ms": end,
                        ]))
                    state.truncations.append((item.id, end))
                    break
                }
                start += length
            }
            return (connection.socket, messages)
        }
        for message in messages { socket?.send(message) }
    }
}
