//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
@_spi(Reference) import VoiceDSP
import VoicePipeTestSupport

/// The two laws behind one interface, so each test runs for both.
enum Law: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case muLaw = "mulaw"
    case aLaw = "alaw"

    var testDescription: String { rawValue }

    func encode(_ x: Int16) -> UInt8 { self == .muLaw ? MuLaw.encode(x) : ALaw.encode(x) }
    func decode(_ c: UInt8) -> Int16 { self == .muLaw ? MuLaw.decode(c) : ALaw.decode(c) }
    func referenceEncode(_ x: Int16) -> UInt8 {
        self == .muLaw ? G711Reference.muLawCompress(x) : G711Reference.aLawCompress(x)
    }
    func referenceDecode(_ c: UInt8) -> Int16 {
        self == .muLaw ? G711Reference.muLawExpand(c) : G711Reference.aLawExpand(c)
    }
    func encode(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<UInt8>) {
        self == .muLaw ? MuLaw.encode(input, into: output) : ALaw.encode(input, into: output)
    }
    func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) {
        self == .muLaw ? MuLaw.decode(input, into: output) : ALaw.decode(input, into: output)
    }
}

/// Every Int16, indexed by its bit pattern as in the golden encode tables.
let everySample: [Int16] = (0...0xFFFF).map { Int16(bitPattern: UInt16($0)) }
let everyCode: [UInt8] = (0...255).map { UInt8($0) }

@Suite("G.711 against the G.191 golden vectors")
struct G711GoldenVectorTests {
    @Test("every one of the 65,536 inputs encodes as G.191 does (per sample, buffer, reference)", arguments: Law.allCases)
    func encodeMatchesGoldenVectors(law: Law) throws {
        let golden = try TestVectors.bytes("g711/\(law.rawValue)_encode.bin")
        try #require(golden.count == 65_536)
        var buffered = [UInt8](repeating: 0, count: 65_536)
        everySample.withUnsafeBufferPointer { src in buffered.withUnsafeMutableBufferPointer { law.encode(src, into: $0) } }
        var mismatches = 0
        for (index, sample) in everySample.enumerated() {
            let expected = golden[index]
            if law.encode(sample) != expected || buffered[index] != expected || law.referenceEncode(sample) != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record(
                        "\(law) encode(\(sample)): golden \(expected), scalar \(law.encode(sample)), buffer \(buffered[index]), reference \(law.referenceEncode(sample))"
                    )
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test("every one of the 256 codes decodes as G.191 does (per sample, buffer, reference)", arguments: Law.allCases)
    func decodeMatchesGoldenVectors(law: Law) throws {
        let golden = try TestVectors.int16LittleEndian("g711/\(law.rawValue)_decode.bin")
        try #require(golden.count == 256)
        var buffered = [Int16](repeating: 0, count: 256)
        everyCode.withUnsafeBufferPointer { src in buffered.withUnsafeMutableBufferPointer { law.decode(src, into: $0) } }
        for code in everyCode {
            let expected = golden[Int(code)]
            #expect(law.decode(code) == expected, "\(law) decode(\(code))")
            #expect(buffered[Int(code)] == expected, "\(law) buffer decode(\(code))")
            #expect(law.referenceDecode(code) == expected, "\(law) reference decode(\(code))")
        }
    }

    @Test("decode then encode returns the code, except mu-law negative zero", arguments: Law.allCases)
    func decodeEncodeIsIdentity(law: Law) {
        for code in everyCode {
            let expected: UInt8 = (law == .muLaw && code == 0x7F) ? 0xFF : code
            #expect(law.encode(law.decode(code)) == expected)
        }
    }

    @Test("the mu-law table decoder agrees with the arithmetic decoder")
    func tableDecoderAgrees() {
        let table = G711Reference.MuLawTableDecoder()
        var out = [Int16](repeating: 0, count: 256)
        everyCode.withUnsafeBufferPointer { src in out.withUnsafeMutableBufferPointer { table.decode(src, into: $0) } }
        #expect(out == everyCode.map(MuLaw.decode))
    }
}

@Suite("G.711 buffer functions")
struct G711BufferTests {
    @Test(
        "every length and misalignment gives the per-sample result and leaves the rest of the output alone",
        arguments: Law.allCases)
    func lengthsAndOffsets(law: Law) {
        var rng = SplitMix64(seed: 711)
        let samples = (0..<96).map { _ in Int16(truncatingIfNeeded: rng.next()) }
        let codes = samples.map { law.encode($0) }
        for offset in 0..<4 {
            for count in 0...(samples.count - offset - 4) {
                var encoded = [UInt8](repeating: 0xA5, count: count + 3)
                samples.withUnsafeBufferPointer { all in
                    let input = UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])
                    encoded.withUnsafeMutableBufferPointer { law.encode(input, into: $0) }
                }
                #expect(Array(encoded[..<count]) == Array(codes[offset..<(offset + count)]))
                #expect(encoded[count...].allSatisfy { $0 == 0xA5 })

                var decoded = [Int16](repeating: 0x5A5A, count: count + 3)
                codes.withUnsafeBufferPointer { all in
                    let input = UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])
                    decoded.withUnsafeMutableBufferPointer { law.decode(input, into: $0) }
                }
                #expect(Array(decoded[..<count]) == codes[offset..<(offset + count)].map { law.decode($0) })
                #expect(decoded[count...].allSatisfy { $0 == 0x5A5A })
            }
        }
    }

    @Test("span entry points match the pointer ones", arguments: Law.allCases)
    func spans(law: Law) {
        let samples: [Int16] = [0, 1, -1, 100, -100, 32767, -32768, 1234, -4321]
        var codes = [UInt8](repeating: 0, count: samples.count)
        var decoded = [Int16](repeating: 0, count: samples.count)
        var codeSpan = codes.mutableSpan
        var decodedSpan = decoded.mutableSpan
        if law == .muLaw {
            MuLaw.encode(samples.span, into: &codeSpan)
        } else {
            ALaw.encode(samples.span, into: &codeSpan)
        }
        _ = consume codeSpan
        if law == .muLaw {
            MuLaw.decode(codes.span, into: &decodedSpan)
        } else {
            ALaw.decode(codes.span, into: &decodedSpan)
        }
        _ = consume decodedSpan
        #expect(codes == samples.map { law.encode($0) })
        #expect(decoded == codes.map { law.decode($0) })
    }

    @Test("a 20 ms Twilio frame of speech-level audio round-trips within G.711's quantisation error", arguments: Law.allCases)
    func roundTripError(law: Law) {
        // A 440 Hz tone at -6 dBFS: 160 samples at 8 kHz.
        let frame = (0..<160).map { Int16((16384 * sin(2 * Double.pi * 440 * Double($0) / 8000)).rounded()) }
        for sample in frame {
            let back = law.decode(law.encode(sample))
            // A segment's step is at most 1/16 of the smallest magnitude in it, and decoding picks the middle of
            // the step; truncation to 14 (mu-law) or 13 (A-law) bits adds at most 16 more.
            #expect(abs(Int(back) - Int(sample)) <= abs(Int(sample)) / 32 + 16)
        }
    }
}
