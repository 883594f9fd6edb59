//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension TwilioStandIn {
    /// A request that reached the stand-in, as received, with the status it was answered with.
    public struct RecordedRequest: Sendable {
        /// `GET`, `POST`, `DELETE`, …
        public var method: String
        /// The path, percent-encoding kept (`/2010-04-01/Accounts/AC…/Messages.json`).
        public var path: String
        /// The query string without its `?`, if any.
        public var query: String?
        /// The form fields of the body, in order (empty unless the body is form-encoded).
        public var form: [(String, String)]
        /// The query fields, in order.
        public var queryFields: [(String, String)]
        /// Every header, in order, names as sent.
        public var headers: [(String, String)]
        /// The status answered.
        public var status: Int

        /// The last form field named `name`, if any.
        public func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        /// Every form field named `name` (repeated keys), in order.
        public func values(_ name: String) -> [String] { form.filter { $0.0 == name }.map(\.1) }
        /// The first header named `name` (case-insensitive), if any.
        public func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }
    }

    /// A Programmable Messaging message held by the stand-in: one created over the REST API (`outbound-api`)
    /// or a simulated inbound one (`inbound`).
    public struct StoredMessage: Sendable {
        /// `SM…` (or `MM…` with media).
        public var sid: String
        /// `To`.
        public var to: String
        /// `From`; `nil` for a send through a Messaging Service.
        public var from: String?
        /// `MessagingServiceSid`, if any.
        public var messagingServiceSid: String?
        /// `Body`, if any.
        public var body: String?
        /// Each `MediaUrl`, in order.
        public var mediaURLs: [String]
        /// `ContentSid` (a template), if any.
        public var contentSid: String?
        /// `StatusCallback`, if any.
        public var statusCallback: String?
        /// The current status: `queued` or `accepted` at creation, then `sent`, `delivered` or `undelivered`;
        /// `received` for an inbound message.
        public var status: String
        /// `outbound-api` or `inbound`.
        public var direction: String
        /// The error code once `undelivered`.
        public var errorCode: Int?
        /// The create request's form fields, as received (empty for inbound messages).
        public var form: [(String, String)]
    }

    /// What a webhook delivery was for.
    public enum WebhookKind: Sendable, Hashable, CustomStringConvertible {
        /// A message status callback (to a message's `StatusCallback`).
        case statusCallback
        /// An inbound message to a Messaging webhook (``TwilioStandIn/sendInbound(from:to:body:to:messagingServiceSid:profileName:mediaURLs:additionalFields:)``).
        case inboundMessage
        /// A Conversations post-event webhook (`onMessageAdded`, `onDeliveryUpdated`, …).
        case conversationsEvent(String)

        /// `statusCallback`, `inboundMessage` or the event's name.
        public var description: String {
            switch self {
            case .statusCallback: "statusCallback"
            case .inboundMessage: "inboundMessage"
            case .conversationsEvent(let name): name
            }
        }
    }

    /// One HTTP POST the stand-in made as Twilio (a status callback, an inbound message, a Conversations
    /// event), with its outcome.
    public struct WebhookAttempt: Sendable {
        /// What it was for.
        public var kind: WebhookKind
        /// The URL posted to, exactly as configured (what the signature covers).
        public var url: String
        /// The form fields sent, in order.
        public var parameters: [(String, String)]
        /// The `X-Twilio-Signature` sent.
        public var signature: String
        /// The `I-Twilio-Idempotency-Token` sent (the same on a redelivery).
        public var idempotencyToken: String
        /// Whether this was a redelivery of an earlier attempt's body.
        public var isRedelivery: Bool
        /// The HTTP status answered, `nil` when no answer came (see ``failure``).
        public var status: Int?
        /// The answer's body (up to 1 MiB), empty when none.
        public var responseBody: String
        /// The answer's `Content-Type`, if any.
        public var responseContentType: String?
        /// Why no answer came (connection refused, timeout), if so.
        public var failure: String?

        /// The last field named `name`, if any.
        public func value(_ name: String) -> String? { parameters.last { $0.0 == name }?.1 }
    }

    /// The status-callback behaviour of new messages.
    public struct CallbackOptions: Sendable {
        /// How long after its creation a message becomes `sent` (its first callback).
        public var sentDelay: Duration
        /// How long after its creation a message becomes `delivered` (or `undelivered`).
        public var deliveredDelay: Duration
        /// Post the final callback (`delivered` / `undelivered`) before the `sent` one, as Twilio sometimes does.
        public var outOfOrder: Bool
        /// How many times each callback is posted (2: every callback is delivered twice, as a Twilio retry).
        public var deliveries: Int

        /// Creates options; by default `sent` after 5 ms, `delivered` after 10 ms, in order, once each.
        public init(
            sentDelay: Duration = .milliseconds(5), deliveredDelay: Duration = .milliseconds(10), outOfOrder: Bool = false,
            deliveries: Int = 1
        ) {
            self.sentDelay = sentDelay
            self.deliveredDelay = deliveredDelay
            self.outOfOrder = outOfOrder
            self.deliveries = max(1, deliveries)
        }
    }

    /// A simulated inbound message as delivered to a Messaging webhook, kept for redelivery.
    public struct InboundDelivery: Sendable {
        /// `MessageSid` (`SM…`, or `MM…` with media).
        public var messageSid: String
        /// The webhook URL.
        public var url: String
        /// The form fields, in the order posted.
        public var parameters: [(String, String)]
        /// The `I-Twilio-Idempotency-Token`, the same for every delivery of this message.
        public var idempotencyToken: String

        /// The last field named `name`, if any.
        public func value(_ name: String) -> String? { parameters.last { $0.0 == name }?.1 }
    }

    /// The account's Conversations post-event webhook (`POST /v1/Configuration/Webhooks`).
    public struct ConversationsWebhook: Sendable, Hashable {
        /// `PostWebhookUrl`: where events are posted (and what their signatures cover).
        public var url: String
        /// `Filters`: the events that fire; no other does.
        public var filters: Set<String>

        /// Creates a webhook; by default for `onMessageAdded` and `onDeliveryUpdated`.
        public init(url: String, filters: Set<String> = ["onMessageAdded", "onDeliveryUpdated"]) {
            self.url = url
            self.filters = filters
        }
    }

    /// A Conversations message, as the stand-in holds it.
    public struct ConversationMessage: Sendable, Hashable {
        /// `IM…`.
        public var sid: String
        /// `CH…`.
        public var conversationSid: String
        /// `index`: 0, 1, 2, … in its conversation.
        public var index: Int
        /// `author`: an identity, a customer's address, or `system`.
        public var author: String
        /// `body`, if any.
        public var body: String?
        /// `attributes` (a JSON string, `{}` by default).
        public var attributes: String
        /// The author's participant (`MB…`), `nil` for `system` or an author who is not a participant.
        public var participantSid: String?
        /// Where it came from: `API` (REST), `SMS` or `WHATSAPP` (a simulated customer).
        public var source: String
    }

    /// Twilio's side of one channel delivery of a Conversations message to an SMS or WhatsApp participant.
    public struct ConversationDelivery: Sendable, Hashable {
        /// The message (`IM…`).
        public var messageSid: String
        /// `CH…`.
        public var conversationSid: String
        /// The recipient participant (`MB…`).
        public var participantSid: String
        /// The recipient's address.
        public var address: String
        /// The proxy address it is sent from.
        public var proxyAddress: String
        /// The channel message (`SM…`).
        public var channelMessageSid: String
        /// The delivery receipt (`DY…`).
        public var receiptSid: String
        /// `sent`, `delivered`, `undelivered` or `failed`.
        public var status: String
        /// The error code when `undelivered` or `failed` (21610 opted out, 63016 outside the WhatsApp window, …).
        public var errorCode: Int?
        /// The body sent.
        public var body: String?
    }
}
