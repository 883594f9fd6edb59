//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import TwilioCore

/// A conversation as the stand-in holds it.
struct ConversationRecord {
    struct Participant {
        var sid: String
        var identity: String?
        var attributes: String
        var address: String?
        var proxyAddress: String?
        var roleSid: String?
        var created: Date
        var updated: Date
        var lastReadMessageIndex: Int?
    }

    struct Message {
        var message: TwilioStandIn.ConversationMessage
        var created: Date
        var updated: Date
        /// Participant SID → receipt status.
        var receipts: [String: String] = [:]
    }

    var sid: String
    var uniqueName: String?
    var friendlyName: String?
    var attributes: String
    var messagingServiceSid: String
    var state: String
    var inactiveTimer: String?
    var closedTimer: String?
    var created: Date
    var updated: Date
    var participants: [Participant] = []
    var messages: [Message] = []
    var nextIndex = 0
}

extension TwilioStandIn {
    private static let conversationStates: Set<String> = ["initializing", "inactive", "active", "closed"]

    /// The Conversations webhook (`PostWebhookUrl` and `Filters`), settable here or over
    /// `POST /v1/Configuration/Webhooks`.
    public var conversationsWebhook: ConversationsWebhook? {
        get { state.withLock { $0.conversationsWebhook } }
        set { state.withLock { $0.conversationsWebhook = newValue } }
    }

    /// The messages of a conversation (by SID or unique name), in index order; empty when there is none.
    public func conversationMessages(in conversation: String) -> [ConversationMessage] {
        state.withLock { state in
            state.conversations.first { $0.sid == conversation || $0.uniqueName == conversation }?.messages.map(\.message) ?? []
        }
    }

    /// The SIDs of every conversation, in creation order.
    public var conversationSids: [String] { state.withLock { $0.conversations.map(\.sid) } }

    /// Simulates a customer's SMS (or WhatsApp message) into a conversation: the message is added with the
    /// customer's address as its author and, as Twilio does for every SMS or WhatsApp participant's message,
    /// `onMessageAdded` is posted (signed, `Source=SMS` or `WHATSAPP`, `RetryCount=0`) before this returns.
    ///
    /// The conversation is `conversation` (a SID or unique name) when given, otherwise the active one where
    /// the pair (`address`, `proxyAddress`) is bound (any proxy when `proxyAddress` is `nil`). SMS opt-out
    /// keywords and the WhatsApp window are handled as for ``sendInbound(from:to:body:to:messagingServiceSid:profileName:mediaURLs:additionalFields:)``.
    ///
    /// - Returns: The message added.
    /// - Throws: ``TwilioStandInError/noConversation``, ``TwilioStandInError/notAParticipant`` or
    ///   ``TwilioStandInError/conversationClosed``.
    @discardableResult
    public func customerSends(
        from address: String, to proxyAddress: String? = nil, conversation: String? = nil, body: String, attributes: String = "{}"
    ) async throws -> ConversationMessage {
        let now = Date()
        let outcome: Result<(ConversationMessage, String), TwilioStandInError> = state.withLock { state in
            let index: Int?
            if let conversation {
                index = state.conversations.firstIndex { $0.sid == conversation || $0.uniqueName == conversation }
            } else {
                index = state.conversations.firstIndex { record in
                    record.state != "closed"
                        && record.participants.contains {
                            $0.address == address && (proxyAddress == nil || $0.proxyAddress == proxyAddress)
                        }
                }
            }
            guard let index else { return .failure(.noConversation) }
            guard state.conversations[index].state != "closed" else { return .failure(.conversationClosed) }
            guard
                let participant = state.conversations[index].participants.first(where: {
                    $0.address == address && (proxyAddress == nil || $0.proxyAddress == proxyAddress)
                })
            else { return .failure(.notAParticipant) }
            let record = state.conversations[index]
            let message = ConversationMessage(
                sid: TwilioSID.make("IM"), conversationSid: record.sid, index: record.nextIndex, author: address, body: body,
                attributes: attributes, participantSid: participant.sid, source: TwilioAddress.isWhatsApp(address) ? "WHATSAPP" : "SMS")
            state.conversations[index].nextIndex += 1
            state.conversations[index].messages.append(.init(message: message, created: now, updated: now))
            state.conversations[index].updated = now
            if TwilioAddress.isWhatsApp(address) {
                state.lastWhatsAppInbound[address] = now
            } else if let stop = Self.optOutKeyword(body) {
                if stop { state.optedOut.insert(address) } else { state.optedOut.remove(address) }
            }
            return .success((message, record.messagingServiceSid))
        }
        let (message, service) = try outcome.get()
        await fire("onMessageAdded", messageAddedFields(message, messagingServiceSid: service, date: now))
        return message
    }

    // MARK: - Routing

    /// `parts`: the path after `/v1`.
    func conversationsRoute(_ request: Incoming, _ parts: [String]) async -> Reply {
        if parts.count >= 2, parts[0] == "Services" {
            guard parts[1] == configuration.chatServiceSid else { return .notFound(request.path) }
            return await conversationsRoute(request, Array(parts.dropFirst(2)))
        }
        switch (request.method, parts.count) {
        case ("POST", 1) where parts[0] == "Conversations": return createConversation(request)
        case ("GET", 1) where parts[0] == "Conversations": return listConversations(request)
        case ("GET", 1) where parts[0] == "ParticipantConversations": return participantConversations(request)
        case (_, 2) where parts == ["Configuration", "Webhooks"]: return webhookConfiguration(request)
        case (_, 2) where parts[0] == "Conversations": return conversationResource(request, parts[1])
        case ("POST", 3) where parts[0] == "Conversations" && parts[2] == "Participants":
            return createParticipant(request, parts[1])
        case ("GET", 3) where parts[0] == "Conversations" && parts[2] == "Participants":
            return listParticipants(request, parts[1])
        case (_, 4) where parts[0] == "Conversations" && parts[2] == "Participants":
            return participantResource(request, parts[1], parts[3])
        case ("POST", 3) where parts[0] == "Conversations" && parts[2] == "Messages": return createConversationMessage(request, parts[1])
        case ("GET", 3) where parts[0] == "Conversations" && parts[2] == "Messages": return listConversationMessages(request, parts[1])
        case (_, 4) where parts[0] == "Conversations" && parts[2] == "Messages":
            return conversationMessageResource(request, parts[1], parts[3])
        default: return .notFound(request.path)
        }
    }

    private var v1: String { conversationsBaseURL }

    private func webhookEnabled(_ request: Incoming) -> Bool {
        request.header("X-Twilio-Webhook-Enabled")?.lowercased() == "true"
    }

    private static func conversationIndex(_ state: State, _ id: String) -> Int? {
        state.conversations.firstIndex { $0.sid == id || $0.uniqueName == id }
    }

    // MARK: - JSON

    private func conversationJSON(_ record: ConversationRecord) -> JSONValue {
        let url = "\(v1)/Conversations/\(record.sid)"
        var timers: [(String, JSONValue)] = []
        if let inactive = record.inactiveTimer { timers.append(("date_inactive", .string(inactive))) }
        if let closed = record.closedTimer { timers.append(("date_closed", .string(closed))) }
        return .object([
            ("account_sid", .string(accountSid)), ("chat_service_sid", .string(configuration.chatServiceSid)),
            ("messaging_service_sid", .string(record.messagingServiceSid)), ("sid", .string(record.sid)),
            ("friendly_name", .optional(record.friendlyName)), ("unique_name", .optional(record.uniqueName)),
            ("attributes", .string(record.attributes)), ("state", .string(record.state)),
            ("date_created", .string(TwilioDates.iso8601(record.created))), ("date_updated", .string(TwilioDates.iso8601(record.updated))),
            ("timers", .object(timers)), ("bindings", .null), ("url", .string(url)),
            (
                "links",
                .object([
                    ("participants", .string(url + "/Participants")), ("messages", .string(url + "/Messages")),
                    ("webhooks", .string(url + "/Webhooks")),
                ])
            ),
        ])
    }

    private func bindingType(_ address: String) -> String { TwilioAddress.isWhatsApp(address) ? "whatsapp" : "sms" }

    private func participantJSON(_ participant: ConversationRecord.Participant, conversation: String) -> JSONValue {
        var binding = JSONValue.null
        if let address = participant.address, let proxy = participant.proxyAddress {
            binding = .object([("type", .string(bindingType(address))), ("address", .string(address)), ("proxy_address", .string(proxy))])
        }
        return .object([
            ("account_sid", .string(accountSid)), ("conversation_sid", .string(conversation)), ("sid", .string(participant.sid)),
            ("identity", .optional(participant.identity)), ("attributes", .string(participant.attributes)),
            ("messaging_binding", binding), ("role_sid", .optional(participant.roleSid)),
            ("date_created", .string(TwilioDates.iso8601(participant.created))),
            ("date_updated", .string(TwilioDates.iso8601(participant.updated))),
            ("url", .string("\(v1)/Conversations/\(conversation)/Participants/\(participant.sid)")),
            ("last_read_message_index", .optional(participant.lastReadMessageIndex)), ("last_read_timestamp", .null),
        ])
    }

    private func messageJSON(_ record: ConversationRecord.Message) -> JSONValue {
        let message = record.message
        let url = "\(v1)/Conversations/\(message.conversationSid)/Messages/\(message.sid)"
        var delivery = JSONValue.null
        if !record.receipts.isEmpty {
            let total = record.receipts.count
            func share(_ status: String) -> JSONValue {
                let count = record.receipts.values.count { $0 == status }
                return .string(count == 0 ? "none" : count == total ? "all" : "some")
            }
            delivery = .object([
                ("total", .int(total)), ("sent", share("sent")), ("delivered", share("delivered")), ("read", share("read")),
                ("failed", share("failed")), ("undelivered", share("undelivered")),
            ])
        }
        return .object([
            ("account_sid", .string(accountSid)), ("conversation_sid", .string(message.conversationSid)), ("sid", .string(message.sid)),
            ("index", .int(message.index)), ("author", .string(message.author)), ("body", .optional(message.body)), ("media", .null),
            ("attributes", .string(message.attributes)), ("participant_sid", .optional(message.participantSid)),
            ("date_created", .string(TwilioDates.iso8601(record.created))), ("date_updated", .string(TwilioDates.iso8601(record.updated))),
            ("delivery", delivery), ("content_sid", .null), ("url", .string(url)),
            (
                "links",
                .object([("delivery_receipts", .string(url + "/Receipts")), ("channel_metadata", .string(url + "/ChannelMetadata"))])
            ),
        ])
    }

    /// A v1 list page: the items under `key` and `meta` with absolute URLs on this host; `PageToken`
    /// (`PT<offset>`) carries the position, `Page` is informative.
    private func page(
        _ request: Incoming, key: String, path: String, filters: [(String, String)], items: [JSONValue], maximumPageSize: Int
    ) -> Reply {
        let pageSize = min(maximumPageSize, max(1, request.queryValue("PageSize").flatMap { Int($0) } ?? 50))
        let page = max(0, request.queryValue("Page").flatMap { Int($0) } ?? 0)
        let token = request.queryValue("PageToken")
        let start = token.flatMap { $0.hasPrefix("PT") ? Int($0.dropFirst(2)) : nil } ?? page * pageSize
        let slice = Array(items.dropFirst(start).prefix(pageSize))
        let base = "\(v1)/\(path)?" + FormEncoding.encode(filters + [("PageSize", String(pageSize))])
        let next: JSONValue =
            start + slice.count < items.count ? .string("\(base)&Page=\(page + 1)&PageToken=PT\(start + slice.count)") : .null
        let previous: JSONValue =
            start > 0 && page > 0 ? .string("\(base)&Page=\(page - 1)&PageToken=PT\(max(0, start - pageSize))") : .null
        var current = "\(base)&Page=\(page)"
        if let token { current += "&PageToken=\(token)" }
        return .json(
            200,
            .object([
                (key, .array(slice)),
                (
                    "meta",
                    .object([
                        ("page", .int(page)), ("page_size", .int(pageSize)), ("first_page_url", .string("\(base)&Page=0")),
                        ("previous_page_url", previous), ("url", .string(current)), ("next_page_url", next), ("key", .string(key)),
                    ])
                ),
            ]))
    }

    // MARK: - Conversations

    private func createConversation(_ request: Incoming) -> Reply {
        let stateValue = request.value("State")
        if let stateValue, !Self.conversationStates.contains(stateValue) {
            return .error(400, 50380, "Invalid conversation state: \(stateValue)")
        }
        let inactive = request.value("Timers.Inactive")
        let closed = request.value("Timers.Closed")
        if (inactive != nil || closed != nil) && stateValue == nil {
            return .error(400, 50382, "Timers can only be set together with the conversation state")
        }
        let uniqueName = request.value("UniqueName").flatMap { $0.isEmpty ? nil : $0 }
        if let uniqueName, TwilioSID.isSID(uniqueName, prefix: "CH") {
            return .error(400, 50390, "Unique name can not be in the format of a Conversation SID")
        }
        let now = Date()
        let result: Result<ConversationRecord, Reply> = state.withLock { state in
            if let uniqueName, state.conversations.contains(where: { $0.uniqueName == uniqueName }) {
                return .failure(.error(409, 50353, "Conversation with provided unique name already exists"))
            }
            let record = ConversationRecord(
                sid: TwilioSID.make("CH"), uniqueName: uniqueName, friendlyName: request.value("FriendlyName"),
                attributes: request.value("Attributes") ?? "{}",
                messagingServiceSid: request.value("MessagingServiceSid") ?? configuration.conversationsMessagingServiceSid,
                state: stateValue ?? "active", inactiveTimer: inactive, closedTimer: closed, created: now, updated: now)
            state.conversations.append(record)
            return .success(record)
        }
        switch result {
        case .failure(let reply): return reply
        case .success(let record):
            if webhookEnabled(request) {
                let fields: [(String, String)] = [
                    ("AccountSid", accountSid), ("Attributes", record.attributes), ("ChatServiceSid", configuration.chatServiceSid),
                    ("ConversationSid", record.sid), ("DateCreated", TwilioDates.iso8601Milliseconds(now)),
                    ("EventType", "onConversationAdded"), ("FriendlyName", record.friendlyName ?? ""),
                    ("MessagingServiceSid", record.messagingServiceSid), ("RetryCount", "0"), ("Source", "API"), ("State", record.state),
                    ("UniqueName", record.uniqueName ?? ""),
                ]
                schedule { await self.fire("onConversationAdded", fields) }
            }
            return .json(201, conversationJSON(record))
        }
    }

    private func listConversations(_ request: Incoming) -> Reply {
        let filter = request.queryValue("State")
        let items = state.withLock { state in
            state.conversations.filter { filter == nil || $0.state == filter }.map(conversationJSON)
        }
        return page(
            request, key: "conversations", path: "Conversations", filters: filter.map { [("State", $0)] } ?? [], items: items,
            maximumPageSize: 100)
    }

    private func conversationResource(_ request: Incoming, _ id: String) -> Reply {
        let now = Date()
        let result: Result<(JSONValue?, (from: String, to: String)?), Reply> = state.withLock { state in
            guard let index = Self.conversationIndex(state, id) else { return .failure(.notFound(request.path)) }
            switch request.method {
            case "GET": return .success((conversationJSON(state.conversations[index]), nil))
            case "DELETE":
                state.conversations.remove(at: index)
                return .success((nil, nil))
            case "POST":
                var record = state.conversations[index]
                guard record.state != "closed" else {
                    return .failure(.error(400, 50377, "Conversation is closed: a closed conversation cannot be updated"))
                }
                if let value = request.value("State") {
                    guard Self.conversationStates.contains(value) else {
                        return .failure(.error(400, 50380, "Invalid conversation state: \(value)"))
                    }
                }
                if let uniqueName = request.value("UniqueName"), uniqueName != record.uniqueName {
                    if TwilioSID.isSID(uniqueName, prefix: "CH") {
                        return .failure(.error(400, 50390, "Unique name can not be in the format of a Conversation SID"))
                    }
                    if state.conversations.contains(where: { $0.uniqueName == uniqueName }) {
                        return .failure(.error(409, 50353, "Conversation with provided unique name already exists"))
                    }
                    record.uniqueName = uniqueName.isEmpty ? nil : uniqueName
                }
                var change: (String, String)?
                if let value = request.value("State"), value != record.state {
                    change = (record.state, value)
                    record.state = value
                }
                if let value = request.value("FriendlyName") { record.friendlyName = value }
                if let value = request.value("Attributes") { record.attributes = value }
                if let value = request.value("MessagingServiceSid") { record.messagingServiceSid = value }
                if let value = request.value("Timers.Inactive") { record.inactiveTimer = value }
                if let value = request.value("Timers.Closed") { record.closedTimer = value }
                record.updated = now
                state.conversations[index] = record
                return .success((conversationJSON(record), change.map { (from: $0.0, to: $0.1) }))
            default: return .failure(Self.methodNotAllowed(request.method))
            }
        }
        switch result {
        case .failure(let reply): return reply
        case .success((nil, _)): return .noContent
        case .success((let json?, let change)):
            if let change, webhookEnabled(request), case .object(let members) = json,
                case .string(let sid)? = members.first(where: { $0.0 == "sid" })?.1,
                case .string(let service)? = members.first(where: { $0.0 == "messaging_service_sid" })?.1
            {
                let fields: [(String, String)] = [
                    ("AccountSid", accountSid), ("ChatServiceSid", configuration.chatServiceSid), ("ConversationSid", sid),
                    ("EventType", "onConversationStateUpdated"), ("MessagingServiceSid", service), ("Reason", "API"), ("RetryCount", "0"),
                    ("Source", "API"),
                    ("StateFrom", change.from), ("StateTo", change.to), ("StateUpdated", TwilioDates.iso8601Milliseconds(now)),
                ]
                schedule { await self.fire("onConversationStateUpdated", fields) }
            }
            return .json(200, json)
        }
    }

    // MARK: - Participants

    private func createParticipant(_ request: Incoming, _ id: String) -> Reply {
        let identity = request.value("Identity").flatMap { $0.isEmpty ? nil : $0 }
        let address = request.value("MessagingBinding.Address").flatMap { $0.isEmpty ? nil : $0 }
        let proxy = request.value("MessagingBinding.ProxyAddress").flatMap { $0.isEmpty ? nil : $0 }
        if identity != nil && address != nil {
            return .error(400, 50201, "A participant can have either an identity or a messaging binding, not both")
        }
        if identity == nil && address == nil { return .error(400, 50201, "Identity or MessagingBinding.Address is required") }
        if let address {
            guard TwilioAddress.isMessagingAddress(address) else { return .error(400, 50407, "Invalid messaging binding address") }
            guard let proxy else { return .error(400, 50412, "Messaging binding proxy address is required") }
            guard address != proxy else { return .error(400, 50409, "Messaging binding address and proxy address are the same") }
        }
        let now = Date()
        let result: Result<(ConversationRecord.Participant, String), Reply> = state.withLock { state in
            guard let index = Self.conversationIndex(state, id) else { return .failure(.notFound(request.path)) }
            let record = state.conversations[index]
            guard record.state != "closed" else {
                return .failure(.error(400, 50377, "Conversation is closed: participants cannot be added"))
            }
            if let identity, record.participants.contains(where: { $0.identity == identity }) {
                return .failure(.error(409, 50433, "Participant already exists"))
            }
            if let address {
                if record.participants.contains(where: { $0.address == address && $0.proxyAddress == proxy }) {
                    return .failure(
                        .error(409, 50437, "Participant with provided address and proxy address already exists in this conversation"))
                }
                if let other = state.conversations.first(where: { other in
                    other.sid != record.sid && other.state != "closed"
                        && other.participants.contains { $0.address == address && $0.proxyAddress == proxy }
                }) {
                    return .failure(
                        .error(409, 50416, "A binding for this participant and proxy address already exists in Conversation \(other.sid)"))
                }
                let nonChat = record.participants.count { $0.address != nil }
                if nonChat >= 50 { return .failure(.error(400, 50418, "Maximum number of non-chat participants reached")) }
            }
            let participant = ConversationRecord.Participant(
                sid: TwilioSID.make("MB"), identity: identity, attributes: request.value("Attributes") ?? "{}", address: address,
                proxyAddress: proxy, roleSid: request.value("RoleSid"), created: now, updated: now)
            state.conversations[index].participants.append(participant)
            state.conversations[index].updated = now
            return .success((participant, record.sid))
        }
        switch result {
        case .failure(let reply): return reply
        case .success((let participant, let conversation)):
            if webhookEnabled(request) {
                var fields: [(String, String)] = [
                    ("AccountSid", accountSid), ("Attributes", participant.attributes), ("ChatServiceSid", configuration.chatServiceSid),
                    ("ConversationSid", conversation), ("DateCreated", TwilioDates.iso8601Milliseconds(now)),
                    ("EventType", "onParticipantAdded"),
                ]
                if let identity { fields.append(("Identity", identity)) }
                if let address, let proxy {
                    fields += [
                        ("MessagingBinding.Address", address), ("MessagingBinding.ProxyAddress", proxy),
                        ("MessagingBinding.Type", bindingType(address).uppercased()),
                    ]
                }
                fields += [("ParticipantSid", participant.sid), ("RetryCount", "0"), ("Source", "API")]
                let event = fields
                schedule { await self.fire("onParticipantAdded", event) }
            }
            return .json(201, participantJSON(participant, conversation: conversation))
        }
    }

    private func listParticipants(_ request: Incoming, _ id: String) -> Reply {
        let found: (String, [JSONValue])? = state.withLock { state in
            guard let index = Self.conversationIndex(state, id) else { return nil }
            let record = state.conversations[index]
            return (record.sid, record.participants.map { participantJSON($0, conversation: record.sid) })
        }
        guard let (sid, items) = found else { return .notFound(request.path) }
        return page(
            request, key: "participants", path: "Conversations/\(sid)/Participants", filters: [], items: items, maximumPageSize: 100)
    }

    private func participantResource(_ request: Incoming, _ id: String, _ participantID: String) -> Reply {
        let now = Date()
        return state.withLock { state in
            guard let index = Self.conversationIndex(state, id),
                let position = state.conversations[index].participants.firstIndex(where: {
                    $0.sid == participantID || ($0.identity != nil && $0.identity == participantID)
                })
            else { return .notFound(request.path) }
            let sid = state.conversations[index].sid
            switch request.method {
            case "GET": return .json(200, participantJSON(state.conversations[index].participants[position], conversation: sid))
            case "DELETE":
                state.conversations[index].participants.remove(at: position)
                return .noContent
            case "POST":
                var participant = state.conversations[index].participants[position]
                if let value = request.value("Attributes") { participant.attributes = value }
                if let value = request.value("RoleSid") { participant.roleSid = value }
                if let value = request.value("LastReadMessageIndex") { participant.lastReadMessageIndex = Int(value) }
                participant.updated = now
                state.conversations[index].participants[position] = participant
                return .json(200, participantJSON(participant, conversation: sid))
            default: return Self.methodNotAllowed(request.method)
            }
        }
    }

    private func participantConversations(_ request: Incoming) -> Reply {
        let address = request.queryValue("Address")
        let identity = request.queryValue("Identity")
        guard address != nil || identity != nil else { return .error(400, 50200, "Either Address or Identity is required") }
        let items: [JSONValue] = state.withLock { state in
            state.conversations.flatMap { record in
                record.participants.filter { participant in
                    (address != nil && participant.address == address) || (identity != nil && participant.identity == identity)
                }.map { participant in
                    var binding = JSONValue.null
                    if let address = participant.address, let proxy = participant.proxyAddress {
                        binding = .object([
                            ("address", .string(address)), ("proxy_address", .string(proxy)), ("type", .string(bindingType(address))),
                        ])
                    }
                    let conversationURL = "\(v1)/Conversations/\(record.sid)"
                    return .object([
                        ("account_sid", .string(accountSid)), ("chat_service_sid", .string(configuration.chatServiceSid)),
                        ("participant_sid", .string(participant.sid)), ("participant_user_sid", .null),
                        ("participant_identity", .optional(participant.identity)), ("participant_messaging_binding", binding),
                        ("conversation_sid", .string(record.sid)), ("conversation_unique_name", .optional(record.uniqueName)),
                        ("conversation_friendly_name", .optional(record.friendlyName)),
                        ("conversation_attributes", .string(record.attributes)),
                        ("conversation_date_created", .string(TwilioDates.iso8601(record.created))),
                        ("conversation_date_updated", .string(TwilioDates.iso8601(record.updated))),
                        ("conversation_created_by", .string("system")), ("conversation_state", .string(record.state)),
                        ("conversation_timers", .object([])),
                        (
                            "links",
                            .object([
                                ("participant", .string(conversationURL + "/Participants/\(participant.sid)")),
                                ("conversation", .string(conversationURL)),
                            ])
                        ),
                    ])
                }
            }
        }
        var filters: [(String, String)] = []
        if let address { filters.append(("Address", address)) }
        if let identity { filters.append(("Identity", identity)) }
        return page(request, key: "conversations", path: "ParticipantConversations", filters: filters, items: items, maximumPageSize: 50)
    }

    // MARK: - Messages

    private func createConversationMessage(_ request: Incoming, _ id: String) -> Reply {
        let body = request.value("Body")
        if let body, body.count > 1600 { return .error(400, 50511, "Message body is too long") }
        let author = request.value("Author").flatMap { $0.isEmpty ? nil : $0 } ?? "system"
        let now = Date()
        typealias Created = (ConversationRecord.Message, String, [ConversationRecord.Participant])
        let result: Result<Created, Reply> = state.withLock { state in
            guard let index = Self.conversationIndex(state, id) else { return .failure(.notFound(request.path)) }
            let record = state.conversations[index]
            guard record.state != "closed" else {
                return .failure(.error(400, 50377, "Conversation is closed: messages cannot be added"))
            }
            let authorParticipant = record.participants.first { $0.identity == author || $0.address == author }
            let message = ConversationMessage(
                sid: TwilioSID.make("IM"), conversationSid: record.sid, index: record.nextIndex, author: author, body: body,
                attributes: request.value("Attributes") ?? "{}", participantSid: authorParticipant?.sid, source: "API")
            let recipients = record.participants.filter { $0.address != nil && $0.sid != authorParticipant?.sid }
            var stored = ConversationRecord.Message(message: message, created: now, updated: now)
            for recipient in recipients { stored.receipts[recipient.sid] = "queued" }
            state.conversations[index].messages.append(stored)
            state.conversations[index].nextIndex += 1
            state.conversations[index].updated = now
            return .success((stored, record.messagingServiceSid, recipients))
        }
        switch result {
        case .failure(let reply): return reply
        case .success((let stored, let service, let recipients)):
            let fields = messageAddedFields(stored.message, messagingServiceSid: service, date: now)
            let enabled = webhookEnabled(request)
            schedule {
                if enabled { await self.fire("onMessageAdded", fields) }
                await withTaskGroup(of: Void.self) { group in
                    for recipient in recipients {
                        group.addTask { await self.deliver(stored.message, to: recipient) }
                    }
                }
            }
            return .json(201, messageJSON(stored))
        }
    }

    private func listConversationMessages(_ request: Incoming, _ id: String) -> Reply {
        let descending = request.queryValue("Order")?.lowercased() == "desc"
        let found: (String, [JSONValue])? = state.withLock { state in
            guard let index = Self.conversationIndex(state, id) else { return nil }
            let record = state.conversations[index]
            let ordered = descending ? Array(record.messages.reversed()) : record.messages
            return (record.sid, ordered.map(messageJSON))
        }
        guard let (sid, items) = found else { return .notFound(request.path) }
        let filters = request.queryValue("Order").map { [("Order", $0)] } ?? []
        return page(request, key: "messages", path: "Conversations/\(sid)/Messages", filters: filters, items: items, maximumPageSize: 100)
    }

    private func conversationMessageResource(_ request: Incoming, _ id: String, _ messageID: String) -> Reply {
        let now = Date()
        return state.withLock { state in
            guard let index = Self.conversationIndex(state, id),
                let position = state.conversations[index].messages.firstIndex(where: {
                    $0.message.sid == messageID || String($0.message.index) == messageID
                })
            else { return .notFound(request.path) }
            switch request.method {
            case "GET": return .json(200, messageJSON(state.conversations[index].messages[position]))
            case "DELETE":
                state.conversations[index].messages.remove(at: position)
                return .noContent
            case "POST":
                var stored = state.conversations[index].messages[position]
                if let value = request.value("Body") { stored.message.body = value }
                if let value = request.value("Author") { stored.message.author = value }
                if let value = request.value("Attributes") { stored.message.attributes = value }
                stored.updated = now
                state.conversations[index].messages[position] = stored
                return .json(200, messageJSON(stored))
            default: return Self.methodNotAllowed(request.method)
            }
        }
    }

    // MARK: - Webhook configuration

    private func webhookConfiguration(_ request: Incoming) -> Reply {
        let webhook: ConversationsWebhook? = state.withLock { state in
            if request.method == "POST" {
                let url = request.value("PostWebhookUrl") ?? state.conversationsWebhook?.url
                let filters = request.has("Filters") ? Set(request.values("Filters")) : state.conversationsWebhook?.filters
                state.conversationsWebhook = url.map { ConversationsWebhook(url: $0, filters: filters ?? []) }
            }
            return state.conversationsWebhook
        }
        guard request.method == "GET" || request.method == "POST" else { return Self.methodNotAllowed(request.method) }
        return .json(
            200,
            .object([
                ("account_sid", .string(accountSid)), ("pre_webhook_url", .null), ("post_webhook_url", .optional(webhook?.url)),
                ("method", .string("POST")), ("filters", .array((webhook?.filters ?? []).sorted().map { .string($0) })),
                ("target", .string("webhook")), ("url", .string("\(v1)/Configuration/Webhooks")),
            ]))
    }

    // MARK: - Events and deliveries

    private func messageAddedFields(_ message: ConversationMessage, messagingServiceSid: String, date: Date) -> [(String, String)] {
        var fields: [(String, String)] = [
            ("AccountSid", accountSid), ("Attributes", message.attributes), ("Author", message.author), ("Body", message.body ?? ""),
            ("ChatServiceSid", configuration.chatServiceSid), ("ConversationSid", message.conversationSid),
            ("DateCreated", TwilioDates.iso8601Milliseconds(date)), ("EventType", "onMessageAdded"), ("Index", String(message.index)),
            ("MessageSid", message.sid), ("MessagingServiceSid", messagingServiceSid),
        ]
        if let participant = message.participantSid { fields.append(("ParticipantSid", participant)) }
        fields += [("RetryCount", "0"), ("Source", message.source)]
        return fields
    }

    /// Posts an event to the Conversations webhook when it is configured and its filters include `event`.
    @discardableResult
    func fire(_ event: String, _ fields: [(String, String)]) async -> WebhookAttempt? {
        guard let webhook = state.withLock({ $0.conversationsWebhook }), webhook.filters.contains(event) else { return nil }
        return await post(.conversationsEvent(event), to: webhook.url, parameters: fields)
    }

    /// Twilio's side of sending a conversation message to one SMS or WhatsApp participant: `sent`, then
    /// `delivered` (or `undelivered`), or at once `failed` with 21610 (opted out) or 63016 (WhatsApp window
    /// closed); each step is recorded and posted as `onDeliveryUpdated`.
    private func deliver(_ message: ConversationMessage, to participant: ConversationRecord.Participant) async {
        guard let address = participant.address, let proxy = participant.proxyAddress else { return }
        let (options, optedOut, windowOpen, failure) = state.withLock { state in
            (
                state.callbacks, state.optedOut.contains(address), Self.windowOpen(state.lastWhatsAppInbound[address]),
                state.failingRecipients[address]
            )
        }
        let clock = ContinuousClock()
        let start = clock.now
        var steps: [(Duration, String, Int?)]
        if optedOut {
            steps = [(options.sentDelay, "failed", 21610)]
        } else if TwilioAddress.isWhatsApp(address) && !windowOpen {
            steps = [(options.sentDelay, "failed", 63016)]
        } else {
            steps = [
                (options.sentDelay, "sent", nil),
                (max(options.sentDelay, options.deliveredDelay), failure == nil ? "delivered" : "undelivered", failure),
            ]
        }
        let channelSid = TwilioSID.make("SM")
        let receiptSid = TwilioSID.make("DY")
        let created = Date()
        for (delay, status, errorCode) in steps {
            try? await clock.sleep(until: start + delay)
            let delivery = ConversationDelivery(
                messageSid: message.sid, conversationSid: message.conversationSid, participantSid: participant.sid, address: address,
                proxyAddress: proxy, channelMessageSid: channelSid, receiptSid: receiptSid, status: status, errorCode: errorCode,
                body: message.body)
            state.withLock { state in
                state.deliveries.append(delivery)
                if let index = state.conversations.firstIndex(where: { $0.sid == message.conversationSid }),
                    let position = state.conversations[index].messages.firstIndex(where: { $0.message.sid == message.sid })
                {
                    state.conversations[index].messages[position].receipts[participant.sid] = status
                }
            }
            var fields: [(String, String)] = [
                ("AccountSid", accountSid), ("ChannelMessageSid", channelSid), ("ChatServiceSid", configuration.chatServiceSid),
                ("ConversationSid", message.conversationSid), ("DateCreated", TwilioDates.iso8601Milliseconds(created)),
                ("DateUpdated", TwilioDates.iso8601Milliseconds(Date())), ("DeliveryReceiptSid", receiptSid),
            ]
            if let errorCode { fields.append(("ErrorCode", String(errorCode))) }
            fields += [
                ("EventType", "onDeliveryUpdated"), ("MessageSid", message.sid), ("ParticipantSid", participant.sid), ("RetryCount", "0"),
                ("Status", status),
            ]
            for _ in 0..<options.deliveries { await fire("onDeliveryUpdated", fields) }
        }
    }
}
