//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Writes the app's messages for one stream (`media`, `mark`, `clear`) as compact JSON text with Twilio's
/// fields in the order of Twilio's examples, without Foundation: appending to a byte array whose capacity
/// the caller reuses costs no allocation.
///
/// ```swift
/// var writer = MediaStreamWriter(streamSid: start.streamSid)
/// var frame: [UInt8] = []
/// frame.reserveCapacity(512)
/// writer.media(mulawBytes, into: &frame)   // {"event":"media","streamSid":"MZ…","media":{"payload":"…"}}
/// ```
public struct MediaStreamWriter: Sendable {
    /// The stream the messages are for.
    public let streamSid: String
    private let escapedStreamSid: [UInt8]

    /// Creates a writer for a stream.
    public init(streamSid: String) {
        self.streamSid = streamSid
        var escaped: [UInt8] = []
        Self.appendEscaped(streamSid, to: &escaped)
        escapedStreamSid = escaped
    }

    /// Appends a `media` message carrying `mulaw` (any length).
    public func media(_ mulaw: UnsafeRawBufferPointer, into output: inout [UInt8]) {
        prefix("media", into: &output)
        output.append(contentsOf: #","media":{"payload":""#.utf8)
        Self.appendBase64(mulaw, to: &output)
        output.append(contentsOf: #""}}"#.utf8)
    }

    /// Appends a `media` message carrying `mulaw`.
    public func media(_ mulaw: [UInt8], into output: inout [UInt8]) {
        mulaw.withUnsafeBytes { media($0, into: &output) }
    }

    /// Appends a `mark` message.
    public func mark(_ name: String, into output: inout [UInt8]) {
        prefix("mark", into: &output)
        output.append(contentsOf: #","mark":{"name":""#.utf8)
        Self.appendEscaped(name, to: &output)
        output.append(contentsOf: #""}}"#.utf8)
    }

    /// Appends a `mark` named by a prefix and a number (`"vp:42"`) without building a `String`.
    func mark(prefix markPrefix: StaticString, number: Int, into output: inout [UInt8]) {
        prefix("mark", into: &output)
        output.append(contentsOf: #","mark":{"name":""#.utf8)
        output.append(contentsOf: UnsafeBufferPointer(start: markPrefix.utf8Start, count: markPrefix.utf8CodeUnitCount))
        Self.appendDecimal(number, to: &output)
        output.append(contentsOf: #""}}"#.utf8)
    }

    /// Appends a `clear` message.
    public func clear(into output: inout [UInt8]) {
        prefix("clear", into: &output)
        output.append(UInt8(ascii: "}"))
    }

    private func prefix(_ event: StaticString, into output: inout [UInt8]) {
        output.append(contentsOf: #"{"event":""#.utf8)
        output.append(contentsOf: UnsafeBufferPointer(start: event.utf8Start, count: event.utf8CodeUnitCount))
        output.append(contentsOf: #"","streamSid":""#.utf8)
        output.append(contentsOf: escapedStreamSid)
        output.append(UInt8(ascii: "\""))
    }

    /// Appends the padded base64 of `bytes`, encoded in place.
    package static func appendBase64(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        let start = output.count
        let length = Base64.encodedCount(bytes.count)
        output.append(contentsOf: repeatElement(0, count: length))
        output.withUnsafeMutableBytes { buffer in
            _ = Base64.encode(bytes, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + length)]))
        }
    }

    /// Appends a non-negative integer in decimal.
    package static func appendDecimal(_ value: Int, to output: inout [UInt8]) {
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            output.append(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// Appends a string's JSON escaping (without quotes): `"`, `\` and control characters escaped,
    /// everything else raw UTF-8.
    package static func appendEscaped(_ string: String, to output: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): output.append(contentsOf: #"\\"#.utf8)
            case 0x0A: output.append(contentsOf: #"\n"#.utf8)
            case 0x0D: output.append(contentsOf: #"\r"#.utf8)
            case 0x09: output.append(contentsOf: #"\t"#.utf8)
            case 0x08: output.append(contentsOf: #"\b"#.utf8)
            case 0x0C: output.append(contentsOf: #"\f"#.utf8)
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output.append(contentsOf: #"\u00"#.utf8)
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            default: output.append(byte)
            }
        }
    }
}
