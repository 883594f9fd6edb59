//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceAgent

/// A function a language model may call while it answers: look up an order, book a slot, end the call.
///
/// The model sees ``name``, ``description`` and the JSON Schema ``parameters``; when it calls the tool, ``run``
/// gets the arguments it wrote. Audio never waits on a tool: whatever the model said before the call is
/// already being spoken, and ``filler`` covers a slow tool.
public struct ModelTool: Sendable {
    /// The function's name, as the model calls it (`[a-zA-Z0-9_-]`, at most 64 characters for OpenAI).
    public var name: String
    /// What the tool does and when to use it, for the model.
    public var description: String
    /// A JSON Schema object describing the arguments.
    public var parameters: JSONValue
    /// Said (as model text) when the tool has not returned after the model's filler delay, e.g. "One moment.".
    public var filler: String?
    /// Runs the tool with the model's arguments (an object; `{}` when the model sent none).
    public var run: @Sendable (JSONValue) async throws -> ToolResult

    /// Creates a tool.
    public init(
        name: String, description: String,
        parameters: JSONValue = ["type": "object", "properties": [:]], filler: String? = nil,
        run: @escaping @Sendable (JSONValue) async throws -> ToolResult
    ) {
        self.name = name
        self.description = description
        self.parameters = parameters
        self.filler = filler
        self.run = run
    }

    /// A tool named `hang_up` that ends the call once the reply has been said.
    public static func hangUp(description: String = "End the phone call, after saying goodbye.") -> ModelTool {
        ModelTool(name: "hang_up", description: description) { _ in ToolResult(content: "The call will end.", actions: [.hangUp]) }
    }
}

/// What a tool returns.
public struct ToolResult: Sendable, Hashable {
    /// The text sent back to the model as the tool's message.
    public var content: String
    /// What the agent should do once the tool has returned (``ModelOutput/hangUp``,
    /// ``ModelOutput/sendDigits(_:)``); yielded in order after the tool returns.
    public var actions: [ModelOutput]

    /// Creates a result.
    public init(content: String, actions: [ModelOutput] = []) {
        self.content = content
        self.actions = actions
    }
}
