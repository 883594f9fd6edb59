//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A Message resource as Twilio returns it (`/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`).
///
/// Fields keep Twilio's types: `num_segments`, `num_media` and `price` are strings, and the dates are
/// RFC 2822 strings (`"Thu, 24 Aug 2023 05:01:45 +0000"`); ``segmentCount`` and ``mediaCount`` parse the
/// counts. Keys Twilio adds later are ignored; absent or `null` optional keys read as `nil`.
public struct Message: Sendable, Hashable {
    /// `SM…` (SMS, WhatsApp) or `MM…` (MMS).
    public var sid: String
    /// `AC…`.
    public var accountSid: String
    /// The recipient: E.164, or a channel address such as `whatsapp:+14155550199`.
    public var to: String?
    /// The sender; `nil` while a Messaging Service has not picked one.
    public var from: String?
    /// The text.
    public var body: String?
    /// The status.
    public var status: MessageStatus
    /// `inbound`, `outbound-api`, `outbound-call` or `outbound-reply`.
    public var direction: String?
    /// `MG…`, when sent through a Messaging Service.
    public var messagingServiceSid: String?
    /// The number of segments, as Twilio sends it (a string; `"0"` until a Messaging Service picks a
    /// sender).
    public var numSegments: String?
    /// The number of media items, as Twilio sends it (a string).
    public var numMedia: String?
    /// Twilio's error code when `failed` or `undelivered` (for example 30003), else `nil`.
    public var errorCode: Int?
    /// Twilio's description of ``errorCode``.
    public var errorMessage: String?
    /// RFC 2822.
    public var dateCreated: String?
    /// RFC 2822; `nil` until sent.
    public var dateSent: String?
    /// RFC 2822.
    public var dateUpdated: String?
    /// The price (a string, negative for a charge), once known.
    public var price: String?
    /// The price's currency (`USD`).
    public var priceUnit: String?
    /// `2010-04-01`.
    public var apiVersion: String?
    /// The resource's path, relative to the API's origin.
    public var uri: String?
    /// Related resources' paths (`media`).
    public var subresourceURIs: [String: String]

    /// ``numSegments`` as a number.
    public var segmentCount: Int? { numSegments.flatMap { Int($0) } }
    /// ``numMedia`` as a number.
    public var mediaCount: Int? { numMedia.flatMap { Int($0) } }
    /// ``MessagingAddress/channel`` of ``to`` (the channel the message travels on).
    public var channel: MessagingAddress.Channel { MessagingAddress(to ?? from ?? "").channel }
    /// What ``errorCode`` means for the sender, if there is one.
    public var errorReason: MessagingError.Reason? { errorCode.map { MessagingError.Reason(twilioCode: $0) } }
}

extension Message: Decodable {
    private enum CodingKeys: String, CodingKey {
        case sid, to, from, body, status, direction, price, uri
        case accountSid = "account_sid"
        case messagingServiceSid = "messaging_service_sid"
        case numSegments = "num_segments"
        case numMedia = "num_media"
        case errorCode = "error_code"
        case errorMessage = "error_message"
        case dateCreated = "date_created"
        case dateSent = "date_sent"
        case dateUpdated = "date_updated"
        case priceUnit = "price_unit"
        case apiVersion = "api_version"
        case subresourceURIs = "subresource_uris"
    }

    /// Decodes Twilio's JSON (snake_case keys). Counts and the error code are accepted as numbers or
    /// strings.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func text(_ key: CodingKeys) -> String? {
            if let string = try? container.decodeIfPresent(String.self, forKey: key) { return string }
            if let number = try? container.decodeIfPresent(Int.self, forKey: key) { return String(number) }
            return nil
        }
        sid = try container.decode(String.self, forKey: .sid)
        accountSid = try container.decode(String.self, forKey: .accountSid)
        status = try container.decode(MessageStatus.self, forKey: .status)
        to = text(.to)
        from = text(.from)
        body = text(.body)
        direction = text(.direction)
        messagingServiceSid = text(.messagingServiceSid)
        numSegments = text(.numSegments)
        numMedia = text(.numMedia)
        errorCode = text(.errorCode).flatMap { Int($0) }
        errorMessage = text(.errorMessage)
        dateCreated = text(.dateCreated)
        dateSent = text(.dateSent)
        dateUpdated = text(.dateUpdated)
        price = text(.price)
        priceUnit = text(.priceUnit)
        apiVersion = text(.apiVersion)
        uri = text(.uri)
        subresourceURIs = (try? container.decodeIfPresent([String: String].self, forKey: .subresourceURIs)) ?? [:]
    }
}
