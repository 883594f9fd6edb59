//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
public import Logging
public import PostgresNIO
public import VoicePipeStore

/// A ``ConversationStore`` on PostgreSQL (postgres-nio's connection pool): for a fleet of servers sharing one
/// database. It keeps the guarantees of `SQLiteConversationStore` with PostgreSQL's own means: unique keys and
/// `INSERT … ON CONFLICT DO NOTHING RETURNING` for idempotent webhooks, row locks for status updates and outbox
/// claims, and a `tsvector` column with a GIN index for full-text search.
///
/// ```swift
/// let store = try await PostgresConversationStore.connect(url: "postgres://voicepipe:secret@db:5432/voicepipe")
/// try await store.migrate()
/// defer { try? await store.close() }
/// ```
///
/// Dates are stored as `double precision` seconds since 1970 (as in SQLite), so that a `Date` comes back exactly.
/// With a `schema`, every table lives in that schema (several deployments, or test runs, can share a database).
public final class PostgresConversationStore: ConversationStore {
    /// The schema the tables live in (`nil`: the role's default `search_path`, usually `public`).
    public let schema: String?
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    private init(client: PostgresClient, schema: String?, logger: Logger, runTask: Task<Void, Never>) {
        self.client = client
        self.schema = schema
        self.logger = logger
        self.runTask = runTask
    }

    /// Connects to the database at `url` (`postgres://user:password@host:port/database`, or `postgresql://`, with
    /// libpq's `?sslmode=disable|prefer|require|verify-ca|verify-full`, `connect_timeout` and
    /// `application_name`). Call ``migrate()`` before use, and ``close()`` at the end.
    ///
    /// - Parameters:
    ///   - url: The database's URL (see ``configuration(url:)``).
    ///   - schema: A schema to keep the tables in (a lowercase identifier: letters, digits and `_`), created by
    ///     ``migrate()`` if absent; `nil` for the role's default `search_path`.
    ///   - logger: Where the store and the connection pool log.
    /// - Throws: ``StoreError`` if the URL or the schema name is invalid, or no connection is made within twice the
    ///   connect timeout (10 seconds unless `connect_timeout` says otherwise).
    public static func connect(
        url: String, schema: String? = nil, logger: Logger = Logger(label: "voicepipe.store")
    ) async throws -> PostgresConversationStore {
        try await connect(configuration: configuration(url: url), schema: schema, logger: logger)
    }

    /// Connects with a postgres-nio configuration (for TLS settings or pool sizes a URL cannot express). The
    /// store runs the client's ``PostgresClient/run()`` in a task of its own until ``close()``.
    ///
    /// - Throws: ``StoreError`` if the schema name is invalid or the database cannot be reached.
    public static func connect(
        configuration: PostgresClient.Configuration, schema: String? = nil, logger: Logger = Logger(label: "voicepipe.store")
    ) async throws -> PostgresConversationStore {
        var configuration = configuration
        if let schema {
            guard Self.isPlainIdentifier(schema) else {
                throw StoreError("invalid schema name \(schema): use lowercase letters, digits and _ (at most 63)")
            }
            configuration.options.additionalStartupParameters.append(("search_path", schema))
        }
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        // The task signals as it is about to call run(), so that the first query does not lease a connection from
        // a pool that is not running yet.
        let (started, signal) = AsyncStream<Void>.makeStream()
        let runTask = Task {
            signal.finish()
            await client.run()
        }
        for await _ in started {}
        let store = PostgresConversationStore(client: client, schema: schema, logger: logger, runTask: runTask)
        // The pool retries a connection that fails (a server down, a wrong password) for a minute before it fails
        // the query: give up sooner, after twice the connect timeout, and stop the pool.
        let deadline = configuration.options.connectTimeout * 2
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await client.query("SELECT 1", logger: logger) }
                group.addTask {
                    try await Task.sleep(for: deadline)
                    runTask.cancel()  // fails the query's lease, so that the group can end
                    throw StoreError("no connection within \(deadline)")
                }
                try await group.next()
                group.cancelAll()
            }
        } catch {
            try? await store.close()
            throw StoreError("cannot connect to PostgreSQL: \(Self.describe(error))")
        }
        return store
    }

    /// Stops the connection pool: the store cannot be used afterwards.
    public func close() async throws {
        runTask.cancel()
        await runTask.value
    }

    // MARK: - Schema

    /// The schema version the database is at (0: none).
    public func schemaVersion() async throws -> Int {
        let exists = try await client.query("SELECT to_regclass('schema_migrations') IS NOT NULL", logger: logger).collect()
        guard try exists.first?.decode(Bool.self) == true else { return 0 }
        let rows = try await client.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", logger: logger).collect()
        return try rows.first?.decode(Int.self) ?? 0
    }

    /// Creates the schema, or brings it to the latest version: each migration once, in order, in a transaction
    /// that holds an advisory lock (`pg_advisory_xact_lock`), so that servers migrating at the same time take
    /// turns and the second finds the work done.
    public func migrate() async throws {
        while true {
            let applied: Int? = try await transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(Self.migrationLock))", logger: logger)
                if let schema {
                    // A validated identifier (isPlainIdentifier), not a value: DDL cannot take binds.
                    try await connection.query("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)", logger: logger)
                }
                try await connection.query(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at double precision NOT NULL)",
                    logger: logger)
                let rows = try await connection.query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", logger: logger)
                    .collect()
                let current = try rows.first?.decode(Int.self) ?? 0
                guard let migration = Self.migrations.first(where: { $0.version > current }) else { return nil }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.version), \(Date().timeIntervalSince1970))",
                    logger: logger)
                return migration.version
            }
            guard let applied else { return }
            logger.info("store migrated", metadata: ["version": "\(applied)", "schema": "\(schema ?? "default")"])
        }
    }

    /// Drops the store's schema and everything in it (tests; refuses without a schema).
    package func dropSchema() async throws {
        guard let schema else { throw StoreError("no schema to drop") }
        try await client.query("DROP SCHEMA IF EXISTS \(unescaped: schema) CASCADE", logger: logger)
    }

    /// The key of the advisory lock migrations hold ("VoicePip" in ASCII).
    static let migrationLock: Int64 = 0x566F_6963_6550_6970

    /// Whether `name` can be used unquoted as a schema name: a lowercase letter or `_`, then lowercase letters,
    /// digits or `_`, at most 63 bytes (PostgreSQL's limit).
    static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, name.utf8.count <= 63 else { return false }
        func isLower(_ byte: UInt8) -> Bool { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || byte == UInt8(ascii: "_") }
        return isLower(first) && name.utf8.allSatisfy { isLower($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    // MARK: - Plumbing

    /// Runs `body` in a transaction on one pooled connection: committed if it returns, rolled back if it throws
    /// (the error comes out as it was thrown).
    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withConnection { connection in
            try await connection.query("BEGIN", logger: logger)
            do {
                let result = try await body(connection)
                try await connection.query("COMMIT", logger: logger)
                return result
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    /// The rows of a query run on any pooled connection.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await client.query(query, logger: logger).collect()
    }

    /// An error's description with the server's message (postgres-nio's own description hides it).
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
