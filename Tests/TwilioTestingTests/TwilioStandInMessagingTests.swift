//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import NIOHTTP1
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTesting

private let customer = "+14155550199"
private let ourNumber = "+14155550100"

private func isSID(_ text: String, _ prefix: String) -> Bool {
    text.hasPrefix(prefix) && text.count == 34 && text.dropFirst(2).allSatisfy { $0.isHexDigit && !$0.isUppercase }
}

private func isRFC2822(_ text: String) -> Bool {
    text.wholeMatch(
        of: /(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} \+0000/)
        != nil
}

@Suite("TwilioStandIn: Programmable Messaging")
struct TwilioStandInMessagingTests {
    @Test("send answers 201 with Twilio's Message JSON; fetch and list page by page, newest first")
    func sendFetchList() async throws {
        let twilio = try await TwilioStandIn.start()
        let client = messagingClient(twilio)
        let first = try await client.send(SendMessage(to: customer, sender: .from(ourNumber), body: "one"))
        #expect(isSID(first.sid, "SM"))
        #expect(first.status == .queued)
        #expect(first.direction == "outbound-api")
        #expect(first.accountSid == twilio.accountSid)
        #expect(first.numSegments == "1" && first.numMedia == "0")
        #expect(first.uri == "/2010-04-01/Accounts/\(twilio.accountSid)/Messages/\(first.sid).json")
        #expect(isRFC2822(try #require(first.dateCreated)))

        // The raw body: counts are strings, 201, JSON.
        let raw = try await rawRequest(
            twilio, .POST, "/2010-04-01/Accounts/\(twilio.accountSid)/Messages.json",
            form: [("To", customer), ("MessagingServiceSid", "MG0123456789abcdef0123456789abcdef"), ("Body", "two")])
        #expect(raw.status == 201)
        #expect(raw.headers.first(name: "Content-Type") == "application/json")
        let json = try jsonObject(raw.body)
        #expect(json["num_media"] as? String == "0")
        #expect(json["num_segments"] as? String == "0")
        #expect(json["status"] as? String == "accepted")
        #expect(json["from"] is NSNull)
        #expect(json["messaging_service_sid"] as? String == "MG0123456789abcdef0123456789abcdef")

        let third = try await client.send(SendMessage(to: "+14155550123", sender: .from(ourNumber), body: "three"))
        let fetched = try await client.fetchMessage(sid: first.sid)
        #expect(fetched.sid == first.sid && fetched.body == "one")

        let page = try await client.listMessages(MessageQuery(pageSize: 2))
        #expect(page.messages.map(\.body) == ["three", "two"])
        #expect(page.start == 0 && page.end == 1 && page.page == 0 && page.pageSize == 2)
        let next = try #require(page.nextPageURI)
        #expect(next.hasPrefix("/2010-04-01/Accounts/\(twilio.accountSid)/Messages.json?"))
        #expect(next.contains("PageToken=PA"))
        let second = try #require(try await client.nextPage(after: page))
        #expect(second.messages.map(\.sid) == [first.sid])
        #expect(second.start == 2 && second.page == 1)
        #expect(try await client.nextPage(after: second) == nil)

        let filtered = try await client.listMessages(MessageQuery(to: "+14155550123"))
        #expect(filtered.messages.map(\.sid) == [third.sid])
        #expect(twilio.sentMessages.count == 3)
        await twilio.stop()
    }

    @Test("Twilio's errors: 21604, 21603, 21211, 20404, 20003; API keys are accepted")
    func errors() async throws {
        let twilio = try await TwilioStandIn.start()
        let path = "/2010-04-01/Accounts/\(twilio.accountSid)/Messages.json"
        let noTo = try await rawRequest(twilio, .POST, path, form: [("From", ourNumber), ("Body", "x")])
        #expect(noTo.status == 400)
        #expect(try jsonObject(noTo.body)["code"] as? Int == 21604)
        let noSender = try await rawRequest(twilio, .POST, path, form: [("To", customer), ("Body", "x")])
        let noSenderJSON = try jsonObject(noSender.body)
        #expect(noSender.status == 400 && noSenderJSON["code"] as? Int == 21603)
        #expect(noSenderJSON["more_info"] as? String == "https://www.twilio.com/docs/errors/21603")
        #expect(noSenderJSON["status"] as? Int == 400)

        let client = messagingClient(twilio)
        do {
            _ = try await client.send(SendMessage(to: "555-0199", sender: .from(ourNumber), body: "x"))
            Issue.record("an invalid To was accepted")
        } catch {
            #expect(error.code == 21211 && error.reason == .invalidRecipient && error.httpStatus == 400)
        }
        do {
            _ = try await client.fetchMessage(sid: "SM00000000000000000000000000000bad")
            Issue.record("an unknown SID was found")
        } catch {
            #expect(error.code == 20404 && error.reason == .notFound)
        }
        let wrong = messagingClient(twilio, credentials: .authToken(accountSid: twilio.accountSid, authToken: "wrong"))
        do {
            _ = try await wrong.send(SendMessage(to: customer, sender: .from(ourNumber), body: "x"))
            Issue.record("a wrong token was accepted")
        } catch {
            #expect(error.code == 20003 && error.httpStatus == 401)
        }
        let keyed = messagingClient(
            twilio, credentials: .apiKey(accountSid: twilio.accountSid, keySid: twilio.apiKeySid, secret: twilio.apiKeySecret))
        _ = try await keyed.send(SendMessage(to: customer, sender: .from(ourNumber), body: "with a key"))
        #expect(twilio.sentMessages.map(\.body) == ["with a key"])
        await twilio.stop()
    }

    @Test("21610 for an opted-out recipient; an inbound STOP opts out, START opts back in")
    func optOut() async throws {
        let twilio = try await TwilioStandIn.start()
        let receiver = try await WebhookReceiver.start()
        let client = messagingClient(twilio)
        twilio.optOut(customer)
        do {
            _ = try await client.send(SendMessage(to: customer, sender: .from(ourNumber), body: "hello"))
            Issue.record("sent to an opted-out recipient")
        } catch {
            #expect(error.code == 21610 && error.reason == .unsubscribed)
        }
        #expect(twilio.sentMessages.isEmpty)
        try await twilio.sendInbound(from: customer, to: ourNumber, body: "start", to: receiver.url("/sms"))
        #expect(!twilio.isOptedOut(customer))
        _ = try await client.send(SendMessage(to: customer, sender: .from(ourNumber), body: "welcome back"))
        try await twilio.sendInbound(from: customer, to: ourNumber, body: " STOP ", to: receiver.url("/sms"))
        #expect(twilio.isOptedOut(customer))
        await #expect(throws: MessagingError.self) {
            _ = try await client.send(SendMessage(to: customer, sender: .from(ourNumber), body: "again"))
        }
        #expect(twilio.sentMessages.map(\.body) == ["welcome back"])
        await receiver.stop()
        await twilio.stop()
    }

    @Test("63016 outside the WhatsApp window; templates pass; an inbound WhatsApp message opens the window")
    func whatsAppWindow() async throws {
        let twilio = try await TwilioStandIn.start()
        let receiver = try await WebhookReceiver.start()
        let client = messagingClient(twilio)
        let user = "whatsapp:" + customer
        let sender = SendMessage.Sender.from("whatsapp:" + ourNumber)
        do {
            _ = try await client.send(SendMessage(to: user, sender: sender, body: "free form"))
            Issue.record("a free-form message outside the window was accepted")
        } catch {
            #expect(error.code == 63016 && error.reason == .outsideWhatsAppWindow)
        }
        _ = try await client.send(SendMessage(to: user, sender: sender, contentSid: "HX0123456789abcdef0123456789abcdef"))
        try await twilio.sendInbound(from: user, to: "whatsapp:" + ourNumber, body: "hi", to: receiver.url("/wa"))
        let inside = try await client.send(SendMessage(to: user, sender: sender, body: "free form"))
        #expect(inside.status == .queued)
        twilio.openWhatsAppWindow(for: user, lastInboundAgo: .seconds(24 * 3600 + 1))
        await #expect(throws: MessagingError.self) {
            _ = try await client.send(SendMessage(to: user, sender: sender, body: "too late"))
        }
        twilio.openWhatsAppWindow(for: user, lastInboundAgo: .seconds(23 * 3600))
        _ = try await client.send(SendMessage(to: user, sender: sender, body: "just in time"))
        #expect(twilio.sentMessages.count == 3)
        await receiver.stop()
        await twilio.stop()
    }

    @Test("429 with code 20429 has no effect; the client's retry then succeeds once")
    func throttled() async throws {
        let twilio = try await TwilioStandIn.start()
        twilio.throttleNextRequests(2)
        let message = try await messagingClient(twilio).send(SendMessage(to: customer, sender: .from(ourNumber), body: "retried"))
        #expect(twilio.requests.map(\.status) == [429, 429, 201])
        #expect(twilio.sentMessages.map(\.sid) == [message.sid])

        twilio.throttleNextRequests(1, retryAfter: "0")
        do {
            _ = try await messagingClient(twilio, retry: .none).send(SendMessage(to: customer, sender: .from(ourNumber), body: "no"))
            Issue.record("a throttled request succeeded")
        } catch {
            #expect(error.code == 20429 && error.httpStatus == 429 && error.reason == .rateLimited)
        }
        #expect(twilio.sentMessages.count == 1)
        #expect(twilio.requests.last?.header("Authorization") == twilio.authorizationHeader)
        await twilio.stop()
    }

    @Test("status callbacks: sent then delivered, signed, no queued callback; fetch follows")
    func statusCallbacks() async throws {
        let twilio = try await TwilioStandIn.start()
        let receiver = try await WebhookReceiver.start()
        let callback = receiver.url("/status?tenant=a&x=1")
        let message = try await messagingClient(twilio).send(
            SendMessage(to: customer, sender: .from(ourNumber), body: "hello", statusCallback: callback))
        #expect(await twilio.wait { $0.statusCallbacks.count == 2 && $0.pendingCallbacks == 0 })
        let received = receiver.received
        #expect(received.map { $0.value("MessageStatus") } == ["sent", "delivered"])
        for request in received {
            #expect(request.pathAndQuery == "/status?tenant=a&x=1")
            #expect(isSignedByTwilio(request, receiver: receiver, authToken: twilio.authToken))
            #expect(!isSignedByTwilio(request, receiver: receiver, authToken: "another-token"))
            #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
            let parsed = try MessageStatusCallback(parameters: request.form)
            #expect(parsed.messageSid == message.sid && parsed.smsSid == message.sid)
            #expect(parsed.accountSid == twilio.accountSid && parsed.to == customer && parsed.from == ourNumber)
            #expect(parsed.apiVersion == "2010-04-01")
            #expect(request.value("SmsStatus") == request.value("MessageStatus"))
            #expect(parsed.errorCode == nil)
        }
        let dlr = try #require(received.last?.value("RawDlrDoneDate"))
        #expect(dlr.count == 10 && dlr.allSatisfy(\.isNumber))
        #expect(received.first?.value("RawDlrDoneDate") == nil)
        #expect(twilio.statusCallbacks.map(\.status) == [200, 200])
        #expect(try await messagingClient(twilio).fetchMessage(sid: message.sid).status == .delivered)
        await receiver.stop()
        await twilio.stop()
    }

    @Test("status callbacks out of order, redelivered, failed recipients, and the receiver's answers recorded")
    func callbackFaults() async throws {
        let twilio = try await TwilioStandIn.start(
            configuration: .init(
                callbacks: .init(sentDelay: .milliseconds(5), deliveredDelay: .milliseconds(10), outOfOrder: true, deliveries: 2),
                webhookTimeout: .milliseconds(300)))
        let receiver = try await WebhookReceiver.start()
        receiver.answer(status: 500, body: "oops")
        twilio.failDelivery(to: customer, errorCode: 30003)
        let client = messagingClient(twilio)
        let message = try await client.send(
            SendMessage(to: customer, sender: .from(ourNumber), body: "hello", statusCallback: receiver.url("/status")))
        #expect(await twilio.wait { $0.statusCallbacks.count == 4 && $0.pendingCallbacks == 0 })
        let received = receiver.received
        #expect(received.map { $0.value("MessageStatus") } == ["undelivered", "undelivered", "sent", "sent"])
        #expect(received[0].value("ErrorCode") == "30003")
        #expect(received[2].value("ErrorCode") == nil)
        #expect(received[0].form.map(\.0) == received[1].form.map(\.0) && received[0].form.map(\.1) == received[1].form.map(\.1))
        #expect(received[0].header("I-Twilio-Idempotency-Token") == received[1].header("I-Twilio-Idempotency-Token"))
        #expect(received[0].header("I-Twilio-Idempotency-Token") != received[2].header("I-Twilio-Idempotency-Token"))
        #expect(twilio.statusCallbacks.map(\.isRedelivery) == [false, true, false, true])
        #expect(twilio.statusCallbacks.map(\.status) == [500, 500, 500, 500])
        #expect(twilio.statusCallbacks.first?.responseBody == "oops")
        let fetched = try await client.fetchMessage(sid: message.sid)
        #expect(fetched.status == .undelivered && fetched.errorCode == 30003)

        // A callback URL nobody listens on (port 1): the attempt is recorded as failed.
        await receiver.stop()
        twilio.callbackOptions = .init()
        twilio.clearDeliveryFailure(to: customer)
        _ = try await client.send(
            SendMessage(to: customer, sender: .from(ourNumber), body: "nobody home", statusCallback: "http://127.0.0.1:1/status"))
        #expect(await twilio.wait { $0.statusCallbacks.count == 6 && $0.pendingCallbacks == 0 })
        #expect(twilio.statusCallbacks.suffix(2).allSatisfy { $0.status == nil && $0.failure != nil })
        await twilio.stop()
    }

    @Test("inbound webhook: Twilio's exact fields, signed; a redelivery repeats body, SID and idempotency token")
    func inbound() async throws {
        let twilio = try await TwilioStandIn.start(configuration: .init(webhookTimeout: .milliseconds(300)))
        let receiver = try await WebhookReceiver.start()
        receiver.answer(status: 200, body: "<Response/>", contentType: "text/xml")
        let url = receiver.url("/twilio/sms?agent=front-desk")
        let answer = try await twilio.sendInbound(
            from: customer, to: ourNumber, body: "Hello there", to: url, messagingServiceSid: "MG0123456789abcdef0123456789abcdef",
            additionalFields: [("NewTwilioField", "surprise")])
        #expect(answer.status == 200 && answer.body == "<Response/>" && answer.contentType == "text/xml")
        let first = try #require(receiver.received.first)
        #expect(isSignedByTwilio(first, receiver: receiver, authToken: twilio.authToken))
        let names = Set(first.form.map(\.0))
        for name in [
            "MessageSid", "SmsSid", "SmsMessageSid", "AccountSid", "MessagingServiceSid", "From", "To", "Body", "NumMedia", "NumSegments",
            "SmsStatus", "ApiVersion", "FromCountry", "ToCountry", "FromCity", "FromState", "FromZip", "ToCity", "ToState", "ToZip",
        ] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(first.value("SmsStatus") == "received" && first.value("NumMedia") == "0" && first.value("NumSegments") == "1")
        #expect(first.value("ApiVersion") == "2010-04-01" && first.value("FromCountry") == "US")
        let parsed = try InboundMessage(parameters: first.form)
        #expect(isSID(parsed.messageSid, "SM"))
        #expect(parsed.body == "Hello there" && parsed.from == customer && parsed.to == ourNumber)
        #expect(first.value("SmsSid") == parsed.messageSid && first.value("SmsMessageSid") == parsed.messageSid)

        let again = try await twilio.redeliverInbound()
        #expect(again.status == 200)
        let second = try #require(receiver.received.last)
        #expect(receiver.received.count == 2)
        #expect(second.form.map(\.0) == first.form.map(\.0) && second.form.map(\.1) == first.form.map(\.1))
        #expect(second.header("I-Twilio-Idempotency-Token") == first.header("I-Twilio-Idempotency-Token"))
        #expect(first.header("I-Twilio-Idempotency-Token")?.isEmpty == false)
        #expect(isSignedByTwilio(second, receiver: receiver, authToken: twilio.authToken))
        #expect(twilio.webhookAttempts.map(\.isRedelivery) == [false, true])

        // The inbound message is listed as Twilio lists it.
        let listed = try await messagingClient(twilio).listMessages(MessageQuery(from: customer))
        #expect(listed.messages.map(\.sid) == [parsed.messageSid])
        #expect(listed.messages.first?.direction == "inbound" && listed.messages.first?.status == .received)

        // WhatsApp adds ProfileName and WaId (digits, no "+"), and drops the geography.
        receiver.answer(status: 204)
        let whatsApp = try await twilio.sendInbound(
            from: "whatsapp:" + customer, to: "whatsapp:" + ourNumber, body: "hi", to: url, profileName: "Ada")
        #expect(whatsApp.status == 204)
        let third = try #require(receiver.received.last)
        #expect(third.value("ProfileName") == "Ada" && third.value("WaId") == "14155550199")
        #expect(third.value("FromCountry") == nil)
        #expect(isSignedByTwilio(third, receiver: receiver, authToken: twilio.authToken))
        #expect(try InboundMessage(parameters: third.form).channel == .whatsApp)

        await receiver.stop()
        await #expect(throws: (any Error).self) {
            _ = try await twilio.sendInbound(from: customer, to: ourNumber, body: "nobody", to: "http://127.0.0.1:1/sms")
        }
        await twilio.stop()
    }
}
