//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HTTPTypes
public import Hummingbird
public import Logging
import NIOCore
import Synchronization

import struct Foundation.Data
import class Foundation.JSONSerialization
import class Foundation.NSNull
import class Foundation.NSNumber

/// OpenAI's side of streamed Chat Completions (`POST /v1/chat/completions` over server-sent events), on a
/// loopback ``StandInHost``: the key and the request's shape are checked as OpenAI checks them, replies stream
/// chunk by chunk as OpenAI's do (role chunk, content tokens, finish chunk, usage chunk, `[DONE]`), with tool
/// calls in OpenAI's fragmented style or Ollama's whole-call style, keep-alive comments, events split across
/// writes, and ``StandInFault``s.
///
/// Faults: `unauthorized` (401 `invalid_api_key`), `rateLimited` (429 `rate_limit_exceeded` with `retry-after`
/// and `retry-after-ms`), `serverError` (that status), and, after the first tokens of the reply,
/// `malformedFrame` (`data: {not json`, then the body ends), `dropMidStream` (the connection is closed without
/// `[DONE]`) and `stall` (no more events; the connection stays open until the client leaves, which the
/// stand-in notices by writing a bare line ending, a no-op between events, every 100 ms). A mid-stream error
/// event is a ``Reply``. ``streamEnds`` records whether each stream completed, was ended by a fault, or was
/// left by the client. ``OpenAIFault``s (OpenAI's own refusals: a spent quota, `x-should-retry`) have a queue of
/// their own, taken before the ``StandInFault``s.
///
/// The base URL to give a client is `host.baseURL + "/v1"`.
public final class OpenAIChatStandIn: Sendable {
    /// How tool calls are streamed.
    public enum ToolCallStyle: Sendable, Hashable {
        /// OpenAI: one call per chunk, `index` 0, 1, …; the first fragment has `id`, `type`, `name` and
        /// `arguments: ""`, then the arguments come in small fragments split anywhere, even inside strings.
        case openAI
        /// Ollama: every call whole in one chunk, all at `index` 0 (told apart by `id`), and every delta
        /// carries `role: "assistant"`.
        case ollama
    }

    /// What the stand-in answers to one request.
    public enum Reply: Sendable {
        /// Stream this text, then `finish_reason: "stop"`.
        case text(String)
        /// Call these tools (`arguments` is the JSON text the model would write), then
        /// `finish_reason: "tool_calls"`.
        case toolCalls([(name: String, arguments: String)])
        /// Stream some text, then call these tools.
        case textAndToolCalls(String, [(name: String, arguments: String)])
        /// Stream some text, then a mid-stream `data: {"error": {…}}` event (with an integer `code`, as vLLM
        /// sends), and end the body without `[DONE]`.
        case errorEvent(afterText: String, message: String)
    }

    /// Refusals particular to OpenAI, beyond ``StandInFault``; each answers one request whose key and body are
    /// good.
    public enum OpenAIFault: Sendable, Hashable {
        /// 429 `insufficient_quota` ("You exceeded your current quota…"), with no `retry-after`, as OpenAI
        /// answers an account without credit.
        case insufficientQuota
        /// `status` with OpenAI's `server_error` body and `x-should-retry: true` or `false`.
        case shouldRetry(status: Int, Bool)
    }

    /// A tool call in a request's assistant message.
    public struct ToolCall: Sendable, Hashable {
        /// The call's id.
        public var id: String
        /// The function's name.
        public var name: String
        /// The arguments, as JSON text.
        public var arguments: String

        /// Creates a tool call.
        public init(id: String, name: String, arguments: String) {
            self.id = id
            self.name = name
            self.arguments = arguments
        }
    }

    /// One message of a request, as parsed.
    public struct Message: Sendable, Hashable {
        /// `system`, `developer`, `user`, `assistant` or `tool`.
        public var role: String
        /// The text (text parts joined), `nil` when the content was `null` or absent.
        public var content: String?
        /// A tool message's `tool_call_id`.
        public var toolCallID: String?
        /// An assistant message's `tool_calls`.
        public var toolCalls: [ToolCall]

        /// Creates a message.
        public init(role: String, content: String?, toolCallID: String? = nil, toolCalls: [ToolCall] = []) {
            self.role = role
            self.content = content
            self.toolCallID = toolCallID
            self.toolCalls = toolCalls
        }
    }

    /// A request that reached the stand-in with a JSON body.
    public struct Request: Sendable {
        /// `model`.
        public var model: String
        /// `messages`, parsed.
        public var messages: [Message]
        /// The names of the `tools` offered.
        public var toolNames: [String]
        /// `stream`.
        public var stream: Bool
        /// `stream_options.include_usage`.
        public var includeUsage: Bool
        /// The body as received.
        public var body: String

        /// The text of the last `user` message.
        public var lastUserText: String? { messages.last { $0.role == "user" }?.content }
    }

    /// How a streamed response ended.
    public enum StreamEnd: Sendable, Hashable {
        /// `[DONE]` was written.
        case completed
        /// The client closed the connection (or stopped reading) before `[DONE]`: cancellation observed.
        case clientDisconnected
        /// A fault ended it on purpose (drop, malformed frame, error event).
        case fault
    }

    /// The stand-in's settings.
    public struct Configuration: Sendable {
        /// The key a request must bear (`Authorization: Bearer <key>`).
        public var apiKey: String
        /// Delay before the first chunk, and between tokens.
        public var timing: StandInTiming
        /// Faults applied to the next requests, one each, in order.
        public var faults: [StandInFault]
        /// OpenAI's own refusals for the next requests, one each, in order, before any of ``faults``.
        public var openAIFaults: [OpenAIFault]
        /// How tool calls are streamed.
        public var toolCallStyle: ToolCallStyle
        /// Whether to send `: keep-alive` comment lines now and then.
        public var keepAliveComments: Bool
        /// Whether to split each event across several body writes (mid-line, mid-character).
        public var splitWrites: Bool
        /// Chooses the reply to a request.
        public var reply: @Sendable (Request) -> Reply

        /// Creates a configuration.
        public init(
            apiKey: String = "sk-stand-in-0123456789", timing: StandInTiming = .immediate, faults: [StandInFault] = [],
            toolCallStyle: ToolCallStyle = .openAI, keepAliveComments: Bool = true, splitWrites: Bool = true,
            reply: @escaping @Sendable (Request) -> Reply = OpenAIChatStandIn.defaultReply, openAIFaults: [OpenAIFault] = []
        ) {
            self.apiKey = apiKey
            self.timing = timing
            self.faults = faults
            self.openAIFaults = openAIFaults
            self.toolCallStyle = toolCallStyle
            self.keepAliveComments = keepAliveComments
            self.splitWrites = splitWrites
            self.reply = reply
        }
    }

    /// The default script: `hang_up` when it is offered and the caller says "bye"; "Done. Anything else?"
    /// after a tool result; otherwise "You said: <last user text>. How can I help?".
    public static func defaultReply(_ request: Request) -> Reply {
        let last = request.lastUserText ?? ""
        if request.messages.last?.role == "tool" { return .text("Done. Anything else?") }
        if request.toolNames.contains("hang_up"), last.lowercased().contains("bye") {
            return .toolCalls([(name: "hang_up", arguments: "{}")])
        }
        return .text("You said: \(last). How can I help?")
    }

    private struct State {
        var faults: [StandInFault]
        var openAIFaults: [OpenAIFault]
        var requests: [Request] = []
        var statuses: [Int] = []
        var streamEnds: [StreamEnd] = []
        var counter = 0
    }

    /// The settings.
    public let configuration: Configuration
    private let state: Mutex<State>
    private let logger: Logger

    /// Creates a stand-in; mount it with ``register(http:webSocket:)``.
    public init(configuration: Configuration = Configuration(), logger: Logger = Logger(label: "voicepipe.stand-in.openai-chat")) {
        self.configuration = configuration
        self.state = Mutex(State(faults: configuration.faults, openAIFaults: configuration.openAIFaults))
        self.logger = logger
    }

    /// Starts a host serving a new stand-in.
    public static func start(configuration: Configuration = Configuration()) async throws -> (StandInHost, OpenAIChatStandIn) {
        let standIn = OpenAIChatStandIn(configuration: configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    // MARK: Recordings

    /// Every request that reached the stand-in with a JSON body, in order (refused ones included).
    public var requests: [Request] { state.withLock { $0.requests } }
    /// The status of every answer, in order (including those to requests without a JSON body).
    public var statuses: [Int] { state.withLock { $0.statuses } }
    /// How each streamed response ended, in order.
    public var streamEnds: [StreamEnd] { state.withLock { $0.streamEnds } }
    /// How many streams the client left before `[DONE]`.
    public var clientDisconnects: Int { state.withLock { $0.streamEnds.count { $0 == .clientDisconnected } } }

    /// Queues a fault for the next request without one.
    public func enqueue(_ fault: StandInFault) { state.withLock { $0.faults.append(fault) } }

    /// Queues one of OpenAI's own refusals for the next request (before any queued ``StandInFault``).
    public func enqueue(_ fault: OpenAIFault) { state.withLock { $0.openAIFaults.append(fault) } }

    // MARK: Routes

    /// Mounts `POST /v1/chat/completions` on `http` (nothing on `webSocket`).
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        http.post("/v1/chat/completions") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 16 << 20)
            let response = self.answer(authorization: request.headers[.authorization], body: String(buffer: body))
            self.state.withLock { $0.statuses.append(response.status.code) }
            return response
        }
    }

    private func answer(authorization: String?, body: String) -> Response {
        let (fault, openAIFault) = state.withLock { state -> (StandInFault?, OpenAIFault?) in
            if !state.openAIFaults.isEmpty { return (nil, state.openAIFaults.removeFirst()) }
            return (state.faults.isEmpty ? nil : state.faults.removeFirst(), nil)
        }
        if fault == .unauthorized { return Self.error(401, Self.incorrectKeyBody(authorization)) }
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            return Self.error(
                401,
                Self.errorBody(
                    message: "You didn't provide an API key. You need to provide your API key in an Authorization header using "
                        + "Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if "
                        + "you're accessing the API from your browser and are prompted for a username and password. You can "
                        + "obtain an API key from https://platform.openai.com/account/api-keys.",
                    type: "invalid_request_error", param: nil, code: nil))
        }
        guard authorization.dropFirst("Bearer ".count) == configuration.apiKey else {
            return Self.error(401, Self.incorrectKeyBody(authorization))
        }
        let parsed: Request
        switch Self.parse(body) {
        case .success(let request): parsed = request
        case .failure(let refusal): return Self.error(400, refusal.body)
        }
        state.withLock { $0.requests.append(parsed) }
        if let refusal = Self.validate(parsed) { return Self.error(400, refusal.body) }
        if let openAIFault { return Self.refusal(openAIFault) }

        switch fault {
        case .rateLimited(let retryAfter):
            var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
            var wait = "20s"
            if let retryAfter {
                let milliseconds = Self.milliseconds(retryAfter)
                headers[HTTPField.Name("retry-after")!] = String((milliseconds + 999) / 1000)
                headers[HTTPField.Name("retry-after-ms")!] = String(milliseconds)
                wait = "\(milliseconds)ms"
            }
            headers[HTTPField.Name("x-ratelimit-limit-requests")!] = "3"
            headers[HTTPField.Name("x-ratelimit-remaining-requests")!] = "0"
            headers[HTTPField.Name("x-ratelimit-reset-requests")!] = wait
            let message =
                "Rate limit reached for \(parsed.model) in organization org-standin on requests per min (RPM): Limit 3, Used 3, "
                + "Requested 1. Please try again in \(wait). Visit https://platform.openai.com/account/rate-limits to learn more."
            return Response(
                status: .tooManyRequests, headers: headers,
                body: ResponseBody(
                    byteBuffer: ByteBuffer(
                        string: Self.errorBody(message: message, type: "requests", param: nil, code: "rate_limit_exceeded"))))
        case .serverError(let status):
            let message =
                status == 503
                ? "The engine is currently overloaded, please try again later."
                : "The server had an error while processing your request. Sorry about that!"
            return Self.error(status, Self.errorBody(message: message, type: "server_error", param: nil, code: nil))
        default:
            return stream(parsed, fault: fault)
        }
    }

    // MARK: Streaming

    private func stream(_ request: Request, fault: StandInFault?) -> Response {
        // The first chunk is due `firstByte` after the request was read, the stand-in's own work included.
        let due = ContinuousClock.now + configuration.timing.firstByte
        let serial = state.withLock { state in
            state.counter += 1
            return state.counter
        }
        let frames = Frames(
            id: "chatcmpl-standin\(serial)", created: 1_767_225_600 + serial, model: request.model,
            includeUsage: request.includeUsage, ollama: configuration.toolCallStyle == .ollama)
        let plan = script(configuration.reply(request), frames: frames, fault: fault)
        let timing = configuration.timing
        let split = configuration.splitWrites
        let headers: HTTPFields = [
            .contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache",
            HTTPField.Name("x-request-id")!: "req_standin\(serial)", HTTPField.Name("openai-processing-ms")!: "12",
        ]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                var end = StreamEnd.clientDisconnected
                defer { self.state.withLock { $0.streamEnds.append(end) } }
                do {
                    try await Task.sleep(until: due)
                    var next = due  // paced events keep to the rate, whatever the writes and sleeps cost
                    for (offset, step) in plan.enumerated() {
                        switch step {
                        case .event(let text, let paced):
                            if paced, offset > 0, timing.interval > .zero {
                                next += timing.interval
                                try await Task.sleep(until: next)
                            }
                            for piece in Self.pieces(of: text, split: split, seed: offset) {
                                try await writer.write(ByteBuffer(bytes: piece))
                            }
                        case .drop:
                            // Mid-stream: after what was written has reached the client (a reset at once can
                            // discard it in flight, and the client would rightly retry a stream that gave nothing).
                            try await Task.sleep(for: .milliseconds(50))
                            end = .fault
                            throw DroppedOnPurpose()
                        case .stall:
                            // No more events. Hummingbird allows half-closure and tells a handler nothing when the
                            // client goes, so probe with a bare line ending (a no-op between SSE events) every 100 ms:
                            // once the client has closed, the write fails.
                            while true {
                                try await Task.sleep(for: .milliseconds(100))
                                try await writer.write(ByteBuffer(string: "\n"))
                            }
                        case .finishWithoutDone:
                            end = .fault
                            try await writer.finish(nil)
                            return
                        }
                    }
                    end = .completed
                    try await writer.finish(nil)
                } catch is DroppedOnPurpose {
                    self.logger.debug("dropping the connection mid-stream")
                    throw DroppedOnPurpose()
                } catch {
                    if end != .completed { end = .clientDisconnected }
                    self.logger.debug("client left mid-stream: \(error)")
                    throw error
                }
            })
    }

    private struct DroppedOnPurpose: Error {}

    private enum Step {
        case event(String, paced: Bool)
        case drop
        case stall
        case finishWithoutDone
    }

    private func script(_ reply: Reply, frames: Frames, fault: StandInFault?) -> [Step] {
        var steps: [Step] = []
        var text = ""
        var calls: [(name: String, arguments: String)] = []
        var errorMessage: String?
        switch reply {
        case .text(let value): text = value
        case .toolCalls(let value): calls = value
        case .textAndToolCalls(let value, let toolCalls):
            text = value
            calls = toolCalls
        case .errorEvent(let value, let message):
            text = value
            errorMessage = message
        }
        steps.append(.event(frames.chunk(delta: frames.roleDelta(content: text.isEmpty && !calls.isEmpty ? nil : "")), paced: false))
        if configuration.keepAliveComments { steps.append(.event(": keep-alive\n\n", paced: false)) }
        let tokens = Self.tokens(text)
        let faultAfter = max(1, min(2, tokens.count))
        for (index, token) in tokens.enumerated() {
            // The first token comes with the role chunk, at the time to first token; the rest at the token rate.
            steps.append(.event(frames.chunk(delta: frames.contentDelta(token)), paced: index > 0))
            if index + 1 == faultAfter, let fault {
                switch fault {
                case .malformedFrame:
                    steps.append(.event("data: {not json\n\n", paced: false))
                    steps.append(.finishWithoutDone)
                    return steps
                case .dropMidStream:
                    steps.append(.drop)
                    return steps
                case .stall:
                    steps.append(.stall)
                    return steps
                default: break
                }
            }
            if configuration.keepAliveComments, index == tokens.count / 2, index > 0 {
                steps.append(.event(": keep-alive\n\n", paced: false))
            }
        }
        if tokens.isEmpty, let fault, [.malformedFrame, .dropMidStream, .stall].contains(fault) {
            switch fault {
            case .malformedFrame: steps.append(.event("data: {not json\n\n", paced: false))
            case .stall: steps.append(.stall)
            default: steps.append(.drop)
            }
            if fault == .malformedFrame { steps.append(.finishWithoutDone) }
            return steps
        }
        if let errorMessage {
            steps.append(
                .event(
                    "data: {\"error\":{\"message\":\(Self.quoted(errorMessage)),\"type\":\"server_error\",\"param\":null,\"code\":500}}\n\n",
                    paced: true))
            steps.append(.finishWithoutDone)
            return steps
        }
        if !calls.isEmpty {
            let ids = calls.indices.map { "call_\(frames.id.suffix(6))\($0)" }
            if configuration.toolCallStyle == .ollama {
                steps.append(.event(frames.chunk(delta: frames.wholeCallsDelta(calls, ids: ids)), paced: true))
            } else {
                for (index, call) in calls.enumerated() {
                    steps.append(
                        .event(frames.chunk(delta: frames.callStartDelta(index: index, id: ids[index], name: call.name)), paced: true))
                    var rest = Substring(call.arguments)
                    while !rest.isEmpty {
                        let piece = rest.prefix(5)
                        rest = rest.dropFirst(piece.count)
                        steps.append(.event(frames.chunk(delta: frames.argumentsDelta(index: index, String(piece))), paced: true))
                    }
                }
            }
        }
        steps.append(.event(frames.chunk(delta: frames.emptyDelta(), finishReason: calls.isEmpty ? "stop" : "tool_calls"), paced: true))
        if frames.includeUsage {
            steps.append(.event(frames.usageChunk(prompt: 20, completion: tokens.count + calls.count * 8), paced: false))
        }
        steps.append(.event("data: [DONE]\n\n", paced: false))
        return steps
    }

    /// Words with their leading space; long words in pieces of four characters.
    static func tokens(_ text: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        for character in text {
            if character == " ", !current.isEmpty, current != " " {
                tokens.append(current)
                current = ""
            }
            current.append(character)
            if current.count >= 6, !current.hasPrefix(" ") || current.count >= 7 {
                tokens.append(current)
                current = ""
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// The bytes of `text` in one to three writes, cut at varying byte offsets (possibly inside a character).
    static func pieces(of text: String, split: Bool, seed: Int) -> [[UInt8]] {
        let bytes = Array(text.utf8)
        guard split, bytes.count > 3 else { return [bytes] }
        let first = 1 + (seed * 7) % (bytes.count - 2)
        let second = first + 1 + (seed * 13) % (bytes.count - first - 1)
        return [Array(bytes[..<first]), Array(bytes[first..<second]), Array(bytes[second...])].filter { !$0.isEmpty }
    }

    // MARK: Parsing and validation

    private struct Refusal: Error {
        var body: String
    }

    private static func parse(_ body: String) -> Result<Request, Refusal> {
        guard let data = body.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .failure(
                Refusal(
                    body: errorBody(
                        message:
                            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
                            + "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.",
                        type: "invalid_request_error", param: nil, code: nil)))
        }
        var messages: [Message] = []
        for case let message as [String: Any] in object["messages"] as? [Any] ?? [] {
            var toolCalls: [ToolCall] = []
            for case let call as [String: Any] in message["tool_calls"] as? [Any] ?? [] {
                let function = call["function"] as? [String: Any]
                toolCalls.append(
                    ToolCall(
                        id: call["id"] as? String ?? "", name: function?["name"] as? String ?? "",
                        arguments: function?["arguments"] as? String ?? ""))
            }
            let content: String? =
                switch message["content"] {
                case let text as String: text
                case let parts as [Any]: parts.compactMap { ($0 as? [String: Any])?["text"] as? String }.joined()
                default: nil
                }
            messages.append(
                Message(
                    role: message["role"] as? String ?? "", content: content, toolCallID: message["tool_call_id"] as? String,
                    toolCalls: toolCalls))
        }
        let tools = (object["tools"] as? [Any] ?? []).compactMap {
            (($0 as? [String: Any])?["function"] as? [String: Any])?["name"] as? String
        }
        let options = object["stream_options"] as? [String: Any]
        return .success(
            Request(
                model: object["model"] as? String ?? "", messages: messages, toolNames: tools, stream: object["stream"] as? Bool ?? false,
                includeUsage: options?["include_usage"] as? Bool ?? false, body: body))
    }

    private static func validate(_ request: Request) -> Refusal? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(request.body.utf8)) as? [String: Any] else { return nil }
        func refuse(_ message: String, param: String?, code: String?) -> Refusal {
            Refusal(body: errorBody(message: message, type: "invalid_request_error", param: param, code: code))
        }
        guard object["model"] is String else {
            return refuse("you must provide a model parameter", param: nil, code: nil)
        }
        guard let rawMessages = object["messages"] as? [Any] else {
            return refuse("Missing required parameter: 'messages'.", param: "messages", code: "missing_required_parameter")
        }
        guard !rawMessages.isEmpty else {
            return refuse(
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
                param: "messages", code: "empty_array")
        }
        var callIDs: Set<String> = []
        for (index, raw) in rawMessages.enumerated() {
            guard let message = raw as? [String: Any] else {
                return refuse(
                    "Invalid type for 'messages[\(index)]': expected an object.", param: "messages[\(index)]", code: "invalid_type")
            }
            let role = message["role"] as? String ?? ""
            guard ["system", "developer", "user", "assistant", "tool"].contains(role) else {
                return refuse(
                    "Invalid value: '\(role)'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.",
                    param: "messages[\(index)].role", code: "invalid_value")
            }
            let calls = message["tool_calls"] as? [Any] ?? []
            let hasContent = message["content"] is String || message["content"] is [Any]
            if role == "assistant", !hasContent, calls.isEmpty {
                return refuse(
                    "Missing required parameter: 'messages[\(index)].content'.", param: "messages[\(index)].content",
                    code: "missing_required_parameter")
            }
            if role != "assistant", role != "tool", !hasContent {
                return refuse(
                    "Missing required parameter: 'messages[\(index)].content'.", param: "messages[\(index)].content",
                    code: "missing_required_parameter")
            }
            for case let call as [String: Any] in calls {
                if let id = call["id"] as? String { callIDs.insert(id) }
            }
            if role == "tool" {
                guard let id = message["tool_call_id"] as? String else {
                    return refuse(
                        "Missing required parameter: 'messages[\(index)].tool_call_id'.", param: "messages[\(index)].tool_call_id",
                        code: "missing_required_parameter")
                }
                guard callIDs.contains(id) else {
                    return refuse(
                        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
                        param: "messages.[\(index)].role", code: nil)
                }
                guard hasContent else {
                    return refuse(
                        "Missing required parameter: 'messages[\(index)].content'.", param: "messages[\(index)].content",
                        code: "missing_required_parameter")
                }
            }
        }
        if object["stream_options"] != nil, object["stream"] as? Bool != true {
            return refuse("The 'stream_options' parameter is only allowed when 'stream' is enabled.", param: "stream_options", code: nil)
        }
        guard object["stream"] as? Bool == true else {
            return refuse("This stand-in only streams: set \"stream\": true.", param: "stream", code: nil)
        }
        return nil
    }

    // MARK: Bodies

    private static func refusal(_ fault: OpenAIFault) -> Response {
        switch fault {
        case .insufficientQuota:
            return error(
                429,
                errorBody(
                    message:
                        "You exceeded your current quota, please check your plan and billing details. For more information on "
                        + "this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
                    type: "insufficient_quota", param: nil, code: "insufficient_quota"))
        case .shouldRetry(let status, let shouldRetry):
            var response = error(
                status,
                errorBody(
                    message: "The server had an error while processing your request. Sorry about that!", type: "server_error",
                    param: nil, code: nil))
            response.headers[HTTPField.Name("x-should-retry")!] = shouldRetry ? "true" : "false"
            return response
        }
    }

    private static func error(_ status: Int, _ body: String) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json; charset=utf-8"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    private static func incorrectKeyBody(_ authorization: String?) -> String {
        let key = String((authorization ?? "").dropFirst("Bearer ".count))
        let redacted =
            key.count > 8 ? String(key.prefix(3)) + String(repeating: "*", count: min(24, key.count - 7)) + String(key.suffix(4)) : key
        return errorBody(
            message: "Incorrect API key provided: \(redacted). You can find your API key at https://platform.openai.com/account/api-keys.",
            type: "invalid_request_error", param: nil, code: "invalid_api_key")
    }

    static func errorBody(message: String, type: String, param: String?, code: String?) -> String {
        "{\"error\":{\"message\":\(quoted(message)),\"type\":\(quoted(type)),\"param\":\(param.map(quoted) ?? "null"),"
            + "\"code\":\(code.map(quoted) ?? "null")}}"
    }

    static func quoted(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

/// The chunks of one streamed response: same `id` and `created` on every chunk.
private struct Frames {
    var id: String
    var created: Int
    var model: String
    var includeUsage: Bool
    var ollama: Bool

    func chunk(delta: String, finishReason: String? = nil) -> String {
        let finish = finishReason.map(OpenAIChatStandIn.quoted) ?? "null"
        let padding = String("abcdefghijKLMNOPQRstuvwxyz0123".prefix(4 + (delta.utf8.count * 7) % 24))
        let usage = includeUsage ? ",\"usage\":null" : ""
        let obfuscation = ollama ? "" : ",\"obfuscation\":\"\(padding)\""
        return "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),"
            + "\"model\":\(OpenAIChatStandIn.quoted(model)),\"service_tier\":\"default\",\"system_fingerprint\":\"fp_standin\","
            + "\"choices\":[{\"index\":0,\"delta\":\(delta),\"logprobs\":null,\"finish_reason\":\(finish)}]\(usage)\(obfuscation)}\n\n"
    }

    func usageChunk(prompt: Int, completion: Int) -> String {
        "data: {\"id\":\"\(id)\",\"object\":\"chat.completion.chunk\",\"created\":\(created),"
            + "\"model\":\(OpenAIChatStandIn.quoted(model)),\"service_tier\":\"default\",\"system_fingerprint\":\"fp_standin\","
            + "\"choices\":[],\"usage\":{\"prompt_tokens\":\(prompt),\"completion_tokens\":\(completion),"
            + "\"total_tokens\":\(prompt + completion),\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},"
            + "\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,"
            + "\"rejected_prediction_tokens\":0}}\(ollama ? "" : ",\"obfuscation\":\"xY\"")}\n\n"
    }

    private var role: String { ollama ? "\"role\":\"assistant\"," : "" }

    func roleDelta(content: String?) -> String {
        "{\"role\":\"assistant\",\"content\":\(content.map(OpenAIChatStandIn.quoted) ?? "null"),\"refusal\":null}"
    }

    func contentDelta(_ text: String) -> String { "{\(role)\"content\":\(OpenAIChatStandIn.quoted(text))}" }

    func emptyDelta() -> String { ollama ? "{\"role\":\"assistant\",\"content\":\"\"}" : "{}" }

    func callStartDelta(index: Int, id: String, name: String) -> String {
        "{\"tool_calls\":[{\"index\":\(index),\"id\":\"\(id)\",\"type\":\"function\","
            + "\"function\":{\"name\":\(OpenAIChatStandIn.quoted(name)),\"arguments\":\"\"}}]}"
    }

    func argumentsDelta(index: Int, _ piece: String) -> String {
        "{\"tool_calls\":[{\"index\":\(index),\"function\":{\"arguments\":\(OpenAIChatStandIn.quoted(piece))}}]}"
    }

    func wholeCallsDelta(_ calls: [(name: String, arguments: String)], ids: [String]) -> String {
        let rendered = calls.indices.map { index in
            "{\"id\":\"\(ids[index])\",\"index\":0,\"type\":\"function\",\"function\":{\"name\":"
                + "\(OpenAIChatStandIn.quoted(calls[index].name)),\"arguments\":\(OpenAIChatStandIn.quoted(calls[index].arguments))}}"
        }
        return "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[\(rendered.joined(separator: ","))]}"
    }
}
