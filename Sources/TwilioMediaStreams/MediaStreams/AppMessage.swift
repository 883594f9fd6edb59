//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A message the app sends Twilio on a bidirectional stream, with exactly the fields Twilio accepts (an
/// extra or missing field draws warning 31951): `Codable`, in the wire's shape.
///
/// ```json
/// {"event":"media","streamSid":"MZ…","media":{"payload":"/6+k…"}}
/// {"event":"mark","streamSid":"MZ…","mark":{"name":"greeting-done"}}
/// {"event":"clear","streamSid":"MZ…"}
/// ```
///
/// ``MediaStreamWriter`` writes the same bytes without Foundation; ``MediaStreamReader/readAppMessage(_:)``
/// reads them strictly, as Twilio does.
public enum AppMessage: Sendable, Hashable, Codable {
    /// Audio to play: base64 µ-law at 8 kHz, any length, no header.
    case media(streamSid: String, payload: String)
    /// Asks Twilio to echo `name` once the audio sent before it has played (or been cleared).
    case mark(streamSid: String, name: String)
    /// Empties Twilio's audio buffer; every pending mark is echoed.
    case clear(streamSid: String)

    /// `{"name": …}`: the `mark` object of a mark and of its echo.
    public struct MarkName: Sendable, Hashable, Codable {
        /// The mark's name.
        public var name: String
        /// Creates the object.
        public init(name: String) { self.name = name }
    }

    private struct MediaPayload: Codable { var payload: String }
    private enum Keys: String, CodingKey { case event, streamSid, media, mark }

    /// The stream the message is for.
    public var streamSid: String {
        switch self {
        case .media(let streamSid, _), .mark(let streamSid, _), .clear(let streamSid): streamSid
        }
    }

    /// Decodes a message (extra fields are ignored here; ``MediaStreamReader`` is the strict reader).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        let streamSid = try container.decode(String.self, forKey: .streamSid)
        switch try container.decode(String.self, forKey: .event) {
        case "media": self = .media(streamSid: streamSid, payload: try container.decode(MediaPayload.self, forKey: .media).payload)
        case "mark": self = .mark(streamSid: streamSid, name: try container.decode(MarkName.self, forKey: .mark).name)
        case "clear": self = .clear(streamSid: streamSid)
        case let event:
            throw DecodingError.dataCorruptedError(
                forKey: .event, in: container, debugDescription: "the app cannot send \"\(event)\"")
        }
    }

    /// Encodes the message with exactly Twilio's fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Keys.self)
        switch self {
        case .media(let streamSid, let payload):
            try container.encode("media", forKey: .event)
            try container.encode(streamSid, forKey: .streamSid)
            try container.encode(MediaPayload(payload: payload), forKey: .media)
        case .mark(let streamSid, let name):
            try container.encode("mark", forKey: .event)
            try container.encode(streamSid, forKey: .streamSid)
            try container.encode(MarkName(name: name), forKey: .mark)
        case .clear(let streamSid):
            try container.encode("clear", forKey: .event)
            try container.encode(streamSid, forKey: .streamSid)
        }
    }
}
