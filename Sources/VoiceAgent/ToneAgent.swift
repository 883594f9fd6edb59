//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
public import VoiceDSP

/// The latency-test agent: a short tone per turn, at once.
public struct ToneAgent: Agent {
    /// The tone's frequency, in Hz.
    public var frequency: Double
    /// Its length.
    public var duration: Duration
    /// Its sample rate.
    public var sampleRate: Int
    /// Hang up after this many turns (`nil`: never).
    public var hangUpAfter: Int?
    /// Played when the call starts, before the caller speaks (`nil`: no greeting).
    public var greeting: AudioClip?

    /// Creates the agent; the defaults give 300 ms of 440 Hz at 16 kHz.
    public init(
        frequency: Double = 440, duration: Duration = .milliseconds(300), sampleRate: Int = 16000, hangUpAfter: Int? = nil,
        greeting: AudioClip? = nil
    ) {
        self.frequency = frequency
        self.duration = duration
        self.sampleRate = sampleRate
        self.hangUpAfter = hangUpAfter
        self.greeting = greeting
    }

    /// The greeting clip, if any.
    public func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        greeting.map { EchoAgent.speak($0, text: "(greeting for \(context.from ?? "an unknown caller"))") }
    }

    /// The tone, faded in and out over 5 ms.
    public var tone: [Float] {
        let count = duration.sampleCount(at: sampleRate)
        let fade = Double(sampleRate) * 0.005
        let step = 2 * Double.pi * frequency / Double(sampleRate)
        return (0..<count).map { n in
            let ramp: Double = max(0, min(1, Double(n) / fade, Double(count - 1 - n) / fade))
            return Float(0.3 * ramp * sin(step * Double(n)))
        }
    }

    /// A tone, then a hang-up after the last turn.
    public func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        let tone = tone
        let last = hangUpAfter.map { turn.number >= $0 } ?? false
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("(tone \(Int(frequency)) Hz)"))
            continuation.yield(.audio(tone, sampleRate: sampleRate))
            if last { continuation.yield(.hangUp) }
            continuation.finish()
        }
    }
}
