//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import TwilioTesting
import VoiceProvidersTesting

/// How fast the stand-ins answer.
enum StandInLatency: String, ExpressibleByArgument, CaseIterable {
    /// Published figures: recogniser final 150 ms, model first token 350 ms then 40 tokens/s, voice first
    /// audio 200 ms, Realtime first audio 500 ms.
    case published
    /// As fast as the loopback allows.
    case immediate

    var value: StandInSuite.Latency { self == .published ? .published : .immediate }
}

/// `voicepipe stand-ins`: every hosted provider's stand-in on one local port, for trying the hosted options
/// with no keys and no network.
struct StandIns: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stand-ins",
        abstract:
            "Run local stand-ins of OpenAI (chat, speech, Realtime), Deepgram, ElevenLabs and Cartesia on one port, and of Twilio's text APIs on the next.",
        discussion: """
            Each stand-in speaks its provider's wire protocol: it checks the key and the request's shape, streams \
            realistic answers with the chosen delays, and voices text with a synthetic buzz, one per word. The \
            Deepgram stand-in cannot recognise speech: it "hears" the --transcript lines, one per utterance. It \
            prints the environment that points `voicepipe serve` at it, then runs until interrupted. The Twilio \
            stand-in (Messages and Conversations, with signed status callbacks) listens on the next port; with its \
            TWILIO_* exports, `voicepipe serve` answers `voicepipe text` through it.
            """)

    @Option(help: "The port (0: any free port).") var port = 8090
    @Option(help: "The providers' delays: published (realistic) or immediate.") var latency = StandInLatency.published
    @Option(parsing: .singleValue, help: "What the Deepgram stand-in hears, utterance after utterance (repeatable; cycled).")
    var transcript: [String] = []

    func run() async throws {
        var logger = Logger(label: "voicepipe.stand-ins")
        logger.logLevel = .warning
        let suite = try await StandInSuite.start(
            port: port, latency: latency.value, transcripts: transcript.isEmpty ? ["hello world"] : transcript,
            voices: [SynthesizerKind.elevenlabs.defaultVoice], logger: logger)
        let twilio = try await TwilioStandIn.start(
            configuration: .init(port: port == 0 ? 0 : suite.host.port + 1), logger: logger)
        var environment = suite.environment
        environment["TWILIO_ACCOUNT_SID"] = twilio.accountSid
        environment["TWILIO_AUTH_TOKEN"] = twilio.authToken
        environment["TWILIO_API_BASE_URL"] = twilio.baseURL
        environment["TWILIO_CONVERSATIONS_BASE_URL"] = twilio.baseURL
        var lines = ["voicepipe stand-ins: listening on port \(suite.host.port) (Twilio: \(twilio.port))"]
        lines += environment.sorted { $0.key < $1.key }.map { "export \($0.key)=\($0.value)" }
        let text = Array((lines.joined(separator: "\n") + "\n").utf8)
        _ = text.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        while !Task.isCancelled { try await Task.sleep(for: .seconds(3600)) }
        await twilio.stop()
        await suite.stop()
    }
}
