//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation
public import TwilioMessaging
public import VoicePipeStore

/// An inbound text, whichever way it came (a Messaging webhook, a Conversations `onMessageAdded`).
public struct InboundText: Sendable, Hashable {
    /// The contact's address (E.164, no channel prefix).
    public var contact: String
    /// The channel.
    public var channel: Channel
    /// The text.
    public var body: String
    /// The provider's id (`SM…`, `IM…`): the idempotency key.
    public var providerSid: String
    /// The contact's address as the provider writes it (`whatsapp:+1555…`): where the reply goes.
    public var contactAddress: String
    /// The address the contact wrote to (the agent's number): where the reply comes from.
    public var agentAddress: String?
    /// The thread's reference (`CH…` for Conversations, empty for plain Messaging).
    public var threadReference: String
    /// When it arrived.
    public var receivedAt: Date
    /// Where the provider should post the reply's delivery status (the server that received this message derives
    /// it from the address it was reached at); `nil`: the sender's default.
    public var statusCallback: String?

    /// Creates an inbound text.
    public init(
        contact: String, channel: Channel, body: String, providerSid: String, contactAddress: String, agentAddress: String?,
        threadReference: String = "", receivedAt: Date = Date(), statusCallback: String? = nil
    ) {
        self.statusCallback = statusCallback
        self.contact = contact
        self.channel = channel
        self.body = body
        self.providerSid = providerSid
        self.contactAddress = contactAddress
        self.agentAddress = agentAddress
        self.threadReference = threadReference
        self.receivedAt = receivedAt
    }

    /// The text of a Messaging inbound webhook (SMS, MMS or WhatsApp).
    public init(_ message: InboundMessage, receivedAt: Date = Date(), statusCallback: String? = nil) {
        let from = MessagingAddress(message.from)
        self.init(
            contact: from.address, channel: from.channel == .whatsApp ? .whatsapp : .sms, body: message.body,
            providerSid: message.messageSid, contactAddress: message.from, agentAddress: message.to, receivedAt: receivedAt,
            statusCallback: statusCallback)
    }

    /// The message to record.
    public var newMessage: NewMessage {
        NewMessage(
            contact: contact, channel: channel, direction: .inbound, body: body, providerSid: providerSid,
            threadReference: threadReference, contactChannelAddress: contactAddress, agentAddress: agentAddress,
            createdAt: receivedAt, status: "received")
    }
}

/// The keywords that opt a contact out of, or back into, text messages: Twilio's defaults for Advanced
/// Opt-Out. Twilio itself answers them (and blocks messages to an opted-out number with error 21610); the
/// agent only records them and stays silent.
public enum OptOutKeywords {
    /// Opt out.
    public static let stop: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
    /// Opt back in.
    public static let start: Set<String> = ["START", "YES", "UNSTOP"]

    /// The keyword a whole message is, if it is one (case and surrounding spaces and punctuation ignored).
    static func keyword(_ body: String) -> String? {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines.union(.punctuationCharacters)).uppercased()
        return stop.contains(word) || start.contains(word) ? word : nil
    }
}
