//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation

/// Where calls and texts are remembered: contacts keyed by their address (E.164), a thread per channel,
/// every message and call turn in order with its direction, timings and provider id, delivery status,
/// call records, full-text search, and the outbox of replies owed.
///
/// Two backends implement it: ``SQLiteConversationStore`` (embedded, the default) and
/// `PostgresConversationStore` (module `VoicePipeStorePostgres`, for a fleet of servers sharing one
/// database). Both keep the same guarantees:
///
/// - **Idempotent webhooks.** ``receive(_:owesReply:)`` inserts a message only if its provider id is new, in
///   one atomic statement, and creates the reply's outbox item in the same transaction: a webhook Twilio
///   retries is recorded once and answered once, and a crash after the webhook was acknowledged leaves the
///   reply owed, not lost.
/// - **Status never goes backwards.** ``updateStatus(_:)`` records each (message, status, error) callback
///   once and applies it only if it ranks above the status held (callbacks arrive out of order).
/// - **Call turns are upserts.** ``recordTurn(_:)`` can be called again as a turn's reply is played or
///   interrupted; the turn's rows are replaced, never doubled.
public protocol ConversationStore: Sendable {
    /// Creates the schema, or brings it to the latest version (each migration once, in order).
    func migrate() async throws

    /// Records an inbound message unless one with the same ``NewMessage/providerSid`` exists (an atomic
    /// insert-if-absent). With `owesReply`, the reply's outbox item is created in the same transaction.
    ///
    /// - Returns: The outcome: ``Reception/recorded(replyID:)`` for a new message, ``Reception/duplicate`` for
    ///   one already recorded (do nothing more: it was handled when it first came).
    func receive(_ message: NewMessage, owesReply: Bool) async throws -> Reception

    /// Records a message the agent sent (or sends through another path), unless its provider id is known.
    /// - Returns: Whether it was new.
    @discardableResult
    func recordOutbound(_ message: NewMessage) async throws -> Bool

    /// Applies a delivery-status report to the message with its provider id: each (message, status, error
    /// code) is recorded once, and the message's status moves only forward (``DeliveryStatus/rank(of:)``).
    func updateStatus(_ update: StatusUpdate) async throws -> StatusOutcome

    /// Starts a call's record (or leaves an existing one as it is).
    func startCall(_ call: CallStart) async throws

    /// Writes a call turn: the caller's recognised words and the agent's heard reply as two entries of the
    /// contact's voice thread, with the turn's timings. Replaces the turn's earlier version, if any.
    func recordTurn(_ turn: CallTurn) async throws

    /// Ends a call's record.
    func endCall(callSid: String, at: Date) async throws

    /// The contact, if anything was recorded for it.
    func contact(_ address: String) async throws -> Contact?

    /// Marks a contact opted out of (or back into) text messages: STOP and error 21610 opt out, START in.
    func setOptedOut(_ address: String, _ optedOut: Bool, at: Date) async throws

    /// The contact's entries on every channel, newest `limit` of them, oldest first. With `before`, only
    /// entries older than that entry id (to page back).
    func history(of address: String, limit: Int, before: Int64?) async throws -> [Entry]

    /// The entry with this provider id (`SM…`, `IM…`), if any.
    func entry(providerSid: String) async throws -> Entry?

    /// The contact's calls, newest first.
    func calls(of address: String, limit: Int) async throws -> [CallSummaryRecord]

    /// Entries whose text matches every word of `query` (full-text: FTS5 or `tsvector`), newest first.
    func search(_ query: String, limit: Int) async throws -> [Entry]

    /// Replies owed and not yet sent or given up: after a restart, what the outbox worker still has to do.
    func pendingReplies() async throws -> [OutboxItem]

    /// Saves the composed text of a reply (state ``OutboxItem/State/composed``), so that a restart sends the
    /// same words rather than asking the model again.
    func composeReply(id: Int64, body: String) async throws

    /// Claims a pending or composed reply for sending (``OutboxItem/State/sending``; its ``OutboxItem/attempts``
    /// goes up by one): if the process dies now, the send's outcome is unknown, and the worker reconciles with
    /// the provider before sending again.
    /// - Returns: `false` if the reply was not pending or composed (another worker has it, or it is done).
    func markSending(id: Int64) async throws -> Bool

    /// Renews a claim on a reply being sent (before a retry, or to take over one whose owner went quiet): only if
    /// it is still ``OutboxItem/State/sending`` with `attempts` claims so far (a compare-and-swap), it counts one
    /// more and its ``OutboxItem/updatedAt`` becomes now.
    /// - Returns: `false` if another worker claimed it since, or it was sent or given up.
    func renewClaim(id: Int64, attempts: Int) async throws -> Bool

    /// Whether several processes may share this store (PostgreSQL): then a reply another process claimed is left
    /// to it until its claim is older than the text agent's lease. An SQLite file has one server.
    var isShared: Bool { get }

    /// Marks a reply sent, recording the sent message (with its provider id) in the same transaction.
    func completeReply(id: Int64, sent: NewMessage) async throws

    /// Gives a reply up (an opted-out recipient, an invalid number, a message the agent chose not to send).
    func abandonReply(id: Int64, reason: String) async throws

    /// Counts of the store's rows, for `/stats`, tests and benchmarks.
    func counts() async throws -> StoreCounts

    /// Closes the store's connections.
    func close() async throws
}

/// A channel a contact talks to the agent on.
public enum Channel: String, Sendable, Hashable, Codable, CaseIterable {
    /// A phone call.
    case voice
    /// SMS or MMS.
    case sms
    /// WhatsApp.
    case whatsapp
}

/// Who wrote an entry.
public enum Direction: String, Sendable, Hashable, Codable {
    /// The contact (a caller's words, a customer's text).
    case inbound
    /// The agent.
    case outbound
}

/// A message to record.
public struct NewMessage: Sendable, Hashable {
    /// The contact's address: E.164 (`+15551234567`), without a channel prefix such as `whatsapp:`.
    public var contact: String
    /// The channel.
    public var channel: Channel
    /// Which side wrote it.
    public var direction: Direction
    /// The text.
    public var body: String
    /// The provider's id (Twilio `SM…`, `MM…`, `IM…`): the idempotency key. `nil` for a message without one.
    public var providerSid: String?
    /// The thread's reference within the channel: a Conversations `CH…`, or empty for the contact's plain
    /// SMS or WhatsApp thread.
    public var threadReference: String
    /// The contact's address on the channel, as the provider writes it (`whatsapp:+1555…`).
    public var contactChannelAddress: String?
    /// The agent's address on the channel (the Twilio number or sender the contact wrote to).
    public var agentAddress: String?
    /// When it was sent or received.
    public var createdAt: Date
    /// Its delivery status, when known (`queued`, `received`, …).
    public var status: String?

    /// Creates a message.
    public init(
        contact: String, channel: Channel, direction: Direction, body: String, providerSid: String?, threadReference: String = "",
        contactChannelAddress: String? = nil, agentAddress: String? = nil, createdAt: Date = Date(), status: String? = nil
    ) {
        self.contact = contact
        self.channel = channel
        self.direction = direction
        self.body = body
        self.providerSid = providerSid
        self.threadReference = threadReference
        self.contactChannelAddress = contactChannelAddress
        self.agentAddress = agentAddress
        self.createdAt = createdAt
        self.status = status
    }
}

/// What ``ConversationStore/receive(_:owesReply:)`` did.
public enum Reception: Sendable, Hashable {
    /// The message is new and recorded; `replyID` is its reply's outbox item, when one was asked for.
    case recorded(replyID: Int64?)
    /// A message with the same provider id was already recorded: nothing was written.
    case duplicate
}

/// A delivery-status report (a Messaging status callback, a Conversations `onDeliveryUpdated`).
public struct StatusUpdate: Sendable, Hashable {
    /// The message's provider id.
    public var providerSid: String
    /// The status, as the provider names it (`sent`, `delivered`, `undelivered`, …).
    public var status: String
    /// The provider's error code, for a failed or undelivered message.
    public var errorCode: Int?
    /// When it was reported.
    public var at: Date

    /// Creates a report.
    public init(providerSid: String, status: String, errorCode: Int? = nil, at: Date = Date()) {
        self.providerSid = providerSid
        self.status = status
        self.errorCode = errorCode
        self.at = at
    }
}

/// What ``ConversationStore/updateStatus(_:)`` did.
public enum StatusOutcome: String, Sendable, Hashable {
    /// The message's status moved forward.
    case applied
    /// Recorded, but the message already had a later status (a callback that came out of order).
    case stale
    /// The same report came before: nothing was written.
    case duplicate
    /// No recorded message has that provider id (one this store never sent): nothing was written.
    case unknownMessage
}

/// The order of delivery statuses, so that a late `sent` never overwrites `delivered`.
public enum DeliveryStatus {
    /// The status's rank: higher is later. Unknown statuses rank with `sent`.
    public static func rank(of status: String) -> Int {
        switch status {
        case "accepted", "scheduled", "queued": 0
        case "sending": 1
        case "sent": 2
        case "receiving", "received": 3
        case "delivered", "undelivered", "failed", "canceled", "partially_delivered": 4
        case "read": 5
        default: 2
        }
    }
}

/// A call's start.
public struct CallStart: Sendable, Hashable {
    /// The call's id (Twilio `CA…`).
    public var callSid: String
    /// The other party's address (E.164).
    public var contact: String
    /// The caller's number.
    public var from: String?
    /// The called number.
    public var to: String?
    /// When the call's stream started.
    public var startedAt: Date

    /// Creates a call start.
    public init(callSid: String, contact: String, from: String? = nil, to: String? = nil, startedAt: Date = Date()) {
        self.callSid = callSid
        self.contact = contact
        self.from = from
        self.to = to
        self.startedAt = startedAt
    }
}

/// One turn of a call, as far as it has gone.
public struct CallTurn: Sendable, Hashable {
    /// The call's id.
    public var callSid: String
    /// The contact's address.
    public var contact: String
    /// The turn's number (0: the greeting).
    public var number: Int
    /// What the caller said, as recognised (`nil` or empty: nothing recognised, no entry).
    public var callerText: String?
    /// What the caller heard of the agent's reply (`nil` or empty: nothing yet, no entry).
    public var agentText: String?
    /// Whether the caller cut the reply short.
    public var interrupted: Bool
    /// When the turn ended (wall clock).
    public var at: Date
    /// The turn's timings, as JSON (VoiceAgent's `TurnRecord`, encoded), for the call record.
    public var timings: String?

    /// Creates a turn.
    public init(
        callSid: String, contact: String, number: Int, callerText: String?, agentText: String?, interrupted: Bool = false,
        at: Date = Date(), timings: String? = nil
    ) {
        self.callSid = callSid
        self.contact = contact
        self.number = number
        self.callerText = callerText
        self.agentText = agentText
        self.interrupted = interrupted
        self.at = at
        self.timings = timings
    }
}

/// A recorded message or call utterance.
public struct Entry: Sendable, Hashable, Codable {
    /// The store's id (increasing in the order entries were recorded).
    public var id: Int64
    /// The contact's address.
    public var contact: String
    /// The channel.
    public var channel: Channel
    /// Which side.
    public var direction: Direction
    /// The text.
    public var body: String
    /// The provider's id; for a call utterance, `CA…#turn/caller` or `CA…#turn/agent`.
    public var providerSid: String?
    /// The call, for a call utterance.
    public var callSid: String?
    /// The call turn's number, for a call utterance.
    public var turn: Int?
    /// The thread's reference within the channel (`CH…`, or empty).
    public var threadReference: String
    /// When it was sent, received or said.
    public var createdAt: Date
    /// The delivery status (messages).
    public var status: String?
    /// The provider's error code, for a failed message.
    public var errorCode: Int?
    /// The call turn's timings, as JSON.
    public var timings: String?

    /// Creates an entry.
    public init(
        id: Int64, contact: String, channel: Channel, direction: Direction, body: String, providerSid: String?, callSid: String?,
        turn: Int?, threadReference: String, createdAt: Date, status: String?, errorCode: Int?, timings: String?
    ) {
        self.id = id
        self.contact = contact
        self.channel = channel
        self.direction = direction
        self.body = body
        self.providerSid = providerSid
        self.callSid = callSid
        self.turn = turn
        self.threadReference = threadReference
        self.createdAt = createdAt
        self.status = status
        self.errorCode = errorCode
        self.timings = timings
    }
}

/// A contact.
public struct Contact: Sendable, Hashable, Codable {
    /// The address (E.164).
    public var address: String
    /// When it was first recorded.
    public var createdAt: Date
    /// Whether it opted out of text messages (STOP, or error 21610).
    public var optedOut: Bool
    /// When it last wrote on WhatsApp (the 24-hour window for free-form replies runs from there).
    public var lastInboundWhatsApp: Date?

    /// Creates a contact.
    public init(address: String, createdAt: Date, optedOut: Bool, lastInboundWhatsApp: Date?) {
        self.address = address
        self.createdAt = createdAt
        self.optedOut = optedOut
        self.lastInboundWhatsApp = lastInboundWhatsApp
    }
}

/// A call's record.
public struct CallSummaryRecord: Sendable, Hashable, Codable {
    /// The call's id.
    public var callSid: String
    /// The contact.
    public var contact: String
    /// The caller's number.
    public var from: String?
    /// The called number.
    public var to: String?
    /// When it started.
    public var startedAt: Date
    /// When it ended (`nil`: still on, or the process died during it).
    public var endedAt: Date?
    /// The highest turn number recorded (turn 0 is the greeting, so a greeting and two caller turns give 2).
    public var turns: Int

    /// Creates a record.
    public init(callSid: String, contact: String, from: String?, to: String?, startedAt: Date, endedAt: Date?, turns: Int) {
        self.callSid = callSid
        self.contact = contact
        self.from = from
        self.to = to
        self.startedAt = startedAt
        self.endedAt = endedAt
        self.turns = turns
    }
}

/// A reply owed to a contact.
public struct OutboxItem: Sendable, Hashable {
    /// Where a reply is.
    public enum State: String, Sendable, Hashable {
        /// Owed; not written yet.
        case pending
        /// Written (``OutboxItem/body``); not handed to the provider yet.
        case composed
        /// Handed to the provider; its outcome is unknown until ``ConversationStore/completeReply(id:sent:)``.
        case sending
        /// Sent.
        case sent
        /// Given up.
        case abandoned
    }

    /// The item's id.
    public var id: Int64
    /// The inbound message it answers (its provider id).
    public var inboundSid: String
    /// The contact.
    public var contact: String
    /// The channel.
    public var channel: Channel
    /// The thread's reference (`CH…` for Conversations, or empty).
    public var threadReference: String
    /// Where the reply goes, as the provider writes it (`+1555…`, `whatsapp:+1555…`).
    public var to: String
    /// Who sends it (the number the contact wrote to), when known.
    public var from: String?
    /// The reply's text, once composed.
    public var body: String?
    /// Where the item is.
    public var state: State
    /// When the inbound message came.
    public var createdAt: Date
    /// How many times it was claimed for sending.
    public var attempts: Int
    /// When it last changed (for a reply being sent: when it was last claimed).
    public var updatedAt: Date

    /// Creates an item.
    public init(
        id: Int64, inboundSid: String, contact: String, channel: Channel, threadReference: String, to: String, from: String?,
        body: String?, state: State, createdAt: Date, attempts: Int = 0, updatedAt: Date? = nil
    ) {
        self.attempts = attempts
        self.updatedAt = updatedAt ?? createdAt
        self.id = id
        self.inboundSid = inboundSid
        self.contact = contact
        self.channel = channel
        self.threadReference = threadReference
        self.to = to
        self.from = from
        self.body = body
        self.state = state
        self.createdAt = createdAt
    }
}

/// How many rows a store holds.
public struct StoreCounts: Sendable, Hashable, Codable {
    /// Contacts.
    public var contacts: Int
    /// Entries (messages and call utterances).
    public var entries: Int
    /// Calls.
    public var calls: Int
    /// Replies owed and not yet sent or abandoned.
    public var pendingReplies: Int
    /// Replies sent.
    public var sentReplies: Int

    /// Creates counts.
    public init(contacts: Int, entries: Int, calls: Int, pendingReplies: Int, sentReplies: Int) {
        self.contacts = contacts
        self.entries = entries
        self.calls = calls
        self.pendingReplies = pendingReplies
        self.sentReplies = sentReplies
    }
}

/// A store's failure.
public struct StoreError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What failed.
    public var message: String

    /// Creates an error.
    public init(_ message: String) { self.message = message }

    public var description: String { "store: \(message)" }
}

/// The words of a full-text query: letters and digits, lowercased; everything else separates words. Both
/// backends match entries containing every word, so that a user's quotes, dashes or operators never make a
/// query fail to parse.
public enum SearchWords {
    /// The words of `query` (at most 16).
    public static func of(_ query: String) -> [String] {
        let words = query.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        return Array(words.prefix(16))
    }
}

/// A synthetic voice utterance, for loading a store with a corpus (the search benchmark).
package struct BulkEntry: Sendable {
    package var contact: String
    package var direction: Direction
    package var body: String
    package var createdAt: Date

    package init(contact: String, direction: Direction, body: String, createdAt: Date) {
        self.contact = contact
        self.direction = direction
        self.body = body
        self.createdAt = createdAt
    }
}

/// A store that can load many entries fast (many rows per statement), for benchmarks.
package protocol BulkLoading: Sendable {
    /// Inserts voice entries on the contacts' voice threads, bypassing idempotency keys.
    func bulkInsertEntries(_ rows: [BulkEntry]) async throws
}
