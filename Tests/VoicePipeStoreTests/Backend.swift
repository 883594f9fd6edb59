//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import VoicePipeStore
import VoicePipeStorePostgres

/// A store backend the behaviour tests run against.
enum Backend: String, Sendable, CustomTestStringConvertible {
    /// `SQLiteConversationStore`, on a temporary file per test.
    case sqlite
    /// `PostgresConversationStore`, on `VOICEPIPE_POSTGRES_URL`, in a schema of its own per test.
    case postgres

    /// SQLite always; PostgreSQL when `VOICEPIPE_POSTGRES_URL` is set, and in CI (`CI` set) even when it is not,
    /// so that CI fails rather than silently skips the PostgreSQL suite.
    static var all: [Backend] { postgresURL != nil || isCI ? [.sqlite, .postgres] : [.sqlite] }

    static var postgresURL: String? { ProcessInfo.processInfo.environment["VOICEPIPE_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var isCI: Bool { !(ProcessInfo.processInfo.environment["CI"] ?? "").isEmpty }

    var testDescription: String { self == .sqlite ? "SQLite" : "PostgreSQL" }
}

/// What a test needs that the protocol does not give: opening a store, reopening it ("restart"), the schema
/// version. Each test has a database of its own (a temporary SQLite file, a fresh PostgreSQL schema), deleted
/// afterwards.
final class TestDatabase: Sendable {
    let backend: Backend
    /// The SQLite file, or the PostgreSQL schema.
    private let location: String
    private let url: String
    private let openStores = Mutex<[any ConversationStore]>([])

    private init(backend: Backend, location: String, url: String) {
        self.backend = backend
        self.location = location
        self.url = url
    }

    /// Runs `body` with a new database for `backend`, then closes its stores and deletes it.
    static func with(_ backend: Backend, _ body: (TestDatabase) async throws -> Void) async throws {
        let suffix = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let database: TestDatabase
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("voicepipe-store-\(suffix).db").path
            database = TestDatabase(backend: backend, location: path, url: "")
        case .postgres:
            guard let url = Backend.postgresURL else {
                throw StoreTestError(
                    "CI is set but VOICEPIPE_POSTGRES_URL is not: CI must run the PostgreSQL suite (bash scripts/start-postgres.sh)")
            }
            database = TestDatabase(backend: backend, location: "voicepipe_test_\(suffix)", url: url)
        }
        do {
            try await body(database)
        } catch {
            await database.destroy()
            throw error
        }
        await database.destroy()
    }

    /// Opens a store on the test's database and migrates it.
    func open() async throws -> any ConversationStore {
        let store: any ConversationStore
        switch backend {
        case .sqlite: store = try await SQLiteConversationStore.open(path: location)
        case .postgres: store = try await PostgresConversationStore.connect(url: url, schema: location)
        }
        openStores.withLock { $0.append(store) }
        try await store.migrate()
        return store
    }

    /// Closes `store` and opens a new one on the same database: what a restarted server finds.
    func reopen(_ store: any ConversationStore) async throws -> any ConversationStore {
        openStores.withLock { stores in stores.removeAll { $0 as AnyObject === store as AnyObject } }
        try await store.close()
        return try await open()
    }

    /// The store's schema version.
    func schemaVersion(_ store: any ConversationStore) async throws -> Int {
        switch store {
        case let store as SQLiteConversationStore: try await store.schemaVersion()
        case let store as PostgresConversationStore: try await store.schemaVersion()
        default: throw StoreTestError("unknown store \(type(of: store))")
        }
    }

    private func destroy() async {
        let stores = openStores.withLock { stores in
            let open = stores
            stores = []
            return open
        }
        for store in stores {
            try? await store.close()
        }
        switch backend {
        case .sqlite:
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: location + suffix) }
        case .postgres:
            guard let store = try? await PostgresConversationStore.connect(url: url, schema: location) else { return }
            try? await store.dropSchema()
            try? await store.close()
        }
    }
}

/// A test's own failure.
struct StoreTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
