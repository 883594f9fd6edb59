//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import VoiceAgent

struct FakeFailure: Error, CustomStringConvertible {
    var description: String
}

/// A recogniser that says, for each utterance in turn, the next of its scripted texts (`nil`: fail), and
/// counts the samples it was fed per utterance.
final class ScriptedRecognizer: SpeechRecognizer {
    let sampleRate = 16000
    let script: Mutex<[String?]>
    let fed = Mutex<[Int]>([])  // samples per finished utterance
    let sessions = Atomic<Int>(0)

    init(_ script: [String?]) { self.script = Mutex(script) }

    func makeSession() async throws -> any RecognitionSession {
        sessions.add(1, ordering: .relaxed)
        return Session(recognizer: self)
    }

    final class Session: RecognitionSession {
        let recognizer: ScriptedRecognizer
        let count = Mutex(0)
        init(recognizer: ScriptedRecognizer) { self.recognizer = recognizer }

        func accept(_ samples: UnsafeBufferPointer<Float>) throws { count.withLock { $0 += samples.count } }
        func partialResult() -> Transcript? { nil }
        func finishUtterance() async throws -> Transcript {
            let samples = count.withLock { value in
                defer { value = 0 }
                return value
            }
            recognizer.fed.withLock { $0.append(samples) }
            let next = recognizer.script.withLock { $0.isEmpty ? "" : $0.removeFirst() }
            guard let next else { throw FakeFailure(description: "recogniser lost its connection") }
            return Transcript(text: next)
        }
        func cancelUtterance() { count.withLock { $0 = 0 } }
        func close() async {}
    }
}

/// A model that answers every message with the same pieces, `pause` apart, and remembers what it was asked.
final class ScriptedModel: LanguageModel {
    let pieces: [ModelOutput]
    let pause: Duration
    let failAfter: Int?
    let asked = Mutex<[[ChatMessage]]>([])
    let terminated = Atomic<Int>(0)
    let produced = Mutex<[(piece: Int, at: ContinuousClock.Instant)]>([])

    init(_ pieces: [ModelOutput], pause: Duration = .zero, failAfter: Int? = nil) {
        self.pieces = pieces
        self.pause = pause
        self.failAfter = failAfter
    }

    func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        asked.withLock { $0.append(messages) }
        return AsyncThrowingStream { continuation in
            let task = Task {
                for (index, piece) in pieces.enumerated() {
                    if index > 0, pause > .zero { try? await Task.sleep(for: pause) }
                    if Task.isCancelled { break }
                    if let failAfter, index == failAfter {
                        continuation.finish(throwing: FakeFailure(description: "model stream dropped"))
                        return
                    }
                    produced.withLock { $0.append((index, .now)) }
                    continuation.yield(piece)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in
                self.terminated.add(1, ordering: .relaxed)
                task.cancel()
            }
        }
    }
}

/// A synthesiser that voices each word as `wordMilliseconds` of a 0.3-amplitude signal at 16 kHz, one
/// chunk per word carrying the word's character range, `delay` per chunk; it can fail after some chunks
/// (`failAfter` chunks in all), refuse to open streams (`failing`), and counts cancellations.
final class WordSynthesizer: SpeechSynthesizer {
    let sampleRate = 16000
    let wordMilliseconds: Int
    let delay: Duration
    let failAfter: Int?
    let failing = Atomic<Bool>(false)
    let cancels = Atomic<Int>(0)
    let chunksMade = Atomic<Int>(0)

    init(wordMilliseconds: Int = 300, delay: Duration = .zero, failAfter: Int? = nil) {
        self.wordMilliseconds = wordMilliseconds
        self.delay = delay
        self.failAfter = failAfter
    }

    func makeStream() async throws -> any SynthesisStream {
        if failing.load(ordering: .relaxed) { throw FakeFailure(description: "synthesiser unavailable") }
        return Stream(synthesizer: self)
    }

    final class Stream: SynthesisStream {
        let synthesizer: WordSynthesizer
        let audio: AsyncThrowingStream<SynthesizedAudio, any Error>
        private let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
        private let state = Mutex((offset: 0, cancelled: false))

        init(synthesizer: WordSynthesizer) {
            self.synthesizer = synthesizer
            (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        }

        func send(_ text: String) async throws {
            let scalars = Array(text.unicodeScalars)
            var index = 0
            while index < scalars.count {
                while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
                let start = index
                while index < scalars.count, !scalars[index].properties.isWhitespace { index += 1 }
                guard index > start else { break }
                if synthesizer.delay > .zero { try await Task.sleep(for: synthesizer.delay) }
                let (base, cancelled) = state.withLock { ($0.offset, $0.cancelled) }
                if cancelled { return }
                if let failAfter = synthesizer.failAfter, synthesizer.chunksMade.load(ordering: .relaxed) >= failAfter {
                    continuation.finish(throwing: FakeFailure(description: "synthesiser socket dropped"))
                    return
                }
                synthesizer.chunksMade.add(1, ordering: .relaxed)
                let count = synthesizer.wordMilliseconds * synthesizer.sampleRate / 1000
                continuation.yield(SynthesizedAudio(samples: [Float](repeating: 0.3, count: count), text: (base + start)..<(base + index)))
            }
            state.withLock { $0.offset += scalars.count }
        }

        func finish() async throws { continuation.finish() }

        func cancel() {
            synthesizer.cancels.add(1, ordering: .relaxed)
            state.withLock { $0.cancelled = true }
            continuation.finish()
        }
    }
}
