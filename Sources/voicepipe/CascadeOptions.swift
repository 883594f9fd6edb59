//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import TwilioREST
import VoiceAgent
import VoiceProviders
import VoiceSpeechLocal

/// The recognisers `--stt` can name.
enum RecognizerKind: String, ExpressibleByArgument, CaseIterable {
    case pocketsphinx, deepgram
}

/// What the recogniser listens for.
enum VocabularyKind: String, ExpressibleByArgument, CaseIterable {
    /// The playbook's phrases first, the open vocabulary when they do not fit.
    case playbook
    /// The generic English language model only.
    case open
}

/// The language models `--llm` can name.
enum ModelKind: String, ExpressibleByArgument, CaseIterable {
    case playbook, openai
}

/// The synthesisers `--tts` can name.
enum SynthesizerKind: String, ExpressibleByArgument, CaseIterable {
    case espeak, elevenlabs, cartesia, openai

    /// The voice used when `--voice` is not given.
    var defaultVoice: String {
        switch self {
        case .espeak: "en-us"
        case .openai: "alloy"
        // ElevenLabs' long-standing default premade voice ("Rachel").
        case .elevenlabs: "21m00Tcm4TlvDq8ikWAM"
        // A voice from Cartesia's own examples ("Barbershop Man").
        case .cartesia: "a0e99841-438c-4a64-b679-ae501e7d6091"
        }
    }
}

/// `--agent cascade`'s parts: recogniser, language model, synthesiser; and `--agent realtime`'s settings.
struct CascadeOptions: ParsableArguments {
    @Option(help: "Speech recognition for --agent cascade: pocketsphinx (local) or deepgram (DEEPGRAM_API_KEY).")
    var stt = RecognizerKind.pocketsphinx
    @Option(help: "What pocketsphinx listens for: playbook (its phrases, open vocabulary as the fallback) or open.")
    var sttVocabulary = VocabularyKind.playbook
    @Option(help: "The language model for --agent cascade: playbook (local, follows --playbook) or openai (OPENAI_API_KEY).")
    var llm = ModelKind.playbook
    @Option(help: "The model --llm openai asks for (any OpenAI-compatible server's model name).") var llmModel = "gpt-4o-mini"
    @Option(help: "The system prompt for --llm openai and --agent realtime (default: a brief phone front desk).")
    var instructions: String?
    @Option(
        parsing: .singleValue,
        help: "A number --llm openai may transfer calls to, as +E164=purpose (repeatable; needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN).")
    var transferTo: [String] = []
    @Option(help: "The playbook file (JSON) for --llm playbook (default: the bundled front desk).") var playbook: String?
    @Option(help: "Speech synthesis for --agent cascade: espeak (local), elevenlabs, cartesia or openai.")
    var tts = SynthesizerKind.espeak
    @Option(help: "The voice: an espeak-ng voice, an ElevenLabs or Cartesia voice id, an OpenAI voice name (defaults per --tts).")
    var voice: String?
    @Option(help: "The model --agent realtime asks for.") var realtimeModel = "gpt-realtime"
    @Option(
        help:
            "Who ends the caller's turns for --agent realtime: voicepipe (VoicePipe's endpointer), server-vad or semantic-vad (the provider's)."
    )
    var turnDetection = RealtimeTurnDetectionKind.voicepipe
    @Flag(
        help:
            "No local fallback for hosted providers (by default espeak-ng speaks when a hosted voice fails, pocketsphinx hears when Deepgram fails)."
    )
    var noFallback = false
    @Option(help: "What the agent says when the call starts (default: the playbook's greeting; \"\" for none).")
    var greeting: String?

    /// The front desk's instructions for a hosted model.
    static let defaultInstructions = """
        You answer the phone at a small company's front desk. Speak in short, plain sentences: one or two per \
        turn, no lists, no markdown. If the caller says goodbye, say goodbye and call hang_up.
        """

    /// The agent sample rate that suits these parts: 8 kHz when a hosted service takes Twilio's µ-law as it is.
    var preferredAgentSampleRate: Int { stt == .deepgram ? 8000 : 16000 }

    /// The command-line arguments that give another `voicepipe` process the same options.
    var arguments: [String] {
        var arguments = [
            "--stt", stt.rawValue, "--stt-vocabulary", sttVocabulary.rawValue, "--llm", llm.rawValue, "--llm-model", llmModel,
            "--tts", tts.rawValue, "--realtime-model", realtimeModel, "--turn-detection", turnDetection.rawValue,
        ]
        if let voice { arguments += ["--voice", voice] }
        if let instructions { arguments += ["--instructions", instructions] }
        for target in transferTo { arguments += ["--transfer-to", target] }
        if let playbook { arguments += ["--playbook", playbook] }
        if let greeting { arguments += ["--greeting", greeting] }
        if noFallback { arguments.append("--no-fallback") }
        return arguments
    }

    /// Loads the playbook (the bundled one by default).
    func loadPlaybook() throws -> Playbook {
        guard let playbook else { return .frontDesk }
        do { return try Playbook(contentsOf: playbook) } catch { throw ValidationError("--playbook: \(error)") }
    }

    /// A hosted provider's endpoint from the environment; otherwise one line on standard error that says
    /// what is missing, and exit status 1.
    static func endpoint(_ provider: Provider, for option: String) throws -> ProviderEndpoint {
        do { return try provider.endpoint(from: ProcessInfo.processInfo.environment) } catch {
            printError("\(option): \(error)")
            throw ExitCode(1)
        }
    }

    /// Builds the parts once (models are loaded and keys checked here, so a missing model or key is one line
    /// at startup) and returns the per-call agent factory.
    func makeAgent(logger: Logger, memory: (any ConversationMemory)? = nil) throws -> @Sendable (CallContext) -> any Agent {
        let playbook = try loadPlaybook()
        let local: () throws -> any SpeechRecognizer = {
            let vocabulary: PocketSphinxRecognizer.Vocabulary =
                sttVocabulary == .open ? .open : .phrases(playbook.phrases, digits: playbook.expectsDigits)
            do { return try PocketSphinxRecognizer(vocabulary: vocabulary) } catch {
                throw ValidationError("--stt pocketsphinx: \(error)")
            }
        }
        let recognizer: any SpeechRecognizer
        switch stt {
        case .pocketsphinx: recognizer = try local()
        case .deepgram:
            let deepgram = DeepgramRecognizer(endpoint: try Self.endpoint(.deepgram, for: "--stt deepgram"), logger: logger)
            recognizer = noFallback ? deepgram : FallbackRecognizer(primary: deepgram, fallback: try local(), logger: logger)
        }
        let makeModel: @Sendable (CallContext) -> any LanguageModel
        switch llm {
        case .playbook:
            let model = PlaybookModel(playbook: playbook)
            makeModel = { _ in model }
        case .openai:
            let endpoint = try Self.endpoint(.openAI, for: "--llm openai")
            let configuration = OpenAIChatModel.Configuration(model: llmModel)
            let transfer = try transferTool()
            makeModel = { context in
                var tools: [ModelTool] = [.hangUp(), .sendDigits()]
                if let transfer { tools.append(transfer(context.callSid)) }
                return OpenAIChatModel(endpoint: endpoint, configuration: configuration, tools: tools, logger: logger)
            }
        }
        let synthesizer = try makeSynthesizer(logger: logger)
        var configuration = CascadeAgent.Configuration(greeting: greeting.map { $0.isEmpty ? nil : $0 } ?? playbook.greeting)
        if llm == .openai { configuration.instructions = instructions ?? Self.defaultInstructions }
        configuration.memory = memory
        logger.info("cascade: \(stt.rawValue) → \(llm.rawValue) → \(tts.rawValue)\(noFallback ? "" : " (local fallbacks on)")")
        let settings = configuration
        return { context in
            var callLogger = logger
            callLogger[metadataKey: "callSid"] = .string(context.callSid)
            return CascadeAgent(
                recognizer: recognizer, model: makeModel(context), synthesizer: synthesizer, configuration: settings,
                logger: callLogger)
        }
    }

    /// The text agent's instructions for a hosted model.
    static let defaultTextInstructions = """
        You answer text messages (SMS and WhatsApp) for a small company's front desk. Reply in one to three short, \
        plain sentences, no markdown. Earlier messages marked [phone call] were said on a call with the same \
        person: use them when they help.
        """

    /// The model that answers texts: the playbook, or the OpenAI-compatible model (without the phone tools).
    func makeTextModel(logger: Logger) throws -> (model: any LanguageModel, instructions: String?) {
        switch llm {
        case .playbook: return (PlaybookModel(playbook: try loadPlaybook()), nil)
        case .openai:
            let endpoint = try Self.endpoint(.openAI, for: "--llm openai")
            return (
                OpenAIChatModel(endpoint: endpoint, configuration: .init(model: llmModel), tools: [], logger: logger),
                Self.defaultTextInstructions
            )
        }
    }

    /// The synthesiser, with espeak-ng behind a hosted voice unless `--no-fallback`.
    private func makeSynthesizer(logger: Logger) throws -> any SpeechSynthesizer {
        let voice = self.voice ?? tts.defaultVoice
        let hosted: any SpeechSynthesizer
        switch tts {
        case .espeak:
            do { return try ESpeakSynthesizer(voice: voice) } catch { throw ValidationError("--tts espeak: \(error)") }
        case .elevenlabs:
            hosted = ElevenLabsSynthesizer(
                endpoint: try Self.endpoint(.elevenLabs, for: "--tts elevenlabs"), configuration: .init(voiceID: voice), logger: logger)
        case .cartesia:
            hosted = CartesiaSynthesizer(
                endpoint: try Self.endpoint(.cartesia, for: "--tts cartesia"), configuration: .init(voiceID: voice), logger: logger)
        case .openai:
            hosted = OpenAISpeechSynthesizer(
                endpoint: try Self.endpoint(.openAI, for: "--tts openai"), configuration: .init(voice: voice), logger: logger)
        }
        guard !noFallback else { return hosted }
        do {
            let local = try ESpeakSynthesizer(voice: "en-us", sampleRate: hosted.sampleRate)
            return try FallbackSynthesizer(primary: hosted, fallback: local, logger: logger)
        } catch {
            throw ValidationError("--tts \(tts.rawValue): the espeak-ng fallback: \(error)")
        }
    }

    /// The `transfer_call` tool for a call, when `--transfer-to` is given.
    private func transferTool() throws -> (@Sendable (String) -> ModelTool)? {
        guard !transferTo.isEmpty else { return nil }
        var allowed: [(number: String, purpose: String)] = []
        for target in transferTo {
            let parts = target.split(separator: "=", maxSplits: 1).map(String.init)
            guard let number = parts.first, number.hasPrefix("+"), number.count > 4, number.dropFirst().allSatisfy(\.isNumber) else {
                throw ValidationError("--transfer-to \(target): expected +E164=purpose, e.g. +14155550123=billing")
            }
            allowed.append((number, parts.count > 1 ? parts[1] : "a person"))
        }
        let environment = ProcessInfo.processInfo.environment
        guard let account = environment["TWILIO_ACCOUNT_SID"], !account.isEmpty,
            let token = environment["TWILIO_AUTH_TOKEN"], !token.isEmpty
        else {
            throw ValidationError("--transfer-to needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (to update the call over REST)")
        }
        var configuration = TwilioRESTClient.Configuration()
        if let base = environment["TWILIO_API_BASE_URL"], !base.isEmpty { configuration = .init(baseURL: base) }
        let client = TwilioRESTClient(credentials: .authToken(accountSid: account, authToken: token), configuration: configuration)
        let targets = allowed
        return { callSid in ModelTool.transferCall(allowed: targets, callSid: callSid, client: client) }
    }

    /// The `--agent realtime` factory: an OpenAI Realtime session per call.
    func makeRealtimeAgent(logger: Logger) throws -> @Sendable (CallContext) -> any Agent {
        let endpoint = try Self.endpoint(.openAI, for: "--agent realtime")
        var configuration = OpenAIRealtimeAgent.Configuration(model: realtimeModel, instructions: instructions ?? Self.defaultInstructions)
        if let voice { configuration.voice = voice }
        switch turnDetection {
        case .voicepipe: configuration.turnDetection = .voicePipe
        case .serverVAD: configuration.turnDetection = .serverVAD()
        case .semanticVAD: configuration.turnDetection = .semanticVAD()
        }
        let settings = configuration
        logger.info("realtime: \(realtimeModel) at \(endpoint), turns ended by \(turnDetection.rawValue)")
        return { context in
            var callLogger = logger
            callLogger[metadataKey: "callSid"] = .string(context.callSid)
            return OpenAIRealtimeAgent(endpoint: endpoint, configuration: settings, logger: callLogger)
        }
    }
}

/// `--turn-detection`: who ends the caller's turns for `--agent realtime`.
enum RealtimeTurnDetectionKind: String, ExpressibleByArgument, CaseIterable {
    case voicepipe
    case serverVAD = "server-vad"
    case semanticVAD = "semantic-vad"
}
