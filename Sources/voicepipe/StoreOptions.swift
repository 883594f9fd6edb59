//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import TwilioMessaging
import TwilioREST
import VoicePipeStore
import VoicePipeStorePostgres

/// Where the store is: `sqlite:PATH`, `postgres://…` (or `postgresql://…`), or `none`.
enum StoreLocation: ExpressibleByArgument, CustomStringConvertible, Sendable {
    case sqlite(path: String)
    case postgres(url: String)
    case none

    init?(argument: String) {
        if argument == "none" {
            self = .none
        } else if argument.hasPrefix("sqlite:") {
            let path = String(argument.dropFirst("sqlite:".count))
            guard !path.isEmpty else { return nil }
            self = .sqlite(path: path)
        } else if argument.hasPrefix("postgres://") || argument.hasPrefix("postgresql://") {
            self = .postgres(url: argument)
        } else {
            return nil
        }
    }

    /// The option's value, as given (for another process's command line).
    var argument: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): url
        case .none: "none"
        }
    }

    var description: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let url): Self.redacted(url)
        case .none: "none"
        }
    }

    /// The URL without its password.
    static func redacted(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@"), let scheme = url.range(of: "://"),
            let colon = url[scheme.upperBound..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<colon]) + ":***" + String(url[at...])
    }

    /// Opens the store and brings its schema up to date (`nil` for `none`).
    func open(logger: Logger) async throws -> (any ConversationStore)? {
        let store: any ConversationStore
        do {
            switch self {
            case .none: return nil
            case .sqlite(let path): store = try await SQLiteConversationStore.open(path: path, logger: logger)
            case .postgres(let url): store = try await PostgresConversationStore.connect(url: url, logger: logger)
            }
            try await store.migrate()
        } catch {
            throw ValidationError("--store \(self): \(error)")
        }
        return store
    }
}

/// Twilio's REST credentials from the environment: `TWILIO_ACCOUNT_SID` with `TWILIO_AUTH_TOKEN`, or with
/// `TWILIO_API_KEY` and `TWILIO_API_SECRET`; `TWILIO_API_BASE_URL` and `TWILIO_CONVERSATIONS_BASE_URL` override
/// the hosts (for a stand-in).
enum TwilioEnvironment {
    static func messagingClient() -> TwilioMessagingClient? {
        guard let (credentials, configuration) = rest() else { return nil }
        return TwilioMessagingClient(credentials: credentials, configuration: configuration)
    }

    /// The Conversations client: the same credentials, on `TWILIO_CONVERSATIONS_BASE_URL` when set.
    static func conversationsClient() -> TwilioConversationsClient? {
        guard let (credentials, rest) = rest() else { return nil }
        var configuration = rest
        configuration.baseURL = value("TWILIO_CONVERSATIONS_BASE_URL") ?? TwilioConversationsClient.defaultBaseURL
        return TwilioConversationsClient(credentials: credentials, configuration: configuration)
    }

    private static func value(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    private static func rest() -> (TwilioCredentials, TwilioRESTClient.Configuration)? {
        guard let account = value("TWILIO_ACCOUNT_SID") else { return nil }
        let credentials: TwilioCredentials
        if let key = value("TWILIO_API_KEY"), let secret = value("TWILIO_API_SECRET") {
            credentials = .apiKey(accountSid: account, keySid: key, secret: secret)
        } else if let token = value("TWILIO_AUTH_TOKEN") {
            credentials = .authToken(accountSid: account, authToken: token)
        } else {
            return nil
        }
        return (credentials, value("TWILIO_API_BASE_URL").map { TwilioRESTClient.Configuration(baseURL: $0) } ?? .init())
    }
}
