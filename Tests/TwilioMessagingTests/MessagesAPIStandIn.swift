//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import TwilioCore
import TwilioTestSupport

/// A stand-in for Twilio's Messages API (`/2010-04-01/Accounts/{AC}/Messages…`) in Twilio's exact formats:
/// Basic auth (20003 on failure), form-encoded creates answered 201 with the Message JSON (counts as
/// strings, RFC 2822 dates), error JSON `{code,message,more_info,status}` for 21211 / 21614 / 21610 / 63016,
/// 429 with `Retry-After` (20429 or 14107), fetch (20404 when unknown), and lists newest first with
/// top-level, relative `next_page_uri` carrying a `PageToken`.
final class MessagesAPIStandIn: Sendable {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let authToken = "test-token"
    static let apiKeySid = "SKfedcba9876543210fedcba9876543210"
    static let apiKeySecret = "test-api-key-secret"
    static let date = "Thu, 24 Aug 2023 05:01:45 +0000"

    struct State {
        var messages: [[String: Any]] = []  // newest first
        var counter = 0
        var optedOut: Set<String> = []
        var landlines: Set<String> = []
        var whatsAppWindowOpen: Set<String> = []
        /// The next POSTs answered 429: (Twilio code, Retry-After header value or nil).
        var throttled: [(Int, String?)] = []
        /// The next requests answered with a 5xx.
        var serverErrors = 0
    }

    final class Store: Sendable {
        let state = Mutex(State())
    }

    let store: Store
    let server: LoopbackHTTPServer
    static let messagesPath = "/2010-04-01/Accounts/\(accountSid)/Messages"

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

    private static func handle(_ request: LoopbackHTTPServer.Request, _ store: Store) -> LoopbackHTTPServer.Reply {
        let authorized = [Self.basic(Self.accountSid, Self.authToken), Self.basic(Self.apiKeySid, Self.apiKeySecret)]
        guard let authorization = request.header("Authorization"), authorized.contains(authorization) else {
            return Self.error(20003, "Authenticate", status: 401)
        }
        if let failure: LoopbackHTTPServer.Reply = store.state.withLock({ state in
            guard state.serverErrors > 0 else { return nil }
            state.serverErrors -= 1
            return .init(status: 503, headers: [("Content-Type", "text/html")], body: "<html>Service Unavailable</html>")
        }) {
            return failure
        }
        switch (request.method, request.path) {
        case ("POST", messagesPath + ".json"): return create(request, store)
        case ("GET", messagesPath + ".json"): return list(request, store)
        case ("GET", let path) where path.hasPrefix(messagesPath + "/") && path.hasSuffix(".json"):
            let sid = String(path.dropFirst(messagesPath.count + 1).dropLast(".json".count))
            return store.state.withLock { state in
                guard let message = state.messages.first(where: { $0["sid"] as? String == sid }) else {
                    return Self.error(20404, "The requested resource \(path) was not found", status: 404)
                }
                return .init(status: 200, body: Self.json(message))
            }
        default:
            return Self.error(20404, "The requested resource \(request.path) was not found", status: 404)
        }
    }

    private static func isAddress(_ value: String) -> Bool {
        let number = value.hasPrefix("whatsapp:") ? String(value.dropFirst("whatsapp:".count)) : value
        guard number.hasPrefix("+"), (9...16).contains(number.count) else { return false }
        return number.dropFirst().allSatisfy(\.isASCII) && number.dropFirst().allSatisfy(\.isNumber)
    }

    private static func create(_ request: LoopbackHTTPServer.Request, _ store: Store) -> LoopbackHTTPServer.Reply {
        guard request.header("Content-Type") == "application/x-www-form-urlencoded", let form = FormEncoding.decode(request.body)
        else { return Self.error(20001, "Invalid form body", status: 400) }
        func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        let media = form.filter { $0.0 == "MediaUrl" }.map(\.1)
        return store.state.withLock { state in
            if !state.throttled.isEmpty {
                let (code, retryAfter) = state.throttled.removeFirst()
                return Self.error(
                    code, code == 14107 ? "SMS send rate limit exceeded" : "Too Many Requests", status: 429,
                    headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
            }
            guard let to = value("To"), !to.isEmpty else { return Self.error(21604, "A 'To' phone number is required.", status: 400) }
            let from = value("From")
            let service = value("MessagingServiceSid")
            guard (from != nil) != (service != nil) else {
                return Self.error(21603, "A 'From' or 'MessagingServiceSid' parameter is required", status: 400)
            }
            let body = value("Body")
            let template = value("ContentSid")
            guard body != nil || !media.isEmpty || template != nil else {
                return Self.error(21602, "Message body is required.", status: 400)
            }
            guard Self.isAddress(to) else { return Self.error(21211, "Invalid 'To' Phone Number: \(to)", status: 400) }
            guard !state.landlines.contains(to) else {
                return Self.error(21614, "'To' number is not a valid mobile number", status: 400)
            }
            let customer = to.hasPrefix("whatsapp:") ? String(to.dropFirst("whatsapp:".count)) : to
            guard !state.optedOut.contains(customer) else {
                return Self.error(21610, "Attempt to send to unsubscribed recipient", status: 400)
            }
            if to.hasPrefix("whatsapp:"), template == nil, !state.whatsAppWindowOpen.contains(customer) {
                return Self.error(
                    63016,
                    "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.",
                    status: 400)
            }
            state.counter += 1
            let prefix = media.isEmpty ? "SM" : "MM"
            let sid =
                prefix + String(repeating: "0", count: 32 - String(state.counter, radix: 16).count)
                + String(state.counter, radix: 16)
            let segments = service != nil ? 0 : max(1, ((body ?? "").count + 159) / 160)
            let message: [String: Any] = [
                "account_sid": Self.accountSid, "api_version": "2010-04-01", "body": body ?? "",
                "date_created": Self.date, "date_sent": NSNull(), "date_updated": Self.date, "direction": "outbound-api",
                "error_code": NSNull(), "error_message": NSNull(), "from": (from as Any?) ?? NSNull(),
                "num_media": String(media.count), "num_segments": String(segments), "price": NSNull(), "price_unit": "USD",
                "messaging_service_sid": (service as Any?) ?? NSNull(), "sid": sid,
                "status": service != nil ? "accepted" : "queued",
                "subresource_uris": ["media": "\(messagesPath)/\(sid)/Media.json"], "to": to,
                "uri": "\(messagesPath)/\(sid).json",
            ]
            state.messages.insert(message, at: 0)
            return .init(status: 201, body: Self.json(message))
        }
    }

    private static func list(_ request: LoopbackHTTPServer.Request, _ store: Store) -> LoopbackHTTPServer.Reply {
        let query = FormEncoding.decode(Array((request.query ?? "").utf8)) ?? []
        func value(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        let pageSize = min(1000, max(1, value("PageSize").flatMap { Int($0) } ?? 50))
        let offset = value("PageToken").flatMap { $0.hasPrefix("PA") ? Int($0.dropFirst(2)) : nil } ?? 0
        let page = offset / pageSize
        let matching = store.state.withLock { state in
            state.messages.filter { message in
                (value("To").map { $0 == message["to"] as? String } ?? true)
                    && (value("From").map { $0 == message["from"] as? String } ?? true)
            }
        }
        let items = Array(matching.dropFirst(offset).prefix(pageSize))
        var filters: [(String, String)] = []
        if let to = value("To") { filters.append(("To", to)) }
        if let from = value("From") { filters.append(("From", from)) }
        let base = messagesPath + ".json?" + FormEncoding.encode(filters + [("PageSize", String(pageSize))])
        let hasNext = offset + items.count < matching.count
        let body: [String: Any] = [
            "first_page_uri": base + "&Page=0", "messages": items,
            "next_page_uri": hasNext ? "\(base)&Page=\(page + 1)&PageToken=PA\(offset + items.count)" : NSNull(),
            "previous_page_uri": offset > 0 ? "\(base)&Page=\(page - 1)&PageToken=PB\(offset)" : NSNull(),
            "page": page, "page_size": pageSize, "start": offset, "end": max(offset, offset + items.count - 1),
            "uri": "\(base)&Page=\(page)",
        ]
        return .init(status: 200, body: Self.json(body))
    }
}
