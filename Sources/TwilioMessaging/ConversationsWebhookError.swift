//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Why a form body is not a Conversations webhook: the same error as the Messaging webhooks' (a body that is
/// not form-encoded UTF-8, `EventType` or a field its event requires missing or empty, a number that is not one).
public typealias ConversationsWebhookError = MessagingWebhookError

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

    func required(_ name: String) throws(ConversationsWebhookError) -> String { try fields.required(name) }

    func integer(_ name: String) throws(ConversationsWebhookError) -> Int? { try fields.integer(name) }
}
