//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The fields of a send request (`POST …/Messages.json`).
///
/// Give a ``body``, ``mediaURLs``, or both; or, for a WhatsApp template (the only thing that may be sent
/// outside the 24-hour window), a ``contentSid`` with optional ``contentVariables`` and nothing else.
///
/// ```swift
/// let sms = SendMessage(to: "+14155550199", sender: .from("+14155550100"), body: "Booked for 7pm.")
/// let whatsApp = SendMessage(
///     to: MessagingAddress.whatsApp("+14155550199").rawValue,
///     sender: .from(MessagingAddress.whatsApp("+14155550100").rawValue), body: "Booked for 7pm.")
/// ```
public struct SendMessage: Sendable {
    /// Who sends the message.
    public enum Sender: Sendable, Hashable {
        /// A Twilio number, short code, sender id or channel address (`whatsapp:+…`): the `From` field.
        case from(String)
        /// A Messaging Service (`MG…`) that picks a sender from its pool: the `MessagingServiceSid` field.
        case messagingService(String)
    }

    /// The recipient: E.164, or a channel address such as `whatsapp:+14155550199`.
    public var to: String
    /// The sender.
    public var sender: Sender
    /// The text (up to 1,600 characters).
    public var body: String?
    /// Public URLs of media to attach, one `MediaUrl` field each, in order (MMS, WhatsApp).
    public var mediaURLs: [String]
    /// Where Twilio posts status callbacks (see ``MessageStatusCallback``).
    public var statusCallback: String?
    /// An approved content template (`HX…`), instead of a body.
    public var contentSid: String?
    /// The template's variables, a JSON object as a string (`{"1":"12/1"}`).
    public var contentVariables: String?
    /// Seconds the message may wait in Twilio's queue (1–36,000; Twilio's default is 36,000).
    public var validityPeriod: Int?
    /// Other fields (for example `ShortenUrls`, `SendAt`, `ScheduleType`), sent as given.
    public var additionalFields: [(String, String)]

    /// Creates a request.
    public init(
        to: String, sender: Sender, body: String? = nil, mediaURLs: [String] = [], statusCallback: String? = nil,
        contentSid: String? = nil, contentVariables: String? = nil, validityPeriod: Int? = nil,
        additionalFields: [(String, String)] = []
    ) {
        self.to = to
        self.sender = sender
        self.body = body
        self.mediaURLs = mediaURLs
        self.statusCallback = statusCallback
        self.contentSid = contentSid
        self.contentVariables = contentVariables
        self.validityPeriod = validityPeriod
        self.additionalFields = additionalFields
    }

    /// The form fields, in Twilio's names and in the order Twilio's Python SDK sends them: `To`,
    /// `StatusCallback`, `ValidityPeriod`, `ContentVariables`, the additional fields, `From` or
    /// `MessagingServiceSid`, `Body`, each `MediaUrl`, `ContentSid`.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = [("To", to)]
        if let statusCallback { fields.append(("StatusCallback", statusCallback)) }
        if let validityPeriod { fields.append(("ValidityPeriod", String(validityPeriod))) }
        if let contentVariables { fields.append(("ContentVariables", contentVariables)) }
        fields += additionalFields
        switch sender {
        case .from(let from): fields.append(("From", from))
        case .messagingService(let sid): fields.append(("MessagingServiceSid", sid))
        }
        if let body { fields.append(("Body", body)) }
        fields += mediaURLs.map { ("MediaUrl", $0) }
        if let contentSid { fields.append(("ContentSid", contentSid)) }
        return fields
    }
}
