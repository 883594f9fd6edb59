//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import CPocketSphinx
import CPocketSphinxShims
import Synchronization
public import VoiceAgent
import VoiceDSP

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// sphinxbase's log is a process-wide global: it is turned off once, before the first decoder, rather than
/// with `-logfn` per decoder (which closes the previous log file under any decoder still writing to it).
private let sphinxLoggingDisabled: Bool = {
    cps_disable_logging()
    return true
}()

/// One call's recognition with its own pocketsphinx decoder, kept across utterances.
///
/// Made by ``PocketSphinxRecognizer/makeSession()`` (or ``PocketSphinxRecognizer/makeSynchronousSession()``).
/// Feed an utterance with ``accept(_:)``, then ``finishUtterance()`` (or its synchronous twin
/// ``endUtterance()``); the next ``accept(_:)`` starts the next utterance. Each utterance is a fresh stream
/// for the decoder (word times count from its first sample) but the cepstral mean learnt so far carries over.
///
/// For ``PocketSphinxRecognizer/Vocabulary/phrases(_:digits:)`` the utterance is decoded with the phrase
/// grammar; if that gives no hypothesis (nothing, or a path that does not reach the end of the grammar,
/// which pocketsphinx returns without saying so), the same audio (kept in a reused buffer) is decoded again
/// with the open language model.
///
/// - Note: Every method takes the session's lock: it is meant to be driven by one task at a time (the
///   protocol's contract); ``partialResult()`` from another task waits for the current ``accept(_:)``.
///   ``accept(_:)`` decodes as it goes (about 0.2-0.4 s of CPU per second of audio) and allocates only when
///   a buffer grows.
public final class PocketSphinxSession: RecognitionSession {
    /// pocketsphinx's frame rate (`-frate`, not changed): frames per second of the word timings.
    private static let framesPerSecond = 100.0
    /// The most samples converted and decoded at once.
    private static let blockSize = 4096
    /// The name under which the phrase grammar is added to the decoder.
    private static let grammarSearchName = "voicepipe-phrases"

    private let state: Mutex<DecoderState>
    private let sampleRate: Int
    /// The phrase grammar, and its search name in the decoder, when there is one.
    private let grammar: PhraseGrammar?
    private let grammarSearch: String?
    /// The open language model's search (the decoder's default).
    private let openSearch: String

    init(recognizer: PocketSphinxRecognizer) throws(LocalSpeechError) {
        _ = sphinxLoggingDisabled
        sampleRate = recognizer.sampleRate
        guard let paramsPath = LocalFiles.writeTemporary(prefix: "voicepipe-feat.params", contents: recognizer.featureParameters)
        else { throw .decoderInitFailed("cannot write the front-end parameters to the temporary directory") }
        defer { LocalFiles.remove(paramsPath) }
        let model = recognizer.model
        // A word insertion penalty (-wip 0.01, default 0.65) and a lower silence probability (-silprob 0.1,
        // default 0.005) stop short noises at the start of telephone prompts becoming extra words ("two four"
        // for "four" with a digit grammar); on 60 open-vocabulary prompts they change the WER from 53.0% to 52.3%.
        let options = [
            "-hmm", model.acousticModel, "-lm", model.languageModel, "-dict", model.dictionary, "-featparams", paramsPath,
            "-samprate", "\(model.sampleRate)", "-wip", "0.01", "-silprob", "0.1",
        ]
        guard let config = Self.withCStrings(options, { cps_config_create(Int32($0.count), $0.baseAddress) }) else {
            throw .decoderInitFailed("configuration rejected: \(options.joined(separator: " "))")
        }
        // The decoder keeps its own reference to the configuration.
        defer { cmd_ln_free_r(config) }
        guard let decoder = ps_init(config) else { throw .decoderInitFailed("ps_init failed (model files unreadable?)") }
        openSearch = ps_get_search(decoder).map { String(cString: $0) } ?? "_default"
        if let grammar = recognizer.grammar {
            guard ps_set_jsgf_string(decoder, Self.grammarSearchName, grammar.jsgf) == 0,
                ps_set_search(decoder, Self.grammarSearchName) == 0
            else {
                ps_free(decoder)
                throw .grammarFailed("pocketsphinx rejected the grammar:\n\(grammar.jsgf)")
            }
            grammarSearch = Self.grammarSearchName
        } else {
            grammarSearch = nil
        }
        grammar = recognizer.grammar
        state = Mutex(DecoderState(decoder: decoder, keepsAudio: grammarSearch != nil))
    }

    /// Takes the next audio of the current utterance (opening one if none is open): 16 kHz, -1...1.
    ///
    /// - Throws: ``LocalSpeechError`` (``LocalSpeechError/Code/sessionClosed`` after ``close()``,
    ///   ``LocalSpeechError/Code/decodingFailed``).
    public func accept(_ samples: UnsafeBufferPointer<Float>) throws(LocalSpeechError) {
        try state.withLock { (state) throws(LocalSpeechError) in
            guard let decoder = state.decoder else { throw .sessionClosed }
            if !state.inUtterance {
                guard ps_start_stream(decoder) >= 0, ps_start_utt(decoder) >= 0 else { throw .decodingFailed("ps_start_utt") }
                state.inUtterance = true
                state.sampleCount = 0
                state.audio.removeAll(keepingCapacity: true)
            }
            var offset = 0
            while offset < samples.count {
                let count = min(Self.blockSize, samples.count - offset)
                state.reserve(count)
                for i in 0..<count { state.pcm[i] = AudioClip.pcm16Sample(samples[offset + i]) }
                let block = UnsafeBufferPointer(rebasing: state.pcm[..<count])
                if state.keepsAudio { state.audio.append(contentsOf: block) }
                guard ps_process_raw(decoder, block.baseAddress, count, 0, 0) >= 0 else { throw .decodingFailed("ps_process_raw") }
                state.sampleCount += count
                offset += count
            }
        }
    }

    /// The current utterance's best hypothesis so far (words only, no timings), or `nil`.
    public func partialResult() -> Transcript? {
        state.withLock { state in
            guard let decoder = state.decoder, state.inUtterance else { return nil }
            var score: Int32 = 0
            guard let hypothesis = ps_get_hyp(decoder, &score) else { return nil }
            let text = String(cString: hypothesis)
            return text.isEmpty ? nil : Transcript(text: text, isFinal: false)
        }
    }

    /// Ends the current utterance and returns its final result (empty when nothing was recognised).
    public func finishUtterance() async throws -> Transcript {
        try endUtterance()
    }

    /// Ends the current utterance and returns its final result: the synchronous form of
    /// ``finishUtterance()``, for batch tools.
    ///
    /// - Returns: The words (fillers, silences and sentence markers left out; alternate pronunciations
    ///   reported as the word), with start and end in seconds from the utterance's first sample and posterior
    ///   confidences, and the hypothesis's posterior as the confidence of the whole. ``Transcript/empty`` when
    ///   no utterance is open or nothing was recognised.
    /// - Throws: ``LocalSpeechError``.
    public func endUtterance() throws(LocalSpeechError) -> Transcript {
        try state.withLock { (state) throws(LocalSpeechError) -> Transcript in
            guard let decoder = state.decoder else { throw .sessionClosed }
            guard state.inUtterance else { return .empty }
            state.inUtterance = false
            guard ps_end_utt(decoder) >= 0 else { throw .decodingFailed("ps_end_utt") }
            let duration = Double(state.sampleCount) / Double(sampleRate)
            var transcript = Self.transcript(of: decoder, duration: duration)
            // The grammar's result must be one of its sentences: otherwise it is only the best partial path.
            if let grammar, let grammarSearch, !grammar.accepts(transcript.words.map(\.text)), !state.audio.isEmpty {
                transcript = try Self.redecode(state.audio, decoder: decoder, search: openSearch, duration: duration)
                guard ps_set_search(decoder, grammarSearch) == 0 else { throw .decodingFailed("ps_set_search") }
            }
            return transcript
        }
    }

    /// Abandons the current utterance without a result.
    public func cancelUtterance() {
        state.withLock { state in
            guard let decoder = state.decoder, state.inUtterance else { return }
            state.inUtterance = false
            ps_end_utt(decoder)
        }
    }

    /// Frees the decoder. Later calls throw ``LocalSpeechError/Code/sessionClosed``.
    public func close() async {
        state.withLock { $0.free() }
    }

    /// Recognises one whole utterance: fed in 20 ms chunks as a call would be, then ended.
    ///
    /// - Parameter samples: 16 kHz samples, -1...1.
    /// - Returns: The utterance's final result.
    /// - Throws: ``LocalSpeechError``.
    public func transcribe(_ samples: [Float]) throws(LocalSpeechError) -> Transcript {
        cancelUtterance()
        let chunk = sampleRate / 50
        try samples.withUnsafeBufferPointer { (all) throws(LocalSpeechError) in
            var start = 0
            while start < all.count {
                try accept(UnsafeBufferPointer(rebasing: all[start..<min(start + chunk, all.count)]))
                start += chunk
            }
        }
        return try endUtterance()
    }

    /// The decoder's current cepstral mean: the live CMN estimate that carries from utterance to utterance
    /// (13 values for en-us; empty once closed). How ``PocketSphinxRecognizer/telephonyCepstralMean`` was
    /// derived.
    public var cepstralMean: [Float] {
        state.withLock { state in
            guard let decoder = state.decoder else { return [] }
            var mean = [Float](repeating: 0, count: 64)
            let count = mean.withUnsafeMutableBufferPointer { cps_cepstral_mean(decoder, $0.baseAddress, Int32($0.count)) }
            return Array(mean.prefix(Int(max(0, count))))
        }
    }

    // MARK: - Implementation

    /// Decodes `audio` again with the search `search` (one utterance), and returns its result.
    private static func redecode(
        _ audio: [Int16], decoder: OpaquePointer, search: String, duration: Double
    ) throws(LocalSpeechError) -> Transcript {
        guard ps_set_search(decoder, search) == 0 else { throw .decodingFailed("ps_set_search") }
        guard ps_start_stream(decoder) >= 0, ps_start_utt(decoder) >= 0 else { throw .decodingFailed("ps_start_utt") }
        let processed = audio.withUnsafeBufferPointer { ps_process_raw(decoder, $0.baseAddress, $0.count, 0, 0) }
        guard ps_end_utt(decoder) >= 0, processed >= 0 else { throw .decodingFailed("ps_process_raw") }
        return transcript(of: decoder, duration: duration)
    }

    /// The decoder's final result for the utterance just ended.
    private static func transcript(of decoder: OpaquePointer, duration: Double) -> Transcript {
        var score: Int32 = 0
        guard let hypothesis = ps_get_hyp(decoder, &score), hypothesis.pointee != 0 else { return .empty }
        let logmath = ps_get_logmath(decoder)
        // The posterior needs the lattice: ask for it before walking the segments, which then carry theirs.
        let confidence = probability(ps_get_prob(decoder), logmath)
        var words: [RecognizedWord] = []
        var segment = ps_seg_iter(decoder)
        while let current = segment {
            if let word = ps_seg_word(current).flatMap({ spokenWord(String(cString: $0)) }) {
                var first: Int32 = 0
                var last: Int32 = 0
                ps_seg_frames(current, &first, &last)
                var acoustic: Int32 = 0
                var language: Int32 = 0
                var backoff: Int32 = 0
                let posterior = ps_seg_prob(current, &acoustic, &language, &backoff)
                let start = min(duration, max(0, Double(first) / framesPerSecond))
                let end = min(duration, max(start, Double(last + 1) / framesPerSecond))
                words.append(RecognizedWord(text: word, start: start, end: end, confidence: probability(posterior, logmath)))
            }
            segment = ps_seg_next(current)  // frees the iterator after the last segment
        }
        let text =
            words.isEmpty
            ? String(cString: hypothesis).split(separator: " ").compactMap { spokenWord(String($0)) }.joined(separator: " ")
            : words.map(\.text).joined(separator: " ")
        return text.isEmpty ? .empty : Transcript(text: text, words: words, confidence: confidence)
    }

    /// A segment's word as spoken, or `nil` for `<s>`, `</s>`, `<sil>`, fillers (`[NOISE]`, `++GARBAGE++`) and
    /// a grammar's empty transitions (`(NULL)`); alternate pronunciations lose their suffix (`the(2)` is `the`).
    static func spokenWord(_ raw: String) -> String? {
        guard let first = raw.first, !"<[+(".contains(first) else { return nil }
        if raw.last == ")", let open = raw.lastIndex(of: "("), open > raw.startIndex {
            return String(raw[..<open])
        }
        return raw
    }

    /// A log probability in the decoder's base, as 0...1.
    private static func probability(_ logProbability: Int32, _ logmath: OpaquePointer?) -> Double? {
        guard let logmath else { return nil }
        let value = logmath_exp(logmath, logProbability)
        return value.isFinite ? min(1, max(0, value)) : nil
    }

    /// Calls `body` with `strings` as C strings (valid only during the call).
    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
        let copies = strings.map { strdup($0) }
        defer { for copy in copies { free(copy) } }
        return copies.map { UnsafePointer($0) }.withUnsafeBufferPointer(body)
    }
}

/// What the session's lock guards: the decoder and the buffers reused from chunk to chunk. Sendable because
/// it is only ever reached through that lock.
private struct DecoderState: ~Copyable, @unchecked Sendable {
    /// The decoder (`nil` once closed).
    var decoder: OpaquePointer?
    /// Whether an utterance is open.
    var inUtterance = false
    /// Samples of the open utterance.
    var sampleCount = 0
    /// Float-to-Int16 conversion space, grown when needed.
    var pcm: UnsafeMutableBufferPointer<Int16>
    /// Whether the utterance's audio is kept (for the open-vocabulary fallback of a phrase grammar).
    let keepsAudio: Bool
    /// The open utterance's audio when ``keepsAudio``; its capacity is kept from utterance to utterance.
    var audio: [Int16] = []

    init(decoder: OpaquePointer, keepsAudio: Bool) {
        self.decoder = decoder
        self.keepsAudio = keepsAudio
        pcm = .allocate(capacity: 320)
        if keepsAudio { audio.reserveCapacity(16000 * 10) }
    }

    /// Makes ``pcm`` hold at least `count` samples.
    mutating func reserve(_ count: Int) {
        guard pcm.count < count else { return }
        pcm.deallocate()
        pcm = .allocate(capacity: count)
    }

    /// Frees the decoder.
    mutating func free() {
        if let decoder { ps_free(decoder) }
        decoder = nil
        inUtterance = false
    }

    deinit {
        if let decoder { ps_free(decoder) }
        pcm.deallocate()
    }
}
