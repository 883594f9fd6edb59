//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation

/// A Conversations v1 post-event webhook (the form Twilio POSTs to a global, service or conversation-scoped
/// webhook URL), parsed by its `EventType`.
///
/// Validate the request's `X-Twilio-Signature` first (`TwilioCore.RequestValidator`, against the URL exactly
/// as configured) with ``parameters``: every field received, in order, including those no case parses.
/// Events this library does not type are ``other(eventType:parameters:)``, never an error.
///
/// ```swift
/// switch try ConversationsWebhookEvent(formBody: request.body) {
/// case .onMessageAdded(let added) where !added.isEcho(agentAuthor: "agent"):
///     remember(added.contactE164, added.body)          // deduplicate on added.messageSid first
/// case .onDeliveryUpdated(let update): track(update.messageSid, update.status, update.errorCode)
/// case .onConversationStateUpdated(let change): close(change.conversationSid, when: change.stateTo == .closed)
/// default: break
/// }
/// ```
public enum ConversationsWebhookEvent: Sendable {
    /// `onMessageAdded`: a message was posted (by the customer over SMS or WhatsApp, a chat user, or the API).
    case onMessageAdded(ConversationsMessageAdded)
    /// `onDeliveryUpdated`: a delivery receipt for a message to an SMS or WhatsApp participant.
    case onDeliveryUpdated(ConversationsDeliveryUpdated)
    /// `onConversationStateUpdated`: `active`, `inactive` or `closed`.
    case onConversationStateUpdated(ConversationsStateUpdated)
    /// `onParticipantAdded`.
    case onParticipantAdded(ConversationsParticipantAdded)
    /// `onConversationAdded`.
    case onConversationAdded(ConversationsConversationAdded)
    /// Any other event (`onMessageUpdated`, `onParticipantRemoved`, a pre-event such as `onMessageAdd`, …),
    /// with every field received.
    case other(eventType: String, parameters: [(String, String)])

    /// Parses decoded form fields.
    ///
    /// - Throws: ``ConversationsWebhookError``: ``ConversationsWebhookError/Kind/missingField`` when
    ///   `EventType` or a field the event requires is missing or empty; ``ConversationsWebhookError/Kind/malformedField``
    ///   when a number (`Index`, `RetryCount`, `ErrorCode`) is not one.
    public init(parameters: [(String, String)]) throws(ConversationsWebhookError) {
        let fields = ConversationsWebhookFields(parameters)
        let eventType = try fields.required("EventType")
        switch eventType {
        case "onMessageAdded": self = .onMessageAdded(try ConversationsMessageAdded(fields))
        case "onDeliveryUpdated": self = .onDeliveryUpdated(try ConversationsDeliveryUpdated(fields))
        case "onConversationStateUpdated": self = .onConversationStateUpdated(try ConversationsStateUpdated(fields))
        case "onParticipantAdded": self = .onParticipantAdded(try ConversationsParticipantAdded(fields))
        case "onConversationAdded": self = .onConversationAdded(try ConversationsConversationAdded(fields))
        default: self = .other(eventType: eventType, parameters: parameters)
        }
    }

    /// Parses a form body (`application/x-www-form-urlencoded`, as Twilio POSTs it).
    ///
    /// - Throws: ``ConversationsWebhookError``; ``ConversationsWebhookError/Kind/badEncoding`` when the body
    ///   is not form-encoded UTF-8.
    public init(formBody: some Collection<UInt8>) throws(ConversationsWebhookError) {
        let fields: [(String, String)]
        do {
            fields = try WebhookFields(formBody: formBody).fields
        } catch {
            throw ConversationsWebhookError(kind: .badEncoding, field: "")
        }
        try self.init(parameters: fields)
    }

    /// `EventType`.
    public var eventType: String {
        switch self {
        case .onMessageAdded: "onMessageAdded"
        case .onDeliveryUpdated: "onDeliveryUpdated"
        case .onConversationStateUpdated: "onConversationStateUpdated"
        case .onParticipantAdded: "onParticipantAdded"
        case .onConversationAdded: "onConversationAdded"
        case .other(let eventType, _): eventType
        }
    }

    /// Every field as received, in order (what signature validation needs).
    public var parameters: [(String, String)] {
        switch self {
        case .onMessageAdded(let event): event.parameters
        case .onDeliveryUpdated(let event): event.parameters
        case .onConversationStateUpdated(let event): event.parameters
        case .onParticipantAdded(let event): event.parameters
        case .onConversationAdded(let event): event.parameters
        case .other(_, let parameters): parameters
        }
    }
}

/// `onMessageAdded`: a message in a conversation, from the customer (SMS, WhatsApp), a chat user or the API.
///
/// Deduplicate on ``messageSid`` (a redelivery carries the same body, ``retryCount`` above 0). Skip the
/// agent's own messages with ``isEcho(agentAuthor:)``.
public struct ConversationsMessageAdded: Sendable, Hashable {
    /// `AccountSid`.
    public var accountSid: String?
    /// `ConversationSid` (`CH…`).
    public var conversationSid: String
    /// `MessageSid` (`IM…`).
    public var messageSid: String
    /// `MessagingServiceSid` (`MG…`).
    public var messagingServiceSid: String?
    /// `ChatServiceSid` (`IS…`).
    public var chatServiceSid: String?
    /// `Index`: the message's position in the conversation.
    public var index: Int?
    /// `DateCreated`: ISO 8601 with milliseconds (`2026-08-11T13:03:28.879Z`).
    public var dateCreated: String?
    /// `Body` (empty for media only).
    public var body: String
    /// `Author`: the customer's address (`+1…`, `whatsapp:+1…`), a chat identity, or `system`.
    public var author: String?
    /// `ParticipantSid` (`MB…`).
    public var participantSid: String?
    /// `Attributes`: a JSON document as a string (`{}` when unset).
    public var attributes: String
    /// `Media`: a JSON array as a string, when the message has media.
    public var media: String?
    /// `Source`: `SMS`, `WhatsApp`, `SDK`, `API`, … as Twilio sends it.
    public var source: String?
    /// `RetryCount`: 0 on the first delivery.
    public var retryCount: Int?
    /// `ClientIdentity`: the chat identity that acted (SDK sources only).
    public var clientIdentity: String?
    /// Every field as received, in order.
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    init(_ fields: ConversationsWebhookFields) throws(ConversationsWebhookError) {
        accountSid = fields.optional("AccountSid")
        conversationSid = try fields.required("ConversationSid")
        messageSid = try fields.required("MessageSid")
        messagingServiceSid = fields.optional("MessagingServiceSid")
        chatServiceSid = fields.optional("ChatServiceSid")
        index = try fields.integer("Index")
        dateCreated = fields.optional("DateCreated")
        body = fields["Body"] ?? ""
        author = fields.optional("Author")
        participantSid = fields.optional("ParticipantSid")
        attributes = fields.optional("Attributes") ?? "{}"
        media = fields.optional("Media")
        source = fields.optional("Source")
        retryCount = try fields.integer("RetryCount")
        clientIdentity = fields.optional("ClientIdentity")
        storedParameters = fields.stored
    }

    /// ``dateCreated`` parsed.
    public var createdAt: Date? { dateCreated.flatMap(ConversationsDate.parse) }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }

    /// Whether this is the agent's own message coming back: `Source` is `API` (any case), the author is
    /// `system`, or the author is `agentAuthor`.
    public func isEcho(agentAuthor: String? = nil) -> Bool {
        if source?.lowercased() == "api" || author == "system" { return true }
        if let agentAuthor, let author { return author == agentAuthor }
        return false
    }

    /// The contact's E.164 number: ``author`` without a `whatsapp:` prefix, or `nil` when the author is not
    /// an SMS or WhatsApp number (a chat identity, `system`).
    public var contactE164: String? {
        guard let author else { return nil }
        let address = MessagingAddress(author)
        switch address.channel {
        case .sms, .whatsApp: return address.isE164 ? address.address : nil
        case .other: return nil
        }
    }

    /// The channel of ``author``'s address (`whatsapp:` or a plain number), when it is one.
    public var channel: MessagingAddress.Channel? { contactE164 == nil ? nil : author.map { MessagingAddress($0).channel } }
}

/// `onDeliveryUpdated`: a delivery receipt for one message to one SMS or WhatsApp participant.
///
/// Deduplicate on (``deliveryReceiptSid``, ``status``); receipts for one message may come out of order.
public struct ConversationsDeliveryUpdated: Sendable, Hashable {
    /// `AccountSid`.
    public var accountSid: String?
    /// `ConversationSid`.
    public var conversationSid: String
    /// `ChatServiceSid`.
    public var chatServiceSid: String?
    /// `MessageSid` (`IM…`).
    public var messageSid: String
    /// `DeliveryReceiptSid` (`DY…`).
    public var deliveryReceiptSid: String?
    /// `ChannelMessageSid`: the channel's message (`SM…`, `WA…`).
    public var channelMessageSid: String?
    /// `ParticipantSid`.
    public var participantSid: String?
    /// `Status`: `sent`, `delivered`, `read`, `undelivered` or `failed`.
    public var status: MessageStatus
    /// `ErrorCode`, when the message failed (0 or absent otherwise), for example 21610.
    public var errorCode: Int?
    /// `DateCreated` (ISO 8601).
    public var dateCreated: String?
    /// `DateUpdated` (ISO 8601).
    public var dateUpdated: String?
    /// `RetryCount`.
    public var retryCount: Int?
    /// Every field as received, in order.
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    init(_ fields: ConversationsWebhookFields) throws(ConversationsWebhookError) {
        accountSid = fields.optional("AccountSid")
        conversationSid = try fields.required("ConversationSid")
        chatServiceSid = fields.optional("ChatServiceSid")
        messageSid = try fields.required("MessageSid")
        deliveryReceiptSid = fields.optional("DeliveryReceiptSid")
        channelMessageSid = fields.optional("ChannelMessageSid")
        participantSid = fields.optional("ParticipantSid")
        status = MessageStatus(try fields.required("Status"))
        errorCode = try fields.integer("ErrorCode")
        dateCreated = fields.optional("DateCreated")
        dateUpdated = fields.optional("DateUpdated")
        retryCount = try fields.integer("RetryCount")
        storedParameters = fields.stored
    }

    /// What ``errorCode`` means for the sender (``MessagingError/Reason/unsubscribed`` for 21610), or `nil`
    /// when there is no error (absent or 0).
    public var errorReason: MessagingError.Reason? {
        guard let errorCode, errorCode != 0 else { return nil }
        return MessagingError.Reason(twilioCode: errorCode)
    }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }
}

/// `onConversationStateUpdated`: a conversation moved between `active`, `inactive` and `closed`.
public struct ConversationsStateUpdated: Sendable, Hashable {
    /// `AccountSid`.
    public var accountSid: String?
    /// `ConversationSid`.
    public var conversationSid: String
    /// `ChatServiceSid`.
    public var chatServiceSid: String?
    /// `MessagingServiceSid`.
    public var messagingServiceSid: String?
    /// `StateFrom`.
    public var stateFrom: ConversationState
    /// `StateTo`.
    public var stateTo: ConversationState
    /// `StateUpdated`: when (ISO 8601).
    public var stateUpdated: String?
    /// `Reason`: `API`, `TIMER` or `EVENT`.
    public var reason: String?
    /// Every field as received, in order.
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    init(_ fields: ConversationsWebhookFields) throws(ConversationsWebhookError) {
        accountSid = fields.optional("AccountSid")
        conversationSid = try fields.required("ConversationSid")
        chatServiceSid = fields.optional("ChatServiceSid")
        messagingServiceSid = fields.optional("MessagingServiceSid")
        stateFrom = ConversationState(try fields.required("StateFrom"))
        stateTo = ConversationState(try fields.required("StateTo"))
        stateUpdated = fields.optional("StateUpdated")
        reason = fields.optional("Reason")
        storedParameters = fields.stored
    }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }
}

/// `onParticipantAdded`: an SMS, WhatsApp or chat participant joined a conversation.
public struct ConversationsParticipantAdded: Sendable, Hashable {
    /// `AccountSid`.
    public var accountSid: String?
    /// `ConversationSid`.
    public var conversationSid: String
    /// `ParticipantSid` (`MB…`).
    public var participantSid: String
    /// `ChatServiceSid`.
    public var chatServiceSid: String?
    /// `Identity`, for a chat participant.
    public var identity: String?
    /// `RoleSid`.
    public var roleSid: String?
    /// `Attributes` (a JSON string, `{}` when unset).
    public var attributes: String
    /// `DateCreated` (ISO 8601).
    public var dateCreated: String?
    /// `MessagingBinding.Type` (`SMS`, `WHATSAPP`, `CHAT`, …), `.Address`, `.ProxyAddress` and
    /// `.ProjectedAddress`, when any is present.
    public var messagingBinding: ConversationMessagingBinding?
    /// `Source`.
    public var source: String?
    /// `RetryCount`.
    public var retryCount: Int?
    /// Every field as received, in order.
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    init(_ fields: ConversationsWebhookFields) throws(ConversationsWebhookError) {
        accountSid = fields.optional("AccountSid")
        conversationSid = try fields.required("ConversationSid")
        participantSid = try fields.required("ParticipantSid")
        chatServiceSid = fields.optional("ChatServiceSid")
        identity = fields.optional("Identity")
        roleSid = fields.optional("RoleSid")
        attributes = fields.optional("Attributes") ?? "{}"
        dateCreated = fields.optional("DateCreated")
        let binding = ConversationMessagingBinding(
            type: fields.optional("MessagingBinding.Type"), address: fields.optional("MessagingBinding.Address"),
            proxyAddress: fields.optional("MessagingBinding.ProxyAddress"),
            projectedAddress: fields.optional("MessagingBinding.ProjectedAddress"))
        messagingBinding = binding == ConversationMessagingBinding() ? nil : binding
        source = fields.optional("Source")
        retryCount = try fields.integer("RetryCount")
        storedParameters = fields.stored
    }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }
}

/// `onConversationAdded`: a conversation was created (for example by autocreation, for an inbound SMS
/// to a number with no bound conversation; `onParticipantAdded` and `onMessageAdded` follow).
public struct ConversationsConversationAdded: Sendable, Hashable {
    /// `AccountSid`.
    public var accountSid: String?
    /// `ConversationSid`.
    public var conversationSid: String
    /// `ChatServiceSid`.
    public var chatServiceSid: String?
    /// `MessagingServiceSid`.
    public var messagingServiceSid: String?
    /// `FriendlyName`.
    public var friendlyName: String?
    /// `UniqueName`.
    public var uniqueName: String?
    /// `Attributes` (a JSON string, `{}` when unset).
    public var attributes: String
    /// `State`, when sent.
    public var state: ConversationState?
    /// `DateCreated` (ISO 8601).
    public var dateCreated: String?
    /// `MessagingBinding.Address`, `.ProxyAddress`, when the conversation was autocreated by a message.
    public var messagingBinding: ConversationMessagingBinding?
    /// `MessagingBinding.AuthorAddress`: who wrote the message that created it.
    public var authorAddress: String?
    /// `Source`.
    public var source: String?
    /// `RetryCount`.
    public var retryCount: Int?
    /// Every field as received, in order.
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    init(_ fields: ConversationsWebhookFields) throws(ConversationsWebhookError) {
        accountSid = fields.optional("AccountSid")
        conversationSid = try fields.required("ConversationSid")
        chatServiceSid = fields.optional("ChatServiceSid")
        messagingServiceSid = fields.optional("MessagingServiceSid")
        friendlyName = fields.optional("FriendlyName")
        uniqueName = fields.optional("UniqueName")
        attributes = fields.optional("Attributes") ?? "{}"
        state = fields.optional("State").map(ConversationState.init)
        dateCreated = fields.optional("DateCreated")
        let binding = ConversationMessagingBinding(
            type: fields.optional("MessagingBinding.Type"), address: fields.optional("MessagingBinding.Address"),
            proxyAddress: fields.optional("MessagingBinding.ProxyAddress"),
            projectedAddress: fields.optional("MessagingBinding.ProjectedAddress"))
        messagingBinding = binding == ConversationMessagingBinding() ? nil : binding
        authorAddress = fields.optional("MessagingBinding.AuthorAddress")
        source = fields.optional("Source")
        retryCount = try fields.integer("RetryCount")
        storedParameters = fields.stored
    }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }
}
