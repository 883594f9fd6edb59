//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import VoicePipeStore

extension PostgresConversationStore {
    /// The migrations, in order: each runs once, in a transaction, and is recorded in `schema_migrations`.
    ///
    /// The tables mirror SQLite's. Full-text search: `entries.search_text` holds the body's words as
    /// ``SearchWords`` splits them (letters and digits, lowercased, separated by spaces), and `entries.search` is
    /// `to_tsvector('simple', search_text)`, generated and GIN-indexed. Splitting in Swift rather than with
    /// PostgreSQL's parser keeps the backends alike: the parser would keep `ann@example.com` or `3.5` as one
    /// token, so that `example` or `5` would not find them, while FTS5 finds them.
    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE contacts (
                    address text PRIMARY KEY, created_at double precision NOT NULL, opted_out boolean NOT NULL DEFAULT false,
                    opted_out_at double precision, last_inbound_whatsapp double precision)
                """,
                """
                CREATE TABLE threads (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, contact text NOT NULL REFERENCES contacts (address),
                    channel text NOT NULL, reference text NOT NULL, contact_address text, agent_address text,
                    created_at double precision NOT NULL, UNIQUE (contact, channel, reference))
                """,
                """
                CREATE TABLE entries (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, thread_id bigint NOT NULL REFERENCES threads (id),
                    contact text NOT NULL, channel text NOT NULL, thread_reference text NOT NULL, direction text NOT NULL,
                    body text NOT NULL, search_text text NOT NULL, provider_sid text UNIQUE, call_sid text, turn integer,
                    created_at double precision NOT NULL, status text, status_rank integer, error_code integer,
                    status_at double precision, timings text,
                    search tsvector GENERATED ALWAYS AS (to_tsvector('simple'::regconfig, search_text)) STORED)
                """,
                "CREATE INDEX entries_by_contact ON entries (contact, id)",
                "CREATE INDEX entries_by_call ON entries (call_sid) WHERE call_sid IS NOT NULL",
                "CREATE INDEX entries_search ON entries USING gin (search)",
                """
                CREATE TABLE status_events (
                    provider_sid text NOT NULL, status text NOT NULL, error_code integer NOT NULL, at double precision NOT NULL,
                    PRIMARY KEY (provider_sid, status, error_code))
                """,
                """
                CREATE TABLE calls (
                    call_sid text PRIMARY KEY, contact text NOT NULL, from_address text, to_address text,
                    started_at double precision NOT NULL, ended_at double precision, turns integer NOT NULL DEFAULT 0)
                """,
                "CREATE INDEX calls_by_contact ON calls (contact, started_at)",
                """
                CREATE TABLE outbox (
                    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, inbound_sid text NOT NULL UNIQUE, contact text NOT NULL,
                    channel text NOT NULL, thread_reference text NOT NULL, to_address text NOT NULL, from_address text, body text,
                    state text NOT NULL, attempts integer NOT NULL DEFAULT 0, provider_sid text, error text,
                    created_at double precision NOT NULL, updated_at double precision NOT NULL)
                """,
                "CREATE INDEX outbox_open ON outbox (state) WHERE state IN ('pending', 'composed', 'sending')",
            ]
        )
    ]

    /// The text the full-text index is built from: every word of `body` as ``SearchWords`` splits a query
    /// (letters and digits, lowercased), separated by single spaces.
    static func searchText(_ body: String) -> String {
        body.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: " ")
    }
}
