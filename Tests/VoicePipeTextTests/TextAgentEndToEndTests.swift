//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import TwilioCore
import TwilioMessaging
import TwilioTesting
import VoiceAgent
import VoicePipeServer
import VoicePipeStore
import VoicePipeTestSupport
import VoicePipeTesting
import VoicePipeText

/// A sender that hands the reply to Twilio and then hangs until the process is stopped, so the store never
/// hears of it: the process died between the provider's 201 and the outbox's commit.
struct DiesAfterSending: TextSender {
    let inner: any TextSender
    func send(_ reply: TextReply) async throws(TextSendError) -> SentText {
        _ = try await inner.send(reply)
        try? await Task.sleep(for: .seconds(3600))
        throw TextSendError(.ambiguous, message: "stopped after the provider accepted the message")
    }
    func findSent(_ reply: TextReply, since: Date) async throws -> SentText? { nil }  // a dead process finds nothing
}

@Suite("Text agent, end to end (stand-in Twilio, SQLite store, real HTTP)", .serialized)
struct TextAgentEndToEndTests {
    let customer = "+15551230001"
    let number = "+15005550006"

    @Test("an inbound SMS is validated, stored and answered once, also when Twilio retries it; the reply's delivery is recorded")
    func answeredOnce() async throws {
        let rig = try await TextRig.start()
        let answer = try await rig.standIn.sendInbound(from: customer, to: number, body: "What are your opening hours?", to: rig.smsURL)
        #expect(answer.status == 200)
        #expect(answer.contentType?.hasPrefix("text/xml") == true && answer.body.contains("<Response"))
        #expect(!answer.body.contains("<Message"), "the reply goes out over REST, not in the TwiML")

        // Twilio retries the same webhook (same MessageSid) twice.
        #expect(try await rig.standIn.redeliverInbound().status == 200)
        #expect(try await rig.standIn.redeliverInbound().status == 200)
        #expect(await eventually { rig.standIn.sentMessages.count == 1 })
        let sent = try #require(rig.standIn.sentMessages.first)
        #expect(sent.to == customer && sent.from == number && sent.body == "Re: What are your opening hours?")
        // The delivery reaches the store through the signed status callbacks (sent, then delivered).
        #expect(
            try await eventually {
                try await rig.store.history(of: customer, limit: 10, before: nil).last?.status == "delivered"
            })
        try await Task.sleep(for: .milliseconds(300))
        #expect(rig.standIn.sentMessages.count == 1, "a retried webhook was answered twice")
        let history = try await rig.store.history(of: customer, limit: 10, before: nil)
        #expect(history.map(\.direction) == [.inbound, .outbound])
        #expect(history.last?.providerSid == sent.sid)
        let counts = try await rig.store.counts()
        #expect(counts.entries == 2 && counts.sentReplies == 1 && counts.pendingReplies == 0)
        #expect(rig.server.statistics.snapshot.textWebhooks >= 5)  // 3 inbound + at least 2 status callbacks
        await rig.stop()
    }

    @Test("forged, unsigned and malformed webhooks are refused (403, 400) and nothing is stored or sent")
    func refusals() async throws {
        let rig = try await TextRig.start()
        let fields: [(String, String)] = [
            ("MessageSid", "SM" + String(repeating: "a", count: 32)), ("AccountSid", rig.standIn.accountSid), ("From", customer),
            ("To", number), ("Body", "hello"),
        ]
        let form = FormEncoding.encode(fields)
        #expect(try await rig.post("/twilio/sms", form: form).status == 403)
        let forged = RequestValidator(authToken: "not-the-token").signature(url: rig.smsURL, parameters: fields)
        #expect(try await rig.post("/twilio/sms", form: form, headers: [("X-Twilio-Signature", forged)]).status == 403)
        // Signed, but without a MessageSid: a typed parse error, answered 400.
        let partial = fields.filter { $0.0 != "MessageSid" }
        let signed = RequestValidator(authToken: rig.standIn.authToken).signature(url: rig.smsURL, parameters: partial)
        #expect(
            try await rig.post("/twilio/sms", form: FormEncoding.encode(partial), headers: [("X-Twilio-Signature", signed)]).status
                == 400)
        #expect(try await rig.post("/twilio/message-status", form: "MessageSid=SM1&MessageStatus=sent").status == 403)
        // Over 64 KiB: refused before it is read further.
        let huge = FormEncoding.encode(fields + [("Padding", String(repeating: "x", count: 70_000))])
        #expect(try await rig.post("/twilio/sms", form: huge).status == 413)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await rig.store.counts().entries == 0 && rig.standIn.sentMessages.isEmpty)
        #expect(rig.server.statistics.snapshot.failedTextWebhooks == 5)
        await rig.stop()
    }

    @Test("a WhatsApp message is answered on WhatsApp, from the number written to, and opens the contact's 24-hour window")
    func whatsApp() async throws {
        let rig = try await TextRig.start()
        let answer = try await rig.standIn.sendInbound(
            from: "whatsapp:" + customer, to: "whatsapp:" + number, body: "Hola, do you deliver?", to: rig.smsURL)
        #expect(answer.status == 200)
        #expect(await eventually { rig.standIn.sentMessages.count == 1 })
        let sent = try #require(rig.standIn.sentMessages.first)
        #expect(sent.to == "whatsapp:" + customer && sent.from == "whatsapp:" + number)
        let history = try await rig.store.history(of: customer, limit: 5, before: nil)
        #expect(history.map(\.channel) == [.whatsapp, .whatsapp])
        let window = try #require(try await rig.store.contact(customer)?.lastInboundWhatsApp)
        #expect(abs(window.timeIntervalSinceNow) < 60)
        await rig.stop()
    }

    @Test("STOP opts the contact out: no reply to it or to later messages, until START")
    func optOut() async throws {
        let rig = try await TextRig.start()
        try await rig.standIn.sendInbound(from: customer, to: number, body: "Hi there", to: rig.smsURL)
        #expect(await eventually { rig.standIn.sentMessages.count == 1 })
        try await rig.standIn.sendInbound(from: customer, to: number, body: "STOP", to: rig.smsURL)
        try await rig.standIn.sendInbound(from: customer, to: number, body: "are you there?", to: rig.smsURL)
        try await Task.sleep(for: .milliseconds(300))
        #expect(rig.standIn.sentMessages.count == 1)
        #expect(try await rig.store.contact(customer)?.optedOut == true)
        try await rig.standIn.sendInbound(from: customer, to: number, body: "start", to: rig.smsURL)
        try await rig.standIn.sendInbound(from: customer, to: number, body: "Back again", to: rig.smsURL)
        #expect(await eventually { rig.standIn.sentMessages.count == 2 })
        #expect(rig.standIn.sentMessages.last?.body == "Re: Back again")
        await rig.stop()
    }

    @Test("error 21610 at send (opted out at Twilio) marks the contact and gives the reply up, without retrying")
    func unsubscribedAtSend() async throws {
        let rig = try await TextRig.start()
        rig.standIn.optOut(customer)
        try await rig.standIn.sendInbound(from: customer, to: number, body: "Hello?", to: rig.smsURL)
        #expect(try await eventually { try await rig.store.contact(customer)?.optedOut == true })
        #expect(await eventually { rig.agent?.statistics.abandoned == 1 })
        #expect(rig.standIn.sentMessages.isEmpty)
        let creates = rig.standIn.requests.filter { $0.method == "POST" && $0.path.hasSuffix("/Messages.json") }
        #expect(creates.count == 1, "21610 was retried")
        await rig.stop()
    }

    @Test("killed between the acknowledgement and the reply: the reply goes out exactly once after the restart")
    func restartAfterAcknowledgement() async throws {
        let standIn = try await TwilioStandIn.start()
        // The first server acknowledges, then its model stalls: the process is stopped with the reply owed.
        let first = try await TextRig.start(standIn: standIn, model: RecordingModel(stalls: true))
        #expect(try await standIn.sendInbound(from: customer, to: number, body: "Can I book a table?", to: first.smsURL).status == 200)
        #expect(try await first.store.counts().pendingReplies == 1)
        await first.stop(standIn: false)
        #expect(standIn.sentMessages.isEmpty)

        // The next process, on the same database, sends it.
        let second = try await TextRig.start(standIn: standIn, path: first.path)
        #expect(await eventually { standIn.sentMessages.count == 1 })
        #expect(standIn.sentMessages.first?.body == "Re: Can I book a table?")
        try await Task.sleep(for: .milliseconds(300))
        #expect(standIn.sentMessages.count == 1)
        #expect(try await second.store.counts().pendingReplies == 0)
        await second.stop()
    }

    @Test("killed after Twilio accepted the reply but before it was recorded: the restart finds it at Twilio and sends nothing")
    func restartAfterProviderAccepted() async throws {
        let standIn = try await TwilioStandIn.start()
        let first = try await TextRig.start(standIn: standIn, sender: { DiesAfterSending(inner: $0) })
        try await standIn.sendInbound(from: customer, to: number, body: "Do you deliver?", to: first.smsURL)
        #expect(await eventually { standIn.sentMessages.count == 1 })
        try await Task.sleep(for: .milliseconds(100))
        await first.stop(standIn: false)
        let left = try await SQLiteConversationStore.open(path: first.path)
        #expect(try await left.pendingReplies().first?.state == .sending)
        try await left.close()

        let second = try await TextRig.start(standIn: standIn, path: first.path)
        #expect(try await eventually { try await second.store.counts().pendingReplies == 0 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(standIn.sentMessages.count == 1, "the reply was sent twice")
        let reply = try await second.store.history(of: customer, limit: 5, before: nil).last
        #expect(reply?.direction == .outbound && reply?.providerSid == standIn.sentMessages.first?.sid)
        await second.stop()
    }
}
