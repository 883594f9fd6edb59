//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
public import VoiceAgent
import VoiceDSP

/// One reply spoken by espeak-ng: made by ``ESpeakSynthesizer/makeStream()``.
///
/// Each ``send(_:)`` queues a synthesis job on the process-wide espeak-ng worker and returns; the worker
/// speaks the jobs of all streams one at a time, in the order they were sent. ``audio`` yields chunks that
/// end at word ends; each chunk's ``SynthesizedAudio/text`` runs from where the previous chunk's ended to
/// the end of the last word it voices (offsets in Unicode scalars from the start of everything sent on this
/// stream), so the ranges tile the text; the last chunk of a piece also covers the piece's trailing
/// punctuation and spaces.
public final class ESpeakStream: SynthesisStream {
    /// What the stream speaks with.
    struct Settings: Sendable, Hashable {
        var voice: String
        var rate: Int
        var sampleRate: Int
    }

    /// The stream's id: espeak-ng's `user_data` for its jobs.
    let id: UInt64
    /// The voice, rate and output rate.
    let settings: Settings
    /// The audio, in order. Read it from one task. After ``cancel()`` it ends at once, even if chunks
    /// synthesised before the cancel were not read yet (synthesis runs far ahead of real time).
    public let audio: AsyncThrowingStream<SynthesizedAudio, any Error>

    private let continuation: AsyncThrowingStream<SynthesizedAudio, any Error>.Continuation
    private let worker: ESpeakWorker
    /// Set by ``cancel()``: nothing more is handed out.
    private let cancellation = CancellationFlag()
    /// Set when the reader stopped reading (its task was cancelled) or synthesis failed: the stream's other
    /// jobs are skipped.
    private let abandonment = CancellationFlag()
    /// Cuts and resamples this stream's audio; used only on the worker.
    let renderer: ESpeakRenderer
    /// Counts espeak-ng's samples for this stream; the engine adds to it.
    let synthesizedSamples = Atomic<Int>(0)
    /// The Unicode-scalar offset of the next text sent, and whether ``finish()`` was called.
    private let sending = Mutex<(offset: Int, finished: Bool)>((0, false))

    init(worker: ESpeakWorker, settings: Settings) throws(ResamplerError) {
        self.worker = worker
        self.settings = settings
        id = worker.makeStreamID()
        renderer = try ESpeakRenderer(outputRate: settings.sampleRate)
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        self.continuation = continuation
        let cancellation = cancellation
        let abandonment = abandonment
        continuation.onTermination = { termination in
            // The reader's task was cancelled: nothing queued for the stream needs speaking.
            if case .cancelled = termination { abandonment.set() }
        }
        // The chunks as they come, except that nothing is handed out once cancelled.
        let reader = ChunkReader(chunks.makeAsyncIterator())
        audio = AsyncThrowingStream {
            guard !cancellation.isSet else { return nil }
            let chunk = try await reader.next()
            return cancellation.isSet ? nil : chunk
        }
    }

    /// Queues `text` to be spoken after what was sent before. Ignored after ``cancel()``.
    ///
    /// - Throws: ``LocalSpeechError`` with ``LocalSpeechError/Code/streamFinished`` after ``finish()``.
    public func send(_ text: String) async throws {
        guard !cancellation.isSet else { return }
        let offset = try sending.withLock { (state) throws(LocalSpeechError) -> Int in
            guard !state.finished else { throw .streamFinished }
            let offset = state.offset
            state.offset += text.unicodeScalars.count
            return offset
        }
        worker.submit(.speak(self, text: text, offset: offset))
    }

    /// No more text: ``audio`` ends once everything sent has been spoken.
    public func finish() async throws {
        let first = sending.withLock { state in
            defer { state.finished = true }
            return !state.finished
        }
        if first { worker.submit(.finish(self)) }
    }

    /// Stops at once: jobs still queued are skipped, the one being spoken is abandoned at espeak-ng's next
    /// callback, and ``audio`` ends now.
    public func cancel() {
        cancellation.set()
        continuation.finish()
    }

    /// How many samples espeak-ng has made for this stream so far, at its own 22,050 Hz: a diagnostic (after
    /// ``cancel()`` it stops growing once the synthesis in progress is abandoned).
    public var synthesizedSampleCount: Int { synthesizedSamples.load(ordering: .relaxed) }

    /// Whether the worker should skip this stream's jobs: ``cancel()`` was called, the reader went away, or
    /// synthesis failed.
    var isCancelled: Bool { cancellation.isSet || abandonment.isSet }

    /// Hands a chunk to the reader.
    func yield(_ chunk: SynthesizedAudio) {
        continuation.yield(chunk)
    }

    /// Ends ``audio`` after the last chunk.
    func end() {
        continuation.finish()
    }

    /// Ends ``audio`` with `error`; the stream's other jobs are skipped.
    func fail(_ error: LocalSpeechError) {
        abandonment.set()
        continuation.finish(throwing: error)
    }
}

/// A flag set once, read from any thread.
private final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)

    /// Whether it is set.
    var isSet: Bool { flag.load(ordering: .acquiring) }

    /// Sets it.
    func set() { flag.store(true, ordering: .releasing) }
}

/// The iterator of the stream's chunks, for the one task reading ``ESpeakStream/audio`` (an iterator is
/// never used by two tasks at once, hence `@unchecked Sendable`).
private final class ChunkReader: @unchecked Sendable {
    private var iterator: AsyncThrowingStream<SynthesizedAudio, any Error>.AsyncIterator

    init(_ iterator: AsyncThrowingStream<SynthesizedAudio, any Error>.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> SynthesizedAudio? {
        try await iterator.next()
    }
}
