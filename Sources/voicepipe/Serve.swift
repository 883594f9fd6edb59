//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import VoiceAgent
import VoiceDSP
import VoicePipeServer

/// The built-in agents.
enum AgentKind: String, ExpressibleByArgument, CaseIterable {
    case echo, tone

    var make: @Sendable () -> any Agent {
        switch self {
        case .echo: { EchoAgent() }
        case .tone: { ToneAgent() }
        }
    }
}

/// `voicepipe serve`: the server to point Twilio at.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve Twilio's webhooks and media streams with a built-in agent.",
        discussion: """
            Point your Twilio number's voice webhook at <public-url>/twilio/voice. With TWILIO_AUTH_TOKEN set, \
            every request must carry a valid X-Twilio-Signature.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: any free port).") var port = 8080
    @Option(help: "The URL Twilio reaches this server at, e.g. https://agent.example.com (default http://host:port).")
    var publicURL: String?
    @Option(help: "The agent that answers: echo (plays each turn back) or tone.") var agent = AgentKind.echo
    @Option(help: "The voice activity detector: silero (accurate) or classic (cheap).") var vad = VoiceActivityDetector.Model.silero

    func run() async throws {
        var logger = Logger(label: "voicepipe")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let token = ProcessInfo.processInfo.environment["TWILIO_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        logger.info("signature validation \(token == nil ? "off (TWILIO_AUTH_TOKEN not set)" : "on")")
        var configuration = VoicePipeServer.Configuration(
            host: host, port: port, publicURL: publicURL, authToken: token, makeAgent: agent.make)
        configuration.inbound.voiceActivity.model = vad
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        try await server.run { port in
            // One line on standard output, unbuffered, for whoever started the server (the load test reads it).
            let line = Array("voicepipe: listening on port \(port)\n".utf8)
            _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
        }
    }
}
