//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceProviders

@Suite("JSONValue numbers")
struct JSONValueNumberTests {
    /// Found by the providers fuzzer: Foundation hands numbers of 16 or more digits over as decimals whose
    /// conversion to Double is off by one unit in the last place, so a value did not read back as itself.
    @Test(
        "long numbers read as the correctly rounded Double, and what renders parses back the same",
        arguments: [
            "0.9333333333333334", "0.9333333333333333", "0.93333333333333333333333333333338", "12345678901234567890123",
            "3.52", "-0.1000000000000000055511151231257827",
        ])
    func longNumbers(text: String) throws {
        let value = try JSONValue.parse("[\(text)]")
        #expect(value == .array([.number(try #require(Double(text)))]))
        #expect(try JSONValue.parse(value.json) == value)
    }
}
