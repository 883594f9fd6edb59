//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Synchronization
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTestSupport

/// The Messaging client against the stand-in Messages API on loopback: real HTTP, real AsyncHTTPClient.
@Suite("Twilio Messaging client")
struct TwilioMessagingClientTests {
    typealias StandIn = MessagesAPIStandIn
    static let customer = "+14155550199"
    static let ourNumber = "+14155550100"
    static let service = "MG0123456789abcdef0123456789abcdef"

    static func client(
        _ standIn: StandIn, credentials: TwilioCredentials = .authToken(accountSid: StandIn.accountSid, authToken: StandIn.authToken),
        retry: RetryPolicy = .init(initialBackoff: .milliseconds(5)), timeout: Duration = .seconds(5)
    ) -> TwilioMessagingClient {
        TwilioMessagingClient(
            credentials: credentials, configuration: .init(baseURL: standIn.server.baseURL, requestTimeout: timeout, retry: retry))
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

    @Test("send from a number: POST Messages.json with basic auth and the form, 201 decoded into a Message")
    func sendFromNumber() async throws {
        let standIn = try await StandIn()
        let message = try await Self.client(standIn).send(
            SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "Your table for 2 is booked for 7pm."))
        #expect(message.sid.hasPrefix("SM") && message.sid.count == 34)
        #expect(message.status == .queued && message.to == Self.customer && message.from == Self.ourNumber)
        #expect(message.body == "Your table for 2 is booked for 7pm." && message.numSegments == "1" && message.segmentCount == 1)
        #expect(message.numMedia == "0" && message.mediaCount == 0 && message.errorCode == nil && message.errorReason == nil)
        #expect(message.dateCreated == StandIn.date && message.dateSent == nil && message.direction == "outbound-api")
        #expect(message.channel == .sms && message.subresourceURIs["media"]?.hasSuffix("/Media.json") == true)
        let request = try #require(standIn.server.requests.first)
        #expect(request.method == "POST" && request.uri == "/2010-04-01/Accounts/\(StandIn.accountSid)/Messages.json")
        #expect(request.header("Authorization") == StandIn.basic(StandIn.accountSid, StandIn.authToken))
        #expect(request.header("Accept") == "application/json")
        #expect(
            String(decoding: request.body, as: UTF8.self)
                == "To=%2B14155550199&From=%2B14155550100&Body=Your+table+for+2+is+booked+for+7pm.")
        try await standIn.shutdown()
    }

    @Test("send through a Messaging Service with an API key: accepted, no sender yet, 0 segments")
    func sendThroughService() async throws {
        let standIn = try await StandIn()
        let client = Self.client(
            standIn, credentials: .apiKey(accountSid: StandIn.accountSid, keySid: StandIn.apiKeySid, secret: StandIn.apiKeySecret))
        let message = try await client.send(SendMessage(to: Self.customer, sender: .messagingService(Self.service), body: "Hi"))
        #expect(message.status == .accepted && message.from == nil && message.messagingServiceSid == Self.service)
        #expect(message.numSegments == "0")
        let request = try #require(standIn.server.requests.first)
        #expect(request.header("Authorization") == StandIn.basic(StandIn.apiKeySid, StandIn.apiKeySecret))
        #expect(request.path.contains(StandIn.accountSid))
        try await standIn.shutdown()
    }

    @Test("send media with a status callback: repeated MediaUrl fields in order, an MM sid")
    func sendMedia() async throws {
        let standIn = try await StandIn()
        let message = try await Self.client(standIn).send(
            SendMessage(
                to: Self.customer, sender: .from(Self.ourNumber), body: "Menu & photo",
                mediaURLs: ["https://media.example.com/a.jpg", "https://media.example.com/b.pdf?v=2&x=1"],
                statusCallback: "https://agent.example.com/status"))
        #expect(message.sid.hasPrefix("MM") && message.numMedia == "2")
        let form = try #require(FormEncoding.decode(standIn.server.requests[0].body))
        #expect(form.map(\.0) == ["To", "StatusCallback", "From", "Body", "MediaUrl", "MediaUrl"])
        #expect(
            form.filter { $0.0 == "MediaUrl" }.map(\.1) == ["https://media.example.com/a.jpg", "https://media.example.com/b.pdf?v=2&x=1"])
        try await standIn.shutdown()
    }

    @Test("WhatsApp: free-form inside the window; 63016 outside it; a template outside it is sent")
    func whatsAppWindow() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let to = MessagingAddress.whatsApp(Self.customer).rawValue
        let from = MessagingAddress.whatsApp(Self.ourNumber).rawValue
        let error = await Self.failure { () async throws(MessagingError) in
            try await client.send(SendMessage(to: to, sender: .from(from), body: "¡Hola! 🚚"))
        }
        #expect(error?.reason == .outsideWhatsAppWindow && error?.code == 63016 && error?.httpStatus == 400)
        #expect(error?.underlying.moreInfo == "https://www.twilio.com/docs/errors/63016" && error?.underlying.attempts == 1)
        let template = try await client.send(
            SendMessage(to: to, sender: .from(from), contentSid: "HX0123456789abcdef0123456789abcdef", contentVariables: #"{"1":"7pm"}"#))
        #expect(template.channel == .whatsApp && template.to == to)
        _ = standIn.store.state.withLock { $0.whatsAppWindowOpen.insert(Self.customer) }
        let inside = try await client.send(SendMessage(to: to, sender: .from(from), body: "¡Hola! 🚚"))
        #expect(inside.body == "¡Hola! 🚚" && inside.from == from)
        #expect(standIn.server.requests.count == 3)
        try await standIn.shutdown()
    }

    @Test("typed errors: invalid To (21211), landline (21614), opted out (21610), wrong token (20003); none retried")
    func typedErrors() async throws {
        let standIn = try await StandIn()
        standIn.store.state.withLock {
            $0.optedOut.insert(Self.customer)
            $0.landlines.insert("+14155550111")
        }
        let client = Self.client(standIn)
        let cases: [(String, MessagingError.Reason, Int)] = [
            ("+1555", .invalidRecipient, 21211), ("+14155550111", .invalidRecipient, 21614),
            (Self.customer, .unsubscribed, 21610),
        ]
        for (to, reason, code) in cases {
            let error = await Self.failure { () async throws(MessagingError) in
                try await client.send(SendMessage(to: to, sender: .from(Self.ourNumber), body: "hi"))
            }
            #expect(error?.reason == reason && error?.code == code && error?.httpStatus == 400, "\(to)")
            #expect(error?.underlying.attempts == 1)
        }
        let wrong = Self.client(standIn, credentials: .authToken(accountSid: StandIn.accountSid, authToken: "wrong"))
        let error = await Self.failure { () async throws(MessagingError) in try await wrong.fetchMessage(sid: "SM1") }
        #expect(error?.reason == .authentication && error?.code == 20003 && error?.httpStatus == 401)
        #expect(error?.message == "Authenticate")
        #expect(standIn.server.requests.count == 4)
        try await standIn.shutdown()
    }

    @Test("429 honours Retry-After (20429 and 14107), then succeeds; one send only reaches Twilio once")
    func rateLimitRetried() async throws {
        let standIn = try await StandIn()
        standIn.store.state.withLock { $0.throttled = [(20429, "1"), (14107, "0")] }
        let started = ContinuousClock.now
        let message = try await Self.client(standIn).send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(message.status == .queued)
        #expect(standIn.server.requests.count == 3)
        #expect(standIn.store.state.withLock { $0.messages.count } == 1)
        try await standIn.shutdown()
    }

    @Test("429 without Retry-After backs off; attempts exhausted give rateLimited with the last Retry-After")
    func rateLimitExhausted() async throws {
        let standIn = try await StandIn()
        standIn.store.state.withLock { $0.throttled = [(20429, nil), (14107, "0"), (14107, "0")] }
        let client = Self.client(standIn, retry: .init(maximumAttempts: 3, initialBackoff: .milliseconds(5)))
        let error = await Self.failure { () async throws(MessagingError) in
            try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        }
        #expect(error?.reason == .rateLimited && error?.code == 14107 && error?.httpStatus == 429)
        #expect(error?.underlying.attempts == 3 && error?.retryAfter == .zero)
        try await standIn.shutdown()

        let patient = try await StandIn()
        patient.store.state.withLock { $0.throttled = [(20429, "120")] }
        let tooLong = await Self.failure { () async throws(MessagingError) in
            try await Self.client(patient).send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        }
        #expect(tooLong?.reason == .rateLimited && tooLong?.retryAfter == .seconds(120) && tooLong?.underlying.attempts == 1)
        #expect(patient.server.requests.count == 1)
        try await patient.shutdown()
    }

    @Test("5xx: a send is not retried (the message may exist); a fetch is")
    func serverErrors() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let sent = try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        standIn.store.state.withLock { $0.serverErrors = 1 }
        let error = await Self.failure { () async throws(MessagingError) in
            try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "again"))
        }
        #expect(error?.reason == .serverError && error?.httpStatus == 503 && error?.underlying.attempts == 1)
        #expect(error?.message == "<html>Service Unavailable</html>")
        standIn.store.state.withLock { $0.serverErrors = 2 }
        let fetched = try await client.fetchMessage(sid: sent.sid)
        #expect(fetched == sent)
        #expect(standIn.server.requests.count == 5)
        try await standIn.shutdown()
    }

    @Test("fetch by sid; an unknown sid is notFound (20404)")
    func fetch() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        let sent = try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        let fetched = try await client.fetchMessage(sid: sent.sid)
        #expect(fetched.sid == sent.sid && fetched.body == "hi")
        #expect(standIn.server.requests[1].method == "GET" && standIn.server.requests[1].body.isEmpty)
        #expect(standIn.server.requests[1].uri == "/2010-04-01/Accounts/\(StandIn.accountSid)/Messages/\(sent.sid).json")
        let error = await Self.failure { () async throws(MessagingError) in
            try await client.fetchMessage(sid: "SM00000000000000000000000000000000")
        }
        #expect(error?.reason == .notFound && error?.code == 20404)
        let odd = await Self.failure { () async throws(MessagingError) in try await client.fetchMessage(sid: "../Calls/x?y=1") }
        #expect(odd?.reason == .notFound)
        #expect(standIn.server.requests.last?.uri.contains("%2E%2E%2FCalls%2Fx%3Fy%3D1") == true)
        try await standIn.shutdown()
    }

    @Test("list: filters by To and From, pages through next_page_uri, and the sequence yields every message")
    func listAndPage() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        for index in 0..<5 {
            _ = try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "m\(index)"))
        }
        _ = try await client.send(SendMessage(to: "+14155550123", sender: .from(Self.ourNumber), body: "other"))
        let query = MessageQuery(to: Self.customer, from: Self.ourNumber, pageSize: 2)
        let first = try await client.listMessages(query)
        #expect(first.messages.map(\.body) == ["m4", "m3"] && first.page == 0 && first.pageSize == 2)
        #expect(first.nextPageURI?.contains("PageToken=PA2") == true && first.previousPageURI == nil)
        let listRequest = standIn.server.requests[6]
        #expect(listRequest.method == "GET" && listRequest.body.isEmpty)
        #expect(listRequest.query == "To=%2B14155550199&From=%2B14155550100&PageSize=2")
        let second = try #require(try await client.nextPage(after: first))
        #expect(second.messages.map(\.body) == ["m2", "m1"] && second.page == 1)
        #expect(standIn.server.requests[7].uri == first.nextPageURI)
        let third = try #require(try await client.nextPage(after: second))
        #expect(third.messages.map(\.body) == ["m0"] && third.nextPageURI == nil)
        #expect(try await client.nextPage(after: third) == nil)

        var bodies: [String] = []
        for try await message in client.messages(query) { bodies.append(message.body ?? "") }
        #expect(bodies == ["m4", "m3", "m2", "m1", "m0"])
        var all = 0
        for try await _ in client.messages() { all += 1 }
        #expect(all == 6)
        let none = try await client.listMessages(MessageQuery(from: "+19999999999"))
        #expect(none.messages.isEmpty && none.nextPageURI == nil)
        try await standIn.shutdown()
    }

    @Test("a next_page_uri that is not a path on the API's origin is never followed")
    func foreignNextPage() async throws {
        let standIn = try await StandIn()
        let client = Self.client(standIn)
        for uri in ["https://evil.example.com/2010-04-01/x.json", "//evil.example.com/x", "x.json"] {
            let page = MessagePage(messages: [], nextPageURI: uri)
            let error = await Self.failure { () async throws(MessagingError) in try await client.nextPage(after: page) }
            #expect(error?.reason == .invalidResponse, "\(uri)")
        }
        #expect(standIn.server.requests.isEmpty)
        try await standIn.shutdown()
    }

    @Test("timeouts: a send is not retried, a fetch is; a 2xx that is not JSON is invalidResponse")
    func timeoutsAndGarbage() async throws {
        let slow = try await LoopbackHTTPServer { _, _ in .init(status: 200, body: "{}", delay: .seconds(2)) }
        let client = TwilioMessagingClient(
            credentials: .authToken(accountSid: StandIn.accountSid, authToken: StandIn.authToken),
            configuration: .init(
                baseURL: slow.baseURL, requestTimeout: .milliseconds(200),
                retry: .init(maximumAttempts: 2, initialBackoff: .milliseconds(5))))
        let send = await Self.failure { () async throws(MessagingError) in
            try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        }
        #expect(send?.reason == .timeout && send?.underlying.attempts == 1)
        let fetch = await Self.failure { () async throws(MessagingError) in try await client.fetchMessage(sid: "SM1") }
        #expect(fetch?.reason == .timeout && fetch?.underlying.attempts == 2)
        #expect(slow.requests.count == 3)
        try await slow.shutdown()

        let garbage = try await LoopbackHTTPServer { _, _ in .init(status: 201, body: #"{"sid":"SM1"}"#) }
        let reader = TwilioMessagingClient(
            credentials: .authToken(accountSid: StandIn.accountSid, authToken: StandIn.authToken),
            configuration: .init(baseURL: garbage.baseURL, retry: .none))
        let error = await Self.failure { () async throws(MessagingError) in
            try await reader.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        }
        #expect(error?.reason == .invalidResponse && error?.httpStatus == 201)
        try await garbage.shutdown()
    }

    @Test("a client made from a Voice REST client shares its credentials and settings")
    func sameAsRESTClient() async throws {
        let standIn = try await StandIn()
        let rest = TwilioRESTClient(
            credentials: .apiKey(accountSid: StandIn.accountSid, keySid: StandIn.apiKeySid, secret: StandIn.apiKeySecret),
            configuration: .init(baseURL: standIn.server.baseURL))
        let client = TwilioMessagingClient(sameAs: rest)
        #expect(client.configuration.baseURL == standIn.server.baseURL && !"\(client.credentials)".contains(StandIn.apiKeySecret))
        _ = try await client.send(SendMessage(to: Self.customer, sender: .from(Self.ourNumber), body: "hi"))
        #expect(standIn.server.requests[0].header("Authorization") == StandIn.basic(StandIn.apiKeySid, StandIn.apiKeySecret))
        try await standIn.shutdown()
    }
}
