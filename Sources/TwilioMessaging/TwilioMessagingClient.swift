//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
import NIOHTTP1
import TwilioCore
public import TwilioREST

/// Twilio Programmable Messaging over the REST API: send an SMS, MMS or WhatsApp message, fetch one, list
/// them page by page.
///
/// It follows `TwilioRESTClient`'s conventions: the same `TwilioCredentials` (an
/// auth token or an API key), the same `Configuration` (base URL, per-attempt timeout, `RetryPolicy`,
/// response size limit), form-encoded requests, and Twilio's JSON errors, here wrapped in a
/// ``MessagingError`` whose ``MessagingError/reason`` a sender can switch on.
///
/// Retries: a 429 (20429, 14107) is retried for every request, after Twilio's `Retry-After` when it sends
/// one (a longer wait than the policy's `maximumRetryAfter` ends the retries), otherwise after the policy's
/// jittered backoff; Twilio never processed such a request. Fetch and list (GETs) are also retried on 5xx,
/// timeouts and connection failures. A send is not: after a 5xx, a timeout or a dropped connection the
/// message may exist, and a second one would reach the customer twice.
///
/// ```swift
/// let messaging = TwilioMessagingClient(credentials: .authToken(accountSid: sid, authToken: token))
/// let message = try await messaging.send(
///     SendMessage(to: "+14155550199", sender: .from("+14155550100"), body: "Your table is booked."))
/// for try await earlier in messaging.messages(MessageQuery(from: "+14155550199")) { print(earlier.body ?? "") }
/// ```
public struct TwilioMessagingClient: Sendable {
    /// The credentials (the secret is never printed).
    public let credentials: TwilioCredentials
    /// The settings in use (the REST client's).
    public let configuration: TwilioRESTClient.Configuration
    /// The Voice REST client's transport: its authentication, timeouts and retry loop.
    let rest: TwilioRESTClient

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - credentials: The account SID and auth token, or an API key acting for the account.
    ///   - configuration: Base URL, timeout, retries (as for `TwilioRESTClient`).
    ///   - httpClient: The connection pool (by default AsyncHTTPClient's shared one).
    public init(
        credentials: TwilioCredentials, configuration: TwilioRESTClient.Configuration = .init(), httpClient: HTTPClient = .shared
    ) {
        self.credentials = credentials
        self.configuration = configuration
        rest = TwilioRESTClient(credentials: credentials, configuration: configuration, httpClient: httpClient)
    }

    /// A client with the same credentials and settings as a Voice REST client.
    public init(sameAs restClient: TwilioRESTClient, httpClient: HTTPClient = .shared) {
        self.init(credentials: restClient.credentials, configuration: restClient.configuration, httpClient: httpClient)
    }

    var messagesPath: String { "/2010-04-01/Accounts/\(Self.pathSegment(credentials.accountSid))/Messages" }

    /// Sends a message (`POST …/Messages.json`, answered with 201 and the `queued` or `accepted` message).
    ///
    /// Retried on 429 only (see the type's discussion).
    ///
    /// - Throws: ``MessagingError``; switch on its ``MessagingError/reason`` (``MessagingError/Reason/unsubscribed``,
    ///   ``MessagingError/Reason/outsideWhatsAppWindow``, ``MessagingError/Reason/invalidRecipient``, …).
    public func send(_ message: SendMessage) async throws(MessagingError) -> Message {
        try await perform(method: .POST, pathAndQuery: messagesPath + ".json", form: message.formFields, idempotent: false)
    }

    /// Fetches a message by its SID (`GET …/Messages/{Sid}.json`).
    ///
    /// - Throws: ``MessagingError`` (``MessagingError/Reason/notFound`` for an unknown SID).
    public func fetchMessage(sid: String) async throws(MessagingError) -> Message {
        try await perform(
            method: .GET, pathAndQuery: messagesPath + "/\(Self.pathSegment(sid)).json", form: nil, idempotent: true)
    }

    /// Fetches the first page of messages matching `query` (`GET …/Messages.json?To=…&From=…&PageSize=…`),
    /// newest first.
    public func listMessages(_ query: MessageQuery = .init()) async throws(MessagingError) -> MessagePage {
        let fields = query.queryFields
        let path = messagesPath + ".json" + (fields.isEmpty ? "" : "?" + FormEncoding.encode(fields))
        return try await perform(method: .GET, pathAndQuery: path, form: nil, idempotent: true)
    }

    /// Fetches the page after `page` by GETting its `next_page_uri` on the configured origin, as Twilio's
    /// SDKs do.
    ///
    /// - Returns: The next page, or `nil` when `page` is the last.
    /// - Throws: ``MessagingError``; ``MessagingError/Reason/invalidResponse`` when `next_page_uri` is not a
    ///   path on the API's origin (it is never followed to another host, which would receive the credentials).
    public func nextPage(after page: MessagePage) async throws(MessagingError) -> MessagePage? {
        guard let next = page.nextPageURI, !next.isEmpty else { return nil }
        guard next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else {
            throw MessagingError(TwilioRESTError(kind: .invalidResponse, message: "next_page_uri is not a path: \(next)"))
        }
        return try await perform(method: .GET, pathAndQuery: next, form: nil, idempotent: true) as MessagePage
    }

    /// Every message matching `query`, page after page, newest first. Pages are fetched as the sequence is
    /// iterated; an error ends the iteration by throwing.
    public func messages(_ query: MessageQuery = .init()) -> MessageSequence {
        MessageSequence(client: self, query: query)
    }
}
