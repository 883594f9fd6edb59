//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A message status callback: the form Twilio POSTs to a message's `StatusCallback` URL as the message
/// moves along (`sent`, `delivered`, `undelivered`, `failed`, WhatsApp `read`, …), parsed.
///
/// Validate the request's `X-Twilio-Signature` first (`TwilioCore.RequestValidator`) with ``parameters``.
/// Twilio sends no callback for the initial status, and callbacks for one message may arrive out of order
/// or twice: deduplicate on (``messageSid``, ``status``, ``errorCode``) and never let a message's status go
/// back (``MessageStatus/progress``). Answer 200 with an empty body.
public struct MessageStatusCallback: Sendable, Hashable {
    /// `MessageSid`.
    public var messageSid: String
    /// `AccountSid`.
    public var accountSid: String
    /// `MessageStatus` (or, if absent, its deprecated duplicate `SmsStatus`). Unknown values are
    /// ``MessageStatus/other(_:)``.
    public var status: MessageStatus
    /// `ErrorCode`, when `failed` or `undelivered` (for example 21610, 30003, 63016).
    public var errorCode: Int?
    /// `ErrorMessage`, when Twilio sends one.
    public var errorMessage: String?
    /// `To`.
    public var to: String?
    /// `From`.
    public var from: String?
    /// `MessagingServiceSid`.
    public var messagingServiceSid: String?
    /// `ApiVersion`.
    public var apiVersion: String?
    /// `SmsSid` (a deprecated duplicate of `MessageSid`).
    public var smsSid: String?
    /// SMS: `RawDlrDoneDate`, the carrier's delivery-receipt time as `YYMMDDhhmm`.
    public var rawDlrDoneDate: String?
    /// WhatsApp and other channels: `ChannelPrefix` (for example `whatsapp`).
    public var channelPrefix: String?
    /// `ChannelInstallSid`.
    public var channelInstallSid: String?
    /// `ChannelStatusMessage`.
    public var channelStatusMessage: String?
    /// `EventType` (WhatsApp: `READ`, `DELIVERED`, …).
    public var eventType: String?
    /// Every field as received, in order (what signature validation needs, and any field not parsed above).
    public var parameters: [(String, String)] { storedParameters.map { ($0.name, $0.value) } }
    private var storedParameters: [WebhookParameter]

    /// The channel: from `ChannelPrefix` when present, else from the `To` (or `From`) address.
    public var channel: MessagingAddress.Channel {
        if let channelPrefix { return MessagingAddress(channelPrefix + ":").channel }
        return MessagingAddress(to ?? from ?? "").channel
    }

    /// What ``errorCode`` means for the sender (for example ``MessagingError/Reason/unsubscribed`` for 21610).
    public var errorReason: MessagingError.Reason? { errorCode.map { MessagingError.Reason(twilioCode: $0) } }

    /// The last value received for a field, if any.
    public func value(of name: String) -> String? { storedParameters.last { $0.name == name }?.value }

    /// Parses decoded form fields.
    ///
    /// - Throws: ``MessagingWebhookError``: ``MessagingWebhookError/Kind/missingField`` when `MessageSid`,
    ///   `AccountSid` or both `MessageStatus` and `SmsStatus` are missing or empty;
    ///   ``MessagingWebhookError/Kind/malformedField`` when `ErrorCode` is not a number.
    public init(parameters: [(String, String)]) throws(MessagingWebhookError) {
        let fields = WebhookFields(parameters)
        messageSid = try fields.required("MessageSid")
        accountSid = try fields.required("AccountSid")
        guard let status = fields.optional("MessageStatus") ?? fields.optional("SmsStatus") else {
            throw MessagingWebhookError(kind: .missingField, field: "MessageStatus")
        }
        self.status = MessageStatus(status)
        errorCode = try fields.integer("ErrorCode")
        errorMessage = fields.optional("ErrorMessage")
        to = fields.optional("To")
        from = fields.optional("From")
        messagingServiceSid = fields.optional("MessagingServiceSid")
        apiVersion = fields.optional("ApiVersion")
        smsSid = fields.optional("SmsSid")
        rawDlrDoneDate = fields.optional("RawDlrDoneDate")
        channelPrefix = fields.optional("ChannelPrefix")
        channelInstallSid = fields.optional("ChannelInstallSid")
        channelStatusMessage = fields.optional("ChannelStatusMessage")
        eventType = fields.optional("EventType")
        storedParameters = parameters.map { WebhookParameter(name: $0.0, value: $0.1) }
    }

    /// Parses a form body (`application/x-www-form-urlencoded`, as Twilio POSTs it).
    ///
    /// - Throws: ``MessagingWebhookError``; ``MessagingWebhookError/Kind/badEncoding`` when the body is not
    ///   form-encoded UTF-8.
    public init(formBody: some Collection<UInt8>) throws(MessagingWebhookError) {
        try self.init(parameters: try WebhookFields(formBody: formBody).fields)
    }
}
