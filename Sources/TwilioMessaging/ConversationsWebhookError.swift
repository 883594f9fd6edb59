//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Why a form body is not a Conversations webhook: the body is not form-encoded UTF-8, `EventType` or a
/// field its event requires is missing or empty, or a field that must be a number is not one.
public struct ConversationsWebhookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Kind: Sendable, Hashable {
        /// The body is not `application/x-www-form-urlencoded` UTF-8 (a bad `%` escape or invalid bytes).
        case badEncoding
        /// A required field (`EventType`, or for example `MessageSid` in `onMessageAdded`) is absent or empty.
        case missingField
        /// A field's value is not of its type (for example an `Index` that is not a number).
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
        case .badEncoding: "conversations webhook: the body is not form-encoded UTF-8"
        case .missingField: "conversations webhook: missing \(field)"
        case .malformedField: "conversations webhook: malformed \(field)"
        }
    }
}

/// Field access for the Conversations webhooks: the last value of a name wins.
struct ConversationsWebhookFields {
    let fields: WebhookFields
    let stored: [WebhookParameter]

    init(_ parameters: [(String, String)]) {
        fields = WebhookFields(parameters)
        stored = parameters.map { WebhookParameter(name: $0.0, value: $0.1) }
    }

    subscript(_ name: String) -> String? { fields[name] }

    func optional(_ name: String) -> String? { fields.optional(name) }

    func required(_ name: String) throws(ConversationsWebhookError) -> String {
        guard let value = fields.optional(name) else { throw ConversationsWebhookError(kind: .missingField, field: name) }
        return value
    }

    func integer(_ name: String) throws(ConversationsWebhookError) -> Int? {
        guard let text = fields.optional(name) else { return nil }
        guard let number = Int(text) else { throw ConversationsWebhookError(kind: .malformedField, field: name) }
        return number
    }
}
