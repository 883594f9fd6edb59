//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A voice agent: what answers the caller. Transport-agnostic: it sees the caller's turns as 16 kHz PCM and
/// answers with audio at any rate, transcript text and, when it is done, a hang-up.
///
/// The ``TurnTakingController`` decides when a turn has ended and calls ``reply(to:)``; an
/// ``AgentRunner`` runs the reply as a task and cancels it when the caller barges in (without waiting: a
/// cancelled reply's later outputs are ignored), so a reply should stop promptly when its task is
/// cancelled. ``greeting(for:)`` is what the agent says when the call starts, before the caller speaks; the
/// caller can barge in on it like on any reply. ``observe(_:)`` sees everything else as it happens
/// (default: nothing), in order, on one task per call: return promptly, since the next reply starts after
/// the events before it have been observed.
///
/// ``CascadeAgent`` is the speech-recognition → language-model → speech-synthesis agent: it hears the turn
/// while the caller speaks (``callerAudioListener``), streams the model's answer into the synthesiser clause
/// by clause and yields the audio as it comes. A reply can be as simple as a stream of outputs:
///
/// ```swift
/// struct Beep: Agent {
///     func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
///         AsyncThrowingStream { continuation in
///             continuation.yield(.text("beep"))
///             continuation.yield(.audio(beep, sampleRate: 16000))
///             continuation.finish()
///         }
///     }
/// }
/// ```
public protocol Agent: Sendable {
    /// The reply to a finished turn: audio, the text being spoken, possibly ``AgentOutput/hangUp``.
    /// Cancelled when the caller interrupts.
    ///
    /// The same turn can be asked for twice: with an early start
    /// (``TurnTakingController/Configuration/earlyStart``) the first call comes before ``AgentEvent/turnEnded(_:)``
    /// and is cancelled if the caller goes on; and a reply that has produced no audio yet is cancelled and asked
    /// for again when the caller resumes the same turn. Only the last one's outputs are used.
    func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error>

    /// What to say when the call starts, before the caller speaks (`nil`: nothing; wait for the caller).
    /// Runs like a reply (numbered turn 0) and can be interrupted like one.
    func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>?

    /// Everything else the caller does, as it happens.
    func observe(_ event: AgentEvent) async

    /// Hears the caller's audio while each turn is under way (default `nil`: the agent gets each turn's
    /// audio in ``CallerTurn/audio`` when it ends). A streaming recogniser listens here, so the transcript is
    /// ready when the turn ends; ``CallerAudioRing`` hands the audio to another task without allocating.
    var callerAudioListener: (any CallerAudioListener)? { get }
}

extension Agent {
    /// No greeting: the agent waits for the caller to speak.
    public func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? { nil }

    /// Ignores events.
    public func observe(_ event: AgentEvent) async {}

    /// No listener: turns arrive whole.
    public var callerAudioListener: (any CallerAudioListener)? { nil }
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
    /// The stream position of ``audio``'s first sample, in samples at ``sampleRate`` from the start of the
    /// caller's stream (negative when the pre-roll reaches back before the stream began: those samples are
    /// silence).
    public var startPosition: Int

    /// Creates a turn.
    public init(number: Int, audio: [Float], sampleRate: Int, wasCut: Bool = false, startPosition: Int = 0) {
        self.number = number
        self.audio = audio
        self.sampleRate = sampleRate
        self.wasCut = wasCut
        self.startPosition = startPosition
    }
}

/// What the caller did, for ``Agent/observe(_:)``.
public enum AgentEvent: Sendable {
    /// The call's stream started: the first event of every call, before any greeting.
    case callStarted(CallContext)
    /// The caller started speaking: turn `number` began.
    case turnStarted(number: Int)
    /// The turn ended (the same turn ``Agent/reply(to:)`` receives).
    case turnEnded(CallerTurn)
    /// The caller pressed a key.
    case dtmf(String)
    /// The caller cut the agent's reply to turn `number` (0: the greeting) short; `heard` is the part of its
    /// text that was played, `playedMilliseconds` how much of the reply's own audio the caller heard (the
    /// transport's mark-based count, to the 20 ms frame), so that a speech-to-speech agent can truncate its
    /// provider's copy of the reply there. Sent on a barge-in only: a reply cancelled before any of its audio
    /// played, or by the end of the call, gets no such event.
    case interrupted(number: Int, heard: String, playedMilliseconds: Double)
    /// The call ended.
    case callEnded
}

extension AsyncThrowingStream where Element == AgentOutput, Failure == any Error {
    /// A reply run by a task of its own: `body` yields the outputs; the stream ends when it returns (or throws
    /// what it throws), and the task is cancelled when the stream is dropped or the reply cancelled.
    public static func reply(
        _ body: @escaping @Sendable (_ yield: @escaping @Sendable (AgentOutput) -> Void) async throws -> Void
    ) -> Self {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    try await body { continuation.yield($0) }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// What an agent says.
public enum AgentOutput: Sendable {
    /// Audio to play, at any rate the resampler supports (8, 16, 24, 32 or 48 kHz natively).
    case audio([Float], sampleRate: Int)
    /// The text of the audio that follows (for the transcript; truncated on interruption).
    case text(String)
    /// End the call once everything before it has played. Dropped if the caller barges in first.
    case hangUp
    /// A step of the reply reached, for the turn's record (``TurnRecord``): not played, not counted as
    /// the agent's first output.
    case progress(ReplyProgress)
}

/// The steps of a reply that a ``TurnRecord`` times (the time is when the agent yields it).
public enum ReplyProgress: Sendable, Hashable {
    /// The recogniser's final result for the turn: what the caller said, as recognised.
    case recognized(String)
    /// The language model's first piece of text.
    case modelFirstText
    /// The model's first clause went to the synthesiser: how long the model took to write a clause worth
    /// speaking, after its first text.
    case modelFirstClause
    /// The synthesiser's first audio.
    case synthesizerFirstAudio
}
