//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import Testing
import TwilioMediaStreams
import VoiceDSP
import VoicePipeServer

/// What an abusive client saw.
struct AbuseOutcome {
    var serverClosed: Bool
}

/// Connects to `url`, sends `frames`, and waits up to `wait` for the server to close the socket.
func abuse(
    _ url: String, frames: [String], wait: Duration = .seconds(3), hangUpAbruptly: Bool = false, neverRead: Bool = false
) async throws -> AbuseOutcome {
    var logger = Logger(label: "abuser")
    logger.logLevel = .critical
    let closed = ClosedFlag()
    let task = Task {
        try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
            for frame in frames { try await outbound.write(.text(frame)) }
            if hangUpAbruptly { throw CancellationError() }
            if neverRead {
                try await Task.sleep(for: wait)
                return
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in inbound {}
                    closed.set()
                }
                group.addTask { try await Task.sleep(for: wait) }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
    _ = await task.result
    return AbuseOutcome(serverClosed: closed.value)
}

final class ClosedFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var value: Bool { flag.withLock { $0 } }
}

/// Twilio's opening frames and media, as strings.
enum Frames {
    static func text(_ write: (TwilioStreamSimulator, inout [UInt8]) -> Void) -> String {
        let twilio = TwilioStreamSimulator(configuration: .init(streamSid: "MZ00000000000000000000000000000001"))
        var bytes: [UInt8] = []
        write(twilio, &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
    static let connected = text { twilio, out in twilio.connected(into: &out) }
    static let start = text { twilio, out in twilio.start(into: &out) }
    /// The caller's speech (8 kHz samples) as media frames.
    static func speech(_ samples: [Float]) -> [String] {
        let twilio = TwilioStreamSimulator(configuration: .init(streamSid: "MZ00000000000000000000000000000001"))
        return stride(from: 0, to: samples.count - 159, by: 160).enumerated().map { index, start in
            let pcm = samples[start..<(start + 160)].map(AudioClip.pcm16Sample)
            var codes = [UInt8](repeating: 0, count: 160)
            pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
            var out: [UInt8] = []
            codes.withUnsafeBytes { twilio.media($0, timestamp: index * 20, into: &out) }
            return String(decoding: out, as: UTF8.self)
        }
    }

    static func media(_ count: Int) -> [String] {
        let twilio = TwilioStreamSimulator(configuration: .init(streamSid: "MZ00000000000000000000000000000001"))
        let silence = [UInt8](repeating: 0xFF, count: 160)
        return (0..<count).map { index in
            var out: [UInt8] = []
            silence.withUnsafeBytes { twilio.media($0, timestamp: index * 20, into: &out) }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

extension ServerTests {
    @Test("each bad client gets a clean close (or is ignored where Twilio allows), and a healthy call alongside stays on time")
    func abuseAlongsideAHealthyCall() async throws {
        let running = try await RunningServer.start()
        let url = running.mediaURL
        // The healthy call: a turn and its echo, in real time, while the abuse goes on.
        let healthy = Task {
            try await SimulatedCaller(
                .init(url: url, audio: Speech.silence(300) + Speech.thePerson + Speech.silence(300), tailMilliseconds: 3500,
                      call: .init(streamSid: "MZ0000000000000000000000000000beef"))
            ).run()
        }
        let opening = [Frames.connected, Frames.start]
        let media = Frames.media(5)
        var outcomes: [String: AbuseOutcome] = [:]
        outcomes["malformed JSON"] = try await abuse(url, frames: opening + ["{\"event\":\"media\",\"sequ"])
        outcomes["bad base64"] = try await abuse(
            url, frames: opening + [media[0].replacingOccurrences(of: "\"payload\":\"", with: "\"payload\":\"@@")])
        outcomes["media before start"] = try await abuse(url, frames: [Frames.connected, media[0]])
        outcomes["a 1 MB frame"] = try await abuse(url, frames: opening + [String(repeating: "A", count: 1 << 20)])
        outcomes["a flood faster than real time"] = try await abuse(url, frames: opening + Frames.media(5000), wait: .seconds(2))
        outcomes["unknown event"] = try await abuse(url, frames: opening + ["{\"event\":\"transcription\",\"streamSid\":\"x\"}"], wait: .milliseconds(500))
        outcomes["abrupt disconnect mid-utterance"] = try await abuse(url, frames: opening + Frames.media(50), hangUpAbruptly: true)
        // A slow reader: speaks a whole turn at once, then never reads the reply (nor echoes its marks).
        let turn = Frames.speech(Speech.silence(300) + Speech.thePerson + Speech.silence(1500))
        outcomes["a reader that never drains"] = try await abuse(url, frames: opening + turn, wait: .seconds(2), neverRead: true)

        for name in ["malformed JSON", "bad base64", "media before start", "a 1 MB frame"] {
            #expect(outcomes[name]?.serverClosed == true, "\(name): not closed")
        }
        #expect(outcomes["unknown event"]?.serverClosed == false)  // Twilio may add events: not a reason to hang up

        let call = try await healthy.value
        try await running.settle()
        // Timing in a debug build with the abusers on the same two cores is only indicative; the release
        // load test measures lateness. The healthy call must still be answered, correctly and promptly.
        #expect(call.protocolErrors.isEmpty)
        let latency = try #require(call.turns.first?.latency)
        #expect(latency < 1500, "the healthy call waited \(latency) ms")
        #expect(call.mediaReceived > 80 && call.marksEchoed == call.mediaReceived)
        let stats = running.server.statistics.snapshot
        #expect(stats.activeCalls == 0)  // every call, good or bad, was cleaned up
        #expect(stats.totalCalls == 9)
        #expect(stats.failedCalls == 8)  // all but the healthy call, which ended with stop
        // The slow reader got a reply it never read: the server held back all but the 200 ms lead.
        #expect(stats.outboundFrames <= call.mediaReceived + 10 + 2)
        await running.stop()
    }
}
