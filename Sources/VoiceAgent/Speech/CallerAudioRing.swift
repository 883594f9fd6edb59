//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import VoiceDSP

/// Receives the caller's audio as it arrives, while a turn is under way: how a streaming recogniser hears
/// the caller during the turn rather than after it.
///
/// The ``TurnTakingController`` calls it on the call's owner task, tick by tick: first the turn's pre-roll,
/// then each tick's audio while the caller has the floor, then ``turnEnded(_:)`` when it decides the turn is
/// over (a turn the caller resumes gets more audio and another ``turnEnded(_:)``). A listener that
/// ``hearsBetweenTurns`` gets every tick instead, turn or not, and no pre-roll (it heard that audio already):
/// a provider that detects turns itself needs the silences too. Implementations copy and return at once: they
/// must not block, allocate per call or wait for the agent.
public protocol CallerAudioListener: AnyObject, Sendable {
    /// Whether it hears the caller all the time, between turns too (default `false`: only during turns).
    var hearsBetweenTurns: Bool { get }

    /// The next audio of turn `turn`, at `sampleRate`. The buffer is only valid during the call.
    func hear(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, turn: Int)

    /// The controller decided that turn `turn` ended.
    func turnEnded(_ turn: Int)
}

extension CallerAudioListener {
    /// Only during turns.
    public var hearsBetweenTurns: Bool { false }
}

/// A ``CallerAudioListener`` that hands the caller's audio from the call's task to another task through a
/// lock-free single-producer/single-consumer ring (``SPSCRingBuffer``), with nothing allocated per tick.
///
/// The call's owner task is the producer; one consumer task calls ``read(into:)`` whenever ``signals``
/// yields. If the consumer falls behind by more than the ring holds, the newest audio is dropped and
/// counted in ``overflows`` (the consumer then sees a turn with a gap, never a stall of the call).
public final class CallerAudioRing: CallerAudioListener, Sendable {
    /// One entry of the ring: up to ``Frame/capacity`` samples of a turn, or the turn's end.
    public struct Frame: BitwiseCopyable, Sendable {
        /// The most samples one frame holds (20 ms at 16 kHz; longer ticks take several frames).
        public static let capacity = 320

        /// The turn.
        public var turn: Int32
        /// The samples' rate, in Hz.
        public var sampleRate: Int32
        /// How many of ``samples`` are used; `-1` marks the end of the turn.
        public var count: Int32
        /// The samples.
        public var samples: InlineArray<320, Float>

        /// Whether this frame marks the end of ``turn``.
        public var isEndOfTurn: Bool { count < 0 }

        /// Calls `body` with the used samples.
        public func withSamples<Result>(_ body: (UnsafeBufferPointer<Float>) throws -> Result) rethrows -> Result {
            try samples.span.withUnsafeBufferPointer { try body(UnsafeBufferPointer(rebasing: $0.prefix(max(0, Int(count))))) }
        }
    }

    private let producer: SPSCRingBuffer<Frame>.Producer
    private let consumer: SPSCRingBuffer<Frame>.Consumer
    private let signal: AsyncStream<Void>.Continuation
    private let dropped = Atomic<Int>(0)
    private let ends = Mutex<[Int: Int]>([:])

    /// Wakes the consumer: yields after each write (coalesced: at most one pending).
    public let signals: AsyncStream<Void>

    /// Frames dropped because the consumer fell behind.
    public var overflows: Int { dropped.load(ordering: .relaxed) }

    /// Whether it hears the caller between turns too (set at creation).
    public let hearsBetweenTurns: Bool

    /// Creates a ring holding `frames` frames (256: about 5 s of 16 kHz audio).
    ///
    /// - Parameters:
    ///   - frames: The ring's size.
    ///   - hearsBetweenTurns: Hear every tick, turn or not (``CallerAudioListener/hearsBetweenTurns``); the
    ///     audio between turns is labelled with the last turn's number.
    public init(frames: Int = 256, hearsBetweenTurns: Bool = false) {
        self.hearsBetweenTurns = hearsBetweenTurns
        let ring = SPSCRingBuffer<Frame>(minimumCapacity: frames)
        producer = ring.producer
        consumer = ring.consumer
        (signals, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func hear(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int, turn: Int) {
        var offset = 0
        while offset < samples.count {
            let count = min(Frame.capacity, samples.count - offset)
            var frame = Frame(
                turn: Int32(truncatingIfNeeded: turn), sampleRate: Int32(sampleRate), count: Int32(count), samples: .init(repeating: 0))
            for index in 0..<count { frame.samples[index] = samples[offset + index] }
            if !producer.write(frame) { dropped.add(1, ordering: .relaxed) }
            offset += count
        }
        signal.yield()
    }

    public func turnEnded(_ turn: Int) {
        ends.withLock { $0[turn, default: 0] += 1 }
        let frame = Frame(turn: Int32(truncatingIfNeeded: turn), sampleRate: 0, count: -1, samples: .init(repeating: 0))
        if !producer.write(frame) { dropped.add(1, ordering: .relaxed) }
        signal.yield()
    }

    /// How many times the controller has ended turn `turn` so far (more than once when the caller resumed
    /// it): a reply waits for that many end-of-turn frames to be handled.
    public func endsWritten(turn: Int) -> Int { ends.withLock { $0[turn, default: 0] } }

    /// Reads the next frame, if any (consumer task only).
    public func read() -> Frame? { consumer.read() }

    /// Ends ``signals`` (the consumer's loop ends).
    public func close() { signal.finish() }
}
