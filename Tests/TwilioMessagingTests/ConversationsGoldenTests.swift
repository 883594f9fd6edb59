//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTestSupport

/// What Twilio's official Python SDK sends and signs for Conversations v1 (TestVectors/twilio/conversations.json),
/// reproduced byte for byte by the Swift client, and read back the same by its decoders and webhook parser.
@Suite("Twilio Conversations against the official SDK")
struct ConversationsGoldenTests {
    /// Any JSON value.
    enum Value: Decodable, Equatable {
        case string(String)
        case int(Int)
        case double(Double)
        case bool(Bool)
        case array([Value])
        case object([String: Value])
        case null

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if container.decodeNil() {
                self = .null
            } else if let bool = try? container.decode(Bool.self) {
                self = .bool(bool)
            } else if let int = try? container.decode(Int.self) {
                self = .int(int)
            } else if let double = try? container.decode(Double.self) {
                self = .double(double)
            } else if let string = try? container.decode(String.self) {
                self = .string(string)
            } else if let array = try? container.decode([Value].self) {
                self = .array(array)
            } else {
                self = .object(try container.decode([String: Value].self))
            }
        }

        var string: String? { if case .string(let value) = self { value } else { nil } }
        var int: Int? { if case .int(let value) = self { value } else { nil } }
        var object: [String: Value]? { if case .object(let value) = self { value } else { nil } }
        subscript(_ key: String) -> Value? { object?[key] }
    }

    struct File: Decodable {
        struct SDK: Decodable {
            var version: String
        }
        struct RestCase: Decodable {
            var name: String
            var credentials: [String: String]
            var call: [String: Value]
            var exchanges: [Exchange]
            var twilio_error: TwilioError?
            var result: Result?
        }
        struct Exchange: Decodable {
            var request: Request
            var response: Response
        }
        struct Request: Decodable {
            var method: String
            var url: String
            var path_and_query: String
            var body: String?
            var authorization: String
            var content_type: String?
            var accept: String?
            var webhook_enabled: String?
        }
        struct Response: Decodable {
            var status: Int
            var body: String
        }
        struct TwilioError: Decodable {
            var code: Int
            var message: String
            var more_info: String
        }
        struct Result: Decodable {
            var `class`: String
            var fields: [String: Value]?
            var items: [[String: Value]]?
            var value: Bool?
        }
        struct Webhook: Decodable {
            var name: String
            var auth_token: String
            var url: String
            var event_type: String
            var body: String
            var params: [[String]]
            var signature: String
        }
        var sdk: SDK
        var base_url: String
        var rest: [RestCase]
        var webhooks: [Webhook]
    }

    static let file = try! JSONDecoder().decode(
        File.self,
        from: Data(
            contentsOf: URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("TestVectors/twilio/conversations.json")))

    /// The reason each error case must give.
    static let expectedReasons: [String: MessagingError.Reason] = [
        "error_50416_pair_in_use": .addressPairInUse, "error_50437_pair_in_this_conversation": .alreadyParticipant,
        "error_50433_identity_present": .alreadyParticipant, "error_50407_invalid_address": .invalidRecipient,
        "error_50377_closed": .conversationClosed, "error_50353_duplicate_unique_name": .duplicateUniqueName,
        "error_20404_fetch": .notFound, "error_20429_create_message": .rateLimited,
    ]

    /// What a Swift call gave back.
    enum Outcome {
        case conversation(Conversation)
        case participant(ConversationParticipant)
        case message(ConversationMessage)
        case participants([ConversationParticipant])
        case messages([ConversationMessage])
        case participantConversations([ParticipantConversation])
        case deleted
    }

    /// Runs a case's SDK call through the Swift client.
    static func perform(_ call: [String: Value], _ client: TwilioConversationsClient) async throws(MessagingError) -> Outcome {
        func text(_ key: String) -> String? { call[key]?.string }
        let webhookEnabled = text("x_twilio_webhook_enabled").map { $0 == "true" }
        let conversation = text("conversation") ?? ""
        switch text("operation") {
        case "create_conversation":
            return .conversation(
                try await client.createConversation(
                    CreateConversation(
                        friendlyName: text("friendly_name"), uniqueName: text("unique_name"),
                        messagingServiceSid: text("messaging_service_sid"), attributes: text("attributes"),
                        state: text("state").map(ConversationState.init), inactiveTimer: text("timers_inactive"),
                        closedTimer: text("timers_closed")),
                    webhookEnabled: webhookEnabled))
        case "fetch_conversation":
            return .conversation(try await client.fetchConversation(conversation))
        case "update_conversation":
            return .conversation(
                try await client.updateConversation(
                    conversation,
                    UpdateConversation(
                        friendlyName: text("friendly_name"), attributes: text("attributes"),
                        state: text("state").map(ConversationState.init)),
                    webhookEnabled: webhookEnabled))
        case "delete_conversation":
            try await client.deleteConversation(conversation, webhookEnabled: webhookEnabled)
            return .deleted
        case "add_participant":
            let kind: AddParticipant.Kind =
                if let identity = text("identity") {
                    .chat(identity: identity)
                } else {
                    .messaging(address: text("messaging_binding_address")!, proxyAddress: text("messaging_binding_proxy_address")!)
                }
            return .participant(
                try await client.addParticipant(
                    to: conversation, AddParticipant(kind, attributes: text("attributes")), webhookEnabled: webhookEnabled))
        case "list_participants":
            var items: [ConversationParticipant] = []
            for try await item in client.participants(of: conversation, pageSize: call["page_size"]?.int) { items.append(item) }
            return .participants(items)
        case "remove_participant":
            try await client.removeParticipant(text("participant")!, from: conversation, webhookEnabled: webhookEnabled)
            return .deleted
        case "create_message":
            return .message(
                try await client.createMessage(
                    in: conversation,
                    CreateConversationMessage(author: text("author"), body: text("body"), attributes: text("attributes")),
                    webhookEnabled: webhookEnabled))
        case "list_messages":
            var items: [ConversationMessage] = []
            let order = text("order").flatMap(ConversationMessageOrder.init(rawValue:))
            for try await item in client.messages(in: conversation, order: order, pageSize: call["page_size"]?.int) {
                items.append(item)
            }
            return .messages(items)
        default:
            var items: [ParticipantConversation] = []
            for try await item in client.participantConversations(address: text("address")!, pageSize: call["page_size"]?.int) {
                items.append(item)
            }
            return .participantConversations(items)
        }
    }

    /// A URL without its origin (the golden test serves Twilio's canned bodies from a loopback origin).
    static func path(_ url: String?) -> String? {
        guard let url, let range = url.range(of: "/v1/") else { return nil }
        return String(url[range.lowerBound...])
    }

    static func check(_ conversation: Conversation, _ fields: [String: Value], _ name: String) {
        #expect(conversation.sid == fields["sid"]?.string && conversation.accountSid == fields["account_sid"]?.string, "\(name)")
        #expect(
            conversation.state.rawValue == fields["state"]?.string && conversation.attributes == fields["attributes"]?.string, "\(name)")
        #expect(conversation.friendlyName == fields["friendly_name"]?.string, "\(name)")
        #expect(conversation.uniqueName == fields["unique_name"]?.string, "\(name)")
        #expect(conversation.messagingServiceSid == fields["messaging_service_sid"]?.string, "\(name)")
        #expect(conversation.chatServiceSid == fields["chat_service_sid"]?.string, "\(name)")
        #expect(conversation.timers.dateClosed == fields["timers"]?["date_closed"]?.string, "\(name)")
        #expect(conversation.timers.dateInactive == fields["timers"]?["date_inactive"]?.string, "\(name)")
        #expect(Self.path(conversation.links["participants"]) == Self.path(fields["links"]?["participants"]?.string), "\(name)")
        #expect(Self.path(conversation.url) != nil && Self.path(conversation.url) == Self.path(fields["url"]?.string), "\(name)")
        // The SDK parses dates to datetimes; the same instant must come out here.
        let parsed = fields["date_created"]?.string.flatMap { try? Date($0, strategy: .iso8601) }
        #expect(conversation.createdAt != nil && conversation.createdAt == parsed, "\(name)")
    }

    static func check(_ participant: ConversationParticipant, _ fields: [String: Value], _ name: String) {
        #expect(participant.sid == fields["sid"]?.string && participant.conversationSid == fields["conversation_sid"]?.string, "\(name)")
        #expect(participant.identity == fields["identity"]?.string && participant.attributes == fields["attributes"]?.string, "\(name)")
        let binding = fields["messaging_binding"]
        #expect((participant.messagingBinding == nil) == (binding == .null), "\(name)")
        #expect(participant.messagingBinding?.address == binding?["address"]?.string, "\(name)")
        #expect(participant.messagingBinding?.proxyAddress == binding?["proxy_address"]?.string, "\(name)")
        #expect(participant.messagingBinding?.type == binding?["type"]?.string && participant.roleSid == fields["role_sid"]?.string)
    }

    static func check(_ message: ConversationMessage, _ fields: [String: Value], _ name: String) {
        #expect(message.sid == fields["sid"]?.string && message.index == fields["index"]?.int, "\(name)")
        #expect(message.author == fields["author"]?.string && message.body == fields["body"]?.string, "\(name)")
        #expect(message.attributes == fields["attributes"]?.string && message.participantSid == fields["participant_sid"]?.string)
        #expect(message.delivery?.total == fields["delivery"]?["total"]?.int, "\(name)")
        #expect(message.delivery?.undelivered == fields["delivery"]?["undelivered"]?.string, "\(name)")
        #expect(Self.path(message.links["delivery_receipts"]) == Self.path(fields["links"]?["delivery_receipts"]?.string), "\(name)")
        #expect(Self.path(message.url) != nil && Self.path(message.url) == Self.path(fields["url"]?.string), "\(name)")
    }

    static func check(_ item: ParticipantConversation, _ fields: [String: Value], _ name: String) {
        #expect(item.conversationSid == fields["conversation_sid"]?.string, "\(name)")
        #expect(item.participantSid == fields["participant_sid"]?.string, "\(name)")
        #expect(item.conversationState?.rawValue == fields["conversation_state"]?.string, "\(name)")
        #expect(item.conversationUniqueName == fields["conversation_unique_name"]?.string, "\(name)")
        #expect(item.participantMessagingBinding?.address == fields["participant_messaging_binding"]?["address"]?.string)
    }

    @Test("the vectors come from the pinned SDK and cover every operation, error and event")
    func coverage() {
        #expect(Self.file.sdk.version == "9.13.0" && Self.file.base_url == TwilioConversationsClient.defaultBaseURL)
        let operations = Set(Self.file.rest.compactMap { $0.call["operation"]?.string })
        #expect(operations.count == 10)
        #expect(Set(Self.file.rest.map(\.name)).isSuperset(of: Self.expectedReasons.keys))
        let events = Set(Self.file.webhooks.map(\.event_type))
        #expect(
            events.isSuperset(of: [
                "onMessageAdded", "onDeliveryUpdated", "onConversationStateUpdated", "onParticipantAdded", "onConversationAdded",
            ]))
    }

    @Test("every SDK request is reproduced byte for byte (path, body, headers), and every answer read as the SDK reads it")
    func restCases() async throws {
        for testCase in Self.file.rest {
            let responses = testCase.exchanges.map(\.response)
            let origin = Self.file.base_url
            let server = try await LoopbackHTTPServer { request, index in
                // The canned pages' absolute URLs point at Twilio; here they point back at the stand-in.
                let response = responses[min(index, responses.count - 1)]
                let base = "http://" + (request.header("Host") ?? "")
                return .init(status: response.status, body: response.body.replacingOccurrences(of: origin, with: base))
            }
            let credentials = testCase.credentials
            let client = TwilioConversationsClient(
                credentials: credentials["username"]!.hasPrefix("SK")
                    ? .apiKey(accountSid: credentials["account_sid"]!, keySid: credentials["username"]!, secret: credentials["password"]!)
                    : .authToken(accountSid: credentials["account_sid"]!, authToken: credentials["password"]!),
                configuration: .init(baseURL: server.baseURL, retry: .none))
            let outcome: Outcome?
            do {
                outcome = try await Self.perform(testCase.call, client)
            } catch {
                outcome = nil
                let expected = try #require(testCase.twilio_error, "\(testCase.name): \(error)")
                #expect(error.code == expected.code && error.message == expected.message, "\(testCase.name)")
                #expect(error.underlying.moreInfo == expected.more_info && error.httpStatus == testCase.exchanges.last?.response.status)
                #expect(error.reason == Self.expectedReasons[testCase.name], "\(testCase.name): \(error.reason)")
                #expect(error.underlying.attempts == 1, "\(testCase.name)")
            }
            if let outcome {
                #expect(testCase.twilio_error == nil, "\(testCase.name)")
                let result = try #require(testCase.result, "\(testCase.name)")
                switch outcome {
                case .conversation(let conversation): Self.check(conversation, result.fields ?? [:], testCase.name)
                case .participant(let participant): Self.check(participant, result.fields ?? [:], testCase.name)
                case .message(let message): Self.check(message, result.fields ?? [:], testCase.name)
                case .participants(let items):
                    #expect(items.count == result.items?.count, "\(testCase.name)")
                    for (item, fields) in zip(items, result.items ?? []) { Self.check(item, fields, testCase.name) }
                case .messages(let items):
                    #expect(items.count == result.items?.count, "\(testCase.name)")
                    for (item, fields) in zip(items, result.items ?? []) { Self.check(item, fields, testCase.name) }
                case .participantConversations(let items):
                    #expect(items.count == result.items?.count, "\(testCase.name)")
                    for (item, fields) in zip(items, result.items ?? []) { Self.check(item, fields, testCase.name) }
                case .deleted:
                    #expect(result.value == true && testCase.exchanges.last?.response.status == 204, "\(testCase.name)")
                }
            }
            let requests = server.requests
            #expect(requests.count == testCase.exchanges.count, "\(testCase.name)")
            for (request, exchange) in zip(requests, testCase.exchanges) {
                let expected = exchange.request
                #expect(request.method == expected.method, "\(testCase.name)")
                #expect(request.uri == expected.path_and_query, "\(testCase.name)")
                #expect(server.baseURL + request.uri == expected.url.replacingOccurrences(of: origin, with: server.baseURL))
                #expect(request.header("Authorization") == expected.authorization, "\(testCase.name)")
                #expect(String(decoding: request.body, as: UTF8.self) == (expected.body ?? ""), "\(testCase.name)")
                if expected.body != nil { #expect(request.header("Content-Type") == expected.content_type, "\(testCase.name)") }
                if let accept = expected.accept { #expect(request.header("Accept") == accept, "\(testCase.name)") }
                #expect(request.header("X-Twilio-Webhook-Enabled") == expected.webhook_enabled, "\(testCase.name)")
            }
            try await server.shutdown()
        }
    }

    @Test("webhook bodies parse into their events, keep every field, and the SDK's signatures validate over them")
    func webhooks() throws {
        for webhook in Self.file.webhooks {
            let params = webhook.params.map { ($0[0], $0[1]) }
            #expect(FormEncoding.encode(params) == webhook.body, "\(webhook.name)")
            let event = try ConversationsWebhookEvent(formBody: Array(webhook.body.utf8))
            #expect(event.eventType == webhook.event_type, "\(webhook.name)")
            let parsed = event.parameters
            #expect(parsed.map(\.0) == params.map(\.0) && parsed.map(\.1) == params.map(\.1), "\(webhook.name)")
            let validator = RequestValidator(authToken: webhook.auth_token)
            #expect(validator.signature(url: webhook.url, parameters: parsed) == webhook.signature, "\(webhook.name)")
            #expect(validator.isValid(signature: webhook.signature, url: webhook.url, parameters: parsed), "\(webhook.name)")
            let tampered = parsed.map { $0.0 == "ConversationSid" ? ($0.0, $0.1 + "x") : $0 }
            #expect(!validator.isValid(signature: webhook.signature, url: webhook.url, parameters: tampered), "\(webhook.name)")
            #expect(!validator.isValid(signature: webhook.signature, url: webhook.url + "&x=1", parameters: parsed), "\(webhook.name)")
            let typed = [
                "onMessageAdded", "onDeliveryUpdated", "onConversationStateUpdated", "onParticipantAdded", "onConversationAdded",
            ]
            if case .other = event { #expect(!typed.contains(webhook.event_type), "\(webhook.name)") }
        }
    }

    static func event(_ name: String) throws -> ConversationsWebhookEvent {
        let webhook = try #require(file.webhooks.first { $0.name == name })
        return try ConversationsWebhookEvent(formBody: Array(webhook.body.utf8))
    }

    @Test("onMessageAdded: every field typed; the contact's number; echoes of the agent's own messages")
    func messageAdded() throws {
        guard case .onMessageAdded(let sms) = try Self.event("on_message_added_sms") else {
            Issue.record("not onMessageAdded")
            return
        }
        #expect(sms.conversationSid == "CH0123456789abcdef0123456789abcdef" && sms.messageSid == "IM00000000000000000000000000000001")
        #expect(sms.index == 1 && sms.retryCount == 0 && sms.source == "SMS" && sms.attributes == "{}")
        #expect(sms.body == "Can I move it to 8? Thanks :) & bye" && sms.author == "+14155550199")
        #expect(sms.chatServiceSid?.hasPrefix("IS") == true && sms.messagingServiceSid?.hasPrefix("MG") == true)
        #expect(sms.participantSid == "MB11111111111111111111111111111111" && sms.clientIdentity == nil && sms.media == nil)
        #expect(sms.dateCreated == "2026-08-11T13:03:28.879Z")
        let created = try #require(sms.createdAt)
        #expect(abs(created.timeIntervalSince1970 - 1_786_453_408.879) < 0.0005)
        #expect(sms.contactE164 == "+14155550199" && sms.channel == .sms)
        #expect(!sms.isEcho() && !sms.isEcho(agentAuthor: "voicepipe-agent"))

        guard case .onMessageAdded(let whatsApp) = try Self.event("on_message_added_whatsapp_media") else {
            Issue.record("not onMessageAdded")
            return
        }
        #expect(whatsApp.contactE164 == "+14155550199" && whatsApp.channel == .whatsApp && whatsApp.body == "¿Y el menú? 🍝")
        #expect(whatsApp.media?.contains("ME0123456789abcdef0123456789abcdef") == true && whatsApp.index == 3)
        #expect(
            whatsApp.value(of: "WebhookSid") == "WH0123456789abcdef0123456789abcdef" && !whatsApp.isEcho(agentAuthor: "voicepipe-agent"))

        guard case .onMessageAdded(let echo) = try Self.event("on_message_added_api_echo") else {
            Issue.record("not onMessageAdded")
            return
        }
        #expect(echo.isEcho() && echo.isEcho(agentAuthor: "voicepipe-agent") && echo.clientIdentity == "voicepipe-agent")
        #expect(echo.contactE164 == nil && echo.channel == nil && echo.participantSid == nil)
    }

    @Test("onDeliveryUpdated, onConversationStateUpdated, onParticipantAdded, onConversationAdded, and untyped events")
    func otherEvents() throws {
        guard case .onDeliveryUpdated(let delivery) = try Self.event("on_delivery_updated_undelivered") else {
            Issue.record("not onDeliveryUpdated")
            return
        }
        #expect(delivery.status == .undelivered && delivery.errorCode == 21610 && delivery.errorReason == .unsubscribed)
        #expect(delivery.deliveryReceiptSid?.hasPrefix("DY") == true && delivery.channelMessageSid?.hasPrefix("SM") == true)
        #expect(delivery.messageSid == "IM00000000000000000000000000000002" && delivery.dateUpdated == "2026-08-11T13:03:33.450Z")

        guard case .onConversationStateUpdated(let state) = try Self.event("on_conversation_state_updated") else {
            Issue.record("not onConversationStateUpdated")
            return
        }
        #expect(state.stateFrom == .active && state.stateTo == .inactive && state.reason == "TIMER")
        #expect(state.stateUpdated == "2026-08-11T14:03:28.000Z")

        guard case .onParticipantAdded(let participant) = try Self.event("on_participant_added") else {
            Issue.record("not onParticipantAdded")
            return
        }
        #expect(
            participant.messagingBinding
                == ConversationMessagingBinding(type: "SMS", address: "+14155550199", proxyAddress: "+14155550100"))
        #expect(participant.participantSid == "MB11111111111111111111111111111111" && participant.identity == nil)

        guard case .onConversationAdded(let added) = try Self.event("on_conversation_added") else {
            Issue.record("not onConversationAdded")
            return
        }
        #expect(added.authorAddress == "+14155550199" && added.messagingBinding?.proxyAddress == "+14155550100")
        #expect(added.state == .active && added.friendlyName == nil && added.attributes == "{}")

        guard case .other(let eventType, let parameters) = try Self.event("on_message_updated_other") else {
            Issue.record("not other")
            return
        }
        #expect(eventType == "onMessageUpdated" && parameters.first { $0.0 == "Body" }?.1 == "Booked for 8pm.")
        #expect(try Self.event("on_participant_removed_other").eventType == "onParticipantRemoved")
    }
}
