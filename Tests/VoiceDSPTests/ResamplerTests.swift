//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// The rate pairs the native engine must support (issue #3), both directions.
let nativePairs: [(Int, Int)] = [
    (8000, 16000), (16000, 8000), (8000, 24000), (24000, 8000), (16000, 24000), (24000, 16000),
    (8000, 48000), (48000, 8000), (16000, 48000), (48000, 16000), (24000, 48000), (48000, 24000),
    (8000, 32000), (32000, 48000),
]

/// Streams `input` through `resampler` in the given chunk sizes (cycled), then flushes.
func stream(_ resampler: Resampler, _ input: [Float], chunks: [Int]) -> [Float] {
    var output: [Float] = []
    var offset = 0
    var chunkIndex = 0
    var buffer = [Float](repeating: 0, count: resampler.maximumOutputCount(forInputCount: input.count))
    while offset < input.count {
        let count = min(chunks[chunkIndex % chunks.count], input.count - offset)
        chunkIndex += 1
        let made = input.withUnsafeBufferPointer { all in
            buffer.withUnsafeMutableBufferPointer {
                resampler.process(UnsafeBufferPointer(rebasing: all[offset..<(offset + count)]), into: $0)
            }
        }
        output += buffer[..<made]
        offset += count
    }
    let made = buffer.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
    output += buffer[..<made]
    return output
}

@Suite("Resampler: streaming behaviour")
struct ResamplerStreamingTests {
    @Test("one buffer and random chunkings of 1...N samples give bit-identical output", arguments: nativePairs)
    func chunkingInvariance(inputRate: Int, outputRate: Int) throws {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate)
        var rng = SplitMix64(seed: UInt64(inputRate * 7 + outputRate))
        let input = (0..<(inputRate / 10)).map { _ in Float(Int32(truncatingIfNeeded: rng.next())) / Float(Int32.max) }
        let whole = stream(resampler, input, chunks: [input.count])
        resampler.reset()
        #expect(stream(resampler, input, chunks: [1]) == whole)
        for maxChunk in [3, 17, 160, 1500] {
            resampler.reset()
            let chunks = (0..<64).map { _ in Int(rng.next() % UInt64(maxChunk)) + 1 }
            #expect(stream(resampler, input, chunks: chunks) == whole, "chunks up to \(maxChunk)")
        }
        #expect(whole.count == (input.count * outputRate + inputRate - 1) / inputRate)
    }

    @Test("a flushed stream has ceil(n * out / in) samples, for every length", arguments: [(8000, 16000), (24000, 8000), (16000, 24000)])
    func outputLength(inputRate: Int, outputRate: Int) throws {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate)
        for n in [0, 1, 2, 3, 5, 7, 100, 161] {
            let out = resampler.resample([Float](repeating: 0.25, count: n))
            #expect(out.count == (n * outputRate + inputRate - 1) / inputRate, "n = \(n)")
        }
    }

    @Test("output is aligned: an impulse comes out at its own time", arguments: nativePairs)
    func alignment(inputRate: Int, outputRate: Int) throws {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate)
        // The impulse sits at an input time that maps to a whole output sample.
        let divisor = gcd(inputRate, outputRate)
        let at = (inputRate / divisor) * 20
        var input = [Float](repeating: 0, count: at * 2)
        input[at] = 1
        let out = resampler.resample(input)
        let peak = out.indices.max { abs(out[$0]) < abs(out[$1]) }!
        #expect(peak == at * outputRate / inputRate)
    }

    @Test("reset starts a new stream; process after flush is refused until reset")
    func resetReuses() throws {
        let resampler = try Resampler(inputRate: 8000, outputRate: 16000)
        let input = Signals.sine(frequency: 440, sampleRate: 8000, count: 800)
        let first = resampler.resample(input)
        #expect(resampler.resample(input) == first)
        #expect(resampler.pendingOutputCount == 0)
    }

    @Test("16-bit streaming matches the Float path, rounded and clipped")
    func int16Path() throws {
        let resampler = try Resampler(inputRate: 8000, outputRate: 16000)
        let pcm: [Int16] = (0..<2000).map { Int16(30000 * sin(Double($0) * 0.3)) }
        let expected = resampler.resample(pcm.map { Float($0) / 32768 }).map(AudioClip.pcm16Sample)
        var output: [Int16] = []
        var buffer = [Int16](repeating: 0, count: resampler.maximumOutputCount(forInputCount: 2000))
        for start in stride(from: 0, to: 2000, by: 160) {
            let made = pcm.withUnsafeBufferPointer { all in
                buffer.withUnsafeMutableBufferPointer {
                    resampler.process(UnsafeBufferPointer(rebasing: all[start..<min(start + 160, 2000)]), into: $0)
                }
            }
            output += buffer[..<made]
        }
        let made = buffer.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
        output += buffer[..<made]
        #expect(output == expected)
    }

    @Test("bad rates and unsupported native ratios throw errors that name them")
    func errors() {
        #expect(throws: ResamplerError.invalidSampleRate(0)) { try Resampler(inputRate: 0, outputRate: 8000) }
        #expect(throws: ResamplerError.invalidSampleRate(1_000_000)) { try Resampler(inputRate: 8000, outputRate: 1_000_000) }
        #expect(throws: ResamplerError.unsupportedRatio(inputRate: 44100, outputRate: 8000)) {
            try Resampler(inputRate: 44100, outputRate: 8000, backend: .native)
        }
        #expect(
            ResamplerError.unsupportedRatio(inputRate: 44100, outputRate: 8000).description
                == "the native resampler does not support 44100 Hz to 8000 Hz; use libsamplerate")
    }

    @Test("ratios beyond the native engine go to libsamplerate automatically")
    func automaticBackend() throws {
        #expect(try Resampler(inputRate: 8000, outputRate: 16000).backend == .native)
        #expect(try Resampler(inputRate: 44100, outputRate: 8000).backend == .libsamplerate(.sincFastest))
        #expect(try Resampler(inputRate: 22050, outputRate: 8000, quality: .high).backend == .libsamplerate(.sincMedium))
    }
}

func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

/// The spec of issue #3, measured. With `f` the lower of the two rates: passband within ±0.1 dB from 100 Hz
/// to 0.425·f; when downsampling, input above 0.625·f at least 80 dB down; when upsampling, everything
/// but the tone (its images) at least 80 dB down for tones up to 0.375·f; a 1 kHz sine with at least 80 dB
/// SNR; at most 2 ms group delay. `high`: 100 dB from 0.55·f.
@Suite("Resampler: telephony and high quality specs, measured")
struct ResamplerSpecTests {
    struct Measured {
        var worstPassbandDeviationDB = 0.0
        var worstRejectionDB = -Double.infinity
        var sineSNR = 0.0
    }

    static func measure(_ resampler: Resampler, passband: Double, stopband: Double) -> Measured {
        let inRate = Double(resampler.inputRate)
        let outRate = Double(resampler.outputRate)
        let lower = min(inRate, outRate)
        let count = Int(inRate / 4)
        func run(_ f: Double) -> [Float] { resampler.resample(Signals.sine(frequency: f, sampleRate: inRate, count: count)) }
        func middle(_ out: [Float]) -> Range<Int> { (out.count / 4)..<(out.count * 3 / 4) }
        var result = Measured()
        // Passband, 29 tones from 100 Hz to the edge.
        for step in 0...28 {
            let f = 100 + (passband * lower - 100) * Double(step) / 28
            let out = run(f)
            let fit = Signals.fitSine(out, frequency: f, sampleRate: outRate, range: middle(out))
            result.worstPassbandDeviationDB = max(result.worstPassbandDeviationDB, abs(20 * log10(fit.amplitude / 0.5)))
        }
        if outRate < inRate {
            // Tones that would alias: from the stopband edge to the input Nyquist frequency.
            for step in 0...40 {
                let f = stopband * lower + (inRate / 2 - 1 - stopband * lower) * Double(step) / 40
                let out = run(f)
                let level = 20 * log10(Signals.rms(out, range: middle(out)) / (0.5 / 2.squareRoot()))
                result.worstRejectionDB = max(result.worstRejectionDB, level)
            }
        } else {
            // Tones whose images land in the stopband: everything but the tone is image (or noise).
            for step in 0...40 {
                let f = 100 + ((1 - stopband) * lower - 100) * Double(step) / 40
                let out = run(f)
                let fit = Signals.fitSine(out, frequency: f, sampleRate: outRate, range: middle(out))
                result.worstRejectionDB = max(result.worstRejectionDB, -fit.signalToResidualDB)
            }
        }
        let out = run(1000)
        result.sineSNR = Signals.fitSine(out, frequency: 1000, sampleRate: outRate, range: middle(out)).signalToResidualDB
        return result
    }

    @Test("telephony: ±0.1 dB passband, 80 dB rejection, 80 dB SNR, at most 2 ms delay", arguments: nativePairs)
    func telephony(inputRate: Int, outputRate: Int) throws {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate, quality: .telephony)
        let m = Self.measure(resampler, passband: 0.425, stopband: 0.625)
        #expect(m.worstPassbandDeviationDB <= 0.1)
        #expect(m.worstRejectionDB <= -80)
        #expect(m.sineSNR >= 80)
        #expect(resampler.latency.seconds <= 0.002)
    }

    @Test(
        "high: 100 dB rejection from 0.55 of the lower rate, passband to 0.45",
        arguments: [(8000, 16000), (16000, 8000), (24000, 8000), (8000, 48000)])
    func high(inputRate: Int, outputRate: Int) throws {
        let resampler = try Resampler(inputRate: inputRate, outputRate: outputRate, quality: .high)
        let m = Self.measure(resampler, passband: 0.45, stopband: 0.55)
        #expect(m.worstPassbandDeviationDB <= 0.1)
        #expect(m.worstRejectionDB <= -100)
        #expect(m.sineSNR >= 100)
        #expect(resampler.latency.seconds <= 0.005)
    }
}
