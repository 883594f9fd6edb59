//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import TwilioCore

extension TwilioStandIn {
    var messagesPath: String { "/2010-04-01/Accounts/\(accountSid)/Messages" }

    /// `parts`: the path after `/2010-04-01/Accounts/{AC}`.
    func messagingRoute(_ request: Incoming, _ parts: [String]) -> Reply {
        switch (request.method, parts.count, parts.first) {
        case ("POST", 1, "Messages.json"): return createMessage(request)
        case ("GET", 1, "Messages.json"): return listMessages(request)
        case (_, 1, "Messages.json"): return Self.methodNotAllowed(request.method)
        case ("GET", 2, "Messages") where parts[1].hasSuffix(".json"):
            let sid = String(parts[1].dropLast(".json".count))
            return state.withLock { state in
                guard let message = state.messages.first(where: { $0.sid == sid }) else { return .notFound(request.path) }
                return .json(200, messageJSON(message, date: state.messageDates[sid] ?? Date()))
            }
        case (_, 2, "Messages") where parts[1].hasSuffix(".json"): return Self.methodNotAllowed(request.method)
        default: return .notFound(request.path)
        }
    }

    static func methodNotAllowed(_ method: String) -> Reply {
        .error(405, 20004, "Method not allowed")
    }

    private static let stopWords: Set<String> = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"]
    private static let startWords: Set<String> = ["START", "UNSTOP", "YES"]

    /// The advanced opt-out keyword in a body, if it is one: `true` for STOP-like, `false` for START-like.
    static func optOutKeyword(_ body: String) -> Bool? {
        let word = body.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
        if stopWords.contains(word) || word == "STOP ALL" { return true }
        if startWords.contains(word) { return false }
        return nil
    }

    private func createMessage(_ request: Incoming) -> Reply {
        guard let to = request.value("To"), !to.isEmpty else { return .error(400, 21604, "A 'To' phone number is required.") }
        let from = request.value("From").flatMap { $0.isEmpty ? nil : $0 }
        let service = request.value("MessagingServiceSid").flatMap { $0.isEmpty ? nil : $0 }
        guard (from == nil) != (service == nil) else {
            return .error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required")
        }
        if let service, !TwilioSID.isSID(service, prefix: "MG") {
            return .error(400, 21701, "The Messaging Service Sid \(service) is invalid.")
        }
        let body = request.value("Body")
        let media = request.values("MediaUrl")
        let contentSid = request.value("ContentSid")
        guard !(body ?? "").isEmpty || !media.isEmpty || contentSid != nil else {
            return .error(400, 21602, "Message body is required.")
        }
        if let body, body.count > 1600 {
            return .error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        }
        guard TwilioAddress.isMessagingAddress(to) else { return .error(400, 21211, "Invalid 'To' Phone Number: \(to)") }
        if let from, !TwilioAddress.isMessagingAddress(from) || TwilioAddress.isWhatsApp(from) != TwilioAddress.isWhatsApp(to) {
            return .error(400, 21212, "Invalid 'From' Phone Number: \(from)")
        }
        let now = Date()
        let created: (StoredMessage, CallbackOptions, Int?)? = state.withLock { state in
            guard !state.optedOut.contains(to) else { return nil }
            return (
                StoredMessage(
                    sid: "", to: to, from: from, messagingServiceSid: service, body: body, mediaURLs: media, contentSid: contentSid,
                    statusCallback: request.value("StatusCallback"), status: "", direction: "outbound-api", errorCode: nil,
                    form: request.form), state.callbacks, state.failingRecipients[to]
            )
        }
        guard let (draft, callbacks, failure) = created else {
            return .error(400, 21610, "Attempt to send to unsubscribed recipient")
        }
        var message = draft
        if TwilioAddress.isWhatsApp(to), contentSid == nil, !isWhatsAppWindowOpen(for: to) {
            return .error(
                400, 63016,
                "Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template."
            )
        }
        message.sid = TwilioSID.make(media.isEmpty ? "SM" : "MM")
        message.status = service == nil ? "queued" : "accepted"
        let stored = message
        state.withLock {
            $0.messages.append(stored)
            $0.messageDates[stored.sid] = now
        }
        scheduleProgress(of: stored, callbacks: callbacks, failure: failure)
        return .json(201, messageJSON(stored, date: now))
    }

    /// The Message resource, keys as Twilio lists them.
    func messageJSON(_ message: StoredMessage, date: Date) -> JSONValue {
        let created = TwilioDates.rfc2822(date)
        let sent = ["sent", "delivered", "undelivered", "received"].contains(message.status) ? JSONValue.string(created) : .null
        let segments = message.messagingServiceSid != nil && message.status == "accepted" ? 0 : Self.segments(message.body ?? "")
        return .object([
            ("account_sid", .string(accountSid)), ("api_version", .string("2010-04-01")), ("body", .string(message.body ?? "")),
            ("date_created", .string(created)), ("date_sent", sent), ("date_updated", .string(created)),
            ("direction", .string(message.direction)), ("error_code", .optional(message.errorCode)),
            ("error_message", .optional(message.errorCode.map(Self.errorMessage))), ("from", .optional(message.from)),
            ("messaging_service_sid", .optional(message.messagingServiceSid)), ("num_media", .string(String(message.mediaURLs.count))),
            ("num_segments", .string(String(segments))), ("price", .null), ("price_unit", .string("USD")), ("sid", .string(message.sid)),
            ("status", .string(message.status)),
            ("subresource_uris", .object([("media", .string("\(messagesPath)/\(message.sid)/Media.json"))])),
            ("to", .string(message.to)), ("uri", .string("\(messagesPath)/\(message.sid).json")),
        ])
    }

    /// GSM-7 bodies take 160 characters a segment (153 when split); others 70 (67).
    static func segments(_ body: String) -> Int {
        guard !body.isEmpty else { return 1 }
        let gsm = body.unicodeScalars.allSatisfy { $0.isASCII && $0.value >= 0x20 || $0 == "\n" || $0 == "\r" }
        let count = gsm ? body.unicodeScalars.count : body.utf16.count
        let (single, multi) = gsm ? (160, 153) : (70, 67)
        return count <= single ? 1 : (count + multi - 1) / multi
    }

    static func errorMessage(_ code: Int) -> String {
        switch code {
        case 21610: "Attempt to send to unsubscribed recipient"
        case 30003: "Unreachable destination handset"
        case 30005: "Unknown destination handset"
        case 30006: "Landline or unreachable carrier"
        case 30007: "Message filtered"
        case 30008: "Unknown error"
        case 63016: "Failed to send freeform message because you are outside the allowed window."
        default: "Message delivery failed"
        }
    }

    private func listMessages(_ request: Incoming) -> Reply {
        let to = request.queryValue("To")
        let from = request.queryValue("From")
        let pageSize = min(1000, max(1, request.queryValue("PageSize").flatMap { Int($0) } ?? 50))
        let page = max(0, request.queryValue("Page").flatMap { Int($0) } ?? 0)
        let token = request.queryValue("PageToken")
        let (items, hasNext, start) = state.withLock { state -> ([JSONValue], Bool, Int) in
            let matching = state.messages.reversed().filter { message in
                (to.map { $0 == message.to } ?? true) && (from.map { $0 == message.from } ?? true)
            }
            var start = 0
            if let token, token.hasPrefix("PA"), let index = matching.firstIndex(where: { $0.sid == token.dropFirst(2) }) {
                start = index + 1
            } else if token == nil {
                start = page * pageSize
            }
            let slice = Array(matching.dropFirst(start).prefix(pageSize))
            let items = slice.map { messageJSON($0, date: state.messageDates[$0.sid] ?? Date()) }
            return (items, start + slice.count < matching.count, start)
        }
        var filters: [(String, String)] = []
        if let to { filters.append(("To", to)) }
        if let from { filters.append(("From", from)) }
        let base = messagesPath + ".json?" + FormEncoding.encode(filters + [("PageSize", String(pageSize))])
        let lastSid = items.isEmpty ? nil : Self.sid(of: items[items.count - 1])
        let firstSid = items.isEmpty ? nil : Self.sid(of: items[0])
        let next: JSONValue = hasNext ? .string("\(base)&Page=\(page + 1)&PageToken=PA\(lastSid ?? "")") : .null
        let previous: JSONValue = page > 0 && start > 0 ? .string("\(base)&Page=\(page - 1)&PageToken=PB\(firstSid ?? "")") : .null
        var current = "\(base)&Page=\(page)"
        if let token { current += "&PageToken=" + token }
        return .json(
            200,
            .object([
                ("end", .int(max(start, start + items.count - 1))), ("first_page_uri", .string("\(base)&Page=0")),
                ("messages", .array(items)), ("next_page_uri", next), ("page", .int(page)), ("page_size", .int(pageSize)),
                ("previous_page_uri", previous), ("start", .int(start)), ("uri", .string(current)),
            ]))
    }

    private static func sid(of message: JSONValue) -> String? {
        guard case .object(let members) = message, case .string(let sid)? = members.first(where: { $0.0 == "sid" })?.1 else {
            return nil
        }
        return sid
    }

    // MARK: - Status callbacks

    private func setStatus(_ sid: String, _ status: String, errorCode: Int? = nil) {
        state.withLock { state in
            guard let index = state.messages.firstIndex(where: { $0.sid == sid }) else { return }
            state.messages[index].status = status
            state.messages[index].errorCode = errorCode
        }
    }

    /// Moves a new message to `sent`, then `delivered` (or `undelivered`), posting a callback for each when it
    /// has a `StatusCallback`.
    private func scheduleProgress(of message: StoredMessage, callbacks: CallbackOptions, failure: Int?) {
        schedule {
            let clock = ContinuousClock()
            let start = clock.now
            try? await clock.sleep(until: start + callbacks.sentDelay)
            self.setStatus(message.sid, "sent")
            let sent = self.statusCallbackFields(message, status: "sent", errorCode: nil)
            if !callbacks.outOfOrder { await self.postStatus(message, sent, callbacks) }
            try? await clock.sleep(until: start + max(callbacks.sentDelay, callbacks.deliveredDelay))
            let final = failure == nil ? "delivered" : "undelivered"
            self.setStatus(message.sid, final, errorCode: failure)
            await self.postStatus(message, self.statusCallbackFields(message, status: final, errorCode: failure), callbacks)
            if callbacks.outOfOrder { await self.postStatus(message, sent, callbacks) }
        }
    }

    private func postStatus(_ message: StoredMessage, _ fields: [(String, String)], _ callbacks: CallbackOptions) async {
        guard let url = message.statusCallback, !url.isEmpty else { return }
        let token = UUID().uuidString.lowercased()
        for delivery in 0..<callbacks.deliveries {
            await post(.statusCallback, to: url, parameters: fields, idempotencyToken: token, isRedelivery: delivery > 0)
        }
    }

    /// A status callback's fields, as Twilio sends them for SMS and WhatsApp.
    func statusCallbackFields(_ message: StoredMessage, status: String, errorCode: Int?) -> [(String, String)] {
        var fields: [(String, String)] = []
        if let errorCode { fields.append(("ErrorCode", String(errorCode))) }
        fields += [("SmsSid", message.sid), ("SmsStatus", status), ("MessageStatus", status), ("To", message.to)]
        if let service = message.messagingServiceSid { fields.append(("MessagingServiceSid", service)) }
        fields += [("MessageSid", message.sid), ("AccountSid", accountSid)]
        fields.append(("From", message.from ?? (TwilioAddress.isWhatsApp(message.to) ? "whatsapp:+15005550006" : "+15005550006")))
        if TwilioAddress.isWhatsApp(message.to) {
            fields += [("ChannelPrefix", "whatsapp"), ("ChannelInstallSid", "XE00000000000000000000000000000000")]
            fields.append(("ChannelToAddress", TwilioAddress.number(message.to)))
        } else if status == "delivered" {
            fields.append(("RawDlrDoneDate", TwilioDates.rawDlrDoneDate(Date())))
        }
        fields.append(("ApiVersion", "2010-04-01"))
        return fields
    }
}
