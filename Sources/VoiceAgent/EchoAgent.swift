//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The demo agent: answers each turn by playing the caller's own utterance back.
public struct EchoAgent: Agent {
    /// Creates the agent.
    public init() {}

    /// The turn's audio, in 100 ms chunks (so that an interruption stops it at once).
    public func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        AsyncThrowingStream { continuation in
            continuation.yield(.text("(echo of turn \(turn.number))"))
            let chunk = max(1, turn.sampleRate / 10)
            var offset = 0
            while offset < turn.audio.count {
                let end = min(offset + chunk, turn.audio.count)
                continuation.yield(.audio(Array(turn.audio[offset..<end]), sampleRate: turn.sampleRate))
                offset = end
            }
            continuation.finish()
        }
    }
}
