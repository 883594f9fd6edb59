//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceProviders

@Suite("Server-sent events parser")
struct ServerSentEventsTests {
    private func parse(_ pieces: [[UInt8]]) throws -> [ServerSentEvent] {
        var parser = ServerSentEventParser()
        var events: [ServerSentEvent] = []
        for piece in pieces { events += try parser.append(piece) }
        return events
    }

    private func parse(_ text: String) throws -> [ServerSentEvent] { try parse([Array(text.utf8)]) }

    @Test("data lines join with a newline, one leading space is stripped, a blank line dispatches")
    func dataLines() throws {
        let events = try parse("data: first\ndata:second\ndata:  third\n\ndata: next\n\n")
        #expect(events.map(\.data) == ["first\nsecond\n third", "next"])
        #expect(events.allSatisfy { $0.event == "message" })
    }

    @Test("comment lines are ignored, alone or inside an event")
    func comments() throws {
        #expect(try parse(": keep-alive\n\n: OPENROUTER PROCESSING\n\n").isEmpty)
        #expect(try parse("data: a\n: ping\ndata: b\n\n").map(\.data) == ["a\nb"])
    }

    @Test("CRLF, LF and CR all end lines, also when CR and LF arrive in different reads")
    func lineEndings() throws {
        #expect(try parse("data: a\r\n\r\ndata: b\n\ndata: c\r\rdata: d\r\n\n").map(\.data) == ["a", "b", "c", "d"])
        let split = try parse([Array("data: x\r".utf8), Array("\n\r".utf8), Array("\ndata: y\r\n\r\n".utf8)])
        #expect(split.map(\.data) == ["x", "y"])
    }

    @Test("an event split at every byte, inside a multi-byte character too, parses as when whole")
    func splitAnywhere() throws {
        let stream = "event: delta\nid: 7\ndata: {\"content\":\"Café – naïve 😀\"}\n\n: keep-alive\n\ndata: [DONE]\n\n"
        let bytes = Array(stream.utf8)
        let whole = try parse([bytes])
        #expect(whole.count == 2)
        #expect(whole.first == ServerSentEvent(event: "delta", data: "{\"content\":\"Café – naïve 😀\"}", id: "7"))
        #expect(whole.last?.data == "[DONE]")
        for cut in 1..<bytes.count {
            #expect(try parse([Array(bytes[..<cut]), Array(bytes[cut...])]) == whole, "cut at \(cut)")
        }
        #expect(try parse(bytes.map { [$0] }) == whole)
    }

    @Test("event, id and retry fields; an event without data is not dispatched; an unfinished one is dropped")
    func fields() throws {
        let events = try parse("event: ping\n\nid: 3\nretry: 1500\nevent: update\ndata\n\nretry: x\ndata: z\n\ndata: unfinished")
        #expect(events == [ServerSentEvent(event: "update", data: "", id: "3", retry: 1500), ServerSentEvent(data: "z", id: "3")])
    }

    @Test("a leading byte-order mark is skipped")
    func byteOrderMark() throws {
        #expect(try parse([[0xEF, 0xBB, 0xBF] + Array("data: a\n\n".utf8)]).map(\.data) == ["a"])
    }

    @Test("a line larger than the limit throws instead of growing without bound")
    func limit() {
        var parser = ServerSentEventParser(maximumEventBytes: 64)
        #expect(throws: ServerSentEventParser.EventTooLarge(limit: 64)) {
            _ = try parser.append(Array(("data: " + String(repeating: "x", count: 100)).utf8))
        }
        var joined = ServerSentEventParser(maximumEventBytes: 64)
        #expect(throws: ServerSentEventParser.EventTooLarge.self) {
            _ = try joined.append(Array(String(repeating: "data: 0123456789\n", count: 10).utf8))
        }
    }
}
