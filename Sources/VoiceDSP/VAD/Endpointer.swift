//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Turns per-frame speech decisions into turn events with sample-accurate timestamps.
///
/// - **Speech started** once speech has lasted ``Configuration/minimumSpeech`` (default 150 ms); the event
///   carries the sample where that speech began.
/// - **End of turn** once silence has lasted ``Configuration/trailingSilence`` (default 500 ms) after
///   speech; the event carries the sample where the last speech frame ended, and the sample at which the
///   decision was made. Pauses between words (typically 100-350 ms) do not end a turn.
/// - **Maximum turn** when a turn has lasted ``Configuration/maximumTurn`` (default 30 s): the turn is
///   cut there, and a new one starts if the caller goes on.
///
/// Sample positions count from the start of the stream (or the last ``reset()``). A value type: copying
/// it copies its state. Real-time safe.
public struct Endpointer: Sendable {
    /// Timing policy, in samples at ``sampleRate``.
    public struct Configuration: Sendable, Equatable {
        /// The sample rate of the positions.
        public var sampleRate: Int
        /// Speech needed before a turn starts, in samples.
        public var minimumSpeech: Int
        /// Silence that ends a turn, in samples.
        public var trailingSilence: Int
        /// The longest turn, in samples.
        public var maximumTurn: Int

        /// Creates a policy from durations in milliseconds.
        public init(
            sampleRate: Int = 8000, minimumSpeechMilliseconds: Int = 150, trailingSilenceMilliseconds: Int = 500,
            maximumTurnMilliseconds: Int = 30_000
        ) {
            self.sampleRate = sampleRate
            minimumSpeech = sampleRate * minimumSpeechMilliseconds / 1000
            trailingSilence = sampleRate * trailingSilenceMilliseconds / 1000
            maximumTurn = sampleRate * maximumTurnMilliseconds / 1000
        }
    }

    /// What happened at the end of a frame.
    public enum Event: Sendable, Equatable {
        /// A turn started; speech began at `speechStart`.
        case speechStarted(speechStart: Int)
        /// The turn ended: its last speech sample ended at `lastSpeechEnd`, detected at `detectedAt`.
        case endOfTurn(lastSpeechEnd: Int, detectedAt: Int)
        /// The turn was cut at `at` for reaching the maximum length.
        case maximumTurnReached(at: Int)
    }

    /// The policy in use.
    public let configuration: Configuration
    private var position = 0
    private var runStart: Int? = nil
    private var inTurn = false
    private var turnStart = 0
    private var lastSpeechEnd = 0

    /// Creates an endpointer.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// Forgets the stream.
    public mutating func reset() {
        position = 0
        runStart = nil
        inTurn = false
        lastSpeechEnd = 0
    }

    /// Advances by one frame.
    ///
    /// - Parameters:
    ///   - isSpeech: The detector's decision for the frame.
    ///   - length: The frame's length in samples.
    /// - Returns: The event the frame completes, if any.
    public mutating func process(isSpeech: Bool, length: Int) -> Event? {
        let start = position
        position += length
        if isSpeech {
            if runStart == nil { runStart = start }
            lastSpeechEnd = position
        } else {
            runStart = nil
        }
        if !inTurn {
            if let run = runStart, position - run >= configuration.minimumSpeech {
                inTurn = true
                turnStart = run
                return .speechStarted(speechStart: run)
            }
            return nil
        }
        if position - turnStart >= configuration.maximumTurn {
            inTurn = false
            runStart = nil
            return .maximumTurnReached(at: position)
        }
        if !isSpeech && position - lastSpeechEnd >= configuration.trailingSilence {
            inTurn = false
            return .endOfTurn(lastSpeechEnd: lastSpeechEnd, detectedAt: position)
        }
        return nil
    }
}
