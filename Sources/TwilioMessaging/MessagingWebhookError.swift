//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import TwilioCore

/// Why a form body is not a Messaging or Conversations webhook: the body is not form-encoded UTF-8, a
/// required field is missing or empty, or a field that must be a number is not one.
public struct MessagingWebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Hashable {
        /// The body is not `application/x-www-form-urlencoded` UTF-8 (a bad `%` escape or invalid bytes).
        case badEncoding
        /// A required field is absent or empty.
        case missingField
        /// A field's value is not of its type (for example a `NumMedia` that is not a number).
        case malformedField
    }

    /// What is wrong.
    public var kind: Kind
    /// The field concerned (empty for ``Kind/badEncoding``).
    public var field: String

    /// Creates an error.
    public init(kind: Kind, field: String) {
        self.kind = kind
        self.field = field
    }

    /// One line.
    public var description: String {
        switch kind {
        case .badEncoding: "Twilio webhook: the body is not form-encoded UTF-8"
        case .missingField: "Twilio webhook: missing \(field)"
        case .malformedField: "Twilio webhook: malformed \(field)"
        }
    }
}

/// Field access shared by the webhook parsers: the last value of a name wins, as in the status callbacks.
struct WebhookFields {
    let fields: [(String, String)]

    init(_ fields: [(String, String)]) { self.fields = fields }

    init(formBody: some Collection<UInt8>) throws(MessagingWebhookError) {
        guard let fields = FormEncoding.decode(formBody) else {
            throw MessagingWebhookError(kind: .badEncoding, field: "")
        }
        self.fields = fields
    }

    subscript(_ name: String) -> String? { fields.last { $0.0 == name }?.1 }

    func required(_ name: String) throws(MessagingWebhookError) -> String {
        guard let value = self[name], !value.isEmpty else { throw MessagingWebhookError(kind: .missingField, field: name) }
        return value
    }

    /// A non-empty value, or `nil`.
    func optional(_ name: String) -> String? {
        guard let value = self[name], !value.isEmpty else { return nil }
        return value
    }

    func integer(_ name: String) throws(MessagingWebhookError) -> Int? {
        guard let text = optional(name) else { return nil }
        guard let number = Int(text) else { throw MessagingWebhookError(kind: .malformedField, field: name) }
        return number
    }

    func decimal(_ name: String) throws(MessagingWebhookError) -> Double? {
        guard let text = optional(name) else { return nil }
        guard let number = Double(text), number.isFinite else { throw MessagingWebhookError(kind: .malformedField, field: name) }
        return number
    }

    /// `true`/`false` (any case); anything else is `nil`.
    func boolean(_ name: String) -> Bool? {
        switch optional(name)?.lowercased() {
        case "true": true
        case "false": false
        default: nil
        }
    }
}

/// One received field, kept for signature validation (a tuple is not `Hashable`).
struct WebhookParameter: Sendable, Hashable {
    var name: String
    var value: String
}
