//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Benchmark
import CSampleRate
import CSoxr
import CSpeexDSP
import Foundation
import VoiceDSP

/// A streaming resampler under test: consumes one chunk, returns how many samples it produced.
protocol StreamingResampler: AnyObject {
    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int
}

final class NativeStream: StreamingResampler {
    let resampler: Resampler
    init(_ inRate: Int, _ outRate: Int, quality: Resampler.Quality) throws {
        resampler = try Resampler(inputRate: inRate, outputRate: outRate, quality: quality, backend: .native)
    }
    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        resampler.process(input, into: output)
    }
}

/// libsamplerate called directly (not through VoicePipe's wrapper), as its users would.
final class LibSampleRateStream: StreamingResampler {
    let state: OpaquePointer
    let ratio: Double
    init(_ inRate: Int, _ outRate: Int, converter: Int32) {
        var error: Int32 = 0
        state = src_new(converter, 1, &error)!
        ratio = Double(outRate) / Double(inRate)
    }
    deinit { src_delete(state) }
    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        var data = SRC_DATA()
        data.data_in = input.baseAddress
        data.input_frames = input.count
        data.data_out = output.baseAddress
        data.output_frames = output.count
        data.src_ratio = ratio
        precondition(src_process(state, &data) == 0)
        return data.output_frames_gen
    }
}

final class SoxrStream: StreamingResampler {
    let soxr: soxr_t
    init(_ inRate: Int, _ outRate: Int, recipe: UInt) {
        var error: soxr_error_t? = nil
        var quality = soxr_quality_spec(recipe, 0)
        soxr = soxr_create(Double(inRate), Double(outRate), 1, &error, nil, &quality, nil)!
    }
    deinit { soxr_delete(soxr) }
    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        var done = 0
        var produced = 0
        precondition(soxr_process(soxr, input.baseAddress, input.count, &done, output.baseAddress, output.count, &produced) == nil)
        return produced
    }
}

final class SpeexStream: StreamingResampler {
    let state: OpaquePointer
    init(_ inRate: Int, _ outRate: Int, quality: Int32) {
        var error: Int32 = 0
        state = speex_resampler_init(1, UInt32(inRate), UInt32(outRate), quality, &error)!
        speex_resampler_skip_zeros(state)  // start aligned, as the other resamplers do
    }
    deinit { speex_resampler_destroy(state) }
    func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        var inLength = UInt32(input.count)
        var outLength = UInt32(output.count)
        precondition(speex_resampler_process_float(state, 0, input.baseAddress, &inLength, output.baseAddress, &outLength) == 0)
        precondition(inLength == UInt32(input.count))
        return Int(outLength)
    }
}

/// 20 ms chunks of one second of audio per iteration, 8k<->16k and 24k->8k (and 8k->24k, 16k<->24k, 8k<->48k),
/// one stream on one core. The custom metric "withheld (us)" is the most audio the resampler held back
/// after any chunk past the first 200 ms: its latency in 20 ms streaming.
func resamplerBenchmarks() {
    let pairs = [(8000, 16000), (16000, 8000), (24000, 8000), (8000, 24000), (16000, 24000), (8000, 48000), (48000, 8000)]
    let withheld = BenchmarkMetric.custom("withheld (us)", polarity: .prefersSmaller, useScalingFactor: false)
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal, withheld], timeUnits: .microseconds, warmupIterations: 3,
        maxDuration: .seconds(1), maxIterations: 2_000)
    let contenders: [(String, (Int, Int) throws -> any StreamingResampler)] = [
        ("native telephony", { try NativeStream($0, $1, quality: .telephony) }),
        ("native high", { try NativeStream($0, $1, quality: .high) }),
        ("libsamplerate SINC_FASTEST", { LibSampleRateStream($0, $1, converter: Int32(SRC_SINC_FASTEST)) }),
        ("libsamplerate SINC_MEDIUM", { LibSampleRateStream($0, $1, converter: Int32(SRC_SINC_MEDIUM_QUALITY)) }),
        ("soxr HQ", { SoxrStream($0, $1, recipe: UInt(SOXR_HQ)) }),
        ("speexdsp q3", { SpeexStream($0, $1, quality: 3) }),
        ("speexdsp q5", { SpeexStream($0, $1, quality: 5) }),
    ]
    for (inRate, outRate) in pairs {
        let chunk = inRate / 50
        let signal = UnsafeMutableBufferPointer<Float>.allocate(capacity: inRate)
        for i in 0..<inRate { signal[i] = Float(0.25 * sin(Double(i) * 0.1) + 0.1 * sin(Double(i) * 0.37)) }
        let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: outRate)
        for (name, make) in contenders {
            guard let stream = try? make(inRate, outRate) else { continue }
            let counts = StreamCounts()  // from the start of the stream, across benchmark runs
            Benchmark("resample \(inRate / 1000)k->\(outRate / 1000)k \(name)", configuration: config) { benchmark in
                var expected = counts.expected
                var produced = counts.produced
                var worstHeld = 0.0
                for _ in benchmark.scaledIterations {
                    for start in stride(from: 0, to: inRate, by: chunk) {
                        let made = stream.process(
                            UnsafeBufferPointer(rebasing: signal[start..<(start + chunk)]),
                            into: UnsafeMutableBufferPointer(rebasing: output[0..<(outRate / 2)]))
                        blackHole(output[0])
                        produced += made
                        expected += Double(chunk) * Double(outRate) / Double(inRate)
                        if expected > Double(outRate) / 5 { worstHeld = max(worstHeld, expected - Double(produced)) }
                    }
                }
                counts.expected = expected
                counts.produced = produced
                benchmark.measurement(withheld, Int(worstHeld / Double(outRate) * 1e6))
            }
        }
    }
}

/// Expected and produced output counts since a stream began.
final class StreamCounts {
    var expected = 0.0
    var produced = 0
}
