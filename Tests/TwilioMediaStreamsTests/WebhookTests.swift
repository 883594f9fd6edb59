//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import TwilioCore
import TwilioMediaStreams

@Suite("Webhook forms and status callbacks")
struct WebhookTests {
    @Test("form decoding: + is a space, %XX a UTF-8 byte, repeated names kept, bad escapes refused")
    func formDecoding() throws {
        let fields = try #require(FormEncoding.decode("To=%2B14155550199&Body=hello+w%C3%B6rld&E=a&E=b&Empty=&Flag"))
        #expect(
            fields.map { [$0.0, $0.1] } == [
                ["To", "+14155550199"], ["Body", "hello wörld"], ["E", "a"], ["E", "b"], ["Empty", ""], ["Flag", ""],
            ])
        #expect(FormEncoding.decode("a=%G1") == nil)
        #expect(FormEncoding.decode("a=%4") == nil)
        #expect(FormEncoding.decode("a=%FF") == nil)  // not UTF-8
        let awkward = [("Twiml", "<Response><Say>Hi & bye ✓</Say></Response>"), ("K y", "a+b=c/d~e_f.g-h")]
        let encoded = FormEncoding.encode(awkward)
        #expect(encoded == "Twiml=%3CResponse%3E%3CSay%3EHi+%26+bye+%E2%9C%93%3C%2FSay%3E%3C%2FResponse%3E&K+y=a%2Bb%3Dc%2Fd~e_f.g-h")
        #expect(FormEncoding.decode(encoded)!.map { [$0.0, $0.1] } == awkward.map { [$0.0, $0.1] })
    }

    static let completedBody =
        "Called=%2B14155550199&ToState=CA&CallerCountry=US&Direction=outbound-api&Timestamp=Tue%2C+25+Nov+2026+12%3A00%3A05+%2B0000"
        + "&CallbackSource=call-progress-events&SipResponseCode=200&CallerState=CA&ToZip=&SequenceNumber=3"
        + "&CallSid=CAfedcba9876543210fedcba9876543210&To=%2B14155550199&CallerZip=&ToCountry=US&CalledZip=&ApiVersion=2010-04-01"
        + "&CallStatus=completed&CallDuration=42&From=%2B14155550100&AccountSid=AC0123456789abcdef0123456789abcdef&Duration=1"

    @Test("a completed-call callback parses, and its signature validates over all its fields")
    func statusCallback() throws {
        let callback = try CallStatusCallback(formBody: Array(Self.completedBody.utf8))
        #expect(callback.callSid == "CAfedcba9876543210fedcba9876543210")
        #expect(callback.accountSid == "AC0123456789abcdef0123456789abcdef")
        #expect(callback.status == .completed && callback.status.isFinal)
        #expect(callback.sequenceNumber == 3 && callback.callDuration == 42 && callback.sipResponseCode == 200)
        #expect(callback.timestamp == "Tue, 25 Nov 2026 12:00:05 +0000")
        #expect(callback.direction == "outbound-api" && callback.from == "+14155550100")
        #expect(callback.parameters.count == 21)
        let validator = RequestValidator(authToken: "test-token")
        let url = "https://agent.example.com/twilio/status"
        let signature = validator.signature(url: url, parameters: callback.parameters)
        #expect(validator.isValid(signature: signature, url: url, parameters: callback.parameters))
        var forged = callback.parameters
        forged[forged.firstIndex { $0.0 == "CallDuration" }!].1 = "4200"
        #expect(!validator.isValid(signature: signature, url: url, parameters: forged))
    }

    @Test("statuses map both ways; unknown ones are kept; missing ids are errors")
    func statuses() throws {
        for name in ["queued", "initiated", "ringing", "in-progress", "completed", "busy", "failed", "no-answer", "canceled", "paused"] {
            #expect(CallStatusCallback.Status(name).rawValue == name)
        }
        #expect(CallStatusCallback.Status("in-progress") == .inProgress && !CallStatusCallback.Status("ringing").isFinal)
        #expect(throws: CallStatusCallback.ParseError(field: "CallSid")) {
            try CallStatusCallback(parameters: [("AccountSid", "AC1"), ("CallStatus", "ringing")])
        }
        #expect(throws: CallStatusCallback.ParseError(field: "SequenceNumber")) {
            try CallStatusCallback(parameters: [
                ("CallSid", "CA1"), ("AccountSid", "AC1"), ("CallStatus", "ringing"), ("SequenceNumber", "x"),
            ])
        }
    }
}
