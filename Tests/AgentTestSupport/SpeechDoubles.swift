//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
public import VoiceAgent

/// A recogniser that hears `text` in every utterance it was fed more than a second of audio for (and nothing
/// in a shorter one).
public struct HearsText: SpeechRecognizer {
    public let sampleRate = 16000
    /// What it hears.
    public let text: String

    public init(_ text: String) { self.text = text }

    public func makeSession() async throws -> any RecognitionSession { Session(text: text) }

    final class Session: RecognitionSession {
        let text: String
        let fed = Mutex(0)
        init(text: String) { self.text = text }
        func accept(_ samples: UnsafeBufferPointer<Float>) throws { fed.withLock { $0 += samples.count } }
        func partialResult() -> Transcript? { nil }
        func finishUtterance() async throws -> Transcript {
            let samples = fed.withLock { count in
                defer { count = 0 }
                return count
            }
            return Transcript(text: samples > 16000 ? text : "")
        }
        func cancelUtterance() { fed.withLock { $0 = 0 } }
        func close() async {}
    }
}

/// A synthesiser that voices each word as 200 ms of a quiet tone.
public struct Hums: SpeechSynthesizer {
    public let sampleRate = 16000

    public init() {}

    public func makeStream() async throws -> any SynthesisStream { Stream() }

    final class Stream: SynthesisStream {
        let audio: AsyncThrowingStream<SynthesizedAudio, any Error>
        let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
        let offset = Mutex(0)
        init() { (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self) }

        func send(_ text: String) async throws {
            let base = offset.withLock { value in
                defer { value += text.unicodeScalars.count }
                return value
            }
            var position = 0
            for word in text.split(separator: " ", omittingEmptySubsequences: false) {
                let length = word.unicodeScalars.count
                if length > 0 {
                    let tone = (0..<3200).map { Float(sin(Double($0) * 0.2)) * 0.05 }
                    continuation.yield(SynthesizedAudio(samples: tone, text: (base + position)..<(base + position + length)))
                }
                position += length + 1
            }
        }
        func finish() async throws { continuation.finish() }
        func cancel() { continuation.finish() }
    }
}
