//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import TwilioCore

extension TwiML.Node {
    /// `<Message>body</Message>`: a reply to an incoming message, in the TwiML answering its webhook
    /// (`TwiML.response([.message("Thanks!")])`), written as Twilio's `MessagingResponse` writes it. An
    /// empty body gives `<Message />`.
    ///
    /// - Parameters:
    ///   - body: The text.
    ///   - to: The recipient (default: the sender of the incoming message).
    ///   - from: The sender (default: the number that received it).
    ///   - action: The status callback URL for the reply.
    ///   - method: `action`'s method (`GET` or `POST`).
    public static func message(
        _ body: String, to: String? = nil, from: String? = nil, action: String? = nil, method: String? = nil
    ) -> TwiML.Node {
        .element(
            name: "Message", attributes: messageAttributes(to: to, from: from, action: action, method: method),
            children: body.isEmpty ? [] : [.text(body)])
    }

    /// `<Message><Body>body</Body><Media>url</Media>…</Message>`: a reply with media (MMS, WhatsApp).
    ///
    /// - Parameters:
    ///   - body: The text, or `nil` for media only.
    ///   - mediaURLs: Public URLs of the media, in order.
    ///   - to: The recipient (default: the sender of the incoming message).
    ///   - from: The sender (default: the number that received it).
    ///   - action: The status callback URL for the reply.
    ///   - method: `action`'s method.
    public static func message(
        body: String?, mediaURLs: [String], to: String? = nil, from: String? = nil, action: String? = nil,
        method: String? = nil
    ) -> TwiML.Node {
        var children: [TwiML.Node] = []
        if let body { children.append(.element(name: "Body", attributes: [:], children: body.isEmpty ? [] : [.text(body)])) }
        children += mediaURLs.map { .element(name: "Media", attributes: [:], children: [.text($0)]) }
        return .element(
            name: "Message", attributes: messageAttributes(to: to, from: from, action: action, method: method),
            children: children)
    }

    private static func messageAttributes(to: String?, from: String?, action: String?, method: String?) -> [String: String] {
        var attributes: [String: String] = [:]
        attributes["to"] = to
        attributes["from"] = from
        attributes["action"] = action
        attributes["method"] = method
        return attributes
    }
}
