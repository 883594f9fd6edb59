//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A message Twilio sends on a Media Streams WebSocket, field for field as on the wire: `Codable` with
/// `JSONEncoder`/`JSONDecoder`, where `sequenceNumber`, `chunk` and `timestamp` are JSON strings (as Twilio
/// sends them) and `sampleRate`/`channels` are numbers.
///
/// For the per-frame path use ``MediaStreamReader``, which parses the same JSON without Foundation and
/// decodes media payloads into a reused buffer; these types suit everything else (logging, tests, tools).
///
/// ```json
/// {"event":"media","sequenceNumber":"2","media":{"track":"inbound","chunk":"1","timestamp":"155","payload":"/7mr…"},"streamSid":"MZ…"}
/// ```
public enum TwilioMessage: Sendable, Hashable, Codable {
    /// The first message: the socket is up (no `sequenceNumber`, no `streamSid`).
    case connected(Connected)
    /// The stream's metadata, sent once after `connected`.
    case start(Start)
    /// 20 ms (usually) of the caller's µ-law audio.
    case media(Media)
    /// A key the caller pressed.
    case dtmf(DTMF)
    /// The echo of a mark the app sent: the audio before it has played, or was cleared.
    case mark(Mark)
    /// The stream ended.
    case stop(Stop)
    /// An event this version does not know (Twilio may add events); only its name is kept.
    case unknown(event: String)

    /// `connected`.
    public struct Connected: Sendable, Hashable, Codable {
        /// `"Call"`.
        public var `protocol`: String
        /// `"1.0.0"`.
        public var version: String
        /// Creates the message.
        public init(protocol: String = "Call", version: String = "1.0.0") {
            self.protocol = `protocol`
            self.version = version
        }
    }

    /// `start`.
    public struct Start: Sendable, Hashable, Codable {
        /// The message counter, as a string (`"1"`).
        public var sequenceNumber: String
        /// The stream's metadata.
        public var start: Metadata
        /// The stream's id (`MZ…`), repeated at the top level.
        public var streamSid: String

        /// The `start` object.
        public struct Metadata: Sendable, Hashable, Codable {
            /// The account (`AC…`).
            public var accountSid: String
            /// The stream (`MZ…`).
            public var streamSid: String
            /// The call (`CA…`).
            public var callSid: String
            /// `"inbound"` and/or `"outbound"`.
            public var tracks: [String]
            /// The `<Parameter>`s of the TwiML `<Stream>`.
            public var customParameters: [String: String]
            /// The audio format (µ-law, 8 kHz, mono).
            public var mediaFormat: MediaFormat

            /// Creates metadata.
            public init(
                accountSid: String, streamSid: String, callSid: String, tracks: [String] = ["inbound"],
                customParameters: [String: String] = [:], mediaFormat: MediaFormat = MediaFormat()
            ) {
                self.accountSid = accountSid
                self.streamSid = streamSid
                self.callSid = callSid
                self.tracks = tracks
                self.customParameters = customParameters
                self.mediaFormat = mediaFormat
            }
        }

        /// Creates the message.
        public init(sequenceNumber: String = "1", start: Metadata) {
            self.sequenceNumber = sequenceNumber
            self.start = start
            self.streamSid = start.streamSid
        }
    }

    /// `start.mediaFormat`.
    public struct MediaFormat: Sendable, Hashable, Codable {
        /// `"audio/x-mulaw"`.
        public var encoding: String
        /// 8000 (a JSON number).
        public var sampleRate: Int
        /// 1 (a JSON number).
        public var channels: Int
        /// Creates a format; the defaults are what Twilio sends.
        public init(encoding: String = "audio/x-mulaw", sampleRate: Int = 8000, channels: Int = 1) {
            self.encoding = encoding
            self.sampleRate = sampleRate
            self.channels = channels
        }
    }

    /// `media`.
    public struct Media: Sendable, Hashable, Codable {
        /// The message counter, as a string.
        public var sequenceNumber: String
        /// The audio.
        public var media: Payload
        /// The stream.
        public var streamSid: String

        /// The `media` object.
        public struct Payload: Sendable, Hashable, Codable {
            /// `"inbound"` (or `"outbound"` on unidirectional streams).
            public var track: String
            /// The media message counter, as a string starting at `"1"`.
            public var chunk: String
            /// Milliseconds since the stream started, as a string.
            public var timestamp: String
            /// Base64 µ-law.
            public var payload: String
            /// Creates the object.
            public init(track: String = "inbound", chunk: String, timestamp: String, payload: String) {
                self.track = track
                self.chunk = chunk
                self.timestamp = timestamp
                self.payload = payload
            }
        }

        /// Creates the message.
        public init(sequenceNumber: String, media: Payload, streamSid: String) {
            self.sequenceNumber = sequenceNumber
            self.media = media
            self.streamSid = streamSid
        }
    }

    /// `dtmf`.
    public struct DTMF: Sendable, Hashable, Codable {
        /// The stream.
        public var streamSid: String
        /// The message counter, as a string.
        public var sequenceNumber: String
        /// The key.
        public var dtmf: Digit

        /// The `dtmf` object.
        public struct Digit: Sendable, Hashable, Codable {
            /// `"inbound_track"`.
            public var track: String
            /// `"0"`–`"9"`, `"*"`, `"#"`.
            public var digit: String
            /// Creates the object.
            public init(track: String = "inbound_track", digit: String) {
                self.track = track
                self.digit = digit
            }
        }

        /// Creates the message.
        public init(streamSid: String, sequenceNumber: String, dtmf: Digit) {
            self.streamSid = streamSid
            self.sequenceNumber = sequenceNumber
            self.dtmf = dtmf
        }
    }

    /// `mark` (an echo).
    public struct Mark: Sendable, Hashable, Codable {
        /// The message counter, as a string.
        public var sequenceNumber: String
        /// The stream.
        public var streamSid: String
        /// The mark.
        public var mark: AppMessage.MarkName
        /// Creates the message.
        public init(sequenceNumber: String, streamSid: String, mark: AppMessage.MarkName) {
            self.sequenceNumber = sequenceNumber
            self.streamSid = streamSid
            self.mark = mark
        }
    }

    /// `stop`.
    public struct Stop: Sendable, Hashable, Codable {
        /// The message counter, as a string.
        public var sequenceNumber: String
        /// The call's ids.
        public var stop: Ids
        /// The stream.
        public var streamSid: String

        /// The `stop` object.
        public struct Ids: Sendable, Hashable, Codable {
            /// The account.
            public var accountSid: String
            /// The call.
            public var callSid: String
            /// Creates the object.
            public init(accountSid: String, callSid: String) {
                self.accountSid = accountSid
                self.callSid = callSid
            }
        }

        /// Creates the message.
        public init(sequenceNumber: String, stop: Ids, streamSid: String) {
            self.sequenceNumber = sequenceNumber
            self.stop = stop
            self.streamSid = streamSid
        }
    }

    /// The `event` value.
    public var event: String {
        switch self {
        case .connected: "connected"
        case .start: "start"
        case .media: "media"
        case .dtmf: "dtmf"
        case .mark: "mark"
        case .stop: "stop"
        case .unknown(let event): event
        }
    }

    private enum EventKey: String, CodingKey { case event }

    /// Decodes any message; an unknown `event` gives ``unknown(event:)``.
    public init(from decoder: any Decoder) throws {
        let event = try decoder.container(keyedBy: EventKey.self).decode(String.self, forKey: .event)
        switch event {
        case "connected": self = .connected(try Connected(from: decoder))
        case "start": self = .start(try Start(from: decoder))
        case "media": self = .media(try Media(from: decoder))
        case "dtmf": self = .dtmf(try DTMF(from: decoder))
        case "mark": self = .mark(try Mark(from: decoder))
        case "stop": self = .stop(try Stop(from: decoder))
        default: self = .unknown(event: event)
        }
    }

    /// Encodes `event` and the message's fields.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: EventKey.self)
        try container.encode(event, forKey: .event)
        switch self {
        case .connected(let message): try message.encode(to: encoder)
        case .start(let message): try message.encode(to: encoder)
        case .media(let message): try message.encode(to: encoder)
        case .dtmf(let message): try message.encode(to: encoder)
        case .mark(let message): try message.encode(to: encoder)
        case .stop(let message): try message.encode(to: encoder)
        case .unknown: break
        }
    }
}
