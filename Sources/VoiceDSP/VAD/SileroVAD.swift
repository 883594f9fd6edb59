//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import CSileroVADWeights

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Silero VAD (v6.2.3, MIT licence, © Silero Team) run by VoicePipe's own code: the network of
/// `silero_vad.onnx`, written out step by step after TestVectors/silero/README.md, on the weights that
/// TestVectors/silero/extract_weights.py takes from the PyPI package (compiled in from
/// `CSileroVADWeights`).
///
/// One call takes 256 new samples at 8 kHz (512 at 16 kHz) and returns a speech probability:
/// context (the previous call's last 32/64 samples) + new samples → reflection padding → STFT as a
/// convolution with a Hann-windowed DFT basis → magnitudes → four 3-tap convolutions with ReLU (strides
/// 1, 2, 2, 1) → one LSTM step (128 cells, carried between calls) → ReLU → linear → sigmoid.
/// About 384,000 multiply-adds a call at 8 kHz. Real-time safe after init.
///
/// This is the raw model, one probability per 32 ms chunk; ``VoiceActivityDetector`` wraps it for frames
/// of 10/20/30 ms with a decision threshold and hysteresis.
///
/// - Important: Not thread-safe: one instance per stream.
public final class SileroVAD {
    /// 8,000 or 16,000 Hz.
    public let sampleRate: Int
    /// New samples per call of ``process(_:)``: 256 at 8 kHz, 512 at 16 kHz (32 ms).
    public let chunk: Int
    let contextLength: Int
    let kernel: Int
    let stride: Int
    let bins: Int
    static let frames = 4
    static let hidden = 128

    private let basis: UnsafePointer<Float>
    private let encoderWeights: [UnsafePointer<Float>]
    private let encoderBiases: [UnsafePointer<Float>]
    private let encoderShapes: [(output: Int, input: Int, stride: Int)]
    private let inputWeights: UnsafePointer<Float>
    private let hiddenWeights: UnsafePointer<Float>
    private let lstmBias: UnsafePointer<Float>
    private let decoderWeights: UnsafePointer<Float>
    private let decoderBias: Float

    // State carried between calls.
    private let context: UnsafeMutablePointer<Float>
    private let h: UnsafeMutablePointer<Float>
    private let c: UnsafeMutablePointer<Float>
    // Scratch.
    private let padded: UnsafeMutablePointer<Float>
    private let spectrum: UnsafeMutablePointer<Float>
    private let layers: [UnsafeMutablePointer<Float>]
    private let column: UnsafeMutablePointer<Float>
    private let gates: UnsafeMutablePointer<Float>
    private let hiddenProducts: UnsafeMutablePointer<Float>

    /// Creates the model for a sample rate.
    ///
    /// - Parameter sampleRate: 8,000 or 16,000.
    /// - Throws: ``VoiceActivityDetector/ConfigurationError/unsupportedSampleRate(_:)`` for other rates.
    public init(sampleRate: Int) throws(VoiceActivityDetector.ConfigurationError) {
        guard sampleRate == 8000 || sampleRate == 16000 else { throw .unsupportedSampleRate(sampleRate) }
        self.sampleRate = sampleRate
        let wide = sampleRate == 16000
        chunk = wide ? 512 : 256
        contextLength = wide ? 64 : 32
        kernel = wide ? 256 : 128
        stride = wide ? 128 : 64
        bins = kernel / 2 + 1
        let weights = wide ? csilero_vad_weights_16k()! : csilero_vad_weights_8k()!
        let weightCount = Int(wide ? csilero_vad_weight_count_16k() : csilero_vad_weight_count_8k())
        // The tensors lie one after another in the order of silero_vad_{8k,16k}.json.
        var offset = 0
        func take(_ count: Int) -> UnsafePointer<Float> {
            defer { offset += count }
            return weights + offset
        }
        basis = take(2 * bins * kernel)
        encoderShapes = [(128, bins, 1), (64, 128, 2), (64, 64, 2), (128, 64, 1)]
        var encoderWeights: [UnsafePointer<Float>] = []
        var encoderBiases: [UnsafePointer<Float>] = []
        for shape in encoderShapes {
            encoderWeights.append(take(shape.output * shape.input * 3))
            encoderBiases.append(take(shape.output))
        }
        self.encoderWeights = encoderWeights
        self.encoderBiases = encoderBiases
        inputWeights = take(4 * Self.hidden * Self.hidden)
        hiddenWeights = take(4 * Self.hidden * Self.hidden)
        lstmBias = take(4 * Self.hidden)
        decoderWeights = take(Self.hidden)
        decoderBias = take(1).pointee
        precondition(offset == weightCount, "Silero weights: unexpected layout")

        context = .allocate(capacity: contextLength)
        h = .allocate(capacity: Self.hidden)
        c = .allocate(capacity: Self.hidden)
        padded = .allocate(capacity: contextLength + chunk + contextLength)
        spectrum = .allocate(capacity: 2 * bins * Self.frames)
        layers = [128 * 4, 64 * 2, 64, 128].map { UnsafeMutablePointer<Float>.allocate(capacity: $0) }
        column = .allocate(capacity: 128 * 3 + 8)
        // Also the product buffer of the STFT (2 × 129 rows at 16 kHz) and the encoder layers.
        gates = .allocate(capacity: Swift.max(4 * Self.hidden, 2 * bins))
        hiddenProducts = .allocate(capacity: 4 * Self.hidden)
        reset()
    }

    deinit {
        context.deallocate()
        h.deallocate()
        c.deallocate()
        padded.deallocate()
        spectrum.deallocate()
        for layer in layers { layer.deallocate() }
        column.deallocate()
        gates.deallocate()
        hiddenProducts.deallocate()
    }

    /// Zero state and context, as at the start of a stream.
    public func reset() {
        context.initialize(repeating: 0, count: contextLength)
        h.initialize(repeating: 0, count: Self.hidden)
        c.initialize(repeating: 0, count: Self.hidden)
    }

    /// One call: the next ``chunk`` samples (nominally −1...1) → the speech probability, 0...1.
    ///
    /// - Complexity: About 384,000 multiply-adds at 8 kHz. Real-time safe: no allocation, no locks.
    public func process(_ samples: UnsafePointer<Float>) -> Float {
        // Context + new samples, then reflection padding on the right (the edge sample not repeated).
        let length = contextLength + chunk
        padded.update(from: context, count: contextLength)
        (padded + contextLength).update(from: samples, count: chunk)
        for j in 0..<contextLength { padded[length + j] = padded[length - 2 - j] }
        context.update(from: padded + chunk, count: contextLength)

        // STFT as a convolution: rows 0..<bins are real parts, bins..<2·bins imaginary; then magnitudes,
        // laid out [bin][frame].
        let magnitudes = spectrum
        for t in 0..<Self.frames {
            Self.multiply(basis, rows: 2 * bins, columns: kernel, by: padded + t * stride, into: gates)
            for f in 0..<bins {
                let re = gates[f]
                let im = gates[bins + f]
                magnitudes[f * Self.frames + t] = (re * re + im * im).squareRoot()
            }
        }

        // Encoder: four 3-tap convolutions, zero padding 1, ReLU.
        var input = UnsafePointer(magnitudes)
        var steps = Self.frames
        for (index, shape) in encoderShapes.enumerated() {
            let outputSteps = (steps + 2 - 3) / shape.stride + 1
            let output = layers[index]
            for t in 0..<outputSteps {
                // The receptive field of step t as one contiguous column [channel][tap].
                let centre = t * shape.stride
                let hasLeft = centre >= 1
                let hasRight = centre + 1 < steps
                for i in 0..<shape.input {
                    let row = input + i * steps + centre
                    column[i * 3] = hasLeft ? row[-1] : 0
                    column[i * 3 + 1] = row[0]
                    column[i * 3 + 2] = hasRight ? row[1] : 0
                }
                Self.multiply(
                    encoderWeights[index], rows: shape.output, columns: shape.input * 3, by: column, into: gates)
                for o in 0..<shape.output {
                    output[o * outputSteps + t] = Swift.max(0, encoderBiases[index][o] + gates[o])
                }
            }
            input = UnsafePointer(output)
            steps = outputSteps
        }

        // One LSTM step, gates in the order i, f, g, o.
        let n = Self.hidden
        Self.multiply(inputWeights, rows: 4 * n, columns: n, by: input, into: gates)
        Self.multiply(hiddenWeights, rows: 4 * n, columns: n, by: h, into: hiddenProducts)
        for g in 0..<(4 * n) { gates[g] += lstmBias[g] + hiddenProducts[g] }
        var logit = decoderBias
        for j in 0..<n {
            let inputGate = Self.sigmoid(gates[j])
            let forgetGate = Self.sigmoid(gates[n + j])
            let candidate = tanhf(gates[2 * n + j])
            let outputGate = Self.sigmoid(gates[3 * n + j])
            c[j] = forgetGate * c[j] + inputGate * candidate
            h[j] = outputGate * tanhf(c[j])
            logit += decoderWeights[j] * Swift.max(0, h[j])
        }
        return Self.sigmoid(logit)
    }

    @inline(__always)
    static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// `output[r] = Σ_j matrix[r][j] · vector[j]` for a row-major `rows × columns` matrix: four rows at a
    /// time, so each load of the vector serves four rows.
    static func multiply(
        _ matrix: UnsafePointer<Float>, rows: Int, columns: Int, by vector: UnsafePointer<Float>,
        into output: UnsafeMutablePointer<Float>
    ) {
        let x = UnsafeRawPointer(vector)
        let whole = columns / 8 * 8
        var r = 0
        while r + 4 <= rows {
            let w0 = UnsafeRawPointer(matrix + r * columns)
            let w1 = UnsafeRawPointer(matrix + (r + 1) * columns)
            let w2 = UnsafeRawPointer(matrix + (r + 2) * columns)
            let w3 = UnsafeRawPointer(matrix + (r + 3) * columns)
            var a0 = SIMD8<Float>()
            var a1 = SIMD8<Float>()
            var a2 = SIMD8<Float>()
            var a3 = SIMD8<Float>()
            var j = 0
            while j < whole {
                let v = x.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
                a0 += w0.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * v
                a1 += w1.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * v
                a2 += w2.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * v
                a3 += w3.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * v
                j += 8
            }
            var s0 = horizontalSum(a0)
            var s1 = horizontalSum(a1)
            var s2 = horizontalSum(a2)
            var s3 = horizontalSum(a3)
            while j < columns {
                let v = vector[j]
                s0 += matrix[r * columns + j] * v
                s1 += matrix[(r + 1) * columns + j] * v
                s2 += matrix[(r + 2) * columns + j] * v
                s3 += matrix[(r + 3) * columns + j] * v
                j += 1
            }
            output[r] = s0
            output[r + 1] = s1
            output[r + 2] = s2
            output[r + 3] = s3
            r += 4
        }
        while r < rows {
            output[r] = dot(matrix + r * columns, vector, columns)
            r += 1
        }
    }

    @inline(__always)
    static func horizontalSum(_ v: SIMD8<Float>) -> Float {
        let half = v.lowHalf + v.highHalf
        return (half[0] + half[2]) + (half[1] + half[3])
    }

    /// Σ a[i]·b[i], 8 lanes at a time.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        let rawA = UnsafeRawPointer(a)
        let rawB = UnsafeRawPointer(b)
        var sum0 = SIMD8<Float>()
        var sum1 = SIMD8<Float>()
        var i = 0
        while i + 16 <= count {
            sum0 +=
                rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            sum1 +=
                rawA.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4 + 32, as: SIMD8<Float>.self)
            i += 16
        }
        if i + 8 <= count {
            sum0 +=
                rawA.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
                * rawB.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self)
            i += 8
        }
        let total = sum0 + sum1
        let half = total.lowHalf + total.highHalf
        var result = (half[0] + half[2]) + (half[1] + half[3])
        while i < count {
            result += a[i] * b[i]
            i += 1
        }
        return result
    }
}

@available(*, unavailable)
extension SileroVAD: Sendable {}
