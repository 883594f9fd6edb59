//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import ArgumentParser
import VoiceDSP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `voicepipe`: the VoicePipe command-line tool.
@main
struct VoicePipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "voicepipe",
        abstract: "Real-time telephony voice pipelines: a Twilio media-stream server, a simulated caller, audio tools.",
        subcommands: [
            Demo.self, Serve.self, Call.self, Loadtest.self, Convert.self, VAD.self, Transcribe.self, StandIns.self, History.self,
            Search.self, Text.self, TextLoad.self,
        ]
    )
}

/// Writes one line to standard error.
func printError(_ message: String) {
    let line = Array("voicepipe: \(message)\n".utf8)
    _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
}

// VoiceDSP's option enums are spelled on the command line by their raw values.
extension AudioEncoding: ExpressibleByArgument {}
extension Resampler.Quality: ExpressibleByArgument {}
extension VoiceActivityDetector.Model: ExpressibleByArgument {}
