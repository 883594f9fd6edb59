//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A message's status, as Twilio spells it in the Message resource's `status`, in a status callback's
/// `MessageStatus` and in an inbound webhook's `SmsStatus`.
///
/// Outbound messages go `queued` (or `accepted`/`scheduled` through a Messaging Service) → `sending` →
/// `sent` → `delivered` (WhatsApp: then `read`), or end `undelivered`/`failed`/`canceled`. Inbound ones are
/// `receiving` then `received`. Twilio sends no callback for the initial status, and callbacks may arrive
/// out of order: compare ``progress`` and never let a message's status go backwards.
public enum MessageStatus: Sendable, Hashable, CustomStringConvertible {
    /// `queued`: accepted, waiting to be sent.
    case queued
    /// `sending`.
    case sending
    /// `sent`: handed to the carrier or channel.
    case sent
    /// `failed`: not sent (see the error code).
    case failed
    /// `delivered`: the carrier or channel confirmed delivery.
    case delivered
    /// `undelivered`: the carrier or channel reported non-delivery (see the error code).
    case undelivered
    /// `receiving`: an inbound message still arriving.
    case receiving
    /// `received`: an inbound message.
    case received
    /// `accepted`: a Messaging Service took the request and has not picked a sender yet.
    case accepted
    /// `scheduled`: to be sent at `SendAt`.
    case scheduled
    /// `read`: WhatsApp read receipt.
    case read
    /// `partially_delivered`.
    case partiallyDelivered
    /// `canceled`: a scheduled message was canceled.
    case canceled
    /// A value this version does not know, kept as sent.
    case other(String)

    /// Parses Twilio's spelling; unknown values become ``other(_:)``.
    public init(_ value: String) {
        switch value {
        case "queued": self = .queued
        case "sending": self = .sending
        case "sent": self = .sent
        case "failed": self = .failed
        case "delivered": self = .delivered
        case "undelivered": self = .undelivered
        case "receiving": self = .receiving
        case "received": self = .received
        case "accepted": self = .accepted
        case "scheduled": self = .scheduled
        case "read": self = .read
        case "partially_delivered": self = .partiallyDelivered
        case "canceled": self = .canceled
        default: self = .other(value)
        }
    }

    /// Twilio's spelling.
    public var rawValue: String {
        switch self {
        case .queued: "queued"
        case .sending: "sending"
        case .sent: "sent"
        case .failed: "failed"
        case .delivered: "delivered"
        case .undelivered: "undelivered"
        case .receiving: "receiving"
        case .received: "received"
        case .accepted: "accepted"
        case .scheduled: "scheduled"
        case .read: "read"
        case .partiallyDelivered: "partially_delivered"
        case .canceled: "canceled"
        case .other(let value): value
        }
    }

    /// Twilio's spelling.
    public var description: String { rawValue }

    /// Whether the message has reached an end state: delivered, undelivered, failed, canceled, partially
    /// delivered, received or read. (On WhatsApp a `read` may still follow `delivered`.)
    public var isFinal: Bool {
        switch self {
        case .delivered, .undelivered, .failed, .received, .read, .canceled, .partiallyDelivered: true
        default: false
        }
    }

    /// Whether the message did not reach its recipient.
    public var isFailure: Bool {
        switch self {
        case .failed, .undelivered, .canceled: true
        default: false
        }
    }

    /// How far along an outbound message is, to discard callbacks that arrive out of order: a status with
    /// a lower value never replaces one with a higher value. Unknown statuses are 0.
    ///
    /// `accepted`/`scheduled`/`queued` 1, `sending` 2, `sent` 3, `delivered`/`undelivered`/`failed`/
    /// `canceled`/`partially_delivered` 4, `read` 5; `receiving` 1, `received` 4.
    public var progress: Int {
        switch self {
        case .accepted, .scheduled, .queued, .receiving: 1
        case .sending: 2
        case .sent: 3
        case .delivered, .undelivered, .failed, .canceled, .partiallyDelivered, .received: 4
        case .read: 5
        case .other: 0
        }
    }
}

extension MessageStatus: Decodable {
    /// Decodes Twilio's JSON string.
    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode(String.self))
    }
}
