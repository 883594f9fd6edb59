//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import TwilioCore
import TwilioTestSupport

/// A stand-in for Twilio's Conversations v1 API (`/v1/Conversations…`, `/v1/ParticipantConversations`) in
/// Twilio's formats: Basic auth (20003), form-encoded creates answered 201, updates 200, deletes 204 with an
/// empty body; snake_case JSON with `attributes` as a JSON string; a unique name usable in place of the sid
/// (50353 when taken); the number-pair rule (50416 when the pair is bound to another active conversation,
/// 50437 when already in this one, 50433 for a chat identity, 50407 for an address that is not E.164);
/// closed conversations final (50377) and freeing their pairs; lists with `meta` and absolute
/// `next_page_url` built from the request's `Host`; 429s with `Retry-After`, 503s and raw replies on demand.
final class ConversationsAPIStandIn: Sendable {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "test-token"
    static let date = "2026-08-11T13:03:28Z"

    struct Participant {
        var sid: String
        var identity: String?
        var address: String?
        var proxyAddress: String?
        var attributes: String
    }

    struct Conversation {
        var sid: String
        var uniqueName: String?
        var friendlyName: String?
        var attributes: String
        var state: String
        var participants: [Participant] = []
        var messages: [[String: Any]] = []
    }

    struct State {
        var conversations: [Conversation] = []
        var counter = 0
        /// The next POSTs answered 429 with this `Retry-After` (or none).
        var throttled: [String?] = []
        /// The next requests answered 503.
        var serverErrors = 0
        /// The next requests answered with these raw replies.
        var raw: [LoopbackHTTPServer.Reply] = []
    }

    final class Store: Sendable {
        let state = Mutex(State())
    }

    let store: Store
    let server: LoopbackHTTPServer

    init() async throws {
        let store = Store()
        self.store = store
        server = try await LoopbackHTTPServer { request, _ in Self.handle(request, store) }
    }

    func shutdown() async throws { try await server.shutdown() }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    static func json(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func error(_ code: Int, _ message: String, status: Int, headers: [(String, String)] = []) -> LoopbackHTTPServer.Reply {
        .init(
            status: status, headers: [("Content-Type", "application/json")] + headers,
            body: json([
                "code": code, "message": message, "more_info": "https://www.twilio.com/docs/errors/\(code)", "status": status,
            ]))
    }

    private static func sid(_ prefix: String, _ state: inout State) -> String {
        state.counter += 1
        let hex = String(state.counter, radix: 16)
        return prefix + String(repeating: "0", count: 32 - hex.count) + hex
    }

    private static func isE164(_ value: String) -> Bool {
        let number = value.hasPrefix("whatsapp:") ? String(value.dropFirst("whatsapp:".count)) : value
        guard number.hasPrefix("+"), (3...16).contains(number.count) else { return false }
        return number.dropFirst().allSatisfy { $0.isASCII && $0.isNumber }
    }

    private static func handle(_ request: LoopbackHTTPServer.Request, _ store: Store) -> LoopbackHTTPServer.Reply {
        guard request.header("Authorization") == basic(accountSid, authToken) else { return error(20003, "Authenticate", status: 401) }
        let origin = "http://" + (request.header("Host") ?? "127.0.0.1")
        let form = FormEncoding.decode(request.body) ?? []
        let query = FormEncoding.decode(Array((request.query ?? "").utf8)) ?? []
        func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        func parameter(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        return store.state.withLock { state in
            if !state.raw.isEmpty { return state.raw.removeFirst() }
            if state.serverErrors > 0 {
                state.serverErrors -= 1
                return .init(status: 503, headers: [("Content-Type", "text/html")], body: "<html>Service Unavailable</html>")
            }
            if request.method == "POST", !state.throttled.isEmpty {
                let retryAfter = state.throttled.removeFirst()
                return error(20429, "Too Many Requests", status: 429, headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
            }
            let segments = request.path.split(separator: "/", omittingEmptySubsequences: true).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            switch (request.method, segments.count) {
            case ("GET", 2) where segments == ["v1", "ParticipantConversations"]:
                let address = parameter("Address") ?? ""
                let items: [[String: Any]] = state.conversations.compactMap { conversation in
                    guard let participant = conversation.participants.first(where: { $0.address == address }) else { return nil }
                    return [
                        "account_sid": accountSid, "conversation_sid": conversation.sid, "participant_sid": participant.sid,
                        "conversation_state": conversation.state, "conversation_unique_name": conversation.uniqueName ?? NSNull(),
                        "participant_messaging_binding": binding(participant), "links": [:] as [String: String],
                    ]
                }
                return page(items, key: "conversations", origin: origin, path: request.path, query: query)
            case ("POST", 2) where segments == ["v1", "Conversations"]:
                if let unique = value("UniqueName"), state.conversations.contains(where: { $0.uniqueName == unique }) {
                    return error(50353, "Conversation with provided unique name already exists", status: 409)
                }
                let conversation = Conversation(
                    sid: sid("CH", &state), uniqueName: value("UniqueName"), friendlyName: value("FriendlyName"),
                    attributes: value("Attributes") ?? "{}", state: value("State") ?? "active")
                state.conversations.append(conversation)
                return .init(status: 201, body: json(resource(conversation, origin)))
            case (_, 2...) where segments[0] == "v1" && segments[1] == "Conversations":
                guard let index = state.conversations.firstIndex(where: { $0.sid == segments[2] || $0.uniqueName == segments[2] }) else {
                    return error(20404, "The requested resource \(request.path) was not found", status: 404)
                }
                return conversationResource(request, segments, index, &state, form: form, query: query, origin: origin)
            default:
                return error(20404, "The requested resource \(request.path) was not found", status: 404)
            }
        }
    }

    private static func conversationResource(
        _ request: LoopbackHTTPServer.Request, _ segments: [String], _ index: Int, _ state: inout State, form: [(String, String)],
        query: [(String, String)], origin: String
    ) -> LoopbackHTTPServer.Reply {
        func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        if request.method == "DELETE", segments.count == 3 {
            state.conversations.remove(at: index)
            return .init(status: 204, headers: [], body: "")
        }
        var conversation = state.conversations[index]
        defer { state.conversations[index] = conversation }
        switch (request.method, segments.dropFirst(3).first, segments.count) {
        case ("GET", nil, _):
            return .init(status: 200, body: json(resource(conversation, origin)))
        case ("POST", nil, _):
            guard conversation.state != "closed" else { return error(50377, "Conversation is closed", status: 400) }
            if let name = value("FriendlyName") { conversation.friendlyName = name }
            if let attributes = value("Attributes") { conversation.attributes = attributes }
            if let newState = value("State") { conversation.state = newState }
            return .init(status: 200, body: json(resource(conversation, origin)))
        case ("POST", "Participants", 4):
            if let identity = value("Identity") {
                guard !conversation.participants.contains(where: { $0.identity == identity }) else {
                    return error(50433, "Participant already exists", status: 409)
                }
                let participant = Participant(sid: sid("MB", &state), identity: identity, attributes: value("Attributes") ?? "{}")
                conversation.participants.append(participant)
                return .init(status: 201, body: json(resource(participant, conversation.sid, origin)))
            }
            let address = value("MessagingBinding.Address") ?? ""
            let proxy = value("MessagingBinding.ProxyAddress") ?? ""
            guard isE164(address) else { return error(50407, "Invalid messaging binding address", status: 400) }
            if conversation.participants.contains(where: { $0.address == address && $0.proxyAddress == proxy }) {
                return error(50437, "Participant with provided address and proxy address is already in the conversation", status: 409)
            }
            if let other = state.conversations.first(where: { other in
                other.sid != conversation.sid && other.state != "closed"
                    && other.participants.contains { $0.address == address && $0.proxyAddress == proxy }
            }) {
                return error(
                    50416, "A binding for this participant and proxy address already exists in Conversation \(other.sid)", status: 409)
            }
            let participant = Participant(
                sid: sid("MB", &state), address: address, proxyAddress: proxy, attributes: value("Attributes") ?? "{}")
            conversation.participants.append(participant)
            return .init(status: 201, body: json(resource(participant, conversation.sid, origin)))
        case ("GET", "Participants", 4):
            let items = conversation.participants.map { resource($0, conversation.sid, origin) }
            return page(items, key: "participants", origin: origin, path: request.path, query: query)
        case ("DELETE", "Participants", 5):
            guard let position = conversation.participants.firstIndex(where: { $0.sid == segments[4] }) else {
                return error(20404, "The requested resource \(request.path) was not found", status: 404)
            }
            conversation.participants.remove(at: position)
            return .init(status: 204, headers: [], body: "")
        case ("POST", "Messages", 4):
            guard conversation.state != "closed" else { return error(50377, "Conversation is closed", status: 400) }
            let sid = sid("IM", &state)
            let url = "\(origin)/v1/Conversations/\(conversation.sid)/Messages/\(sid)"
            let message: [String: Any] = [
                "account_sid": accountSid, "conversation_sid": conversation.sid, "sid": sid, "index": conversation.messages.count,
                "author": value("Author") ?? "system", "body": value("Body") ?? NSNull(), "media": NSNull(),
                "attributes": value("Attributes") ?? "{}", "participant_sid": NSNull(), "date_created": date, "date_updated": date,
                "url": url, "delivery": NSNull(), "content_sid": NSNull(),
                "links": ["delivery_receipts": url + "/Receipts", "channel_metadata": url + "/ChannelMetadata"],
            ]
            conversation.messages.append(message)
            return .init(status: 201, body: json(message))
        case ("GET", "Messages", 4):
            let descending = query.last { $0.0 == "Order" }?.1 == "desc"
            let items = descending ? conversation.messages.reversed() : conversation.messages
            return page(items, key: "messages", origin: origin, path: request.path, query: query)
        default:
            return error(20404, "The requested resource \(request.path) was not found", status: 404)
        }
    }

    private static func resource(_ conversation: Conversation, _ origin: String) -> [String: Any] {
        let url = "\(origin)/v1/Conversations/\(conversation.sid)"
        return [
            "sid": conversation.sid, "account_sid": accountSid, "chat_service_sid": "IS0123456789abcdef0123456789abcdef",
            "messaging_service_sid": "MG0123456789abcdef0123456789abcdef", "friendly_name": conversation.friendlyName ?? NSNull(),
            "unique_name": conversation.uniqueName ?? NSNull(), "attributes": conversation.attributes, "date_created": date,
            "date_updated": date, "state": conversation.state, "timers": [:] as [String: String], "bindings": [:] as [String: String],
            "url": url, "links": ["participants": url + "/Participants", "messages": url + "/Messages"],
        ]
    }

    private static func binding(_ participant: Participant) -> Any {
        guard let address = participant.address else { return NSNull() }
        return [
            "type": address.hasPrefix("whatsapp:") ? "whatsapp" : "sms", "address": address,
            "proxy_address": participant.proxyAddress ?? "",
        ]
    }

    private static func resource(_ participant: Participant, _ conversationSid: String, _ origin: String) -> [String: Any] {
        [
            "account_sid": accountSid, "conversation_sid": conversationSid, "sid": participant.sid,
            "identity": participant.identity ?? NSNull(), "attributes": participant.attributes, "messaging_binding": binding(participant),
            "role_sid": NSNull(), "date_created": date, "date_updated": date,
            "url": "\(origin)/v1/Conversations/\(conversationSid)/Participants/\(participant.sid)",
            "last_read_message_index": NSNull(), "last_read_timestamp": NSNull(),
        ]
    }

    /// A v1 page: the items under `key`, and `meta` with absolute URLs; `PageToken` is `PT<offset>`.
    private static func page(
        _ all: [[String: Any]], key: String, origin: String, path: String, query: [(String, String)]
    ) -> LoopbackHTTPServer.Reply {
        func parameter(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        let pageSize = min(100, max(1, parameter("PageSize").flatMap { Int($0) } ?? 50))
        let offset = parameter("PageToken").flatMap { $0.hasPrefix("PT") ? Int($0.dropFirst(2)) : nil } ?? 0
        let items = Array(all.dropFirst(offset).prefix(pageSize))
        let filters = query.filter { !["PageSize", "Page", "PageToken"].contains($0.0) }
        let base = origin + path + "?" + FormEncoding.encode(filters + [("PageSize", String(pageSize))])
        let page = offset / pageSize
        let hasNext = offset + items.count < all.count
        let meta: [String: Any] = [
            "page": page, "page_size": pageSize, "first_page_url": base + "&Page=0", "url": "\(base)&Page=\(page)",
            "previous_page_url": offset > 0 ? "\(base)&Page=\(page - 1)&PageToken=PT\(max(0, offset - pageSize))" : NSNull(),
            "next_page_url": hasNext ? "\(base)&Page=\(page + 1)&PageToken=PT\(offset + items.count)" : NSNull(), "key": key,
        ]
        return .init(status: 200, body: json([key: items, "meta": meta]))
    }
}
