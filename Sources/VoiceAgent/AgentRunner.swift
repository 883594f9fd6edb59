//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization

/// Runs one call's agent: its replies as tasks, its events in order, and cancellation that never waits.
///
/// Everything the call's owner asks of the agent goes through here without blocking the owner:
/// - ``observe(_:)`` and ``start(_:)`` / ``greet(_:)`` are queued for one driver task, which hands each
///   event to ``Agent/observe(_:)`` in order and starts each reply after the events queued before it (an
///   agent sees `turnEnded` before it is asked to reply, unless the controller starts early). Each reply
///   runs in a task of its own, and every output is handed to `deliver`, stamped with the time the agent
///   produced it (`deliver` should queue it for the owner, for example by yielding into its `AsyncStream`).
/// - ``cancel(turn:)`` cancels at once and returns at once: the owner can send `clear` in the same step.
///   A reply cancelled before it started never starts, and nothing a cancelled reply produces is delivered
///   after `cancel` returns.
/// - ``finish()`` at the end of the call cancels what runs and waits for every task to end.
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

    private enum Command: Sendable {
        case observe(AgentEvent)
        case reply(turn: Int, ticket: Int, CallerTurn?, CallContext?)
    }

    private struct State {
        var tasks: [Int: Task<Void, Never>] = [:]
        /// Every start gets a ticket; a cancel voids the turn's tickets issued so far (a turn can be started
        /// again after an early start was cancelled).
        var nextTicket = 1
        var voidedThrough: [Int: Int] = [:]
        var finished = false

        func isVoid(turn: Int, ticket: Int) -> Bool { finished || ticket <= voidedThrough[turn, default: 0] }
    }

    /// The agent.
    public let agent: any Agent
    private let commands: AsyncStream<Command>.Continuation
    private let driver: Task<Void, Never>
    private let state = Shared()

    /// The runner's state, shared with its tasks.
    private final class Shared: Sendable {
        let mutex = Mutex(State())
        func withLock<Result>(_ body: (inout State) -> Result) -> Result { mutex.withLock { body(&$0) } }
    }

    /// Creates a runner and its driver task.
    ///
    /// - Parameters:
    ///   - agent: The call's agent.
    ///   - clock: Now, in ms, on the clock the controller uses.
    ///   - deliver: Receives every reply's progress, from the reply's task.
    public init(agent: any Agent, clock: @escaping @Sendable () -> Double, deliver: @escaping @Sendable (Delivery) -> Void) {
        self.agent = agent
        let (stream, continuation) = AsyncStream.makeStream(of: Command.self)
        commands = continuation
        let state = state
        driver = Task { [agent] in
            for await command in stream {
                switch command {
                case .observe(let event):
                    await agent.observe(event)
                case .reply(let turn, let ticket, let callerTurn, let context):
                    guard !state.withLock({ $0.isVoid(turn: turn, ticket: ticket) }) else { continue }
                    let stream: AsyncThrowingStream<AgentOutput, any Error>?
                    if let callerTurn {
                        stream = agent.reply(to: callerTurn)
                    } else if let context {
                        stream = agent.greeting(for: context)
                    } else {
                        stream = nil
                    }
                    Self.launch(turn: turn, ticket: ticket, stream: stream, state: state, clock: clock, deliver: deliver)
                }
            }
        }
    }

    /// Hands an event to the agent's ``Agent/observe(_:)``, after the ones before it. Returns at once.
    public func observe(_ event: AgentEvent) {
        commands.yield(.observe(event))
    }

    /// Starts the reply to `turn`, once the events queued before it have been observed. Returns at once.
    public func start(_ turn: CallerTurn) {
        commands.yield(.reply(turn: turn.number, ticket: ticket(), turn, nil))
    }

    /// Starts the agent's greeting (turn 0). Without one, turn 0 finishes at once with no output.
    public func greet(_ context: CallContext) {
        commands.yield(.reply(turn: 0, ticket: ticket(), nil, context))
    }

    private func ticket() -> Int {
        state.withLock { state in
            defer { state.nextTicket += 1 }
            return state.nextTicket
        }
    }

    /// Cancels the reply to `turn` (started or still queued) and returns at once. Nothing it produces is
    /// delivered after this returns, not even its `finished`.
    public func cancel(turn: Int) {
        let task = state.withLock { state -> Task<Void, Never>? in
            state.voidedThrough[turn] = state.nextTicket - 1
            return state.tasks.removeValue(forKey: turn)
        }
        task?.cancel()
    }

    /// Cancels every reply, ends the driver and waits for all of them to end (at the end of a call).
    public func finish() async {
        commands.finish()
        await driver.value  // no reply starts after this
        let all = state.withLock { state in
            defer { state.tasks.removeAll() }
            state.finished = true
            return Array(state.tasks.values)
        }
        for task in all { task.cancel() }
        for task in all { await task.value }
    }

    /// The number of replies not yet cancelled (finished ones included until pruned).
    var trackedReplies: Int { state.withLock { $0.tasks.count } }

    private static func launch(
        turn: Int, ticket: Int, stream: AsyncThrowingStream<AgentOutput, any Error>?, state: Shared,
        clock: @escaping @Sendable () -> Double, deliver: @escaping @Sendable (Delivery) -> Void
    ) {
        /// Delivers unless the run was cancelled: checked under the lock that `cancel` takes.
        @Sendable func send(_ delivery: Delivery) {
            state.withLock { state in
                if !state.isVoid(turn: turn, ticket: ticket) { deliver(delivery) }
            }
        }
        let task = Task {
            send(.started(turn: turn, at: clock()))
            guard let stream else {
                send(.finished(turn: turn, error: nil))
                return
            }
            do {
                for try await output in stream {
                    if Task.isCancelled { break }
                    send(.output(output, turn: turn, producedAt: clock()))
                }
                send(.finished(turn: turn, error: nil))
            } catch is CancellationError {
                send(.finished(turn: turn, error: nil))
            } catch {
                send(.finished(turn: turn, error: "\(error)"))
            }
        }
        let voided = state.withLock { state in
            guard !state.isVoid(turn: turn, ticket: ticket) else { return true }
            state.tasks = state.tasks.filter { $0.key >= turn - 4 }  // finished replies are not removed otherwise
            state.tasks[turn] = task
            return false
        }
        if voided { task.cancel() }
    }
}
