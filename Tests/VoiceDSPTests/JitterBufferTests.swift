//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// A simulated network: frame `n` is sent at `n × 20 ms`; each trace says when (if ever) it arrives.
struct NetworkTrace {
    var name: String
    /// Arrival time in ms of each frame, nil if lost.
    var arrivals: [Double?]

    static let frameCount = 3000  // 60 s

    /// Gaussian from a uniform generator (Box-Muller).
    static func gaussian(_ rng: inout SplitMix64) -> Double {
        let u1 = max(1e-12, Double(rng.next() % 1_000_000_000) / 1e9)
        let u2 = Double(rng.next() % 1_000_000_000) / 1e9
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// TCP as Twilio's WebSocket delivers it: frames held back and released together in bursts of 1-3
    /// (up to 40 ms of stall), 40 ms ± 5 ms of network delay, nothing lost or reordered.
    static func burstyTCP(seed: UInt64 = 1) -> NetworkTrace {
        var rng = SplitMix64(seed: seed)
        var arrivals: [Double?] = []
        var n = 0
        while n < frameCount {
            let group = Int(rng.next() % 3) + 1
            let release = Double(min(n + group, frameCount) - 1) * 20 + 40 + Double(rng.next() % 11) - 5
            for _ in 0..<group where arrivals.count < frameCount { arrivals.append(max(release, arrivals.last.flatMap { $0 } ?? 0)) }
            n += group
        }
        return NetworkTrace(name: "bursty TCP (bursts of 1-3 frames)", arrivals: arrivals)
    }

    /// Independent Gaussian delays (UDP-like: reordering happens when delays differ by over 20 ms).
    static func gaussian(sigma: Double, loss: Double = 0, seed: UInt64 = 2) -> NetworkTrace {
        var rng = SplitMix64(seed: seed)
        let arrivals: [Double?] = (0..<frameCount).map { n in
            if Double(rng.next() % 10_000) / 10_000 < loss { return nil }
            return Double(n) * 20 + max(0, 60 + sigma * gaussian(&rng))
        }
        let lossText = loss > 0 ? ", \(Int(loss * 100)) % loss" : ""
        return NetworkTrace(name: "Gaussian jitter σ = \(Int(sigma)) ms\(lossText)", arrivals: arrivals)
    }

    /// Steady 40 ms delay with 5 % of frames swapped with the next one.
    static func reordering(seed: UInt64 = 3) -> NetworkTrace {
        var rng = SplitMix64(seed: seed)
        var arrivals: [Double?] = (0..<frameCount).map { Double($0) * 20 + 40 }
        var n = 0
        while n < frameCount - 1 {
            if rng.next() % 100 < 5 {
                arrivals.swapAt(n, n + 1)
                n += 2
            } else {
                n += 1
            }
        }
        return NetworkTrace(name: "reordering (5 % of frames swapped)", arrivals: arrivals)
    }

    struct Result {
        var addedDelayMean: Double
        var addedDelayP95: Double
        /// Frames concealed although they arrived (too late): the underruns the buffer could have avoided.
        var underrunRate: Double
        var concealedRate: Double
        var statistics: JitterBuffer.Statistics
    }

    /// Plays the trace through a jitter buffer popped every 20 ms from the first arrival on.
    func run(_ configuration: JitterBuffer.Configuration = .init()) -> Result {
        let buffer = JitterBuffer(configuration: configuration)
        let events = arrivals.enumerated().compactMap { index, time in time.map { (index, $0) } }.sorted { $0.1 < $1.1 }
        var payload = [UInt8](repeating: 0, count: 160)
        var out = [UInt8](repeating: 0, count: 160)
        var delays: [Double] = []
        var next = 0
        var clock = events[0].1
        var played = 0
        while played < Self.frameCount {
            while next < events.count && events[next].1 <= clock {
                payload[0] = UInt8(truncatingIfNeeded: events[next].0)
                _ = payload.withUnsafeBytes { buffer.insert(sequence: events[next].0, payload: $0, arrival: events[next].1) }
                next += 1
            }
            switch out.withUnsafeMutableBytes({ buffer.pop(into: $0, at: clock) }) {
            case .frame(let sequence, _):
                delays.append(clock - arrivals[sequence]!)
                played += 1
            case .conceal:
                played += 1
            case .buffering:
                break
            }
            clock += 20
            if clock > Double(Self.frameCount) * 20 + 5000 { break }
        }
        delays.sort()
        let stats = buffer.statistics
        let underruns = stats.concealed - arrivals.filter { $0 == nil }.count
        return Result(
            addedDelayMean: delays.reduce(0, +) / Double(delays.count), addedDelayP95: delays[delays.count * 95 / 100],
            underrunRate: Double(max(0, underruns)) / Double(Self.frameCount),
            concealedRate: Double(stats.concealed) / Double(Self.frameCount), statistics: stats)
    }
}

@Suite("JitterBuffer")
struct JitterBufferTests {
    static func frame(_ value: UInt8) -> [UInt8] { [UInt8](repeating: value, count: 160) }

    @Test("reorders, drops duplicates, conceals gaps and refuses late and far-ahead frames")
    func basics() {
        // Frame n is sent at n × 20 ms and arrives 10 ms later unless stated; the target delay is fixed at 40 ms.
        let buffer = JitterBuffer(configuration: .init(capacity: 8, minimumDelay: .milliseconds(40), maximumDelay: .milliseconds(40)))
        var out = [UInt8](repeating: 0, count: 160)
        func insert(_ sequence: Int, _ time: Double) -> JitterBuffer.InsertResult {
            Self.frame(UInt8(sequence)).withUnsafeBytes { buffer.insert(sequence: sequence, payload: $0, arrival: time) }
        }
        func pop(_ time: Double) -> JitterBuffer.Output { out.withUnsafeMutableBytes { buffer.pop(into: $0, at: time) } }
        #expect(pop(0) == .buffering)
        #expect(insert(1, 30) == .accepted)
        #expect(pop(30) == .buffering)  // due at 20 + 10 + 40 = 70
        #expect(insert(3, 70) == .accepted)
        #expect(insert(2, 71) == .accepted)  // reordered
        #expect(insert(2, 72) == .duplicate)
        #expect(pop(70) == .frame(sequence: 1, bytes: 160))
        #expect(out[0] == 1)
        #expect(pop(90) == .frame(sequence: 2, bytes: 160))
        #expect(out[0] == 2)
        #expect(insert(2, 95) == .duplicate)  // already played
        #expect(pop(110) == .frame(sequence: 3, bytes: 160))
        #expect(insert(5, 115) == .accepted)
        #expect(pop(130) == .conceal(sequence: 4))  // 4 has not arrived at its time
        #expect(insert(4, 135) == .late)
        #expect(pop(150) == .frame(sequence: 5, bytes: 160))
        #expect(insert(100, 155) == .overflow)
        let stats = buffer.statistics
        #expect(stats.played == 4)
        #expect(stats.concealed == 1)
        #expect(stats.late == 1)
        #expect(stats.lost == 0)
        #expect(stats.duplicates == 2)
        #expect(stats.reordered == 1)
        #expect(stats.overflowed == 1)
        #expect(stats.targetDelay == 40)
    }

    @Test("bursty TCP delivery: no underruns at no more than 60 ms of added delay")
    func burstyTCP() {
        let result = NetworkTrace.burstyTCP().run()
        #expect(result.underrunRate == 0, "\(result.statistics)")
        #expect(result.addedDelayMean <= 60, "\(result.addedDelayMean) ms")
    }

    @Test("30 ms Gaussian jitter: under 1 % concealed at under 80 ms of added delay")
    func gaussianJitter() {
        let result = NetworkTrace.gaussian(sigma: 30).run()
        #expect(result.concealedRate < 0.01, "\(result.statistics)")
        #expect(result.addedDelayMean < 80, "\(result.addedDelayMean) ms")
    }

    @Test("reordered frames all play, in order")
    func reorderingTrace() {
        let result = NetworkTrace.reordering().run()
        #expect(result.statistics.concealed == 0)
        #expect(result.statistics.reordered > 100)
    }

    @Test("lost frames are concealed and counted as lost", arguments: [0.01, 0.05, 0.10])
    func loss(rate: Double) {
        let trace = NetworkTrace.gaussian(sigma: 10, loss: rate)
        let lost = trace.arrivals.filter { $0 == nil }.count
        let result = trace.run()
        #expect(result.statistics.lost == lost)
        #expect(result.underrunRate < 0.01)
    }

    @Test("the target delay grows with jitter and shrinks back when it calms down")
    func adaptation() {
        let buffer = JitterBuffer()
        var out = [UInt8](repeating: 0, count: 160)
        var rng = SplitMix64(seed: 9)
        var sequence = 0
        func run(seconds: Int, sigma: Double) {
            for _ in 0..<(seconds * 50) {
                let arrival = Double(sequence) * 20 + 50 + max(-50, sigma * NetworkTrace.gaussian(&rng))
                _ = Self.frame(0).withUnsafeBytes { buffer.insert(sequence: sequence, payload: $0, arrival: arrival) }
                _ = out.withUnsafeMutableBytes { buffer.pop(into: $0, at: Double(sequence) * 20) }
                sequence += 1
            }
        }
        run(seconds: 10, sigma: 2)
        let calm = buffer.statistics.targetDelay
        run(seconds: 10, sigma: 40)
        let stormy = buffer.statistics.targetDelay
        run(seconds: 20, sigma: 2)
        let calmAgain = buffer.statistics.targetDelay
        #expect(calm < 40)
        #expect(stormy > 60)
        #expect(calmAgain < 40)
    }
}
