//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// The prompts of TestVectors/speech/demo-call.wav (sample ranges at 8 kHz, from that folder's README).
let demoPrompts: [Range<Int>] = [
    0..<6291, 14291..<30609, 33009..<38987, 41387..<48385, 50785..<58075, 60475..<70436, 78436..<95766,
    103766..<111225,
]

/// Per-frame decisions (20 ms frames) for a whole signal.
func decisions(
    _ samples: [Float], rate: Int = 8000, sensitivity: Double = 0.5, model: VoiceActivityDetector.Model = .silero
) throws -> [Bool] {
    let detector = try VoiceActivityDetector(
        configuration: .init(sampleRate: rate, frameDuration: .milliseconds20, sensitivity: sensitivity, model: model))
    let length = detector.frameLength
    return stride(from: 0, to: samples.count - length + 1, by: length).map { start in
        samples.withUnsafeBufferPointer { detector.process(UnsafeBufferPointer(rebasing: $0[start..<(start + length)])).isSpeech }
    }
}

/// The share of frames inside `range` (in samples, 20 ms frames at `rate`) marked as speech.
func speechShare(_ frames: [Bool], in range: Range<Int>, rate: Int = 8000) -> Double {
    let frame = rate / 50
    let indices = (range.lowerBound / frame)..<min(frames.count, range.upperBound / frame)
    guard !indices.isEmpty else { return 0 }
    return Double(indices.filter { frames[$0] }.count) / Double(indices.count)
}

func whiteNoise(count: Int, rms: Double, seed: UInt64) -> [Float] {
    var rng = SplitMix64(seed: seed)
    return (0..<count).map { _ in
        // Sum of uniforms: close enough to Gaussian for a noise floor.
        var sum = 0.0
        for _ in 0..<4 { sum += Double(rng.next() % 1_000_000) / 1_000_000 - 0.5 }
        return Float(sum * rms * 1.732)
    }
}

@Suite("VoiceActivityDetector")
struct VoiceActivityDetectorTests {
    static let speech: [Float] = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.samples

    /// Each prompt trimmed to where its samples first and last exceed −40 dBFS: the speech itself.
    static let spoken: [Range<Int>] = demoPrompts.map { prompt in
        let loud = prompt.filter { abs(speech[$0]) > 0.01 }
        return loud.first!..<(loud.last! + 1)
    }

    /// The silent gaps between prompts, with 150 ms margins for the detector's release.
    static var gaps: [Range<Int>] {
        zip(demoPrompts, demoPrompts.dropFirst()).map { ($0.upperBound + 1200)..<($1.lowerBound - 400) }.filter { !$0.isEmpty }
    }

    @Test(
        "finds the speech of each prompt of clean recorded speech and nothing in the pauses",
        arguments: VoiceActivityDetector.Model.allCases)
    func cleanSpeech(model: VoiceActivityDetector.Model) throws {
        let frames = try decisions(Self.speech, model: model)
        // 75 %: short words lose up to a chunk (32 ms) at the onset and the smoother at the end.
        for prompt in Self.spoken { #expect(speechShare(frames, in: prompt) >= 0.75, "prompt \(prompt)") }
        for gap in Self.gaps { #expect(speechShare(frames, in: gap) <= 0.1, "gap \(gap)") }
    }

    @Test(
        "still finds the prompts through a telephone channel: mu-law and white noise at 10 dB SNR",
        arguments: VoiceActivityDetector.Model.allCases)
    func noisyTelephoneSpeech(model: VoiceActivityDetector.Model) throws {
        let speechPower =
            demoPrompts.reduce(0.0) { total, prompt in
                total + prompt.reduce(0.0) { $0 + Double(Self.speech[$1] * Self.speech[$1]) }
            } / Double(demoPrompts.reduce(0) { $0 + $1.count })
        let noise = whiteNoise(count: Self.speech.count, rms: (speechPower / 10).squareRoot(), seed: 5)
        let noisy = zip(Self.speech, noise).map { speech, noise in
            Float(MuLaw.decode(MuLaw.encode(AudioClip.pcm16Sample(speech + noise)))) / 32768
        }
        let frames = try decisions(noisy, model: model)
        let found = Self.spoken.map { speechShare(frames, in: $0) }
        #expect(found.reduce(0, +) / Double(found.count) >= 0.6, "\(found)")
        for gap in Self.gaps { #expect(speechShare(frames, in: gap) <= 0.2, "gap \(gap)") }
    }

    @Test("silence, steady noise and hum are not speech once the noise floor is learnt", arguments: VoiceActivityDetector.Model.allCases)
    func nonSpeech(model: VoiceActivityDetector.Model) throws {
        let rate = 8000.0
        let count = 8000 * 6
        var hum = [Float](repeating: 0, count: count)
        for n in 0..<count {
            let t = Double(n) / rate
            hum[n] = Float(0.05 * sin(2 * .pi * 60 * t) + 0.03 * sin(2 * .pi * 180 * t) + 0.02 * sin(2 * .pi * 300 * t))
        }
        let signals: [(String, [Float])] = [
            ("silence", [Float](repeating: 0, count: count)),
            ("white noise", whiteNoise(count: count, rms: 0.03, seed: 9)),
            ("hum", hum),
        ]
        for (name, signal) in signals {
            let frames = try decisions(signal, model: model)
            let share = speechShare(frames, in: 4000..<count)  // after 0.5 s
            #expect(share <= 0.05, "\(name): \(share)")
        }
    }

    @Test("every frame size finds about the same share of speech", arguments: VoiceActivityDetector.FrameDuration.allCases)
    func frameSizes(duration: VoiceActivityDetector.FrameDuration) throws {
        let detector = try VoiceActivityDetector(configuration: .init(frameDuration: duration))
        let length = detector.frameLength
        #expect(length == 80 * duration.rawValue / 10)
        var speechFrames = 0
        let samples = Array(Self.speech[..<48000])
        for start in stride(from: 0, to: samples.count - length + 1, by: length) {
            let decision = samples.withUnsafeBufferPointer {
                detector.process(UnsafeBufferPointer(rebasing: $0[start..<(start + length)]))
            }
            #expect((0...1).contains(decision.probability))
            if decision.isSpeech { speechFrames += length }
        }
        // About the same share of speech whatever the frame size.
        let share = Double(speechFrames) / Double(samples.count)
        #expect((0.45...0.75).contains(share), "\(share)")
    }

    @Test("16 kHz input behaves like 8 kHz input", arguments: VoiceActivityDetector.Model.allCases)
    func sixteenKilohertz(model: VoiceActivityDetector.Model) throws {
        let wide = try Resampler(inputRate: 8000, outputRate: 16000).resample(Self.speech)
        let frames = try decisions(wide, rate: 16000, model: model)
        for prompt in Self.spoken {
            let scaled = (prompt.lowerBound * 2)..<(prompt.upperBound * 2)
            #expect(speechShare(frames, in: scaled, rate: 16000) >= 0.8)
        }
    }

    @Test("Silero does not take DTMF digits for speech")
    func dtmf() throws {
        let digits: [(Double, Double)] = [(697, 1209), (770, 1336), (852, 1477), (941, 1336)]
        let signal: [Float] = (0..<48000).map { n in
            let t = Double(n) / 8000
            let digit = digits[(n / 1600) % digits.count]
            return n % 1600 < 800 ? Float(0.2 * sin(2 * .pi * digit.0 * t) + 0.2 * sin(2 * .pi * digit.1 * t)) : 0
        }
        #expect(speechShare(try decisions(signal), in: 0..<48000) <= 0.05)
    }

    @Test("Int16 frames give the same decisions as Float frames", arguments: VoiceActivityDetector.Model.allCases)
    func int16Frames(model: VoiceActivityDetector.Model) throws {
        let floats = try VoiceActivityDetector(configuration: .init(model: model))
        let ints = try VoiceActivityDetector(configuration: .init(model: model))
        let pcm = AudioClip(sampleRate: 8000, samples: Array(Self.speech[..<16000])).pcm16
        let asFloat = pcm.map { Float($0) / 32768 }
        for start in stride(from: 0, to: 16000, by: 160) {
            let a = asFloat.withUnsafeBufferPointer { floats.process(UnsafeBufferPointer(rebasing: $0[start..<(start + 160)])) }
            let b = pcm.withUnsafeBufferPointer { ints.process(UnsafeBufferPointer(rebasing: $0[start..<(start + 160)])) }
            #expect(a == b)
        }
    }

    @Test("bad settings throw errors that name them")
    func errors() {
        #expect(throws: VoiceActivityDetector.ConfigurationError.unsupportedSampleRate(44100)) {
            try VoiceActivityDetector(configuration: .init(sampleRate: 44100))
        }
        #expect(throws: VoiceActivityDetector.ConfigurationError.invalidSensitivity(2)) {
            try VoiceActivityDetector(configuration: .init(sensitivity: 2))
        }
    }
}
