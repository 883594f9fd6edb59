//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import VoiceAgent

/// A recogniser that cannot open a session (a refused key, an unreachable host).
struct RefusingRecognizer: SpeechRecognizer {
    let sampleRate = 16000
    func makeSession() async throws -> any RecognitionSession { throw FakeFailure(description: "401 from the recogniser") }
}

@Suite("Fallback chains")
struct FallbackTests {
    /// Everything a stream produced: the ranges in order and the samples.
    static func drain(_ stream: any SynthesisStream) async throws -> (ranges: [Range<Int>], samples: Int) {
        var ranges: [Range<Int>] = []
        var samples = 0
        for try await chunk in stream.audio {
            if let range = chunk.text { ranges.append(range) }
            samples += chunk.samples.count
        }
        return (ranges, samples)
    }

    @Test("a voice that fails mid-reply is replaced from the first word not yet voiced: nothing said twice or skipped")
    func synthesizerFailsMidReply() async throws {
        let primary = WordSynthesizer(wordMilliseconds: 100, failAfter: 2)
        let fallback = WordSynthesizer(wordMilliseconds: 100)
        let chain = try FallbackSynthesizer(primary: primary, fallback: fallback)
        let stream = try await chain.makeStream()
        let text = ["one two three", " four five."]
        async let result = Self.drain(stream)
        for piece in text { try await stream.send(piece) }
        try await stream.finish()
        let (ranges, samples) = try await result
        let whole = Array(text.joined().unicodeScalars)
        let words = ranges.map { String(String.UnicodeScalarView(whole[$0])) }
        #expect(words == ["one", "two", "three", "four", "five."])
        #expect(primary.chunksMade.load(ordering: .relaxed) == 2)
        #expect(fallback.chunksMade.load(ordering: .relaxed) == 3)
        #expect(samples == 5 * 1600)
    }

    @Test("a voice that cannot open a stream is replaced for the whole reply")
    func synthesizerRefuses() async throws {
        let primary = WordSynthesizer()
        primary.failing.store(true, ordering: .relaxed)
        let fallback = WordSynthesizer(wordMilliseconds: 50)
        let stream = try await FallbackSynthesizer(primary: primary, fallback: fallback).makeStream()
        async let result = Self.drain(stream)
        try await stream.send("hello there")
        try await stream.finish()
        #expect(try await result.ranges == [0..<5, 6..<11])
        #expect(fallback.chunksMade.load(ordering: .relaxed) == 2)
    }

    @Test("a cancelled reply does not fall back")
    func cancelledDoesNotFallBack() async throws {
        let primary = WordSynthesizer(wordMilliseconds: 50, delay: .milliseconds(20))
        let fallback = WordSynthesizer(wordMilliseconds: 50)
        let stream = try await FallbackSynthesizer(primary: primary, fallback: fallback).makeStream()
        let sender = Task { try await stream.send("a b c d e f g h") }
        try await Task.sleep(for: .milliseconds(50))
        stream.cancel()
        _ = try? await sender.value
        _ = try? await Self.drain(stream)
        #expect(fallback.chunksMade.load(ordering: .relaxed) == 0)
        #expect(primary.cancels.load(ordering: .relaxed) == 1)
    }

    @Test("different sample rates are refused when the chain is built")
    func ratesMustMatch() {
        final class Other: SpeechSynthesizer {
            let sampleRate = 8000
            func makeStream() async throws -> any SynthesisStream { throw FakeFailure(description: "unused") }
        }
        #expect(throws: FallbackError.sampleRatesDiffer(primary: 16000, fallback: 8000)) {
            try FallbackSynthesizer(primary: WordSynthesizer(), fallback: Other())
        }
    }

    @Test("a recogniser that fails on an utterance's final hands that utterance's audio to the fallback")
    func recognizerFailsOnFinal() async throws {
        let primary = ScriptedRecognizer(["first from primary", nil, "third from primary"])
        let fallback = ScriptedRecognizer(["second from fallback"])
        let session = try await FallbackRecognizer(primary: primary, fallback: fallback).makeSession()
        let audio = [Float](repeating: 0.1, count: 320)
        func utterance(frames: Int) async throws -> String {
            for _ in 0..<frames { try audio.withUnsafeBufferPointer { try session.accept($0) } }
            return try await session.finishUtterance().text
        }
        #expect(try await utterance(frames: 5) == "first from primary")
        #expect(try await utterance(frames: 7) == "second from fallback")
        #expect(fallback.fed.withLock { $0 } == [7 * 320])
        // The next utterance goes to a fresh primary session (opened in the background after the failure).
        let deadline = ContinuousClock.now + .seconds(5)
        while primary.sessions.load(ordering: .relaxed) < 2, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(try await utterance(frames: 3) == "third from primary")
        await session.close()
    }

    @Test("a recogniser that cannot open a session leaves every utterance to the fallback, and the call goes on")
    func recognizerRefuses() async throws {
        let fallback = ScriptedRecognizer(["heard locally", "again"])
        let session = try await FallbackRecognizer(primary: RefusingRecognizer(), fallback: fallback).makeSession()
        let audio = [Float](repeating: 0.1, count: 160)
        try audio.withUnsafeBufferPointer { try session.accept($0) }
        #expect(try await session.finishUtterance().text == "heard locally")
        try audio.withUnsafeBufferPointer { try session.accept($0) }
        try audio.withUnsafeBufferPointer { try session.accept($0) }
        #expect(try await session.finishUtterance().text == "again")
        #expect(fallback.fed.withLock { $0 } == [160, 320])
        #expect(fallback.sessions.load(ordering: .relaxed) == 1)
    }
}
