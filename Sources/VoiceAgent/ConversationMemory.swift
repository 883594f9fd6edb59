//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// What an agent remembers of a contact from earlier conversations, on any channel: the calls' recognised
/// and heard words, the texts sent and received. A ``CascadeAgent`` recalls it when its call starts and
/// gives it to its model before the call's own exchanges; a text agent does the same for each message.
///
/// `VoicePipeStore`'s `StoreMemory` recalls from a `ConversationStore`, so that a caller who texts after a
/// call gets a reply that knows what was said on the call.
public protocol ConversationMemory: Sendable {
    /// The contact's earlier conversation as model messages, oldest first, within the memory's budget
    /// (`.user` for what the contact said or wrote, `.assistant` for the agent's side). `contact` is the
    /// contact's address (E.164 for a phone number); `excluding` names a conversation whose own messages
    /// the caller of this method adds itself (a call's SID, say), so that they are not given twice.
    func recall(contact: String, excluding: String?) async throws -> [ChatMessage]
}

extension CallContext {
    /// The other party's number: the caller on an inbound call, the called number on an outbound one.
    public var contactAddress: String? {
        if let direction, direction.hasPrefix("outbound") { return to }
        return from
    }
}
