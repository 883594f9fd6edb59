//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceDSP

/// The demo agent: answers each turn by playing the caller's own utterance back.
public struct EchoAgent: Agent {
    /// Played when the call starts, before the caller speaks (`nil`: no greeting).
    public var greeting: AudioClip?

    /// Creates the agent.
    ///
    /// - Parameter greeting: Audio to play when the call starts, at any supported rate.
    public init(greeting: AudioClip? = nil) {
        self.greeting = greeting
    }

    /// The greeting clip, with a transcript line naming the caller.
    public func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        greeting.map { Self.speak($0, text: "(greeting for \(context.from ?? "an unknown caller"))") }
    }

    /// A clip as a reply: its text, then its audio in 100 ms chunks (so an interruption stops it at once).
    static func speak(_ clip: AudioClip, text: String) -> AsyncThrowingStream<AgentOutput, any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield(.text(text))
            let chunk = max(1, clip.sampleRate / 10)
            var offset = 0
            while offset < clip.samples.count {
                let end = min(offset + chunk, clip.samples.count)
                continuation.yield(.audio(Array(clip.samples[offset..<end]), sampleRate: clip.sampleRate))
                offset = end
            }
            continuation.finish()
        }
    }

    /// The turn's audio, in 100 ms chunks (so that an interruption stops it at once).
    public func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        Self.speak(AudioClip(sampleRate: turn.sampleRate, samples: turn.audio), text: "(echo of turn \(turn.number))")
    }
}
