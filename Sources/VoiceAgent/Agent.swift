//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A voice agent: what answers the caller. Transport-agnostic: it sees the caller's turns as 16 kHz PCM and
/// answers with audio at any rate, transcript text and, when it is done, a hang-up.
///
/// The ``TurnTakingController`` decides when a turn has ended and calls ``reply(to:)``; an
/// ``AgentRunner`` runs the reply as a task and cancels it (and waits for it) when the caller barges in,
/// so a reply must stop promptly when its task is cancelled. ``observe(_:)`` sees everything else as it
/// happens (default: nothing).
///
/// A speech-recognition → language-model → speech-synthesis agent is a reply that transcribes the turn,
/// streams the model's answer into the synthesiser and yields its audio chunk by chunk:
///
/// ```swift
/// struct CascadeAgent: Agent {
///     var transcribe: @Sendable ([Float]) async throws -> String            // STT, 16 kHz PCM in
///     var answer: @Sendable (String) -> AsyncThrowingStream<String, any Error>   // LLM, sentences out
///     var speak: @Sendable (String) async throws -> [Float]                 // TTS, 24 kHz PCM out
///
///     func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
///         AsyncThrowingStream { continuation in
///             let task = Task {
///                 do {
///                     let text = try await transcribe(turn.audio)
///                     for try await sentence in answer(text) {
///                         continuation.yield(.text(sentence))
///                         continuation.yield(.audio(try await speak(sentence), sampleRate: 24000))
///                     }
///                     continuation.finish()
///                 } catch { continuation.finish(throwing: error) }
///             }
///             continuation.onTermination = { _ in task.cancel() }
///         }
///     }
/// }
/// ```
/// (The test suite compiles and runs this example with stub closures.)
public protocol Agent: Sendable {
    /// The reply to a finished turn: audio, the text being spoken, possibly ``AgentOutput/hangUp``.
    /// Cancelled when the caller interrupts.
    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error>

    /// Everything else the caller does, as it happens.
    func observe(_ event: AgentEvent) async
}

extension Agent {
    /// Ignores events.
    public func observe(_ event: AgentEvent) async {}
}

/// A finished caller turn.
public struct CallerTurn: Sendable {
    /// The turn's number, from 1.
    public var number: Int
    /// The caller's speech at ``sampleRate``, from a little before speech began to the end of the turn.
    public var audio: [Float]
    /// The audio's sample rate (16,000 by default).
    public var sampleRate: Int
    /// Whether the turn ended because it reached the maximum length rather than in silence.
    public var wasCut: Bool

    /// Creates a turn.
    public init(number: Int, audio: [Float], sampleRate: Int, wasCut: Bool = false) {
        self.number = number
        self.audio = audio
        self.sampleRate = sampleRate
        self.wasCut = wasCut
    }
}

/// What the caller did, for ``Agent/observe(_:)``.
public enum AgentEvent: Sendable {
    /// The caller started speaking: turn `number` began.
    case turnStarted(number: Int)
    /// The caller's audio as it arrives, while a turn is under way (only with
    /// ``TurnTakingController/Configuration/streamsCallerAudio``): first the pre-roll, then 20 ms at a time.
    case callerAudio(turn: Int, [Float])
    /// The turn ended (the same turn ``Agent/reply(to:)`` receives).
    case turnEnded(CallerTurn)
    /// The caller pressed a key.
    case dtmf(String)
    /// The caller cut the agent's reply to turn `number` short; `heard` is the part of its text that was
    /// played.
    case interrupted(number: Int, heard: String)
    /// The call ended.
    case callEnded
}

/// What an agent says.
public enum AgentOutput: Sendable {
    /// Audio to play, at any rate the resampler supports (8, 16, 24, 32 or 48 kHz natively).
    case audio([Float], sampleRate: Int)
    /// The text of the audio that follows (for the transcript; truncated on interruption).
    case text(String)
    /// End the call once everything before it has played.
    case hangUp
}
