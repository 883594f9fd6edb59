//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioMediaStreams
import VoicePipeTestSupport

/// The Media Streams wire protocol against the recorded sequences in TestVectors/twilio/media_streams/.
@Suite("Media Streams messages")
struct MediaStreamMessageTests {
    struct Expected: Decodable {
        struct Line: Decodable {
            var event: String
            var sequenceNumber: String?
            var streamSid: String?
            var accountSid: String?
            var callSid: String?
            var tracks: [String]?
            var customParameters: [String: String]?
            var track: String?
            var chunk: String?
            var timestamp: String?
            var payload_hex: String?
            var digit: String?
            var name: String?
        }
        var twilio_to_app: [Line]
        var app_to_twilio: [Line]
    }

    struct Malformed: Decodable {
        var name: String
        var direction: String
        var frames: [String]
        var bad_frame_index: Int
        var expected_error: String
        var then_frame_file: String?
    }

    static let directory = "twilio/media_streams"
    static let expected = try! JSONDecoder().decode(
        Expected.self, from: Data(TestVectors.bytes("\(directory)/bidirectional_call.expected.json")))

    static func lines(_ file: String) throws -> [String] {
        String(decoding: try TestVectors.bytes("\(directory)/\(file)"), as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    @Test("the reader extracts every field of Twilio's messages, payloads decoded, numbers parsed from strings")
    func readsTwilioSequence() throws {
        let lines = try Self.lines("bidirectional_call.twilio.jsonl")
        #expect(lines.count == Self.expected.twilio_to_app.count)
        let reader = MediaStreamReader()
        for (line, expected) in zip(lines, Self.expected.twilio_to_app) {
            let event = try reader.read(Array(line.utf8))
            switch event {
            case .connected(let connected):
                #expect(expected.event == "connected")
                #expect(connected == TwilioMessage.Connected(protocol: "Call", version: "1.0.0"))
            case .start(let start):
                #expect(expected.event == "start")
                #expect(start.sequenceNumber == expected.sequenceNumber)
                #expect(start.streamSid == expected.streamSid)
                #expect(start.start.streamSid == expected.streamSid)
                #expect(start.start.accountSid == expected.accountSid)
                #expect(start.start.callSid == expected.callSid)
                #expect(start.start.tracks == expected.tracks)
                #expect(start.start.customParameters == expected.customParameters)
                #expect(start.start.mediaFormat == TwilioMessage.MediaFormat())
                #expect(reader.streamSid == expected.streamSid)
            case .media(let media):
                #expect(expected.event == "media")
                #expect(String(media.sequenceNumber) == expected.sequenceNumber)
                #expect(String(media.chunk) == expected.chunk)
                #expect(String(media.timestamp) == expected.timestamp)
                #expect(media.track == .inbound && expected.track == "inbound")
                #expect(Self.hex(media.payload) == expected.payload_hex)
            case .dtmf(let digit, let sequenceNumber):
                #expect(expected.event == "dtmf")
                #expect(digit == expected.digit)
                #expect(String(sequenceNumber) == expected.sequenceNumber)
            case .mark(let name, let sequenceNumber):
                #expect(expected.event == "mark")
                #expect(name == expected.name)
                #expect(String(sequenceNumber) == expected.sequenceNumber)
            case .stop(let stop):
                #expect(expected.event == "stop")
                #expect(stop.stop.callSid == expected.callSid)
                #expect(stop.stop.accountSid == expected.accountSid)
                #expect(stop.sequenceNumber == expected.sequenceNumber)
                #expect(reader.state == .stopped)
            case .unknown(let name):
                Issue.record("unexpected unknown event \(name)")
            }
        }
    }

    @Test("the Codable types decode Twilio's messages with numbers as strings, and round-trip")
    func codableTwilioSequence() throws {
        let lines = try Self.lines("bidirectional_call.twilio.jsonl")
        for (line, expected) in zip(lines, Self.expected.twilio_to_app) {
            let message = try JSONDecoder().decode(TwilioMessage.self, from: Data(line.utf8))
            #expect(message.event == expected.event)
            switch message {
            case .media(let media):
                #expect(media.sequenceNumber == expected.sequenceNumber)
                #expect(media.media.chunk == expected.chunk)
                #expect(media.media.timestamp == expected.timestamp)
                #expect(media.streamSid == expected.streamSid)
                #expect(Self.hex(Data(base64Encoded: media.media.payload)!) == expected.payload_hex)
            case .start(let start):
                #expect(start.start.customParameters == expected.customParameters)
                #expect(start.start.mediaFormat.sampleRate == 8000)
            case .dtmf(let dtmf): #expect(dtmf.dtmf.digit == expected.digit)
            case .mark(let mark): #expect(mark.mark.name == expected.name)
            case .stop(let stop): #expect(stop.stop.callSid == expected.callSid)
            case .connected, .unknown: break
            }
            // Re-encoded, it is the same JSON value (key order aside), and it decodes to the same message.
            let encoded = try JSONEncoder().encode(message)
            #expect(try JSONDecoder().decode(TwilioMessage.self, from: encoded) == message)
            let original = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! NSDictionary
            let reencoded = try JSONSerialization.jsonObject(with: encoded) as! NSDictionary
            #expect(original == reencoded, "\(line)")
        }
        let unknown = try JSONDecoder().decode(TwilioMessage.self, from: Data(#"{"event":"transcription","x":1}"#.utf8))
        #expect(unknown == .unknown(event: "transcription"))
    }

    @Test("the writer and JSONEncoder both write the app's messages byte for byte; the strict reader reads them back")
    func appMessages() throws {
        let lines = try Self.lines("bidirectional_call.app.jsonl")
        #expect(lines.count == Self.expected.app_to_twilio.count)
        let streamSid = try #require(Self.expected.app_to_twilio.first?.streamSid)
        let writer = MediaStreamWriter(streamSid: streamSid)
        let reader = MediaStreamReader()
        reader.expect(streamSid: streamSid)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        for (line, expected) in zip(lines, Self.expected.app_to_twilio) {
            var written: [UInt8] = []
            let message: AppMessage
            switch expected.event {
            case "media":
                let bytes = stride(from: 0, to: expected.payload_hex!.count, by: 2).map { offset -> UInt8 in
                    let start = expected.payload_hex!.index(expected.payload_hex!.startIndex, offsetBy: offset)
                    return UInt8(expected.payload_hex![start..<expected.payload_hex!.index(start, offsetBy: 2)], radix: 16)!
                }
                writer.media(bytes, into: &written)
                message = .media(streamSid: streamSid, payload: Data(bytes).base64EncodedString())
                guard case .media(let payload) = try reader.readAppMessage(Array(line.utf8)) else {
                    Issue.record("not media: \(line)")
                    continue
                }
                #expect(Array(payload) == bytes)
            case "mark":
                writer.mark(expected.name!, into: &written)
                message = .mark(streamSid: streamSid, name: expected.name!)
                guard case .mark(let name) = try reader.readAppMessage(Array(line.utf8)) else {
                    Issue.record("not a mark: \(line)")
                    continue
                }
                #expect(name == expected.name)
            default:
                writer.clear(into: &written)
                message = .clear(streamSid: streamSid)
                guard case .clear = try reader.readAppMessage(Array(line.utf8)) else {
                    Issue.record("not clear: \(line)")
                    continue
                }
            }
            #expect(String(decoding: written, as: UTF8.self) == line)
            // JSONEncoder's key order is its own; the JSON value is the same.
            let encoded = try JSONSerialization.jsonObject(with: try encoder.encode(message)) as! NSDictionary
            #expect(encoded == (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! NSDictionary))
            #expect(try JSONDecoder().decode(AppMessage.self, from: Data(line.utf8)) == message)
        }
    }

    @Test("the writer escapes names and stream ids so that JSONDecoder and the reader read them back")
    func writerEscaping() throws {
        let awkward = "a\"b\\c\nd\u{1}é/😀"
        let writer = MediaStreamWriter(streamSid: awkward)
        var written: [UInt8] = []
        writer.mark(awkward, into: &written)
        #expect(try JSONDecoder().decode(AppMessage.self, from: Data(written)) == .mark(streamSid: awkward, name: awkward))
        let reader = MediaStreamReader()
        reader.expect(streamSid: awkward)
        guard case .mark(let name) = try reader.readAppMessage(written) else {
            Issue.record("not a mark")
            return
        }
        #expect(name == awkward)
    }

    @Test("every malformed case gives its typed error (or an unknown event), and the reader goes on")
    func malformed() throws {
        let cases = try Self.lines("malformed.jsonl").map {
            try JSONDecoder().decode(Malformed.self, from: Data($0.utf8))
        }
        #expect(cases.count == 20)
        let goodMedia = try Self.lines("bidirectional_call.twilio.jsonl")[2]
        for testCase in cases {
            var frames = testCase.frames.map { Array($0.utf8) }
            if let file = testCase.then_frame_file { frames.append(try TestVectors.bytes("\(Self.directory)/\(file)")) }
            #expect(frames.count == testCase.bad_frame_index + 1, "\(testCase.name)")
            let reader = MediaStreamReader()
            for frame in frames.dropLast() { _ = try reader.read(frame) }
            let bad = frames.last!
            do {
                if testCase.direction == "app_to_twilio" {
                    reader.expect(streamSid: "MZ24b8f6e431e4002cfe4837d6b7e9bfe5")
                    _ = try reader.readAppMessage(bad)
                    Issue.record("\(testCase.name): accepted")
                } else if case .unknown(let event) = try reader.read(bad) {
                    #expect(testCase.expected_error == "unknown_event", "\(testCase.name)")
                    #expect(event == "transcription")
                } else {
                    Issue.record("\(testCase.name): accepted")
                }
            } catch {
                #expect(error.code.rawValue == testCase.expected_error, "\(testCase.name): \(error)")
            }
            // One bad frame does not end the stream: the next good frame is read.
            if testCase.direction == "twilio_to_app", reader.state == .streaming {
                guard case .media(let media) = try reader.read(Array(goodMedia.utf8)) else {
                    Issue.record("\(testCase.name): good frame not read")
                    continue
                }
                #expect(media.payload.count == 160)
            }
        }
    }

    @Test("strict JSON: what JSONSerialization refuses, the reader refuses too, and vice versa")
    func strictJSON() throws {
        let valid = [
            #"{"event":"connected","protocol":"Call","version":"1.0.0"}"#,
            " {\n\"event\" : \"connected\" ,\t\"extra\":[1,-2.5e3,true,false,null,{\"a\":[]},\"\\u00e9\\ud83d\\ude00\"]} ",
            #"{"event":"x\/y"}"#,
        ]
        let invalid = [
            "", " ", "{", "}", "[]", "\"event\"", "{\"event\":\"connected\"", "{\"event\":\"connected\",}",
            "{\"event\" \"connected\"}", "{'event':'connected'}", "{\"event\":\"connected\"}x", "{\"event\":01}",
            "{\"event\":\"a\nb\"}", "{\"event\":\"\\x\"}", "{\"event\":\"\\ud800\"}", "{\"event\":tru}", "{\"event\":1.}",
            "{\"event\":-}", "{\"event\":[1,]}", "{\"event\":\"\u{1}\"}", "{\"a\":1,,\"b\":2}", "{\"event\":\"x\",\"\\ud800\":1}",
            "{\"\\udc00x\":1}", "{\"event\":[\"\\ud83d\\u0041\"]}",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ]
        for text in valid {
            #expect(throws: Never.self, "\(text)") { _ = try MediaStreamReader().read(Array(text.utf8)) }
        }
        for text in invalid {
            #expect(throws: TwilioProtocolError.self, "\(text)") { _ = try MediaStreamReader().read(Array(text.utf8)) }
        }
        if case .unknown(let event) = try MediaStreamReader().read(Array(valid[2].utf8)) { #expect(event == "x/y") }
    }

    @Test("format, ordering and stream-id rules")
    func protocolRules() throws {
        let lines = try Self.lines("bidirectional_call.twilio.jsonl")
        let start = lines[1]
        // 16 kHz linear PCM is not what this reader accepts.
        let wideband = start.replacingOccurrences(of: #""sampleRate":8000"#, with: #""sampleRate":16000"#)
        #expect(
            throws: TwilioProtocolError(
                .invalidValue, field: "start.mediaFormat",
                "unsupported format audio/x-mulaw 16000 Hz 1 ch (expected audio/x-mulaw 8000 Hz mono)")
        ) {
            _ = try MediaStreamReader().read(Array(wideband.utf8))
        }
        let reader = MediaStreamReader()
        _ = try reader.read(Array(start.utf8))
        #expect(throws: TwilioProtocolError.self) { _ = try reader.read(Array(start.utf8)) }  // a second start
        _ = try reader.read(Array(lines[13].utf8))  // stop
        #expect(reader.state == .stopped)
        do {
            _ = try reader.read(Array(lines[2].utf8))
            Issue.record("media after stop accepted")
        } catch {
            #expect(error.code == .unexpectedMessage)
        }
        // A payload one byte over the limit is refused before decoding; at the limit it is read.
        let small = MediaStreamReader(configuration: .init(maximumPayloadBytes: 159))
        _ = try small.read(Array(start.utf8))
        #expect(throws: TwilioProtocolError.self) { _ = try small.read(Array(lines[2].utf8)) }
        let exact = MediaStreamReader(configuration: .init(maximumPayloadBytes: 160))
        _ = try exact.read(Array(start.utf8))
        guard case .media(let media) = try exact.read(Array(lines[2].utf8)) else {
            Issue.record("not media")
            return
        }
        #expect(media.payload.count == 160)
    }
}
