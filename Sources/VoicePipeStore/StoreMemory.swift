//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceAgent

/// ``ConversationMemory`` from a ``ConversationStore``: the contact's latest entries on every channel,
/// within a budget, as model messages.
///
/// Entries from another channel than the one being answered are marked (`[phone call] …`, `[SMS] …`), so
/// that the model can tell "you said on the phone" from the thread at hand.
public struct StoreMemory: ConversationMemory {
    /// How much history a model is given.
    public struct Budget: Sendable, Hashable {
        /// The most entries (default 40).
        public var maximumEntries: Int
        /// The most characters of text, summed over the entries (default 6,000, about 1,500 tokens).
        public var maximumCharacters: Int

        /// Creates a budget.
        public init(maximumEntries: Int = 40, maximumCharacters: Int = 6000) {
            self.maximumEntries = maximumEntries
            self.maximumCharacters = maximumCharacters
        }
    }

    /// The store.
    public let store: any ConversationStore
    /// The budget.
    public let budget: Budget
    /// The channel being answered: its entries are not marked.
    public let channel: Channel

    /// Creates a memory over `store` for an agent answering on `channel`.
    public init(store: any ConversationStore, channel: Channel, budget: Budget = Budget()) {
        self.store = store
        self.channel = channel
        self.budget = budget
    }

    public func recall(contact: String, excluding: String?) async throws -> [ChatMessage] {
        let entries = try await store.history(of: contact, limit: budget.maximumEntries * 2, before: nil)
        return Self.messages(from: entries, channel: channel, excluding: excluding, budget: budget)
    }

    /// The newest entries that fit the budget, oldest first, as messages (entries of the call or thread
    /// named `excluding` left out).
    public static func messages(from entries: [Entry], channel: Channel, excluding: String?, budget: Budget) -> [ChatMessage] {
        var kept: [ChatMessage] = []
        var characters = 0
        for entry in entries.reversed() {
            if let excluding, entry.callSid == excluding || entry.providerSid == excluding { continue }
            guard kept.count < budget.maximumEntries, characters + entry.body.count <= budget.maximumCharacters else { break }
            characters += entry.body.count
            let mark =
                entry.channel == channel
                ? "" : "[\(entry.channel == .voice ? "phone call" : entry.channel == .sms ? "SMS" : "WhatsApp")] "
            kept.append(ChatMessage(entry.direction == .inbound ? .user : .assistant, mark + entry.body))
        }
        return kept.reversed()
    }
}
