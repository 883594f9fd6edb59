//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HummingbirdWSClient
import Logging
import NIOCore
import Synchronization
import Testing
import TwilioMediaStreams
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting

/// What an abusive client saw.
struct AbuseOutcome {
    /// The server closed the WebSocket while the client was reading.
    var serverClosed: Bool
    /// The `media` messages the client read.
    var mediaReceived: Int
}

/// Connects to `url`, sends `frames` (then `binary` as a binary frame, if any), and reads for up to `wait`,
/// counting media messages, until the server closes the socket. A reader that never drains reads nothing
/// during `wait`; only then does it look, for half a second, at what the server had sent (echoing no mark).
func abuse(
    _ url: String, frames: [String], binary: [UInt8]? = nil, wait: Duration = .seconds(3), hangUpAbruptly: Bool = false,
    neverRead: Bool = false
) async throws -> AbuseOutcome {
    var logger = Logger(label: "abuser")
    logger.logLevel = .critical
    let closed = ClosedFlag()
    let media = MessageCount()
    let reading: Duration = neverRead ? .milliseconds(500) : wait
    let task = Task {
        try await WebSocketClient.connect(url: url, logger: logger) { inbound, outbound, _ in
            for frame in frames { try await outbound.write(.text(frame)) }
            if let binary { try await outbound.write(.binary(ByteBuffer(bytes: binary))) }
            if hangUpAbruptly { throw CancellationError() }
            if neverRead { try await Task.sleep(for: wait) }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message, text.hasPrefix(#"{"event":"media""#) { media.add() }
                    }
                    closed.set()
                }
                group.addTask { try await Task.sleep(for: reading) }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
    _ = await task.result
    return AbuseOutcome(serverClosed: closed.value, mediaReceived: media.value)
}

final class ClosedFlag: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var value: Bool { flag.withLock { $0 } }
}

/// A count shared by a client's reading task and the test.
final class MessageCount: Sendable {
    private let count = Mutex(0)
    func add() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}

extension RunningServer {
    /// The server's statistics once `condition` holds, or after `timeout` (then the caller's checks fail):
    /// calls end, and their figures are added, asynchronously.
    func statistics(
        within timeout: Duration = .seconds(5), until condition: (ServerStatistics.Snapshot) -> Bool
    ) async throws -> ServerStatistics.Snapshot {
        let deadline = ContinuousClock.now + timeout
        var snapshot = server.statistics.snapshot
        while !condition(snapshot), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            snapshot = server.statistics.snapshot
        }
        return snapshot
    }
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
        try await Exclusive.shared.run { try await Self.abuseAlongsideAHealthyCall() }
    }

    static func abuseAlongsideAHealthyCall() async throws {
        let running = try await RunningServer.start()
        let url = running.mediaURL
        // The healthy call: a turn and its echo, in real time, while the abuse goes on.
        let healthy = Task {
            try await SimulatedCaller(
                .init(
                    url: url, audio: Speech.silence(300) + Speech.thePerson + Speech.silence(300), tailMilliseconds: 3500,
                    call: .init(streamSid: "MZ0000000000000000000000000000beef"))
            ).run()
        }
        // The abuse starts once the healthy call is up, so that each abuser's call can be told apart from it.
        let healthyUp = try await running.statistics { $0.activeCalls == 1 }
        try #require(healthyUp.activeCalls == 1 && healthyUp.totalCalls == 1, "the healthy call did not start")

        let opening = [Frames.connected, Frames.start]
        let media = Frames.media(5)
        var outcomes: [String: AbuseOutcome] = [:]
        /// Runs one abuser, then waits (up to 5 s) for its call to end: it must be the one call started since,
        /// counted as failed and no longer active. The healthy call may end meanwhile, but not as failed.
        func attempt(
            _ name: String, _ frames: [String], binary: [UInt8]? = nil, wait: Duration = .seconds(3),
            hangUpAbruptly: Bool = false, neverRead: Bool = false
        ) async throws {
            let before = running.server.statistics.snapshot
            outcomes[name] = try await abuse(
                url, frames: frames, binary: binary, wait: wait, hangUpAbruptly: hangUpAbruptly, neverRead: neverRead)
            let after = try await running.statistics { $0.failedCalls > before.failedCalls }
            #expect(after.totalCalls == before.totalCalls + 1, "\(name): \(after.totalCalls - before.totalCalls) calls")
            #expect(after.failedCalls == before.failedCalls + 1, "\(name): not ended as a failed call within 5 s")
            #expect(after.activeCalls <= before.activeCalls, "\(name): still active")
        }
        try await attempt("malformed JSON", opening + ["{\"event\":\"media\",\"sequ"])
        try await attempt(
            "bad base64", opening + [media[0].replacingOccurrences(of: "\"payload\":\"", with: "\"payload\":\"@@")])
        try await attempt("media before start", [Frames.connected, media[0]])
        try await attempt("a 1 MB frame", opening + [String(repeating: "A", count: 1 << 20)])
        try await attempt("a binary frame", opening, binary: Array("{}".utf8))
        try await attempt("a flood faster than real time", opening + Frames.media(20_000), wait: .seconds(2))
        try await attempt(
            "unknown event", opening + ["{\"event\":\"transcription\",\"streamSid\":\"x\"}"], wait: .milliseconds(500))
        try await attempt("abrupt disconnect mid-utterance", opening + Frames.media(50), hangUpAbruptly: true)
        // A slow reader: speaks a whole turn at once, then never reads the reply (nor echoes its marks).
        let turn = Frames.speech(Speech.silence(300) + Speech.thePerson + Speech.silence(1500))
        try await attempt("a reader that never drains", opening + turn, wait: .seconds(2), neverRead: true)

        let closedByServer = [
            "malformed JSON", "bad base64", "media before start", "a 1 MB frame", "a binary frame",
            "a flood faster than real time",
        ]
        for name in closedByServer {
            #expect(outcomes[name]?.serverClosed == true, "\(name): not closed")
        }
        #expect(outcomes["unknown event"]?.serverClosed == false)  // Twilio may add events: not a reason to hang up
        // The slow reader's turn was answered, but without mark echoes no more than the 200 ms lead (10 frames)
        // was ever sent to it.
        let unread = try #require(outcomes["a reader that never drains"]?.mediaReceived)
        #expect(unread > 0, "the slow reader's turn was not answered")
        #expect(unread <= 10, "the slow reader was sent \(unread) media frames, more than the 200 ms lead")

        let call = try await healthy.value
        // Timing in a debug build with the abusers on the same two cores is only indicative; the release
        // load test measures lateness. The healthy call must still be answered, correctly and promptly.
        #expect(call.protocolErrors.isEmpty)
        let latency = try #require(call.turns.first?.latency)
        #expect(latency < 1500, "the healthy call waited \(latency) ms")
        #expect(call.mediaReceived > 80 && call.marksEchoed == call.mediaReceived)
        let stats = try await running.statistics { $0.activeCalls == 0 }
        #expect(stats.activeCalls == 0, "\(stats.activeCalls) calls still active 5 s after the last one ended")
        #expect(stats.totalCalls == 10)
        #expect(stats.failedCalls == 9)  // all but the healthy call, which ended with stop
        // Media sent: the healthy call's, which it all received, and the slow reader's.
        #expect(stats.outboundFrames <= call.mediaReceived + 10 + 2)
        // /health reports the same figures.
        let health = try await running.get("/health")
        #expect(health.status == 200)
        let reported = try JSONDecoder().decode(ServerStatistics.Snapshot.self, from: Data(health.body.utf8))
        #expect(reported.activeCalls == 0 && reported.totalCalls == 10 && reported.failedCalls == 9, "\(health.body)")

        // The abuse left nothing behind: a new call is answered as usual, and ends as a success.
        let next = try await SimulatedCaller(
            .init(url: url, audio: Speech.silence(300) + Speech.thePerson + Speech.silence(300), tailMilliseconds: 1500)
        ).run()
        #expect(next.protocolErrors.isEmpty)
        let nextLatency = try #require(next.turns.first?.latency)
        #expect(nextLatency < 1500, "the call after the abuse waited \(nextLatency) ms")
        let afterwards = try await running.statistics { $0.activeCalls == 0 && $0.totalCalls == 11 }
        #expect(afterwards.activeCalls == 0 && afterwards.totalCalls == 11 && afterwards.failedCalls == 9)
        await running.stop()
    }
}
