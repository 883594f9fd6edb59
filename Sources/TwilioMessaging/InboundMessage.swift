//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// An incoming SMS, MMS or WhatsApp message: the form Twilio POSTs to a number's (or Messaging Service's)
/// messaging webhook, parsed.
///
/// Validate the request's `X-Twilio-Signature` first (`TwilioCore.RequestValidator`) with every received
/// field, ``parameters``: Twilio adds fields without notice, and unknown ones are kept there, never
/// rejected. Answer with TwiML: an empty `<Response />` to reply later over REST, or
/// `TwiML.Node.message(_:to:from:action:method:)` to reply at once. Twilio may deliver the same
/// message twice; deduplicate on ``messageSid``.
///
/// ```swift
/// let inbound = try InboundMessage(formBody: request.body)
/// if inbound.channel == .whatsApp { print(inbound.profileName ?? "", inbound.waId ?? "") }
/// for item in inbound.media { print(item.contentType ?? "?", item.url) }
/// ```
public struct InboundMessage: Sendable, Hashable {
    /// A media item (`MediaUrlN`, `MediaContentTypeN`).
    public struct Media: Sendable, Hashable {
        /// Where to fetch it (Twilio's media URL; fetching may need the account's credentials).
        public var url: String
        /// The MIME type, for example `image/jpeg`.
        public var contentType: String?

        /// A media item.
        public init(url: String, contentType: String?) {
            self.url = url
            self.contentType = contentType
        }
    }

    /// The geography Twilio derived for a number (`FromCity`, `FromState`, `FromZip`, `FromCountry` or
    /// the `To…` ones); absent for WhatsApp.
    public struct Geography: Sendable, Hashable {
        /// City.
        public var city: String?
        /// State or province.
        public var state: String?
        /// Postal code.
        public var zip: String?
        /// ISO country code.
        public var country: String?

        /// A geography; every part optional.
        public init(city: String? = nil, state: String? = nil, zip: String? = nil, country: String? = nil) {
            self.city = city
            self.state = state
            self.zip = zip
            self.country = country
        }
    }

    /// A location shared on WhatsApp (`Latitude`, `Longitude`, `Address`, `Label`).
    public struct Location: Sendable, Hashable {
        /// Degrees north.
        public var latitude: Double
        /// Degrees east.
        public var longitude: Double
        /// The place's address, if shared.
        public var address: String?
        /// The place's name, if shared.
        public var label: String?

        /// A location.
        public init(latitude: Double, longitude: Double, address: String? = nil, label: String? = nil) {
            self.latitude = latitude
            self.longitude = longitude
            self.address = address
            self.label = label
        }
    }

    /// `MessageSid`: `SM…` or `MM…` (with media).
    public var messageSid: String
    /// `AccountSid`.
    public var accountSid: String
    /// `MessagingServiceSid`, when the number belongs to a Messaging Service.
    public var messagingServiceSid: String?
    /// `From`: the sender, E.164 or `whatsapp:+E164`.
    public var from: String
    /// `To`: the receiving Twilio number or channel address.
    public var to: String
    /// `Body`: the text (empty for a media-only message).
    public var body: String
    /// `NumMedia`.
    public var numMedia: Int
    /// The media items, in order (index 0 first).
    public var media: [Media]
    /// `NumSegments`.
    public var numSegments: Int?
    /// `SmsStatus` (`received`).
    public var smsStatus: MessageStatus?
    /// `ApiVersion`.
    public var apiVersion: String?
    /// `MessageType` (for example `text`, `image`, `location`, `button`, `interactive`).
    public var messageType: String?
    /// `FromCity`/`FromState`/`FromZip`/`FromCountry`, if any is present.
    public var fromGeography: Geography?
    /// `ToCity`/`ToState`/`ToZip`/`ToCountry`, if any is present.
    public var toGeography: Geography?
    /// WhatsApp: `ProfileName`, the sender's display name.
    public var profileName: String?
    /// WhatsApp: `WaId`, the sender's WhatsApp id (digits, no `+`).
    public var waId: String?
    /// WhatsApp: `Forwarded`.
    public var forwarded: Bool?
    /// WhatsApp: `FrequentlyForwarded`.
    public var frequentlyForwarded: Bool?
    /// WhatsApp: `ButtonText`, the label of the quick-reply button pressed.
    public var buttonText: String?
    /// WhatsApp: `ButtonPayload`, the developer-defined payload of that button.
    public var buttonPayload: String?
    /// WhatsApp: a shared location.
    public var location: Location?
    /// WhatsApp: `OriginalRepliedMessageSid`, the message this one replies to.
    public var originalRepliedMessageSid: String?
    /// WhatsApp: `OriginalRepliedMessageSender`.
    public var originalRepliedMessageSender: String?
    /// WhatsApp click-to-chat ads: every `Referral…` field, keyed by the name after `Referral`
    /// (`SourceId`, `SourceType`, `SourceUrl`, `Body`, `Headline`, `NumMedia`, …).
    public var referral: [String: String]
    /// Every field as received, in order: what signature validation needs, and any field not parsed
    /// above (for example `ChannelMetadata`).
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    /// The channel, from the `From` address's prefix.
    public var channel: MessagingAddress.Channel { MessagingAddress(from).channel }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }

    /// The most media items read (Twilio sends at most 10 per message).
    public static let maximumMediaCount = 100

    /// Parses decoded form fields.
    ///
    /// - Throws: ``MessagingWebhookError``: ``MessagingWebhookError/Kind/missingField`` when `MessageSid`,
    ///   `AccountSid`, `From` or `To` is missing or empty, or when `NumMedia` announces a `MediaUrlN` that
    ///   is absent; ``MessagingWebhookError/Kind/malformedField`` when `NumMedia` (0–100), `NumSegments`,
    ///   `Latitude` or `Longitude` is not a number, or only one coordinate is present.
    public init(parameters: [(String, String)]) throws(MessagingWebhookError) {
        let fields = WebhookFields(parameters)
        messageSid = try fields.required("MessageSid")
        accountSid = try fields.required("AccountSid")
        from = try fields.required("From")
        to = try fields.required("To")
        body = fields["Body"] ?? ""
        messagingServiceSid = fields.optional("MessagingServiceSid")
        numMedia = try fields.integer("NumMedia") ?? 0
        guard (0...Self.maximumMediaCount).contains(numMedia) else {
            throw MessagingWebhookError(kind: .malformedField, field: "NumMedia")
        }
        var media: [Media] = []
        for index in 0..<numMedia {
            media.append(
                Media(url: try fields.required("MediaUrl\(index)"), contentType: fields.optional("MediaContentType\(index)")))
        }
        self.media = media
        numSegments = try fields.integer("NumSegments")
        smsStatus = fields.optional("SmsStatus").map(MessageStatus.init)
        apiVersion = fields.optional("ApiVersion")
        messageType = fields.optional("MessageType")
        fromGeography = Self.geography(fields, prefix: "From")
        toGeography = Self.geography(fields, prefix: "To")
        profileName = fields.optional("ProfileName")
        waId = fields.optional("WaId")
        forwarded = fields.boolean("Forwarded")
        frequentlyForwarded = fields.boolean("FrequentlyForwarded")
        buttonText = fields.optional("ButtonText")
        buttonPayload = fields.optional("ButtonPayload")
        switch (try fields.decimal("Latitude"), try fields.decimal("Longitude")) {
        case (let latitude?, let longitude?):
            location = Location(
                latitude: latitude, longitude: longitude, address: fields.optional("Address"), label: fields.optional("Label"))
        case (nil, nil):
            location = nil
        case (nil, _):
            throw MessagingWebhookError(kind: .missingField, field: "Latitude")
        case (_, nil):
            throw MessagingWebhookError(kind: .missingField, field: "Longitude")
        }
        originalRepliedMessageSid = fields.optional("OriginalRepliedMessageSid")
        originalRepliedMessageSender = fields.optional("OriginalRepliedMessageSender")
        var referral: [String: String] = [:]
        for (name, value) in parameters where name.hasPrefix("Referral") && name.count > "Referral".count {
            referral[String(name.dropFirst("Referral".count))] = value
        }
        self.referral = referral
        storedParameters = parameters.map { WebhookParameter(name: $0.0, value: $0.1) }
    }

    /// Parses a form body (`application/x-www-form-urlencoded`, as Twilio POSTs it).
    ///
    /// - Throws: ``MessagingWebhookError``; ``MessagingWebhookError/Kind/badEncoding`` when the body is not
    ///   form-encoded UTF-8.
    public init(formBody: some Collection<UInt8>) throws(MessagingWebhookError) {
        try self.init(parameters: try WebhookFields(formBody: formBody).fields)
    }

    private static func geography(_ fields: WebhookFields, prefix: String) -> Geography? {
        let geography = Geography(
            city: fields.optional(prefix + "City"), state: fields.optional(prefix + "State"),
            zip: fields.optional(prefix + "Zip"), country: fields.optional(prefix + "Country"))
        return geography == Geography() ? nil : geography
    }
}
