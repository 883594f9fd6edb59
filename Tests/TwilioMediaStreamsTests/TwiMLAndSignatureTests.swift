//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioCore
import TwilioMediaStreams
import VoicePipeTestSupport

/// Golden vectors made by Twilio's official Python SDK (TestVectors/twilio/).
@Suite("TwiML against the official SDK")
struct TwiMLTests {
    struct File: Decodable {
        struct Case: Decodable {
            var name: String
            var build: Element
            var xml: String
        }
        var cases: [Case]
    }

    struct Element: Decodable {
        var element: String?
        var text: String?
        var attributes: [[String]]?
        var children: [Element]?

        var node: TwiML.Node {
            if let text, element == nil { return .text(text) }
            var attributes: [String: String] = [:]
            for pair in self.attributes ?? [] { attributes[pair[0]] = pair[1] }
            var children = (self.children ?? []).map(\.node)
            if let text, element != nil { children.insert(.text(text), at: 0) }
            return .element(name: element!, attributes: attributes, children: children)
        }
    }

    static let file: File = try! JSONDecoder().decode(File.self, from: Data(TestVectors.bytes("twilio/twiml.json")))

    @Test("every SDK case is reproduced byte for byte")
    func goldenCases() throws {
        #expect(Self.file.cases.count >= 10)
        for testCase in Self.file.cases {
            let built = TwiML(root: testCase.build.node).xml
            #expect(built == testCase.xml, "\(testCase.name)")
        }
    }

    @Test("the dial builder writes what the SDK writes for a transfer")
    func dialBuilder() throws {
        let expected = try #require(Self.file.cases.first { $0.name == "say_then_dial_number" }).xml
        let xml = TwiML.response([.say("Transferring you now."), .dial("+14155550123", callerId: "+14155550100", timeout: 20)]).xml
        #expect(xml == expected)
    }

    @Test("the verb builders write what the SDK writes for a typical agent call")
    func builders() {
        let xml = TwiML.response([
            .say("Connecting you.", voice: "Polly.Joanna"),
            .pause(seconds: 1),
            .connect(TwiML.Stream(url: "wss://agent.example.com/twilio/media", parameters: [("callerId", "+14155550199")])),
            .hangup,
        ]).xml
        #expect(
            xml
                == #"<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="Polly.Joanna">Connecting you.</Say><Pause length="1" /><Connect><Stream url="wss://agent.example.com/twilio/media"><Parameter name="callerId" value="+14155550199" /></Stream></Connect><Hangup /></Response>"#
        )
    }
}

@Suite("RequestValidator against the official SDK")
struct RequestValidatorTests {
    struct File: Decodable {
        struct Case: Decodable {
            var name: String
            var auth_token: String
            var algorithm: String?
            var url: String
            var params: [[String]]?
            var body: String?
            var signature: String?
            var valid: Bool?
            /// What VoicePipe should return: differs from the SDK's `valid` only on documented SDK quirks.
            var expected_valid: Bool?
            var validate_with: String?
        }
        var cases: [Case]
    }

    static let file: File = try! JSONDecoder().decode(File.self, from: Data(TestVectors.bytes("twilio/signatures.json")))

    @Test("signatures and validity match the SDK on every case, positive and negative")
    func goldenCases() throws {
        #expect(Self.file.cases.count >= 10)
        for testCase in Self.file.cases {
            let validator = RequestValidator(authToken: testCase.auth_token)
            let algorithm: RequestValidator.Algorithm = testCase.algorithm == "HMAC_SHA256" ? .sha256 : .sha1
            let params = (testCase.params ?? []).map { ($0[0], $0.count > 1 ? $0[1] : "") }
            let body = testCase.body.map { Array($0.utf8) }  // VoicePipe always checks bodySHA256 when there is a body
            if let valid = testCase.expected_valid ?? testCase.valid {
                let ours = validator.isValid(
                    signature: testCase.signature ?? "", url: testCase.url, parameters: params, body: body, algorithm: algorithm)
                #expect(ours == valid, "\(testCase.name)")
            }
        }
    }
}
