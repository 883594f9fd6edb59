//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The native resampling engine: a polyphase FIR for a rational ratio `up / down` (`L / M`).
///
/// Conceptually the input is upsampled by `L` (zeros between samples), filtered by a linear-phase
/// low-pass FIR at `L × inputRate` (``EquirippleLowpass``), and every `M`-th sample kept. Only the taps that meet non-zero samples are
/// computed. Output `k` sits at `k·M + centre` on the upsampled time line; writing `k = q·L + r`, its
/// phase depends only on `r` and its newest input sample is `q·M + n[r]`, so output `k` is
/// `Σ_t coefficient[r][t] · x[q·M + n[r] − t]`.
///
/// ### Vectorisation
/// The sum runs across outputs, not across taps: for a block of 32 consecutive `q` (same `r`), each tap
/// is one broadcast coefficient times 32 input samples spaced `M` apart. The input of a block is first
/// split into `M` streams (`x[B + i·M + s]` for each `s`), which makes those 32 samples contiguous, so a
/// tap costs four 8-lane multiply-adds and no horizontal sums. Outputs that do not fill a block are
/// computed one at a time with the same sums in the same order, so every output is bit-identical whatever
/// the chunking of the input.
///
/// Output is aligned with the input: output `k` is the signal at input time `k·M / L`. Each output waits
/// for input up to `centre / L` samples ahead of it, which is the latency.
final class PolyphaseResampler {
    let up: Int
    let down: Int
    /// The centre of the prototype filter, in upsampled samples: the look-ahead.
    let centre: Int
    /// Taps per residue `r` (the longest phase).
    let taps: Int
    /// The terms of each residue's sum, in the order they are added: terms `termStart[r] ..< termStart[r+1]`,
    /// the first `pairCount[r]` of which are pairs of taps with the same coefficient (a linear-phase
    /// filter's phases are symmetric when `L` is 1 or 2), added before being multiplied.
    let termStart: UnsafeMutablePointer<Int>
    let pairCount: UnsafeMutablePointer<Int>
    /// Each term's coefficient, broadcast to 8 lanes.
    let termCoefficients: UnsafeMutablePointer<SIMD8<Float>>
    /// Byte offsets of each term's sample(s) in the block's stream(s).
    let termFirst: UnsafeMutablePointer<Int>
    let termSecond: UnsafeMutablePointer<Int>
    /// `n[r]`, the newest input sample of residue `r` relative to `q·M`.
    let newestOffsets: UnsafeMutablePointer<Int>
    let minimumDelta: Int

    /// Input samples: `buffer[i]` is input sample `bufferStart + i`; `buffered` are valid.
    let buffer: UnsafeMutablePointer<Float>
    let bufferCapacity: Int
    let bufferAllocation: Int
    var bufferStart = 0
    var buffered = 0

    /// The split streams of one block: `M` streams of `streamLength` samples each.
    let streams: UnsafeMutablePointer<Float>
    let streamLength: Int
    /// One block's sums, residue by residue, before they are interleaved into the output.
    let blockSums: UnsafeMutablePointer<Float>

    /// Input samples received, and outputs produced, since the start (or `reset()`).
    var inputCount = 0
    var outputCount = 0
    var flushed = false

    /// How many input samples are copied in per step: bounds the buffer, not the caller's chunk size.
    static let block = 1024
    /// Outputs of one residue computed together (4 × 8 lanes: four independent accumulators).
    static let groups = 32

    init(up: Int, down: Int, taps prototype: [Double]) {
        precondition(up >= 1 && down >= 1)
        self.up = up
        self.down = down
        centre = (prototype.count - 1) / 2
        taps = (prototype.count + up - 1) / up
        // Residue r: phase p[r], newest sample n[r]; tap t (t = 0 newest) has coefficient h[p + t·L] and
        // sample n[r] − t relative to q·M.
        var newest: [Int] = []
        var phases: [Int] = []
        for r in 0..<up {
            phases.append((r * down + centre) % up)
            newest.append((r * down + centre) / up)
        }
        newestOffsets = .allocate(capacity: up)
        newestOffsets.initialize(from: newest, count: up)
        let minimumDelta = newest[0] - (taps - 1)
        let span = newest[up - 1] - minimumDelta  // samples a group reaches back over
        let streamLength = Self.groups + span / down
        self.minimumDelta = minimumDelta
        self.streamLength = streamLength
        func byteOffset(_ delta: Int) -> Int {
            let u = delta - minimumDelta
            return 4 * (down == 1 ? u : (u % down) * streamLength + u / down)
        }
        var starts = [0]
        var pairs: [Int] = []
        var coefficientList: [Float] = []
        var firstList: [Int] = []
        var secondList: [Int] = []
        for r in 0..<up {
            let valid = (0..<taps).filter { phases[r] + $0 * up < prototype.count }.count
            let c = (0..<valid).map { Float(prototype[phases[r] + $0 * up]) }
            let symmetric = (0..<(valid / 2)).allSatisfy { c[$0] == c[valid - 1 - $0] }
            let paired = symmetric ? valid / 2 : 0
            for t in 0..<paired {
                coefficientList.append(c[t])
                firstList.append(byteOffset(newest[r] - t))
                secondList.append(byteOffset(newest[r] - (valid - 1 - t)))
            }
            for t in paired..<(valid - paired) {
                coefficientList.append(c[t])
                firstList.append(byteOffset(newest[r] - t))
                secondList.append(0)
            }
            pairs.append(paired)
            starts.append(coefficientList.count)
        }
        termStart = .allocate(capacity: up + 1)
        termStart.initialize(from: starts, count: up + 1)
        pairCount = .allocate(capacity: up)
        pairCount.initialize(from: pairs, count: up)
        termCoefficients = .allocate(capacity: coefficientList.count)
        termCoefficients.initialize(from: coefficientList.map { SIMD8(repeating: $0) }, count: coefficientList.count)
        termFirst = .allocate(capacity: firstList.count)
        termFirst.initialize(from: firstList, count: firstList.count)
        termSecond = .allocate(capacity: secondList.count)
        termSecond.initialize(from: secondList, count: secondList.count)
        streams = .allocate(capacity: down * streamLength)
        streams.initialize(repeating: 0, count: down * streamLength)
        blockSums = .allocate(capacity: up * Self.groups)
        blockSums.initialize(repeating: 0, count: up * Self.groups)
        // One block's reach, a step of input, and `down` samples of slack that splitting may read past the
        // block's last sample (never used in a sum).
        bufferCapacity = span + 1 + Self.block + Self.groups * down + down
        // Beyond the fill limit: room for a tail block to read past the buffered input (see `produce`).
        bufferAllocation = bufferCapacity + span + Self.groups * down + 8
        buffer = .allocate(capacity: bufferAllocation)
        reset()
    }

    deinit {
        termStart.deallocate()
        pairCount.deallocate()
        termCoefficients.deallocate()
        termFirst.deallocate()
        termSecond.deallocate()
        newestOffsets.deallocate()
        streams.deallocate()
        blockSums.deallocate()
        buffer.deallocate()
    }

    func reset() {
        // The history before the first sample is silence.
        buffer.initialize(repeating: 0, count: bufferAllocation)
        bufferStart = minimumDelta
        buffered = -minimumDelta
        inputCount = 0
        outputCount = 0
        flushed = false
    }

    /// Input samples of look-ahead (the group delay of the filter).
    var latencyInInputSamples: Double { Double(centre) / Double(up) }

    /// The most outputs `count` more input samples can produce.
    func maximumOutputCount(forInputCount count: Int) -> Int {
        (count * up + down - 1) / down + 1
    }

    /// The outputs still owed when the input ends: every output whose time lies inside the input.
    var pendingOutputCount: Int {
        Swift.max(0, (inputCount * up + down - 1) / down - outputCount)
    }

    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        precondition(!flushed, "Resampler: process after flush; call reset() to start a new stream")
        precondition(
            output.count >= maximumOutputCount(forInputCount: input.count),
            "Resampler: output holds \(output.count) samples, need up to \(maximumOutputCount(forInputCount: input.count))")
        guard let source = input.baseAddress, let destination = output.baseAddress else { return 0 }
        var consumed = 0
        var produced = 0
        while consumed < input.count {
            let count = Swift.min(input.count - consumed, bufferCapacity - buffered)
            (buffer + buffered).update(from: source + consumed, count: count)
            buffered += count
            consumed += count
            inputCount += count
            produced += produce(into: destination + produced, limit: Int.max)
            compact()
        }
        return produced
    }

    /// Ends the stream: emits the outputs still owed, as if the input continued with silence.
    func flush(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        guard !flushed else { return 0 }
        var owed = pendingOutputCount
        precondition(output.count >= owed, "Resampler: flush needs room for \(owed) samples, got \(output.count)")
        guard let destination = output.baseAddress else { return 0 }
        var produced = 0
        while owed > 0 {
            let zeros = bufferCapacity - buffered
            (buffer + buffered).initialize(repeating: 0, count: zeros)
            buffered += zeros
            let count = produce(into: destination + produced, limit: owed)
            produced += count
            owed -= count
            compact()
        }
        flushed = true
        return produced
    }

    /// Computes outputs while their newest input sample is buffered, at most `limit`.
    ///
    /// Every output is computed in a block of 32 or 8 groups. A block that reaches past the buffered
    /// input (the tail of a chunk) is computed whole from whatever the buffer holds there, and only its
    /// outputs whose inputs are all present are emitted; the rest are computed again, from the real
    /// samples, by a later call. So every output comes from the same lane arithmetic whatever the chunking.
    private func produce(into destination: UnsafeMutablePointer<Float>, limit: Int) -> Int {
        let last = bufferStart + buffered - 1
        let origin = buffer - bufferStart  // origin[i] is input sample i
        var k = outputCount
        var produced = 0
        while produced < limit {
            let q = k / up
            var r = k - q * up
            guard q * down + newestOffsets[r] <= last else { break }
            let full =
                r == 0 && produced + Self.groups * up <= limit
                && (q + Self.groups - 1) * down + newestOffsets[up - 1] <= last
            if full && up == 1 {
                computeBlock(q: q, groups: Self.groups, origin: origin, into: destination + produced)
                produced += Self.groups
                k += Self.groups
                continue
            }
            if full {  // several residues: interleave the whole block
                computeBlock(q: q, groups: Self.groups, origin: origin, into: blockSums)
                for g in 0..<Self.groups {
                    var from = blockSums + g
                    for _ in 0..<up {
                        destination[produced] = from.pointee
                        from += Self.groups
                        produced &+= 1
                    }
                }
                k += Self.groups * up
                continue
            }
            let groups = 8
            computeBlock(q: q, groups: groups, origin: origin, into: blockSums)
            var g = 0
            while g < groups && produced < limit && (q + g) * down + newestOffsets[r] <= last {
                destination[produced] = blockSums[r * groups + g]
                produced += 1
                k += 1
                r += 1
                if r == up {
                    r = 0
                    g += 1
                }
            }
        }
        outputCount = k
        return produced
    }

    /// The sums of groups `q ..< q + groups` (`groups` = 32 or 8), every residue, residue by residue.
    @inline(__always)
    private func computeBlock(
        q: Int, groups: Int, origin: UnsafeMutablePointer<Float>, into sums: UnsafeMutablePointer<Float>
    ) {
        let start = origin + (q &* down &+ minimumDelta)
        let raw: UnsafeRawPointer
        if down == 1 {
            raw = UnsafeRawPointer(start)  // already one contiguous stream
        } else {
            // Split the block's input into `down` streams: stream s holds x[B + s + i·M].
            let length = streamLength &- (Self.groups &- groups)
            for s in 0..<down {
                let stream = streams + s &* streamLength
                var from = start + s
                for i in 0..<length {
                    stream[i] = from.pointee
                    from += down
                }
            }
            raw = UnsafeRawPointer(streams)
        }
        // Residue by residue: `sums[r · groups + g]` is output (q + g)·L + r.
        for r in 0..<up {
            let out = UnsafeMutableRawPointer(sums + r &* groups)
            if groups == Self.groups {
                sum32(raw, residue: r, into: out)
            } else {
                sum8(raw, residue: r, into: out)
            }
        }
    }

    /// The sums of one residue for 32 groups: four independent 8-lane accumulators.
    @inline(__always)
    private func sum32(_ raw: UnsafeRawPointer, residue r: Int, into out: UnsafeMutableRawPointer) {
        var a0 = SIMD8<Float>()
        var a1 = SIMD8<Float>()
        var a2 = SIMD8<Float>()
        var a3 = SIMD8<Float>()
        var i = termStart[r]
        let pairsEnd = i &+ pairCount[r]
        let end = termStart[r &+ 1]
        while i < pairsEnd {
            let c = termCoefficients[i]
            let x = raw + termFirst[i]
            let y = raw + termSecond[i]
            a0 += c * (x.loadUnaligned(as: SIMD8<Float>.self) + y.loadUnaligned(as: SIMD8<Float>.self))
            a1 +=
                c
                * (x.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
                    + y.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self))
            a2 +=
                c
                * (x.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
                    + y.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self))
            a3 +=
                c
                * (x.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
                    + y.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self))
            i &+= 1
        }
        while i < end {
            let c = termCoefficients[i]
            let x = raw + termFirst[i]
            a0 += c * x.loadUnaligned(as: SIMD8<Float>.self)
            a1 += c * x.loadUnaligned(fromByteOffset: 32, as: SIMD8<Float>.self)
            a2 += c * x.loadUnaligned(fromByteOffset: 64, as: SIMD8<Float>.self)
            a3 += c * x.loadUnaligned(fromByteOffset: 96, as: SIMD8<Float>.self)
            i &+= 1
        }
        out.storeBytes(of: a0, toByteOffset: 0, as: SIMD8<Float>.self)
        out.storeBytes(of: a1, toByteOffset: 32, as: SIMD8<Float>.self)
        out.storeBytes(of: a2, toByteOffset: 64, as: SIMD8<Float>.self)
        out.storeBytes(of: a3, toByteOffset: 96, as: SIMD8<Float>.self)
    }

    /// The sums of one residue for 8 groups (the tail of a chunk): one 8-lane accumulator, the same terms
    /// in the same order as each lane of ``sum32(_:residue:into:)``.
    @inline(__always)
    private func sum8(_ raw: UnsafeRawPointer, residue r: Int, into out: UnsafeMutableRawPointer) {
        var a0 = SIMD8<Float>()
        var i = termStart[r]
        let pairsEnd = i &+ pairCount[r]
        let end = termStart[r &+ 1]
        while i < pairsEnd {
            a0 +=
                termCoefficients[i]
                * ((raw + termFirst[i]).loadUnaligned(as: SIMD8<Float>.self)
                    + (raw + termSecond[i]).loadUnaligned(as: SIMD8<Float>.self))
            i &+= 1
        }
        while i < end {
            a0 += termCoefficients[i] * (raw + termFirst[i]).loadUnaligned(as: SIMD8<Float>.self)
            i &+= 1
        }
        out.storeBytes(of: a0, toByteOffset: 0, as: SIMD8<Float>.self)
    }

    /// Drops the samples no future output needs.
    private func compact() {
        let q = outputCount / up
        let keepFrom = Swift.min(q * down + minimumDelta, bufferStart + buffered) - bufferStart
        guard keepFrom > 0 else { return }
        let kept = buffered - keepFrom
        UnsafeMutableRawPointer(buffer).copyMemory(from: buffer + keepFrom, byteCount: kept * MemoryLayout<Float>.stride)
        bufferStart += keepFrom
        buffered = kept
    }
}

@available(*, unavailable)
extension PolyphaseResampler: Sendable {}
