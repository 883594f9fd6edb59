//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioMessaging
import TwilioREST

/// Addresses, send requests, the Message resource's decoding and error reasons.
@Suite("Messaging types")
struct MessagingTypesTests {
    @Test(
        "addresses: channel prefixes, WhatsApp numbers, E.164",
        arguments: [
            ("+14155550199", MessagingAddress.Channel.sms, "+14155550199", true),
            ("whatsapp:+14155550199", .whatsApp, "+14155550199", true),
            ("WhatsApp:+14155550199", .whatsApp, "+14155550199", true),
            ("messenger:1234", .other("messenger"), "1234", false),
            ("MyBrand", .sms, "MyBrand", false),
            ("12345", .sms, "12345", false),
            ("+0123", .sms, "+0123", false),
            ("+1415555019912345", .sms, "+1415555019912345", false),
            (":+1", .sms, ":+1", false),
            ("", .sms, "", false),
        ])
    func addresses(raw: String, channel: MessagingAddress.Channel, address: String, e164: Bool) {
        let parsed = MessagingAddress(raw)
        #expect(parsed.channel == channel && parsed.address == address && parsed.isE164 == e164)
    }

    @Test("address builders write Twilio's spelling")
    func addressBuilders() {
        #expect(MessagingAddress.whatsApp("+14155550199").rawValue == "whatsapp:+14155550199")
        #expect(MessagingAddress.sms("+14155550199").description == "+14155550199")
        #expect(MessagingAddress(channel: .other("rcs"), address: "x").rawValue == "rcs:x")
        #expect(MessagingAddress.Channel.whatsApp.description == "whatsapp")
    }

    @Test("send fields follow the SDK's order, with every option")
    func sendFields() {
        let request = SendMessage(
            to: "+1", sender: .messagingService("MG1"), body: "b", mediaURLs: ["m1", "m2"], statusCallback: "s", contentSid: "HX1",
            contentVariables: "{}", validityPeriod: 600, additionalFields: [("ShortenUrls", "true")])
        #expect(
            request.formFields.map(\.0) == [
                "To", "StatusCallback", "ValidityPeriod", "ContentVariables", "ShortenUrls", "MessagingServiceSid", "Body", "MediaUrl",
                "MediaUrl", "ContentSid",
            ])
        #expect(SendMessage(to: "+1", sender: .from("+2")).formFields.map(\.0) == ["To", "From"])
        #expect(MessageQuery().queryFields.isEmpty && MessageQuery(from: "+2", pageSize: 5).queryFields.map(\.0) == ["From", "PageSize"])
    }

    @Test("the Message resource decodes Twilio's JSON leniently: numbers or strings, nulls, unknown keys")
    func messageDecoding() throws {
        let json = """
            {"sid":"SM1","account_sid":"AC1","status":"delivered","num_segments":2,"num_media":"1","error_code":"30003",
             "to":"whatsapp:+1","from":null,"body":null,"brand_new":{"x":1},"subresource_uris":null}
            """
        let message = try JSONDecoder().decode(Message.self, from: Data(json.utf8))
        #expect(message.status == .delivered && message.numSegments == "2" && message.segmentCount == 2 && message.mediaCount == 1)
        #expect(message.errorCode == 30003 && message.from == nil && message.body == nil && message.subresourceURIs.isEmpty)
        #expect(message.channel == .whatsApp)
        let odd = try JSONDecoder().decode(Message.self, from: Data(#"{"sid":"SM1","account_sid":"AC1","status":"teleported"}"#.utf8))
        #expect(odd.status == .other("teleported") && odd.to == nil)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Message.self, from: Data(#"{"sid":"SM1"}"#.utf8)) }
    }

    @Test(
        "error codes map to reasons, then HTTP statuses",
        arguments: [
            (21211, 400, MessagingError.Reason.invalidRecipient), (21614, 400, .invalidRecipient), (21612, 400, .invalidRecipient),
            (21212, 400, .invalidSender), (21606, 400, .invalidSender), (63007, 400, .invalidSender), (21610, 400, .unsubscribed),
            (63016, 400, .outsideWhatsAppWindow), (20429, 429, .rateLimited), (14107, 429, .rateLimited),
            (21611, 400, .rateLimited), (20003, 401, .authentication), (20404, 404, .notFound), (99999, 429, .rateLimited),
            (99999, 401, .authentication), (99999, 404, .notFound), (99999, 502, .serverError), (99999, 400, .other),
        ])
    func reasons(code: Int, status: Int, reason: MessagingError.Reason) {
        #expect(MessagingError.Reason(twilioCode: code, httpStatus: status) == reason)
        let error = MessagingError(TwilioRESTError(kind: .api, httpStatus: status, code: code, message: "m"))
        #expect(error.reason == reason && error.code == code && "\(error)".contains("\(reason)"))
    }

    @Test("transport failures keep their kind as the reason")
    func transportReasons() {
        #expect(MessagingError(TwilioRESTError(kind: .timeout, message: "t")).reason == .timeout)
        #expect(MessagingError(TwilioRESTError(kind: .transport, message: "t")).reason == .transport)
        #expect(MessagingError(TwilioRESTError(kind: .invalidResponse, message: "t")).reason == .invalidResponse)
        #expect(MessagingError(TwilioRESTError(kind: .api, httpStatus: 503, message: "t")).reason == .serverError)
    }
}
