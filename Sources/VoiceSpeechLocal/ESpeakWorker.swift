//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Dispatch
import Synchronization

/// The one owner of espeak-ng in the process: a serial queue on which every espeak-ng call runs.
///
/// espeak-ng 1.51 is not re-entrant (one global voice, one global callback, static state throughout): two
/// threads synthesising at once corrupt each other's audio or crash. Jobs of all streams run here one after
/// another, in the order they were submitted; one sentence takes about 3 ms.
final class ESpeakWorker: Sendable {
    /// What the worker does for a stream.
    enum Job: Sendable {
        /// Speak `text`, whose first Unicode scalar is at `offset` in the stream's text.
        case speak(ESpeakStream, text: String, offset: Int)
        /// End the stream's audio (after everything it sent before).
        case finish(ESpeakStream)
    }

    /// The process's worker.
    static let shared = ESpeakWorker()

    private let queue = DispatchQueue(label: "VoiceSpeechLocal.espeak-ng", qos: .userInitiated)
    /// espeak-ng's state as the worker knows it; touched only on `queue`.
    let engine = ESpeakEngine()
    private let nextStreamID = Atomic<UInt64>(1)

    private init() {}

    /// A new stream id (never 0: a null `user_data` means no stream).
    func makeStreamID() -> UInt64 {
        nextStreamID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Initialises espeak-ng if needed and checks that `voice` exists, on the worker.
    func prepare(voice: String, dataPath: String?) async throws(LocalSpeechError) {
        let engine = engine
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, LocalSpeechError>, Never>) in
            queue.async {
                continuation.resume(
                    returning: Result { () throws(LocalSpeechError) in try engine.prepare(voice: voice, dataPath: dataPath) })
            }
        }
        try result.get()
    }

    /// Queues a job behind every job submitted before it.
    func submit(_ job: Job) {
        let engine = engine
        queue.async { engine.run(job) }
    }
}
