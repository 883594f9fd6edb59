//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Reads the text frames of one Media Streams WebSocket, in order, without Foundation: media payloads are
/// base64-decoded straight from the frame into a buffer the reader reuses, so a media frame costs no
/// allocation.
///
/// It checks what Twilio guarantees: strict JSON; an object with a string `event`; the documented fields
/// with their wire types (`sequenceNumber`, `chunk`, `timestamp` are JSON strings); standard padded base64
/// no longer than ``Configuration/maximumPayloadBytes``; µ-law at 8 kHz mono; `start` before anything
/// that belongs to a stream, and the same `streamSid` throughout. Unknown events are returned as
/// ``Event/unknown(event:)``, not thrown, because Twilio adds events. Unknown fields are ignored for the
/// same reason. Every other problem throws a ``TwilioProtocolError``; the reader stays usable.
///
/// ``readAppMessage(_:)`` reads the other direction, as Twilio does: strictly, extra fields included.
///
/// - Important: Not thread-safe: one reader per socket, used by its owner task.
public final class MediaStreamReader {
    /// Limits.
    public struct Configuration: Sendable {
        /// The largest media payload accepted, in decoded bytes (default 8,000: one second of µ-law;
        /// Twilio sends 160).
        public var maximumPayloadBytes: Int
        /// Creates limits.
        public init(maximumPayloadBytes: Int = 8000) {
            self.maximumPayloadBytes = maximumPayloadBytes
        }
    }

    /// Which way audio flows, from Twilio's side.
    public enum Track: Sendable, Hashable {
        /// The caller's audio.
        case inbound
        /// Audio Twilio plays (unidirectional streams only).
        case outbound
    }

    /// A media message, its numbers parsed.
    public struct Media {
        /// `sequenceNumber`.
        public var sequenceNumber: Int
        /// `media.track`.
        public var track: Track
        /// `media.chunk`.
        public var chunk: Int
        /// `media.timestamp`, in milliseconds since the stream started.
        public var timestamp: Int
        /// The decoded µ-law bytes: valid until the reader's next read.
        public var payload: UnsafeRawBufferPointer
    }

    /// What a frame said.
    public enum Event {
        /// `connected`.
        case connected(TwilioMessage.Connected)
        /// `start`: the stream's ids, tracks, format and custom parameters.
        case start(TwilioMessage.Start)
        /// `media`.
        case media(Media)
        /// `dtmf`.
        case dtmf(digit: String, sequenceNumber: Int)
        /// `mark`: the echo of a mark the app sent.
        case mark(name: String, sequenceNumber: Int)
        /// `stop`.
        case stop(TwilioMessage.Stop)
        /// An event this version does not know.
        case unknown(event: String)
    }

    /// A message the app sent (read by a stand-in for Twilio).
    public enum AppEvent {
        /// `media`: µ-law bytes, valid until the reader's next read.
        case media(payload: UnsafeRawBufferPointer)
        /// `mark`.
        case mark(name: String)
        /// `clear`.
        case clear
    }

    /// Where the stream is.
    public enum State: Sendable, Hashable {
        /// Before `start`.
        case awaitingStart
        /// Between `start` and `stop`.
        case streaming
        /// After `stop`.
        case stopped
    }

    /// The limits in use.
    public let configuration: Configuration
    /// Where the stream is.
    public private(set) var state = State.awaitingStart
    /// The stream's id, once `start` has arrived (or ``expect(streamSid:)`` set it).
    public private(set) var streamSid: String?
    private var streamSidBytes: [UInt8] = []
    private let payload: UnsafeMutableRawBufferPointer

    /// Creates a reader for one stream.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        payload = .allocate(byteCount: Swift.max(configuration.maximumPayloadBytes, 1), alignment: 16)
    }

    deinit { payload.deallocate() }

    /// Sets the stream id that messages must carry (for a reader of app messages, which see no `start`).
    public func expect(streamSid: String) {
        self.streamSid = streamSid
        streamSidBytes = Array(streamSid.utf8)
    }

    /// Reads one text frame from Twilio.
    ///
    /// - Throws: ``TwilioProtocolError``.
    public func read(_ frame: UnsafeRawBufferPointer) throws(TwilioProtocolError) -> Event {
        var scanner = JSONScanner(frame)
        let fields = try TopLevel(&scanner, known: Self.twilioObjects)
        guard let eventToken = fields.event else { throw TwilioProtocolError(.missingField, field: "event", "no \"event\"") }
        let event = try scanner.text(eventToken)
        switch event {
        case "connected":
            return .connected(
                TwilioMessage.Connected(
                    protocol: try fields.optionalText("protocol", fields.protocolToken, scanner) ?? "Call",
                    version: try fields.optionalText("version", fields.versionToken, scanner) ?? "1.0.0"))
        case "start":
            return .start(try readStart(fields, scanner))
        case "media", "dtmf", "mark", "stop":
            guard state == .streaming else {
                throw state == .stopped
                    ? TwilioProtocolError(.unexpectedMessage, "\"\(event)\" after \"stop\"")
                    : TwilioProtocolError(.mediaBeforeStart, "\"\(event)\" before \"start\"")
            }
            try checkStreamSid(fields, scanner)
            let sequenceNumber = try fields.number("sequenceNumber", fields.sequenceNumber, scanner)
            switch event {
            case "media":
                return .media(try readMedia(fields, scanner, sequenceNumber: sequenceNumber))
            case "dtmf":
                var object = try fields.object("dtmf", fields.objectStart, scanner)
                var digit: JSONScanner.StringToken?
                while let key = try object.nextKey() {
                    if object.key(key, is: "digit") { digit = try stringValue(&object, "dtmf.digit") } else { try object.skipValue() }
                }
                guard let digit else { throw TwilioProtocolError(.missingField, field: "dtmf.digit", "no digit") }
                return .dtmf(digit: try object.text(digit), sequenceNumber: sequenceNumber)
            case "mark":
                var object = try fields.object("mark", fields.objectStart, scanner)
                var name: JSONScanner.StringToken?
                while let key = try object.nextKey() {
                    if object.key(key, is: "name") { name = try stringValue(&object, "mark.name") } else { try object.skipValue() }
                }
                guard let name else { throw TwilioProtocolError(.missingField, field: "mark.name", "no name") }
                return .mark(name: try object.text(name), sequenceNumber: sequenceNumber)
            default:
                var accountSid = ""
                var callSid = ""
                if fields.objectStart != nil {
                    var object = try fields.object("stop", fields.objectStart, scanner)
                    while let key = try object.nextKey() {
                        if object.key(key, is: "accountSid") {
                            accountSid = try object.text(try stringValue(&object, "stop.accountSid"))
                        } else if object.key(key, is: "callSid") {
                            callSid = try object.text(try stringValue(&object, "stop.callSid"))
                        } else {
                            try object.skipValue()
                        }
                    }
                }
                state = .stopped
                return .stop(
                    TwilioMessage.Stop(
                        sequenceNumber: String(sequenceNumber), stop: .init(accountSid: accountSid, callSid: callSid),
                        streamSid: streamSid ?? ""))
            }
        default:
            return .unknown(event: event)
        }
    }

    /// Reads one text frame from Twilio.
    public func read(_ frame: some Sequence<UInt8>) throws(TwilioProtocolError) -> Event {
        try withBytes(frame) { (bytes) throws(TwilioProtocolError) in try read(bytes) }
    }

    /// Reads one frame the app sent, strictly as Twilio does: exactly `event`, `streamSid` and
    /// `media.payload` or `mark.name`; an extra or missing field is an error (Twilio's warning 31951).
    ///
    /// - Throws: ``TwilioProtocolError``; `.unknownEvent` for events the app may not send.
    public func readAppMessage(_ frame: UnsafeRawBufferPointer) throws(TwilioProtocolError) -> AppEvent {
        var scanner = JSONScanner(frame)
        let fields = try TopLevel(&scanner, known: Self.appObjects)
        guard let eventToken = fields.event else { throw TwilioProtocolError(.missingField, field: "event", "no \"event\"") }
        if let extra = fields.firstUnknownKey { throw TwilioProtocolError(.extraField, field: extra, "Twilio rejects \"\(extra)\"") }
        guard fields.streamSidToken != nil else { throw TwilioProtocolError(.missingField, field: "streamSid", "no streamSid") }
        try checkStreamSid(fields, scanner)
        let event = try scanner.text(eventToken)
        let objectName: StaticString
        switch event {
        case "media": objectName = "payload"
        case "mark": objectName = "name"
        case "clear":
            guard fields.objectKey == nil else { throw TwilioProtocolError(.extraField, field: fields.objectKey, "clear takes no object") }
            return .clear
        default: throw TwilioProtocolError(.unknownEvent, field: "event", "the app cannot send \"\(event)\"")
        }
        guard fields.objectKey == event else {
            throw fields.objectKey.map { TwilioProtocolError(.extraField, field: $0, "\(event) takes no \"\($0)\"") }
                ?? TwilioProtocolError(.missingField, field: event, "no \"\(event)\" object")
        }
        var object = try fields.object(event, fields.objectStart, scanner)
        var value: JSONScanner.StringToken?
        while let key = try object.nextKey() {
            guard object.key(key, is: objectName) else {
                let name = (try? object.text(key)) ?? "?"
                throw TwilioProtocolError(.extraField, field: "\(event).\(name)", "Twilio rejects \"\(name)\" in \(event)")
            }
            value = try stringValue(&object, "\(event).\(objectName)")
        }
        guard let value else { throw TwilioProtocolError(.missingField, field: "\(event).\(objectName)", "no \(objectName)") }
        if event == "mark" { return .mark(name: try object.text(value)) }
        return .media(payload: try decodePayload(value, object))
    }

    /// Reads one frame the app sent (see ``readAppMessage(_:)-(UnsafeRawBufferPointer)``).
    public func readAppMessage(_ frame: some Sequence<UInt8>) throws(TwilioProtocolError) -> AppEvent {
        try withBytes(frame) { (bytes) throws(TwilioProtocolError) in try readAppMessage(bytes) }
    }

    // MARK: - Messages

    private func readStart(_ fields: TopLevel, _ scanner: JSONScanner) throws(TwilioProtocolError) -> TwilioMessage.Start {
        guard state == .awaitingStart else { throw TwilioProtocolError(.unexpectedMessage, "a second \"start\"") }
        let sequenceNumber = try fields.number("sequenceNumber", fields.sequenceNumber, scanner)
        var object = try fields.object("start", fields.objectStart, scanner)
        var accountSid: String?
        var streamSid: String?
        var callSid: String?
        var tracks: [String] = []
        var parameters: [String: String] = [:]
        var format = TwilioMessage.MediaFormat()
        while let key = try object.nextKey() {
            if object.key(key, is: "accountSid") {
                accountSid = try object.text(try stringValue(&object, "start.accountSid"))
            } else if object.key(key, is: "streamSid") {
                streamSid = try object.text(try stringValue(&object, "start.streamSid"))
            } else if object.key(key, is: "callSid") {
                callSid = try object.text(try stringValue(&object, "start.callSid"))
            } else if object.key(key, is: "tracks") {
                guard try object.peekKind() == .array else { throw TwilioProtocolError(.wrongType, field: "start.tracks", "not an array") }
                try object.beginArray()
                while try object.nextElement() { tracks.append(try object.text(try stringValue(&object, "start.tracks"))) }
            } else if object.key(key, is: "customParameters") {
                guard try object.peekKind() == .object else {
                    throw TwilioProtocolError(.wrongType, field: "start.customParameters", "not an object")
                }
                try object.beginObject()
                while let name = try object.nextKey() {
                    let nameText = try object.text(name)
                    parameters[nameText] = try object.text(try stringValue(&object, "start.customParameters.\(nameText)"))
                }
            } else if object.key(key, is: "mediaFormat") {
                format = try readMediaFormat(&object)
            } else {
                try object.skipValue()
            }
        }
        guard let accountSid else { throw TwilioProtocolError(.missingField, field: "start.accountSid", "no accountSid") }
        guard let callSid else { throw TwilioProtocolError(.missingField, field: "start.callSid", "no callSid") }
        guard let streamSid, !streamSid.isEmpty else {
            throw TwilioProtocolError(.missingField, field: "start.streamSid", "no streamSid")
        }
        if let topLevel = fields.streamSidToken, try scanner.text(topLevel) != streamSid {
            throw TwilioProtocolError(.streamSidMismatch, field: "streamSid", "differs from start.streamSid")
        }
        guard format == TwilioMessage.MediaFormat() else {
            throw TwilioProtocolError(
                .invalidValue, field: "start.mediaFormat",
                "unsupported format \(format.encoding) \(format.sampleRate) Hz \(format.channels) ch (expected audio/x-mulaw 8000 Hz mono)")
        }
        expect(streamSid: streamSid)
        state = .streaming
        var start = TwilioMessage.Start(
            sequenceNumber: String(sequenceNumber),
            start: .init(
                accountSid: accountSid, streamSid: streamSid, callSid: callSid, tracks: tracks,
                customParameters: parameters, mediaFormat: format))
        start.streamSid = streamSid
        return start
    }

    private func readMediaFormat(_ object: inout JSONScanner) throws(TwilioProtocolError) -> TwilioMessage.MediaFormat {
        guard try object.peekKind() == .object else { throw TwilioProtocolError(.wrongType, field: "start.mediaFormat", "not an object") }
        var format = TwilioMessage.MediaFormat()
        try object.beginObject()
        while let key = try object.nextKey() {
            if object.key(key, is: "encoding") {
                format.encoding = try object.text(try stringValue(&object, "start.mediaFormat.encoding"))
            } else if object.key(key, is: "sampleRate") || object.key(key, is: "channels") {
                let name = object.key(key, is: "sampleRate") ? "sampleRate" : "channels"
                guard try object.peekKind() == .number, let value = try object.integer() else {
                    throw TwilioProtocolError(.wrongType, field: "start.mediaFormat.\(name)", "not an integer")
                }
                if name == "sampleRate" { format.sampleRate = value } else { format.channels = value }
            } else {
                try object.skipValue()
            }
        }
        return format
    }

    private func readMedia(_ fields: TopLevel, _ scanner: JSONScanner, sequenceNumber: Int) throws(TwilioProtocolError) -> Media {
        var object = try fields.object("media", fields.objectStart, scanner)
        var track = Track.inbound
        var chunk: Int?
        var timestamp: Int?
        var payloadToken: JSONScanner.StringToken?
        while let key = try object.nextKey() {
            if object.key(key, is: "payload") {
                payloadToken = try stringValue(&object, "media.payload")
            } else if object.key(key, is: "chunk") {
                chunk = try Self.decimal(try stringValue(&object, "media.chunk"), object, field: "media.chunk")
            } else if object.key(key, is: "timestamp") {
                timestamp = try Self.decimal(try stringValue(&object, "media.timestamp"), object, field: "media.timestamp")
            } else if object.key(key, is: "track") {
                let token = try stringValue(&object, "media.track")
                if object.key(token, is: "inbound") {
                    track = .inbound
                } else if object.key(token, is: "outbound") {
                    track = .outbound
                } else {
                    throw TwilioProtocolError(.invalidValue, field: "media.track", "unknown track")
                }
            } else {
                try object.skipValue()
            }
        }
        guard let payloadToken else { throw TwilioProtocolError(.missingField, field: "media.payload", "no payload") }
        guard let chunk else { throw TwilioProtocolError(.missingField, field: "media.chunk", "no chunk") }
        guard let timestamp else { throw TwilioProtocolError(.missingField, field: "media.timestamp", "no timestamp") }
        return Media(
            sequenceNumber: sequenceNumber, track: track, chunk: chunk, timestamp: timestamp,
            payload: try decodePayload(payloadToken, object))
    }

    private func decodePayload(_ token: JSONScanner.StringToken, _ scanner: JSONScanner) throws(TwilioProtocolError)
        -> UnsafeRawBufferPointer
    {
        let limit = configuration.maximumPayloadBytes
        guard Base64.maximumDecodedCount(token.range.count) <= limit + 2 else {
            throw TwilioProtocolError(
                .payloadTooLarge, field: "media.payload",
                "\(token.range.count) base64 characters; the limit is \(limit) bytes (\(Base64.encodedCount(limit)) characters)")
        }
        // "\/" is legal JSON; Twilio never sends it, but a JSON encoder may.
        let unescaped = token.hasEscapes ? Array(try scanner.text(token).utf8) : nil
        func decode(_ input: UnsafeRawBufferPointer) -> Result<Int, Base64.DecodingError> {
            do { return .success(try Base64.decode(input, into: payload)) } catch { return .failure(error) }
        }
        let result =
            unescaped.map { $0.withUnsafeBytes(decode) } ?? decode(UnsafeRawBufferPointer(rebasing: scanner.bytes[token.range]))
        switch result {
        case .success(let count):
            return UnsafeRawBufferPointer(rebasing: payload[..<count])
        case .failure(.outputTooSmall(let needed, let available)):
            throw TwilioProtocolError(.payloadTooLarge, field: "media.payload", "\(needed) bytes; the limit is \(available)")
        case .failure(let error):
            throw TwilioProtocolError(.invalidBase64, field: "media.payload", error.description)
        }
    }

    private func checkStreamSid(_ fields: TopLevel, _ scanner: JSONScanner) throws(TwilioProtocolError) {
        guard let token = fields.streamSidToken else { throw TwilioProtocolError(.missingField, field: "streamSid", "no streamSid") }
        guard streamSid != nil else { return }
        let matches: Bool
        if token.hasEscapes {
            matches = try Array(scanner.text(token).utf8) == streamSidBytes
        } else {
            matches =
                token.range.count == streamSidBytes.count
                && streamSidBytes.withUnsafeBytes { expected in
                    expected.elementsEqual(UnsafeRawBufferPointer(rebasing: scanner.bytes[token.range]))
                }
        }
        guard matches else {
            throw TwilioProtocolError(.streamSidMismatch, field: "streamSid", "not the stream's \(streamSid ?? "")")
        }
    }

    // MARK: - Helpers

    private static let twilioObjects = ["start", "media", "dtmf", "mark", "stop"]
    private static let appObjects = ["media", "mark"]

    /// One pass over the top-level object: validates all of it and notes where each field is.
    private struct TopLevel {
        var event: JSONScanner.StringToken?
        var sequenceNumber: JSONScanner.StringToken?
        var streamSidToken: JSONScanner.StringToken?
        var protocolToken: JSONScanner.StringToken?
        var versionToken: JSONScanner.StringToken?
        /// The offset of the event's object (`media`, `start`, …) and its key.
        var objectStart: Int?
        var objectKey: String?
        var firstUnknownKey: String?

        init(_ scanner: inout JSONScanner, known objects: [String]) throws(TwilioProtocolError) {
            guard try scanner.peekKind() == .object else {
                try scanner.skipValue()
                try scanner.finish()
                throw TwilioProtocolError(.notAnObject, "a message must be a JSON object")
            }
            // The whole frame is validated first: a syntax error outranks a wrong type.
            var wrongType: TwilioProtocolError?
            func string(_ scanner: inout JSONScanner, _ field: String) throws(TwilioProtocolError) -> JSONScanner.StringToken? {
                guard try scanner.peekKind() == .string else {
                    if wrongType == nil { wrongType = TwilioProtocolError(.wrongType, field: field, "not a string") }
                    try scanner.skipValue()
                    return nil
                }
                return try scanner.string()
            }
            try scanner.beginObject()
            while let key = try scanner.nextKey() {
                if scanner.key(key, is: "event") {
                    event = try string(&scanner, "event")
                } else if scanner.key(key, is: "sequenceNumber") {
                    sequenceNumber = try string(&scanner, "sequenceNumber")
                    if firstUnknownKey == nil { firstUnknownKey = "sequenceNumber" }
                } else if scanner.key(key, is: "streamSid") {
                    streamSidToken = try string(&scanner, "streamSid")
                } else if scanner.key(key, is: "protocol") {
                    protocolToken = try string(&scanner, "protocol")
                    if firstUnknownKey == nil { firstUnknownKey = "protocol" }
                } else if scanner.key(key, is: "version") {
                    versionToken = try string(&scanner, "version")
                    if firstUnknownKey == nil { firstUnknownKey = "version" }
                } else {
                    let name = try scanner.text(key)
                    if objects.contains(name), objectStart == nil {
                        if try scanner.peekKind() == .object {
                            objectStart = scanner.index
                            objectKey = name
                        } else if wrongType == nil {
                            wrongType = TwilioProtocolError(.wrongType, field: name, "not an object")
                        }
                    } else if firstUnknownKey == nil {
                        firstUnknownKey = name
                    }
                    try scanner.skipValue()
                }
            }
            try scanner.finish()
            if let wrongType { throw wrongType }
        }

        func object(_ name: String, _ start: Int?, _ scanner: JSONScanner) throws(TwilioProtocolError) -> JSONScanner {
            guard let start, objectKey == name else { throw TwilioProtocolError(.missingField, field: name, "no \"\(name)\" object") }
            var object = JSONScanner(scanner.bytes, at: start)
            try object.beginObject()
            return object
        }

        func number(_ name: String, _ token: JSONScanner.StringToken?, _ scanner: JSONScanner) throws(TwilioProtocolError) -> Int {
            guard let token else { throw TwilioProtocolError(.missingField, field: name, "no \(name)") }
            return try MediaStreamReader.decimal(token, scanner, field: name)
        }

        func optionalText(_ name: String, _ token: JSONScanner.StringToken?, _ scanner: JSONScanner) throws(TwilioProtocolError) -> String?
        {
            guard let token else { return nil }
            return try scanner.text(token)
        }
    }

    /// A non-negative decimal integer written as a JSON string (`"155"`).
    private static func decimal(_ token: JSONScanner.StringToken, _ scanner: JSONScanner, field: String) throws(TwilioProtocolError) -> Int
    {
        guard !token.hasEscapes, (1...18).contains(token.range.count) else {
            throw TwilioProtocolError(.invalidValue, field: field, "not a decimal integer")
        }
        var value = 0
        for position in token.range {
            let digit = scanner.bytes[position] &- UInt8(ascii: "0")
            guard digit < 10 else { throw TwilioProtocolError(.invalidValue, field: field, "not a decimal integer") }
            value = value * 10 + Int(digit)
        }
        return value
    }
}

/// Runs `body` on a frame's bytes, keeping its typed error (the standard library's `withUnsafeBytes` and
/// `withContiguousStorageIfAvailable` rethrow untyped).
package func withBytes<Value>(
    _ frame: some Sequence<UInt8>, _ body: (UnsafeRawBufferPointer) throws(TwilioProtocolError) -> Value
) throws(TwilioProtocolError) -> Value {
    func run(_ bytes: UnsafeRawBufferPointer) -> Result<Value, TwilioProtocolError> {
        do { return .success(try body(bytes)) } catch { return .failure(error) }
    }
    if let result = frame.withContiguousStorageIfAvailable({ run(UnsafeRawBufferPointer($0)) }) { return try result.get() }
    return try Array(frame).withUnsafeBytes { run($0) }.get()
}

/// A string value, or `.wrongType` naming the field.
private func stringValue(_ scanner: inout JSONScanner, _ field: String) throws(TwilioProtocolError) -> JSONScanner.StringToken {
    guard try scanner.peekKind() == .string else { throw TwilioProtocolError(.wrongType, field: field, "not a string") }
    return try scanner.string()
}

@available(*, unavailable)
extension MediaStreamReader: Sendable {}
