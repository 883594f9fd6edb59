//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization

/// One 20 ms clock for all of a server's calls, instead of a sleeping task per call: every 5 ms it ticks a
/// quarter of the calls, so each call is ticked every 20 ms and the work is spread over the period.
final class Metronome: Sendable {
    typealias Subscriber = @Sendable (ContinuousClock.Instant) -> Void

    private struct State {
        var subscribers: [Int: (phase: Int, tick: Subscriber)] = [:]
        var nextID = 0
        var running = false
    }

    private let state = Mutex(State())
    static let phases = 4

    /// Starts ticking `tick` every 20 ms until the returned id is removed.
    func add(_ tick: @escaping Subscriber) -> Int {
        let (id, start) = state.withLock { state -> (Int, Bool) in
            let id = state.nextID
            state.nextID += 1
            state.subscribers[id] = (id % Self.phases, tick)
            defer { state.running = true }
            return (id, !state.running)
        }
        if start { Task.detached { await self.run() } }
        return id
    }

    /// Whether the clock's task is running (it ends when the last subscriber is removed).
    var isRunning: Bool { state.withLock { $0.running } }

    /// Stops ticking a subscriber.
    func remove(_ id: Int) {
        _ = state.withLock { $0.subscribers.removeValue(forKey: id) }
    }

    private func run() async {
        var due = ContinuousClock.now
        var phase = 0
        while true {
            due += .milliseconds(20 / Self.phases)
            try? await Task.sleep(until: due, clock: .continuous)
            phase = (phase + 1) % Self.phases
            let current = phase
            let ticks = state.withLock { state -> [Subscriber]? in
                if state.subscribers.isEmpty {
                    state.running = false
                    return nil
                }
                return state.subscribers.values.filter { $0.phase == current }.map(\.tick)
            }
            guard let ticks else { return }
            for tick in ticks { tick(due) }
        }
    }
}
