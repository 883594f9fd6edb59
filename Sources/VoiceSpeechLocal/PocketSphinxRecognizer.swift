//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Logging
public import VoiceAgent

#if canImport(Dispatch)
    import Dispatch
#endif

/// Offline speech recognition with pocketsphinx (CMU Sphinx, Debian's 0.8+5prealpha) for telephone calls.
///
/// The recogniser holds only settings; each ``makeSession()`` starts a decoder of its own (about 0.2 s of CPU
/// and 90 MB of memory) that is kept for the whole call, so the cepstral mean it learns from the line carries
/// from one utterance to the next. Sessions are independent: run as many in parallel as memory allows.
///
/// Audio is 16 kHz (``sampleRate``): the Debian model is a 16 kHz model, and its 8 kHz front end is worse
/// than useless, so telephone audio is upsampled first (VoicePipe's inbound chain already delivers 16 kHz).
///
/// ```swift
/// let recognizer = try PocketSphinxRecognizer(vocabulary: .phrases(["sales", "support", "operator"], digits: true))
/// let session = try await recognizer.makeSession()
/// try samples.withUnsafeBufferPointer { try session.accept($0) }      // 16 kHz, -1...1, as it arrives
/// let transcript = try await session.finishUtterance()
/// ```
///
/// The front end is set for telephone-band speech: the model's `feat.params` is copied with a telephony
/// initial cepstral mean (``telephonyCepstralMean``) and given with `-featparams`, the only way to change it
/// in this version (the model's own file overrides `-cmninit`, `-upperf` and `-lowerf` given otherwise).
/// The filter bank stays the model's (130-6800 Hz): narrowing it to the telephone band (200-3500 or 130-4000
/// Hz) doubles the error rate, since the acoustic model was trained on that filter bank.
public struct PocketSphinxRecognizer: SpeechRecognizer {
    /// The rate of the audio sessions take: 16,000 Hz.
    public var sampleRate: Int { model.sampleRate }
    /// The model in use.
    public let model: Model
    /// What callers are expected to say.
    public let vocabulary: Vocabulary
    /// The initial cepstral mean of every session.
    public let cepstralMeanInit: [Float]
    /// Words of the ``Vocabulary/phrases(_:digits:)`` that the dictionary lacks and that were dropped.
    public let droppedWords: [String]

    /// The model's `feat.params` with our values, written to a file for each decoder.
    let featureParameters: String
    /// The phrase grammar, for ``Vocabulary/phrases(_:digits:)``.
    let grammar: PhraseGrammar?

    /// A cepstral mean for 8 kHz G.711 telephone speech upsampled to 16 kHz with VoicePipe's resampler.
    ///
    /// How it was obtained: 141 prompts of Debian's `asterisk-core-sounds-en-wav` (every other top-level prompt,
    /// in the order of `core-sounds-en.txt`, that has a spoken transcript and is in neither
    /// `TestVectors/speech/prompts.tsv` nor `domain.tsv`, so no test or WER item) were put through the phone
    /// path (µ-law encode and decode, 8 → 16 kHz with VoiceDSP's `Resampler`, telephony quality) and streamed
    /// in 20 ms chunks through one decoder across all files, as in a call. After each utterance the live CMN
    /// estimate was read from the decoder (`ps_get_feat` → `cmn_struct->cmn_mean`, what the log's "CMN:" lines
    /// print); this is the mean of the 121 readings after the first 20 (standard deviation 0.9-2.6 per
    /// coefficient). Re-derive it with `voicepipe transcribe --list PROMPTS.tsv --print-cepstral-mean`. It is
    /// far from the model's own (41.00, -5.29, -0.12, ...: wideband microphone speech): the empty band above
    /// 4 kHz tilts the spectrum. On `TestVectors/speech/prompts.tsv` (62 other prompts, 498 words), a fresh
    /// decoder per prompt (every utterance a first one) has a 96.6% word error rate with the model's value and
    /// 56.4% with this one; one decoder across all prompts, 60.0%.
    public static let telephonyCepstralMean: [Float] = [
        50.88, 29.62, -25.50, 43.25, -28.13, 14.37, -9.02, -4.40, 11.37, -11.48, 2.89, -8.00, 3.48,
    ]

    /// Creates a recogniser and checks its model files (and builds the phrase grammar, reading the dictionary).
    ///
    /// - Parameters:
    ///   - vocabulary: What callers are expected to say.
    ///   - model: The model's files; by default Debian's `pocketsphinx-en-us`.
    ///   - cepstralMeanInit: The cepstral mean a fresh decoder starts from (13 values for en-us).
    ///   - logger: Where the warning about dropped words goes.
    /// - Throws: ``LocalSpeechError`` with ``LocalSpeechError/Code/modelFilesMissing`` or
    ///   ``LocalSpeechError/Code/grammarFailed``.
    public init(
        vocabulary: Vocabulary = .open, model: Model = .debianEnglish,
        cepstralMeanInit: [Float] = PocketSphinxRecognizer.telephonyCepstralMean,
        logger: Logger = Logger(label: "VoiceSpeechLocal.PocketSphinxRecognizer")
    ) throws(LocalSpeechError) {
        for path in [model.acousticModel + "/mdef", model.languageModel, model.dictionary] where !LocalFiles.exists(path) {
            throw .modelFilesMissing(path)
        }
        guard let params = LocalFiles.read(model.featureParameters) else { throw .modelFilesMissing(model.featureParameters) }
        self.model = model
        self.vocabulary = vocabulary
        self.cepstralMeanInit = cepstralMeanInit
        featureParameters = Self.featureParameters(String(decoding: params, as: UTF8.self), cepstralMean: cepstralMeanInit)
        switch vocabulary {
        case .open:
            grammar = nil
        case .phrases(let phrases, let digits):
            grammar = try PhraseGrammar.build(phrases: phrases, digits: digits, dictionaryPath: model.dictionary)
        }
        droppedWords = grammar?.droppedWords ?? []
        if !droppedWords.isEmpty {
            logger.warning(
                "words not in the pronunciation dictionary, dropped from the phrases",
                metadata: ["words": .array(droppedWords.map { .string($0) })])
        }
    }

    /// Opens a session (a decoder of its own) for one call. The decoder is built off the Swift concurrency
    /// pool: it takes about 0.2 s of CPU.
    public func makeSession() async throws -> any RecognitionSession {
        #if canImport(Dispatch)
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<PocketSphinxSession, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { () throws(LocalSpeechError) in try makeSynchronousSession() })
                }
            }
        #else
            try makeSynchronousSession()
        #endif
    }

    /// Opens a session synchronously (for batch tools: the caller's thread builds the decoder).
    ///
    /// - Throws: ``LocalSpeechError`` with ``LocalSpeechError/Code/decoderInitFailed`` or
    ///   ``LocalSpeechError/Code/grammarFailed``.
    public func makeSynchronousSession() throws(LocalSpeechError) -> PocketSphinxSession {
        try PocketSphinxSession(recognizer: self)
    }

    /// `feat.params` with `-cmninit` replaced (or added).
    static func featureParameters(_ text: String, cepstralMean: [Float]) -> String {
        let value = cepstralMean.map { formatted($0) }.joined(separator: ",")
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        while lines.last?.isEmpty == true { lines.removeLast() }
        lines.removeAll { $0.hasPrefix("-cmninit ") || $0.hasPrefix("-cmninit\t") }
        if !cepstralMean.isEmpty { lines.append("-cmninit \(value)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A value with two decimals, without Foundation.
    private static func formatted(_ value: Float) -> String {
        let hundredths = Int((Double(value) * 100).rounded())
        let sign = hundredths < 0 ? "-" : ""
        let magnitude = abs(hundredths)
        let fraction = magnitude % 100
        return "\(sign)\(magnitude / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
