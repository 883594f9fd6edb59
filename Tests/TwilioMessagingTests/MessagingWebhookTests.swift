//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import TwilioCore
import TwilioMessaging

/// Inbound-message and status-callback webhooks parsed from realistic form bodies.
@Suite("Messaging webhooks")
struct MessagingWebhookTests {
    static let account = "AC0123456789abcdef0123456789abcdef"

    static func form(_ fields: [(String, String)]) -> [UInt8] { Array(FormEncoding.encode(fields).utf8) }

    @Test("an inbound SMS: the fields, the sender's geography, every parameter kept in order")
    func inboundSMS() throws {
        let fields: [(String, String)] = [
            ("ToCountry", "US"), ("ToState", "CA"), ("SmsMessageSid", "SM1"), ("NumMedia", "0"), ("FromZip", "94105"),
            ("SmsSid", "SM1"), ("SmsStatus", "received"), ("FromCity", "SAN FRANCISCO"), ("Body", "Table for 2 at 8? 😀 & thanks"),
            ("To", "+14155550100"), ("NumSegments", "1"), ("MessageSid", "SM1"), ("AccountSid", Self.account),
            ("From", "+14155550199"), ("ApiVersion", "2010-04-01"),
        ]
        let message = try InboundMessage(formBody: Self.form(fields))
        #expect(message.messageSid == "SM1" && message.accountSid == Self.account)
        #expect(message.from == "+14155550199" && message.to == "+14155550100" && message.channel == .sms)
        #expect(message.body == "Table for 2 at 8? 😀 & thanks" && message.numMedia == 0 && message.media.isEmpty)
        #expect(message.numSegments == 1 && message.smsStatus == .received && message.apiVersion == "2010-04-01")
        #expect(message.fromGeography?.city == "SAN FRANCISCO" && message.fromGeography?.zip == "94105")
        #expect(message.toGeography?.state == "CA" && message.toGeography?.city == nil)
        #expect(message.profileName == nil && message.location == nil && message.referral.isEmpty)
        #expect(message.parameters.map(\.0) == fields.map(\.0) && message.parameters.map(\.1) == fields.map(\.1))
        #expect(message.value(of: "SmsSid") == "SM1" && message.value(of: "Nope") == nil)
    }

    @Test("an inbound WhatsApp message with media, a referral, a button and a location")
    func inboundWhatsApp() throws {
        let message = try InboundMessage(parameters: [
            ("MessageSid", "MM1"), ("AccountSid", Self.account), ("From", "whatsapp:+14155550199"),
            ("To", "whatsapp:+14155550100"), ("Body", ""), ("NumMedia", "2"), ("MediaUrl0", "https://api.twilio.com/m0"),
            ("MediaContentType0", "image/jpeg"), ("MediaUrl1", "https://api.twilio.com/m1"), ("ProfileName", "Zoë"),
            ("WaId", "14155550199"), ("Forwarded", "true"), ("FrequentlyForwarded", "false"), ("ButtonText", "Yes"),
            ("ButtonPayload", "yes:42"), ("Latitude", "37.7749295"), ("Longitude", "-122.4194155"), ("Label", "Office"),
            ("ReferralSourceId", "ad-7"), ("ReferralSourceType", "ad"), ("ReferralNumMedia", "0"),
            ("OriginalRepliedMessageSid", "SM9"), ("MessageType", "image"), ("ChannelMetadata", #"{"type":"whatsapp"}"#),
        ])
        #expect(message.channel == .whatsApp && message.body.isEmpty && message.numMedia == 2)
        #expect(
            message.media == [
                .init(url: "https://api.twilio.com/m0", contentType: "image/jpeg"),
                .init(url: "https://api.twilio.com/m1", contentType: nil),
            ])
        #expect(message.profileName == "Zoë" && message.waId == "14155550199" && message.forwarded == true)
        #expect(message.frequentlyForwarded == false && message.buttonText == "Yes" && message.buttonPayload == "yes:42")
        #expect(message.location == .init(latitude: 37.7749295, longitude: -122.4194155, address: nil, label: "Office"))
        #expect(message.referral == ["SourceId": "ad-7", "SourceType": "ad", "NumMedia": "0"])
        #expect(message.originalRepliedMessageSid == "SM9" && message.messageType == "image")
        #expect(message.value(of: "ChannelMetadata") == #"{"type":"whatsapp"}"#)
        #expect(message.fromGeography == nil)
    }

    @Test("missing required fields and malformed numbers are typed errors")
    func inboundErrors() {
        let base: [(String, String)] = [
            ("MessageSid", "SM1"), ("AccountSid", Self.account), ("From", "+14155550199"), ("To", "+14155550100"),
        ]
        #expect(throws: Never.self) { try InboundMessage(parameters: base) }
        for name in ["MessageSid", "AccountSid", "From", "To"] {
            #expect(throws: MessagingWebhookError(kind: .missingField, field: name)) {
                try InboundMessage(parameters: base.filter { $0.0 != name })
            }
            #expect(throws: MessagingWebhookError(kind: .missingField, field: name)) {
                try InboundMessage(parameters: base.map { $0.0 == name ? (name, "") : $0 })
            }
        }
        let malformed: [([(String, String)], MessagingWebhookError)] = [
            ([("NumMedia", "two")], .init(kind: .malformedField, field: "NumMedia")),
            ([("NumMedia", "-1")], .init(kind: .malformedField, field: "NumMedia")),
            ([("NumMedia", "101")], .init(kind: .malformedField, field: "NumMedia")),
            ([("NumMedia", "99999999999999999999")], .init(kind: .malformedField, field: "NumMedia")),
            ([("NumMedia", "1")], .init(kind: .missingField, field: "MediaUrl0")),
            ([("NumSegments", "1.5")], .init(kind: .malformedField, field: "NumSegments")),
            ([("Latitude", "north"), ("Longitude", "1")], .init(kind: .malformedField, field: "Latitude")),
            ([("Latitude", "nan"), ("Longitude", "1")], .init(kind: .malformedField, field: "Latitude")),
            ([("Latitude", "1")], .init(kind: .missingField, field: "Longitude")),
        ]
        for (extra, expected) in malformed {
            #expect(throws: expected, "\(extra)") { try InboundMessage(parameters: base + extra) }
        }
        #expect(throws: MessagingWebhookError(kind: .badEncoding, field: "")) {
            try InboundMessage(formBody: Array("MessageSid=%ZZ".utf8))
        }
        #expect(throws: MessagingWebhookError(kind: .badEncoding, field: "")) { try InboundMessage(formBody: [0x42, 0x3D, 0xFF]) }
        #expect(throws: MessagingWebhookError(kind: .missingField, field: "MessageSid")) { try InboundMessage(formBody: []) }
    }

    @Test("status callbacks through an SMS's lifecycle and a WhatsApp message's")
    func statusLifecycle() throws {
        func callback(_ status: String, _ extra: [(String, String)] = []) throws -> MessageStatusCallback {
            try MessageStatusCallback(
                formBody: Self.form(
                    [("SmsSid", "SM1"), ("SmsStatus", status), ("MessageStatus", status), ("To", "+14155550199")] + extra + [
                        ("MessageSid", "SM1"), ("AccountSid", Self.account), ("From", "+14155550100"), ("ApiVersion", "2010-04-01"),
                    ]))
        }
        let sending = try callback("sending")
        let sent = try callback("sent")
        let delivered = try callback("delivered", [("RawDlrDoneDate", "2308240501")])
        #expect(sending.status == .sending && sent.status == .sent && delivered.status == .delivered)
        #expect(sending.status.progress < sent.status.progress && sent.status.progress < delivered.status.progress)
        #expect(delivered.rawDlrDoneDate == "2308240501" && delivered.status.isFinal && !delivered.status.isFailure)
        #expect(delivered.channel == .sms && delivered.errorCode == nil && delivered.errorReason == nil)
        #expect(delivered.smsSid == "SM1" && delivered.apiVersion == "2010-04-01" && delivered.to == "+14155550199")

        let undelivered = try callback("undelivered", [("ErrorCode", "21610")])
        #expect(undelivered.status.isFailure && undelivered.errorCode == 21610 && undelivered.errorReason == .unsubscribed)
        let failed = try callback("failed", [("ErrorCode", "30006"), ("ErrorMessage", "Landline or unreachable carrier")])
        #expect(failed.errorReason == .invalidRecipient && failed.errorMessage == "Landline or unreachable carrier")

        let read = try MessageStatusCallback(parameters: [
            ("EventType", "READ"), ("ChannelPrefix", "whatsapp"), ("ChannelInstallSid", "XE1"),
            ("ChannelStatusMessage", "Message read"), ("MessageStatus", "read"), ("To", "whatsapp:+14155550199"),
            ("MessageSid", "SM2"), ("AccountSid", Self.account), ("MessagingServiceSid", "MG1"),
        ])
        #expect(read.status == .read && read.channel == .whatsApp && read.eventType == "READ")
        #expect(read.channelInstallSid == "XE1" && read.channelStatusMessage == "Message read" && read.messagingServiceSid == "MG1")
        #expect(read.status.progress > MessageStatus.delivered.progress)
        let window = try callback("failed", [("ErrorCode", "63016")])
        #expect(window.errorReason == .outsideWhatsAppWindow)
    }

    @Test("unknown statuses and extra fields parse; missing fields and malformed codes are typed errors")
    func statusTolerance() throws {
        let base: [(String, String)] = [("MessageSid", "SM1"), ("AccountSid", Self.account)]
        let future = try MessageStatusCallback(
            parameters: base + [("MessageStatus", "beamed_to_mars"), ("BrandNewField", "x"), ("ErrorCode", "")])
        #expect(future.status == .other("beamed_to_mars") && future.status.rawValue == "beamed_to_mars")
        #expect(future.status.progress == 0 && !future.status.isFinal && future.errorCode == nil)
        #expect(future.value(of: "BrandNewField") == "x" && future.parameters.count == 5)
        let legacy = try MessageStatusCallback(parameters: base + [("SmsStatus", "sent")])
        #expect(legacy.status == .sent)
        let both = try MessageStatusCallback(parameters: base + [("SmsStatus", "sent"), ("MessageStatus", "delivered")])
        #expect(both.status == .delivered)
        #expect(throws: MessagingWebhookError(kind: .missingField, field: "MessageStatus")) {
            try MessageStatusCallback(parameters: base)
        }
        #expect(throws: MessagingWebhookError(kind: .missingField, field: "MessageSid")) {
            try MessageStatusCallback(parameters: [("AccountSid", Self.account), ("MessageStatus", "sent")])
        }
        #expect(throws: MessagingWebhookError(kind: .malformedField, field: "ErrorCode")) {
            try MessageStatusCallback(parameters: base + [("MessageStatus", "failed"), ("ErrorCode", "30x")])
        }
        #expect(throws: MessagingWebhookError(kind: .badEncoding, field: "")) {
            try MessageStatusCallback(formBody: Array("MessageSid=SM1&x=%4".utf8))
        }
    }

    @Test("every status Twilio documents round-trips through its spelling")
    func statusSpellings() {
        let all = [
            "queued", "sending", "sent", "failed", "delivered", "undelivered", "receiving", "received", "accepted", "scheduled",
            "read", "partially_delivered", "canceled",
        ]
        for spelling in all {
            let status = MessageStatus(spelling)
            #expect(status.rawValue == spelling && "\(status)" == spelling)
            if case .other = status { Issue.record("\(spelling) unknown") }
        }
    }

    @Test("random and truncated bodies never crash the parsers")
    func garbage() throws {
        var generator = SplitMix(seed: 0x5EED)
        let valid = Array(
            FormEncoding.encode([
                ("MessageSid", "SM1"), ("AccountSid", Self.account), ("From", "+1"), ("To", "+2"), ("NumMedia", "1"),
                ("MediaUrl0", "u"), ("MessageStatus", "sent"), ("Latitude", "1"), ("Longitude", "2"),
            ]).utf8)
        for length in 0...valid.count {
            _ = try? InboundMessage(formBody: valid.prefix(length))
            _ = try? MessageStatusCallback(formBody: valid.prefix(length))
        }
        let alphabet = Array("=&%+ab0129AZ:ÿ".utf8) + [0, 0xFF, 0xC3]
        for _ in 0..<2000 {
            let bytes = (0..<Int(generator.next() % 64)).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
            _ = try? InboundMessage(formBody: bytes)
            _ = try? MessageStatusCallback(formBody: bytes)
        }
        #expect(try InboundMessage(formBody: valid).media.count == 1)
    }
}

/// A small deterministic generator (SplitMix64).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
