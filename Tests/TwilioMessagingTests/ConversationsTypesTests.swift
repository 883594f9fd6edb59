//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST

/// The Conversations request types, resources, error reasons and webhook errors, without a network.
@Suite("Conversations types")
struct ConversationsTypesTests {
    static func names(_ fields: [(String, String)]) -> [String] { fields.map(\.0) }

    @Test("request fields follow the SDK's order, with every option")
    func formFields() {
        let create = CreateConversation(
            friendlyName: "F", uniqueName: "U", messagingServiceSid: "MG1", attributes: "{}", state: .inactive, inactiveTimer: "PT5M",
            closedTimer: "P1D")
        #expect(
            Self.names(create.formFields) == [
                "FriendlyName", "UniqueName", "MessagingServiceSid", "Attributes", "State", "Timers.Inactive", "Timers.Closed",
            ])
        #expect(create.formFields.first { $0.0 == "State" }?.1 == "inactive" && CreateConversation().formFields.isEmpty)
        let update = UpdateConversation(
            friendlyName: "F", attributes: "{}", state: .closed, inactiveTimer: "PT5M", closedTimer: "P1D", uniqueName: "U")
        #expect(
            Self.names(update.formFields) == ["FriendlyName", "Attributes", "State", "Timers.Inactive", "Timers.Closed", "UniqueName"])
        #expect(UpdateConversation.close.formFields.map(\.1) == ["closed"])
        let whatsApp = AddParticipant.whatsApp(address: "+14155550199", proxyAddress: "whatsapp:+14155550100")
        #expect(
            whatsApp.formFields.map(\.1) == ["whatsapp:+14155550199", "whatsapp:+14155550100"]
                && Self.names(whatsApp.formFields) == ["MessagingBinding.Address", "MessagingBinding.ProxyAddress"])
        let group = AddParticipant(
            .groupMessaging(address: "+14155550199", projectedAddress: "+14155550100"), attributes: "{}", roleSid: "RL1")
        #expect(
            Self.names(group.formFields) == ["MessagingBinding.Address", "Attributes", "MessagingBinding.ProjectedAddress", "RoleSid"])
        #expect(Self.names(AddParticipant.chat(identity: "a").formFields) == ["Identity"])
        let message = CreateConversationMessage(
            author: "a", body: "b", attributes: "{}", mediaSid: "ME1", contentSid: "HX1", contentVariables: "{}")
        #expect(Self.names(message.formFields) == ["Author", "Body", "Attributes", "MediaSid", "ContentSid", "ContentVariables"])
    }

    @Test("Conversations error codes map to their reasons; the rest keep theirs")
    func reasons() {
        let cases: [(Int, MessagingError.Reason)] = [
            (50416, .addressPairInUse), (50437, .alreadyParticipant), (50433, .alreadyParticipant), (50407, .invalidRecipient),
            (50377, .conversationClosed), (50353, .duplicateUniqueName), (50409, .other), (21610, .unsubscribed),
        ]
        for (code, reason) in cases {
            #expect(MessagingError.Reason(twilioCode: code, httpStatus: 409) == reason, "\(code)")
        }
        #expect(MessagingError.Reason.addressPairInUse.description == "addressPairInUse")
        #expect(MessagingError.Reason.conversationClosed != .duplicateUniqueName)
    }

    @Test("resources decode Twilio's JSON: nulls, missing optional keys, unknown keys and states")
    func resources() throws {
        let conversation = try JSONDecoder().decode(
            Conversation.self,
            from: Data(
                #"{"sid":"CH1","account_sid":"AC1","state":"frozen","timers":{},"links":null,"attributes":null,"future":[1]}"#.utf8))
        #expect(conversation.state == .other("frozen") && conversation.state.rawValue == "frozen" && conversation.attributes == "{}")
        #expect(conversation.timers == Conversation.Timers() && conversation.links.isEmpty && conversation.createdAt == nil)
        let message = try JSONDecoder().decode(
            ConversationMessage.self,
            from: Data(
                #"{"sid":"IM1","account_sid":"AC1","conversation_sid":"CH1","index":4,"media":[{"sid":"ME1","size":10,"content_type":"image/png","filename":"a.png"}],"date_created":"2026-08-11T13:03:28Z"}"#
                    .utf8))
        #expect(message.media == [ConversationMessage.Media(sid: "ME1", size: 10, contentType: "image/png", filename: "a.png")])
        #expect(message.createdAt == Date(timeIntervalSince1970: 1_786_453_408) && message.delivery == nil)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ConversationMessage.self, from: Data(#"{"sid":"IM1","account_sid":"AC1"}"#.utf8))
        }
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ConversationsPage<ConversationMessage>.self, from: Data(#"{"messages":[],"meta":{}}"#.utf8))
        }
    }

    static func parse(_ fields: [(String, String)]) -> Result<ConversationsWebhookEvent, ConversationsWebhookError> {
        Result { () throws(ConversationsWebhookError) in try ConversationsWebhookEvent(parameters: fields) }
    }

    @Test("webhook errors: no EventType, a missing required field, a malformed number, a bad encoding")
    func webhookErrors() {
        let added = [("EventType", "onMessageAdded"), ("ConversationSid", "CH1"), ("MessageSid", "IM1")]
        #expect(throws: Never.self) { try Self.parse(added).get() }
        // An empty number is absent, not malformed.
        #expect(throws: Never.self) { try Self.parse(added + [("RetryCount", ""), ("Index", "")]).get() }
        let cases: [([(String, String)], ConversationsWebhookError)] = [
            ([("ConversationSid", "CH1")], .init(kind: .missingField, field: "EventType")),
            ([("EventType", "")], .init(kind: .missingField, field: "EventType")),
            (Array(added.prefix(2)), .init(kind: .missingField, field: "MessageSid")),
            (added + [("Index", "4x")], .init(kind: .malformedField, field: "Index")),
            (
                [("EventType", "onDeliveryUpdated"), ("ConversationSid", "CH1"), ("MessageSid", "IM1")],
                .init(kind: .missingField, field: "Status")
            ),
            (
                [
                    ("EventType", "onDeliveryUpdated"), ("ConversationSid", "CH1"), ("MessageSid", "IM1"), ("Status", "sent"),
                    ("ErrorCode", "x"),
                ],
                .init(kind: .malformedField, field: "ErrorCode")
            ),
            (
                [("EventType", "onConversationStateUpdated"), ("ConversationSid", "CH1"), ("StateFrom", "active")],
                .init(kind: .missingField, field: "StateTo")
            ),
            ([("EventType", "onParticipantAdded"), ("ConversationSid", "CH1")], .init(kind: .missingField, field: "ParticipantSid")),
            ([("EventType", "onConversationAdded")], .init(kind: .missingField, field: "ConversationSid")),
        ]
        for (fields, expected) in cases {
            #expect(throws: expected, "\(fields)") { try Self.parse(fields).get() }
        }
        #expect(throws: ConversationsWebhookError(kind: .badEncoding, field: "")) {
            try ConversationsWebhookEvent(formBody: Array("EventType=onMessageAdded&Body=%E2%28".utf8))
        }
        #expect(
            ConversationsWebhookError(kind: .missingField, field: "MessageSid").description == "Twilio webhook: missing MessageSid")
        // An unknown event needs nothing but its EventType, and keeps repeated names as they came.
        guard case .other(let type, let parameters) = try? Self.parse([("EventType", "onFuture"), ("A", "1"), ("A", "2")]).get() else {
            Issue.record("not other")
            return
        }
        #expect(type == "onFuture" && parameters.map(\.1) == ["onFuture", "1", "2"])
    }

    @Test("echo and contact helpers: Source API in any case, system, the agent's author; E.164 only from numbers")
    func helpers() throws {
        func added(_ extra: [(String, String)]) throws -> ConversationsMessageAdded {
            let fields = [("EventType", "onMessageAdded"), ("ConversationSid", "CH1"), ("MessageSid", "IM1")] + extra
            guard case .onMessageAdded(let event) = try Self.parse(fields).get() else {
                throw ConversationsWebhookError(kind: .missingField, field: "")
            }
            return event
        }
        #expect(try added([("Source", "api"), ("Author", "+14155550199")]).isEcho())
        #expect(try added([("Author", "system")]).isEcho())
        #expect(try added([("Author", "agent"), ("Source", "SDK")]).isEcho(agentAuthor: "agent"))
        #expect(try !added([("Author", "agent"), ("Source", "SDK")]).isEcho(agentAuthor: "other"))
        #expect(try !added([("Author", "System"), ("Source", "SMS")]).isEcho())
        #expect(try !added([]).isEcho(agentAuthor: "agent"))
        #expect(try added([("Author", "whatsapp:+14155550199")]).contactE164 == "+14155550199")
        #expect(try added([("Author", "+14155550199")]).contactE164 == "+14155550199")
        #expect(try added([("Author", "alice")]).contactE164 == nil)
        #expect(try added([("Author", "whatsapp:14155550199")]).contactE164 == nil)
        #expect(try added([("Author", "messenger:+14155550199")]).contactE164 == nil)
        #expect(try added([("Author", "+14155550199"), ("Index", "7")]).index == 7)
    }
}
