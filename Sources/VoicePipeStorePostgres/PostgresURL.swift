//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
public import PostgresNIO
import VoicePipeStore

extension PostgresConversationStore {
    /// The client configuration a libpq-style URL describes:
    /// `postgres://user:password@host:port/database?sslmode=disable` (or `postgresql://`). The user name,
    /// password and database may be percent-encoded; the port defaults to 5432.
    ///
    /// Parameters: `sslmode` (`disable`; `allow` or `prefer`, the default: TLS if the server offers it;
    /// `require`: TLS, the certificate unchecked, as libpq does; `verify-ca`: a trusted certificate; `verify-full`:
    /// a trusted certificate for the host name), `connect_timeout` (seconds) and `application_name`. Any other
    /// parameter is an error, rather than silently ignored.
    ///
    /// - Throws: ``StoreError`` for a URL that is not of that form.
    public static func configuration(url: String) throws -> PostgresClient.Configuration {
        let parsed = try PostgresURL(parsing: url)
        let tls: PostgresClient.Configuration.TLS =
            switch parsed.sslMode {
            case .disable: .disable
            case .prefer: .prefer(tlsConfiguration(verify: .none))
            case .require: .require(tlsConfiguration(verify: .none))
            case .verifyCA: .require(tlsConfiguration(verify: .noHostnameVerification))
            case .verifyFull: .require(tlsConfiguration(verify: .fullVerification))
            }
        var configuration = PostgresClient.Configuration(
            host: parsed.host, port: parsed.port, username: parsed.user, password: parsed.password, database: parsed.database,
            tls: tls)
        if let seconds = parsed.connectTimeout { configuration.options.connectTimeout = .seconds(seconds) }
        if let name = parsed.applicationName { configuration.options.additionalStartupParameters.append(("application_name", name)) }
        return configuration
    }

    private static func tlsConfiguration(verify: CertificateVerification) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = verify
        return configuration
    }
}

/// The parts of a `postgres://` URL (see ``PostgresConversationStore/configuration(url:)``).
package struct PostgresURL: Sendable, Hashable {
    /// libpq's `sslmode`, `allow` counted as `prefer`.
    package enum SSLMode: Sendable, Hashable {
        case disable, prefer, require, verifyCA, verifyFull
    }

    package var host: String
    package var port: Int
    package var user: String
    package var password: String?
    package var database: String?
    package var sslMode: SSLMode
    package var connectTimeout: Int?
    package var applicationName: String?

    /// Creates the parts of a URL.
    package init(
        host: String, port: Int = 5432, user: String, password: String? = nil, database: String? = nil, sslMode: SSLMode = .prefer,
        connectTimeout: Int? = nil, applicationName: String? = nil
    ) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
        self.sslMode = sslMode
        self.connectTimeout = connectTimeout
        self.applicationName = applicationName
    }

    /// Parses `url`.
    /// - Throws: ``StoreError`` for a URL that is not a `postgres://` or `postgresql://` one with a host and a user,
    ///   or has a parameter other than `sslmode`, `connect_timeout` and `application_name`.
    package init(parsing url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "postgres" || scheme == "postgresql"
        else { throw StoreError("not a postgres:// URL") }
        guard var host = components.host, !host.isEmpty else { throw StoreError("the PostgreSQL URL has no host") }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let user = components.user, !user.isEmpty else { throw StoreError("the PostgreSQL URL has no user name") }
        let database = String(components.path.drop { $0 == "/" })
        self.host = host
        self.port = components.port ?? 5432
        self.user = user
        self.password = components.password
        self.database = database.isEmpty ? nil : database
        self.sslMode = .prefer
        for item in components.queryItems ?? [] {
            switch (item.name, item.value ?? "") {
            case ("sslmode", "disable"): sslMode = .disable
            case ("sslmode", "allow"), ("sslmode", "prefer"): sslMode = .prefer
            case ("sslmode", "require"): sslMode = .require
            case ("sslmode", "verify-ca"): sslMode = .verifyCA
            case ("sslmode", "verify-full"): sslMode = .verifyFull
            case ("connect_timeout", let value):
                guard let seconds = Int(value), seconds > 0 else { throw StoreError("invalid connect_timeout \(value)") }
                connectTimeout = seconds
            case ("application_name", let value): applicationName = value
            case (let name, let value): throw StoreError("unsupported PostgreSQL URL parameter \(name)=\(value)")
            }
        }
    }
}
