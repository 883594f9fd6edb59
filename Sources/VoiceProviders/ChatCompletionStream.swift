//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// The decoding of a Chat Completions stream's `data:` chunks, apart from the HTTP client so that
// Fuzz/fuzz.sh can compile it on its own (it needs only JSONValue and ProviderError).

/// A complete tool call, as sent back to the model.
struct ChatToolCall: Sendable, Hashable {
    var id: String
    var name: String
    var arguments: String
}

/// The state of one streamed response.
struct ChatStreamState {
    struct PendingCall {
        var index: Int?
        var id: String?
        var name = ""
        var arguments = ""

        func call(number: Int) -> ChatToolCall {
            ChatToolCall(id: id ?? "call_\(number)", name: name, arguments: arguments)
        }
    }

    static let provider = "openai"

    var text = ""
    var calls: [PendingCall] = []
    var finishReason: String?
    var done = false
    var producedOutput = false

    /// Takes one event's `data`: `[DONE]` ends the stream; a chunk's `choices[0].delta.content` is added to
    /// ``text`` and passed to `onText`, its `tool_calls` fragments are accumulated, its `finish_reason` kept.
    ///
    /// - Throws: ``ProviderError/malformed(provider:detail:)`` for a chunk that is not a JSON object,
    ///   ``ProviderError/failed(provider:message:)`` for an `error` chunk, or what `onText` throws.
    mutating func consume(_ data: String, onText: (String) throws -> Void) throws {
        if data == "[DONE]" {
            done = true
            return
        }
        let value: JSONValue
        do { value = try JSONValue.parse(data) } catch {
            throw ProviderError.malformed(provider: Self.provider, detail: "an event that is not JSON: \(data.prefix(120))")
        }
        guard case .object(let chunk) = value else {
            throw ProviderError.malformed(provider: Self.provider, detail: "an event that is not an object: \(data.prefix(120))")
        }
        if let error = chunk["error"], !error.isNull {
            var message = error["message"]?.stringValue ?? error.stringValue ?? error.json
            if let code = error["code"], !code.isNull { message += " (\(code.stringValue ?? code.json))" }
            throw ProviderError.failed(provider: Self.provider, message: message)
        }
        for choice in chunk["choices"]?.arrayValue ?? [] {
            if let index = choice["index"]?.intValue, index != 0 { continue }
            if let delta = choice["delta"] {
                if let content = delta["content"]?.stringValue, !content.isEmpty {
                    text += content
                    producedOutput = true
                    try onText(content)
                }
                for fragment in delta["tool_calls"]?.arrayValue ?? [] {
                    accumulate(fragment)
                    producedOutput = true
                }
            }
            if let reason = choice["finish_reason"]?.stringValue { finishReason = reason }
        }
    }

    /// The calls accumulated so far, complete (a call without an id gets `call_<n>`).
    var toolCalls: [ChatToolCall] { calls.enumerated().map { $0.element.call(number: $0.offset) } }

    /// Adds one `delta.tool_calls[]` fragment: keyed by `index`, falling back to `id`; a fragment with a new id
    /// at an index already in use (Ollama's parallel calls, all at index 0) starts a new call.
    mutating func accumulate(_ fragment: JSONValue) {
        guard case .object = fragment else { return }
        let index = fragment["index"]?.intValue
        let id = fragment["id"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
        var position: Int?
        if let id {
            position = calls.lastIndex { $0.id == id }
            if position == nil, let last = calls.lastIndex(where: { $0.index == index }), calls[last].id == nil {
                calls[last].id = id
                position = last
            }
        } else {
            position = calls.lastIndex { index == nil || $0.index == index }
        }
        if position == nil {
            calls.append(PendingCall(index: index, id: id))
            position = calls.count - 1
        }
        guard let position else { return }
        let function = fragment["function"]
        if let name = function?["name"]?.stringValue, calls[position].name.isEmpty { calls[position].name = name }
        switch function?["arguments"] {
        case .string(let piece): calls[position].arguments += piece
        case .object(let members): calls[position].arguments += JSONValue.object(members).json
        default: break
        }
    }
}
