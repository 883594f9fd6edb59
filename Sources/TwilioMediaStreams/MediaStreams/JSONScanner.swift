//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(TwilioCore)  // the fuzzer compiles these sources into one module, HexDigit.swift included
    import TwilioCore
#endif

/// A strict (RFC 8259) pull scanner over one JSON text, for the few message shapes of Media Streams.
///
/// It never builds a tree: callers walk objects key by key, take string values as byte ranges of the input
/// (so a media payload is base64-decoded straight from the frame) and skip, while still validating, what
/// they do not need. No allocation unless a string holds escapes and is asked for as a `String`.
struct JSONScanner {
    /// The JSON type of the next value.
    enum Kind: Equatable { case object, array, string, number, bool, null }

    /// A string value: the bytes between its quotes, and whether they contain escapes.
    struct StringToken {
        var range: Range<Int>
        var hasEscapes: Bool
    }

    let bytes: UnsafeRawBufferPointer
    private(set) var index = 0
    private var depth = 0
    private static let maximumDepth = 32

    init(_ bytes: UnsafeRawBufferPointer, at index: Int = 0) {
        self.bytes = bytes
        self.index = index
    }

    static func invalid(_ detail: String) -> TwilioProtocolError { TwilioProtocolError(.invalidJSON, detail) }

    private var atEnd: Bool { index >= bytes.count }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The type of the next value (after whitespace).
    mutating func peekKind() throws(TwilioProtocolError) -> Kind {
        skipWhitespace()
        guard !atEnd else { throw Self.invalid("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw Self.invalid("unexpected character at offset \(index)")
        }
    }

    /// Requires that only whitespace remains.
    mutating func finish() throws(TwilioProtocolError) {
        skipWhitespace()
        guard atEnd else { throw Self.invalid("unexpected data after the value at offset \(index)") }
    }

    // MARK: - Objects

    /// Consumes `{`.
    mutating func beginObject() throws(TwilioProtocolError) {
        skipWhitespace()
        guard !atEnd, bytes[index] == UInt8(ascii: "{") else { throw Self.invalid("expected an object at offset \(index)") }
        depth += 1
        guard depth <= Self.maximumDepth else { throw Self.invalid("nested more than \(Self.maximumDepth) levels") }
        index += 1
        expectingFirstMember = true
    }

    private var expectingFirstMember = false

    /// The next member's key (positioned before its value), or `nil` after the closing `}`.
    mutating func nextKey() throws(TwilioProtocolError) -> StringToken? {
        skipWhitespace()
        guard !atEnd else { throw Self.invalid("unterminated object") }
        if bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            expectingFirstMember = false
            return nil
        }
        if !expectingFirstMember {
            guard bytes[index] == UInt8(ascii: ",") else { throw Self.invalid("expected ',' or '}' at offset \(index)") }
            index += 1
            skipWhitespace()
        }
        expectingFirstMember = false
        guard !atEnd, bytes[index] == UInt8(ascii: "\"") else { throw Self.invalid("expected a key at offset \(index)") }
        let key = try string()
        skipWhitespace()
        guard !atEnd, bytes[index] == UInt8(ascii: ":") else { throw Self.invalid("expected ':' at offset \(index)") }
        index += 1
        return key
    }

    /// Whether a key (without escapes) is exactly `name`.
    func key(_ key: StringToken, is name: StaticString) -> Bool {
        guard !key.hasEscapes, key.range.count == name.utf8CodeUnitCount else { return false }
        return matches(at: key.range.lowerBound, name)
    }

    private func matches(at offset: Int, _ word: StaticString) -> Bool {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for (position, byte) in expected.enumerated() where bytes[offset + position] != byte { return false }
        return true
    }

    // MARK: - Values

    /// Consumes a string value.
    mutating func string() throws(TwilioProtocolError) -> StringToken {
        skipWhitespace()
        guard !atEnd, bytes[index] == UInt8(ascii: "\"") else { throw Self.invalid("expected a string at offset \(index)") }
        index += 1
        let start = index
        var hasEscapes = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return StringToken(range: start..<(index - 1), hasEscapes: hasEscapes)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                guard index + 1 < bytes.count else { break }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                    UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    // Surrogates must pair, as Foundation's parser (and ``text(_:)``) require.
                    guard let unit = hexQuad(at: index + 2) else { throw Self.invalid("bad \\u escape at offset \(index)") }
                    if (0xDC00...0xDFFF).contains(unit) { throw Self.invalid("unpaired surrogate at offset \(index)") }
                    if (0xD800...0xDBFF).contains(unit) {
                        guard index + 12 <= bytes.count, bytes[index + 6] == UInt8(ascii: "\\"), bytes[index + 7] == UInt8(ascii: "u"),
                            let low = hexQuad(at: index + 8), (0xDC00...0xDFFF).contains(low)
                        else { throw Self.invalid("unpaired surrogate at offset \(index)") }
                        index += 6
                    }
                    index += 6
                default:
                    throw Self.invalid("bad escape at offset \(index)")
                }
            } else if byte < 0x20 {
                throw Self.invalid("control character in a string at offset \(index)")
            } else {
                index += 1
            }
        }
        throw Self.invalid("unterminated string")
    }

    /// Consumes a number and returns it if it is an integer that fits `Int`.
    mutating func integer() throws(TwilioProtocolError) -> Int? {
        skipWhitespace()
        let start = index
        try skipNumber()
        var value = 0
        var negative = false
        for position in start..<index {
            let byte = bytes[position]
            if byte == UInt8(ascii: "-") {
                negative = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(Int(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return negative ? -value : value
    }

    private mutating func skipNumber() throws(TwilioProtocolError) {
        func digits(_ scanner: inout JSONScanner) -> Int {
            let start = scanner.index
            while scanner.index < scanner.bytes.count, scanner.bytes[scanner.index] >= UInt8(ascii: "0"),
                scanner.bytes[scanner.index] <= UInt8(ascii: "9")
            {
                scanner.index += 1
            }
            return scanner.index - start
        }
        if !atEnd, bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard !atEnd else { throw Self.invalid("truncated number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else if digits(&self) == 0 {
            throw Self.invalid("bad number at offset \(index)")
        }
        if !atEnd, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits(&self) > 0 else { throw Self.invalid("bad fraction at offset \(index)") }
        }
        if !atEnd, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if !atEnd, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits(&self) > 0 else { throw Self.invalid("bad exponent at offset \(index)") }
        }
    }

    private mutating func literal(_ word: StaticString) throws(TwilioProtocolError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count, matches(at: index, word) else {
            throw Self.invalid("bad literal at offset \(index)")
        }
        index += count
    }

    /// Consumes and validates any value.
    mutating func skipValue() throws(TwilioProtocolError) {
        switch try peekKind() {
        case .string: _ = try string()
        case .number: try skipNumber()
        case .bool: try literal(bytes[index] == UInt8(ascii: "t") ? "true" : "false")
        case .null: try literal("null")
        case .object:
            try beginObject()
            while try nextKey() != nil { try skipValue() }
        case .array:
            try beginArray()
            while try nextElement() { try skipValue() }
        }
    }

    // MARK: - Arrays

    /// Consumes `[`.
    mutating func beginArray() throws(TwilioProtocolError) {
        skipWhitespace()
        guard !atEnd, bytes[index] == UInt8(ascii: "[") else { throw Self.invalid("expected an array at offset \(index)") }
        depth += 1
        guard depth <= Self.maximumDepth else { throw Self.invalid("nested more than \(Self.maximumDepth) levels") }
        index += 1
        expectingFirstMember = true
    }

    /// Whether another element follows (positioned before it); consumes `]` at the end.
    mutating func nextElement() throws(TwilioProtocolError) -> Bool {
        skipWhitespace()
        guard !atEnd else { throw Self.invalid("unterminated array") }
        if bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            expectingFirstMember = false
            return false
        }
        if !expectingFirstMember {
            guard bytes[index] == UInt8(ascii: ",") else { throw Self.invalid("expected ',' or ']' at offset \(index)") }
            index += 1
        }
        expectingFirstMember = false
        return true
    }

    // MARK: - Strings

    /// The string's bytes, unescaped, as a `String` (rejecting invalid UTF-8).
    func text(_ token: StringToken) throws(TwilioProtocolError) -> String {
        let raw = UnsafeRawBufferPointer(rebasing: bytes[token.range])
        if !token.hasEscapes {
            guard let string = String(validating: raw, as: UTF8.self) else { throw Self.invalid("invalid UTF-8 in a string") }
            return string
        }
        var scalars = String.UnicodeScalarView()
        var position = 0
        var pendingHigh: UInt32?
        var utf8Run: [UInt8] = []
        func flush() throws(TwilioProtocolError) {
            guard !utf8Run.isEmpty else { return }
            guard let run = String(validating: utf8Run, as: UTF8.self) else { throw Self.invalid("invalid UTF-8 in a string") }
            scalars.append(contentsOf: run.unicodeScalars)
            utf8Run.removeAll(keepingCapacity: true)
        }
        while position < raw.count {
            let byte = raw[position]
            guard byte == UInt8(ascii: "\\") else {
                guard pendingHigh == nil else { throw Self.invalid("unpaired surrogate") }
                utf8Run.append(byte)
                position += 1
                continue
            }
            try flush()
            let escape = raw[position + 1]
            position += 2
            var scalar: UInt32
            switch escape {
            case UInt8(ascii: "b"): scalar = 0x08
            case UInt8(ascii: "f"): scalar = 0x0C
            case UInt8(ascii: "n"): scalar = 0x0A
            case UInt8(ascii: "r"): scalar = 0x0D
            case UInt8(ascii: "t"): scalar = 0x09
            case UInt8(ascii: "u"):
                scalar = 0
                for offset in 0..<4 { scalar = scalar << 4 | UInt32(Self.hexValue(raw[position + offset])!) }
                position += 4
            default: scalar = UInt32(escape)
            }
            if let high = pendingHigh {
                guard (0xDC00...0xDFFF).contains(scalar) else { throw Self.invalid("unpaired surrogate") }
                scalar = 0x10000 + ((high - 0xD800) << 10) + (scalar - 0xDC00)
                pendingHigh = nil
            } else if (0xD800...0xDBFF).contains(scalar) {
                pendingHigh = scalar
                continue
            } else if (0xDC00...0xDFFF).contains(scalar) {
                throw Self.invalid("unpaired surrogate")
            }
            scalars.append(Unicode.Scalar(scalar)!)
        }
        guard pendingHigh == nil else { throw Self.invalid("unpaired surrogate") }
        try flush()
        return String(scalars)
    }

    private func hexQuad(at offset: Int) -> UInt32? {
        guard offset + 4 <= bytes.count else { return nil }
        var value: UInt32 = 0
        for position in offset..<(offset + 4) {
            guard let digit = Self.hexValue(bytes[position]) else { return nil }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? { hexDigitValue(byte) }
}
