//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceAgent
import VoiceSpeechLocal

/// Recognition of real recorded speech (Asterisk prompts through the phone path), one session per "call".
@Suite("PocketSphinxRecognizer")
struct PocketSphinxRecognizerTests {
    /// Open-vocabulary prompts and their published transcripts (normalised), none of them used to derive the
    /// telephony cepstral mean.
    static let openPrompts: [(name: String, reference: String)] = [
        ("agent-pass", "please enter your password followed by the pound key"),
        ("conf-roll-callcomplete", "playback of the list of people attending is complete"),
        ("vm-nobodyavail", "nobody is available to take your call at the moment"),
        ("to-call-this-number", "to call this number"),
    ]

    /// A callback-booking front desk: what its callers say.
    static let domainPhrases = [
        "goodbye", "telephone number", "call me back", "callback", "today", "tomorrow", "hours", "extension", "transfer",
    ]

    /// In-domain recordings and what they say.
    static let domainRecordings: [(name: String, text: String)] = [
        ("digits/1", "one"), ("digits/2", "two"), ("digits/3", "three"), ("digits/4", "four"), ("digits/7", "seven"),
        ("digits/8", "eight"), ("digits/9", "nine"), ("digits/0", "zero"), ("digits/oh", "oh"), ("goodbye", "goodbye"),
        ("telephone-number", "telephone number"), ("digits/tomorrow", "tomorrow"), ("hours", "hours"), ("extension", "extension"),
    ]

    /// Feeds each prompt to `session` as one utterance, 20 ms at a time, and collects the results.
    static func recognise(_ names: [String], session: any RecognitionSession) async throws -> [Transcript] {
        var results: [Transcript] = []
        for name in names {
            let audio = try TelephonePrompt.audio(name)
            try audio.withUnsafeBufferPointer { all in
                for start in stride(from: 0, to: all.count, by: 320) {
                    try session.accept(UnsafeBufferPointer(rebasing: all[start..<min(start + 320, all.count)]))
                }
            }
            results.append(try await session.finishUtterance())
        }
        return results
    }

    /// The fraction of `reference`'s words (as a multiset) found in `hypothesis`.
    static func sharedWords(_ hypothesis: String, _ reference: String) -> Double {
        var remaining = hypothesis.split(separator: " ").map(String.init)
        var shared = 0
        let words = reference.split(separator: " ").map(String.init)
        for word in words {
            if let index = remaining.firstIndex(of: word) {
                remaining.remove(at: index)
                shared += 1
            }
        }
        return Double(shared) / Double(words.count)
    }

    @Test("open vocabulary: real telephone prompts share most of their words with the published text")
    func openVocabulary() async throws {
        let recognizer = try PocketSphinxRecognizer()
        #expect(recognizer.sampleRate == 16000)
        let session = try await recognizer.makeSession()
        let transcripts = try await Self.recognise(Self.openPrompts.map(\.name), session: session)
        await session.close()
        var shared = 0.0
        for (prompt, transcript) in zip(Self.openPrompts, transcripts) {
            let fraction = Self.sharedWords(transcript.text, prompt.reference)
            #expect(fraction >= 0.5, "\(prompt.name): '\(transcript.text)' for '\(prompt.reference)'")
            shared += fraction
        }
        // Measured: 0.81 (0.56 to 1 per prompt); on prompts in general the open vocabulary misses about half the words.
        #expect(shared / Double(Self.openPrompts.count) >= 0.7)
        #expect(transcripts[3].text == "to call this number")
    }

    @Test("word timings are ordered, inside the utterance, with confidences in 0...1")
    func wordTimings() throws {
        let session = try PocketSphinxRecognizer().makeSynchronousSession()
        for prompt in Self.openPrompts {
            let audio = try TelephonePrompt.audio(prompt.name)
            let transcript = try session.transcribe(audio)
            let duration = Double(audio.count) / 16000
            #expect(!transcript.words.isEmpty)
            #expect(transcript.text == transcript.words.map(\.text).joined(separator: " "))
            #expect(transcript.isFinal)
            #expect(transcript.confidence.map { (0...1).contains($0) } == true)
            var previousEnd = 0.0
            for word in transcript.words {
                #expect(word.start >= previousEnd && word.start < word.end && word.end <= duration, "\(prompt.name): \(word)")
                #expect(word.confidence.map { (0...1).contains($0) } == true)
                #expect(!word.text.contains("(") && !word.text.hasPrefix("<") && !word.text.hasPrefix("["))
                previousEnd = word.end
            }
        }
    }

    @Test("phrases: in-domain recordings are recognised exactly, digits included")
    func phrases() async throws {
        let recognizer = try PocketSphinxRecognizer(vocabulary: .phrases(Self.domainPhrases, digits: true))
        #expect(recognizer.droppedWords.isEmpty)
        let session = try await recognizer.makeSession()
        let transcripts = try await Self.recognise(Self.domainRecordings.map(\.name), session: session)
        for (recording, transcript) in zip(Self.domainRecordings, transcripts) {
            #expect(transcript.text == recording.text, "\(recording.name)")
        }
        // "five" and "six" come out as "nine" and "eight": their fricatives are above 4 kHz, which a telephone
        // line cuts and the 16 kHz model relies on (true of the model's own tools too, whatever the settings).
        let fiveAndSix = try await Self.recognise(["digits/5", "digits/6"], session: session)
        withKnownIssue("the en-us model cannot hear /f/ and /s/ through a telephone band") {
            #expect(fiveAndSix.map(\.text) == ["five", "six"])
        }
        await session.close()
    }

    @Test("phrases: speech outside the grammar falls back to the open vocabulary")
    func fallback() throws {
        let grammarOnly = try PocketSphinxRecognizer(vocabulary: .phrases(Self.domainPhrases, digits: true)).makeSynchronousSession()
        let open = try PocketSphinxRecognizer().makeSynchronousSession()
        let audio = try TelephonePrompt.audio("agent-pass")
        let fallback = try grammarOnly.transcribe(audio)
        // The grammar's best path for this sentence does not reach the end of the grammar: the session sees it
        // and decodes the same audio with the open language model.
        let openResult = try open.transcribe(audio)
        #expect(Self.sharedWords(fallback.text, "please enter your password followed by the pound key") >= 0.5, "\(fallback.text)")
        #expect(fallback.text == openResult.text)
    }

    @Test("two sessions decoding at once give exactly what one gives alone")
    func parallelSessions() async throws {
        let recognizer = try PocketSphinxRecognizer(vocabulary: .phrases(Self.domainPhrases, digits: true))
        let names = ["digits/1", "agent-pass", "telephone-number", "digits/9", "vm-nobodyavail"]
        let alone = try await Self.recognise(names, session: try await recognizer.makeSession())
        async let first = Self.recognise(names, session: try await recognizer.makeSession())
        async let second = Self.recognise(names, session: try await recognizer.makeSession())
        let (a, b) = try await (first, second)
        #expect(a == alone)
        #expect(b == alone)
    }

    @Test("words missing from the dictionary are dropped with a warning, not a crash")
    func unknownWords() throws {
        let recognizer = try PocketSphinxRecognizer(vocabulary: .phrases(["Goodbye!", "call me back qxzzyv", "zzqxv"]))
        #expect(recognizer.droppedWords == ["qxzzyv", "zzqxv"])
        let session = try recognizer.makeSynchronousSession()
        #expect(try session.transcribe(try TelephonePrompt.audio("goodbye")).text == "goodbye")
        #expect(errorCode { _ = try PocketSphinxRecognizer(vocabulary: .phrases(["qxzzyv"])) } == .grammarFailed)
    }

    @Test("missing model files and closed sessions give typed errors")
    func errors() async throws {
        let model = PocketSphinxRecognizer.Model(
            acousticModel: "/nonexistent/en-us", languageModel: "/nonexistent/lm", dictionary: "/nonexistent/dict")
        #expect(errorCode { _ = try PocketSphinxRecognizer(model: model) } == .modelFilesMissing)
        let session = try PocketSphinxRecognizer().makeSynchronousSession()
        #expect(session.cepstralMean.count == 13)
        await session.close()
        #expect(session.cepstralMean.isEmpty)
        #expect(errorCode { try [Float](repeating: 0, count: 320).withUnsafeBufferPointer { try session.accept($0) } } == .sessionClosed)
    }

    @Test("an utterance with nothing fed is empty; a cancelled one leaves no trace in the next result")
    func emptyAndCancelled() async throws {
        let recognizer = try PocketSphinxRecognizer(vocabulary: .phrases(Self.domainPhrases, digits: true))
        let session = try recognizer.makeSynchronousSession()
        #expect(try await session.finishUtterance() == .empty)
        #expect(session.partialResult() == nil)
        let noise = try TelephonePrompt.audio("agent-pass")
        try noise.withUnsafeBufferPointer { try session.accept(UnsafeBufferPointer(rebasing: $0[..<16000])) }
        #expect(session.partialResult()?.isFinal == false)
        session.cancelUtterance()
        #expect(try session.transcribe(try TelephonePrompt.audio("telephone-number")).text == "telephone number")
    }
}
