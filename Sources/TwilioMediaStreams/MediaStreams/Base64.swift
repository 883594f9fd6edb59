//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Standard base64 (RFC 4648, with padding) into and out of caller-provided buffers: what Twilio's media
/// payloads use. No allocation, no Foundation: a media frame is decoded straight into a reused buffer.
public enum Base64 {
    /// Why a payload is not valid base64.
    public enum DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        /// A byte outside the base64 alphabet, at this offset.
        case invalidCharacter(offset: Int)
        /// The length is not a multiple of 4, or the padding is wrong.
        case invalidLength(Int)
        /// The output buffer cannot hold the decoded bytes.
        case outputTooSmall(needed: Int, available: Int)

        /// The problem in one line.
        public var description: String {
            switch self {
            case .invalidCharacter(let offset): "invalid base64 character at offset \(offset)"
            case .invalidLength(let length): "invalid base64 length \(length) (not a padded multiple of 4)"
            case .outputTooSmall(let needed, let available): "base64 payload decodes to \(needed) bytes, room for \(available)"
            }
        }
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 255 marks a byte outside the alphabet.
    private static let reverse: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// The number of bytes `encodedCount` base64 characters decode to at most.
    public static func maximumDecodedCount(_ encodedCount: Int) -> Int { encodedCount / 4 * 3 }

    /// The number of characters `count` bytes encode to.
    public static func encodedCount(_ count: Int) -> Int { (count + 2) / 3 * 4 }

    /// Decodes padded base64.
    ///
    /// - Parameters:
    ///   - input: The base64 text as bytes.
    ///   - output: Receives the decoded bytes.
    /// - Returns: The number of bytes written.
    /// - Throws: ``DecodingError`` naming the problem.
    public static func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws(DecodingError) -> Int {
        let count = input.count
        guard count % 4 == 0 else { throw .invalidLength(count) }
        guard count > 0 else { return 0 }
        var padding = 0
        if input[count - 1] == UInt8(ascii: "=") { padding += 1 }
        if input[count - 2] == UInt8(ascii: "=") { padding += 1 }
        let decoded = count / 4 * 3 - padding
        guard decoded <= output.count else { throw .outputTooSmall(needed: decoded, available: output.count) }
        return try reverse.withUnsafeBufferPointer { (table) throws(DecodingError) -> Int in
            var written = 0
            var i = 0
            while i < count {
                let isLast = i + 4 == count
                var quad: UInt32 = 0
                for j in 0..<4 {
                    let byte = input[i + j]
                    let value: UInt8
                    if isLast && byte == UInt8(ascii: "=") && j >= 4 - padding {
                        value = 0
                    } else {
                        value = table[Int(byte)]
                        if value == 255 { throw .invalidCharacter(offset: i + j) }
                    }
                    quad = quad << 6 | UInt32(value)
                }
                let bytes = isLast ? 3 - padding : 3
                if bytes > 0 { output[written] = UInt8(truncatingIfNeeded: quad >> 16) }
                if bytes > 1 { output[written + 1] = UInt8(truncatingIfNeeded: quad >> 8) }
                if bytes > 2 { output[written + 2] = UInt8(truncatingIfNeeded: quad) }
                written += bytes
                i += 4
            }
            return written
        }
    }

    /// Encodes bytes as padded base64.
    ///
    /// - Parameters:
    ///   - input: The bytes.
    ///   - output: Receives ``encodedCount(_:)`` characters.
    /// - Returns: The number of characters written.
    /// - Precondition: `output.count >= encodedCount(input.count)`.
    public static func encode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int {
        precondition(output.count >= encodedCount(input.count), "Base64.encode: output too small")
        return alphabet.withUnsafeBufferPointer { table in
            var written = 0
            var i = 0
            while i < input.count {
                let remaining = input.count - i
                let b0 = UInt32(input[i])
                let b1 = remaining > 1 ? UInt32(input[i + 1]) : 0
                let b2 = remaining > 2 ? UInt32(input[i + 2]) : 0
                let triple = b0 << 16 | b1 << 8 | b2
                output[written] = table[Int(triple >> 18 & 63)]
                output[written + 1] = table[Int(triple >> 12 & 63)]
                output[written + 2] = remaining > 1 ? table[Int(triple >> 6 & 63)] : UInt8(ascii: "=")
                output[written + 3] = remaining > 2 ? table[Int(triple & 63)] : UInt8(ascii: "=")
                written += 4
                i += 3
            }
            return written
        }
    }
}
