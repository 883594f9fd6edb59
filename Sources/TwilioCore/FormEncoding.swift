//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// `application/x-www-form-urlencoded`, as Twilio's webhooks send it and its REST API takes it: fields in
/// order, repeated names kept.
public enum FormEncoding {
    /// Encodes fields as Python's `urlencode` does (what Twilio's SDK sends): space as `+`, everything but
    /// `A–Z a–z 0–9 - . _ ~` percent-encoded from UTF-8.
    public static func encode(_ fields: [(String, String)]) -> String {
        var output: [UInt8] = []
        for (index, field) in fields.enumerated() {
            if index > 0 { output.append(UInt8(ascii: "&")) }
            escape(field.0, into: &output)
            output.append(UInt8(ascii: "="))
            escape(field.1, into: &output)
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes a form body (or a query string without its `?`): `+` is a space, `%XX` a byte; a name without
    /// `=` has an empty value.
    ///
    /// - Returns: The fields in order, or `nil` when a `%` escape is malformed or the bytes are not UTF-8.
    public static func decode(_ body: some Collection<UInt8>) -> [(String, String)]? {
        var fields: [(String, String)] = []
        for part in body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let pieces = part.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = unescape(pieces[0]) else { return nil }
            guard let value = pieces.count > 1 ? unescape(pieces[1]) : "" else { return nil }
            fields.append((name, value))
        }
        return fields
    }

    /// Decodes a form body.
    public static func decode(_ body: String) -> [(String, String)]? { decode(Array(body.utf8)) }

    private static let hex = Array("0123456789ABCDEF".utf8)

    private static func escape(_ string: String, into output: inout [UInt8]) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.append(byte)
            case UInt8(ascii: " "):
                output.append(UInt8(ascii: "+"))
            default:
                output.append(UInt8(ascii: "%"))
                output.append(hex[Int(byte >> 4)])
                output.append(hex[Int(byte & 0xF)])
            }
        }
    }

    private static func unescape(_ bytes: some Collection<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                let first = bytes.index(after: index)
                guard first != bytes.endIndex, bytes.index(after: first) != bytes.endIndex,
                    let high = hexDigitValue(bytes[first]), let low = hexDigitValue(bytes[bytes.index(after: first)])
                else { return nil }
                output.append(high << 4 | low)
                index = bytes.index(after: first)
            } else {
                output.append(byte)
            }
            index = bytes.index(after: index)
        }
        return String(validating: output, as: UTF8.self)
    }
}
