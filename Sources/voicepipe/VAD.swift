//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import VoiceDSP

/// `voicepipe vad IN.wav [--json] [--sensitivity S] [--model M]`: prints the speech segments found.
struct VAD: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vad",
        abstract: "Print the speech segments of a WAV file.",
        discussion: """
            Runs VoicePipe's voice activity detector (Silero by default) over 20 ms frames (at 8 kHz, or 16 kHz for inputs of \
            16 kHz and above; other rates are resampled) and prints each speech segment as start and end \
            in seconds. With --json, prints exactly one JSON object: {"segments": [{"start": 0.52, \
            "end": 1.84}, ...]}.
            """
    )

    @Argument(help: "The input WAV file.")
    var input: String

    @Flag(help: "Print one JSON object instead of lines.")
    var json = false

    @Option(help: "0 (conservative) to 1 (eager).")
    var sensitivity: Double = 0.5

    @Option(help: "Detector: silero (accurate, default) or classic (cheaper, fooled by music and tones).")
    var model: VoiceActivityDetector.Model = .silero

    func run() throws {
        do {
            var clip = try WAVFile(path: input, channels: .downmix).clip
            let rate = clip.sampleRate >= 16000 ? 16000 : 8000
            if clip.sampleRate != rate {
                clip = AudioClip(
                    sampleRate: rate,
                    samples: try Resampler(inputRate: clip.sampleRate, outputRate: rate, quality: .high)
                        .resample(clip.samples))
            }
            let detector = try VoiceActivityDetector(
                configuration: .init(
                    sampleRate: rate, frameDuration: .milliseconds20, sensitivity: sensitivity, model: model))
            let segments = Self.segments(of: clip, detector: detector)
            if json {
                let items = segments.map { "{\"start\": \(seconds($0.lowerBound, rate)), \"end\": \(seconds($0.upperBound, rate))}" }
                print("{\"segments\": [\(items.joined(separator: ", "))]}")
            } else {
                for segment in segments {
                    print("\(seconds(segment.lowerBound, rate)) - \(seconds(segment.upperBound, rate))")
                }
            }
        } catch let error as WAVError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as ResamplerError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as VoiceActivityDetector.ConfigurationError {
            printError(error.description)
            throw ExitCode(1)
        }
    }

    /// Runs of speech frames, in samples (a partial last frame is padded with silence).
    static func segments(of clip: AudioClip, detector: VoiceActivityDetector) -> [Range<Int>] {
        let length = detector.frameLength
        var frame = [Float](repeating: 0, count: length)
        var segments: [Range<Int>] = []
        var runStart: Int? = nil
        var start = 0
        while start < clip.samples.count {
            let count = min(length, clip.samples.count - start)
            for i in 0..<length { frame[i] = i < count ? clip.samples[start + i] : 0 }
            let decision = frame.withUnsafeBufferPointer { detector.process($0) }
            if decision.isSpeech {
                if runStart == nil { runStart = start }
            } else if let run = runStart {
                segments.append(run..<start)
                runStart = nil
            }
            start += length
        }
        if let run = runStart { segments.append(run..<clip.samples.count) }
        return segments
    }
}

/// A sample position as seconds with three decimals.
func seconds(_ sample: Int, _ rate: Int) -> String {
    formatted(Double(sample) / Double(rate), digits: 3)
}
