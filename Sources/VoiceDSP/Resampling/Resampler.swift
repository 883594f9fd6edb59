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

/// A streaming sample-rate converter for mono audio.
///
/// Feed chunks of any size with ``process(_:into:)-(UnsafeBufferPointer<Float>,_)``; output comes out as
/// soon as the filter has seen enough input; ``flush(into:)-(UnsafeMutableBufferPointer<Float>)`` ends the
/// stream and emits the rest; ``reset()`` starts a new stream with the same settings. Output is aligned
/// with the input: output sample `k` is the signal at input time `k · inputRate / outputRate`, and a
/// flushed stream of `n` inputs gives exactly `ceil(n · outputRate / inputRate)` outputs. The converter
/// holds back ``latency`` worth of audio, which is what it adds to a real-time path.
///
/// Two engines sit behind this one API:
/// - **native** (the default where it applies): a polyphase equiripple FIR (Parks–McClellan) with SIMD
///   sums, for ratios `up/down` with both at most 12 (every pair among 8, 16, 24, 32 and 48 kHz).
///   Feeding a signal in one piece or in chunks of any sizes gives bit-identical output.
/// - **libsamplerate** for any other ratio (e.g. 44.1 kHz or 22.05 kHz to 8 kHz), or when asked for.
///
/// ```swift
/// let resampler = try Resampler(inputRate: 8000, outputRate: 16000)   // telephony quality, native
/// var out = [Float](repeating: 0, count: resampler.maximumOutputCount(forInputCount: 160))
/// let n = frame.withUnsafeBufferPointer { input in
///     out.withUnsafeMutableBufferPointer { resampler.process(input, into: $0) }
/// }
/// ```
///
/// - Important: Not thread-safe: use one instance from one thread (or task) at a time.
/// - Note: `process` and `flush` are real-time safe (no allocation, no locks); `init` allocates.
public final class Resampler {
    /// How hard the filter works.
    public enum Quality: String, Sendable, Hashable, CaseIterable {
        /// The lowest latency that meets the telephony spec: with `f` the lower rate, flat within ±0.1 dB to
        /// 0.425·f (3.4 kHz at 8 kHz), at least 80 dB down from 0.625·f (5 kHz at 8 kHz).
        case telephony
        /// At least 100 dB down from 0.55·f with the passband to 0.45·f (flat within ±0.1 dB): cleaner, with
        /// about twice the delay and three times the CPU of `telephony`.
        case high
    }

    /// The converter types of libsamplerate.
    public enum LibSampleRateConverter: String, Sendable, Hashable, CaseIterable {
        /// `SRC_SINC_BEST_QUALITY`.
        case sincBest = "sinc-best"
        /// `SRC_SINC_MEDIUM_QUALITY`.
        case sincMedium = "sinc-medium"
        /// `SRC_SINC_FASTEST`.
        case sincFastest = "sinc-fastest"
        /// `SRC_ZERO_ORDER_HOLD`.
        case zeroOrderHold = "zero-order-hold"
        /// `SRC_LINEAR`.
        case linear

        var code: Int32 {
            switch self {
            case .sincBest: 0
            case .sincMedium: 1
            case .sincFastest: 2
            case .zeroOrderHold: 3
            case .linear: 4
            }
        }
    }

    /// Which engine converts.
    public enum Backend: Sendable, Hashable {
        /// Native where the ratio allows, else libsamplerate with a converter matching the quality.
        case automatic
        /// The native polyphase engine; fails for ratios it does not support.
        case native
        /// libsamplerate with the given converter.
        case libsamplerate(LibSampleRateConverter)
    }

    /// Latency, in the units that matter to each side.
    public struct Latency: Sendable, Equatable {
        /// In input samples.
        public var inputSamples: Double
        /// In output samples.
        public var outputSamples: Double
        /// In seconds.
        public var seconds: Double
    }

    /// The input sample rate, in Hz.
    public let inputRate: Int
    /// The output sample rate, in Hz.
    public let outputRate: Int
    /// The quality asked for.
    public let quality: Quality
    /// The engine in use (never `.automatic`).
    public let backend: Backend

    private let engine: Engine
    /// Conversion space for the Int16 entry points, allocated once.
    private let scratchIn: UnsafeMutableBufferPointer<Float>
    private let scratchOut: UnsafeMutableBufferPointer<Float>
    private static let scratchBlock = 1024

    private enum Engine {
        case native(PolyphaseResampler)
        case libsamplerate(LibSampleRateResampler)
    }

    /// The largest `up` or `down` of a reduced ratio the native engine takes.
    public static let maximumNativeFactor = 12

    /// Creates a resampler.
    ///
    /// - Parameters:
    ///   - inputRate: Input samples per second, 1...768,000.
    ///   - outputRate: Output samples per second, 1...768,000.
    ///   - quality: Filter quality; for libsamplerate it picks the converter when `backend` is `.automatic`
    ///     (`telephony` → `SRC_SINC_FASTEST`, `high` → `SRC_SINC_MEDIUM_QUALITY`).
    ///   - backend: Which engine; by default native where the ratio allows.
    /// - Throws: ``ResamplerError`` for impossible rates, a ratio the native engine does not support when
    ///   `.native` is asked for, or a libsamplerate failure.
    public init(
        inputRate: Int, outputRate: Int, quality: Quality = .telephony, backend: Backend = .automatic
    ) throws(ResamplerError) {
        for rate in [inputRate, outputRate] where !(1...768_000).contains(rate) {
            throw .invalidSampleRate(rate)
        }
        self.inputRate = inputRate
        self.outputRate = outputRate
        self.quality = quality
        let divisor = Self.gcd(inputRate, outputRate)
        let up = outputRate / divisor
        let down = inputRate / divisor
        let nativeFits = up <= Self.maximumNativeFactor && down <= Self.maximumNativeFactor

        let useNative: Bool
        let converter: LibSampleRateConverter
        switch backend {
        case .native:
            guard nativeFits else { throw .unsupportedRatio(inputRate: inputRate, outputRate: outputRate) }
            (useNative, converter) = (true, .sincFastest)
        case .automatic:
            (useNative, converter) = (nativeFits, quality == .telephony ? .sincFastest : .sincMedium)
        case .libsamplerate(let chosen):
            (useNative, converter) = (false, chosen)
        }
        if useNative {
            engine = .native(Self.makeNative(up: up, down: down, inputRate: inputRate, quality: quality))
            self.backend = .native
        } else {
            engine = .libsamplerate(
                try LibSampleRateResampler(ratio: Double(outputRate) / Double(inputRate), converter: converter.code))
            self.backend = .libsamplerate(converter)
        }
        scratchIn = .allocate(capacity: Self.scratchBlock)
        scratchIn.initialize(repeating: 0)
        // Room for one block's outputs, or for the longest flush tail: the look-ahead plus a sample.
        let lookAhead =
            switch engine {
            case .native(let e): Int((e.latencyInInputSamples + 2).rounded(.up))
            case .libsamplerate(let e): Int((e.latencyInInputSamples + 2).rounded(.up))
            }
        let scratchOutCount =
            switch engine {
            case .native(let e): e.maximumOutputCount(forInputCount: Swift.max(Self.scratchBlock, lookAhead))
            case .libsamplerate(let e): e.maximumOutputCount(forInputCount: Swift.max(Self.scratchBlock, lookAhead))
            }
        scratchOut = .allocate(capacity: scratchOutCount)
        scratchOut.initialize(repeating: 0)
    }

    deinit {
        scratchIn.deallocate()
        scratchOut.deallocate()
    }

    /// The prototype filter for `quality`, at `up × inputRate`, with band edges relative to the lower rate:
    /// equiripple, passband ripple ±0.05 dB (half the spec's allowance), stopband 2 dB beyond the spec.
    /// Upsampling by `L` puts a tone's energy into `L − 1` images at once, each at most the stopband level,
    /// so the stopband goes `10·log10(L − 1)` dB deeper to keep their sum (the sine's SNR) within spec.
    private static func makeNative(up: Int, down: Int, inputRate: Int, quality: Quality) -> PolyphaseResampler {
        let filterRate = Double(up * inputRate)
        let lowerRate = Double(inputRate) * Double(Swift.min(up, down)) / Double(down)
        let images = 10 * log10(Double(Swift.max(1, up - 1)))
        let (pass, stop, attenuation): (Double, Double, Double) =
            switch quality {
            case .telephony: (0.425, 0.625, 82 + images)
            case .high: (0.45, 0.55, 102 + images)
            }
        let filter = EquirippleLowpass(
            passbandEdge: pass * lowerRate / filterRate, stopbandEdge: stop * lowerRate / filterRate,
            passbandRipple: Self.decibelsToAmplitude(0.05) - 1, stopbandRipple: Self.decibelsToAmplitude(-attenuation),
            gain: Double(up))
        return PolyphaseResampler(up: up, down: down, taps: filter.taps)
    }

    private static func decibelsToAmplitude(_ decibels: Double) -> Double { pow(10, decibels / 20) }

    private static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    /// How long the converter holds audio back: the group delay of its filter.
    public var latency: Latency {
        let input =
            switch engine {
            case .native(let e): e.latencyInInputSamples
            case .libsamplerate(let e): e.latencyInInputSamples
            }
        return Latency(
            inputSamples: input, outputSamples: input * Double(outputRate) / Double(inputRate),
            seconds: input / Double(inputRate))
    }

    /// The most output samples one ``process(_:into:)-(UnsafeBufferPointer<Float>,_)`` call with `count` input
    /// samples can produce: size the output buffer with it.
    public func maximumOutputCount(forInputCount count: Int) -> Int {
        switch engine {
        case .native(let e): e.maximumOutputCount(forInputCount: count)
        case .libsamplerate(let e): e.maximumOutputCount(forInputCount: count)
        }
    }

    /// The number of samples ``flush(into:)-(UnsafeMutableBufferPointer<Float>)`` will emit now.
    public var pendingOutputCount: Int {
        switch engine {
        case .native(let e): e.pendingOutputCount
        case .libsamplerate(let e): e.pendingOutputCount
        }
    }

    /// Converts a chunk of Float32 samples.
    ///
    /// - Parameters:
    ///   - input: The next samples of the stream, any number.
    ///   - output: Receives the outputs that became available; must hold
    ///     ``maximumOutputCount(forInputCount:)`` samples.
    /// - Returns: The number of samples written to `output`.
    /// - Precondition: `output` is large enough, and the stream has not been flushed.
    /// - Complexity: O(input + output × taps). Real-time safe: no allocation, no locks.
    public func process(_ input: UnsafeBufferPointer<Float>, into output: UnsafeMutableBufferPointer<Float>) -> Int {
        switch engine {
        case .native(let e): e.process(input, into: output)
        case .libsamplerate(let e): e.process(input, into: output)
        }
    }

    /// Ends the stream: emits every output still owed (as if the input continued with silence).
    ///
    /// - Parameter output: Must hold ``pendingOutputCount`` samples.
    /// - Returns: The number of samples written. Further calls return 0 until ``reset()``.
    public func flush(into output: UnsafeMutableBufferPointer<Float>) -> Int {
        switch engine {
        case .native(let e): e.flush(into: output)
        case .libsamplerate(let e): e.flush(into: output)
        }
    }

    /// Forgets the stream: the next sample processed is the first of a new one. Keeps the filter.
    public func reset() {
        switch engine {
        case .native(let e): e.reset()
        case .libsamplerate(let e): e.reset()
        }
    }

    /// Converts a chunk of 16-bit samples (scaled by 1/32768 on the way in; rounded and clipped on the
    /// way out).
    ///
    /// - Parameters:
    ///   - input: The next samples of the stream, any number.
    ///   - output: Must hold ``maximumOutputCount(forInputCount:)`` samples.
    /// - Returns: The number of samples written to `output`.
    /// - Complexity: O(input + output × taps). Real-time safe: no allocation, no locks.
    public func process(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        precondition(
            output.count >= maximumOutputCount(forInputCount: input.count),
            "Resampler: output holds \(output.count) samples, need up to \(maximumOutputCount(forInputCount: input.count))")
        var consumed = 0
        var produced = 0
        while consumed < input.count {
            let count = Swift.min(Self.scratchBlock, input.count - consumed)
            for i in 0..<count { scratchIn[i] = Float(input[consumed + i]) * (1 / 32768) }
            let made = process(UnsafeBufferPointer(rebasing: scratchIn[..<count]), into: scratchOut)
            for i in 0..<made { output[produced + i] = AudioClip.pcm16Sample(scratchOut[i]) }
            consumed += count
            produced += made
        }
        return produced
    }

    /// Ends a 16-bit stream. See ``flush(into:)-(UnsafeMutableBufferPointer<Float>)``.
    ///
    /// - Parameter output: Must hold ``pendingOutputCount`` samples.
    /// - Returns: The number of samples written.
    public func flush(into output: UnsafeMutableBufferPointer<Int16>) -> Int {
        let owed = pendingOutputCount
        precondition(output.count >= owed, "Resampler: flush needs room for \(owed) samples, got \(output.count)")
        // scratchOut is sized at init for the largest tail (see init), so the whole tail fits.
        let made = flush(into: UnsafeMutableBufferPointer(rebasing: scratchOut[..<owed]))
        for i in 0..<made { output[i] = AudioClip.pcm16Sample(scratchOut[i]) }
        return made
    }

    /// Converts a whole recording (allocates; for files and tests, not for the audio path).
    ///
    /// - Parameter samples: The complete input.
    /// - Returns: The complete, aligned output: `ceil(samples.count · outputRate / inputRate)` samples.
    public func resample(_ samples: [Float]) -> [Float] {
        reset()
        var output = [Float](repeating: 0, count: maximumOutputCount(forInputCount: samples.count))
        let processed = samples.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { process(input, into: $0) }
        }
        output.removeSubrange(processed...)
        output += [Float](repeating: 0, count: pendingOutputCount)
        _ = output.withUnsafeMutableBufferPointer { flush(into: UnsafeMutableBufferPointer(rebasing: $0[processed...])) }
        reset()
        return output
    }
}

@available(*, unavailable)
extension Resampler: Sendable {}
