//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// VoicePipe's Silero VAD against the official model's outputs (onnxruntime, TestVectors/silero/make_golden.py).
/// Tolerance 1e-5 per chunk: the NumPy re-implementation agrees with onnxruntime to 1.1e-6, the rest is
/// float32 summation order.
@Suite("Silero VAD port against onnxruntime golden vectors")
struct SileroVADTests {
    static func floats(_ name: String) throws -> [Float] {
        try TestVectors.floatLittleEndian("silero/\(name)")
    }

    static func run(_ samples: [Float], rate: Int) -> [Float] {
        let model = try! SileroVAD(sampleRate: rate)
        var padded = samples
        let chunk = model.chunk
        if padded.count % chunk != 0 { padded += [Float](repeating: 0, count: chunk - padded.count % chunk) }
        return stride(from: 0, to: padded.count, by: chunk).map { start in
            padded.withUnsafeBufferPointer { model.process($0.baseAddress! + start) }
        }
    }

    @Test(
        "per-chunk probabilities match onnxruntime within 1e-5",
        arguments: [
            ("speech/demo-call.wav", "silero/demo-call_8k.probs.f32", 8000),
            ("silero/noise_8k.in.f32", "silero/noise_8k.probs.f32", 8000),
            ("silero/speech_16k.in.f32", "silero/speech_16k.probs.f32", 16000),
            ("silero/noise_16k.in.f32", "silero/noise_16k.probs.f32", 16000),
        ])
    func matchesOnnxRuntime(input: String, golden: String, rate: Int) throws {
        let samples =
            input.hasSuffix(".wav")
            ? try WAVFile(path: TestVectors.path(input)).clip.samples
            : try Self.floats(String(input.dropFirst("silero/".count)))
        let expected = try Self.floats(String(golden.dropFirst("silero/".count)))
        let ours = Self.run(samples, rate: rate)
        try #require(ours.count == expected.count, "\(ours.count) vs \(expected.count) chunks")
        let worst = zip(ours, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(worst <= 1e-5, "max difference \(worst)")
    }
}
