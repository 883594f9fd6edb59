//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation
public import Logging
import SQLiteNIO

/// A ``ConversationStore`` in one SQLite file (sqlite-nio's bundled SQLite, with FTS5): the default, for a
/// single server.
///
/// The file is in WAL mode with `synchronous=NORMAL`: a committed transaction survives the process dying at
/// any point (a power cut may lose the last ones). Writes go through one connection, one transaction at a
/// time; reads (history, search) through a second one, so they never wait for writes. Full-text search is
/// an FTS5 index kept in step with the entries by triggers.
///
/// ```swift
/// let store = try await SQLiteConversationStore.open(path: "voicepipe.db")
/// try await store.migrate()
/// ```
public final class SQLiteConversationStore: ConversationStore, BulkLoading {
    /// The database file's path.
    public let path: String
    private let writer: SQLiteConnection
    private let reader: SQLiteConnection
    private let gate = SerialGate()
    private let logger: Logger

    private init(path: String, writer: SQLiteConnection, reader: SQLiteConnection, logger: Logger) {
        self.path = path
        self.writer = writer
        self.reader = reader
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path`. Call ``migrate()`` before use.
    public static func open(path: String, logger: Logger = Logger(label: "voicepipe.store")) async throws -> SQLiteConversationStore {
        let writer = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        do {
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA busy_timeout=5000", "PRAGMA foreign_keys=ON"] {
                _ = try await writer.query(pragma)
            }
            let reader = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
            _ = try await reader.query("PRAGMA busy_timeout=5000")
            return SQLiteConversationStore(path: path, writer: writer, reader: reader, logger: logger)
        } catch {
            try? await writer.close()
            throw StoreError("cannot open SQLite database \(path): \(error)")
        }
    }

    public func close() async throws {
        try await reader.close()
        try await writer.close()
    }

    // MARK: - Schema

    /// The migrations, in order: each runs once, in a transaction, and is recorded in `schema_migrations`.
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE contacts (
                    address TEXT PRIMARY KEY, created_at REAL NOT NULL, opted_out INTEGER NOT NULL DEFAULT 0,
                    opted_out_at REAL, last_inbound_whatsapp REAL)
                """,
                """
                CREATE TABLE threads (
                    id INTEGER PRIMARY KEY, contact TEXT NOT NULL REFERENCES contacts(address), channel TEXT NOT NULL,
                    reference TEXT NOT NULL, contact_address TEXT, agent_address TEXT, created_at REAL NOT NULL,
                    UNIQUE (contact, channel, reference))
                """,
                """
                CREATE TABLE entries (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER NOT NULL REFERENCES threads(id),
                    contact TEXT NOT NULL, channel TEXT NOT NULL, thread_reference TEXT NOT NULL, direction TEXT NOT NULL,
                    body TEXT NOT NULL, provider_sid TEXT UNIQUE, call_sid TEXT, turn INTEGER, created_at REAL NOT NULL,
                    status TEXT, status_rank INTEGER, error_code INTEGER, status_at REAL, timings TEXT)
                """,
                "CREATE INDEX entries_by_contact ON entries (contact, id)",
                "CREATE INDEX entries_by_call ON entries (call_sid) WHERE call_sid IS NOT NULL",
                """
                CREATE VIRTUAL TABLE entries_fts USING fts5(
                    body, content='entries', content_rowid='id', tokenize='unicode61 remove_diacritics 2')
                """,
                """
                CREATE TRIGGER entries_fts_insert AFTER INSERT ON entries BEGIN
                    INSERT INTO entries_fts (rowid, body) VALUES (new.id, new.body);
                END
                """,
                """
                CREATE TRIGGER entries_fts_delete AFTER DELETE ON entries BEGIN
                    INSERT INTO entries_fts (entries_fts, rowid, body) VALUES ('delete', old.id, old.body);
                END
                """,
                """
                CREATE TRIGGER entries_fts_update AFTER UPDATE OF body ON entries BEGIN
                    INSERT INTO entries_fts (entries_fts, rowid, body) VALUES ('delete', old.id, old.body);
                    INSERT INTO entries_fts (rowid, body) VALUES (new.id, new.body);
                END
                """,
                """
                CREATE TABLE status_events (
                    provider_sid TEXT NOT NULL, status TEXT NOT NULL, error_code INTEGER NOT NULL, at REAL NOT NULL,
                    PRIMARY KEY (provider_sid, status, error_code))
                """,
                """
                CREATE TABLE calls (
                    call_sid TEXT PRIMARY KEY, contact TEXT NOT NULL, from_address TEXT, to_address TEXT,
                    started_at REAL NOT NULL, ended_at REAL, turns INTEGER NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX calls_by_contact ON calls (contact, started_at)",
                """
                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY AUTOINCREMENT, inbound_sid TEXT NOT NULL UNIQUE, contact TEXT NOT NULL,
                    channel TEXT NOT NULL, thread_reference TEXT NOT NULL, to_address TEXT NOT NULL, from_address TEXT,
                    body TEXT, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, provider_sid TEXT, error TEXT,
                    created_at REAL NOT NULL, updated_at REAL NOT NULL)
                """,
                "CREATE INDEX outbox_open ON outbox (state) WHERE state IN ('pending', 'composed', 'sending')",
            ]
        )
    ]

    /// The schema version the database is at (0: none).
    public func schemaVersion() async throws -> Int {
        let exists = try await writer.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
        guard !exists.isEmpty else { return 0 }
        let rows = try await writer.query("SELECT MAX(version) AS version FROM schema_migrations")
        return rows.first?.column("version")?.integer ?? 0
    }

    public func migrate() async throws {
        try await gate.run {
            _ = try await writer.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)")
            for migration in Self.migrations {
                // The version is read inside the write transaction: another process migrating the same file
                // at once waits for it, then finds the migration done.
                let applied = try await transaction {
                    let rows = try await writer.query(
                        "SELECT 1 FROM schema_migrations WHERE version = ?", [.integer(migration.version)])
                    guard rows.isEmpty else { return false }
                    for statement in migration.statements { _ = try await writer.query(statement) }
                    _ = try await writer.query(
                        "INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)",
                        [.integer(migration.version), .float(Date().timeIntervalSince1970)])
                    return true
                }
                if applied { logger.info("store migrated", metadata: ["version": "\(migration.version)", "path": "\(path)"]) }
            }
        }
    }

    // MARK: - Writes

    /// Runs `body` in a write transaction (the caller holds the gate): committed if it returns, rolled back if
    /// it throws.
    private func transaction<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        _ = try await writer.query("BEGIN IMMEDIATE")
        do {
            let result = try await body()
            _ = try await writer.query("COMMIT")
            return result
        } catch {
            _ = try? await writer.query("ROLLBACK")
            throw error
        }
    }

    private struct Duplicate: Error {}

    public func receive(_ message: NewMessage, owesReply: Bool) async throws -> Reception {
        do {
            return try await gate.run {
                try await transaction {
                    let threadID = try await ensureThread(for: message)
                    if message.channel == .whatsapp, message.direction == .inbound {
                        _ = try await writer.query(
                            "UPDATE contacts SET last_inbound_whatsapp = ? WHERE address = ?",
                            [.float(message.createdAt.timeIntervalSince1970), .text(message.contact)])
                    }
                    guard try await insertEntry(message, threadID: threadID) else { throw Duplicate() }
                    guard owesReply, let inboundSid = message.providerSid else { return .recorded(replyID: nil) }
                    let now = Date().timeIntervalSince1970
                    let rows = try await writer.query(
                        """
                        INSERT INTO outbox (inbound_sid, contact, channel, thread_reference, to_address, from_address, state,
                            created_at, updated_at)
                        VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (inbound_sid) DO NOTHING RETURNING id
                        """,
                        [
                            .text(inboundSid), .text(message.contact), .text(message.channel.rawValue), .text(message.threadReference),
                            .text(message.contactChannelAddress ?? message.contact), Self.optional(message.agentAddress),
                            .float(message.createdAt.timeIntervalSince1970), .float(now),
                        ])
                    return .recorded(replyID: rows.first?.column("id")?.integer.map(Int64.init))
                }
            }
        } catch is Duplicate {
            return .duplicate
        }
    }

    public func recordOutbound(_ message: NewMessage) async throws -> Bool {
        do {
            return try await gate.run {
                try await transaction {
                    let threadID = try await ensureThread(for: message)
                    guard try await insertEntry(message, threadID: threadID) else { throw Duplicate() }
                    return true
                }
            }
        } catch is Duplicate {
            return false
        }
    }

    /// Creates the contact and its thread if they are new; returns the thread's id.
    private func ensureThread(for message: NewMessage) async throws -> Int64 {
        try await ensureThread(
            contact: message.contact, channel: message.channel, reference: message.threadReference,
            contactAddress: message.contactChannelAddress, agentAddress: message.agentAddress, at: message.createdAt)
    }

    private func ensureThread(
        contact: String, channel: Channel, reference: String, contactAddress: String?, agentAddress: String?, at: Date
    ) async throws -> Int64 {
        _ = try await writer.query(
            "INSERT INTO contacts (address, created_at) VALUES (?, ?) ON CONFLICT (address) DO NOTHING",
            [.text(contact), .float(at.timeIntervalSince1970)])
        let rows = try await writer.query(
            """
            INSERT INTO threads (contact, channel, reference, contact_address, agent_address, created_at) VALUES (?, ?, ?, ?, ?, ?)
            ON CONFLICT (contact, channel, reference) DO UPDATE SET
                contact_address = COALESCE(excluded.contact_address, contact_address),
                agent_address = COALESCE(excluded.agent_address, agent_address)
            RETURNING id
            """,
            [
                .text(contact), .text(channel.rawValue), .text(reference), Self.optional(contactAddress), Self.optional(agentAddress),
                .float(at.timeIntervalSince1970),
            ])
        guard let id = rows.first?.column("id")?.integer else { throw StoreError("thread insert returned no id") }
        return Int64(id)
    }

    /// Inserts an entry unless its provider id exists; returns whether it was inserted.
    private func insertEntry(_ message: NewMessage, threadID: Int64) async throws -> Bool {
        let rank = message.status.map { Int64(DeliveryStatus.rank(of: $0)) }
        let rows = try await writer.query(
            """
            INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, provider_sid, created_at,
                status, status_rank)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (provider_sid) DO NOTHING RETURNING id
            """,
            [
                .integer(Int(threadID)), .text(message.contact), .text(message.channel.rawValue), .text(message.threadReference),
                .text(message.direction.rawValue), .text(message.body), Self.optional(message.providerSid),
                .float(message.createdAt.timeIntervalSince1970), Self.optional(message.status), rank.map { .integer(Int($0)) } ?? .null,
            ])
        return !rows.isEmpty
    }

    public func updateStatus(_ update: StatusUpdate) async throws -> StatusOutcome {
        try await gate.run {
            try await transaction {
                let found = try await writer.query(
                    "SELECT id, status_rank FROM entries WHERE provider_sid = ?", [.text(update.providerSid)])
                guard let entry = found.first, let id = entry.column("id")?.integer else { return .unknownMessage }
                let recorded = try await writer.query(
                    """
                    INSERT INTO status_events (provider_sid, status, error_code, at) VALUES (?, ?, ?, ?)
                    ON CONFLICT DO NOTHING RETURNING provider_sid
                    """,
                    [
                        .text(update.providerSid), .text(update.status), .integer(update.errorCode ?? 0),
                        .float(update.at.timeIntervalSince1970),
                    ])
                guard !recorded.isEmpty else { return .duplicate }
                let rank = DeliveryStatus.rank(of: update.status)
                if let current = entry.column("status_rank")?.integer, current >= rank { return .stale }
                _ = try await writer.query(
                    "UPDATE entries SET status = ?, status_rank = ?, error_code = ?, status_at = ? WHERE id = ?",
                    [
                        .text(update.status), .integer(rank), update.errorCode.map { .integer($0) } ?? .null,
                        .float(update.at.timeIntervalSince1970), .integer(id),
                    ])
                return .applied
            }
        }
    }

    public func startCall(_ call: CallStart) async throws {
        try await gate.run {
            try await transaction {
                _ = try await ensureThread(
                    contact: call.contact, channel: .voice, reference: "", contactAddress: call.contact, agentAddress: nil,
                    at: call.startedAt)
                _ = try await writer.query(
                    """
                    INSERT INTO calls (call_sid, contact, from_address, to_address, started_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (call_sid) DO NOTHING
                    """,
                    [
                        .text(call.callSid), .text(call.contact), Self.optional(call.from), Self.optional(call.to),
                        .float(call.startedAt.timeIntervalSince1970),
                    ])
            }
        }
    }

    public func recordTurn(_ turn: CallTurn) async throws {
        try await gate.run {
            try await transaction {
                let threadID = try await ensureThread(
                    contact: turn.contact, channel: .voice, reference: "", contactAddress: turn.contact, agentAddress: nil, at: turn.at)
                _ = try await writer.query(
                    "INSERT INTO calls (call_sid, contact, started_at) VALUES (?, ?, ?) ON CONFLICT (call_sid) DO NOTHING",
                    [.text(turn.callSid), .text(turn.contact), .float(turn.at.timeIntervalSince1970)])
                for (side, text, direction) in [("caller", turn.callerText, Direction.inbound), ("agent", turn.agentText, .outbound)] {
                    guard let text, !text.isEmpty else { continue }
                    _ = try await writer.query(
                        """
                        INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, provider_sid, call_sid,
                            turn, created_at, timings)
                        VALUES (?, ?, 'voice', '', ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (provider_sid) DO UPDATE SET body = excluded.body, timings = excluded.timings
                        """,
                        [
                            .integer(Int(threadID)), .text(turn.contact), .text(direction.rawValue), .text(text),
                            .text(CallTurn.entrySid(callSid: turn.callSid, turn: turn.number, side: side)), .text(turn.callSid),
                            .integer(turn.number), .float(turn.at.timeIntervalSince1970), Self.optional(turn.timings),
                        ])
                }
                _ = try await writer.query(
                    "UPDATE calls SET turns = MAX(turns, ?) WHERE call_sid = ?", [.integer(turn.number), .text(turn.callSid)])
            }
        }
    }

    public func endCall(callSid: String, at: Date) async throws {
        try await gate.run {
            _ = try await writer.query(
                "UPDATE calls SET ended_at = ? WHERE call_sid = ?", [.float(at.timeIntervalSince1970), .text(callSid)])
        }
    }

    public func setOptedOut(_ address: String, _ optedOut: Bool, at: Date) async throws {
        try await gate.run {
            _ = try await writer.query(
                """
                INSERT INTO contacts (address, created_at, opted_out, opted_out_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (address) DO UPDATE SET opted_out = excluded.opted_out, opted_out_at = excluded.opted_out_at
                """,
                [.text(address), .float(at.timeIntervalSince1970), .integer(optedOut ? 1 : 0), .float(at.timeIntervalSince1970)])
        }
    }

    // MARK: - Outbox

    public func pendingReplies() async throws -> [OutboxItem] {
        let rows = try await reader.query(
            """
            SELECT id, inbound_sid, contact, channel, thread_reference, to_address, from_address, body, state, created_at,
                attempts, updated_at
            FROM outbox WHERE state IN ('pending', 'composed', 'sending') ORDER BY id
            """)
        return try rows.map { row in
            guard let id = row.column("id")?.integer, let inbound = row.column("inbound_sid")?.string,
                let contact = row.column("contact")?.string, let channel = row.column("channel")?.string.flatMap(Channel.init),
                let to = row.column("to_address")?.string, let state = row.column("state")?.string.flatMap(OutboxItem.State.init),
                let created = row.column("created_at")?.double
            else { throw StoreError("malformed outbox row") }
            return OutboxItem(
                id: Int64(id), inboundSid: inbound, contact: contact, channel: channel,
                threadReference: row.column("thread_reference")?.string ?? "", to: to, from: row.column("from_address")?.string,
                body: row.column("body")?.string, state: state, createdAt: Date(timeIntervalSince1970: created),
                attempts: row.column("attempts")?.integer ?? 0,
                updatedAt: row.column("updated_at")?.double.map(Date.init(timeIntervalSince1970:)))
        }
    }

    public func composeReply(id: Int64, body: String) async throws {
        try await gate.run {
            _ = try await writer.query(
                "UPDATE outbox SET body = ?, state = 'composed', updated_at = ? WHERE id = ? AND state = 'pending'",
                [.text(body), .float(Date().timeIntervalSince1970), .integer(Int(id))])
        }
    }

    public func markSending(id: Int64) async throws -> Bool {
        try await gate.run {
            let rows = try await writer.query(
                """
                UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = ?
                WHERE id = ? AND state IN ('pending', 'composed') RETURNING id
                """,
                [.float(Date().timeIntervalSince1970), .integer(Int(id))])
            return !rows.isEmpty
        }
    }

    public func renewClaim(id: Int64, attempts: Int) async throws -> Bool {
        try await gate.run {
            let rows = try await writer.query(
                """
                UPDATE outbox SET attempts = attempts + 1, updated_at = ?
                WHERE id = ? AND state = 'sending' AND attempts = ? RETURNING id
                """,
                [.float(Date().timeIntervalSince1970), .integer(Int(id)), .integer(attempts)])
            return !rows.isEmpty
        }
    }

    /// One server owns an SQLite file.
    public var isShared: Bool { false }

    public func completeReply(id: Int64, sent: NewMessage) async throws {
        try await gate.run {
            try await transaction {
                let threadID = try await ensureThread(for: sent)
                _ = try await insertEntry(sent, threadID: threadID)
                _ = try await writer.query(
                    "UPDATE outbox SET state = 'sent', body = ?, provider_sid = ?, updated_at = ? WHERE id = ?",
                    [.text(sent.body), Self.optional(sent.providerSid), .float(Date().timeIntervalSince1970), .integer(Int(id))])
            }
        }
    }

    public func abandonReply(id: Int64, reason: String) async throws {
        try await gate.run {
            _ = try await writer.query(
                "UPDATE outbox SET state = 'abandoned', error = ?, updated_at = ? WHERE id = ? AND state <> 'sent'",
                [.text(reason), .float(Date().timeIntervalSince1970), .integer(Int(id))])
        }
    }

    // MARK: - Reads

    static let entryColumns =
        "id, contact, channel, direction, body, provider_sid, call_sid, turn, thread_reference, created_at, status, error_code, timings"

    public func contact(_ address: String) async throws -> Contact? {
        let rows = try await reader.query(
            "SELECT address, created_at, opted_out, last_inbound_whatsapp FROM contacts WHERE address = ?", [.text(address)])
        guard let row = rows.first, let created = row.column("created_at")?.double else { return nil }
        return Contact(
            address: address, createdAt: Date(timeIntervalSince1970: created), optedOut: row.column("opted_out")?.integer == 1,
            lastInboundWhatsApp: row.column("last_inbound_whatsapp")?.double.map(Date.init(timeIntervalSince1970:)))
    }

    public func history(of address: String, limit: Int, before: Int64?) async throws -> [Entry] {
        let rows = try await reader.query(
            """
            SELECT \(Self.entryColumns) FROM (
                SELECT * FROM entries WHERE contact = ? AND id < ? ORDER BY id DESC LIMIT ?) ORDER BY id
            """,
            [.text(address), .integer(Int(before ?? Int64.max)), .integer(max(0, limit))])
        return try rows.map(Self.entry)
    }

    public func entry(providerSid: String) async throws -> Entry? {
        let rows = try await reader.query(
            "SELECT \(Self.entryColumns) FROM entries WHERE provider_sid = ?", [.text(providerSid)])
        return try rows.first.map(Self.entry)
    }

    public func calls(of address: String, limit: Int) async throws -> [CallSummaryRecord] {
        let rows = try await reader.query(
            """
            SELECT call_sid, contact, from_address, to_address, started_at, ended_at, turns FROM calls
            WHERE contact = ? ORDER BY started_at DESC LIMIT ?
            """,
            [.text(address), .integer(max(0, limit))])
        return try rows.map { row in
            guard let sid = row.column("call_sid")?.string, let started = row.column("started_at")?.double else {
                throw StoreError("malformed call row")
            }
            return CallSummaryRecord(
                callSid: sid, contact: address, from: row.column("from_address")?.string, to: row.column("to_address")?.string,
                startedAt: Date(timeIntervalSince1970: started),
                endedAt: row.column("ended_at")?.double.map(Date.init(timeIntervalSince1970:)),
                turns: row.column("turns")?.integer ?? 0)
        }
    }

    public func search(_ query: String, limit: Int) async throws -> [Entry] {
        let words = SearchWords.of(query)
        guard !words.isEmpty else { return [] }
        let match = words.map { "\"\($0)\"" }.joined(separator: " ")
        let rows = try await reader.query(
            """
            SELECT \(Self.entryColumns) FROM entries WHERE id IN (
                SELECT rowid FROM entries_fts WHERE entries_fts MATCH ? ORDER BY rowid DESC LIMIT ?)
            ORDER BY id DESC
            """,
            [.text(match), .integer(max(0, limit))])
        return try rows.map(Self.entry)
    }

    public func counts() async throws -> StoreCounts {
        let rows = try await reader.query(
            """
            SELECT (SELECT COUNT(*) FROM contacts) AS contacts, (SELECT COUNT(*) FROM entries) AS entries,
                (SELECT COUNT(*) FROM calls) AS calls,
                (SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'composed', 'sending')) AS pending,
                (SELECT COUNT(*) FROM outbox WHERE state = 'sent') AS sent
            """)
        let row = rows.first
        func count(_ name: String) -> Int { row?.column(name)?.integer ?? 0 }
        return StoreCounts(
            contacts: count("contacts"), entries: count("entries"), calls: count("calls"), pendingReplies: count("pending"),
            sentReplies: count("sent"))
    }

    package func bulkInsertEntries(_ rows: [BulkEntry]) async throws {
        try await gate.run {
            var threads: [String: Int64] = [:]
            let perStatement = 250
            var index = 0
            while index < rows.count {
                let end = min(index + 20_000, rows.count)  // one transaction per 20,000 rows
                try await transaction {
                    for row in rows[index..<end] where threads[row.contact] == nil {
                        threads[row.contact] = try await ensureThread(
                            contact: row.contact, channel: .voice, reference: "", contactAddress: row.contact, agentAddress: nil,
                            at: row.createdAt)
                    }
                    var start = index
                    while start < end {
                        let slice = rows[start..<min(start + perStatement, end)]
                        var binds: [SQLiteData] = []
                        binds.reserveCapacity(slice.count * 5)
                        for row in slice {
                            binds += [
                                .integer(Int(threads[row.contact] ?? 0)), .text(row.contact), .text(row.direction.rawValue),
                                .text(row.body),
                                .float(row.createdAt.timeIntervalSince1970),
                            ]
                        }
                        let values = Array(repeating: "(?, ?, 'voice', '', ?, ?, ?)", count: slice.count).joined(separator: ", ")
                        _ = try await writer.query(
                            "INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, created_at) VALUES \(values)",
                            binds)
                        start += perStatement
                    }
                }
                index = end
            }
        }
    }

    // MARK: - Rows

    private static func optional(_ text: String?) -> SQLiteData { text.map { .text($0) } ?? .null }

    private static func entry(_ row: SQLiteRow) throws -> Entry {
        guard let id = row.column("id")?.integer, let contact = row.column("contact")?.string,
            let channel = row.column("channel")?.string.flatMap(Channel.init),
            let direction = row.column("direction")?.string.flatMap(Direction.init), let body = row.column("body")?.string,
            let created = row.column("created_at")?.double
        else { throw StoreError("malformed entry row") }
        return Entry(
            id: Int64(id), contact: contact, channel: channel, direction: direction, body: body,
            providerSid: row.column("provider_sid")?.string, callSid: row.column("call_sid")?.string,
            turn: row.column("turn")?.integer, threadReference: row.column("thread_reference")?.string ?? "",
            createdAt: Date(timeIntervalSince1970: created), status: row.column("status")?.string,
            errorCode: row.column("error_code")?.integer, timings: row.column("timings")?.string)
    }
}

extension CallTurn {
    /// The provider id under which a turn's utterance is stored: `CA…#3/caller`, `CA…#3/agent`.
    public static func entrySid(callSid: String, turn: Int, side: String) -> String { "\(callSid)#\(turn)/\(side)" }
}
