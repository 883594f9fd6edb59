//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation

/// A JSON value written with its keys in the order given (the stand-in's bodies list keys as Twilio's do).
indirect enum JSONValue: Sendable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    /// A string, or `null` for `nil`.
    static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }
    /// An integer, or `null` for `nil`.
    static func optional(_ value: Int?) -> JSONValue { value.map { .int($0) } ?? .null }

    /// The compact JSON text.
    var text: String {
        var output = ""
        write(into: &output)
        return output
    }

    private func write(into output: inout String) {
        switch self {
        case .string(let string): Self.quote(string, into: &output)
        case .int(let number): output += String(number)
        case .bool(let flag): output += flag ? "true" : "false"
        case .null: output += "null"
        case .array(let items):
            output += "["
            for (index, item) in items.enumerated() {
                if index > 0 { output += ", " }
                item.write(into: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { output += ", " }
                Self.quote(member.0, into: &output)
                output += ": "
                member.1.write(into: &output)
            }
            output += "}"
        }
    }

    private static func quote(_ string: String, into output: inout String) {
        output += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case let control where control.value < 0x20:
                let hex = String(control.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        output += "\""
    }
}

/// Twilio's date formats, computed from the Unix time (no formatter, no locale).
enum TwilioDates {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private struct Civil {
        var year: Int
        var month: Int
        var day: Int
        var hour: Int
        var minute: Int
        var second: Int
        var millisecond: Int
        var weekday: Int
    }

    private static func civil(_ date: Date) -> Civil {
        let milliseconds = Int((date.timeIntervalSince1970 * 1000).rounded(.down))
        let days = Int((Double(milliseconds) / 86_400_000).rounded(.down))
        let inDay = milliseconds - days * 86_400_000
        // Days to a proleptic Gregorian date (the civil-from-days algorithm).
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return Civil(
            year: year, month: month, day: day, hour: inDay / 3_600_000, minute: inDay / 60_000 % 60, second: inDay / 1000 % 60,
            millisecond: inDay % 1000, weekday: ((days % 7) + 11) % 7)
    }

    private static func padded(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// v2010 REST: RFC 2822, `Thu, 24 Aug 2023 05:01:45 +0000`.
    static func rfc2822(_ date: Date) -> String {
        let c = civil(date)
        return "\(weekdays[c.weekday]), \(padded(c.day, 2)) \(months[c.month - 1]) \(c.year) "
            + "\(padded(c.hour, 2)):\(padded(c.minute, 2)):\(padded(c.second, 2)) +0000"
    }

    /// Conversations v1 JSON: `2015-12-16T22:18:37Z`.
    static func iso8601(_ date: Date) -> String {
        let c = civil(date)
        return "\(c.year)-\(padded(c.month, 2))-\(padded(c.day, 2))T\(padded(c.hour, 2)):\(padded(c.minute, 2)):\(padded(c.second, 2))Z"
    }

    /// Conversations webhooks: `2026-08-11T13:03:28.879Z`.
    static func iso8601Milliseconds(_ date: Date) -> String {
        let c = civil(date)
        return "\(c.year)-\(padded(c.month, 2))-\(padded(c.day, 2))T\(padded(c.hour, 2)):\(padded(c.minute, 2)):"
            + "\(padded(c.second, 2)).\(padded(c.millisecond, 3))Z"
    }

    /// A delivery receipt's `RawDlrDoneDate`: `YYMMDDhhmm`.
    static func rawDlrDoneDate(_ date: Date) -> String {
        let c = civil(date)
        return padded(c.year % 100, 2) + padded(c.month, 2) + padded(c.day, 2) + padded(c.hour, 2) + padded(c.minute, 2)
    }
}

/// Twilio SIDs: a two-letter prefix and 32 lowercase hex digits.
enum TwilioSID {
    static func make(_ prefix: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let high = String(generator.next() as UInt64, radix: 16)
        let low = String(generator.next() as UInt64, radix: 16)
        return prefix + String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    /// Whether `text` is `prefix` followed by 32 hex digits.
    static func isSID(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix), text.utf8.count == prefix.utf8.count + 32 else { return false }
        return text.utf8.dropFirst(prefix.utf8.count).allSatisfy { byte in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }
    }
}

/// Addresses as Twilio checks them.
enum TwilioAddress {
    /// E.164: `+`, a non-zero digit, 7 to 15 digits in all.
    static func isE164(_ text: String) -> Bool {
        let digits = text.utf8.dropFirst()
        guard text.hasPrefix("+"), (7...15).contains(digits.count), digits.first != UInt8(ascii: "0") else { return false }
        return digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// E.164 or `whatsapp:` + E.164.
    static func isMessagingAddress(_ text: String) -> Bool {
        isE164(text.hasPrefix("whatsapp:") ? String(text.dropFirst("whatsapp:".count)) : text)
    }

    static func isWhatsApp(_ text: String) -> Bool { text.hasPrefix("whatsapp:") }

    /// The number without a channel prefix.
    static func number(_ text: String) -> String {
        guard let colon = text.firstIndex(of: ":") else { return text }
        return String(text[text.index(after: colon)...])
    }

    /// The ISO country Twilio derives for a few calling codes (empty when unknown).
    static func country(_ text: String) -> String {
        let number = number(text)
        let codes: [(String, String)] = [
            ("+1", "US"), ("+44", "GB"), ("+33", "FR"), ("+49", "DE"), ("+34", "ES"), ("+39", "IT"), ("+61", "AU"), ("+31", "NL"),
        ]
        return codes.first { number.hasPrefix($0.0) }?.1 ?? ""
    }
}
