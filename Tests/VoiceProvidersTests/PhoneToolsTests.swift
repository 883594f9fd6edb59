//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import VoiceAgent
import VoicePipeTestSupport
import VoiceProviders

@Suite("Phone tools")
struct PhoneToolsTests {
    /// The official SDK's rendering of the transfer TwiML (TestVectors/twilio/twiml.json, say_then_dial_number).
    static func sdkTransferTwiML() throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(TestVectors.bytes("twilio/twiml.json"))) as? [String: Any]
        let cases = object?["cases"] as? [[String: Any]] ?? []
        return try #require(cases.first { $0["name"] as? String == "say_then_dial_number" }?["xml"] as? String)
    }

    @Test("transfer_call dials an allowed number with the TwiML the official SDK writes")
    func transferAllowed() async throws {
        let updates = Mutex<[String]>([])
        let tool = ModelTool.transferCall(
            allowed: [("+14155550123", "billing"), ("+14155550124", "sales")], callerId: "+14155550100"
        ) { twiml in updates.withLock { $0.append(twiml) } }
        #expect(tool.name == "transfer_call")
        #expect(tool.parameters["properties"]?["to"]?["enum"] == ["+14155550123", "+14155550124"])
        let result = try await tool.run(["to": "+14155550123"])
        #expect(result.content.contains("+14155550123"))
        #expect(updates.withLock { $0 } == [try Self.sdkTransferTwiML().replacingOccurrences(of: #" timeout="20""#, with: "")])
    }

    @Test("transfer_call refuses a number that is not allowed, and a failed update, without dialling; the model is told")
    func transferRefused() async throws {
        let updates = Mutex(0)
        let tool = ModelTool.transferCall(allowed: [("+14155550123", "billing")]) { _ in updates.withLock { $0 += 1 } }
        let refused = try await tool.run(["to": "+19005550000"])
        #expect(refused.content.hasPrefix("error:") && refused.actions.isEmpty)
        let missing = try await tool.run([:])
        #expect(missing.content.hasPrefix("error:"))
        #expect(updates.withLock { $0 } == 0)
        struct Down: Error {}
        let failing = ModelTool.transferCall(allowed: [("+14155550123", "billing")]) { _ in throw Down() }
        let failed = try await failing.run(["to": "+14155550123"])
        #expect(failed.content.hasPrefix("error: the transfer failed"))
    }

    @Test("send_digits asks for keypad tones after the reply; bad digits are refused")
    func sendDigits() async throws {
        let tool = ModelTool.sendDigits()
        let result = try await tool.run(["digits": "1234#"])
        #expect(result.actions == [.sendDigits("1234#")])
        #expect(try await tool.run(["digits": "12a"]).actions.isEmpty)
        #expect(try await tool.run(["digits": .string(String(repeating: "1", count: 33))]).actions.isEmpty)
    }

    @Test("keypad tones are the two Q.23 frequencies of each key, 100 ms on and 100 ms off")
    func keypadTones() {
        let rate = 8000
        let audio = KeypadTones.render("5#", sampleRate: rate)
        #expect(audio.count == 4 * 800)
        // Key 5 is 770 + 1336 Hz: fit both and check they carry the energy.
        let five = Array(audio[0..<800])
        for (frequency, expected) in [(770.0, 0.25), (1336.0, 0.25), (697.0, 0.0), (1477.0, 0.0)] {
            let fit = Signals.fitSine(five, frequency: frequency, sampleRate: Double(rate), range: 0..<800)
            #expect(abs(fit.amplitude - expected) < 0.02, "\(frequency) Hz")
        }
        #expect(audio[800..<1600].allSatisfy { $0 == 0 })
        let hash = Array(audio[1600..<2400])  // # is 941 + 1477 Hz
        #expect(abs(Signals.fitSine(hash, frequency: 941, sampleRate: Double(rate), range: 0..<800).amplitude - 0.25) < 0.02)
        #expect(abs(Signals.fitSine(hash, frequency: 1477, sampleRate: Double(rate), range: 0..<800).amplitude - 0.25) < 0.02)
    }
}
