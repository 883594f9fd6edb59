//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation
import PostgresNIO
public import VoicePipeStore

/// Thrown inside a transaction to roll it back: the message was already recorded.
private struct Duplicate: Error {}

// MARK: - Writes

extension PostgresConversationStore {
    public func receive(_ message: NewMessage, owesReply: Bool) async throws -> Reception {
        do {
            return try await transaction { connection in
                let threadID = try await ensureThread(for: message, on: connection)
                if message.channel == .whatsapp, message.direction == .inbound {
                    try await connection.query(
                        "UPDATE contacts SET last_inbound_whatsapp = \(message.createdAt.timeIntervalSince1970) WHERE address = \(message.contact)",
                        logger: logger)
                }
                guard try await insertEntry(message, threadID: threadID, on: connection) else { throw Duplicate() }
                guard owesReply, let inboundSid = message.providerSid else { return .recorded(replyID: nil) }
                let to = message.contactChannelAddress ?? message.contact
                let rows = try await connection.query(
                    """
                    INSERT INTO outbox (inbound_sid, contact, channel, thread_reference, to_address, from_address, state,
                        created_at, updated_at)
                    VALUES (\(inboundSid), \(message.contact), \(message.channel.rawValue), \(message.threadReference), \(to),
                        \(message.agentAddress), 'pending', \(message.createdAt.timeIntervalSince1970), \(Date().timeIntervalSince1970))
                    ON CONFLICT (inbound_sid) DO NOTHING RETURNING id
                    """,
                    logger: logger
                ).collect()
                return .recorded(replyID: try rows.first?.decode(Int64.self))
            }
        } catch is Duplicate {
            return .duplicate
        }
    }

    public func recordOutbound(_ message: NewMessage) async throws -> Bool {
        do {
            return try await transaction { connection in
                let threadID = try await ensureThread(for: message, on: connection)
                guard try await insertEntry(message, threadID: threadID, on: connection) else { throw Duplicate() }
                return true
            }
        } catch is Duplicate {
            return false
        }
    }

    /// Creates the contact and its thread if they are new; returns the thread's id.
    private func ensureThread(for message: NewMessage, on connection: PostgresConnection) async throws -> Int64 {
        try await ensureThread(
            contact: message.contact, channel: message.channel, reference: message.threadReference,
            contactAddress: message.contactChannelAddress, agentAddress: message.agentAddress, at: message.createdAt,
            on: connection)
    }

    private func ensureThread(
        contact: String, channel: VoicePipeStore.Channel, reference: String, contactAddress: String?, agentAddress: String?, at: Date,
        on connection: PostgresConnection
    ) async throws -> Int64 {
        let seconds = at.timeIntervalSince1970
        try await connection.query(
            "INSERT INTO contacts (address, created_at) VALUES (\(contact), \(seconds)) ON CONFLICT (address) DO NOTHING",
            logger: logger)
        let rows = try await connection.query(
            """
            INSERT INTO threads (contact, channel, reference, contact_address, agent_address, created_at)
            VALUES (\(contact), \(channel.rawValue), \(reference), \(contactAddress), \(agentAddress), \(seconds))
            ON CONFLICT (contact, channel, reference) DO UPDATE SET
                contact_address = COALESCE(excluded.contact_address, threads.contact_address),
                agent_address = COALESCE(excluded.agent_address, threads.agent_address)
            RETURNING id
            """,
            logger: logger
        ).collect()
        guard let id = try rows.first?.decode(Int64.self) else { throw StoreError("thread insert returned no id") }
        return id
    }

    /// Inserts an entry unless its provider id exists; returns whether it was inserted.
    private func insertEntry(_ message: NewMessage, threadID: Int64, on connection: PostgresConnection) async throws -> Bool {
        let rank = message.status.map { DeliveryStatus.rank(of: $0) }
        let rows = try await connection.query(
            """
            INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, search_text, provider_sid,
                created_at, status, status_rank)
            VALUES (\(threadID), \(message.contact), \(message.channel.rawValue), \(message.threadReference),
                \(message.direction.rawValue), \(message.body), \(Self.searchText(message.body)), \(message.providerSid),
                \(message.createdAt.timeIntervalSince1970), \(message.status), \(rank))
            ON CONFLICT (provider_sid) DO NOTHING RETURNING id
            """,
            logger: logger
        ).collect()
        return !rows.isEmpty
    }

    public func updateStatus(_ update: StatusUpdate) async throws -> StatusOutcome {
        try await transaction { connection in
            // FOR UPDATE: two callbacks for one message apply one after the other, so the rank never goes back.
            let found = try await connection.query(
                "SELECT id, status_rank FROM entries WHERE provider_sid = \(update.providerSid) FOR UPDATE", logger: logger
            ).collect()
            guard let entry = found.first else { return .unknownMessage }
            let (id, currentRank) = try entry.decode((Int64, Int?).self)
            let at = update.at.timeIntervalSince1970
            let recorded = try await connection.query(
                """
                INSERT INTO status_events (provider_sid, status, error_code, at)
                VALUES (\(update.providerSid), \(update.status), \(update.errorCode ?? 0), \(at))
                ON CONFLICT DO NOTHING RETURNING provider_sid
                """,
                logger: logger
            ).collect()
            guard !recorded.isEmpty else { return .duplicate }
            let rank = DeliveryStatus.rank(of: update.status)
            if let currentRank, currentRank >= rank { return .stale }
            try await connection.query(
                """
                UPDATE entries SET status = \(update.status), status_rank = \(rank), error_code = \(update.errorCode), status_at = \(at)
                WHERE id = \(id)
                """,
                logger: logger)
            return .applied
        }
    }

    public func startCall(_ call: CallStart) async throws {
        try await transaction { connection in
            _ = try await ensureThread(
                contact: call.contact, channel: .voice, reference: "", contactAddress: call.contact, agentAddress: nil,
                at: call.startedAt, on: connection)
            try await connection.query(
                """
                INSERT INTO calls (call_sid, contact, from_address, to_address, started_at)
                VALUES (\(call.callSid), \(call.contact), \(call.from), \(call.to), \(call.startedAt.timeIntervalSince1970))
                ON CONFLICT (call_sid) DO NOTHING
                """,
                logger: logger)
        }
    }

    public func recordTurn(_ turn: CallTurn) async throws {
        try await transaction { connection in
            let at = turn.at.timeIntervalSince1970
            let threadID = try await ensureThread(
                contact: turn.contact, channel: .voice, reference: "", contactAddress: turn.contact, agentAddress: nil, at: turn.at,
                on: connection)
            try await connection.query(
                """
                INSERT INTO calls (call_sid, contact, started_at) VALUES (\(turn.callSid), \(turn.contact), \(at))
                ON CONFLICT (call_sid) DO NOTHING
                """,
                logger: logger)
            for (side, text, direction) in [("caller", turn.callerText, Direction.inbound), ("agent", turn.agentText, .outbound)] {
                guard let text, !text.isEmpty else { continue }
                let sid = CallTurn.entrySid(callSid: turn.callSid, turn: turn.number, side: side)
                try await connection.query(
                    """
                    INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, search_text, provider_sid,
                        call_sid, turn, created_at, timings)
                    VALUES (\(threadID), \(turn.contact), 'voice', '', \(direction.rawValue), \(text), \(Self.searchText(text)), \(sid),
                        \(turn.callSid), \(turn.number), \(at), \(turn.timings))
                    ON CONFLICT (provider_sid) DO UPDATE SET
                        body = excluded.body, search_text = excluded.search_text, timings = excluded.timings
                    """,
                    logger: logger)
            }
            try await connection.query(
                "UPDATE calls SET turns = GREATEST(turns, \(turn.number)) WHERE call_sid = \(turn.callSid)", logger: logger)
        }
    }

    public func endCall(callSid: String, at: Date) async throws {
        try await client.query("UPDATE calls SET ended_at = \(at.timeIntervalSince1970) WHERE call_sid = \(callSid)", logger: logger)
    }

    public func setOptedOut(_ address: String, _ optedOut: Bool, at: Date) async throws {
        let seconds = at.timeIntervalSince1970
        try await client.query(
            """
            INSERT INTO contacts (address, created_at, opted_out, opted_out_at) VALUES (\(address), \(seconds), \(optedOut), \(seconds))
            ON CONFLICT (address) DO UPDATE SET opted_out = excluded.opted_out, opted_out_at = excluded.opted_out_at
            """,
            logger: logger)
    }
}

// MARK: - Outbox

extension PostgresConversationStore {
    public func pendingReplies() async throws -> [OutboxItem] {
        let rows = try await rows(
            """
            SELECT id, inbound_sid, contact, channel, thread_reference, to_address, from_address, body, state, created_at,
                attempts, updated_at
            FROM outbox WHERE state IN ('pending', 'composed', 'sending') ORDER BY id
            """)
        return try rows.map { row in
            let (id, inbound, contact, channelName, reference, to, from, body, stateName, created, attempts, updated) = try row.decode(
                (Int64, String, String, String, String, String, String?, String?, String, Double, Int, Double).self)
            guard let channel = VoicePipeStore.Channel(rawValue: channelName), let state = OutboxItem.State(rawValue: stateName) else {
                throw StoreError("malformed outbox row")
            }
            return OutboxItem(
                id: id, inboundSid: inbound, contact: contact, channel: channel, threadReference: reference, to: to, from: from,
                body: body, state: state, createdAt: Date(timeIntervalSince1970: created), attempts: attempts,
                updatedAt: Date(timeIntervalSince1970: updated))
        }
    }

    public func composeReply(id: Int64, body: String) async throws {
        try await client.query(
            "UPDATE outbox SET body = \(body), state = 'composed', updated_at = \(Date().timeIntervalSince1970) WHERE id = \(id) AND state = 'pending'",
            logger: logger)
    }

    public func markSending(id: Int64) async throws -> Bool {
        // One statement: a second caller waits for the first one's row lock, then finds the state changed.
        let rows = try await rows(
            """
            UPDATE outbox SET state = 'sending', attempts = attempts + 1, updated_at = \(Date().timeIntervalSince1970)
            WHERE id = \(id) AND state IN ('pending', 'composed') RETURNING id
            """)
        return !rows.isEmpty
    }

    public func renewClaim(id: Int64, attempts: Int) async throws -> Bool {
        let rows = try await rows(
            """
            UPDATE outbox SET attempts = attempts + 1, updated_at = \(Date().timeIntervalSince1970)
            WHERE id = \(id) AND state = 'sending' AND attempts = \(attempts) RETURNING id
            """)
        return !rows.isEmpty
    }

    /// Servers of a fleet share one database.
    public var isShared: Bool { true }

    public func completeReply(id: Int64, sent: NewMessage) async throws {
        try await transaction { connection in
            let threadID = try await ensureThread(for: sent, on: connection)
            _ = try await insertEntry(sent, threadID: threadID, on: connection)
            try await connection.query(
                """
                UPDATE outbox SET state = 'sent', body = \(sent.body), provider_sid = \(sent.providerSid),
                    updated_at = \(Date().timeIntervalSince1970)
                WHERE id = \(id)
                """,
                logger: logger)
        }
    }

    public func abandonReply(id: Int64, reason: String) async throws {
        try await client.query(
            """
            UPDATE outbox SET state = 'abandoned', error = \(reason), updated_at = \(Date().timeIntervalSince1970)
            WHERE id = \(id) AND state <> 'sent'
            """,
            logger: logger)
    }
}

// MARK: - Reads

extension PostgresConversationStore {
    static let entryColumns =
        "id, contact, channel, direction, body, provider_sid, call_sid, turn, thread_reference, created_at, status, error_code, timings"

    public func contact(_ address: String) async throws -> Contact? {
        let rows = try await rows(
            "SELECT created_at, opted_out, last_inbound_whatsapp FROM contacts WHERE address = \(address)")
        guard let row = rows.first else { return nil }
        let (created, optedOut, lastWhatsApp) = try row.decode((Double, Bool, Double?).self)
        return Contact(
            address: address, createdAt: Date(timeIntervalSince1970: created), optedOut: optedOut,
            lastInboundWhatsApp: lastWhatsApp.map(Date.init(timeIntervalSince1970:)))
    }

    public func history(of address: String, limit: Int, before: Int64?) async throws -> [Entry] {
        let rows = try await rows(
            """
            SELECT \(unescaped: Self.entryColumns) FROM (
                SELECT \(unescaped: Self.entryColumns) FROM entries WHERE contact = \(address) AND id < \(before ?? Int64.max)
                ORDER BY id DESC LIMIT \(max(0, limit))) AS newest
            ORDER BY id
            """)
        return try rows.map(Self.entry)
    }

    public func entry(providerSid: String) async throws -> Entry? {
        let rows = try await rows("SELECT \(unescaped: Self.entryColumns) FROM entries WHERE provider_sid = \(providerSid)")
        return try rows.first.map(Self.entry)
    }

    public func calls(of address: String, limit: Int) async throws -> [CallSummaryRecord] {
        let rows = try await rows(
            """
            SELECT call_sid, from_address, to_address, started_at, ended_at, turns FROM calls
            WHERE contact = \(address) ORDER BY started_at DESC LIMIT \(max(0, limit))
            """)
        return try rows.map { row in
            let (sid, from, to, started, ended, turns) = try row.decode((String, String?, String?, Double, Double?, Int).self)
            return CallSummaryRecord(
                callSid: sid, contact: address, from: from, to: to, startedAt: Date(timeIntervalSince1970: started),
                endedAt: ended.map(Date.init(timeIntervalSince1970:)), turns: turns)
        }
    }

    public func search(_ query: String, limit: Int) async throws -> [Entry] {
        let words = SearchWords.of(query)
        guard !words.isEmpty else { return [] }
        // The words are letters and digits only, so the parser splits them exactly as it split search_text:
        // plainto_tsquery ANDs them.
        let rows = try await rows(
            """
            SELECT \(unescaped: Self.entryColumns) FROM entries
            WHERE search @@ plainto_tsquery('simple'::regconfig, \(words.joined(separator: " ")))
            ORDER BY id DESC LIMIT \(max(0, limit))
            """)
        return try rows.map(Self.entry)
    }

    public func counts() async throws -> StoreCounts {
        let rows = try await rows(
            """
            SELECT (SELECT COUNT(*) FROM contacts), (SELECT COUNT(*) FROM entries), (SELECT COUNT(*) FROM calls),
                (SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'composed', 'sending')),
                (SELECT COUNT(*) FROM outbox WHERE state = 'sent')
            """)
        guard let row = rows.first else { throw StoreError("no counts") }
        let (contacts, entries, calls, pending, sent) = try row.decode((Int, Int, Int, Int, Int).self)
        return StoreCounts(contacts: contacts, entries: entries, calls: calls, pendingReplies: pending, sentReplies: sent)
    }

    private static func entry(_ row: PostgresRow) throws -> Entry {
        let (id, contact, channelName, directionName, body, providerSid, callSid, turn, reference, created, status, errorCode, timings) =
            try row.decode((Int64, String, String, String, String, String?, String?, Int?, String, Double, String?, Int?, String?).self)
        guard let channel = VoicePipeStore.Channel(rawValue: channelName), let direction = Direction(rawValue: directionName) else {
            throw StoreError("malformed entry row")
        }
        return Entry(
            id: id, contact: contact, channel: channel, direction: direction, body: body, providerSid: providerSid, callSid: callSid,
            turn: turn, threadReference: reference, createdAt: Date(timeIntervalSince1970: created), status: status,
            errorCode: errorCode, timings: timings)
    }
}

extension PostgresConversationStore: BulkLoading {
    /// Loads voice entries 10,000 rows per statement (arrays unnested server-side), for the search benchmark.
    package func bulkInsertEntries(_ rows: [BulkEntry]) async throws {
        var threads: [String: Int64] = [:]
        var start = 0
        while start < rows.count {
            let slice = rows[start..<min(start + 10_000, rows.count)]
            try await transaction { connection in
                var threadIDs: [Int64] = []
                var contacts: [String] = []
                var directions: [String] = []
                var bodies: [String] = []
                var words: [String] = []
                var dates: [Double] = []
                for row in slice {
                    if threads[row.contact] == nil {
                        threads[row.contact] = try await ensureThread(
                            contact: row.contact, channel: .voice, reference: "", contactAddress: row.contact, agentAddress: nil,
                            at: row.createdAt, on: connection)
                    }
                    threadIDs.append(threads[row.contact] ?? 0)
                    contacts.append(row.contact)
                    directions.append(row.direction.rawValue)
                    bodies.append(row.body)
                    words.append(Self.searchText(row.body))
                    dates.append(row.createdAt.timeIntervalSince1970)
                }
                try await connection.query(
                    """
                    INSERT INTO entries (thread_id, contact, channel, thread_reference, direction, body, search_text, created_at)
                    SELECT t, c, 'voice', '', d, b, s, x
                    FROM UNNEST(\(threadIDs)::bigint[], \(contacts)::text[], \(directions)::text[], \(bodies)::text[],
                        \(words)::text[], \(dates)::float8[]) AS u(t, c, d, b, s, x)
                    """,
                    logger: logger)
            }
            start += slice.count
        }
    }
}
