//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization

/// An asynchronous lock that lets one task at a time through, in the order they came: a store's write
/// transactions on its single write connection must not interleave.
package final class SerialGate: Sendable {
    private struct State {
        var busy = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Creates an open gate.
    package init() {}

    /// Runs `body` alone: every other `run` waits until it returns.
    package func run<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let entered = state.withLock { state in
            if state.busy { return false }
            state.busy = true
            return true
        }
        if entered { return }
        await withCheckedContinuation { continuation in
            let entered = state.withLock { state in
                if state.busy {
                    state.waiters.append(continuation)
                    return false
                }
                state.busy = true
                return true
            }
            if entered { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()  // stays busy: the gate passes straight to the next task
        }
        next?.resume()
    }
}
