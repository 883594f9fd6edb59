//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import NIOCore
import NIOEmbedded
import Synchronization
import Testing

@testable import VoicePipeServer

@Suite("Metronome")
struct MetronomeTests {
    @Test(
        "each subscriber is ticked every 20 ms on its own phase; removing the last one stops the clock", .timeLimit(.minutes(3)))
    func ticks() async throws {
        let metronome = Metronome()
        let dues = Mutex<[Int: [ContinuousClock.Instant]]>([:])
        var ids: [Int] = []
        let start = ContinuousClock.now
        for _ in 0..<8 {
            let slot = Mutex<Int?>(nil)
            let id = metronome.add { due in
                guard let me = slot.withLock({ $0 }) else { return }
                dues.withLock { $0[me, default: []].append(due) }
            }
            slot.withLock { $0 = id }
            ids.append(id)
        }
        // Until every subscriber has had ten ticks (no deadline: with other suites busy on both cores, the
        // clock's task can wait long for a thread; the time limit bounds a hang).
        while dues.withLock({ $0.count < 8 || $0.values.contains { $0.count < 10 } }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        for id in ids { metronome.remove(id) }
        let periods = Int((ContinuousClock.now - start) / .milliseconds(20))
        let seen = dues.withLock { $0 }
        #expect(seen.count == 8)
        for (id, times) in seen {
            // Never more ticks than periods elapsed.
            #expect(times.count >= 10 && times.count <= periods + 1, "subscriber \(id): \(times.count) ticks in \(periods) periods")
            // The clock's schedule, not the wake-up time: exactly 20 ms apart.
            #expect(zip(times, times.dropFirst()).allSatisfy { $1 - $0 == .milliseconds(20) })
        }
        // Subscribers are spread over the four 5 ms phases: two per phase.
        let origin = try #require(seen.values.compactMap(\.first).min())
        let phases = seen.values.compactMap(\.first).map { Int((($0 - origin).components.attoseconds / 5_000_000_000_000_000) % 4) }
        #expect(Dictionary(grouping: phases, by: { $0 }).mapValues(\.count) == [0: 2, 1: 2, 2: 2, 3: 2])
        // With no subscriber left the clock's task ends, at its next wake-up.
        while metronome.isRunning { try await Task.sleep(for: .milliseconds(5)) }
        #expect(!metronome.isRunning)
        let after = dues.withLock { $0.values.map(\.count).reduce(0, +) }
        try await Task.sleep(for: .milliseconds(60))
        #expect(dues.withLock { $0.values.map(\.count).reduce(0, +) } == after)
    }
}

@Suite("Upgrade gate")
struct UpgradeGateTests {
    static let head = "GET /twilio/media HTTP/1.1\r\nHost: a.example\r\nUpgrade: websocket\r\nX-Twilio-Signature: sig\r\n\r\n"

    /// What the gate asked about.
    final class Asked: Sendable {
        let heads = Mutex<[String]>([])
        func withLock<Value>(_ body: (inout [String]) -> Value) -> Value { heads.withLock { body(&$0) } }
    }

    /// A channel with the gate in front, deciding by `allowed`; records what the gate asked.
    static func channel(allowed: Bool, asked: Asked) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            UpgradeGate { method, path, headers in
                let signature = headers.first { $0.0.lowercased() == "x-twilio-signature" }?.1 ?? "-"
                asked.withLock { $0.append("\(method) \(path) \(signature)") }
                return allowed
            })
        return channel
    }

    @Test("a refused head gets 403 and the connection closes; nothing reaches the upgrader")
    func refuses() throws {
        let asked = Asked()
        let channel = try Self.channel(allowed: false, asked: asked)
        try channel.writeInbound(ByteBuffer(string: String(Self.head.prefix(20))))  // the head in two pieces
        #expect(asked.withLock { $0 }.isEmpty)  // undecided until the head is complete
        try channel.writeInbound(ByteBuffer(string: String(Self.head.dropFirst(20))))
        #expect(asked.withLock { $0 } == ["GET /twilio/media sig"])
        let outbound = try channel.readOutbound(as: ByteBuffer.self)
        let response = try #require(outbound)
        #expect(String(buffer: response).hasPrefix("HTTP/1.1 403 Forbidden\r\n"))
        #expect(try channel.readInbound(as: ByteBuffer.self) == nil)
        #expect(!channel.isActive)
    }

    @Test("an allowed head passes on byte for byte, with what followed it, and the gate steps aside")
    func passes() throws {
        let asked = Asked()
        let channel = try Self.channel(allowed: true, asked: asked)
        let body = "next bytes"
        try channel.writeInbound(ByteBuffer(string: Self.head + body))
        var passed = ""
        while let buffer = try channel.readInbound(as: ByteBuffer.self) { passed += String(buffer: buffer) }
        #expect(passed == Self.head + body)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        try channel.writeInbound(ByteBuffer(string: "later"))  // after the decision, bytes flow untouched
        #expect(try channel.readInbound(as: ByteBuffer.self).map { String(buffer: $0) } == "later")
        #expect(asked.withLock { $0 }.count == 1)
        _ = try channel.finish()
    }
}
