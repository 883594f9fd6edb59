//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import CSampleRate

/// The libsamplerate engine, for any ratio, made to behave like ``PolyphaseResampler``: output aligned
/// with the input (libsamplerate's own delay, measured at init with an impulse, is trimmed from the
/// start), and exactly `ceil(inputCount · ratio)` outputs once flushed.
final class LibSampleRateResampler {
    let state: OpaquePointer
    let converter: Int32
    let ratio: Double
    /// Output samples libsamplerate emits before the one aligned with input time 0.
    let delay: Int
    /// Outputs still to drop from the start of the stream.
    var toTrim: Int
    var inputCount = 0
    var outputCount = 0
    var flushed = false

    init(ratio: Double, converter: Int32) throws(ResamplerError) {
        self.ratio = ratio
        self.converter = converter
        delay = try Self.measureDelay(ratio: ratio, converter: converter)
        var error: Int32 = 0
        guard let state = src_new(converter, 1, &error) else { throw .libsamplerate(error) }
        self.state = state
        toTrim = delay
    }

    deinit { src_delete(state) }

    func reset() {
        src_reset(state)
        toTrim = delay
        inputCount = 0
        outputCount = 0
        flushed = false
    }

    /// The latency in input samples: libsamplerate's delay, which this engine withholds.
    var latencyInInputSamples: Double { Double(delay) / ratio }

    func maximumOutputCount(forInputCount count: Int) -> Int {
        Int((Double(count) * ratio).rounded(.up)) + 2
    }

    /// `ceil(inputCount · ratio)`: one output per output period that starts inside the input.
    var totalOutputCount: Int { Int((Double(inputCount) * ratio).rounded(.up)) }

    var pendingOutputCount: Int { Swift.max(0, totalOutputCount - outputCount) }

    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        precondition(!flushed, "Resampler: process after flush; call reset() to start a new stream")
        precondition(
            output.count >= maximumOutputCount(forInputCount: input.count),
            "Resampler: output holds \(output.count) samples, need up to \(maximumOutputCount(forInputCount: input.count))")
        inputCount += input.count
        return run(input, into: output, endOfInput: false, limit: output.count)
    }

    func flush(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        guard !flushed else { return 0 }
        let owed = pendingOutputCount
        precondition(output.count >= owed, "Resampler: flush needs room for \(owed) samples, got \(output.count)")
        var produced = 0
        var idle = 0
        while produced < owed && idle < 4 {
            let count = run(
                UnsafeBufferPointer(start: nil, count: 0),
                into: UnsafeMutableBufferPointer(rebasing: output[produced..<owed]), endOfInput: true, limit: owed - produced)
            produced += count
            idle = count == 0 ? idle + 1 : 0
        }
        // libsamplerate may end a sample short of the aligned length: the missing tail is silence.
        while produced < owed {
            output[produced] = 0
            produced += 1
            outputCount += 1
        }
        flushed = true
        return produced
    }

    /// Runs libsamplerate until the input is consumed (or, at the end, until it stops producing), dropping
    /// the first `delay` outputs of the stream and anything beyond `limit`.
    private func run(
        _ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>, endOfInput: Bool, limit: Int
    ) -> Int {
        var data = SRC_DATA()
        var consumed = 0
        var produced = 0
        repeat {
            data.data_in = input.baseAddress.map { $0 + consumed }
            data.input_frames = input.count - consumed
            data.data_out = output.baseAddress! + produced
            data.output_frames = output.count - produced
            data.end_of_input = endOfInput ? 1 : 0
            data.src_ratio = ratio
            let status = src_process(state, &data)
            precondition(status == 0, "libsamplerate: \(String(cString: src_strerror(status)))")
            consumed += data.input_frames_used
            var generated = data.output_frames_gen
            if toTrim > 0 && generated > 0 {
                let drop = Swift.min(toTrim, generated)
                let start = output.baseAddress! + produced
                UnsafeMutableRawPointer(start).copyMemory(from: start + drop, byteCount: (generated - drop) * 4)
                toTrim -= drop
                generated -= drop
            }
            produced += generated
            if data.input_frames_used == 0 && data.output_frames_gen == 0 { break }
        } while consumed < input.count || (endOfInput && produced < limit && data.output_frames_gen > 0)
        produced = Swift.min(produced, limit)
        outputCount += produced
        return produced
    }

    /// libsamplerate's delay for this ratio and converter, in output samples: where the peak of an
    /// impulse's response lands, relative to where an aligned resampler puts it.
    static func measureDelay(ratio: Double, converter: Int32) throws(ResamplerError) -> Int {
        var error: Int32 = 0
        guard let probe = src_new(converter, 1, &error) else { throw .libsamplerate(error) }
        defer { src_delete(probe) }
        let impulseAt = 2048
        var input = [Float](repeating: 0, count: 4096)
        input[impulseAt] = 1
        var output = [Float](repeating: 0, count: Int(Double(input.count) * ratio) + 4096)
        var data = SRC_DATA()
        let status = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                data.data_in = inp.baseAddress
                data.input_frames = inp.count
                data.data_out = out.baseAddress
                data.output_frames = out.count
                data.end_of_input = 1
                data.src_ratio = ratio
                return src_process(probe, &data)
            }
        }
        guard status == 0 else { throw .libsamplerate(status) }
        let generated = output[..<data.output_frames_gen]
        guard let peak = generated.indices.max(by: { abs(generated[$0]) < abs(generated[$1]) }) else { return 0 }
        return Swift.max(0, peak - Int((Double(impulseAt) * ratio).rounded()))
    }
}

@available(*, unavailable)
extension LibSampleRateResampler: Sendable {}
