//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoicePipeStore
import VoicePipeStorePostgres

@Suite("PostgreSQL connection URLs and failures")
struct PostgresURLTests {
    @Test("A full URL gives host, port, user, password and database")
    func fullURL() throws {
        let url = try PostgresURL(parsing: "postgres://ann:s%40cret@db.example.com:6543/voice_pipe?sslmode=disable&connect_timeout=3")
        #expect(
            url
                == PostgresURL(
                    host: "db.example.com", port: 6543, user: "ann", password: "s@cret", database: "voice_pipe", sslMode: .disable,
                    connectTimeout: 3))
    }

    @Test("postgresql:// with defaults: port 5432, no password, no database")
    func defaults() throws {
        let url = try PostgresURL(parsing: "postgresql://ann@127.0.0.1?sslmode=require&application_name=vp")
        #expect(url == PostgresURL(host: "127.0.0.1", port: 5432, user: "ann", sslMode: .require, applicationName: "vp"))
        #expect(try PostgresURL(parsing: "postgres://ann@[::1]:5433/db").host == "::1")
        #expect(try PostgresURL(parsing: "postgres://ann@localhost/db").sslMode == .prefer)
        _ = try PostgresConversationStore.configuration(url: "postgres://ann@localhost/db?sslmode=verify-full")
    }

    @Test(
        "Malformed URLs are refused",
        arguments: [
            "mysql://ann@host/db", "postgres:///db", "postgres://host/db", "postgres://ann@host/db?sslmode=sometimes",
            "postgres://ann@host/db?target_session_attrs=any", "postgres://ann@host/db?connect_timeout=soon", "not a url",
        ])
    func malformed(url: String) {
        #expect(throws: StoreError.self) { try PostgresConversationStore.configuration(url: url) }
    }

    @Test("A schema name must be a plain identifier")
    func schemaName() async {
        await #expect(throws: (any Error).self) {
            try await PostgresConversationStore.connect(url: "postgres://ann@127.0.0.1:1/db", schema: "x\"; DROP TABLE y")
        }
    }

    @Test("Connecting to a server that is not there fails within twice the connect timeout")
    func unreachable() async {
        let clock = ContinuousClock()
        let started = clock.now
        await #expect(throws: StoreError.self) {
            try await PostgresConversationStore.connect(url: "postgres://ann@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
        }
        #expect(started.duration(to: clock.now) < .seconds(5))
    }
}
