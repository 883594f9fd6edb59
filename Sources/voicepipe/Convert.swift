//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import VoiceDSP

/// The `--encoding` values, spelled as on the command line.
enum AudioEncodingArgument: String, CaseIterable {
    case pcm16, float32, mulaw, alaw

    var encoding: AudioEncoding {
        switch self {
        case .pcm16: .pcm16
        case .float32: .float32
        case .mulaw: .muLaw
        case .alaw: .aLaw
        }
    }
}

/// `voicepipe convert IN.wav OUT.wav [--encoding E] [--rate HZ] [--downmix]`.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a WAV file between 16-bit PCM, 32-bit float, mu-law and A-law.",
        discussion: """
            Reads mono WAV files (16-bit PCM, 32-bit float, mu-law, A-law, plain or WAVE_FORMAT_EXTENSIBLE); \
            multi-channel input needs --downmix. On bad input prints one line to standard error and exits 1.
            """
    )

    @Argument(help: "The input WAV file.")
    var input: String

    @Argument(help: "The output WAV file (replaced if it exists).")
    var output: String

    @Option(help: "Output encoding: pcm16, float32, mulaw or alaw (default: the input's encoding).")
    var encoding: AudioEncodingArgument?

    @Option(help: "Output sample rate in Hz (default: the input's). Rate conversion is not available yet.")
    var rate: Int?

    @Flag(help: "Average multi-channel input into mono instead of refusing it.")
    var downmix = false

    func run() throws {
        do {
            let file = try WAVFile(path: input, channels: downmix ? .downmix : .requireMono)
            if let rate, rate != file.clip.sampleRate {
                printError(
                    "cannot convert \(file.clip.sampleRate) Hz to \(rate) Hz: sample-rate conversion is not available yet")
                throw ExitCode(2)
            }
            try WAVFile.write(file.clip, encoding: encoding?.encoding ?? file.encoding, to: output)
        } catch let error as WAVError {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}
