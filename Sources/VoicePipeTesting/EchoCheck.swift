//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// What a caller heard from an echo agent, checked byte for byte against what the caller sent.
///
/// With the agent's audio at 8 kHz (no resampling either way) an echo is the caller's own µ-law bytes: each
/// stretch the caller heard must appear verbatim in what the caller sent. A frame that the server inserted,
/// dropped or concealed in the caller's audio shifts or changes the bytes and is found here; so is a pause in
/// the middle of a reply (a stretch that continues the previous one's audio after a break, with no `clear`
/// between them): a playout gap.
public struct EchoCheck: Sendable, Hashable, Codable {
    /// Stretches of agent audio checked.
    public var segments = 0
    /// Stretches found verbatim in the caller's audio.
    public var intactSegments = 0
    /// 20 ms frames of the other stretches that differ from the caller's audio where they best align (or
    /// all of a stretch's frames when it aligns nowhere).
    public var damagedFrames = 0
    /// Breaks inside one reply: playback stopped and resumed where it had stopped, without a `clear`.
    public var playoutGaps = 0
    /// The silence those breaks inserted, in ms.
    public var gapMilliseconds = 0.0

    /// Whether every stretch was the caller's audio and played without a break.
    public var isIntact: Bool { intactSegments == segments && playoutGaps == 0 }

    /// Creates an empty check.
    public init() {}

    /// Checks one call.
    ///
    /// Each stretch is placed by its loudest 32 bytes. A stretch too quiet or short to place on its own (the
    /// silent tail of a reply after a break, say) is tried where the stretch before it ended, or where the one
    /// after it begins, unless a `clear` lies between them.
    public init(_ result: SimulatedCaller.Result) {
        let sent = result.sent.map(Self.normalized)
        let played = result.segments.filter { !$0.bytes.isEmpty }
        let stretches = played.map { $0.bytes.map(Self.normalized) }
        var offsets = stretches.map { Self.locate($0, in: sent) }
        func fits(_ index: Int, at offset: Int) -> Bool {
            Self.differingFrames(stretches[index], at: offset, in: sent) == 0
        }
        for index in stretches.indices.dropFirst() where offsets[index] == nil && !played[index - 1].cleared {
            if let before = offsets[index - 1], fits(index, at: before + stretches[index - 1].count) {
                offsets[index] = before + stretches[index - 1].count
            }
        }
        for index in stretches.indices.dropLast().reversed() where offsets[index] == nil && !played[index].cleared {
            if let after = offsets[index + 1], fits(index, at: after - stretches[index].count) {
                offsets[index] = after - stretches[index].count
            }
        }
        for (index, bytes) in stretches.enumerated() {
            segments += 1
            guard let offset = offsets[index] else {
                damagedFrames += (bytes.count + 159) / 160
                continue
            }
            let differing = Self.differingFrames(bytes, at: offset, in: sent)
            if differing == 0 { intactSegments += 1 } else { damagedFrames += differing }
            if index > 0, let before = offsets[index - 1], !played[index - 1].cleared,
                before + stretches[index - 1].count == offset
            {
                playoutGaps += 1
                gapMilliseconds += played[index].start - played[index - 1].end
            }
        }
    }

    /// Adds another call's figures.
    public static func + (lhs: EchoCheck, rhs: EchoCheck) -> EchoCheck {
        var sum = lhs
        sum.segments += rhs.segments
        sum.intactSegments += rhs.intactSegments
        sum.damagedFrames += rhs.damagedFrames
        sum.playoutGaps += rhs.playoutGaps
        sum.gapMilliseconds += rhs.gapMilliseconds
        return sum
    }

    /// µ-law has two codes for zero (0x7F and 0xFF); decoding and encoding again gives 0xFF.
    static func normalized(_ code: UInt8) -> UInt8 { code == 0x7F ? 0xFF : code }

    /// Where `bytes` sits in `sent`: found by its loudest 32-byte window (silence matches anywhere), then
    /// checked there. The offset can be negative when the audio starts with the silence before the stream.
    static func locate(_ bytes: [UInt8], in sent: [UInt8]) -> Int? {
        let window = 32
        guard bytes.count >= window, sent.count >= window else { return nil }
        // The window with the most loud codes (a small magnitude code is a loud sample in µ-law).
        var best = 0
        var bestScore = -1
        var index = 0
        while index + window <= bytes.count {
            var score = 0
            for byte in bytes[index..<(index + window)] where byte & 0x7F < 0x50 { score += 1 }
            if score > bestScore {
                best = index
                bestScore = score
            }
            index += window
        }
        guard bestScore > 0 else { return nil }  // silence only: nothing to align
        let anchor = Array(bytes[best..<(best + window)])
        var found: Int?
        var fewest = Int.max
        var position = 0
        while position + window <= sent.count {
            if sent[position] == anchor[0], sent[position..<(position + window)].elementsEqual(anchor) {
                let offset = position - best
                let differing = differingFrames(bytes, at: offset, in: sent)
                if differing < fewest {
                    fewest = differing
                    found = offset
                }
                if differing == 0 { break }
            }
            position += 1
        }
        return found
    }

    /// The 20 ms frames of `bytes` that differ from `sent` at `offset` (bytes outside `sent` must be silence).
    static func differingFrames(_ bytes: [UInt8], at offset: Int, in sent: [UInt8]) -> Int {
        var differing = 0
        var frameStart = 0
        while frameStart < bytes.count {
            let frameEnd = Swift.min(frameStart + 160, bytes.count)
            for index in frameStart..<frameEnd {
                let position = offset + index
                let expected: UInt8 = position >= 0 && position < sent.count ? sent[position] : 0xFF
                if bytes[index] != expected {
                    differing += 1
                    break
                }
            }
            frameStart = frameEnd
        }
        return differing
    }
}
