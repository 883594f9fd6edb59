//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import TwilioCore
import TwilioTesting

private let customer = "+14155550199"
private let proxy = "+14155550100"

@Suite("TwilioStandIn: Conversations v1")
struct TwilioStandInConversationsTests {
    @Test("conversations by SID and unique name; 201 / 200 / 204; closed is final (50377)")
    func conversations() async throws {
        let twilio = try await TwilioStandIn.start()
        let created = try await rawRequest(
            twilio, .POST, "/v1/Conversations", form: [("FriendlyName", "Ada"), ("UniqueName", "ada-sms")])
        #expect(created.status == 201)
        let conversation = try jsonObject(created.body)
        let sid = try #require(conversation["sid"] as? String)
        #expect(sid.hasPrefix("CH") && sid.count == 34)
        #expect(conversation["state"] as? String == "active" && conversation["attributes"] as? String == "{}")
        #expect(conversation["chat_service_sid"] as? String == twilio.configuration.chatServiceSid)
        #expect(conversation["url"] as? String == "\(twilio.conversationsBaseURL)/Conversations/\(sid)")
        let date = try #require(conversation["date_created"] as? String)
        #expect(date.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/) != nil)

        let byName = try await rawRequest(twilio, .GET, "/v1/Conversations/ada-sms")
        #expect(try byName.status == 200 && (jsonObject(byName.body)["sid"] as? String) == sid)
        let duplicate = try await rawRequest(twilio, .POST, "/v1/Conversations", form: [("UniqueName", "ada-sms")])
        #expect(try jsonObject(duplicate.body)["code"] as? Int == 50353)

        let inactive = try await rawRequest(twilio, .POST, "/v1/Conversations/ada-sms", form: [("State", "inactive")])
        #expect(try inactive.status == 200 && (jsonObject(inactive.body)["state"] as? String) == "inactive")
        let active = try await rawRequest(twilio, .POST, "/v1/Conversations/\(sid)", form: [("State", "active")])
        #expect(try jsonObject(active.body)["state"] as? String == "active")
        let closed = try await rawRequest(twilio, .POST, "/v1/Conversations/\(sid)", form: [("State", "closed")])
        #expect(closed.status == 200)
        let reopened = try await rawRequest(twilio, .POST, "/v1/Conversations/\(sid)", form: [("State", "active")])
        #expect(reopened.status == 400)
        let error = try jsonObject(reopened.body)
        #expect(error["code"] as? Int == 50377 && error["more_info"] as? String == "https://www.twilio.com/docs/errors/50377")

        let deleted = try await rawRequest(twilio, .DELETE, "/v1/Conversations/\(sid)")
        #expect(deleted.status == 204 && deleted.body.isEmpty)
        let gone = try await rawRequest(twilio, .GET, "/v1/Conversations/\(sid)")
        #expect(try gone.status == 404 && (jsonObject(gone.body)["code"] as? Int) == 20404)
        let unauthorized = try await rawRequest(twilio, .GET, "/v1/Conversations", authorization: "Basic eDp5")
        #expect(try unauthorized.status == 401 && (jsonObject(unauthorized.body)["code"] as? Int) == 20003)
        await twilio.stop()
    }

    @Test("participants: one active conversation per address pair (50416), 50437 in the same one, freed on close")
    func participants() async throws {
        let twilio = try await TwilioStandIn.start()
        let first = try jsonObject(try await rawRequest(twilio, .POST, "/v1/Conversations", form: []).body)["sid"] as! String
        let second = try jsonObject(try await rawRequest(twilio, .POST, "/v1/Conversations", form: []).body)["sid"] as! String
        let binding = [("MessagingBinding.Address", customer), ("MessagingBinding.ProxyAddress", proxy)]
        let added = try await rawRequest(twilio, .POST, "/v1/Conversations/\(first)/Participants", form: binding)
        #expect(added.status == 201)
        let participant = try jsonObject(added.body)
        #expect((participant["sid"] as? String)?.hasPrefix("MB") == true)
        #expect(participant["identity"] is NSNull)
        let messagingBinding = try #require(participant["messaging_binding"] as? [String: Any])
        #expect(messagingBinding["type"] as? String == "sms" && messagingBinding["address"] as? String == customer)
        #expect(messagingBinding["proxy_address"] as? String == proxy)

        let again = try await rawRequest(twilio, .POST, "/v1/Conversations/\(first)/Participants", form: binding)
        #expect(try jsonObject(again.body)["code"] as? Int == 50437)
        let elsewhere = try await rawRequest(twilio, .POST, "/v1/Conversations/\(second)/Participants", form: binding)
        #expect(try jsonObject(elsewhere.body)["code"] as? Int == 50416)
        let invalid = try await rawRequest(
            twilio, .POST, "/v1/Conversations/\(second)/Participants",
            form: [("MessagingBinding.Address", "4155550199"), ("MessagingBinding.ProxyAddress", proxy)])
        #expect(try jsonObject(invalid.body)["code"] as? Int == 50407)
        let chat = try await rawRequest(twilio, .POST, "/v1/Conversations/\(second)/Participants", form: [("Identity", "agent")])
        #expect(try chat.status == 201 && (jsonObject(chat.body)["messaging_binding"] is NSNull))

        let lookup = try jsonObject(try await rawRequest(twilio, .GET, "/v1/ParticipantConversations?Address=%2B14155550199").body)
        let items = try #require(lookup["conversations"] as? [[String: Any]])
        #expect(items.map { $0["conversation_sid"] as? String } == [first])
        #expect(items.first?["conversation_state"] as? String == "active")
        #expect((lookup["meta"] as? [String: Any])?["key"] as? String == "conversations")

        _ = try await rawRequest(twilio, .POST, "/v1/Conversations/\(first)", form: [("State", "closed")])
        let freed = try await rawRequest(twilio, .POST, "/v1/Conversations/\(second)/Participants", form: binding)
        #expect(freed.status == 201)
        await twilio.stop()
    }

    @Test("messages: index per conversation, Order, v1 meta paging with absolute next_page_url on the stand-in")
    func messages() async throws {
        let twilio = try await TwilioStandIn.start()
        let sid = try jsonObject(try await rawRequest(twilio, .POST, "/v1/Conversations", form: []).body)["sid"] as! String
        for body in ["one", "two", "three"] {
            let created = try await rawRequest(
                twilio, .POST, "/v1/Conversations/\(sid)/Messages", form: [("Author", "agent"), ("Body", body)])
            #expect(created.status == 201)
        }
        let page = try jsonObject(try await rawRequest(twilio, .GET, "/v1/Conversations/\(sid)/Messages?Order=desc&PageSize=2").body)
        let messages = try #require(page["messages"] as? [[String: Any]])
        #expect(messages.map { $0["body"] as? String } == ["three", "two"])
        #expect(messages.map { $0["index"] as? Int } == [2, 1])
        #expect(messages.first?["author"] as? String == "agent" && messages.first?["attributes"] as? String == "{}")
        let meta = try #require(page["meta"] as? [String: Any])
        #expect(meta["key"] as? String == "messages" && meta["page_size"] as? Int == 2)
        let next = try #require(meta["next_page_url"] as? String)
        #expect(next.hasPrefix(twilio.conversationsBaseURL + "/Conversations/\(sid)/Messages?"))
        let rest = try jsonObject(try await rawRequest(twilio, .GET, next).body)
        #expect((rest["messages"] as? [[String: Any]])?.map { $0["index"] as? Int } == [0])
        #expect((rest["meta"] as? [String: Any])?["next_page_url"] is NSNull)
        let ascending = try jsonObject(try await rawRequest(twilio, .GET, "/v1/Conversations/\(sid)/Messages").body)
        #expect((ascending["messages"] as? [[String: Any]])?.map { $0["body"] as? String } == ["one", "two", "three"])
        await twilio.stop()
    }

    @Test("webhooks: onMessageAdded for a customer's SMS (Source=SMS), for REST only when enabled; onDeliveryUpdated, signed")
    func webhooks() async throws {
        let twilio = try await TwilioStandIn.start()
        let receiver = try await WebhookReceiver.start()
        let hook = receiver.url("/conversations/events?v=1")
        let configured = try await rawRequest(
            twilio, .POST, "/v1/Configuration/Webhooks",
            form: [("PostWebhookUrl", hook), ("Method", "POST"), ("Filters", "onMessageAdded"), ("Filters", "onDeliveryUpdated")])
        #expect(configured.status == 200)
        #expect(twilio.conversationsWebhook == TwilioStandIn.ConversationsWebhook(url: hook))
        let sid =
            try jsonObject(try await rawRequest(twilio, .POST, "/v1/Conversations", form: [("UniqueName", "c1")]).body)["sid"]
            as! String
        let participant =
            try jsonObject(
                try await rawRequest(
                    twilio, .POST, "/v1/Conversations/\(sid)/Participants",
                    form: [("MessagingBinding.Address", customer), ("MessagingBinding.ProxyAddress", proxy)]
                ).body)["sid"] as! String

        let fromCustomer = try await twilio.customerSends(from: customer, body: "Do you open on Sunday?")
        #expect(fromCustomer.index == 0 && fromCustomer.participantSid == participant && fromCustomer.conversationSid == sid)
        let added = try #require(receiver.received.last)
        #expect(isSignedByTwilio(added, receiver: receiver, authToken: twilio.authToken))
        #expect(added.value("EventType") == "onMessageAdded" && added.value("Source") == "SMS")
        #expect(added.value("RetryCount") == "0" && added.value("Index") == "0")
        #expect(added.value("ChatServiceSid") == twilio.configuration.chatServiceSid)
        #expect(added.value("ConversationSid") == sid && added.value("MessageSid") == fromCustomer.sid)
        #expect(added.value("Author") == customer && added.value("ParticipantSid") == participant)
        #expect(added.value("Attributes") == "{}" && added.value("Body") == "Do you open on Sunday?")
        let date = try #require(added.value("DateCreated"))
        #expect(date.wholeMatch(of: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/) != nil)

        // A REST message without the header: no onMessageAdded, but the SMS participant's delivery updates.
        let reply = try await rawRequest(
            twilio, .POST, "/v1/Conversations/\(sid)/Messages", form: [("Author", "agent"), ("Body", "Yes, from 10.")])
        let replySid = try jsonObject(reply.body)["sid"] as! String
        #expect(await twilio.wait { $0.pendingCallbacks == 0 && $0.conversationDeliveries.count == 2 })
        let events = receiver.received.dropFirst()
        #expect(events.map { $0.value("EventType") } == ["onDeliveryUpdated", "onDeliveryUpdated"])
        #expect(events.map { $0.value("Status") } == ["sent", "delivered"])
        #expect(events.allSatisfy { $0.value("MessageSid") == replySid && $0.value("ParticipantSid") == participant })
        #expect(events.allSatisfy { isSignedByTwilio($0, receiver: receiver, authToken: twilio.authToken) })
        #expect(events.first?.value("DeliveryReceiptSid")?.hasPrefix("DY") == true)
        #expect(twilio.conversationDeliveries.map(\.body) == ["Yes, from 10.", "Yes, from 10."])

        // With X-Twilio-Webhook-Enabled: true, onMessageAdded with Source=API; an opted-out customer fails with 21610.
        twilio.optOut(customer)
        _ = try await rawRequest(
            twilio, .POST, "/v1/Conversations/\(sid)/Messages", form: [("Author", "agent"), ("Body", "Anything else?")],
            headers: [("X-Twilio-Webhook-Enabled", "true")])
        #expect(await twilio.wait { $0.pendingCallbacks == 0 && $0.conversationDeliveries.count == 3 })
        let last = receiver.received.suffix(2)
        #expect(last.map { $0.value("EventType") } == ["onMessageAdded", "onDeliveryUpdated"])
        #expect(last.first?.value("Source") == "API" && last.first?.value("Index") == "2")
        #expect(last.last?.value("Status") == "failed" && last.last?.value("ErrorCode") == "21610")

        // Filters are honoured: without onMessageAdded, a customer's message fires nothing.
        twilio.conversationsWebhook = .init(url: hook, filters: ["onDeliveryUpdated"])
        let before = receiver.received.count
        try await twilio.customerSends(from: customer, conversation: "c1", body: "START")
        #expect(receiver.received.count == before)
        #expect(!twilio.isOptedOut(customer))
        #expect(twilio.conversationMessages(in: "c1").map(\.index) == [0, 1, 2, 3])
        await #expect(throws: TwilioStandInError.noConversation) {
            try await twilio.customerSends(from: "+14155550000", body: "who?")
        }
        await receiver.stop()
        await twilio.stop()
    }
}
