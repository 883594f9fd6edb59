//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// An adaptive jitter buffer for fixed-size audio frames identified by sequence number (Twilio media's
/// `chunk`, or an unwrapped RTP sequence number).
///
/// The network side calls ``insert(sequence:payload:arrival:)`` as frames arrive, in any order; the audio
/// side calls ``pop(into:at:)`` once per frame period and gets the next frame in sequence, or is told to
/// conceal a gap. Frames are reordered, duplicates dropped, and frames that arrive after their play-out
/// time dropped and counted as late.
///
/// With ``Playout/inOrder`` (reliable transports) frames are played in sequence as soon as they are there, and
/// only a skipped sequence number is concealed. With ``Playout/scheduled`` frames are played on a schedule: a frame is due at its send time (`sequence × frame duration`) plus
/// the smallest transit time (`arrival − send time`) of the last ``Configuration/window`` frames plus the
/// target delay. The target delay adapts to the jitter: the spread of those transit times at
/// ``Configuration/percentile``, plus half a frame. It grows at once (play-out holds for a period when it
/// gets ahead of the schedule) and shrinks slowly (one frame is dropped at most every
/// ``Configuration/shrinkInterval`` frames while play-out is behind).
///
/// Memory is bounded: ``Configuration/capacity`` frame slots, allocated at init; nothing allocates after.
///
/// - Important: Not thread-safe: insert and pop from the same thread or task (the call's owner task), or
///   hand frames across through an ``SPSCRingBuffer``.
public final class JitterBuffer {
    /// How frames are played out.
    public enum Playout: Sendable, Hashable {
        /// On a schedule from arrival times (send time + smallest recent transit + the adaptive target delay):
        /// for lossy, reordering transports (RTP over UDP). Late frames are concealed and dropped; the delay
        /// grows by holding play-out and shrinks by dropping frames.
        case scheduled
        /// Every frame in sequence order as soon as it is there, whatever the time: for reliable transports
        /// (a WebSocket over TCP, such as Twilio Media Streams), where a frame that has not arrived yet is
        /// still coming. A gap is concealed only when a later frame has arrived (a skipped sequence number);
        /// otherwise ``JitterBuffer/pop(into:at:)`` reports ``Output/buffering`` and plays nothing. Nothing
        /// is held, dropped or concealed because of the time it arrived.
        case inOrder
    }

    /// Settings.
    public struct Configuration: Sendable, Equatable {
        /// How frames are played out (default ``Playout/scheduled``).
        public var playout: Playout
        /// Bytes per frame (160 for 20 ms of µ-law at 8 kHz), or the largest payload for variable-size
        /// frames such as Opus packets (up to 1,275 bytes).
        public var frameBytes: Int
        /// The audio in one frame (20 ms by default).
        public var frameDuration: Duration
        /// Frame slots; frames further ahead than this are dropped as overflow.
        public var capacity: Int
        /// The smallest target delay (``Playout/scheduled`` only).
        public var minimumDelay: Duration
        /// The largest target delay (``Playout/scheduled`` only).
        public var maximumDelay: Duration
        /// The share of recent frames the target delay must cover (0.97 by default; see BENCHMARKS.md).
        public var percentile: Double
        /// How many recent arrivals the jitter estimate looks at.
        public var window: Int
        /// At most one frame of excess delay is dropped per this many frames played.
        public var shrinkInterval: Int

        /// Creates settings; the defaults suit Twilio media (160-byte, 20 ms µ-law frames) over a lossy path.
        public init(
            playout: Playout = .scheduled, frameBytes: Int = 160, frameDuration: Duration = .milliseconds(20),
            capacity: Int = 64, minimumDelay: Duration = .milliseconds(20), maximumDelay: Duration = .milliseconds(400),
            percentile: Double = 0.97, window: Int = 500, shrinkInterval: Int = 50
        ) {
            self.playout = playout
            self.frameBytes = frameBytes
            self.frameDuration = frameDuration
            self.capacity = capacity
            self.minimumDelay = minimumDelay
            self.maximumDelay = maximumDelay
            self.percentile = percentile
            self.window = window
            self.shrinkInterval = shrinkInterval
        }
    }

    /// What happened to an inserted frame.
    public enum InsertResult: Sendable, Equatable {
        /// Stored for play-out.
        case accepted
        /// Already stored or already played: dropped.
        case duplicate
        /// Its play-out time has passed (it was concealed): dropped.
        case late
        /// Too far ahead of play-out for the buffer's capacity: dropped.
        case overflow
    }

    /// What ``pop(into:at:)`` produced.
    public enum Output: Sendable, Equatable {
        /// A frame was written to the output buffer: its sequence number and length in bytes.
        case frame(sequence: Int, bytes: Int)
        /// The frame with this sequence number is missing (lost or late): conceal it.
        case conceal(sequence: Int)
        /// The buffer is filling up to its target delay (at the start, after running dry, or to grow the
        /// delay): play silence or a concealment frame, without advancing.
        case buffering
    }

    /// Counters, since init or ``reset()``.
    public struct Statistics: Sendable, Equatable {
        /// Frames inserted (including duplicates and late ones).
        public var received = 0
        /// Frames played from the buffer.
        public var played = 0
        /// Frames concealed (missing at play-out time).
        public var concealed = 0
        /// Frames that arrived after their play-out time.
        public var late = 0
        /// Frames concealed that never arrived (so far).
        public var lost: Int { concealed - late }
        /// Duplicates dropped.
        public var duplicates = 0
        /// Frames that arrived after a frame with a higher sequence number.
        public var reordered = 0
        /// Frames dropped for overflow.
        public var overflowed = 0
        /// Frames dropped to shrink the delay.
        public var dropped = 0
        /// Periods play-out was held to grow the delay.
        public var held = 0
        /// The current target delay, in milliseconds.
        public var targetDelay: Double = 0
        /// The current buffered audio, in milliseconds.
        public var currentDelay: Double = 0
    }

    /// The settings in use.
    public let configuration: Configuration
    /// The counters.
    public private(set) var statistics = Statistics()

    private let slots: UnsafeMutableRawPointer
    private let present: UnsafeMutablePointer<Bool>
    private let sequences: UnsafeMutablePointer<Int>
    private let lengths: UnsafeMutablePointer<Int>
    private let transits: UnsafeMutablePointer<Double>
    /// The window's transit times, sorted.
    private let sorted: UnsafeMutablePointer<Double>
    private var transitCount = 0
    private var transitNext = 0
    private var nextToPlay: Int? = nil
    private var highestSeen = Int.min
    private var sinceShrink = 0
    private var started = false
    private let frameMilliseconds: Double
    private let minimumDelay: Double
    private let maximumDelay: Double

    /// Creates a jitter buffer.
    public init(configuration: Configuration = Configuration()) {
        precondition(configuration.frameBytes > 0 && configuration.capacity > 1 && configuration.window > 1)
        precondition(configuration.frameDuration > .zero, "JitterBuffer: frame duration \(configuration.frameDuration)")
        self.configuration = configuration
        frameMilliseconds = configuration.frameDuration.inMilliseconds
        minimumDelay = configuration.minimumDelay.inMilliseconds
        maximumDelay = configuration.maximumDelay.inMilliseconds
        slots = .allocate(byteCount: configuration.frameBytes * configuration.capacity, alignment: 16)
        present = .allocate(capacity: configuration.capacity)
        sequences = .allocate(capacity: configuration.capacity)
        lengths = .allocate(capacity: configuration.capacity)
        transits = .allocate(capacity: configuration.window)
        sorted = .allocate(capacity: configuration.window)
        reset()
    }

    deinit {
        slots.deallocate()
        present.deallocate()
        sequences.deallocate()
        lengths.deallocate()
        transits.deallocate()
        sorted.deallocate()
    }

    /// Forgets everything: the next frame inserted starts a new stream.
    public func reset() {
        present.initialize(repeating: false, count: configuration.capacity)
        sequences.initialize(repeating: 0, count: configuration.capacity)
        lengths.initialize(repeating: 0, count: configuration.capacity)
        transits.initialize(repeating: 0, count: configuration.window)
        sorted.initialize(repeating: 0, count: configuration.window)
        transitCount = 0
        transitNext = 0
        nextToPlay = nil
        highestSeen = .min
        sinceShrink = 0
        started = false
        statistics = Statistics()
        statistics.targetDelay = minimumDelay
    }

    /// Adds an arriving frame.
    ///
    /// - Parameters:
    ///   - sequence: The frame's sequence number (consecutive frames differ by 1).
    ///   - payload: At most ``Configuration/frameBytes`` bytes (exactly that many for fixed-size frames);
    ///     copied.
    ///   - arrival: The arrival time in milliseconds on any steady clock (the same clock as `pop`'s).
    /// - Returns: What became of the frame.
    /// - Complexity: O(window) with ``Playout/scheduled`` (one insertion into the sorted jitter window), O(1)
    ///   with ``Playout/inOrder``; no allocation.
    @discardableResult
    public func insert(sequence: Int, payload: UnsafeRawBufferPointer, arrival: Double) -> InsertResult {
        precondition(
            (1...configuration.frameBytes).contains(payload.count),
            "JitterBuffer: frame of \(payload.count) bytes, at most \(configuration.frameBytes)")
        statistics.received += 1
        let outOfOrder = sequence < highestSeen
        // Jitter: the spread of transit times (arrival minus the frame's nominal send time), from frames
        // that are new (accepted or late), not from duplicates or a stream that jumped far ahead.
        let transit = arrival - Double(sequence) * frameMilliseconds

        if let next = nextToPlay {
            if sequence < next && !started && next - sequence + depth <= configuration.capacity {
                nextToPlay = sequence  // play-out has not started: an earlier frame moves the start back
            } else if sequence < next {
                // Its turn has passed: played already (a duplicate) or concealed (late).
                let slot = slotIndex(sequence)
                if sequences[slot] == sequence && !present[slot] {
                    statistics.duplicates += 1
                    return .duplicate
                }
                statistics.late += 1
                addTransit(transit)
                return .late
            } else if sequence >= next + configuration.capacity {
                statistics.overflowed += 1
                return .overflow
            }
        } else {
            nextToPlay = sequence
        }
        let slot = slotIndex(sequence)
        if present[slot] && sequences[slot] == sequence {
            statistics.duplicates += 1
            return .duplicate
        }
        (slots + slot * configuration.frameBytes).copyMemory(from: payload.baseAddress!, byteCount: payload.count)
        present[slot] = true
        sequences[slot] = sequence
        lengths[slot] = payload.count
        highestSeen = Swift.max(highestSeen, sequence)
        if outOfOrder { statistics.reordered += 1 }
        addTransit(transit)
        statistics.currentDelay = Double(depth) * frameMilliseconds
        return .accepted
    }

    /// Takes the next frame for play-out: with ``Playout/scheduled``, once per frame period; with
    /// ``Playout/inOrder``, until it returns ``Output/buffering``.
    ///
    /// - Parameters:
    ///   - output: Receives the frame's ``Configuration/frameBytes`` bytes when the result is `.frame`.
    ///   - time: Now, in milliseconds on the clock of `insert`'s arrivals: with ``Playout/scheduled`` frames
    ///     are played on a schedule of send time + smallest recent transit + target delay (ignored by
    ///     ``Playout/inOrder``).
    /// - Returns: The frame, a gap to conceal, or `.buffering`.
    /// - Complexity: O(1), no allocation.
    public func pop(into output: UnsafeMutableRawBufferPointer, at time: Double) -> Output {
        precondition(output.count >= configuration.frameBytes)
        guard var next = nextToPlay else { return .buffering }
        if configuration.playout == .inOrder {
            // A frame not there yet is still coming, unless a later one has arrived (a skipped number).
            guard highestSeen >= next else { return .buffering }
            started = true
            return take(next, into: output)
        }
        guard transitCount > 0 else { return .buffering }
        // The play-out schedule: frame n is due at (its send time) + (the smallest recent transit) + (the
        // target delay). `due` is the latest frame due now.
        let due = Int(((time - sorted[0] - statistics.targetDelay) / frameMilliseconds).rounded(.down))
        statistics.currentDelay = Double(Swift.max(0, depth)) * frameMilliseconds
        if next > due {
            // Ahead of schedule: at the start, or because the target delay grew. Hold (grow fast).
            if started { statistics.held += 1 }
            return .buffering
        }
        started = true
        // Behind schedule (the target delay shrank): drop one frame now and then (shrink slowly).
        sinceShrink += 1
        if next < due - 1 && sinceShrink >= configuration.shrinkInterval {
            let slot = slotIndex(next)
            if present[slot] && sequences[slot] == next {
                present[slot] = false
                statistics.dropped += 1
            }
            next += 1
            sinceShrink = 0
        }
        return take(next, into: output)
    }

    /// Plays frame `next`: copies it out, or reports it missing.
    private func take(_ next: Int, into output: UnsafeMutableRawBufferPointer) -> Output {
        let slot = slotIndex(next)
        nextToPlay = next + 1
        statistics.currentDelay = Double(Swift.max(0, depth)) * frameMilliseconds
        if present[slot] && sequences[slot] == next {
            present[slot] = false
            output.baseAddress!.copyMemory(from: slots + slot * configuration.frameBytes, byteCount: lengths[slot])
            statistics.played += 1
            return .frame(sequence: next, bytes: lengths[slot])
        }
        statistics.concealed += 1
        return .conceal(sequence: next)
    }

    /// Copies a buffered frame without removing it (to rebuild a lost frame from the FEC data of the one
    /// after it).
    ///
    /// - Parameters:
    ///   - sequence: The frame wanted.
    ///   - output: Receives the frame.
    /// - Returns: The frame's length, or nil if it is not buffered.
    public func peek(sequence: Int, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let slot = slotIndex(sequence)
        guard present[slot] && sequences[slot] == sequence, output.count >= lengths[slot] else { return nil }
        output.baseAddress!.copyMemory(from: slots + slot * configuration.frameBytes, byteCount: lengths[slot])
        return lengths[slot]
    }

    /// The sequence number of the frame the next ``pop(into:at:)`` plays, once known.
    public var nextSequence: Int? { nextToPlay }

    private func slotIndex(_ sequence: Int) -> Int {
        ((sequence % configuration.capacity) + configuration.capacity) % configuration.capacity
    }

    /// Frames buffered from the next to play up to the highest received (gaps included).
    private var depth: Int {
        guard let next = nextToPlay, highestSeen >= next else { return 0 }
        return highestSeen - next + 1
    }

    /// Adds a transit time to the window (evicting the oldest) and recomputes the target delay from the
    /// spread. A sorted copy of the window is kept up to date by one removal and one insertion, so there
    /// is no sort and no allocation.
    private func addTransit(_ transit: Double) {
        guard configuration.playout == .scheduled else { return }  // in order, nothing depends on the jitter
        if transitCount == configuration.window {
            let evicted = transits[transitNext]
            var index = sortedIndex(of: evicted, count: transitCount)
            while index < transitCount - 1 && sorted[index] != evicted { index += 1 }
            (sorted + index).update(from: sorted + index + 1, count: transitCount - index - 1)
            transitCount -= 1
        }
        transits[transitNext] = transit
        transitNext = (transitNext + 1) % configuration.window
        let position = sortedIndex(of: transit, count: transitCount)
        UnsafeMutableRawPointer(sorted + position + 1).copyMemory(
            from: sorted + position, byteCount: (transitCount - position) * MemoryLayout<Double>.stride)
        sorted[position] = transit
        transitCount += 1
        guard transitCount >= 2 else { return }
        let index = Swift.min(transitCount - 1, Int((Double(transitCount - 1) * configuration.percentile).rounded()))
        let spread = sorted[index] - sorted[0]
        statistics.targetDelay = Swift.min(
            maximumDelay,
            Swift.max(minimumDelay, spread + frameMilliseconds / 2))
    }

    /// The first index in the sorted window whose value is not below `value`.
    private func sortedIndex(of value: Double, count: Int) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

@available(*, unavailable)
extension JitterBuffer: Sendable {}
