//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The brain of a ``CascadeAgent``: given the conversation so far, it streams the agent's next reply.
///
/// Cancelling is ending the stream: when the task iterating ``respond(to:)`` is cancelled, or the stream is
/// dropped, the model must stop (an HTTP client closes its request, a local model stops generating).
public protocol LanguageModel: Sendable {
    /// Streams the reply to the last message of `messages`, as it is written.
    func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error>
}

/// One message of a conversation.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Who wrote a message.
    public enum Role: String, Sendable, Hashable, Codable {
        /// Instructions to the model.
        case system
        /// The caller.
        case user
        /// The agent.
        case assistant
    }

    /// Who wrote it.
    public var role: Role
    /// What it says.
    public var content: String

    /// Creates a message.
    public init(_ role: Role, _ content: String) {
        self.role = role
        self.content = content
    }
}

/// What a language model streams.
public enum ModelOutput: Sendable, Hashable {
    /// The next piece of the reply's text (any length: a token, a word, a sentence).
    case text(String)
    /// End the call once the reply has been said.
    case hangUp
    /// Play these keypad tones (`0`–`9`, `*`, `#`, `A`–`D`; `w` is a half-second pause) after the reply's
    /// words: how an agent answers an automated menu on the other end of the line. Twilio's Media Streams
    /// cannot send DTMF events, so the tones go in-band, as audio (ITU-T Q.23 frequencies).
    case sendDigits(String)
}
