//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
public import Logging
import NIOCore
import NIOHTTP1
import Synchronization
public import VoiceAgent

/// A ``LanguageModel`` backed by OpenAI's Chat Completions API, or any OpenAI-compatible server (Groq,
/// Together, vLLM, Ollama, llama.cpp), streamed over server-sent events, with tool calling.
///
/// Each reply is a `POST /chat/completions` with `stream: true`; every `delta.content` is yielded as
/// ``ModelOutput/text(_:)`` the moment it arrives. When the model calls tools, they run concurrently (text
/// already yielded is already being spoken), a tool's ``ModelTool/filler`` is said if it is slow, the results
/// go back to the model in a second request, and each tool's actions (``ModelOutput/hangUp``…) are yielded.
///
/// Failures are ``ProviderError``s. A request is retried, before anything of it was yielded, on 408, 409,
/// 429, 5xx and connection failures, as OpenAI's SDK does. Cancelling the consuming task, or dropping the
/// stream, cancels the HTTP request at once.
public struct OpenAIChatModel: LanguageModel {
    /// How to call the model.
    public struct Configuration: Sendable {
        /// The model, e.g. `gpt-4o-mini` (or the server's name for it).
        public var model: String
        /// The sampling temperature; `nil` leaves the server's default.
        public var temperature: Double?
        /// The reply's token limit, sent as `max_tokens` (what every compatible server understands).
        public var maxTokens: Int?
        /// The longest wait, from the request, for the first event of the response (keep-alive comments do not
        /// count).
        public var firstTokenTimeout: Duration
        /// The longest wait between two events once the response has started. Keep-alive comments do not count:
        /// a server that only keeps the line alive for this long has stalled, as far as a caller can tell.
        public var chunkTimeout: Duration
        /// Attempts per request, retries included (1: never retry).
        public var maximumAttempts: Int
        /// How long a tool may run before its filler is said.
        public var fillerDelay: Duration
        /// How many rounds of tool calls one reply may take.
        public var maximumToolRounds: Int
        /// Whether to ask for the usage chunk (`stream_options.include_usage`).
        public var includeUsage: Bool

        /// Creates a configuration.
        public init(
            model: String, temperature: Double? = nil, maxTokens: Int? = nil, firstTokenTimeout: Duration = .seconds(10),
            chunkTimeout: Duration = .seconds(10), maximumAttempts: Int = 3, fillerDelay: Duration = .seconds(1),
            maximumToolRounds: Int = 4, includeUsage: Bool = true
        ) {
            self.model = model
            self.temperature = temperature
            self.maxTokens = maxTokens
            self.firstTokenTimeout = firstTokenTimeout
            self.chunkTimeout = chunkTimeout
            self.maximumAttempts = maximumAttempts
            self.fillerDelay = fillerDelay
            self.maximumToolRounds = maximumToolRounds
            self.includeUsage = includeUsage
        }
    }

    /// Where the server is, and the key.
    public let endpoint: ProviderEndpoint
    /// How to call the model.
    public let configuration: Configuration
    /// The tools the model may call.
    public let tools: [ModelTool]
    private let httpClient: HTTPClient
    private let logger: Logger
    private let metrics = ProviderMetrics(provider: "openai", operation: "chat")

    static let provider = "openai"

    /// Creates a model client.
    public init(
        endpoint: ProviderEndpoint, configuration: Configuration, tools: [ModelTool] = [],
        httpClient: HTTPClient = ProviderHTTPClient.shared,
        logger: Logger = Logger(label: "voicepipe.openai.chat")
    ) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.tools = tools
        self.httpClient = httpClient
        self.logger = logger
    }

    /// Streams the reply to `messages`, running the model's tool calls along the way.
    public func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: ModelOutput.self)
        let sink = ChatOutputSink(continuation)
        let task = Task {
            do {
                try await run(messages.map(ChatWireMessage.chat), sink)
                continuation.finish()
            } catch {
                if Task.isCancelled || error is CancellationError {
                    logger.debug("chat request cancelled")
                    continuation.finish()
                    return
                }
                let providerError: ProviderError =
                    switch error {
                    case let failure as ChatAttemptFailure: failure.error
                    case let error as ProviderError: error
                    default: .disconnected(provider: Self.provider, detail: "\(error)")
                    }
                metrics.recordError(providerError)
                logger.info("chat request failed", metadata: ["error": "\(providerError)"])
                continuation.finish(throwing: providerError)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    // MARK: Rounds

    private func run(_ initial: [ChatWireMessage], _ sink: ChatOutputSink) async throws {
        var conversation = initial
        var round = 0
        while true {
            sink.startRound()
            let result = try await request(conversation, sink)
            guard !result.toolCalls.isEmpty else { return }
            guard round < configuration.maximumToolRounds else {
                logger.warning("the model kept calling tools; stopping after \(round) rounds")
                return
            }
            round += 1
            logger.debug("running tools", metadata: ["tools": "\(result.toolCalls.map(\.name))", "round": "\(round)"])
            let results = try await runTools(result.toolCalls, sink)
            conversation.append(.assistant(content: result.text.isEmpty ? nil : result.text, toolCalls: result.toolCalls))
            for (call, outcome) in zip(result.toolCalls, results) {
                conversation.append(.tool(callID: call.id, content: outcome.content))
            }
            for outcome in results {
                for action in outcome.actions { try sink.yield(action) }
            }
        }
    }

    private func runTools(_ calls: [ChatToolCall], _ sink: ChatOutputSink) async throws -> [ToolResult] {
        let byName = Dictionary(tools.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let fillerDelay = configuration.fillerDelay
        let results = await withTaskGroup(of: ToolEvent.self) { group in
            for (index, call) in calls.enumerated() {
                let tool = byName[call.name]
                group.addTask { .finished(index, await Self.invoke(tool, call)) }
            }
            if calls.contains(where: { byName[$0.name]?.filler != nil }) {
                group.addTask {
                    try? await Task.sleep(for: fillerDelay)
                    return .fillerDue
                }
            }
            var results = [ToolResult?](repeating: nil, count: calls.count)
            var remaining = calls.count
            while remaining > 0, let event = await group.next() {
                switch event {
                case .finished(let index, let result):
                    results[index] = result
                    remaining -= 1
                case .fillerDue:
                    guard !Task.isCancelled else { break }
                    let pending = calls.indices.first { results[$0] == nil && byName[calls[$0].name]?.filler != nil }
                    if let pending, let filler = byName[calls[pending].name]?.filler {
                        _ = try? sink.text(filler)
                    }
                }
            }
            group.cancelAll()
            return results.map { $0 ?? ToolResult(content: "error: cancelled") }
        }
        try Task.checkCancellation()
        return results
    }

    private enum ToolEvent: Sendable {
        case finished(Int, ToolResult)
        case fillerDue
    }

    private static func invoke(_ tool: ModelTool?, _ call: ChatToolCall) async -> ToolResult {
        guard let tool else { return ToolResult(content: "error: there is no tool named \"\(call.name)\"") }
        let arguments: JSONValue
        if call.arguments.allSatisfy(\.isWhitespace) {
            arguments = .object([:])
        } else {
            do { arguments = try JSONValue.parse(call.arguments) } catch {
                return ToolResult(content: "error: the arguments are not valid JSON")
            }
        }
        do { return try await tool.run(arguments) } catch { return ToolResult(content: "error: \(error)") }
    }

    // MARK: Requests and retries

    private func request(_ conversation: [ChatWireMessage], _ sink: ChatOutputSink) async throws -> ChatRoundResult {
        let body = requestBody(conversation)
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await exchangeWithTimeouts(body, sink)
            } catch let failure as ChatAttemptFailure {
                guard attempt < configuration.maximumAttempts, case .retry(let wait) = failure.retry else { throw failure }
                let delay: Duration
                if let wait, wait > .zero {
                    guard wait <= .seconds(120) else { throw failure }
                    delay = wait
                } else {
                    let base = min(0.5 * Double(1 << min(attempt - 1, 8)), 8)
                    delay = .milliseconds(Int64(base * Double.random(in: 0.75...1) * 1000))
                }
                // The failed attempt is an error of the provider's even though the retry may succeed.
                metrics.recordError(failure.error)
                metrics.recordRetry()
                logger.info(
                    "retrying chat request", metadata: ["attempt": "\(attempt + 1)", "delay": "\(delay)", "error": "\(failure.error)"])
                try await Task.sleep(for: delay)
            }
        }
    }

    private func requestBody(_ conversation: [ChatWireMessage]) -> String {
        var object: [String: JSONValue] = [
            "model": .string(configuration.model), "messages": .array(conversation.map(\.json)), "stream": true,
            "stream_options": ["include_usage": .bool(configuration.includeUsage)],
        ]
        if !tools.isEmpty {
            object["tools"] = .array(
                tools.map { tool in
                    [
                        "type": "function",
                        "function": ["name": .string(tool.name), "description": .string(tool.description), "parameters": tool.parameters],
                    ]
                })
        }
        if let temperature = configuration.temperature { object["temperature"] = .number(temperature) }
        if let maxTokens = configuration.maxTokens { object["max_tokens"] = .number(Double(maxTokens)) }
        return JSONValue.object(object).json
    }

    /// One attempt, watched: the first byte within `firstTokenTimeout`, each next piece within `chunkTimeout`.
    private func exchangeWithTimeouts(_ body: String, _ sink: ChatOutputSink) async throws -> ChatRoundResult {
        let watchdog = ChatWatchdog(stage: "first byte", timeout: configuration.firstTokenTimeout)
        return try await withThrowingTaskGroup(of: ChatRoundResult?.self) { group in
            group.addTask { try await exchange(body, watchdog, sink) }
            group.addTask {
                try await watchdog.run()
                return nil
            }
            while let result = try await group.next() {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            throw CancellationError()
        }
    }

    private func exchange(_ body: String, _ watchdog: ChatWatchdog, _ sink: ChatOutputSink) async throws -> ChatRoundResult {
        var request = HTTPClientRequest(url: endpoint.httpURL("/chat/completions"))
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(endpoint.apiKey)")
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        request.body = .bytes(ByteBuffer(string: body))
        logger.debug("chat request", metadata: ["endpoint": "\(endpoint.baseURL)", "model": "\(configuration.model)"])
        let started = ContinuousClock.now
        let response: HTTPClientResponse
        do {
            let headTimeout = configuration.firstTokenTimeout + .seconds(5)
            response = try await httpClient.execute(
                request,
                timeout: .nanoseconds(headTimeout.components.seconds * 1_000_000_000 + headTimeout.components.attoseconds / 1_000_000_000),
                logger: logger)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw ChatAttemptFailure(.disconnected(provider: Self.provider, detail: "request failed: \(error)"), retry: .retry(nil))
        }
        let headers = response.headers.map { (name: $0.name, value: $0.value) }
        guard (200..<300).contains(response.status.code) else {
            var text = ""
            do {
                for try await buffer in response.body {
                    watchdog.touch(stage: "next chunk", timeout: configuration.chunkTimeout)
                    if text.utf8.count < 65_536 { text += String(buffer: buffer) }
                }
            } catch {
                if Task.isCancelled { throw CancellationError() }
            }
            let status = Int(response.status.code)
            let error = ProviderError.forStatus(provider: Self.provider, status: status, body: text, headers: headers)
            throw ChatAttemptFailure(error, retry: Self.retryDecision(status: status, headers: headers, body: text))
        }

        var parser = ServerSentEventParser()
        var state = ChatStreamState()
        do {
            for try await buffer in response.body {
                try parser.append(buffer.readableBytesView) { event in
                    guard !state.done else { return }
                    watchdog.touch(stage: "next chunk", timeout: configuration.chunkTimeout)
                    let hadOutput = state.producedOutput
                    try handle(event, &state, sink)
                    if !hadOutput, state.producedOutput { metrics.recordFirstByte(started.duration(to: .now)) }
                }
                if state.done { break }
            }
        } catch let error as ProviderError {
            throw ChatAttemptFailure(error, retry: .never)
        } catch is ServerSentEventParser.EventTooLarge {
            throw ChatAttemptFailure(.malformed(provider: Self.provider, detail: "an event larger than 8 MiB"), retry: .never)
        } catch {
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            throw ChatAttemptFailure(
                .disconnected(provider: Self.provider, detail: "the stream broke: \(error)"),
                retry: state.producedOutput ? .never : .retry(nil))
        }
        guard state.done || !state.calls.isEmpty else {
            throw ChatAttemptFailure(
                .disconnected(provider: Self.provider, detail: "the stream ended without [DONE]"),
                retry: state.producedOutput ? .never : .retry(nil))
        }
        logger.debug(
            "chat response done",
            metadata: ["finish_reason": "\(state.finishReason ?? "none")", "tool_calls": "\(state.calls.count)"])
        return ChatRoundResult(text: state.text, toolCalls: state.toolCalls)
    }

    private func handle(_ event: ServerSentEvent, _ state: inout ChatStreamState, _ sink: ChatOutputSink) throws {
        try state.consume(event.data) { try sink.text($0) }
    }

    private static func retryDecision(status: Int, headers: [(name: String, value: String)], body: String) -> ChatRetryDecision {
        if [400, 401, 403].contains(status) { return .never }
        if ProviderError.isQuotaSpent(body) { return .never }
        let wait = ProviderError.retryAfter(headers)
        switch headers.first(where: { $0.name.lowercased() == "x-should-retry" })?.value.lowercased() {
        case "true": return .retry(wait)
        case "false": return .never
        default: break
        }
        return status == 408 || status == 409 || status == 429 || status >= 500 ? .retry(wait) : .never
    }
}

// MARK: - Internals

/// Whether and when to retry a failed attempt.
private enum ChatRetryDecision: Sendable {
    case never
    /// Retry after the server's wait (`nil`: exponential backoff).
    case retry(Duration?)
}

/// A failed attempt, with what to do about it.
private struct ChatAttemptFailure: Error, Sendable {
    var error: ProviderError
    var retry: ChatRetryDecision
    init(_ error: ProviderError, retry: ChatRetryDecision) {
        self.error = error
        self.retry = retry
    }
}

/// What one response produced.
private struct ChatRoundResult: Sendable {
    var text: String
    var toolCalls: [ChatToolCall]
}

/// A message as the Chat Completions API takes it: richer than ``ChatMessage``.
private enum ChatWireMessage: Sendable, Hashable {
    case chat(ChatMessage)
    case assistant(content: String?, toolCalls: [ChatToolCall])
    case tool(callID: String, content: String)

    var json: JSONValue {
        switch self {
        case .chat(let message): ["role": .string(message.role.rawValue), "content": .string(message.content)]
        case .assistant(let content, let toolCalls):
            [
                "role": "assistant", "content": content.map(JSONValue.string) ?? .null,
                "tool_calls": .array(
                    toolCalls.map { call in
                        [
                            "id": .string(call.id), "type": "function",
                            "function": ["name": .string(call.name), "arguments": .string(call.arguments)],
                        ]
                    }),
            ]
        case .tool(let callID, let content): ["role": "tool", "tool_call_id": .string(callID), "content": .string(content)]
        }
    }
}

/// Yields to the consumer, putting a space between rounds' texts so that "Let me check." and "It shipped."
/// do not run together.
private final class ChatOutputSink: Sendable {
    private let continuation: AsyncThrowingStream<ModelOutput, any Error>.Continuation
    private struct State {
        var wroteText = false
        var endsWithSpace = true
        var separate = false
    }
    private let state = Mutex(State())

    init(_ continuation: AsyncThrowingStream<ModelOutput, any Error>.Continuation) { self.continuation = continuation }

    func startRound() {
        state.withLock { $0.separate = $0.wroteText && !$0.endsWithSpace }
    }

    /// Yields text; throws `CancellationError` once the consumer has gone.
    func text(_ piece: String) throws {
        guard !piece.isEmpty else { return }
        let separate = state.withLock { state in
            defer {
                state.separate = false
                state.wroteText = true
                state.endsWithSpace = piece.last?.isWhitespace ?? true
            }
            return state.separate && !(piece.first?.isWhitespace ?? true)
        }
        try yield(.text(separate ? " " + piece : piece))
    }

    /// Yields any output; throws `CancellationError` once the consumer has gone.
    func yield(_ output: ModelOutput) throws {
        if case .terminated = continuation.yield(output) { throw CancellationError() }
    }
}

/// The deadline of one attempt: moved forward by every piece of the body.
private final class ChatWatchdog: Sendable {
    private struct State {
        var deadline: ContinuousClock.Instant
        var stage: String
        var timeout: Duration
    }
    private let state: Mutex<State>

    init(stage: String, timeout: Duration) {
        state = Mutex(State(deadline: .now + timeout, stage: stage, timeout: timeout))
    }

    func touch(stage: String, timeout: Duration) {
        state.withLock { $0 = State(deadline: .now + timeout, stage: stage, timeout: timeout) }
    }

    /// Returns never; throws ``ProviderError/timedOut(provider:stage:after:)`` when the deadline passes, or
    /// `CancellationError`.
    func run() async throws {
        while true {
            let current = state.withLock { $0 }
            if ContinuousClock.now >= current.deadline {
                throw ProviderError.timedOut(provider: OpenAIChatModel.provider, stage: current.stage, after: current.timeout)
            }
            // Wake at least every 50 ms: a touch may have moved the deadline closer (a shorter next-chunk timeout).
            try await Task.sleep(until: min(current.deadline, .now + .milliseconds(50)), clock: .continuous)
        }
    }
}
