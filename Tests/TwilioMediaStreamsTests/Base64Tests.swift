//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioMediaStreams
import VoicePipeTestSupport

@Suite("Base64")
struct Base64Tests {
    @Test("round-trips every length from 0 to 300 and agrees with Foundation")
    func agreesWithFoundation() throws {
        var rng = SplitMix64(seed: 64)
        for length in 0...300 {
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var encoded = [UInt8](repeating: 0, count: Base64.encodedCount(length))
            let written = bytes.withUnsafeBytes { input in encoded.withUnsafeMutableBytes { Base64.encode(input, into: $0) } }
            #expect(written == encoded.count)
            #expect(String(decoding: encoded, as: UTF8.self) == Data(bytes).base64EncodedString())
            var decoded = [UInt8](repeating: 0, count: Base64.maximumDecodedCount(encoded.count))
            let count = try encoded.withUnsafeBytes { input in try decoded.withUnsafeMutableBytes { try Base64.decode(input, into: $0) } }
            #expect(Array(decoded[..<count]) == bytes)
        }
    }

    @Test("a Twilio media payload (216 characters) decodes to 160 µ-law bytes")
    func twilioFrame() throws {
        let frame = [UInt8](repeating: 0xFF, count: 160)
        let text = Array(Data(frame).base64EncodedString().utf8)
        #expect(text.count == 216)
        var out = [UInt8](repeating: 0, count: 160)
        let count = try text.withUnsafeBytes { input in try out.withUnsafeMutableBytes { try Base64.decode(input, into: $0) } }
        #expect(count == 160)
        #expect(out == frame)
    }

    @Test("bad input throws a typed error naming the problem")
    func errors() {
        func decode(_ text: String, room: Int = 64) throws -> Int {
            let bytes = Array(text.utf8)
            var out = [UInt8](repeating: 0, count: room)
            return try bytes.withUnsafeBytes { input in try out.withUnsafeMutableBytes { try Base64.decode(input, into: $0) } }
        }
        #expect(throws: Base64.DecodingError.invalidLength(5)) { try decode("AAAAA") }
        #expect(throws: Base64.DecodingError.invalidCharacter(offset: 2)) { try decode("AA*A") }
        #expect(throws: Base64.DecodingError.invalidCharacter(offset: 1)) { try decode("A=AA") }
        #expect(throws: Base64.DecodingError.outputTooSmall(needed: 6, available: 3)) { try decode("AAAAAAAA", room: 3) }
        #expect(Base64.DecodingError.invalidCharacter(offset: 2).description == "invalid base64 character at offset 2")
    }
}
