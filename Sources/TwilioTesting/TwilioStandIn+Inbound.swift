//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization

extension TwilioStandIn {
    /// Simulates a customer's message: posts Twilio's inbound-message webhook to `webhookURL`, signed with
    /// `X-Twilio-Signature`, and returns the answer.
    ///
    /// The body has Twilio's fields: `ToCountry`, `ToState`, `SmsMessageSid`, `NumMedia`, `ToCity`, `FromZip`,
    /// `SmsSid`, `FromState`, `SmsStatus=received`, `FromCity`, `Body`, `FromCountry`, `To`, `ToZip`,
    /// `NumSegments`, `MessageSid`, `AccountSid`, `From`, `ApiVersion=2010-04-01` (and `MessagingServiceSid`
    /// when given); for WhatsApp (`whatsapp:+…` addresses) `ProfileName`, `WaId` (digits, no `+`),
    /// `MessageType` and `ReferralNumMedia` instead of the geography. Media add `MediaUrl{N}` and
    /// `MediaContentType{N}`.
    ///
    /// As Twilio does on its side: an SMS body that is an opt-out keyword (`STOP`, `UNSUBSCRIBE`, `CANCEL`,
    /// `END`, `QUIT`, `STOPALL`, …) marks `from` opted out and `START` (`UNSTOP`, `YES`) clears it; a
    /// WhatsApp message opens `from`'s 24-hour window. The message is also listed by `GET …/Messages.json`
    /// (direction `inbound`, status `received`).
    ///
    /// - Parameters:
    ///   - from: The customer (`+1…` or `whatsapp:+1…`).
    ///   - to: Your number (`+1…` or `whatsapp:+1…`).
    ///   - body: The text.
    ///   - webhookURL: The Messaging webhook (what the signature covers, query included).
    ///   - messagingServiceSid: `MessagingServiceSid` to include, if the number belongs to a service.
    ///   - profileName: WhatsApp's `ProfileName` (default "Stand-in Customer").
    ///   - mediaURLs: Media, as `(url, contentType)`.
    ///   - additionalFields: More fields to send (signed like the others), for example ones a handler does
    ///     not know.
    /// - Returns: The webhook's HTTP status, body and `Content-Type`.
    /// - Throws: When no answer came (connection refused, timeout).
    @discardableResult
    public func sendInbound(
        from: String, to: String, body: String, to webhookURL: String, messagingServiceSid: String? = nil,
        profileName: String = "Stand-in Customer", mediaURLs: [(url: String, contentType: String)] = [],
        additionalFields: [(String, String)] = []
    ) async throws -> (status: Int, body: String, contentType: String?) {
        let whatsApp = TwilioAddress.isWhatsApp(from)
        let sid = TwilioSID.make(mediaURLs.isEmpty ? "SM" : "MM")
        var fields: [(String, String)] = []
        if whatsApp {
            fields += [
                ("SmsMessageSid", sid), ("NumMedia", String(mediaURLs.count)), ("ProfileName", profileName),
                ("MessageType", mediaURLs.isEmpty ? "text" : "image"), ("SmsSid", sid),
                ("WaId", String(TwilioAddress.number(from).dropFirst())), ("SmsStatus", "received"), ("Body", body), ("To", to),
            ]
            if let messagingServiceSid { fields.append(("MessagingServiceSid", messagingServiceSid)) }
            fields += [("NumSegments", "1"), ("ReferralNumMedia", "0")]
        } else {
            let toCountry = TwilioAddress.country(to)
            let fromCountry = TwilioAddress.country(from)
            fields += [
                ("ToCountry", toCountry), ("ToState", ""), ("SmsMessageSid", sid), ("NumMedia", String(mediaURLs.count)),
                ("ToCity", ""), ("FromZip", ""), ("SmsSid", sid), ("FromState", ""), ("SmsStatus", "received"), ("FromCity", ""),
                ("Body", body), ("FromCountry", fromCountry), ("To", to),
            ]
            if let messagingServiceSid { fields.append(("MessagingServiceSid", messagingServiceSid)) }
            fields += [("ToZip", ""), ("NumSegments", String(Self.segments(body)))]
        }
        for (index, media) in mediaURLs.enumerated() {
            fields += [("MediaContentType\(index)", media.contentType), ("MediaUrl\(index)", media.url)]
        }
        fields += [("MessageSid", sid), ("AccountSid", accountSid), ("From", from), ("ApiVersion", "2010-04-01")]
        fields += additionalFields
        let delivery = InboundDelivery(
            messageSid: sid, url: webhookURL, parameters: fields, idempotencyToken: UUID().uuidString.lowercased())
        let now = Date()
        state.withLock { state in
            state.inbound.append(delivery)
            state.messages.append(
                StoredMessage(
                    sid: sid, to: to, from: from, messagingServiceSid: messagingServiceSid, body: body, mediaURLs: mediaURLs.map(\.url),
                    contentSid: nil, statusCallback: nil, status: "received", direction: "inbound", errorCode: nil, form: []))
            state.messageDates[sid] = now
            if whatsApp {
                state.lastWhatsAppInbound[from] = now
            } else if let stop = Self.optOutKeyword(body) {
                if stop { state.optedOut.insert(from) } else { state.optedOut.remove(from) }
            }
        }
        return try await deliver(delivery, isRedelivery: false)
    }

    /// Redelivers a simulated inbound message exactly as before (a Twilio retry): the same body, the same
    /// `MessageSid` and the same `I-Twilio-Idempotency-Token`, signed again.
    ///
    /// - Parameter messageSid: The message to redeliver; the latest one when `nil`.
    /// - Throws: ``TwilioStandInError/noInboundMessage``, or when no answer came.
    @discardableResult
    public func redeliverInbound(messageSid: String? = nil) async throws -> (status: Int, body: String, contentType: String?) {
        let delivery = state.withLock { state in
            messageSid.map { sid in state.inbound.last { $0.messageSid == sid } } ?? state.inbound.last
        }
        guard let delivery else { throw TwilioStandInError.noInboundMessage }
        return try await deliver(delivery, isRedelivery: true)
    }

    private func deliver(_ delivery: InboundDelivery, isRedelivery: Bool) async throws -> (status: Int, body: String, contentType: String?)
    {
        let attempt = await post(
            .inboundMessage, to: delivery.url, parameters: delivery.parameters, idempotencyToken: delivery.idempotencyToken,
            isRedelivery: isRedelivery)
        guard let status = attempt.status else { throw TwilioStandInWebhookError(url: delivery.url, reason: attempt.failure ?? "") }
        return (status, attempt.responseBody, attempt.responseContentType)
    }
}

/// A webhook the stand-in posted got no answer.
public struct TwilioStandInWebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The URL posted to.
    public var url: String
    /// The transport error.
    public var reason: String

    /// One line.
    public var description: String { "no answer from \(url): \(reason)" }
}
