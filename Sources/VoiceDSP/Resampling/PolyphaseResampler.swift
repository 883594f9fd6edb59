//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The native resampling engine: a polyphase FIR for a rational ratio `up / down`.
///
/// Conceptually the input is upsampled by `up` (zeros between samples), filtered by a Kaiser-windowed
/// sinc at `up × inputRate`, and every `down`-th sample kept. Only the taps that meet non-zero samples are
/// computed: output `k` sits at `k · down + centre` in the upsampled time line, which selects the phase
/// `(k · down + centre) mod up` (a set of `tapsPerPhase` coefficients, stored reversed and padded to a
/// multiple of 8) and the newest input sample `(k · down + centre) / up`. One output is one SIMD dot
/// product of contiguous input with contiguous coefficients.
///
/// Output is aligned with the input: output `k` is the signal at input time `k · down / up`. Each output
/// waits for the input samples up to `centre / up` ahead of it, which is the latency. Because every
/// output is computed from the same samples by the same code whatever the chunking, feeding the input in
/// one piece or in any chunks gives bit-identical output.
final class PolyphaseResampler {
    let up: Int
    let down: Int
    /// The centre of the prototype filter, in upsampled samples: the look-ahead.
    let centre: Int
    let tapsPerPhase: Int
    /// `up` phases × `tapsPerPhase` coefficients, each phase reversed (oldest sample first).
    let coefficients: UnsafeMutablePointer<Float>

    /// Input samples: `buffer[i]` is input sample `bufferStart + i`; `buffered` are valid.
    let buffer: UnsafeMutablePointer<Float>
    let bufferCapacity: Int
    var bufferStart = 0
    var buffered = 0

    /// Input samples received, and outputs produced, since the start (or `reset()`).
    var inputCount = 0
    var outputCount = 0
    /// Phase and newest input index of the next output.
    var phase = 0
    var newest = 0
    var flushed = false

    /// How many input samples are copied in per step: bounds the buffer, not the caller's chunk size.
    static let block = 1024

    init(up: Int, down: Int, taps: [Double]) {
        precondition(up >= 1 && down >= 1)
        self.up = up
        self.down = down
        centre = (taps.count - 1) / 2
        let perPhase = (taps.count + up - 1) / up
        tapsPerPhase = (perPhase + 7) / 8 * 8
        coefficients = .allocate(capacity: up * tapsPerPhase)
        coefficients.initialize(repeating: 0, count: up * tapsPerPhase)
        // Phase p uses taps p, p + up, p + 2·up, ... against the newest, next-newest, ... input sample.
        for p in 0..<up {
            var j = 0
            while p + j * up < taps.count {
                coefficients[p * tapsPerPhase + tapsPerPhase - 1 - j] = Float(taps[p + j * up])
                j += 1
            }
        }
        bufferCapacity = tapsPerPhase - 1 + Self.block
        buffer = .allocate(capacity: bufferCapacity)
        reset()
    }

    deinit {
        coefficients.deallocate()
        buffer.deallocate()
    }

    func reset() {
        // The history before the first sample is silence.
        buffer.initialize(repeating: 0, count: bufferCapacity)
        bufferStart = -(tapsPerPhase - 1)
        buffered = tapsPerPhase - 1
        inputCount = 0
        outputCount = 0
        phase = centre % up
        newest = centre / up
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
    @inline(__always)
    private func produce(into destination: UnsafeMutablePointer<Float>, limit: Int) -> Int {
        let last = bufferStart + buffered - 1
        let wholeStep = down / up
        let phaseStep = down % up
        var produced = 0
        while newest <= last && produced < limit {
            let window = buffer + (newest - bufferStart - (tapsPerPhase - 1))
            destination[produced] = Self.dot(window, coefficients + phase * tapsPerPhase, count: tapsPerPhase)
            produced += 1
            newest += wholeStep
            phase += phaseStep
            if phase >= up {
                phase -= up
                newest += 1
            }
        }
        outputCount += produced
        return produced
    }

    /// Drops the samples no future output needs, keeping `tapsPerPhase - 1` before the next output's newest.
    @inline(__always)
    private func compact() {
        let keepFrom = Swift.min(newest - (tapsPerPhase - 1), bufferStart + buffered) - bufferStart
        guard keepFrom > 0 else { return }
        let kept = buffered - keepFrom
        UnsafeMutableRawPointer(buffer).copyMemory(from: buffer + keepFrom, byteCount: kept * MemoryLayout<Float>.stride)
        bufferStart += keepFrom
        buffered = kept
    }

    /// Σ a[i]·b[i] over `count` (a multiple of 8) Floats, in a fixed order: 8 lanes, two accumulators.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        var even = SIMD8<Float>()
        var odd = SIMD8<Float>()
        var offset = 0
        let bytes = count * 4
        while offset + 64 <= bytes {
            even += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
            odd += rawA.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset + 32, as: SIMD8<Float>.self)
            offset += 64
        }
        if offset < bytes {
            even += rawA.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: offset, as: SIMD8<Float>.self)
        }
        let sum = even + odd
        let half = sum.lowHalf + sum.highHalf
        return (half[0] + half[2]) + (half[1] + half[3])
    }
}

@available(*, unavailable)
extension PolyphaseResampler: Sendable {}
