//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Turns per-frame speech decisions into turn events with sample-accurate timestamps.
///
/// - **Speech started** once speech has lasted ``Configuration/minimumSpeech`` (default 150 ms); the event
///   carries the sample where that speech began.
/// - **End of turn** once silence has lasted ``Configuration/trailingSilence`` (default 500 ms) after
///   speech; the event carries the sample where the last speech frame ended, and the sample at which the
///   decision was made. Pauses between words (typically 100-350 ms) do not end a turn.
/// - **Where speech ends**: a detector lets go of speech some time after the voice stops (Silero's and the
///   classic detector's release: 40-120 ms on recorded speech, 100 ms typical). Given each frame's power
///   (``process(isSpeech:length:power:)``), the endpointer counts the silence from the last speech frame
///   within ``Configuration/speechEndRange`` of the turn's loudest instead, so a turn ends its trailing
///   silence after the caller's last sound rather than that much later. In steady noise louder than that
///   range every speech frame qualifies, and the end is the detector's own.
/// - **Maximum turn** when a turn has lasted ``Configuration/maximumTurn`` (default 30 s): the turn is
///   cut there, and a new one starts if the caller goes on.
///
/// Sample positions count from the start of the stream (or the last ``reset()``), at ``sampleRate``. A value
/// type: copying it copies its state. Real-time safe.
public struct Endpointer: Sendable {
    /// Timing policy, as durations: the sample rate is the endpointer's own (``sampleRate``), so a policy
    /// means the same at any rate.
    public struct Configuration: Sendable, Equatable {
        /// Speech needed before a turn starts (default 150 ms).
        public var minimumSpeech: Duration
        /// Silence that ends a turn (default 500 ms).
        public var trailingSilence: Duration
        /// The longest turn (default 30 s).
        public var maximumTurn: Duration
        /// How far below the turn's loudest frame (in dB of power) a speech frame may be and still mark where
        /// speech ends (default 35 dB); `nil` trusts the detector's decisions alone.
        public var speechEndRange: Float?

        /// Creates a policy.
        public init(
            minimumSpeech: Duration = .milliseconds(150), trailingSilence: Duration = .milliseconds(500),
            maximumTurn: Duration = .seconds(30), speechEndRange: Float? = 35
        ) {
            self.minimumSpeech = minimumSpeech
            self.trailingSilence = trailingSilence
            self.maximumTurn = maximumTurn
            self.speechEndRange = speechEndRange
        }
    }

    /// The policy in use.
    public let configuration: Configuration
    /// The rate of the sample positions in events and of the `length`s passed to ``process(isSpeech:length:)``.
    public let sampleRate: Int
    private let minimumSpeech: Int
    private let trailingSilence: Int
    private let maximumTurn: Int
    private let speechEndRatio: Float  // power ratio below the loudest that still marks speech (0: any)

    /// What happened at the end of a frame.
    public enum Event: Sendable, Equatable {
        /// A turn started; speech began at `speechStart`.
        case speechStarted(speechStart: Int)
        /// The turn ended: its last speech sample ended at `lastSpeechEnd`, detected at `detectedAt`.
        case endOfTurn(lastSpeechEnd: Int, detectedAt: Int)
        /// The turn was cut at `at` for reaching the maximum length.
        case maximumTurnReached(at: Int)
    }

    private var position = 0
    private var runStart: Int? = nil
    private var inTurn = false
    private var turnStart = 0
    private var lastSpeechEnd = 0
    private var loudest: Float = 0  // the loudest speech frame's power since the last turn ended

    /// Creates an endpointer.
    ///
    /// - Parameters:
    ///   - configuration: The policy.
    ///   - sampleRate: The rate of the positions, in Hz (8,000 by default: the telephone band).
    public init(configuration: Configuration = Configuration(), sampleRate: Int = 8000) {
        precondition(sampleRate > 0, "Endpointer: sample rate \(sampleRate)")
        self.configuration = configuration
        self.sampleRate = sampleRate
        minimumSpeech = configuration.minimumSpeech.sampleCount(at: sampleRate)
        trailingSilence = configuration.trailingSilence.sampleCount(at: sampleRate)
        maximumTurn = configuration.maximumTurn.sampleCount(at: sampleRate)
        speechEndRatio = configuration.speechEndRange.map { powf(10, -$0 / 10) } ?? 0
    }

    /// Forgets the stream.
    public mutating func reset() {
        position = 0
        runStart = nil
        inTurn = false
        lastSpeechEnd = 0
        loudest = 0
    }

    /// Advances by one frame.
    ///
    /// - Parameters:
    ///   - isSpeech: The detector's decision for the frame.
    ///   - length: The frame's length in samples.
    ///   - power: The frame's mean power (mean square, full scale 1), if known: it places the end of speech
    ///     (``Configuration/speechEndRange``); without it the detector's decisions alone do.
    /// - Returns: The event the frame completes, if any.
    public mutating func process(isSpeech: Bool, length: Int, power: Float? = nil) -> Event? {
        let start = position
        position += length
        if isSpeech {
            if runStart == nil { runStart = start }
            if let power {
                loudest = Swift.max(loudest, power)
                if power >= loudest * speechEndRatio { lastSpeechEnd = position }
            } else {
                lastSpeechEnd = position
            }
        } else {
            runStart = nil
            if !inTurn { loudest = 0 }  // a sound too short to start a turn sets no level
        }
        if !inTurn {
            if let run = runStart, position - run >= minimumSpeech {
                inTurn = true
                turnStart = run
                return .speechStarted(speechStart: run)
            }
            return nil
        }
        if position - turnStart >= maximumTurn {
            inTurn = false
            runStart = nil
            loudest = 0
            return .maximumTurnReached(at: position)
        }
        if !isSpeech && position - lastSpeechEnd >= trailingSilence {
            inTurn = false
            loudest = 0
            return .endOfTurn(lastSpeechEnd: lastSpeechEnd, detectedAt: position)
        }
        return nil
    }
}
