//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceAgent

/// A ``LanguageModel`` that follows a ``Playbook``: the offline brain of a ``CascadeAgent``, for a front
/// desk or an IVR that works with what a local recogniser really hears. It answers the last caller message
/// with the best-matching intent's reply (or the fallback), and hangs up after a reply marked `hangUp`.
///
/// It is not a stand-in for a large language model: it does not converse beyond its script. The hosted
/// model clients implement the same protocol.
public struct PlaybookModel: LanguageModel {
    /// The script.
    public let playbook: Playbook

    /// Creates a model that follows `playbook`.
    public init(playbook: Playbook) { self.playbook = playbook }

    public func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        let utterance = messages.last(where: { $0.role == .user })?.content ?? ""
        let answer = playbook.answer(utterance)
        return AsyncThrowingStream { continuation in
            continuation.yield(.text(answer.reply))
            if answer.hangUp { continuation.yield(.hangUp) }
            continuation.finish()
        }
    }
}
