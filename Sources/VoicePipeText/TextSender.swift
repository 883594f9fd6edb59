//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation
public import TwilioMessaging
public import VoicePipeStore

/// A reply to send.
public struct TextReply: Sendable, Hashable {
    /// The recipient, as the provider writes it (`+1555…`, `whatsapp:+1555…`).
    public var to: String
    /// The sender: the number the contact wrote to (`nil`: the sender's default).
    public var from: String?
    /// The text.
    public var body: String
    /// The channel.
    public var channel: Channel
    /// The thread's reference (`CH…` for a Conversations thread, empty for a plain one).
    public var threadReference: String
    /// Where the provider posts the reply's delivery status (`nil`: the sender's default).
    public var statusCallback: String?

    /// Creates a reply.
    public init(
        to: String, from: String?, body: String, channel: Channel, threadReference: String = "", statusCallback: String? = nil
    ) {
        self.statusCallback = statusCallback
        self.to = to
        self.from = from
        self.body = body
        self.channel = channel
        self.threadReference = threadReference
    }
}

/// A message the provider accepted.
public struct SentText: Sendable, Hashable {
    /// The provider's id (`SM…`, `IM…`).
    public var sid: String
    /// Its status when accepted (`queued`, `accepted`, …).
    public var status: String
    /// The text as the provider holds it.
    public var body: String?
    /// When the provider created it.
    public var createdAt: Date?

    /// Creates a record.
    public init(sid: String, status: String, body: String?, createdAt: Date?) {
        self.sid = sid
        self.status = status
        self.body = body
        self.createdAt = createdAt
    }
}

/// Why a send failed, as far as a sender must act on it.
public struct TextSendError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What the failure means for the reply.
    public enum Kind: String, Sendable, Hashable {
        /// The recipient opted out (Twilio 21610): mark the contact, never retry.
        case optedOut
        /// The message can never be sent as it is (invalid number, outside the WhatsApp window, refused
        /// sender): give the reply up.
        case permanent
        /// The provider did not take it (429 after the client's retries): try again later.
        case retryable
        /// It may or may not have been sent (a 5xx, a timeout, a dropped connection after the request went
        /// out): look for it at the provider before sending again.
        case ambiguous
    }

    /// The kind.
    public var kind: Kind
    /// The provider's error code, when it gave one.
    public var code: Int?
    /// What happened.
    public var message: String
    /// How long to wait before a retry, when the provider said.
    public var retryAfter: Duration?

    /// Creates an error.
    public init(_ kind: Kind, code: Int? = nil, message: String, retryAfter: Duration? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(kind)\(code.map { " (\($0))" } ?? ""): \(message)" }
}

/// What sends a text agent's replies: Twilio Programmable Messaging (``TwilioTextSender``), or a test's own.
public protocol TextSender: Sendable {
    /// Sends a reply.
    func send(_ reply: TextReply) async throws(TextSendError) -> SentText

    /// Finds a reply already sent with this text to this recipient since `since` (newest first), to settle a
    /// send whose outcome is unknown (the process died, or the provider answered 5xx or not at all).
    func findSent(_ reply: TextReply, since: Date) async throws -> SentText?
}

/// Sends replies through Twilio: Programmable Messaging from the number the contact wrote to (or a fixed
/// sender), with a status callback so that delivery is recorded; or, for a reply in a Conversations thread
/// (a `CH…` reference), a Conversations message whose `Author` is the agent's, so that its echo is known.
public struct TwilioTextSender: TextSender {
    /// The Messaging client.
    public let client: TwilioMessagingClient
    /// The sender when a reply has none of its own (`nil`: the reply's `from` is required).
    public let defaultSender: SendMessage.Sender?
    /// Where Twilio posts status callbacks (`https://…/twilio/message-status`) for a reply that names none
    /// (``TextReply/statusCallback``), if anywhere.
    public let statusCallback: String?
    /// The Conversations client, for replies in Conversations threads (`nil`: such replies fail).
    public let conversations: TwilioConversationsClient?
    /// The `Author` of the agent's Conversations messages.
    public let conversationsAuthor: String

    /// Creates a sender.
    public init(
        client: TwilioMessagingClient, defaultSender: SendMessage.Sender? = nil, statusCallback: String? = nil,
        conversations: TwilioConversationsClient? = nil, conversationsAuthor: String = "voicepipe"
    ) {
        self.client = client
        self.defaultSender = defaultSender
        self.statusCallback = statusCallback
        self.conversations = conversations
        self.conversationsAuthor = conversationsAuthor
    }

    public func send(_ reply: TextReply) async throws(TextSendError) -> SentText {
        if reply.threadReference.hasPrefix("CH") {
            guard let conversations else {
                throw TextSendError(.permanent, message: "a Conversations reply, but no Conversations client is configured")
            }
            do {
                let message = try await conversations.createMessage(
                    in: reply.threadReference, CreateConversationMessage(author: conversationsAuthor, body: reply.body))
                return SentText(sid: message.sid, status: "sent", body: message.body, createdAt: message.createdAt)
            } catch {
                throw Self.classify(error)
            }
        }
        guard let sender = reply.from.map(SendMessage.Sender.from) ?? defaultSender else {
            throw TextSendError(.permanent, message: "no sender: the reply has no From and no default sender is set")
        }
        do {
            let message = try await client.send(
                SendMessage(to: reply.to, sender: sender, body: reply.body, statusCallback: reply.statusCallback ?? statusCallback))
            return SentText(sid: message.sid, status: message.status.rawValue, body: message.body, createdAt: nil)
        } catch {
            throw Self.classify(error)
        }
    }

    public func findSent(_ reply: TextReply, since: Date) async throws -> SentText? {
        if reply.threadReference.hasPrefix("CH"), let conversations {
            let page = try await conversations.listMessages(in: reply.threadReference, order: .descending, pageSize: 50)
            let match = page.items.first { $0.author == conversationsAuthor && $0.body == reply.body }
            return match.map { SentText(sid: $0.sid, status: "sent", body: $0.body, createdAt: $0.createdAt) }
        }
        let page = try await client.listMessages(MessageQuery(to: reply.to, pageSize: 50))
        let earliest = since.addingTimeInterval(-120)  // the provider's clock may be behind ours
        let match = page.messages.first { message in
            guard message.body == reply.body, message.direction?.hasPrefix("outbound") != false else { return false }
            guard let created = message.dateCreated.flatMap(Self.rfc2822) else { return true }
            return created >= earliest
        }
        return match.map {
            SentText(sid: $0.sid, status: $0.status.rawValue, body: $0.body, createdAt: $0.dateCreated.flatMap(Self.rfc2822))
        }
    }

    /// Twilio's v2010 date (`Thu, 24 Aug 2023 05:01:45 +0000`).
    static func rfc2822(_ text: String) -> Date? {
        let formatter = DateFormatter()  // made per call: only a reconciliation after a failure needs it
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.date(from: text)
    }

    /// What a Messaging error means for a reply.
    static func classify(_ error: MessagingError) -> TextSendError {
        let kind: TextSendError.Kind
        switch error.reason {
        case .unsubscribed: kind = .optedOut
        case .invalidRecipient, .outsideWhatsAppWindow, .invalidSender, .authentication: kind = .permanent
        case .rateLimited: kind = .retryable
        case .serverError, .timeout, .transport, .invalidResponse: kind = .ambiguous
        default: kind = (error.httpStatus.map { (400..<500).contains($0) } ?? false) ? .permanent : .ambiguous
        }
        return TextSendError(kind, code: error.code, message: error.message, retryAfter: error.retryAfter)
    }
}
