//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import VoiceAgent
import VoiceProviders
import VoiceProvidersTesting

@Suite("OpenAI Chat Completions client and stand-in")
struct OpenAIChatTests {
    static let key = "sk-test-chat-0123456789"

    private func start(
        reply: (@Sendable (OpenAIChatStandIn.Request) -> OpenAIChatStandIn.Reply)? = nil, timing: StandInTiming = .immediate,
        faults: [StandInFault] = [], style: OpenAIChatStandIn.ToolCallStyle = .openAI
    ) async throws -> (StandInHost, OpenAIChatStandIn) {
        var configuration = OpenAIChatStandIn.Configuration(apiKey: Self.key, timing: timing, faults: faults, toolCallStyle: style)
        if let reply { configuration.reply = reply }
        return try await OpenAIChatStandIn.start(configuration: configuration)
    }

    private func model(
        _ host: StandInHost, key: String = key, tools: [ModelTool] = [],
        _ adjust: (inout OpenAIChatModel.Configuration) -> Void = { _ in }
    ) throws -> OpenAIChatModel {
        var configuration = OpenAIChatModel.Configuration(model: "gpt-4o-mini", firstTokenTimeout: .seconds(5), chunkTimeout: .seconds(5))
        adjust(&configuration)
        return OpenAIChatModel(
            endpoint: try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: key), configuration: configuration, tools: tools)
    }

    private func collect(_ stream: AsyncThrowingStream<ModelOutput, any Error>) async throws -> [ModelOutput] {
        var outputs: [ModelOutput] = []
        for try await output in stream { outputs.append(output) }
        return outputs
    }

    /// Collects until the stream fails, and returns what came before and the error.
    private func collectFailure(_ stream: AsyncThrowingStream<ModelOutput, any Error>) async -> ([ModelOutput], ProviderError?) {
        var outputs: [ModelOutput] = []
        do {
            for try await output in stream { outputs.append(output) }
            return (outputs, nil)
        } catch {
            return (outputs, error as? ProviderError)
        }
    }

    private func text(_ outputs: [ModelOutput]) -> String {
        outputs.map { if case .text(let piece) = $0 { piece } else { "" } }.joined()
    }

    /// Polls `condition` up to `seconds`.
    private func eventually(within seconds: Double = 5, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    // MARK: Text

    @Test("streamed text arrives in order and whole, through keep-alive comments and events split across writes")
    func streamsText() async throws {
        let reply = "The quick brown fox jumps over the lazy dog — café, naïve, 😀, twice."
        let (host, standIn) = try await start(reply: { _ in .text(reply) }, timing: StandInTiming(unitsPerSecond: 500))
        defer { Task { await host.stop() } }
        let outputs = try await collect(try model(host).respond(to: [ChatMessage(.user, "Tell me about the fox.")]))
        #expect(outputs.count > 5, "the reply should come in several pieces")
        #expect(outputs.allSatisfy { if case .text(let piece) = $0 { !piece.isEmpty } else { false } })
        #expect(text(outputs) == reply)
        #expect(standIn.streamEnds == [.completed])
    }

    @Test("the request has the model, the messages, stream options, the tools and the sampling settings")
    func requestShape() async throws {
        let (host, standIn) = try await start()
        defer { Task { await host.stop() } }
        let schema: JSONValue = ["type": "object", "properties": ["order_id": ["type": "string"]], "required": ["order_id"]]
        let lookup = ModelTool(name: "lookup_order", description: "Find an order.", parameters: schema) { _ in ToolResult(content: "") }
        let chat = try model(host, tools: [lookup, .hangUp()]) {
            $0.temperature = 0.25
            $0.maxTokens = 120
        }
        let history = [
            ChatMessage(.system, "Be brief."), ChatMessage(.user, "Hi"), ChatMessage(.assistant, "Hello!"),
            ChatMessage(.user, "Where is it?"),
        ]
        let outputs = try await collect(chat.respond(to: history))
        #expect(text(outputs) == "You said: Where is it?. How can I help?")

        let requests = standIn.requests
        try #require(requests.count == 1)
        let body = try JSONValue.parse(requests[0].body)
        #expect(body["model"] == "gpt-4o-mini")
        #expect(body["stream"] == true)
        #expect(body["stream_options"] == ["include_usage": true])
        #expect(body["temperature"] == 0.25)
        #expect(body["max_tokens"] == 120)
        #expect(body["max_completion_tokens"] == nil)
        #expect(
            body["messages"]
                == [
                    ["role": "system", "content": "Be brief."], ["role": "user", "content": "Hi"],
                    ["role": "assistant", "content": "Hello!"], ["role": "user", "content": "Where is it?"],
                ])
        #expect(
            body["tools"]?[0]
                == ["type": "function", "function": ["name": "lookup_order", "description": "Find an order.", "parameters": schema]])
        #expect(body["tools"]?[1]?["function"]?["name"] == "hang_up")
        #expect(requests[0].toolNames == ["lookup_order", "hang_up"])
    }

    // MARK: Tools

    @Test(
        "parallel tool calls in either streaming style run, and their results go back with the right ids",
        arguments: [OpenAIChatStandIn.ToolCallStyle.openAI, .ollama])
    func toolCalls(style: OpenAIChatStandIn.ToolCallStyle) async throws {
        let first = #"{"order_id":"A-17 \"blue\"","note":"split, inside: strings {}"}"#
        let second = #"{"order_id":"B-2","note":"naïve — 😀"}"#
        let (host, standIn) = try await start(
            reply: { request in
                request.messages.last?.role == "tool"
                    ? .text("Both orders shipped.")
                    : .textAndToolCalls(
                        "Let me check.", [(name: "lookup_order", arguments: first), (name: "lookup_order", arguments: second)])
            }, style: style)
        defer { Task { await host.stop() } }
        let received = Mutex<[JSONValue]>([])
        let lookup = ModelTool(name: "lookup_order", description: "Find an order.") { arguments in
            received.withLock { $0.append(arguments) }
            return ToolResult(content: "order \(arguments["order_id"]?.stringValue ?? "?") shipped")
        }
        let outputs = try await collect(try model(host, tools: [lookup]).respond(to: [ChatMessage(.user, "Where are my orders?")]))
        #expect(text(outputs) == "Let me check. Both orders shipped.")
        #expect(Set(received.withLock { $0 }) == [try JSONValue.parse(first), try JSONValue.parse(second)])

        let requests = standIn.requests
        try #require(requests.count == 2)
        let messages = requests[1].messages
        try #require(messages.count == 4)
        #expect(messages[1].role == "assistant")
        #expect(messages[1].content == "Let me check.")
        #expect(messages[1].toolCalls.map(\.name) == ["lookup_order", "lookup_order"])
        #expect(messages[1].toolCalls.map(\.arguments) == [first, second])
        let ids = messages[1].toolCalls.map(\.id)
        #expect(Set(ids).count == 2 && ids.allSatisfy { $0.hasPrefix("call_") })
        #expect(messages[2] == .init(role: "tool", content: "order A-17 \"blue\" shipped", toolCallID: ids[0], toolCalls: []))
        #expect(messages[3] == .init(role: "tool", content: "order B-2 shipped", toolCallID: ids[1], toolCalls: []))
    }

    @Test("an unknown tool or a tool that throws answers the model with an error, and the reply goes on")
    func toolErrors() async throws {
        struct Broken: Error, CustomStringConvertible { var description: String { "the database is down" } }
        let (host, standIn) = try await start(reply: { request in
            request.messages.last?.role == "tool"
                ? .text("Sorry, I could not look that up.")
                : .toolCalls([(name: "lookup_order", arguments: #"{"order_id":"A"}"#), (name: "no_such_tool", arguments: "{}")])
        })
        defer { Task { await host.stop() } }
        let lookup = ModelTool(name: "lookup_order", description: "Find an order.") { _ in throw Broken() }
        let outputs = try await collect(try model(host, tools: [lookup]).respond(to: [ChatMessage(.user, "Where?")]))
        #expect(text(outputs) == "Sorry, I could not look that up.")
        let tools = try #require(standIn.requests.last?.messages.filter { $0.role == "tool" })
        #expect(tools.map(\.content) == ["error: the database is down", #"error: there is no tool named "no_such_tool""#])
    }

    @Test("a slow tool's filler is said while it runs; a fast tool's is not")
    func filler() async throws {
        let (host, _) = try await start(reply: { request in
            request.messages.last?.role == "tool" ? .text("It is sunny.") : .toolCalls([(name: "weather", arguments: "{}")])
        })
        defer { Task { await host.stop() } }
        func weather(delay: Duration) -> ModelTool {
            ModelTool(name: "weather", description: "The weather.", filler: "One moment.") { _ in
                try await Task.sleep(for: delay)
                return ToolResult(content: "sunny")
            }
        }
        let slow = try model(host, tools: [weather(delay: .milliseconds(1500))]) { $0.fillerDelay = .milliseconds(100) }
        let slowOutputs = try await collect(slow.respond(to: [ChatMessage(.user, "Weather?")]))
        #expect(slowOutputs == [.text("One moment."), .text(" It"), .text(" is"), .text(" sunny.")])

        let fast = try model(host, tools: [weather(delay: .zero)]) { $0.fillerDelay = .seconds(4) }
        let fastOutputs = try await collect(fast.respond(to: [ChatMessage(.user, "Weather?")]))
        #expect(text(fastOutputs) == "It is sunny.")
    }

    @Test("the hang_up tool's action is yielded, then the model's closing words")
    func hangUp() async throws {
        let (host, standIn) = try await start()
        defer { Task { await host.stop() } }
        let outputs = try await collect(try model(host, tools: [.hangUp()]).respond(to: [ChatMessage(.user, "Thanks, goodbye!")]))
        let hangUpIndex = try #require(outputs.firstIndex(of: .hangUp))
        #expect(text(Array(outputs[hangUpIndex...])) == "Done. Anything else?")
        #expect(standIn.requests.count == 2)
        #expect(standIn.requests[1].messages.last?.role == "tool")
    }

    // MARK: Status errors and retries

    @Test("a refused key is .unauthorized at once, with OpenAI's message, and is not retried")
    func unauthorized() async throws {
        let (host, standIn) = try await start()
        defer { Task { await host.stop() } }
        let wrongKey = "sk-wrong-key-abcdefghijklmnop"
        let (outputs, error) = await collectFailure(try model(host, key: wrongKey).respond(to: [ChatMessage(.user, "Hi")]))
        #expect(outputs.isEmpty)
        guard case .unauthorized(let provider, let status, let message) = error else {
            Issue.record("expected .unauthorized, got \(String(describing: error))")
            return
        }
        #expect(provider == "openai" && status == 401)
        #expect(message.hasPrefix("Incorrect API key provided: sk-"))
        #expect(!message.contains(wrongKey))
        #expect(standIn.statuses == [401])
    }

    @Test("429 with a short retry-after is retried after that wait, then succeeds")
    func rateLimitRetried() async throws {
        let (host, standIn) = try await start(faults: [.rateLimited(retryAfter: .milliseconds(300))])
        defer { Task { await host.stop() } }
        let started = ContinuousClock.now
        let outputs = try await collect(try model(host).respond(to: [ChatMessage(.user, "Hi")]))
        #expect(text(outputs) == "You said: Hi. How can I help?")
        #expect(standIn.statuses == [429, 200])
        #expect(started.duration(to: .now) >= .milliseconds(300))
    }

    @Test("429 asking for more than 120 s is not retried: .rateLimited with the wait")
    func rateLimitTooLong() async throws {
        let (host, standIn) = try await start(faults: [.rateLimited(retryAfter: .seconds(300))])
        defer { Task { await host.stop() } }
        let (_, error) = await collectFailure(try model(host).respond(to: [ChatMessage(.user, "Hi")]))
        guard case .rateLimited(_, let retryAfter, let message) = error else {
            Issue.record("expected .rateLimited, got \(String(describing: error))")
            return
        }
        #expect(retryAfter == .seconds(300))
        #expect(message.hasPrefix("Rate limit reached"))
        #expect(standIn.statuses == [429])
    }

    @Test("503 is retried with backoff; when every attempt fails the last status is thrown")
    func serverErrors() async throws {
        let (host, standIn) = try await start(faults: [.serverError(status: 503), .serverError(status: 503)])
        defer { Task { await host.stop() } }
        let outputs = try await collect(try model(host).respond(to: [ChatMessage(.user, "Hi")]))
        #expect(text(outputs) == "You said: Hi. How can I help?")
        #expect(standIn.statuses == [503, 503, 200])

        standIn.enqueue(.serverError(status: 500))
        standIn.enqueue(.serverError(status: 502))
        let (_, error) = await collectFailure(try model(host) { $0.maximumAttempts = 2 }.respond(to: [ChatMessage(.user, "Hi")]))
        guard case .status(_, 502, _) = error else {
            Issue.record("expected .status 502, got \(String(describing: error))")
            return
        }
        #expect(standIn.statuses == [503, 503, 200, 500, 502])
    }

    // MARK: Broken streams

    @Test("a frame that is not JSON is .malformed, after the text before it")
    func malformed() async throws {
        let (host, standIn) = try await start(faults: [.malformedFrame])
        defer { Task { await host.stop() } }
        let (outputs, error) = await collectFailure(try model(host).respond(to: [ChatMessage(.user, "Hello there")]))
        #expect(!outputs.isEmpty)
        guard case .malformed(let provider, _) = error else {
            Issue.record("expected .malformed, got \(String(describing: error))")
            return
        }
        #expect(provider == "openai")
        #expect(standIn.statuses == [200], "a broken stream is not retried once text was yielded")
    }

    @Test("an error event mid-stream is .failed with its message")
    func errorEvent() async throws {
        let (host, _) = try await start(reply: { _ in .errorEvent(afterText: "I was saying", message: "The model crashed.") })
        defer { Task { await host.stop() } }
        let (outputs, error) = await collectFailure(try model(host).respond(to: [ChatMessage(.user, "Hi")]))
        #expect(text(outputs) == "I was saying")
        guard case .failed(_, let message) = error else {
            Issue.record("expected .failed, got \(String(describing: error))")
            return
        }
        #expect(message.contains("The model crashed."))
    }

    @Test("a stream dropped without [DONE] is .disconnected")
    func dropped() async throws {
        let (host, standIn) = try await start(faults: [.dropMidStream])
        defer { Task { await host.stop() } }
        let (outputs, error) = await collectFailure(try model(host).respond(to: [ChatMessage(.user, "Hello there")]))
        #expect(!outputs.isEmpty)
        guard case .disconnected = error else {
            Issue.record("expected .disconnected, got \(String(describing: error))")
            return
        }
        #expect(standIn.streamEnds == [.fault])
    }

    @Test("a stalled stream is .timedOut after the chunk timeout, and the request is closed")
    func stall() async throws {
        let (host, standIn) = try await start(faults: [.stall])
        defer { Task { await host.stop() } }
        let started = ContinuousClock.now
        let (outputs, error) = await collectFailure(
            try model(host) { $0.chunkTimeout = .milliseconds(300) }.respond(to: [ChatMessage(.user, "Hi")]))
        #expect(!outputs.isEmpty)
        guard case .timedOut(_, let stage, let after) = error else {
            Issue.record("expected .timedOut, got \(String(describing: error))")
            return
        }
        #expect(stage == "next chunk" && after == .milliseconds(300))
        #expect(started.duration(to: .now) < .seconds(4))
        #expect(await eventually { standIn.clientDisconnects == 1 })
    }

    @Test("no first byte within the first-token timeout is .timedOut")
    func firstByteTimeout() async throws {
        let (host, _) = try await start(timing: StandInTiming(firstByte: .seconds(3)))
        defer { Task { await host.stop() } }
        let (_, error) = await collectFailure(
            try model(host) { $0.firstTokenTimeout = .milliseconds(300) }.respond(to: [ChatMessage(.user, "Hi")]))
        guard case .timedOut(_, "first byte", _) = error else {
            Issue.record("expected a first-byte timeout, got \(String(describing: error))")
            return
        }
    }

    // MARK: Cancellation

    @Test("cancelling the consumer mid-stream closes the connection, and the stand-in sees it")
    func cancellation() async throws {
        let long = String(repeating: "word ", count: 200)
        let (host, standIn) = try await start(reply: { _ in .text(long) }, timing: StandInTiming(unitsPerSecond: 40))
        defer { Task { await host.stop() } }
        let chat = try model(host)
        let firstText = Mutex(false)
        let consumer = Task {
            for try await _ in chat.respond(to: [ChatMessage(.user, "Talk")]) { firstText.withLock { $0 = true } }
        }
        #expect(await eventually { firstText.withLock { $0 } })
        consumer.cancel()
        _ = await consumer.result
        #expect(await eventually { standIn.clientDisconnects == 1 })
        #expect(standIn.streamEnds == [.clientDisconnected])
    }

    @Test("dropping the stream after a few pieces closes the connection too")
    func droppingTheStream() async throws {
        let long = String(repeating: "word ", count: 200)
        let (host, standIn) = try await start(reply: { _ in .text(long) }, timing: StandInTiming(unitsPerSecond: 40))
        defer { Task { await host.stop() } }
        var pieces = 0
        for try await _ in try model(host).respond(to: [ChatMessage(.user, "Talk")]) {
            pieces += 1
            if pieces == 3 { break }
        }
        #expect(await eventually { standIn.clientDisconnects == 1 })
    }

    // MARK: The stand-in's own checks

    @Test("the stand-in refuses bad keys and bad bodies with OpenAI's statuses and error bodies")
    func standInValidation() async throws {
        let (host, _) = try await start()
        defer { Task { await host.stop() } }
        func post(_ body: String, key: String? = Self.key) async throws -> (Int, JSONValue?) {
            var request = HTTPClientRequest(url: host.baseURL + "/v1/chat/completions")
            request.method = .POST
            if let key { request.headers.add(name: "Authorization", value: "Bearer \(key)") }
            request.body = .bytes(ByteBuffer(string: body))
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
            let bytes = try await response.body.collect(upTo: 1 << 20)
            return (Int(response.status.code), try? JSONValue.parse(String(buffer: bytes)))
        }
        let good = #"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#
        let (wrongStatus, wrongBody) = try await post(good, key: "sk-nope-0123456789")
        #expect(wrongStatus == 401)
        #expect(wrongBody?["error"]?["code"] == "invalid_api_key")
        #expect(wrongBody?["error"]?["type"] == "invalid_request_error")
        #expect(wrongBody?["error"]?["param"] == .null)
        #expect(try await post(good, key: nil).0 == 401)
        #expect(try await post(good).0 == 200)

        let refused = [
            #"{"stream":true,"messages":[{"role":"user","content":"hi"}]}"#,
            #"{"model":"m","stream":true,"messages":[]}"#,
            #"{"model":"m","stream":true,"messages":[{"role":"robot","content":"hi"}]}"#,
            #"{"model":"m","stream":true,"messages":[{"role":"tool","content":"42"}]}"#,
            #"{"model":"m","stream":true,"messages":[{"role":"tool","tool_call_id":"call_9","content":"42"}]}"#,
            #"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#,
            "{not json",
        ]
        for body in refused {
            let (status, error) = try await post(body)
            #expect(status == 400, "\(body)")
            #expect(error?["error"]?["message"]?.stringValue?.isEmpty == false, "\(body)")
        }
    }
}

@Suite("JSONValue")
struct JSONValueTests {
    @Test("parsing keeps numbers, Booleans and null apart, and rendering round-trips with sorted keys")
    func roundTrip() throws {
        let text = #"{"b":[0,1,true,false,null,-2.5,1e3],"a":"q\"uo\\te\n😀\u0001","c":{}}"#
        let value = try JSONValue.parse(text)
        #expect(value["b"] == [0, 1, true, false, nil, -2.5, 1000])
        #expect(value["b"]?[1]?.intValue == 1 && value["b"]?[2]?.boolValue == true && value["b"]?[4]?.isNull == true)
        #expect(value["b"]?[5]?.intValue == nil && value["b"]?[5]?.doubleValue == -2.5)
        #expect(value["a"]?.stringValue == "q\"uo\\te\n😀\u{01}")
        #expect(value.json == #"{"a":"q\"uo\\te\n😀\u0001","b":[0,1,true,false,null,-2.5,1000],"c":{}}"#)
        #expect(try JSONValue.parse(value.json) == value)
        #expect(JSONValue.number(.infinity).json == "null")
        #expect(throws: (any Error).self) { try JSONValue.parse("{\"a\":") }
        #expect(try JSONValue.parse("7") == 7 && JSONValue.parse("\"x\"") == "x" && JSONValue.parse("null") == nil)
    }

    @Test("deep nesting parses (the fuzzer's 1 KB of nested arrays took a second through Decodable)")
    func deepNesting() throws {
        let depth = 400
        var value = try JSONValue.parse(String(repeating: "[", count: depth) + "true" + String(repeating: "]", count: depth))
        for _ in 0..<depth {
            guard case .array(let elements) = value, elements.count == 1 else {
                Issue.record("not nested as written")
                return
            }
            value = elements[0]
        }
        #expect(value == true)
        let objects = String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
        #expect(try JSONValue.parse(objects).json == objects)
    }
}
