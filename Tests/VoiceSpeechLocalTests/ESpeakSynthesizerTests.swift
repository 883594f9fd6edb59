//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceAgent
import VoiceSpeechLocal

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// espeak-ng through its single worker: audio, word-aligned chunks, serialisation, cancellation, errors.
@Suite("ESpeakSynthesizer")
struct ESpeakSynthesizerTests {
    /// Speaks `pieces` on a new stream of `synthesizer` and returns every chunk.
    static func speak(_ pieces: [String], with synthesizer: ESpeakSynthesizer) async throws -> [SynthesizedAudio] {
        let stream = try await synthesizer.makeStream()
        for piece in pieces { try await stream.send(piece) }
        try await stream.finish()
        var chunks: [SynthesizedAudio] = []
        for try await chunk in stream.audio { chunks.append(chunk) }
        return chunks
    }

    /// Root-mean-square level of `samples`.
    static func rms(_ samples: [Float]) -> Double {
        samples.isEmpty ? 0 : (samples.reduce(0) { $0 + Double($1) * Double($1) } / Double(samples.count)).squareRoot()
    }

    /// Word ends (Unicode-scalar offsets) of `text`: after each run of letters, digits and apostrophes.
    static func wordEnds(_ text: String) -> [Int] {
        var ends: [Int] = []
        var inWord = false
        for (offset, scalar) in text.unicodeScalars.enumerated() {
            let wordy = scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "'"
            if inWord && !wordy { ends.append(offset) }
            inWord = wordy
        }
        if inWord { ends.append(text.unicodeScalars.count) }
        return ends
    }

    /// Seconds since an arbitrary start.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    @Test("a sentence gives speech at the declared rate and a plausible length", arguments: [8000, 16000, 24000])
    func sentence(rate: Int) async throws {
        let synthesizer = try ESpeakSynthesizer(sampleRate: rate)
        #expect(synthesizer.sampleRate == rate)
        let chunks = try await Self.speak(["Thank you for calling. How can I help you today?"], with: synthesizer)
        let samples = chunks.flatMap(\.samples)
        let seconds = Double(samples.count) / Double(rate)
        #expect((0.5...5).contains(seconds), "\(seconds) s")
        #expect(Self.rms(samples) > 0.02, "speech energy \(Self.rms(samples))")
        #expect(samples.allSatisfy { abs($0) <= 1 })
        // Most of the energy below the output's Nyquist frequency, as speech: adjacent samples correlate.
        let correlation = zip(samples, samples.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(correlation / samples.reduce(0.0) { $0 + Double($1) * Double($1) } > 0.3)
    }

    @Test("chunks end at word ends, in order, and their text ranges tile everything sent")
    func chunksFollowWords() async throws {
        let pieces = ["Hello there, ", "your café order — number 42 — is ready. ", " ", "Goodbye!"]
        let text = pieces.joined()
        let chunks = try await Self.speak(pieces, with: try ESpeakSynthesizer())
        let ranges = chunks.compactMap(\.text)
        #expect(ranges.count == chunks.count)
        #expect(chunks.count >= 10, "one chunk per word or so: \(chunks.count)")
        #expect(chunks.allSatisfy { !$0.samples.isEmpty })
        #expect(ranges.first?.lowerBound == 0)
        #expect(ranges.last?.upperBound == text.unicodeScalars.count)
        for (previous, next) in zip(ranges, ranges.dropFirst()) {
            #expect(previous.upperBound == next.lowerBound)
            #expect(next.upperBound > next.lowerBound)
        }
        // Every chunk ends at a word end (or at the end of a piece), and no word is split between chunks.
        let ends = Set(Self.wordEnds(text))
        var pieceEnds = Set<Int>()
        var offset = 0
        for piece in pieces {
            offset += piece.unicodeScalars.count
            pieceEnds.insert(offset)
        }
        for range in ranges { #expect(ends.contains(range.upperBound) || pieceEnds.contains(range.upperBound), "\(range)") }
    }

    @Test("streams synthesised at once from several tasks sound as each does alone")
    func serialised() async throws {
        // A voice without pitch flutter: espeak-ng's flutter phase is a static variable that runs on from one
        // synthesis to the next, so other voices vary with whatever was synthesised before in the process.
        let synthesizer = try ESpeakSynthesizer(voice: "en-us+Andy")
        let texts = [
            ["The quick brown fox ", "jumps over the lazy dog."],
            ["Please hold while I connect you. ", "Your call is important to us."],
            ["Seven, eight, nine. ", "That is all."],
        ]
        var alone: [[SynthesizedAudio]] = []
        for pieces in texts { alone.append(try await Self.speak(pieces, with: synthesizer)) }
        for _ in 0..<3 {
            let together = try await withThrowingTaskGroup(of: (Int, [SynthesizedAudio]).self) { group in
                for (index, pieces) in texts.enumerated() {
                    group.addTask { (index, try await Self.speak(pieces, with: synthesizer)) }
                }
                var results = [[SynthesizedAudio]](repeating: [], count: texts.count)
                for try await (index, chunks) in group { results[index] = chunks }
                return results
            }
            for (solo, shared) in zip(alone, together) {
                // The same cuts and text, and the same sound. Not the same samples: espeak-ng carries state from
                // one synthesis to the next (noise generators, a pause after some words once it has read certain
                // texts), so it never repeats itself exactly. Calls into it interleaved by two threads give other
                // lengths, mixed audio or a crash.
                #expect(shared.map(\.text) == solo.map(\.text))
                for (a, b) in zip(solo, shared) {
                    let common = min(a.samples.count, b.samples.count)
                    #expect(Double(max(a.samples.count, b.samples.count) - common) <= 0.15 * Double(a.samples.count))
                    let level = Self.snr(Array(a.samples.prefix(common)), Array(b.samples.prefix(common)))
                    #expect(level > 15, "\(a.text!): \(level) dB")
                }
            }
        }
    }

    /// How far below `reference` the difference between `reference` and `other` is, in dB (infinite when equal).
    static func snr(_ reference: [Float], _ other: [Float]) -> Double {
        let signal = reference.reduce(0.0) { $0 + Double($1) * Double($1) }
        let difference = zip(reference, other).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }
        return difference == 0 ? .infinity : 10 * log10(signal / difference)
    }

    @Test("cancel ends the audio at once, skips what was queued, and nothing comes after")
    func cancel() async throws {
        let synthesizer = try ESpeakSynthesizer()
        let stream = try await synthesizer.makeESpeakStream()
        let sentences = 1000
        for index in 0..<sentences { try await stream.send("This is sentence number \(index) of a very long reply. ") }
        var iterator = stream.audio.makeAsyncIterator()
        #expect(try await iterator.next() != nil)
        let cancelled = Self.now()
        stream.cancel()
        let madeAtCancel = stream.synthesizedSampleCount
        #expect(try await iterator.next() == nil)
        #expect(Self.now() - cancelled < 0.5)
        try await stream.send("More text after the cancel.")
        try await stream.finish()
        #expect(try await iterator.next() == nil)
        // Once another stream has been served, the worker is past the cancelled stream's jobs: after cancel()
        // it finished at most the sentence it was in (about 3 s, 66,000 samples), not the rest of the 50 minutes
        // queued. (How many it had spoken before depends on the machine's load: it runs 300 times faster than
        // real time.)
        _ = try await Self.speak(["Hello."], with: synthesizer)
        let made = stream.synthesizedSampleCount
        #expect(made > 0 && made - madeAtCancel <= 70000, "\(made - madeAtCancel) samples made after the cancel")
        #expect(made < sentences * 66000)
    }

    @Test("bad settings give typed errors")
    func errors() async throws {
        do {
            _ = try await ESpeakSynthesizer(voice: "no-such-voice-xx").makeStream()
            Issue.record("an unknown voice was accepted")
        } catch {
            #expect((error as? LocalSpeechError)?.code == .voiceNotFound)
        }
        #expect(errorCode { _ = try ESpeakSynthesizer(sampleRate: 44100) } == .invalidArgument)
        #expect(errorCode { _ = try ESpeakSynthesizer(rate: 5) } == .invalidArgument)
        #expect(errorCode { _ = try ESpeakSynthesizer(dataPath: "/nonexistent/espeak-ng-data") } == .dataPathMissing)
        let stream = try await ESpeakSynthesizer().makeStream()
        try await stream.finish()
        do {
            try await stream.send("Too late.")
            Issue.record("text was accepted after finish()")
        } catch {
            #expect((error as? LocalSpeechError)?.code == .streamFinished)
        }
        // A good voice still works after a bad one.
        #expect(!(try await Self.speak(["Still here."], with: try ESpeakSynthesizer())).isEmpty)
    }
}
