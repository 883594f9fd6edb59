//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation

/// A conversation's state (`state`): `active` takes messages, `inactive` is asleep and can be woken,
/// `closed` is final (an update then fails with 50377) and frees its participants' address pairs.
public enum ConversationState: Sendable, Hashable, CustomStringConvertible {
    /// `initializing`: being created with its participants (`ConversationWithParticipants`).
    case initializing
    /// `active`.
    case active
    /// `inactive`: after the inactive timer; an update or a message reactivates it.
    case inactive
    /// `closed`: final.
    case closed
    /// A state this library does not know, as Twilio spelled it.
    case other(String)

    /// The state Twilio names `value`.
    public init(_ value: String) {
        switch value {
        case "initializing": self = .initializing
        case "active": self = .active
        case "inactive": self = .inactive
        case "closed": self = .closed
        default: self = .other(value)
        }
    }

    /// Twilio's spelling.
    public var rawValue: String {
        switch self {
        case .initializing: "initializing"
        case .active: "active"
        case .inactive: "inactive"
        case .closed: "closed"
        case .other(let value): value
        }
    }

    /// Twilio's spelling.
    public var description: String { rawValue }
}

extension ConversationState: Decodable {
    /// Decodes Twilio's string.
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }
}

/// How an SMS or WhatsApp participant is reached (`messaging_binding`): the customer's address and the
/// Twilio number (or WhatsApp sender) that talks to it.
public struct ConversationMessagingBinding: Sendable, Hashable, Decodable {
    /// `sms`, `whatsapp`, … as Twilio sends it.
    public var type: String?
    /// The customer: E.164 (`+14155550199`) or `whatsapp:+14155550199`.
    public var address: String?
    /// The Twilio side: a number, or `whatsapp:+…` for WhatsApp.
    public var proxyAddress: String?
    /// Group MMS: the number shown to the group.
    public var projectedAddress: String?

    /// A binding.
    public init(type: String? = nil, address: String? = nil, proxyAddress: String? = nil, projectedAddress: String? = nil) {
        self.type = type
        self.address = address
        self.proxyAddress = proxyAddress
        self.projectedAddress = projectedAddress
    }

    private enum CodingKeys: String, CodingKey {
        case type, address
        case proxyAddress = "proxy_address"
        case projectedAddress = "projected_address"
    }
}

/// A Conversation resource (`/v1/Conversations/{Sid}`).
///
/// Dates stay the ISO 8601 strings Twilio sends (``dateCreated``); ``createdAt`` parses them. `attributes`
/// is a JSON document in a string (`"{}"` when unset). Unknown keys are ignored; absent optional keys are `nil`.
public struct Conversation: Sendable, Hashable {
    /// The inactive and closed timers' deadlines, when set.
    public struct Timers: Sendable, Hashable, Decodable {
        /// When the conversation becomes `inactive` (ISO 8601).
        public var dateInactive: String?
        /// When it becomes `closed` (ISO 8601).
        public var dateClosed: String?

        /// Timers.
        public init(dateInactive: String? = nil, dateClosed: String? = nil) {
            self.dateInactive = dateInactive
            self.dateClosed = dateClosed
        }

        private enum CodingKeys: String, CodingKey {
            case dateInactive = "date_inactive"
            case dateClosed = "date_closed"
        }
    }

    /// `CH…`.
    public var sid: String
    /// `AC…`.
    public var accountSid: String
    /// `IS…`: the Conversation Service.
    public var chatServiceSid: String?
    /// `MG…`: the Messaging Service its SMS and WhatsApp go through.
    public var messagingServiceSid: String?
    /// `friendly_name`.
    public var friendlyName: String?
    /// `unique_name`: usable in place of the sid in paths.
    public var uniqueName: String?
    /// `attributes`: a JSON document as a string (`"{}"` when unset).
    public var attributes: String
    /// The state.
    public var state: ConversationState
    /// ISO 8601, whole seconds (`2015-12-16T22:18:37Z`).
    public var dateCreated: String?
    /// ISO 8601.
    public var dateUpdated: String?
    /// The timers (empty when none is set).
    public var timers: Timers
    /// The resource's absolute URL.
    public var url: String?
    /// Related resources' URLs (`participants`, `messages`, `webhooks`, …).
    public var links: [String: String]

    /// ``dateCreated`` parsed.
    public var createdAt: Date? { dateCreated.flatMap(ConversationsDate.parse) }
    /// ``dateUpdated`` parsed.
    public var updatedAt: Date? { dateUpdated.flatMap(ConversationsDate.parse) }
}

extension Conversation: Decodable {
    private enum CodingKeys: String, CodingKey {
        case sid, attributes, state, timers, url, links
        case accountSid = "account_sid"
        case chatServiceSid = "chat_service_sid"
        case messagingServiceSid = "messaging_service_sid"
        case friendlyName = "friendly_name"
        case uniqueName = "unique_name"
        case dateCreated = "date_created"
        case dateUpdated = "date_updated"
    }

    /// Decodes Twilio's JSON (snake_case keys).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sid = try container.decode(String.self, forKey: .sid)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        chatServiceSid = try container.decodeIfPresent(String.self, forKey: .chatServiceSid)
        messagingServiceSid = try container.decodeIfPresent(String.self, forKey: .messagingServiceSid)
        friendlyName = try container.decodeIfPresent(String.self, forKey: .friendlyName)
        uniqueName = try container.decodeIfPresent(String.self, forKey: .uniqueName)
        attributes = try container.decodeIfPresent(String.self, forKey: .attributes) ?? "{}"
        state = try container.decodeIfPresent(ConversationState.self, forKey: .state) ?? .active
        dateCreated = try container.decodeIfPresent(String.self, forKey: .dateCreated)
        dateUpdated = try container.decodeIfPresent(String.self, forKey: .dateUpdated)
        timers = try container.decodeIfPresent(Timers.self, forKey: .timers) ?? Timers()
        url = try container.decodeIfPresent(String.self, forKey: .url)
        links = try container.decodeIfPresent([String: String].self, forKey: .links) ?? [:]
    }
}

/// A Participant resource (`/v1/Conversations/{CH}/Participants/{MB}`): an SMS or WhatsApp contact
/// (``messagingBinding``) or a chat user (``identity``).
public struct ConversationParticipant: Sendable, Hashable {
    /// `MB…`.
    public var sid: String
    /// `AC…`.
    public var accountSid: String
    /// `CH…`.
    public var conversationSid: String
    /// A chat participant's identity; `nil` for SMS and WhatsApp.
    public var identity: String?
    /// An SMS or WhatsApp participant's binding; `nil` for chat.
    public var messagingBinding: ConversationMessagingBinding?
    /// `attributes`: a JSON document as a string.
    public var attributes: String
    /// `RL…`.
    public var roleSid: String?
    /// ISO 8601.
    public var dateCreated: String?
    /// ISO 8601.
    public var dateUpdated: String?
    /// The resource's absolute URL.
    public var url: String?
    /// The index of the last message the participant read, if reported.
    public var lastReadMessageIndex: Int?
    /// When it was read (ISO 8601), if reported.
    public var lastReadTimestamp: String?

    /// ``dateCreated`` parsed.
    public var createdAt: Date? { dateCreated.flatMap(ConversationsDate.parse) }
}

extension ConversationParticipant: Decodable {
    private enum CodingKeys: String, CodingKey {
        case sid, identity, attributes, url
        case accountSid = "account_sid"
        case conversationSid = "conversation_sid"
        case messagingBinding = "messaging_binding"
        case roleSid = "role_sid"
        case dateCreated = "date_created"
        case dateUpdated = "date_updated"
        case lastReadMessageIndex = "last_read_message_index"
        case lastReadTimestamp = "last_read_timestamp"
    }

    /// Decodes Twilio's JSON (snake_case keys).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sid = try container.decode(String.self, forKey: .sid)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        conversationSid = try container.decode(String.self, forKey: .conversationSid)
        identity = try container.decodeIfPresent(String.self, forKey: .identity)
        messagingBinding = try container.decodeIfPresent(ConversationMessagingBinding.self, forKey: .messagingBinding)
        attributes = try container.decodeIfPresent(String.self, forKey: .attributes) ?? "{}"
        roleSid = try container.decodeIfPresent(String.self, forKey: .roleSid)
        dateCreated = try container.decodeIfPresent(String.self, forKey: .dateCreated)
        dateUpdated = try container.decodeIfPresent(String.self, forKey: .dateUpdated)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        lastReadMessageIndex = try container.decodeIfPresent(Int.self, forKey: .lastReadMessageIndex)
        lastReadTimestamp = try container.decodeIfPresent(String.self, forKey: .lastReadTimestamp)
    }
}

/// A Conversation Message resource (`/v1/Conversations/{CH}/Messages/{IM}`).
public struct ConversationMessage: Sendable, Hashable {
    /// A media item attached to the message.
    public struct Media: Sendable, Hashable, Decodable {
        /// `ME…`.
        public var sid: String
        /// Bytes.
        public var size: Int?
        /// The MIME type.
        public var contentType: String?
        /// The file name.
        public var filename: String?

        /// A media item.
        public init(sid: String, size: Int? = nil, contentType: String? = nil, filename: String? = nil) {
            self.sid = sid
            self.size = size
            self.contentType = contentType
            self.filename = filename
        }

        private enum CodingKeys: String, CodingKey {
            case sid, size, filename
            case contentType = "content_type"
        }
    }

    /// The delivery summary over the conversation's SMS and WhatsApp participants: a count in ``total``,
    /// then `all`, `some` or `none` per status.
    public struct Delivery: Sendable, Hashable, Decodable {
        /// Receipts expected.
        public var total: Int?
        /// `all`, `some` or `none`.
        public var sent: String?
        /// `all`, `some` or `none`.
        public var delivered: String?
        /// `all`, `some` or `none`.
        public var read: String?
        /// `all`, `some` or `none`.
        public var failed: String?
        /// `all`, `some` or `none`.
        public var undelivered: String?
    }

    /// `IM…`.
    public var sid: String
    /// `AC…`.
    public var accountSid: String
    /// `CH…`.
    public var conversationSid: String
    /// The position in the conversation: 0, 1, 2, …
    public var index: Int
    /// The author: a chat identity, the customer's address, or `system`.
    public var author: String?
    /// The text.
    public var body: String?
    /// Media items, if any.
    public var media: [Media]
    /// `attributes`: a JSON document as a string.
    public var attributes: String
    /// `MB…`, the author's participant; `nil` for `system` and API authors that are not participants.
    public var participantSid: String?
    /// ISO 8601.
    public var dateCreated: String?
    /// ISO 8601.
    public var dateUpdated: String?
    /// The delivery summary, for messages sent to SMS or WhatsApp participants.
    public var delivery: Delivery?
    /// `HX…`, when sent from a content template.
    public var contentSid: String?
    /// The resource's absolute URL.
    public var url: String?
    /// Related resources' URLs (`delivery_receipts`, `channel_metadata`).
    public var links: [String: String]

    /// ``dateCreated`` parsed.
    public var createdAt: Date? { dateCreated.flatMap(ConversationsDate.parse) }
}

extension ConversationMessage: Decodable {
    private enum CodingKeys: String, CodingKey {
        case sid, index, author, body, media, attributes, delivery, url, links
        case accountSid = "account_sid"
        case conversationSid = "conversation_sid"
        case participantSid = "participant_sid"
        case dateCreated = "date_created"
        case dateUpdated = "date_updated"
        case contentSid = "content_sid"
    }

    /// Decodes Twilio's JSON (snake_case keys).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        sid = try container.decode(String.self, forKey: .sid)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        conversationSid = try container.decode(String.self, forKey: .conversationSid)
        index = try container.decode(Int.self, forKey: .index)
        author = try container.decodeIfPresent(String.self, forKey: .author)
        body = try container.decodeIfPresent(String.self, forKey: .body)
        media = try container.decodeIfPresent([Media].self, forKey: .media) ?? []
        attributes = try container.decodeIfPresent(String.self, forKey: .attributes) ?? "{}"
        participantSid = try container.decodeIfPresent(String.self, forKey: .participantSid)
        dateCreated = try container.decodeIfPresent(String.self, forKey: .dateCreated)
        dateUpdated = try container.decodeIfPresent(String.self, forKey: .dateUpdated)
        delivery = try container.decodeIfPresent(Delivery.self, forKey: .delivery)
        contentSid = try container.decodeIfPresent(String.self, forKey: .contentSid)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        links = try container.decodeIfPresent([String: String].self, forKey: .links) ?? [:]
    }
}

/// One conversation an address (or chat identity) takes part in, from `GET /v1/ParticipantConversations`:
/// how to find a contact's open thread by phone number.
public struct ParticipantConversation: Sendable, Hashable {
    /// `CH…`.
    public var conversationSid: String
    /// `MB…`: the address's participant in it.
    public var participantSid: String
    /// `AC…`.
    public var accountSid: String?
    /// `IS…`.
    public var chatServiceSid: String?
    /// The chat identity, for chat participants.
    public var participantIdentity: String?
    /// The binding, for SMS and WhatsApp participants.
    public var participantMessagingBinding: ConversationMessagingBinding?
    /// The conversation's state.
    public var conversationState: ConversationState?
    /// The conversation's unique name.
    public var conversationUniqueName: String?
    /// The conversation's friendly name.
    public var conversationFriendlyName: String?
    /// The conversation's attributes (a JSON string).
    public var conversationAttributes: String?
    /// ISO 8601.
    public var conversationDateCreated: String?
    /// ISO 8601.
    public var conversationDateUpdated: String?
    /// Related resources' URLs (`participant`, `conversation`).
    public var links: [String: String]
}

extension ParticipantConversation: Decodable {
    private enum CodingKeys: String, CodingKey {
        case links
        case conversationSid = "conversation_sid"
        case participantSid = "participant_sid"
        case accountSid = "account_sid"
        case chatServiceSid = "chat_service_sid"
        case participantIdentity = "participant_identity"
        case participantMessagingBinding = "participant_messaging_binding"
        case conversationState = "conversation_state"
        case conversationUniqueName = "conversation_unique_name"
        case conversationFriendlyName = "conversation_friendly_name"
        case conversationAttributes = "conversation_attributes"
        case conversationDateCreated = "conversation_date_created"
        case conversationDateUpdated = "conversation_date_updated"
    }

    /// Decodes Twilio's JSON (snake_case keys).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        conversationSid = try container.decode(String.self, forKey: .conversationSid)
        participantSid = try container.decode(String.self, forKey: .participantSid)
        accountSid = try container.decodeIfPresent(String.self, forKey: .accountSid)
        chatServiceSid = try container.decodeIfPresent(String.self, forKey: .chatServiceSid)
        participantIdentity = try container.decodeIfPresent(String.self, forKey: .participantIdentity)
        participantMessagingBinding = try container.decodeIfPresent(
            ConversationMessagingBinding.self, forKey: .participantMessagingBinding)
        conversationState = try container.decodeIfPresent(ConversationState.self, forKey: .conversationState)
        conversationUniqueName = try container.decodeIfPresent(String.self, forKey: .conversationUniqueName)
        conversationFriendlyName = try container.decodeIfPresent(String.self, forKey: .conversationFriendlyName)
        conversationAttributes = try container.decodeIfPresent(String.self, forKey: .conversationAttributes)
        conversationDateCreated = try container.decodeIfPresent(String.self, forKey: .conversationDateCreated)
        conversationDateUpdated = try container.decodeIfPresent(String.self, forKey: .conversationDateUpdated)
        links = try container.decodeIfPresent([String: String].self, forKey: .links) ?? [:]
    }
}

/// ISO 8601 dates as Conversations writes them: whole seconds in REST JSON (`2015-12-16T22:18:37Z`),
/// milliseconds in webhooks (`2026-08-11T13:03:28.879Z`).
enum ConversationsDate {
    static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle()) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }
}
