//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import VoiceDSP

/// The `--resampler` values.
enum ResamplerArgument: String, CaseIterable, ExpressibleByArgument {
    case auto, native, libsamplerate

    func backend(quality: Resampler.Quality) -> Resampler.Backend {
        switch self {
        case .auto: .automatic
        case .native: .native
        case .libsamplerate: .libsamplerate(quality == .telephony ? .sincFastest : .sincBest)
        }
    }
}

/// `voicepipe convert IN.wav OUT.wav [--encoding E] [--rate HZ] [--resampler R] [--quality Q] [--downmix]`.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a WAV file between encodings and sample rates.",
        discussion: """
            Reads mono WAV files (16-bit PCM, 32-bit float, mu-law, A-law, plain or WAVE_FORMAT_EXTENSIBLE); \
            multi-channel input needs --downmix. --rate resamples: natively (polyphase FIR) for ratios among \
            8, 16, 24, 32 and 48 kHz, with libsamplerate otherwise (sinc-best for --quality high). On bad input \
            prints one line to standard error and exits 1.
            """
    )

    @Argument(help: "The input WAV file.")
    var input: String

    @Argument(help: "The output WAV file (replaced if it exists).")
    var output: String

    @Option(help: "Output encoding: pcm16, float32, mulaw or alaw (default: the input's encoding).")
    var encoding: AudioEncoding?

    @Option(help: "Output sample rate in Hz (default: the input's).")
    var rate: Int?

    @Option(help: "Resampler: auto (native where the ratio allows, else libsamplerate), native or libsamplerate.")
    var resampler: ResamplerArgument = .auto

    @Option(help: "Resampling quality: telephony (lowest latency) or high.")
    var quality: Resampler.Quality = .high

    @Flag(help: "Average multi-channel input into mono instead of refusing it.")
    var downmix = false

    func run() throws {
        do {
            let file = try WAVFile(path: input, channels: downmix ? .downmix : .requireMono)
            var clip = file.clip
            if let rate, rate != clip.sampleRate {
                let converter = try Resampler(
                    inputRate: clip.sampleRate, outputRate: rate, quality: quality,
                    backend: resampler.backend(quality: quality))
                clip = AudioClip(sampleRate: rate, samples: converter.resample(clip.samples))
            }
            try WAVFile.write(clip, encoding: encoding ?? file.encoding, to: output)
        } catch let error as WAVError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as ResamplerError {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}
