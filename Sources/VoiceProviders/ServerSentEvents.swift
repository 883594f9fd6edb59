//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// One event of a `text/event-stream`.
public struct ServerSentEvent: Sendable, Hashable {
    /// The `event:` field (`message` when the event had none).
    public var event: String
    /// The `data:` lines, joined with `\n`.
    public var data: String
    /// The last `id:` seen on the stream, if any.
    public var id: String?
    /// The `retry:` field of this event (milliseconds), if it had a valid one.
    public var retry: Int?

    /// Creates an event.
    public init(event: String = "message", data: String, id: String? = nil, retry: Int? = nil) {
        self.event = event
        self.data = data
        self.id = id
        self.retry = retry
    }
}

/// An incremental parser of the WHATWG `text/event-stream` format: feed it the bytes of a response body as
/// they arrive, in pieces of any size (an event, a line or a UTF-8 sequence may be split anywhere), and it
/// hands back each event when its blank line arrives.
///
/// Lines end with CRLF, LF or CR. A line starting with `:` is a comment (a keep-alive) and is ignored; a
/// field's value loses one leading space; `data:` lines join with `\n`; an event with no `data:` line is not
/// dispatched; an unfinished event at the end of the stream is dropped. Text is decoded once per line, so a
/// multi-byte character split across two reads comes out whole.
public struct ServerSentEventParser: Sendable {
    /// The bytes of one line or one event exceeded ``maximumEventBytes``.
    public struct EventTooLarge: Error, Sendable, Hashable {
        /// The limit that was exceeded.
        public var limit: Int

        /// Creates the error.
        public init(limit: Int) { self.limit = limit }
    }

    /// The largest line or event the parser buffers before throwing ``EventTooLarge``.
    public var maximumEventBytes: Int

    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType = ""
    private var lastID: String?
    private var retry: Int?
    private var afterCR = false
    private var atStreamStart = true

    /// Creates a parser that refuses lines and events larger than `maximumEventBytes` (8 MiB by default).
    public init(maximumEventBytes: Int = 8 << 20) {
        self.maximumEventBytes = maximumEventBytes
        line.reserveCapacity(256)
    }

    /// Parses the next bytes of the stream, calling `onEvent` for each event they complete, in order.
    ///
    /// - Throws: ``EventTooLarge``, or what `onEvent` throws (parsing stops there).
    public mutating func append<Bytes: Sequence<UInt8>>(
        _ bytes: Bytes, onEvent: (ServerSentEvent) throws -> Void
    ) throws {
        for byte in bytes {
            if afterCR {
                afterCR = false
                if byte == UInt8(ascii: "\n") { continue }
            }
            switch byte {
            case UInt8(ascii: "\n"):
                try endLine(onEvent)
            case UInt8(ascii: "\r"):
                afterCR = true
                try endLine(onEvent)
            default:
                guard line.count < maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
                line.append(byte)
            }
        }
    }

    /// Parses the next bytes of the stream and returns the events they complete.
    ///
    /// - Throws: ``EventTooLarge``.
    public mutating func append<Bytes: Sequence<UInt8>>(_ bytes: Bytes) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        try append(bytes) { events.append($0) }
        return events
    }

    private mutating func endLine(_ onEvent: (ServerSentEvent) throws -> Void) throws {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        guard !line.isEmpty else {
            try dispatch(onEvent)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let nameEnd = colon ?? line.endIndex
        var valueStart = colon.map { $0 + 1 } ?? line.endIndex
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let name = line[..<nameEnd]
        let value = line[valueStart...]
        if name.elementsEqual("data".utf8) {
            if hasData { data.append(UInt8(ascii: "\n")) }
            hasData = true
            guard data.count + value.count <= maximumEventBytes else { throw EventTooLarge(limit: maximumEventBytes) }
            data.append(contentsOf: value)
        } else if name.elementsEqual("event".utf8) {
            eventType = String(decoding: value, as: UTF8.self)
        } else if name.elementsEqual("id".utf8) {
            if !value.contains(0) { lastID = String(decoding: value, as: UTF8.self) }
        } else if name.elementsEqual("retry".utf8) {
            if !value.isEmpty, value.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
                retry = Int(String(decoding: value, as: UTF8.self))
            }
        }
    }

    private mutating func dispatch(_ onEvent: (ServerSentEvent) throws -> Void) throws {
        defer {
            data.removeAll(keepingCapacity: true)
            hasData = false
            eventType = ""
            retry = nil
        }
        guard hasData else { return }
        let event = ServerSentEvent(
            event: eventType.isEmpty ? "message" : eventType, data: String(decoding: data, as: UTF8.self), id: lastID,
            retry: retry)
        try onEvent(event)
    }
}
