//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
public import Logging
import Synchronization
public import VoiceAgent
public import VoicePipeStore

/// Answers inbound SMS and WhatsApp with a ``LanguageModel`` (the playbook offline, a hosted model when
/// configured), given the contact's history on every channel, calls included.
///
/// A webhook handler calls ``receive(_:)``: once it returns, the message and the reply it is owed are in the
/// store, and the webhook can be acknowledged. ``run()`` (a task the server runs) writes each reply and
/// sends it through the ``TextSender``, through the store's outbox, so that each reply is sent exactly once:
///
/// - **Retried webhooks** are recorded once and answered once (the store's insert-if-absent on the provider id).
/// - **A crash between the acknowledgement and the reply** leaves the reply owed; ``run()`` finds it when the
///   process starts again and sends it.
/// - **A crash or a failure during the send** (the provider may have the message, or not) is settled by
///   looking for the message at the provider (``TextSender/findSent(_:since:)``) before sending again.
/// - **Opt-outs** (STOP and the other keywords, or error 21610 at send or in a status callback) are recorded;
///   an opted-out contact gets no reply until START.
///
/// Replies to one contact go out in order, one at a time; different contacts are answered concurrently (up
/// to ``Configuration/concurrency``).
public final class TextAgent: Sendable {
    /// Settings.
    public struct Configuration: Sendable {
        /// Instructions for the model (the first, system message).
        public var instructions: String?
        /// How much of the contact's history the model sees.
        public var memory: StoreMemory.Budget
        /// Sent when the model fails (`nil`: the reply is retried, then given up).
        public var apology: String?
        /// The longest reply, in characters (Twilio's limit for a message is 1,600).
        public var maximumReplyCharacters: Int
        /// Contacts answered at once.
        public var concurrency: Int
        /// How long the model may take for one reply.
        public var modelTimeout: Duration
        /// Attempts at sending one reply before it is given up.
        public var maximumAttempts: Int
        /// The wait before the first retry of a failed send (doubling each time, at most 30 s).
        public var retryDelay: Duration
        /// How long a reply claimed for sending by another process (or an earlier run) is left to it before this
        /// agent takes it over, looks for it at the provider and sends it if it is not there. `nil` (the default):
        /// 120 s on a store shared by several processes (PostgreSQL), none on a store of one server (SQLite). Keep it
        /// above the longest send with its retries.
        public var claimLease: Duration?

        /// Creates settings.
        public init(
            instructions: String? = nil, memory: StoreMemory.Budget = .init(),
            apology: String? = "Sorry, I can't answer that right now. Please try again in a little while.",
            maximumReplyCharacters: Int = 1600, concurrency: Int = 16, modelTimeout: Duration = .seconds(30), maximumAttempts: Int = 6,
            retryDelay: Duration = .milliseconds(500)
        ) {
            self.instructions = instructions
            self.memory = memory
            self.apology = apology
            self.maximumReplyCharacters = maximumReplyCharacters
            self.concurrency = concurrency
            self.modelTimeout = modelTimeout
            self.maximumAttempts = maximumAttempts
            self.retryDelay = retryDelay
            claimLease = nil
        }
    }

    /// What ``receive(_:)`` did with a message.
    public enum Reception: Sendable, Hashable {
        /// Recorded; a reply is owed (its outbox id).
        case accepted(replyID: Int64)
        /// Seen before (a retried webhook): nothing was done.
        case duplicate
        /// An opt-out keyword: recorded, the contact opted out, no reply.
        case optedOut
        /// An opt-in keyword: recorded, the contact opted back in, no reply.
        case optedIn
        /// Recorded, no reply: the contact has opted out.
        case silenced
    }

    /// Counts and reply times since the agent was created.
    public struct Statistics: Sendable, Hashable {
        /// Replies sent.
        public var sent = 0
        /// Replies given up.
        public var abandoned = 0
        /// Sends that failed and were retried or settled.
        public var retries = 0
        /// Each sent reply's time from the message's arrival to the provider's acceptance, ms (the latest
        /// 10,000).
        public var replyMilliseconds: [Double] = []
    }

    private struct Job: Sendable {
        var item: OutboxItem
        var receivedAt: Date
        /// Where the reply's delivery status goes (known for a message received by this process).
        var statusCallback: String?
    }

    private struct Lanes {
        var tails: [String: (id: Int, task: Task<Void, Never>)] = [:]
        var next = 0
    }

    /// The store.
    public let store: any ConversationStore
    /// The model.
    public let model: any LanguageModel
    /// The sender.
    public let sender: any TextSender
    /// The settings.
    public let configuration: Configuration
    private let logger: Logger
    private let jobs: AsyncStream<Job>
    private let enqueue: AsyncStream<Job>.Continuation
    private let lanes = Mutex(Lanes())
    private let limiter: AsyncLimiter
    private let counters = Mutex(Statistics())

    /// Creates an agent.
    public init(
        store: any ConversationStore, model: any LanguageModel, sender: any TextSender, configuration: Configuration = .init(),
        logger: Logger = Logger(label: "voicepipe.text")
    ) {
        self.store = store
        self.model = model
        self.sender = sender
        self.configuration = configuration
        self.logger = logger
        (jobs, enqueue) = AsyncStream.makeStream(of: Job.self)
        limiter = AsyncLimiter(limit: configuration.concurrency)
    }

    /// Counts and reply times so far.
    public var statistics: Statistics { counters.withLock { $0 } }

    // MARK: - Inbound

    /// Records an inbound message and, unless it is a keyword or its sender opted out, the reply it is owed
    /// (one transaction). When it returns, the webhook can be acknowledged: the reply will be sent even if
    /// the process dies now.
    public func receive(_ text: InboundText) async throws -> Reception {
        if let keyword = OptOutKeywords.keyword(text.body) {
            guard case .recorded = try await store.receive(text.newMessage, owesReply: false) else { return .duplicate }
            let optOut = OptOutKeywords.stop.contains(keyword)
            try await store.setOptedOut(text.contact, optOut, at: text.receivedAt)
            logger.info(optOut ? "contact opted out" : "contact opted in", metadata: ["messageSid": .string(text.providerSid)])
            return optOut ? .optedOut : .optedIn
        }
        if try await store.contact(text.contact)?.optedOut == true {
            guard case .recorded = try await store.receive(text.newMessage, owesReply: false) else { return .duplicate }
            return .silenced
        }
        guard case .recorded(let replyID?) = try await store.receive(text.newMessage, owesReply: true) else { return .duplicate }
        let item = OutboxItem(
            id: replyID, inboundSid: text.providerSid, contact: text.contact, channel: text.channel,
            threadReference: text.threadReference, to: text.contactAddress, from: text.agentAddress, body: nil, state: .pending,
            createdAt: text.receivedAt)
        enqueue.yield(Job(item: item, receivedAt: text.receivedAt, statusCallback: text.statusCallback))
        return .accepted(replyID: replyID)
    }

    /// Records a delivery-status report; error 21610 (the recipient opted out) marks the contact.
    ///
    /// - Parameter contact: The recipient's address (E.164), when the report names it (otherwise the message's
    ///   recorded contact is used).
    public func statusReported(_ update: StatusUpdate, contact: String?) async throws -> StatusOutcome {
        let outcome = try await store.updateStatus(update)
        if update.errorCode == 21610, outcome != .duplicate {
            let recipient: String?
            if let contact { recipient = contact } else { recipient = try await store.entry(providerSid: update.providerSid)?.contact }
            if let recipient {
                try await store.setOptedOut(recipient, true, at: update.at)
                logger.info("contact opted out (21610 in a delivery report)", metadata: ["sid": .string(update.providerSid)])
            }
        }
        return outcome
    }

    // MARK: - Outbox

    /// Sends the replies owed: first those a previous process left (pending, composed, or sending with an
    /// unknown outcome), then each new one as ``receive(_:)`` records it. Runs until cancelled.
    public func run() async {
        do {
            let left = try await store.pendingReplies()
            if !left.isEmpty { logger.info("outbox: resuming replies left by an earlier run", metadata: ["count": "\(left.count)"]) }
            for item in left { schedule(Job(item: item, receivedAt: item.createdAt, statusCallback: nil)) }
        } catch {
            logger.error("outbox: cannot read pending replies: \(error)")
        }
        await withTaskCancellationHandler {
            for await job in jobs { schedule(job) }
        } onCancel: {
            enqueue.finish()
        }
        let running = lanes.withLock { $0.tails.values.map(\.task) }
        for task in running { task.cancel() }
        for task in running { await task.value }
    }

    /// Runs the job after the contact's previous one.
    private func schedule(_ job: Job) {
        lanes.withLock { lanes in
            let id = lanes.next
            lanes.next += 1
            let previous = lanes.tails[job.item.contact]?.task
            let task = Task {
                await previous?.value
                await self.limiter.run { await self.process(job) }
                self.lanes.withLock { lanes in
                    if lanes.tails[job.item.contact]?.id == id { lanes.tails[job.item.contact] = nil }
                }
            }
            lanes.tails[job.item.contact] = (id, task)
        }
    }

    private func process(_ job: Job) async {
        var item = job.item
        var attempt = 0
        let metadata: Logger.Metadata = ["inboundSid": .string(item.inboundSid), "reply": "\(item.id)"]
        // A send left in doubt by an earlier run, or in flight in another process: leave it to its owner while
        // the claim is fresh, then take it over (a compare-and-swap, so only one process does).
        var inDoubt = item.state == .sending
        if inDoubt {
            let lease = configuration.claimLease ?? (store.isShared ? .seconds(120) : .zero)
            let age = Duration.milliseconds(Int(Date().timeIntervalSince(item.updatedAt) * 1000))
            if age < lease {
                do { try await Task.sleep(for: lease - age) } catch { return }
            }
            guard (try? await store.renewClaim(id: item.id, attempts: item.attempts)) == true else { return }
            item.attempts += 1
        }
        while !Task.isCancelled {
            attempt += 1
            do {
                if inDoubt, let found = try await sender.findSent(reply(item, job), since: item.createdAt) {
                    try await complete(item, found, receivedAt: job.receivedAt)
                    logger.info("outbox: a reply whose send was in doubt had been sent", metadata: metadata)
                    return
                }
                if try await store.contact(item.contact)?.optedOut == true {
                    try await store.abandonReply(id: item.id, reason: "the contact opted out")
                    counters.withLock { $0.abandoned += 1 }
                    return
                }
                if item.body == nil {
                    let body = try await compose(item)
                    guard !body.isEmpty else {
                        try await store.abandonReply(id: item.id, reason: "the model gave no reply")
                        counters.withLock { $0.abandoned += 1 }
                        return
                    }
                    try await store.composeReply(id: item.id, body: body)
                    item.body = body
                    item.state = .composed
                }
                if item.state != .sending {
                    guard try await store.markSending(id: item.id) else { return }  // another worker has it
                    item.state = .sending
                    item.attempts += 1
                }
                inDoubt = true  // if this send fails, whether Twilio has the message is unknown
                let sent = try await sender.send(reply(item, job))
                try await complete(item, sent, receivedAt: job.receivedAt)
                return
            } catch let error as TextSendError {
                switch error.kind {
                case .optedOut:
                    logger.info("outbox: recipient opted out (21610); reply given up", metadata: metadata)
                    try? await store.setOptedOut(item.contact, true, at: Date())
                    try? await store.abandonReply(id: item.id, reason: error.description)
                    counters.withLock { $0.abandoned += 1 }
                    return
                case .permanent:
                    logger.warning("outbox: reply cannot be sent; given up: \(error)", metadata: metadata)
                    try? await store.abandonReply(id: item.id, reason: error.description)
                    counters.withLock { $0.abandoned += 1 }
                    return
                case .retryable, .ambiguous:
                    logger.warning("outbox: send failed (attempt \(attempt)): \(error)", metadata: metadata)
                    guard await retry(&item, attempt: attempt, after: error.retryAfter, reason: error.description) else { return }
                }
            } catch {
                logger.warning("outbox: reply failed (attempt \(attempt)): \(error)", metadata: metadata)
                guard await retry(&item, attempt: attempt, after: nil, reason: "\(error)") else { return }
            }
        }
    }

    /// Waits before the next attempt, then renews the claim on a reply being sent; `false` when the attempts are
    /// spent (the reply is given up) or another process has taken the reply over.
    private func retry(_ item: inout OutboxItem, attempt: Int, after: Duration?, reason: String) async -> Bool {
        counters.withLock { $0.retries += 1 }
        guard attempt < configuration.maximumAttempts else {
            logger.error("outbox: reply given up after \(attempt) attempts", metadata: ["reply": "\(item.id)"])
            try? await store.abandonReply(id: item.id, reason: "gave up after \(attempt) attempts: \(reason)")
            counters.withLock { $0.abandoned += 1 }
            return false
        }
        let backoff = configuration.retryDelay * (1 << min(attempt - 1, 6))
        try? await Task.sleep(for: min(after ?? backoff, .seconds(30)))
        guard !Task.isCancelled else { return false }
        if item.state == .sending {
            guard (try? await store.renewClaim(id: item.id, attempts: item.attempts)) == true else { return false }
            item.attempts += 1
        }
        return true
    }

    private func complete(_ item: OutboxItem, _ sent: SentText, receivedAt: Date) async throws {
        let body = item.body ?? sent.body ?? ""
        try await store.completeReply(
            id: item.id,
            sent: NewMessage(
                contact: item.contact, channel: item.channel, direction: .outbound, body: body, providerSid: sent.sid,
                threadReference: item.threadReference, contactChannelAddress: item.to, agentAddress: item.from,
                createdAt: Date(), status: sent.status))
        let milliseconds = Date().timeIntervalSince(receivedAt) * 1000
        counters.withLock { statistics in
            statistics.sent += 1
            if statistics.replyMilliseconds.count >= 10_000 { statistics.replyMilliseconds.removeFirst(5_000) }
            statistics.replyMilliseconds.append(milliseconds)
        }
        logger.info("reply sent", metadata: ["inboundSid": .string(item.inboundSid), "sid": .string(sent.sid)])
    }

    private func reply(_ item: OutboxItem, _ job: Job) -> TextReply {
        TextReply(
            to: item.to, from: item.from, body: item.body ?? "", channel: item.channel, threadReference: item.threadReference,
            statusCallback: job.statusCallback)
    }

    /// The model's reply, given the instructions and the contact's history on every channel (whose last
    /// message is the one being answered).
    func compose(_ item: OutboxItem) async throws -> String {
        let instructions = configuration.instructions.map { [ChatMessage(.system, $0)] } ?? []
        let messages =
            try await instructions
            + StoreMemory(store: store, channel: item.channel, budget: configuration.memory).recall(contact: item.contact, excluding: nil)
        let model = self.model
        let timeout = configuration.modelTimeout
        do {
            let text = try await withThrowingTaskGroup(of: String?.self) { group in
                group.addTask {
                    var text = ""
                    for try await output in model.respond(to: messages) {
                        if case .text(let piece) = output { text += piece }
                    }
                    return text
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let text = first else {
                    throw TextAgentError.modelTimedOut(timeout)
                }
                return text
            }
            return Self.clipped(text.trimmingCharacters(in: .whitespacesAndNewlines), to: configuration.maximumReplyCharacters)
        } catch {
            guard let apology = configuration.apology, !(error is CancellationError) else { throw error }
            logger.warning("text model failed; sending the apology: \(error)", metadata: ["inboundSid": .string(item.inboundSid)])
            return apology
        }
    }

    /// `text` cut to `limit` characters at a word boundary when it is longer.
    static func clipped(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        let cut = text.prefix(limit - 1)
        let end = cut.lastIndex(of: " ") ?? cut.endIndex
        return String(cut[..<end]) + "…"
    }
}

/// A text agent's own failure.
public enum TextAgentError: Error, Sendable, Hashable {
    /// The model did not finish its reply in time.
    case modelTimedOut(Duration)
}
