//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import TwilioCore
import TwilioMessaging
import VoicePipeStore
import VoicePipeText

extension VoicePipeServer {
    /// The largest text webhook body read (Twilio's are a few kilobytes).
    static let maximumWebhookBytes = 64 * 1024

    /// `POST …/sms`: a Messaging inbound webhook (SMS, MMS, WhatsApp). Validated, recorded with the reply it
    /// is owed (one transaction), then acknowledged with empty TwiML at once; the text agent replies through
    /// the REST API. A retried webhook is acknowledged and nothing else. A store failure answers 500, so that
    /// Twilio retries rather than the message being lost.
    func inboundMessage(_ request: Request, base: String) async throws -> Response {
        try await textWebhook(request, base: base) { fields in
            let message = try InboundMessage(parameters: fields)
            // The reply's status callbacks come back the way this webhook came: the route next to this one.
            var path = request.uri.path
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
            let outcome = try await receive(InboundText(message, statusCallback: base + path + "/message-status"))
            logger.info("inbound message", metadata: ["messageSid": .string(message.messageSid), "outcome": .string(outcome)])
            return Response(
                status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: TwiML.response([]).xml)))
        }
    }

    /// `POST …/message-status`: a Messaging status callback. Each (message, status, error) is applied once and
    /// never moves a message's status backwards; error 21610 marks the recipient opted out.
    func messageStatus(_ request: Request, base: String) async throws -> Response {
        try await textWebhook(request, base: base) { fields in
            let callback = try MessageStatusCallback(parameters: fields)
            let update = StatusUpdate(providerSid: callback.messageSid, status: callback.status.rawValue, errorCode: callback.errorCode)
            let contact = callback.to.map { MessagingAddress($0).address }
            let outcome: StatusOutcome
            if let agent = configuration.textAgent {
                outcome = try await agent.statusReported(update, contact: contact)
            } else if let store = configuration.store {
                outcome = try await store.updateStatus(update)
                if update.errorCode == 21610, let contact { try await store.setOptedOut(contact, true, at: update.at) }
            } else {
                return Response(status: .ok)
            }
            logger.debug(
                "message status",
                metadata: [
                    "messageSid": .string(callback.messageSid), "status": .string(update.status), "outcome": .string(outcome.rawValue),
                ])
            return Response(status: .ok)
        }
    }

    /// `POST …/conversations`: a Conversations post-event webhook. `onMessageAdded` from an SMS or WhatsApp
    /// participant is handled like a Messaging inbound message, on the conversation's thread (the reply is a
    /// Conversations message); the agent's own messages coming back (``Configuration/conversationsAuthor``,
    /// `Source=API`, `system`) are never answered. `onDeliveryUpdated` records delivery; other events are
    /// acknowledged.
    func conversationsEvent(_ request: Request, base: String) async throws -> Response {
        try await textWebhook(request, base: base) { fields in
            let event: ConversationsWebhookEvent
            do { event = try ConversationsWebhookEvent(parameters: fields) } catch { throw ConversationsRefusal(error: error) }
            switch event {
            case .onMessageAdded(let added):
                guard !added.isEcho(agentAuthor: configuration.conversationsAuthor) else {
                    logger.debug("conversations: the agent's own message", metadata: ["messageSid": .string(added.messageSid)])
                    return Response(status: .ok)
                }
                guard let contact = added.contactE164, let author = added.author else {
                    logger.info("conversations: a message from a chat participant, not answered")
                    return Response(status: .ok)
                }
                let outcome = try await receive(
                    InboundText(
                        contact: contact, channel: added.channel == .whatsApp ? .whatsapp : .sms, body: added.body,
                        providerSid: added.messageSid, contactAddress: author, agentAddress: nil, threadReference: added.conversationSid))
                logger.info(
                    "conversations message", metadata: ["messageSid": .string(added.messageSid), "outcome": .string(outcome)])
            case .onDeliveryUpdated(let delivery):
                let update = StatusUpdate(
                    providerSid: delivery.messageSid, status: delivery.status.rawValue, errorCode: delivery.errorCode)
                if let agent = configuration.textAgent {
                    _ = try await agent.statusReported(update, contact: nil)
                } else if let store = configuration.store {
                    _ = try await store.updateStatus(update)
                }
            default:
                logger.debug("conversations event", metadata: ["eventType": .string(event.eventType)])
            }
            return Response(status: .ok)
        }
    }

    /// Reads, validates and times a text webhook; `handle` answers it. A malformed body gets 400, a store
    /// failure 500 (Twilio retries), both with a log line.
    func textWebhook(
        _ request: Request, base: String, handle: ([(String, String)]) async throws -> Response
    ) async throws -> Response {
        let started = ContinuousClock.now
        var failed = false
        defer { statistics.textWebhook(milliseconds: (ContinuousClock.now - started).milliseconds, failed: failed) }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumWebhookBytes)
        } catch {
            failed = true
            logger.warning(
                "text webhook refused: body over \(Self.maximumWebhookBytes) bytes", metadata: ["path": .string(request.uri.path)])
            return Response(status: .contentTooLarge)
        }
        guard let fields = FormEncoding.decode(body.readableBytesView) else {
            failed = true
            logger.warning("text webhook refused: not a form body", metadata: ["path": .string(request.uri.path)])
            return Response(status: .badRequest)
        }
        guard isSigned(request, parameters: fields, url: base + request.uri.description) else {
            failed = true
            return forbidden(request)
        }
        do {
            return try await handle(fields)
        } catch let error as MessagingWebhookError {
            failed = true
            logger.warning("text webhook refused: \(error)", metadata: ["path": .string(request.uri.path)])
            return Response(status: .badRequest)
        } catch let refusal as ConversationsRefusal {
            failed = true
            logger.warning("text webhook refused: \(refusal.error)", metadata: ["path": .string(request.uri.path)])
            return Response(status: .badRequest)
        } catch {
            failed = true
            logger.error("text webhook failed (Twilio will retry): \(error)", metadata: ["path": .string(request.uri.path)])
            return Response(status: .internalServerError)
        }
    }

    /// Hands an inbound text to the text agent, or, without one, records it; returns what happened, for the log.
    func receive(_ text: InboundText) async throws -> String {
        if let agent = configuration.textAgent { return "\(try await agent.receive(text))" }
        guard let store = configuration.store else { return "ignored" }
        return "\(try await store.receive(text.newMessage, owesReply: false))"
    }

    // MARK: - Reading the store

    /// A contact's history, as served at `GET /contacts/{address}`.
    struct ContactHistory: Codable {
        var address: String
        var contact: Contact?
        var calls: [CallSummaryRecord]
        var entries: [Entry]
    }

    /// `GET /contacts/{address}?limit=…&before=…`: the contact, its calls and its newest `limit` entries on
    /// every channel (oldest first; `before`, an entry id, pages back), as JSON. 404 for an address the store
    /// has never seen.
    func contactHistory(_ request: Request, address: String) async throws -> Response {
        if let refusal = unauthorizedRead(request) { return refusal }
        guard let store = configuration.store else { return Response(status: .notFound) }
        let address = address.removingPercentEncoding ?? address
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 10_000) } ?? 200
        guard let contact = try await store.contact(address) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no contact \(address)\n")))
        }
        let history = ContactHistory(
            address: address, contact: contact, calls: try await store.calls(of: address, limit: 100),
            entries: try await store.history(
                of: address, limit: limit, before: request.uri.queryParameters.get("before").flatMap { Int64($0) }))
        return json(history)
    }

    /// `GET /search?q=…&limit=…`: entries matching every word, newest first, as JSON.
    func searchEntries(_ request: Request) async throws -> Response {
        if let refusal = unauthorizedRead(request) { return refusal }
        guard let store = configuration.store else { return Response(status: .notFound) }
        guard let query = request.uri.queryParameters.get("q"), !SearchWords.of(query).isEmpty else {
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "give words to search for: ?q=…\n")))
        }
        let limit = request.uri.queryParameters.get("limit").flatMap(Int.init).map { min(max($0, 1), 1000) } ?? 50
        return json(try await store.search(query, limit: limit))
    }

    private func unauthorizedRead(_ request: Request) -> Response? {
        guard let token = configuration.callRecordsToken, request.headers[.authorization] != "Bearer " + token else { return nil }
        return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
    }

    private func json(_ value: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("null".utf8)
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data + Data("\n".utf8))))
    }
}

/// A Conversations webhook that does not parse (answered 400).
struct ConversationsRefusal: Error {
    let error: any Error
}
