//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTestSupport

/// The Conversations client against the stand-in Conversations API on loopback: real HTTP, real AsyncHTTPClient.
@Suite("Twilio Conversations client")
struct ConversationsClientTests {
    typealias StandIn = ConversationsAPIStandIn
    static let customer = "+14155550199"
    static let ourNumber = "+14155550100"

    static func client(_ standIn: StandIn, retry: RetryPolicy = .init(initialBackoff: .milliseconds(5))) -> TwilioConversationsClient {
        TwilioConversationsClient(
            credentials: .authToken(accountSid: StandIn.accountSid, authToken: StandIn.authToken),
            configuration: .init(baseURL: standIn.server.baseURL, requestTimeout: .seconds(5), retry: retry))
    }

    /// The error `body` throws, or `nil` (recorded as an issue) when it succeeds.
    static func failure<T>(_ body: () async throws(MessagingError) -> T) async -> MessagingError? {
        do {
            _ = try await body()
            Issue.record("no error")
            return nil
        } catch {
            return error
        }
    }

    @Test("the default origin is conversations.twilio.com, and sameAs keeps the REST client's credentials and retries")
    func defaults() {
        let credentials = TwilioCredentials.authToken(accountSid: StandIn.accountSid, authToken: "t")
        #expect(TwilioConversationsClient(credentials: credentials).configuration.baseURL == "https://conversations.twilio.com")
        let rest = TwilioRESTClient(credentials: credentials, configuration: .init(retry: .none))
        let client = TwilioConversationsClient(sameAs: rest, baseURL: "http://127.0.0.1:9/")
        #expect(client.configuration.baseURL == "http://127.0.0.1:9" && client.configuration.retry.maximumAttempts == 1)
        #expect(client.credentials.accountSid == StandIn.accountSid)
    }

    @Test("a thread: create by unique name, add SMS and chat participants, post with the webhook header, fetch by name")
    func thread() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let created = try await client.createConversation(
            CreateConversation(friendlyName: "Booking", uniqueName: "booking 42/zoë", attributes: #"{"contact":"+14155550199"}"#))
        #expect(created.sid.hasPrefix("CH") && created.state == .active && created.attributes == #"{"contact":"+14155550199"}"#)
        #expect(created.createdAt == Date(timeIntervalSince1970: 1_786_453_408))
        let request = try #require(standIn.server.requests.last)
        #expect(request.method == "POST" && request.uri == "/v1/Conversations" && request.header("X-Twilio-Webhook-Enabled") == nil)
        // The unique name stands in for the sid; '/' and the space stay inside one path segment.
        let fetched = try await client.fetchConversation("booking 42/zoë")
        #expect(fetched.sid == created.sid && standIn.server.requests.last?.uri == "/v1/Conversations/booking%2042%2Fzo%C3%AB")
        let sms = try await client.addParticipant(to: created.sid, .sms(address: Self.customer, proxyAddress: Self.ourNumber))
        #expect(sms.messagingBinding?.type == "sms" && sms.messagingBinding?.address == Self.customer && sms.identity == nil)
        let chat = try await client.addParticipant(to: "booking 42/zoë", .chat(identity: "agent"))
        #expect(chat.identity == "agent" && chat.messagingBinding == nil && chat.conversationSid == created.sid)
        let posted = try await client.createMessage(
            in: created.sid, CreateConversationMessage(author: "agent", body: "Booked & done?", attributes: #"{"id":7}"#),
            webhookEnabled: true)
        #expect(posted.sid.hasPrefix("IM") && posted.index == 0 && posted.author == "agent" && posted.attributes == #"{"id":7}"#)
        let post = try #require(standIn.server.requests.last)
        #expect(post.header("X-Twilio-Webhook-Enabled") == "true")
        #expect(String(decoding: post.body, as: UTF8.self) == "Author=agent&Body=Booked+%26+done%3F&Attributes=%7B%22id%22%3A7%7D")
        let updated = try await client.updateConversation(
            created.sid, UpdateConversation(friendlyName: "Booking (Zoë)"), webhookEnabled: false)
        #expect(updated.friendlyName == "Booking (Zoë)" && standIn.server.requests.last?.header("X-Twilio-Webhook-Enabled") == "false")
        try await standIn.shutdown()
    }

    @Test("lists page by page, following the absolute next_page_url verbatim, in both orders")
    func paging() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let conversation = try await client.createConversation()
        for number in 0..<5 {
            _ = try await client.createMessage(in: conversation.sid, CreateConversationMessage(author: "agent", body: "m\(number)"))
        }
        let before = standIn.server.requests.count
        var bodies: [String] = []
        for try await message in client.messages(in: conversation.sid, pageSize: 2) { bodies.append(message.body ?? "") }
        #expect(bodies == ["m0", "m1", "m2", "m3", "m4"])
        let pages = Array(standIn.server.requests.dropFirst(before))
        #expect(pages.count == 3)
        #expect(pages[0].uri == "/v1/Conversations/\(conversation.sid)/Messages?PageSize=2")
        #expect(pages[1].uri == "/v1/Conversations/\(conversation.sid)/Messages?PageSize=2&Page=1&PageToken=PT2")
        #expect(pages[2].uri == "/v1/Conversations/\(conversation.sid)/Messages?PageSize=2&Page=2&PageToken=PT4")

        let first = try await client.listMessages(in: conversation.sid, order: .descending, pageSize: 3)
        #expect(first.items.map(\.index) == [4, 3, 2] && first.meta.key == "messages" && first.meta.page == 0)
        #expect(
            first.nextPageURL == standIn.server.baseURL
                + "/v1/Conversations/\(conversation.sid)/Messages?Order=desc&PageSize=3&Page=1&PageToken=PT3")
        let second = try #require(try await client.nextPage(after: first))
        #expect(second.items.map(\.index) == [1, 0] && second.nextPageURL == nil)
        #expect(try await client.nextPage(after: second) == nil)
        try await standIn.shutdown()
    }

    @Test("a next_page_url on another origin is refused without a request (the credentials stay home)")
    func foreignNextPage() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let page = ConversationsPage<ConversationMessage>(
            items: [], meta: .init(nextPageURL: "https://evil.example.com/v1/Conversations/CH1/Messages?PageToken=PT2"))
        let error = await Self.failure { () async throws(MessagingError) in try await client.nextPage(after: page) }
        #expect(error?.reason == .invalidResponse && standIn.server.requests.isEmpty)
        try await standIn.shutdown()
    }

    @Test("429 then success: a create is retried after Retry-After and made once; a 503 on a create is not retried, on a GET it is")
    func retries() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let conversation = try await client.createConversation()
        standIn.store.state.withLock { $0.throttled = ["0", nil] }
        let message = try await client.createMessage(in: conversation.sid, CreateConversationMessage(body: "hello"))
        #expect(message.index == 0 && message.author == "system")
        let posts = standIn.server.requests.dropFirst().filter { $0.method == "POST" }
        #expect(posts.count == 3 && Set(posts.map { String(decoding: $0.body, as: UTF8.self) }) == ["Body=hello"])
        #expect(standIn.store.state.withLock { $0.conversations[0].messages.count } == 1)

        standIn.store.state.withLock { $0.serverErrors = 1 }
        let error = await Self.failure { () async throws(MessagingError) in
            try await client.createMessage(in: conversation.sid, CreateConversationMessage(body: "again"))
        }
        #expect(error?.reason == .serverError && error?.httpStatus == 503 && error?.underlying.attempts == 1)
        standIn.store.state.withLock { $0.serverErrors = 2 }
        let fetched = try await client.fetchConversation(conversation.sid)
        #expect(fetched.sid == conversation.sid)
        #expect(standIn.server.requests.suffix(3).map(\.method) == ["GET", "GET", "GET"])

        // A 429 that outlasts the policy surfaces as rateLimited with its Retry-After.
        standIn.store.state.withLock { $0.throttled = ["120"] }
        let throttled = await Self.failure { () async throws(MessagingError) in
            try await client.createMessage(in: conversation.sid, CreateConversationMessage(body: "later"))
        }
        #expect(throttled?.reason == .rateLimited && throttled?.code == 20429 && throttled?.retryAfter == .seconds(120))
        try await standIn.shutdown()
    }

    @Test("50416: a pair bound elsewhere is found by ParticipantConversations, and freed by closing; 50377, 50437, 50407, 50353")
    func pairRule() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let first = try await client.createConversation(CreateConversation(uniqueName: "first"))
        let second = try await client.createConversation()
        _ = try await client.addParticipant(to: first.sid, .whatsApp(address: Self.customer, proxyAddress: Self.ourNumber))
        let inUse = await Self.failure { () async throws(MessagingError) in
            try await client.addParticipant(to: second.sid, .whatsApp(address: Self.customer, proxyAddress: Self.ourNumber))
        }
        #expect(inUse?.reason == .addressPairInUse && inUse?.code == 50416 && inUse?.httpStatus == 409)
        #expect(inUse?.message.hasSuffix(first.sid) == true && inUse?.underlying.attempts == 1)
        var found: [ParticipantConversation] = []
        for try await item in client.participantConversations(address: "whatsapp:" + Self.customer) { found.append(item) }
        #expect(found.map(\.conversationSid) == [first.sid] && found.first?.conversationState == .active)
        #expect(found.first?.participantMessagingBinding?.proxyAddress == "whatsapp:" + Self.ourNumber)
        #expect(standIn.server.requests.last?.uri == "/v1/ParticipantConversations?Address=whatsapp%3A%2B14155550199")

        let again = await Self.failure { () async throws(MessagingError) in
            try await client.addParticipant(to: "first", .whatsApp(address: Self.customer, proxyAddress: Self.ourNumber))
        }
        #expect(again?.reason == .alreadyParticipant && again?.code == 50437)
        let invalid = await Self.failure { () async throws(MessagingError) in
            try await client.addParticipant(to: second.sid, .sms(address: "4155550199", proxyAddress: Self.ourNumber))
        }
        #expect(invalid?.reason == .invalidRecipient && invalid?.code == 50407 && invalid?.httpStatus == 400)
        let duplicate = await Self.failure { () async throws(MessagingError) in
            try await client.createConversation(CreateConversation(uniqueName: "first"))
        }
        #expect(duplicate?.reason == .duplicateUniqueName && duplicate?.code == 50353)

        let closed = try await client.updateConversation("first", .close)
        #expect(closed.state == .closed)
        let late = await Self.failure { () async throws(MessagingError) in
            try await client.updateConversation(first.sid, UpdateConversation(state: .active))
        }
        #expect(late?.reason == .conversationClosed && late?.code == 50377)
        let moved = try await client.addParticipant(to: second.sid, .whatsApp(address: Self.customer, proxyAddress: Self.ourNumber))
        #expect(moved.conversationSid == second.sid && moved.messagingBinding?.type == "whatsapp")
        try await standIn.shutdown()
    }

    @Test("deletes answer 204 with an empty body; the deleted conversation is then notFound")
    func deletes() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let conversation = try await client.createConversation(CreateConversation(uniqueName: "gone"))
        let participant = try await client.addParticipant(to: conversation.sid, .sms(address: Self.customer, proxyAddress: Self.ourNumber))
        try await client.removeParticipant(participant.sid, from: conversation.sid, webhookEnabled: true)
        let remove = try #require(standIn.server.requests.last)
        #expect(remove.method == "DELETE" && remove.uri == "/v1/Conversations/\(conversation.sid)/Participants/\(participant.sid)")
        #expect(remove.header("X-Twilio-Webhook-Enabled") == "true" && remove.body.isEmpty)
        #expect(try await client.listParticipants(of: conversation.sid).items.isEmpty)
        try await client.deleteConversation("gone")
        #expect(standIn.server.requests.last?.method == "DELETE" && standIn.server.requests.last?.uri == "/v1/Conversations/gone")
        let missing = await Self.failure { () async throws(MessagingError) in try await client.fetchConversation(conversation.sid) }
        #expect(missing?.reason == .notFound && missing?.code == 20404 && missing?.httpStatus == 404)
        let again = await Self.failure { () async throws(MessagingError) in try await client.deleteConversation(conversation.sid) }
        #expect(again?.reason == .notFound)
        try await standIn.shutdown()
    }

    @Test("a malformed success body, a page without meta, and a wrong token give typed errors")
    func malformed() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        standIn.store.state.withLock {
            $0.raw = [
                .init(status: 200, body: #"{"sid":"CH1","account_sid":"AC1","state":"active""#),
                .init(status: 201, body: "<html>not json</html>"),
                .init(status: 200, body: #"{"messages":[]}"#),
            ]
        }
        let truncated = await Self.failure { () async throws(MessagingError) in try await client.fetchConversation("CH1") }
        #expect(truncated?.reason == .invalidResponse && truncated?.httpStatus == 200 && truncated?.code == nil)
        let html = await Self.failure { () async throws(MessagingError) in try await client.createConversation() }
        #expect(html?.reason == .invalidResponse && html?.httpStatus == 201 && html?.underlying.attempts == 1)
        let noMeta = await Self.failure { () async throws(MessagingError) in try await client.listMessages(in: "CH1") }
        #expect(noMeta?.reason == .invalidResponse)
        let wrong = TwilioConversationsClient(
            credentials: .authToken(accountSid: StandIn.accountSid, authToken: "wrong"),
            configuration: .init(baseURL: standIn.server.baseURL, retry: .none))
        let denied = await Self.failure { () async throws(MessagingError) in try await wrong.fetchConversation("CH1") }
        #expect(denied?.reason == .authentication && denied?.code == 20003 && denied?.httpStatus == 401)
        try await standIn.shutdown()
    }
}
