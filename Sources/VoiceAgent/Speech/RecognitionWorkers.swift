//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Dispatch
import Synchronization

/// Threads of their own for speech recognition, so that a recogniser decoding on the CPU never holds one of
/// Swift's cooperative threads, which every call's socket and turn-taking loop share.
///
/// A local recogniser decodes inside ``RecognitionSession/accept(_:)`` and ``RecognitionSession/finishUtterance()``
/// (pocketsphinx: about a quarter of a CPU second per second of speech, and up to half a second at the end
/// of an utterance it decodes again). Run on the cooperative pool, which has one thread per core, two such
/// decodes on a 2-core machine would stall every call for their duration. ``CascadeAgent`` runs its
/// recognition task on one of these workers instead (a `TaskExecutor`): the operating system then shares the
/// cores between decoding and the calls, and the calls' loops are never blocked.
public final class RecognitionWorkers: Sendable {
    /// One worker thread (a serial dispatch queue) as a task executor.
    final class Worker: TaskExecutor {
        let queue: DispatchQueue

        init(label: String) { queue = DispatchQueue(label: label, qos: .userInitiated) }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    private let workers: [Worker]
    private let next = Atomic<Int>(0)

    /// The workers all cascades share by default: 64, handed out round robin, so that up to 64 calls each
    /// have one of their own. A serial queue takes a thread only while it has work, and the operating system
    /// shares the cores among them: with a worker per core instead, calls whose utterances end together wait
    /// for each other's decoding in line (measured: at 20 calls one turn waited 3.7 s for its recogniser).
    public static let shared = RecognitionWorkers(count: 64)

    /// Creates `count` workers (at least one).
    public init(count: Int) {
        workers = (0..<max(1, count)).map { Worker(label: "voicepipe.recognition.\($0)") }
    }

    /// The number of workers.
    public var count: Int { workers.count }

    /// The next worker, round robin: each call's recognition task is pinned to one.
    public func nextExecutor() -> any TaskExecutor {
        workers[next.add(1, ordering: .relaxed).oldValue % workers.count]
    }
}
