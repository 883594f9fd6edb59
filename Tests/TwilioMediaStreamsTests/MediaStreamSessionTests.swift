//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioMediaStreams
import VoiceDSP
import VoicePipeTestSupport
import VoicePipeTesting

/// A session and a simulated Twilio on a virtual clock, with a one-way network delay each way.
final class SimulatedCall {
    let session: MediaStreamSession
    let twilio: TwilioStreamSimulator
    let delay: Double
    var now = 0.0
    private var toTwilio: [(time: Double, frame: [UInt8])] = []
    private var toApp: [(time: Double, frame: [UInt8])] = []
    var events: [MediaStreamSession.Event] = []
    var heard: [UInt8] = []  // agent audio as Twilio played it
    var maximumBuffered = 0
    var heardAtClear: Int?
    private var scratch: [UInt8] = []

    init(lead: Duration?, delay: Double = 0, streamSid: String = "MZ24b8f6e431e4002cfe4837d6b7e9bfe5") throws {
        session = try MediaStreamSession(configuration: .init(maximumLead: lead))
        twilio = TwilioStreamSimulator(configuration: .init(streamSid: streamSid, customParameters: [("callerId", "+14155550199")]))
        self.delay = delay
        var frame: [UInt8] = []
        twilio.connected(into: &frame)
        toApp.append((0, frame))
        frame.removeAll()
        twilio.start(into: &frame)
        toApp.append((0, frame))
        twilio.advance(to: 0, played: { _ in })
    }

    /// Runs the call in 1 ms steps up to `end`.
    func run(until end: Double, every step: (Double) throws -> Void = { _ in }) throws {
        while now < end {
            now += 1
            try step(now)
            twilio.advance(to: now, played: { heard.append(contentsOf: $0) })
            while twilio.nextEcho(into: &scratch) {
                toApp.append((now + delay, scratch))
                scratch.removeAll(keepingCapacity: true)
            }
            while let first = toApp.first, first.time <= now {
                toApp.removeFirst()
                if let event = try session.receive(first.frame, at: now) { events.append(event) }
            }
            drain()
            while let first = toTwilio.first, first.time <= now {
                toTwilio.removeFirst()
                if String(decoding: first.frame, as: UTF8.self).contains(#""event":"clear""#) { heardAtClear = heard.count }
                try twilio.receive(first.frame, at: now)
            }
            maximumBuffered = max(maximumBuffered, twilio.bufferedBytes)
        }
    }

    func drain() {
        while session.nextMessage(into: &scratch) {
            toTwilio.append((now + delay, scratch))
            scratch.removeAll(keepingCapacity: true)
        }
    }

    /// Sends the caller's audio (as Twilio would) arriving now.
    func callerMedia(_ mulaw: [UInt8], timestamp: Int) {
        var frame: [UInt8] = []
        mulaw.withUnsafeBytes { twilio.media($0, timestamp: timestamp, into: &frame) }
        toApp.append((now, frame))
    }
}

@Suite("Media Streams session")
struct MediaStreamSessionTests {
    static let tone: [Float] = (0..<32000).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }

    @Test("the simulated Twilio writes the recorded call byte for byte")
    func simulatorMatchesRecording() throws {
        let expected = try MediaStreamMessageTests.lines("bidirectional_call.twilio.jsonl")
        let app = try MediaStreamMessageTests.lines("bidirectional_call.app.jsonl")
        let twilio = TwilioStreamSimulator(
            configuration: .init(
                accountSid: "AC0123456789abcdef0123456789abcdef", callSid: "CAfedcba9876543210fedcba9876543210",
                streamSid: "MZ24b8f6e431e4002cfe4837d6b7e9bfe5",
                customParameters: [("callerId", "+14155550199"), ("sessionToken", "tok_7f3a9c")]))
        let reader = MediaStreamReader()
        var written: [String] = []
        func emit(_ body: (inout [UInt8]) -> Void) {
            var frame: [UInt8] = []
            body(&frame)
            written.append(String(decoding: frame, as: UTF8.self))
        }
        func media(_ line: Int) throws {
            guard case .media(let message) = try reader.read(Array(expected[line - 1].utf8)) else { throw CancellationError() }
            let payload = Array(message.payload)
            emit { output in payload.withUnsafeBytes { twilio.media($0, timestamp: message.timestamp, into: &output) } }
        }
        emit { twilio.connected(into: &$0) }
        emit { twilio.start(into: &$0) }
        _ = try reader.read(Array(expected[1].utf8))
        for line in 3...7 { try media(line) }
        emit { twilio.dtmf("5", into: &$0) }
        for line in 9...10 { try media(line) }
        twilio.advance(to: 0, played: { _ in })
        for line in app[0..<3] { try twilio.receive(Array(line.utf8), at: 0) }  // 480 bytes, then a mark
        twilio.advance(to: 59, played: { _ in })
        var frame: [UInt8] = []
        #expect(!twilio.nextEcho(into: &frame))  // 60 ms of audio: not yet played
        twilio.advance(to: 60, played: { _ in })
        emit { #expect(twilio.nextEcho(into: &$0)) }
        try media(12)
        for line in app[3..<6] { try twilio.receive(Array(line.utf8), at: 70) }  // media, mark, clear
        emit { #expect(twilio.nextEcho(into: &$0)) }  // echoed by the clear
        emit { twilio.stop(into: &$0) }
        #expect(written == expected)
        #expect(twilio.marksFlushed == 1 && twilio.playedBytes == 480)
    }

    @Test("paced sending: the lead at Twilio stays bounded, playback never starves, every frame is reported played")
    func pacedPlayback() throws {
        let call = try SimulatedCall(lead: .milliseconds(200), delay: 30)
        try call.run(until: 10)
        guard case .started(let start) = call.events.last else {
            Issue.record("no start")
            return
        }
        #expect(start.start.customParameters == ["callerId": "+14155550199"])
        #expect(call.session.customParameters["callerId"] == "+14155550199")
        let utterance = try call.session.play(Self.tone, sampleRate: 16000)  // 2 s
        call.session.endUtterance()
        try call.run(until: 2400)
        // What Twilio played is exactly what the outbound chain makes of the audio.
        let chain = try OutboundChain(inputRate: 16000)
        var offline: [UInt8] = []
        Self.tone.withUnsafeBufferPointer { chain.push($0) { offline.append(contentsOf: $0) } }
        chain.flush { offline.append(contentsOf: $0) }
        #expect(offline.count == 100 * 160)
        #expect(call.heard == offline)
        // 200 ms lead: never more than 10 frames buffered at Twilio (the burst would be 100).
        #expect(call.maximumBuffered <= 10 * 160)
        // 60 ms round trip < 200 ms lead: playback ran continuously, 2 s after it began.
        let played = call.events.compactMap { event -> MediaStreamSession.Playback? in
            if case .played(let playback) = event { return playback } else { return nil }
        }
        #expect(played.count == 100)
        #expect(played.map(\.playedFrames) == Array(1...100))
        #expect(played.last == .init(utterance: utterance, playedFrames: 100, totalFrames: 100, isFinished: true, wasCleared: false))
        #expect(call.session.framesAtTwilio == 0 && call.session.queuedFrames == 0)
    }

    @Test(
        "barge-in: clear cuts the agent off within the lead, and the played position is within half a frame of what was heard",
        arguments: [(Duration?.some(.milliseconds(200)), 0.0), (.milliseconds(200), 40), (.milliseconds(100), 25), (nil, 40)])
    func bargeIn(lead: Duration?, delay: Double) throws {
        // The clear at every millisecond of a frame: the frame under way may have just begun or nearly ended.
        for clearTime in 510...529 {
            try bargeIn(lead: lead, delay: delay, clearTime: Double(clearTime))
        }
    }

    private func bargeIn(lead: Duration?, delay: Double, clearTime: Double) throws {
        let call = try SimulatedCall(lead: lead, delay: delay)
        try call.run(until: 10)
        let first = try call.session.play(Self.tone, sampleRate: 16000)
        call.session.endUtterance()
        var immediate: [MediaStreamSession.Playback]??
        try call.run(until: 1500) { now in
            if now == clearTime {
                immediate = .some(call.session.clear(at: now))
                call.drain()
            }
        }
        #expect(immediate == .some(nil))  // frames were at Twilio: the final figure comes with the echoes
        let cleared = call.events.compactMap { event -> [MediaStreamSession.Playback]? in
            if case .cleared(let playback) = event { return playback } else { return nil }
        }
        try #require(cleared.count == 1)
        let report = try #require(cleared[0].first)
        #expect(report.utterance == first && report.wasCleared && !report.isFinished)
        // The truth: what Twilio had played when the clear reached it, to the sample.
        let heard = Double(try #require(call.heardAtClear)) / 8
        #expect(
            abs(Double(report.playedMilliseconds) - heard) <= 10,
            "clear at \(clearTime) ms: reported \(report.playedMilliseconds) ms, heard \(heard) ms")
        #expect(call.heard.count == call.heardAtClear)  // nothing played after the clear
        if let lead {
            let leadFrames = Int(lead.components.attoseconds / 20_000_000_000_000_000 + lead.components.seconds * 50)
            #expect(call.maximumBuffered <= leadFrames * 160)
        } else {
            #expect(call.maximumBuffered == 100 * 160)  // bursting: all of it sat at Twilio
        }
        #expect(call.twilio.clears == 1)
        // The call goes on: a new utterance plays in full.
        let second = try call.session.play(Array(Self.tone[..<3200]), sampleRate: 16000)
        call.session.endUtterance()
        #expect(second != first)
        try call.run(until: 2000)
        guard case .played(let last) = call.events.last else {
            Issue.record("no playback after the clear")
            return
        }
        #expect(last.utterance == second && last.isFinished && last.playedFrames == 10)
    }

    @Test("clear with nothing at Twilio reports at once")
    func clearWhenIdle() throws {
        let call = try SimulatedCall(lead: .milliseconds(200))
        try call.run(until: 10)
        let silentID = call.session.beginUtterance()
        let report = call.session.clear(at: 10)
        #expect(report == [.init(utterance: silentID, playedFrames: 0, totalFrames: 0, isFinished: false, wasCleared: true)])
        #expect(call.session.clear(at: 11) == [])
    }

    @Test("inbound media of any size is cut into 20 ms frames; missing chunks are concealed; DTMF and stop are reported")
    func inbound() throws {
        let call = try SimulatedCall(lead: .milliseconds(200))
        try call.run(until: 1)
        let pcm = (0..<1600).map { Int16(8000 * sin(2 * Double.pi * 440 * Double($0) / 8000)) }
        var codes = [UInt8](repeating: 0, count: pcm.count)
        pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
        // 320 bytes, 100, 60 (together two frames and 0 left), then 160 with one chunk skipped.
        call.callerMedia(Array(codes[0..<320]), timestamp: 20)
        call.callerMedia(Array(codes[320..<420]), timestamp: 60)
        call.callerMedia(Array(codes[420..<480]), timestamp: 72)
        var skipped: [UInt8] = []
        call.twilio.media(UnsafeRawBufferPointer(start: nil, count: 0), timestamp: 0, into: &skipped)  // chunk 4 is lost
        call.callerMedia(Array(codes[640..<800]), timestamp: 100)
        try call.run(until: 2)
        let frames = call.events.compactMap { event -> Int? in if case .audio(let frames) = event { frames } else { nil } }
        #expect(frames == [2, 0, 1, 1])
        var sources: [InboundChain.Source] = []
        while let tick = call.session.inbound.tick(at: 2) { sources.append(tick.source) }  // in-order play-out
        #expect(sources == [.frame(sequence: 0), .frame(sequence: 1), .frame(sequence: 2), .concealed(sequence: 3), .frame(sequence: 4)])

        var frame: [UInt8] = []
        call.twilio.dtmf("#", into: &frame)
        #expect(try { if case .dtmf("#") = try call.session.receive(frame, at: 3) { true } else { false } }())
        frame.removeAll()
        call.twilio.stop(into: &frame)
        #expect(try { if case .stopped = try call.session.receive(frame, at: 3) { true } else { false } }())
        #expect(call.session.state == .stopped)
        try call.session.play(Self.tone, sampleRate: 16000)
        #expect(!call.session.nextMessage(into: &frame))
    }

    @Test("bad frames throw typed errors and the session goes on")
    func badFrames() throws {
        let call = try SimulatedCall(lead: .milliseconds(200))
        try call.run(until: 1)
        #expect(throws: TwilioProtocolError.self) { _ = try call.session.receive(Array("{\"event\":".utf8), at: 1) }
        #expect(throws: TwilioProtocolError.self) {
            _ = try call.session.receive(
                Array(
                    #"{"event":"media","sequenceNumber":"9","media":{"chunk":"1","timestamp":"0","payload":"@@@@"},"streamSid":"MZ24b8f6e431e4002cfe4837d6b7e9bfe5"}"#
                        .utf8), at: 1)
        }
        call.callerMedia([UInt8](repeating: 0xFF, count: 160), timestamp: 20)
        try call.run(until: 3)
        #expect(call.events.contains { if case .audio(1) = $0 { true } else { false } })
    }
}
