//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioMessaging
import TwilioREST
import TwilioTesting
import VoicePipeStore
import VoicePipeText

@Suite("Text agent in Twilio Conversations", .serialized)
struct ConversationsTextTests {
    let customer = "+15551230003"
    let number = "+15005550006"

    @Test("a customer's SMS in a conversation is answered once, in that conversation; the agent's own message coming back is not")
    func answeredInConversation() async throws {
        let standIn = try await TwilioStandIn.start()
        let credentials = TwilioCredentials.authToken(accountSid: standIn.accountSid, authToken: standIn.authToken)
        let conversations = TwilioConversationsClient(credentials: credentials, configuration: .init(baseURL: standIn.baseURL))
        let messaging = TwilioMessagingClient(credentials: credentials, configuration: .init(baseURL: standIn.baseURL))
        let rig = try await TextRig.start(
            standIn: standIn, sender: { _ in TwilioTextSender(client: messaging, conversations: conversations) })
        standIn.conversationsWebhook = .init(url: rig.base + "/twilio/conversations")
        let conversation = try await conversations.createConversation()
        _ = try await conversations.addParticipant(
            to: conversation.sid, AddParticipant(.messaging(address: customer, proxyAddress: number)))

        try await standIn.customerSends(from: customer, body: "Is my order ready?")
        #expect(await eventually { standIn.conversationMessages(in: conversation.sid).count == 2 })
        let reply = try #require(standIn.conversationMessages(in: conversation.sid).last)
        #expect(reply.author == "voicepipe" && reply.body == "Re: Is my order ready?")

        // The agent (or a person using its author) posts with webhooks on: the echo comes back and is ignored.
        _ = try await conversations.createMessage(
            in: conversation.sid, CreateConversationMessage(author: "voicepipe", body: "Anything else?"), webhookEnabled: true)
        #expect(
            await eventually {
                standIn.webhookAttempts.contains { attempt in
                    attempt.kind == .conversationsEvent("onMessageAdded") && attempt.parameters.contains { $0 == ("Source", "API") }
                        && attempt.status == 200
                }
            })
        try await Task.sleep(for: .milliseconds(300))
        #expect(standIn.conversationMessages(in: conversation.sid).count == 3)

        let history = try await rig.store.history(of: customer, limit: 10, before: nil)
        #expect(history.map(\.direction) == [.inbound, .outbound])
        #expect(history.allSatisfy { $0.threadReference == conversation.sid && $0.channel == .sms })
        #expect(history.last?.providerSid == reply.sid)
        await rig.stop()
    }

    @Test("an onDeliveryUpdated with error 21610 opts the contact out: the next message gets no reply")
    func optedOutByDeliveryReport() async throws {
        let standIn = try await TwilioStandIn.start()
        let credentials = TwilioCredentials.authToken(accountSid: standIn.accountSid, authToken: standIn.authToken)
        let conversations = TwilioConversationsClient(credentials: credentials, configuration: .init(baseURL: standIn.baseURL))
        let messaging = TwilioMessagingClient(credentials: credentials, configuration: .init(baseURL: standIn.baseURL))
        let rig = try await TextRig.start(
            standIn: standIn, sender: { _ in TwilioTextSender(client: messaging, conversations: conversations) })
        standIn.conversationsWebhook = .init(url: rig.base + "/twilio/conversations")
        let conversation = try await conversations.createConversation()
        _ = try await conversations.addParticipant(
            to: conversation.sid, AddParticipant(.messaging(address: customer, proxyAddress: number)))
        standIn.optOut(customer)  // the carrier refuses what Twilio sends: the delivery report says 21610

        try await standIn.customerSends(from: customer, body: "Hello?")
        #expect(try await eventually { try await rig.store.contact(customer)?.optedOut == true })
        let reply = try #require(try await rig.store.history(of: customer, limit: 5, before: nil).last)
        #expect(reply.direction == .outbound && reply.status == "failed" && reply.errorCode == 21610)

        try await standIn.customerSends(from: customer, body: "Still there?")
        try await Task.sleep(for: .milliseconds(300))
        #expect(standIn.conversationMessages(in: conversation.sid).count == 3, "an opted-out contact was answered")
        await rig.stop()
    }
}
