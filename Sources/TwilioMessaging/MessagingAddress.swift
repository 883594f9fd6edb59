//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A Programmable Messaging address: a phone number (`+14155550100`, a short code or an alphanumeric
/// sender id) for SMS/MMS, or a channel address such as `whatsapp:+14155550100`.
///
/// ```swift
/// let to = MessagingAddress.whatsApp("+14155550199")   // "whatsapp:+14155550199"
/// MessagingAddress("whatsapp:+14155550199").channel     // .whatsApp
/// ```
public struct MessagingAddress: Sendable, Hashable, CustomStringConvertible {
    /// The channel an address belongs to.
    public enum Channel: Sendable, Hashable, CustomStringConvertible {
        /// A plain number, short code or sender id: SMS or MMS.
        case sms
        /// `whatsapp:`.
        case whatsApp
        /// Another channel prefix (for example `messenger` or `rcs`), lowercased, without the colon.
        case other(String)

        /// `sms`, `whatsapp`, or the prefix.
        public var description: String {
            switch self {
            case .sms: "sms"
            case .whatsApp: "whatsapp"
            case .other(let prefix): prefix
            }
        }
    }

    /// The channel.
    public var channel: Channel
    /// The address without its channel prefix (for WhatsApp: `+E164`).
    public var address: String

    /// An address on a channel.
    public init(channel: Channel, address: String) {
        self.channel = channel
        self.address = address
    }

    /// Parses an address as Twilio writes it in `To`/`From`: a prefix of ASCII letters followed by `:`
    /// names the channel; anything else is an SMS address. Never fails.
    public init(_ raw: String) {
        if let colon = raw.firstIndex(of: ":"), colon != raw.startIndex,
            raw[..<colon].allSatisfy({ $0.isASCII && $0.isLetter })
        {
            let prefix = raw[..<colon].lowercased()
            channel = prefix == "whatsapp" ? .whatsApp : prefix == "sms" ? .sms : .other(prefix)
            address = String(raw[raw.index(after: colon)...])
        } else {
            channel = .sms
            address = raw
        }
    }

    /// A WhatsApp address for an E.164 number: `whatsapp:+14155550199`.
    public static func whatsApp(_ e164: String) -> MessagingAddress { MessagingAddress(channel: .whatsApp, address: e164) }

    /// An SMS address (the number itself).
    public static func sms(_ number: String) -> MessagingAddress { MessagingAddress(channel: .sms, address: number) }

    /// The address as Twilio takes it in `To` and `From`.
    public var rawValue: String {
        switch channel {
        case .sms: address
        case .whatsApp: "whatsapp:" + address
        case .other(let prefix): prefix + ":" + address
        }
    }

    /// ``rawValue``.
    public var description: String { rawValue }

    /// Whether ``address`` is an E.164 number: `+`, then 2 to 15 digits, the first not 0.
    public var isE164: Bool {
        let utf8 = Array(address.utf8)
        guard utf8.count >= 3, utf8.count <= 16, utf8[0] == UInt8(ascii: "+"), utf8[1] != UInt8(ascii: "0") else {
            return false
        }
        return utf8.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}
