//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import Synchronization
import TwilioMediaStreams
import TwilioMessaging
import TwilioREST
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeStore
import VoicePipeText

/// The built-in agents.
enum AgentKind: String, ExpressibleByArgument, CaseIterable {
    case echo, tone, cascade, realtime

    /// The agent factory for echo and tone, with an optional greeting clip (the cascade's parts come from
    /// ``CascadeOptions``).
    func make(greeting: AudioClip? = nil) -> @Sendable (CallContext) -> any Agent {
        switch self {
        case .echo, .cascade, .realtime: { _ in EchoAgent(greeting: greeting) }
        case .tone: { _ in ToneAgent(greeting: greeting) }
        }
    }

    /// The agent sample rate that suits the agent: 8 kHz where a hosted service takes Twilio's µ-law as it is.
    func preferredSampleRate(_ cascade: CascadeOptions) -> Int {
        switch self {
        case .realtime: 8000
        case .cascade: cascade.preferredAgentSampleRate
        case .echo, .tone: 16000
        }
    }

    /// Loads a greeting WAV (any supported encoding; stereo is downmixed) and checks that its rate can be
    /// played, so that a bad file is one line at startup rather than an error in every call.
    static func loadGreeting(_ path: String?) throws -> AudioClip? {
        guard let path else { return nil }
        let clip: AudioClip
        do {
            clip = try WAVFile(path: path, channels: .downmix).clip
        } catch {
            throw ValidationError("--greeting-audio \(path): \(error)")
        }
        do {
            _ = try OutboundChain(inputRate: clip.sampleRate)
        } catch {
            throw ValidationError("--greeting-audio \(path): \(clip.sampleRate) Hz cannot be played: \(error)")
        }
        guard !clip.samples.isEmpty else { throw ValidationError("--greeting-audio \(path): the file holds no audio") }
        return clip
    }
}

/// `voicepipe serve`: the server to point Twilio at.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve Twilio's webhooks and media streams with a built-in agent.",
        discussion: """
            Point your Twilio number's voice webhook at <public-url>/twilio/voice. With TWILIO_AUTH_TOKEN set, \
            every request must carry a valid X-Twilio-Signature. GET /calls/<CallSid> returns a call's turns (what \
            was recognised and said, and the timings); with VOICEPIPE_CALLS_TOKEN set it needs that bearer token.

            Texts: point the number's messaging webhook at <public-url>/twilio/sms (and a Conversations service's \
            post-event webhook at <public-url>/twilio/conversations). Calls and texts are remembered \
            in --store (GET /contacts/<+E164>, GET /search?q=…); with TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (or \
            TWILIO_API_KEY and TWILIO_API_SECRET) set, inbound texts are answered by --llm over the REST API \
            (TWILIO_API_BASE_URL overrides its host), with status callbacks to <public-url>/twilio/message-status.
            """)

    @Option(help: "The address to listen on.") var host = "127.0.0.1"
    @Option(help: "The port (0: any free port).") var port = 8080
    @Option(help: "The URL Twilio reaches this server at, e.g. https://agent.example.com (default http://host:port).")
    var publicURL: String?
    @Option(
        help:
            "The agent that answers: echo (plays each turn back), tone, cascade (recogniser, model, synthesiser) or realtime (OpenAI Realtime)."
    )
    var agent = AgentKind.echo
    @Option(help: "The voice activity detector: silero (accurate) or classic (cheap).") var vad = VoiceActivityDetector.Model.silero
    @Option(
        help:
            "The sample rate of the audio the agent hears, in Hz (8000 hands it Twilio's audio unresampled; default 8000 for --stt deepgram and --agent realtime, else 16000)."
    )
    var agentSampleRate: Int?
    @Option(help: "A WAV file the agent plays when a call starts, before the caller speaks (any supported WAV).")
    var greetingAudio: String?
    @Option(help: "Where calls and texts are remembered: sqlite:PATH, postgres://user:password@host:port/database, or none.")
    var store = StoreLocation.sqlite(path: "voicepipe.db")
    @OptionGroup(title: "Cascade agent") var cascade: CascadeOptions

    func run() async throws {
        var logger = Logger(label: "voicepipe")
        logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let token = ProcessInfo.processInfo.environment["TWILIO_AUTH_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let greeting = try AgentKind.loadGreeting(greetingAudio)
        // The agent first: a missing key or model is the one line printed before anything else.
        let memory = LateMemory()
        let makeAgent: @Sendable (CallContext) -> any Agent
        switch agent {
        case .cascade: makeAgent = try cascade.makeAgent(logger: logger, memory: memory)
        case .realtime: makeAgent = try cascade.makeRealtimeAgent(logger: logger)
        case .echo, .tone: makeAgent = agent.make(greeting: greeting)
        }
        logger.info("signature validation \(token == nil ? "off (TWILIO_AUTH_TOKEN not set)" : "on")")
        var configuration = VoicePipeServer.Configuration(
            host: host, port: port, publicURL: publicURL, authToken: token, makeAgent: makeAgent)
        configuration.callRecordsToken = ProcessInfo.processInfo.environment["VOICEPIPE_CALLS_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        let conversationStore = try await store.open(logger: logger)
        configuration.store = conversationStore
        if let conversationStore {
            memory.store.withLock { $0 = StoreMemory(store: conversationStore, channel: .voice) }
            logger.info("store: \(store)")
            if let client = TwilioEnvironment.messagingClient() {
                let (model, instructions) = try cascade.makeTextModel(logger: logger)
                let sender = TwilioTextSender(
                    client: client, statusCallback: publicURL.map { $0 + "/twilio/message-status" },
                    conversations: TwilioEnvironment.conversationsClient())
                configuration.textAgent = TextAgent(
                    store: conversationStore, model: model, sender: sender, configuration: .init(instructions: instructions),
                    logger: logger)
                logger.info("texts: answered by --llm \(cascade.llm.rawValue) through \(client.configuration.baseURL)")
            } else {
                logger.info("texts: recorded, not answered (set TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN to answer them)")
            }
        }
        configuration.stream.inbound.voiceActivity.model = vad
        configuration.stream.inbound.outputRate = agentSampleRate ?? agent.preferredSampleRate(cascade)
        if agent == .realtime, cascade.turnDetection != .voicepipe {
            // The provider decides when the caller has finished; VoicePipe's end of turn only starts the wait for
            // its answer, so it comes first.
            configuration.stream.inbound.endpointer.trailingSilence = .milliseconds(300)
        }
        let server = VoicePipeServer(configuration: configuration, logger: logger)
        do {
            try await server.run { port in
                // One line on standard output, unbuffered, for whoever started the server (the load test reads it).
                let line = Array("voicepipe: listening on port \(port)\n".utf8)
                _ = line.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress, $0.count) }
            }
        } catch {
            try? await conversationStore?.close()
            throw error
        }
        try? await conversationStore?.close()
    }
}

/// The calls' memory, whose store is opened after the agent's parts are checked.
final class LateMemory: ConversationMemory {
    let store = Mutex<StoreMemory?>(nil)

    func recall(contact: String, excluding: String?) async throws -> [ChatMessage] {
        guard let memory = store.withLock({ $0 }) else { return [] }
        return try await memory.recall(contact: contact, excluding: excluding)
    }
}
