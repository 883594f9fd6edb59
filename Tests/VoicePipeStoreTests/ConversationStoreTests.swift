//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceAgent
import VoicePipeStore

private let ann = "+15551230001"
private let bob = "+15551230002"
private let agentNumber = "+15559990000"
private let start = Date(timeIntervalSince1970: 1_750_000_000)

/// An inbound text from `contact` at `start + seconds`.
private func inbound(
    _ sid: String, _ body: String, from contact: String = ann, channel: Channel = .sms, at seconds: Double = 0
) -> NewMessage {
    NewMessage(
        contact: contact, channel: channel, direction: .inbound, body: body, providerSid: sid,
        contactChannelAddress: channel == .whatsapp ? "whatsapp:\(contact)" : contact,
        agentAddress: channel == .whatsapp ? "whatsapp:\(agentNumber)" : agentNumber, createdAt: start + seconds, status: "received")
}

/// A text the agent sent to `contact` at `start + seconds`.
private func outbound(
    _ sid: String, _ body: String, to contact: String = ann, channel: Channel = .sms, at seconds: Double = 0, status: String = "queued"
) -> NewMessage {
    NewMessage(
        contact: contact, channel: channel, direction: .outbound, body: body, providerSid: sid, contactChannelAddress: contact,
        agentAddress: agentNumber, createdAt: start + seconds, status: status)
}

/// Runs `body` with a migrated store on a new database of `backend`.
private func withStore(_ backend: Backend, _ body: (any ConversationStore, TestDatabase) async throws -> Void) async throws {
    try await TestDatabase.with(backend) { database in
        try await body(try await database.open(), database)
    }
}

@Suite("ConversationStore behaviour, on SQLite and PostgreSQL")
struct ConversationStoreTests {
    @Test("Migrating twice is a no-op; the schema is at version 1", arguments: Backend.all)
    func migrateTwice(backend: Backend) async throws {
        try await withStore(backend) { store, database in
            #expect(try await database.schemaVersion(store) == 1)
            #expect(try await store.receive(inbound("SM1", "hello"), owesReply: true) == .recorded(replyID: 1))
            try await store.migrate()
            try await store.migrate()
            #expect(try await database.schemaVersion(store) == 1)
            #expect(try await store.counts() == StoreCounts(contacts: 1, entries: 1, calls: 0, pendingReplies: 1, sentReplies: 0))
            #expect(try await store.history(of: ann, limit: 10, before: nil).map(\.body) == ["hello"])
        }
    }

    @Test("Stores migrating the same new database at once both succeed", arguments: Backend.all.filter { $0 == .postgres })
    func concurrentMigrations(backend: Backend) async throws {
        try await TestDatabase.with(backend) { database in
            async let first = database.open()
            async let second = database.open()
            let stores = try await [first, second]
            for store in stores { #expect(try await database.schemaVersion(store) == 1) }
            #expect(try await stores[0].recordOutbound(outbound("SM1", "hi")))
            #expect(try await stores[1].counts().entries == 1)
        }
    }

    @Test("receive is idempotent: the same provider id twice is one entry and one outbox item", arguments: Backend.all)
    func receiveIdempotent(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let message = inbound("SM100", "Do you deliver on Sundays?")
            guard case .recorded(let replyID?) = try await store.receive(message, owesReply: true) else {
                Issue.record("the first receive did not record a reply")
                return
            }
            #expect(try await store.receive(message, owesReply: true) == .duplicate)
            var retried = message
            retried.body = "a retried webhook with other text"
            #expect(try await store.receive(retried, owesReply: false) == .duplicate)
            #expect(try await store.recordOutbound(message) == false)

            #expect(try await store.history(of: ann, limit: 10, before: nil).map(\.body) == ["Do you deliver on Sundays?"])
            #expect(try await store.pendingReplies().map(\.id) == [replyID])
            #expect(try await store.counts() == StoreCounts(contacts: 1, entries: 1, calls: 0, pendingReplies: 1, sentReplies: 0))
        }
    }

    @Test("20 concurrent receives of the same provider id record it exactly once", arguments: Backend.all)
    func concurrentReceives(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let message = inbound("SM200", "Is anyone there?", channel: .whatsapp)
            let outcomes = try await withThrowingTaskGroup(of: Reception.self) { group in
                for _ in 0..<20 { group.addTask { try await store.receive(message, owesReply: true) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let recorded = outcomes.filter { $0 != .duplicate }
            #expect(recorded.count == 1)
            #expect(outcomes.filter { $0 == .duplicate }.count == 19)
            guard case .recorded(let replyID?) = recorded.first else {
                Issue.record("no receive recorded the message with a reply: \(outcomes)")
                return
            }
            #expect(try await store.pendingReplies().map(\.id) == [replyID])
            #expect(try await store.counts() == StoreCounts(contacts: 1, entries: 1, calls: 0, pendingReplies: 1, sentReplies: 0))
        }
    }

    @Test("owesReply creates the reply's outbox item with the message; without it, none", arguments: Backend.all)
    func owesReplyCreatesOutboxItem(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let whatsapp = inbound("SM300", "Hola", channel: .whatsapp, at: 5)
            guard case .recorded(let replyID?) = try await store.receive(whatsapp, owesReply: true) else {
                Issue.record("no reply recorded")
                return
            }
            #expect(try await store.receive(inbound("SM301", "no reply needed", at: 6), owesReply: false) == .recorded(replyID: nil))
            var conversation = inbound("IM302", "In a conversation", at: 7)
            conversation.threadReference = "CH123"
            guard case .recorded(let secondID?) = try await store.receive(conversation, owesReply: true) else {
                Issue.record("no reply recorded")
                return
            }
            #expect(secondID > replyID)

            // When each item last changed is the store's clock (now), not the messages' dates.
            let items = try await store.pendingReplies()
            #expect(items.allSatisfy { abs($0.updatedAt.timeIntervalSinceNow) < 60 })
            #expect(
                items.map { item in
                    var item = item
                    item.updatedAt = item.createdAt
                    return item
                } == [
                    OutboxItem(
                        id: replyID, inboundSid: "SM300", contact: ann, channel: .whatsapp, threadReference: "", to: "whatsapp:\(ann)",
                        from: "whatsapp:\(agentNumber)", body: nil, state: .pending, createdAt: start + 5),
                    OutboxItem(
                        id: secondID, inboundSid: "IM302", contact: ann, channel: .sms, threadReference: "CH123", to: ann,
                        from: agentNumber, body: nil, state: .pending, createdAt: start + 7),
                ])
            #expect(try await store.counts().entries == 3)
        }
    }

    @Test("Status moves only forward; repeats are duplicates; unknown ids are reported", arguments: Backend.all)
    func statusOrdering(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            #expect(try await store.recordOutbound(outbound("SM400", "Your order shipped")))
            #expect(try await store.recordOutbound(outbound("SM401", "Second notice", at: 1)))

            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM400", status: "delivered", at: start + 10)) == .applied)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM400", status: "sent", at: start + 11)) == .stale)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM400", status: "delivered", at: start + 12)) == .duplicate)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM999", status: "delivered")) == .unknownMessage)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM400", status: "read", at: start + 13)) == .applied)

            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM401", status: "sent", at: start + 10)) == .applied)
            #expect(
                try await store.updateStatus(StatusUpdate(providerSid: "SM401", status: "undelivered", errorCode: 30_005, at: start + 11))
                    == .applied)
            #expect(
                try await store.updateStatus(StatusUpdate(providerSid: "SM401", status: "undelivered", errorCode: 30_005, at: start + 12))
                    == .duplicate)

            let entries = try await store.history(of: ann, limit: 10, before: nil)
            #expect(entries.map(\.status) == ["read", "undelivered"])
            #expect(entries.map(\.errorCode) == [nil, 30_005])
        }
    }

    @Test("A late sent after delivered is stale and the status stays delivered", arguments: Backend.all)
    func lateSentIsStale(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let recorded = try await store.recordOutbound(outbound("SM410", "hello"))
            #expect(recorded)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM410", status: "delivered")) == .applied)
            #expect(try await store.updateStatus(StatusUpdate(providerSid: "SM410", status: "sent")) == .stale)
            #expect(try await store.history(of: ann, limit: 1, before: nil).first?.status == "delivered")
            let entry = try #require(try await store.entry(providerSid: "SM410"))
            #expect(entry.contact == ann && entry.status == "delivered" && entry.direction == .outbound)
            #expect(try await store.entry(providerSid: "SM999") == nil)
        }
    }

    @Test("recordTurn is an upsert: a turn written three times is two entries with the latest text", arguments: Backend.all)
    func recordTurnUpsert(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            try await store.startCall(CallStart(callSid: "CA1", contact: ann, from: ann, to: agentNumber, startedAt: start))
            let caller = "When do you open tomorrow?"
            let versions = [
                ("We open at nine", false), ("We open at nine sharp unless the plumber floods the shop", false),
                ("We open at nine sharp", true),
            ]
            for (text, interrupted) in versions {
                try await store.recordTurn(
                    CallTurn(
                        callSid: "CA1", contact: ann, number: 1, callerText: caller, agentText: text, interrupted: interrupted,
                        at: start + 5, timings: "{\"text\":\"\(text)\"}"))
            }
            let entries = try await store.history(of: ann, limit: 10, before: nil)
            #expect(entries.map(\.body) == [caller, "We open at nine sharp"])
            #expect(entries.map(\.direction) == [.inbound, .outbound])
            #expect(entries.map(\.providerSid) == ["CA1#1/caller", "CA1#1/agent"])
            #expect(entries.allSatisfy { $0.callSid == "CA1" && $0.turn == 1 && $0.channel == .voice })
            #expect(entries.last?.timings == "{\"text\":\"We open at nine sharp\"}")

            #expect(try await store.search("sharp", limit: 10).map(\.id) == [entries[1].id])
            #expect(try await store.search("plumber", limit: 10).isEmpty)
            #expect(try await store.search("floods", limit: 10).isEmpty)

            try await store.recordTurn(
                CallTurn(callSid: "CA1", contact: ann, number: 2, callerText: "Thanks", agentText: nil, at: start + 9))
            try await store.endCall(callSid: "CA1", at: start + 12)
            #expect(
                try await store.calls(of: ann, limit: 10) == [
                    CallSummaryRecord(
                        callSid: "CA1", contact: ann, from: ann, to: agentNumber, startedAt: start, endedAt: start + 12, turns: 2)
                ])
            #expect(try await store.counts() == StoreCounts(contacts: 1, entries: 3, calls: 1, pendingReplies: 0, sentReplies: 0))
        }
    }

    @Test("History spans channels in order, pages back with before, and keeps contacts apart", arguments: Backend.all)
    func historyAcrossChannels(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.receive(inbound("SM500", "Text one", at: 0), owesReply: false)
            try await store.recordTurn(
                CallTurn(callSid: "CA5", contact: ann, number: 1, callerText: "Call words", agentText: "Agent words", at: start + 10))
            _ = try await store.receive(inbound("SM501", "Over WhatsApp", channel: .whatsapp, at: 20), owesReply: false)
            _ = try await store.receive(inbound("SM502", "Bob's text", from: bob, at: 21), owesReply: false)
            #expect(try await store.recordOutbound(outbound("SM503", "Agent text", at: 30)))

            let all = try await store.history(of: ann, limit: 50, before: nil)
            #expect(all.map(\.body) == ["Text one", "Call words", "Agent words", "Over WhatsApp", "Agent text"])
            #expect(all.map(\.channel) == [.sms, .voice, .voice, .whatsapp, .sms])
            #expect(all.map(\.direction) == [.inbound, .inbound, .outbound, .inbound, .outbound])
            #expect(all.map(\.id) == all.map(\.id).sorted())
            #expect(all.first?.createdAt == start)
            #expect(all.first?.status == "received")

            let newest = try await store.history(of: ann, limit: 2, before: nil)
            #expect(newest.map(\.body) == ["Over WhatsApp", "Agent text"])
            let earlier = try await store.history(of: ann, limit: 2, before: newest[0].id)
            #expect(earlier.map(\.body) == ["Call words", "Agent words"])
            let earliest = try await store.history(of: ann, limit: 2, before: earlier[0].id)
            #expect(earliest.map(\.body) == ["Text one"])
            #expect(try await store.history(of: ann, limit: 2, before: earliest[0].id).isEmpty)
            #expect(try await store.history(of: bob, limit: 10, before: nil).map(\.body) == ["Bob's text"])
            #expect(try await store.history(of: "+15550000000", limit: 10, before: nil).isEmpty)
        }
    }

    @Test("Search matches every word, tolerates any punctuation, returns newest first within the limit", arguments: Backend.all)
    func search(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let bodies = [
                "The red bicycle is in the garage", "A red car", "Bicycle repair shop: red paint, new chain",
                "Write to ann@example.com about the invoice #42", "RED BICYCLE for sale!",
            ]
            for (index, body) in bodies.enumerated() {
                _ = try await store.receive(
                    inbound("SM6\(index)", body, from: index.isMultiple(of: 2) ? ann : bob, at: Double(index)), owesReply: false)
            }
            func found(_ query: String, limit: Int = 10) async throws -> [String] {
                try await store.search(query, limit: limit).map(\.body)
            }

            #expect(try await found("red bicycle") == [bodies[4], bodies[2], bodies[0]])
            #expect(try await found("Red   BICYCLE", limit: 2) == [bodies[4], bodies[2]])
            #expect(try await found("\"red\" AND (bicycle*) -garage OR") == [])
            #expect(try await found("'red', \"bicycle\"!?") == [bodies[4], bodies[2], bodies[0]])
            #expect(try await found("car") == [bodies[1]])
            #expect(try await found("example") == [bodies[3]])
            #expect(try await found("invoice 42") == [bodies[3]])
            #expect(try await found("bicycle unicorn") == [])
            #expect(try await found("\"*()-:^~'") == [])
            #expect(try await found("") == [])
            #expect(try await found("red", limit: 0) == [])
            let entries = try await store.search("red", limit: 10)
            #expect(entries.map(\.id) == entries.map(\.id).sorted(by: >))
            #expect(entries.map(\.contact) == [ann, ann, bob, ann])
        }
    }

    @Test("Opting out and back in round-trips; a WhatsApp message records the contact's last inbound", arguments: Backend.all)
    func optOut(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            #expect(try await store.contact(ann) == nil)
            try await store.setOptedOut(ann, true, at: start)
            #expect(try await store.contact(ann) == Contact(address: ann, createdAt: start, optedOut: true, lastInboundWhatsApp: nil))
            try await store.setOptedOut(ann, false, at: start + 60)
            #expect(try await store.contact(ann)?.optedOut == false)
            try await store.setOptedOut(ann, true, at: start + 120)
            #expect(try await store.contact(ann)?.optedOut == true)

            _ = try await store.receive(inbound("SM700", "hi", from: bob, channel: .whatsapp, at: 30), owesReply: false)
            _ = try await store.receive(inbound("SM701", "sms", from: bob, at: 40), owesReply: false)
            #expect(
                try await store.contact(bob)
                    == Contact(address: bob, createdAt: start + 30, optedOut: false, lastInboundWhatsApp: start + 30))
            #expect(try await store.counts().contacts == 2)
        }
    }

    @Test("Outbox: pending, composed, one claim among concurrent senders, sent; and abandoned", arguments: Backend.all)
    func outboxLifecycle(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            guard case .recorded(let id?) = try await store.receive(inbound("SM800", "What time is it?"), owesReply: true),
                case .recorded(let other?) = try await store.receive(inbound("SM801", "STOP", at: 1), owesReply: true)
            else {
                Issue.record("no replies recorded")
                return
            }
            #expect(try await store.pendingReplies().map(\.state) == [.pending, .pending])

            try await store.composeReply(id: id, body: "It is noon.")
            var items = try await store.pendingReplies()
            #expect(items.first?.state == .composed)
            #expect(items.first?.body == "It is noon.")

            let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await store.markSending(id: id) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(claims.filter { $0 }.count == 1)
            #expect(try await store.markSending(id: id) == false)
            try await store.composeReply(id: id, body: "Other words")  // no longer pending: changes nothing
            items = try await store.pendingReplies()
            #expect(items.first?.state == .sending)
            #expect(items.first?.body == "It is noon.")
            #expect(items.first?.attempts == 1)

            // Renewing the claim is a compare-and-swap on the attempts: one winner among concurrent takers.
            #expect(try await store.renewClaim(id: id, attempts: 0) == false)
            let renewals = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<8 { group.addTask { try await store.renewClaim(id: id, attempts: 1) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(renewals.filter { $0 }.count == 1)
            #expect(try await store.pendingReplies().first?.attempts == 2)
            #expect(try await store.renewClaim(id: other, attempts: 0) == false, "a pending reply is claimed with markSending")

            try await store.completeReply(id: id, sent: outbound("SM900", "It is noon.", at: 2, status: "sent"))
            #expect(try await store.pendingReplies().map(\.id) == [other])
            let history = try await store.history(of: ann, limit: 10, before: nil)
            #expect(history.map(\.body) == ["What time is it?", "STOP", "It is noon."])
            #expect(history.last?.direction == .outbound)
            #expect(history.last?.providerSid == "SM900")
            #expect(try await store.markSending(id: id) == false)
            #expect(try await store.renewClaim(id: id, attempts: 2) == false, "a sent reply cannot be claimed again")

            try await store.abandonReply(id: other, reason: "opted out")
            #expect(try await store.pendingReplies().isEmpty)
            #expect(try await store.markSending(id: other) == false)
            try await store.abandonReply(id: id, reason: "too late")  // a sent reply stays sent
            #expect(try await store.counts() == StoreCounts(contacts: 1, entries: 3, calls: 0, pendingReplies: 0, sentReplies: 1))
        }
    }

    @Test("Replies owed survive a restart: close and reopen the store", arguments: Backend.all)
    func pendingAfterRestart(backend: Backend) async throws {
        try await withStore(backend) { store, database in
            guard case .recorded(let first?) = try await store.receive(inbound("SM1000", "first", at: 0), owesReply: true),
                case .recorded(let second?) = try await store.receive(inbound("SM1001", "second", from: bob, at: 1), owesReply: true),
                case .recorded(let third?) = try await store.receive(inbound("SM1002", "third", at: 2), owesReply: true)
            else {
                Issue.record("no replies recorded")
                return
            }
            try await store.composeReply(id: second, body: "composed before the crash")
            #expect(try await store.markSending(id: third))

            let reopened = try await database.reopen(store)
            let items = try await reopened.pendingReplies()
            #expect(items.map(\.id) == [first, second, third])
            #expect(items.map(\.state) == [.pending, .composed, .sending])
            #expect(items.map(\.body) == [nil, "composed before the crash", nil])
            #expect(items.map(\.contact) == [ann, bob, ann])
            #expect(try await reopened.receive(inbound("SM1000", "first", at: 0), owesReply: true) == .duplicate)
            #expect(try await reopened.counts() == StoreCounts(contacts: 2, entries: 3, calls: 0, pendingReplies: 3, sentReplies: 0))
        }
    }

    @Test("StoreMemory keeps the newest entries within its budget and marks other channels", arguments: Backend.all)
    func storeMemory(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            _ = try await store.receive(inbound("SM1100", "Hi, it's Ann", at: 0), owesReply: false)
            try await store.recordTurn(
                CallTurn(
                    callSid: "CA11", contact: ann, number: 1, callerText: "About my order", agentText: "It ships Monday", at: start + 10))
            _ = try await store.receive(inbound("SM1101", "Thanks!", channel: .whatsapp, at: 20), owesReply: false)
            #expect(try await store.recordOutbound(outbound("SM1102", "You're welcome", at: 30)))
            _ = try await store.receive(inbound("SM1103", "Someone else", from: bob, at: 31), owesReply: false)

            let everything = StoreMemory(store: store, channel: .sms)
            #expect(
                try await everything.recall(contact: ann, excluding: nil) == [
                    ChatMessage(.user, "Hi, it's Ann"), ChatMessage(.user, "[phone call] About my order"),
                    ChatMessage(.assistant, "[phone call] It ships Monday"), ChatMessage(.user, "[WhatsApp] Thanks!"),
                    ChatMessage(.assistant, "You're welcome"),
                ])
            #expect(
                try await everything.recall(contact: ann, excluding: "CA11") == [
                    ChatMessage(.user, "Hi, it's Ann"), ChatMessage(.user, "[WhatsApp] Thanks!"), ChatMessage(.assistant, "You're welcome"),
                ])

            let onCall = StoreMemory(store: store, channel: .voice, budget: .init(maximumEntries: 3, maximumCharacters: 1000))
            #expect(
                try await onCall.recall(contact: ann, excluding: nil) == [
                    ChatMessage(.assistant, "It ships Monday"), ChatMessage(.user, "[WhatsApp] Thanks!"),
                    ChatMessage(.assistant, "[SMS] You're welcome"),
                ])

            // "You're welcome" (14) + "Thanks!" (7) = 21 characters: a third entry does not fit.
            let short = StoreMemory(store: store, channel: .whatsapp, budget: .init(maximumEntries: 10, maximumCharacters: 21))
            #expect(
                try await short.recall(contact: ann, excluding: nil) == [
                    ChatMessage(.user, "Thanks!"), ChatMessage(.assistant, "[SMS] You're welcome"),
                ])
            let shorter = StoreMemory(store: store, channel: .sms, budget: .init(maximumEntries: 10, maximumCharacters: 20))
            #expect(try await shorter.recall(contact: ann, excluding: nil) == [ChatMessage(.assistant, "You're welcome")])
            #expect(try await shorter.recall(contact: "+15550000000", excluding: nil).isEmpty)
        }
    }

    @Test("Counts follow contacts, entries, calls and the outbox", arguments: Backend.all)
    func counts(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            #expect(try await store.counts() == StoreCounts(contacts: 0, entries: 0, calls: 0, pendingReplies: 0, sentReplies: 0))
            _ = try await store.receive(inbound("SM1200", "one", at: 0), owesReply: true)
            _ = try await store.receive(inbound("SM1201", "two", from: bob, at: 1), owesReply: true)
            try await store.startCall(CallStart(callSid: "CA12", contact: bob, startedAt: start + 2))
            try await store.startCall(CallStart(callSid: "CA12", contact: bob, startedAt: start + 3))  // already started
            try await store.recordTurn(
                CallTurn(callSid: "CA13", contact: "+15551230003", number: 0, callerText: nil, agentText: "Hello", at: start + 4))
            #expect(try await store.counts() == StoreCounts(contacts: 3, entries: 3, calls: 2, pendingReplies: 2, sentReplies: 0))
            #expect(try await store.calls(of: bob, limit: 10).map(\.startedAt) == [start + 2])

            let pending = try await store.pendingReplies()
            try await store.completeReply(id: pending[0].id, sent: outbound("SM1300", "reply", at: 5))
            try await store.abandonReply(id: pending[1].id, reason: "no")
            #expect(try await store.counts() == StoreCounts(contacts: 3, entries: 4, calls: 2, pendingReplies: 0, sentReplies: 1))
        }
    }
}
