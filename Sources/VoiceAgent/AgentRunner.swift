//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization

/// Runs an agent's replies as tasks for one call, and cancels them on barge-in.
///
/// ``start(_:deliver:)`` runs ``Agent/reply(to:)`` in a task and hands each output, stamped with the time
/// the agent produced it, to `deliver` (which should queue it for the call's owner task, for example by
/// yielding into its `AsyncStream`). ``cancel(turn:)`` cancels the task and returns only once it has ended,
/// so nothing of a cancelled reply runs on. Late deliveries of a cancelled turn are harmless: the
/// ``TurnTakingController`` ignores turns it is not waiting for.
public final class AgentRunner: Sendable {
    /// What a reply task reports.
    public enum Delivery: Sendable {
        /// The reply task started running.
        case started(turn: Int, at: Double)
        /// The agent produced an output.
        case output(AgentOutput, turn: Int, producedAt: Double)
        /// The reply ended: normally, cancelled, or with an error (its description).
        case finished(turn: Int, error: String?)
    }

    /// The agent.
    public let agent: any Agent
    private let clock: @Sendable () -> Double
    private let tasks = Mutex<[Int: Task<Void, Never>]>([:])

    /// Creates a runner.
    ///
    /// - Parameter clock: Now, in ms, on the clock the controller uses.
    public init(agent: any Agent, clock: @escaping @Sendable () -> Double) {
        self.agent = agent
        self.clock = clock
    }

    /// Starts the reply to `turn`.
    public func start(_ turn: CallerTurn, deliver: @escaping @Sendable (Delivery) -> Void) {
        let agent = agent
        let clock = clock
        let task = Task {
            deliver(.started(turn: turn.number, at: clock()))
            do {
                for try await output in agent.reply(to: turn) {
                    if Task.isCancelled { break }
                    deliver(.output(output, turn: turn.number, producedAt: clock()))
                }
                deliver(.finished(turn: turn.number, error: nil))
            } catch is CancellationError {
                deliver(.finished(turn: turn.number, error: nil))
            } catch {
                deliver(.finished(turn: turn.number, error: "\(error)"))
            }
        }
        tasks.withLock { tasks in
            tasks = tasks.filter { $0.key >= turn.number - 4 }  // finished replies are not removed otherwise
            tasks[turn.number] = task
        }
    }

    /// Cancels the reply to `turn` and waits for its task to end.
    public func cancel(turn: Int) async {
        let task = tasks.withLock { $0.removeValue(forKey: turn) }
        task?.cancel()
        await task?.value
    }

    /// Cancels every reply and waits for them (at the end of a call).
    public func cancelAll() async {
        let all = tasks.withLock { tasks in
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
    }

    /// The number of replies not yet cancelled (finished ones included until pruned).
    var trackedReplies: Int { tasks.withLock { $0.count } }
}
