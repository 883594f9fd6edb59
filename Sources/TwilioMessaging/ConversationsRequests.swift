//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A new conversation (`POST /v1/Conversations`); every field is optional.
public struct CreateConversation: Sendable, Hashable {
    /// `FriendlyName` (up to 256 characters).
    public var friendlyName: String?
    /// `UniqueName`: a name usable in place of the sid in paths; 50353 when another conversation has it.
    public var uniqueName: String?
    /// `MessagingServiceSid` (`MG…`); the account's default when absent.
    public var messagingServiceSid: String?
    /// `Attributes`: a JSON document as a string (up to 16 KB).
    public var attributes: String?
    /// `State`; `active` when absent. Twilio requires it when a timer is set (50382).
    public var state: ConversationState?
    /// `Timers.Inactive`: an ISO 8601 duration (`PT5M`), at least one minute.
    public var inactiveTimer: String?
    /// `Timers.Closed`: an ISO 8601 duration (`P30D`), at least ten minutes.
    public var closedTimer: String?

    /// A new conversation.
    public init(
        friendlyName: String? = nil, uniqueName: String? = nil, messagingServiceSid: String? = nil, attributes: String? = nil,
        state: ConversationState? = nil, inactiveTimer: String? = nil, closedTimer: String? = nil
    ) {
        self.friendlyName = friendlyName
        self.uniqueName = uniqueName
        self.messagingServiceSid = messagingServiceSid
        self.attributes = attributes
        self.state = state
        self.inactiveTimer = inactiveTimer
        self.closedTimer = closedTimer
    }

    /// The form fields, in Twilio's names and in the order its Python SDK sends them.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = []
        if let friendlyName { fields.append(("FriendlyName", friendlyName)) }
        if let uniqueName { fields.append(("UniqueName", uniqueName)) }
        if let messagingServiceSid { fields.append(("MessagingServiceSid", messagingServiceSid)) }
        if let attributes { fields.append(("Attributes", attributes)) }
        if let state { fields.append(("State", state.rawValue)) }
        if let inactiveTimer { fields.append(("Timers.Inactive", inactiveTimer)) }
        if let closedTimer { fields.append(("Timers.Closed", closedTimer)) }
        return fields
    }
}

/// Changes to a conversation (`POST /v1/Conversations/{Sid}`); fields left `nil` are unchanged.
public struct UpdateConversation: Sendable, Hashable {
    /// `FriendlyName`.
    public var friendlyName: String?
    /// `Attributes`: a JSON document as a string; replaces the whole document.
    public var attributes: String?
    /// `State`: `inactive`, `active`, or `closed` (final: frees the participants' address pairs).
    public var state: ConversationState?
    /// `Timers.Inactive` (ISO 8601 duration).
    public var inactiveTimer: String?
    /// `Timers.Closed` (ISO 8601 duration).
    public var closedTimer: String?
    /// `UniqueName`.
    public var uniqueName: String?

    /// Changes; every field optional.
    public init(
        friendlyName: String? = nil, attributes: String? = nil, state: ConversationState? = nil, inactiveTimer: String? = nil,
        closedTimer: String? = nil, uniqueName: String? = nil
    ) {
        self.friendlyName = friendlyName
        self.attributes = attributes
        self.state = state
        self.inactiveTimer = inactiveTimer
        self.closedTimer = closedTimer
        self.uniqueName = uniqueName
    }

    /// Closes the conversation.
    public static let close = UpdateConversation(state: .closed)

    /// The form fields, in Twilio's names and in the order its Python SDK sends them.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = []
        if let friendlyName { fields.append(("FriendlyName", friendlyName)) }
        if let attributes { fields.append(("Attributes", attributes)) }
        if let state { fields.append(("State", state.rawValue)) }
        if let inactiveTimer { fields.append(("Timers.Inactive", inactiveTimer)) }
        if let closedTimer { fields.append(("Timers.Closed", closedTimer)) }
        if let uniqueName { fields.append(("UniqueName", uniqueName)) }
        return fields
    }
}

/// A participant to add (`POST /v1/Conversations/{CH}/Participants`): an SMS or WhatsApp contact bound to
/// one of your numbers, or a chat user. The kinds are exclusive.
public struct AddParticipant: Sendable, Hashable {
    /// Who the participant is.
    public enum Kind: Sendable, Hashable {
        /// SMS or WhatsApp: `MessagingBinding.Address` (the customer, `+1…` or `whatsapp:+1…`) and
        /// `MessagingBinding.ProxyAddress` (your number, `whatsapp:`-prefixed for WhatsApp). One pair belongs
        /// to one active conversation at a time (50416 otherwise).
        case messaging(address: String, proxyAddress: String)
        /// Group MMS: `MessagingBinding.Address` and `MessagingBinding.ProjectedAddress`, no proxy.
        case groupMessaging(address: String, projectedAddress: String)
        /// Chat: `Identity`.
        case chat(identity: String)
    }

    /// Who the participant is.
    public var kind: Kind
    /// `Attributes`: a JSON document as a string (up to 4 KB).
    public var attributes: String?
    /// `RoleSid` (`RL…`).
    public var roleSid: String?

    /// A participant.
    public init(_ kind: Kind, attributes: String? = nil, roleSid: String? = nil) {
        self.kind = kind
        self.attributes = attributes
        self.roleSid = roleSid
    }

    /// An SMS participant: the customer's E.164 number and your Twilio number.
    public static func sms(address: String, proxyAddress: String) -> AddParticipant {
        AddParticipant(.messaging(address: address, proxyAddress: proxyAddress))
    }

    /// A WhatsApp participant from E.164 numbers: the `whatsapp:` prefix is added to both when missing.
    public static func whatsApp(address: String, proxyAddress: String) -> AddParticipant {
        func prefixed(_ number: String) -> String { number.hasPrefix("whatsapp:") ? number : "whatsapp:" + number }
        return AddParticipant(.messaging(address: prefixed(address), proxyAddress: prefixed(proxyAddress)))
    }

    /// A chat participant.
    public static func chat(identity: String) -> AddParticipant { AddParticipant(.chat(identity: identity)) }

    /// The form fields, in Twilio's names and in the order its Python SDK sends them.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = []
        switch kind {
        case .chat(let identity):
            fields.append(("Identity", identity))
        case .messaging(let address, let proxyAddress):
            fields.append(("MessagingBinding.Address", address))
            fields.append(("MessagingBinding.ProxyAddress", proxyAddress))
        case .groupMessaging(let address, _):
            fields.append(("MessagingBinding.Address", address))
        }
        if let attributes { fields.append(("Attributes", attributes)) }
        if case .groupMessaging(_, let projectedAddress) = kind {
            fields.append(("MessagingBinding.ProjectedAddress", projectedAddress))
        }
        if let roleSid { fields.append(("RoleSid", roleSid)) }
        return fields
    }
}

/// A message to post in a conversation (`POST /v1/Conversations/{CH}/Messages`). Twilio delivers it to the
/// SMS and WhatsApp participants through their bindings.
public struct CreateConversationMessage: Sendable, Hashable {
    /// `Author`: who it is from (`system` when absent). Use the agent's own name, so that its own
    /// `onMessageAdded` can be recognised (``ConversationsMessageAdded/isEcho(agentAuthor:)``).
    public var author: String?
    /// `Body` (up to 1600 characters for SMS and WhatsApp).
    public var body: String?
    /// `Attributes`: a JSON document as a string (up to 4 KB), for example a library id to reconcile an
    /// ambiguous send.
    public var attributes: String?
    /// `MediaSid` (`ME…`).
    public var mediaSid: String?
    /// `ContentSid` (`HX…`): an approved template, which overrides the body (WhatsApp outside the 24-hour window).
    public var contentSid: String?
    /// `ContentVariables`: the template's variables as a JSON string.
    public var contentVariables: String?

    /// A message.
    public init(
        author: String? = nil, body: String? = nil, attributes: String? = nil, mediaSid: String? = nil, contentSid: String? = nil,
        contentVariables: String? = nil
    ) {
        self.author = author
        self.body = body
        self.attributes = attributes
        self.mediaSid = mediaSid
        self.contentSid = contentSid
        self.contentVariables = contentVariables
    }

    /// The form fields, in Twilio's names and in the order its Python SDK sends them.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = []
        if let author { fields.append(("Author", author)) }
        if let body { fields.append(("Body", body)) }
        if let attributes { fields.append(("Attributes", attributes)) }
        if let mediaSid { fields.append(("MediaSid", mediaSid)) }
        if let contentSid { fields.append(("ContentSid", contentSid)) }
        if let contentVariables { fields.append(("ContentVariables", contentVariables)) }
        return fields
    }
}

/// The order of a message list (`Order`): Twilio's default is ascending (oldest first).
public enum ConversationMessageOrder: String, Sendable, Hashable {
    /// `asc`: oldest first.
    case ascending = "asc"
    /// `desc`: newest first.
    case descending = "desc"
}
