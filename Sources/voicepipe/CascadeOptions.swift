//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import VoiceAgent
import VoiceSpeechLocal

/// The recognisers `--stt` can name (the hosted ones join this list).
enum RecognizerKind: String, ExpressibleByArgument, CaseIterable {
    case pocketsphinx
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
    case playbook
}

/// The synthesisers `--tts` can name.
enum SynthesizerKind: String, ExpressibleByArgument, CaseIterable {
    case espeak
}

/// `--agent cascade`'s parts: recogniser, language model, synthesiser.
struct CascadeOptions: ParsableArguments {
    @Option(help: "Speech recognition for --agent cascade: pocketsphinx (local).") var stt = RecognizerKind.pocketsphinx
    @Option(help: "What the recogniser listens for: playbook (its phrases, open vocabulary as the fallback) or open.")
    var sttVocabulary = VocabularyKind.playbook
    @Option(help: "The language model for --agent cascade: playbook (local, follows --playbook).") var llm = ModelKind.playbook
    @Option(help: "The playbook file (JSON) for --llm playbook (default: the bundled front desk).") var playbook: String?
    @Option(help: "Speech synthesis for --agent cascade: espeak (local espeak-ng).") var tts = SynthesizerKind.espeak
    @Option(help: "The espeak-ng voice.") var voice = "en-us"
    @Option(help: "What the agent says when the call starts (default: the playbook's greeting; \"\" for none).")
    var greeting: String?

    /// Loads the playbook (the bundled one by default).
    func loadPlaybook() throws -> Playbook {
        guard let playbook else { return .frontDesk }
        do { return try Playbook(contentsOf: playbook) } catch { throw ValidationError("--playbook: \(error)") }
    }

    /// Builds the parts once (models are loaded here, so a missing model is one line at startup) and returns
    /// the per-call agent factory.
    func makeAgent(logger: Logger) throws -> @Sendable (CallContext) -> any Agent {
        let playbook = try loadPlaybook()
        let recognizer: any SpeechRecognizer
        switch stt {
        case .pocketsphinx:
            let vocabulary: PocketSphinxRecognizer.Vocabulary =
                sttVocabulary == .open ? .open : .phrases(playbook.phrases, digits: playbook.expectsDigits)
            do { recognizer = try PocketSphinxRecognizer(vocabulary: vocabulary) } catch {
                throw ValidationError("--stt pocketsphinx: \(error)")
            }
        }
        let model: any LanguageModel
        switch llm {
        case .playbook: model = PlaybookModel(playbook: playbook)
        }
        let synthesizer: any SpeechSynthesizer
        switch tts {
        case .espeak:
            do { synthesizer = try ESpeakSynthesizer(voice: voice) } catch { throw ValidationError("--tts espeak: \(error)") }
        }
        let configuration = CascadeAgent.Configuration(
            greeting: greeting.map { $0.isEmpty ? nil : $0 } ?? playbook.greeting)
        return { context in
            var callLogger = logger
            callLogger[metadataKey: "callSid"] = .string(context.callSid)
            return CascadeAgent(
                recognizer: recognizer, model: model, synthesizer: synthesizer, configuration: configuration, logger: callLogger)
        }
    }
}
