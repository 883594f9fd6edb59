//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
import NIOHTTP1
import TwilioCore
public import TwilioREST

/// Twilio Conversations v1 ("Conversations classic") over REST: conversations, their SMS, WhatsApp and
/// chat participants, their messages, and the conversations a phone number takes part in.
///
/// It follows ``TwilioMessagingClient``: the same `TwilioCredentials` (auth token or API key), the same
/// `TwilioRESTClient.Configuration` (its base URL defaults here to ``defaultBaseURL``), form-encoded
/// requests, Twilio's JSON errors as a ``MessagingError`` (``MessagingError/Reason/addressPairInUse`` for
/// 50416, ``MessagingError/Reason/conversationClosed`` for 50377, …).
///
/// Retries: a 429 is retried for every request (after `Retry-After` when Twilio sends one). Creates
/// (conversation, participant, message) are retried on 429 only: after a 5xx, a timeout or a dropped
/// connection the resource may exist. Fetches, lists, updates and deletes are also retried on 5xx,
/// timeouts and connection failures.
///
/// REST actions trigger Conversations webhooks only when asked to: pass `webhookEnabled: true` to send
/// `X-Twilio-Webhook-Enabled: true`.
///
/// ```swift
/// let conversations = TwilioConversationsClient(credentials: .authToken(accountSid: sid, authToken: token))
/// let thread = try await conversations.createConversation(CreateConversation(friendlyName: "Booking"))
/// _ = try await conversations.addParticipant(to: thread.sid, .sms(address: "+14155550199", proxyAddress: ourNumber))
/// _ = try await conversations.createMessage(in: thread.sid, CreateConversationMessage(author: "agent", body: "Hi!"))
/// for try await message in conversations.messages(in: thread.sid) { print(message.index, message.body ?? "") }
/// ```
public struct TwilioConversationsClient: Sendable {
    /// `https://conversations.twilio.com`.
    public static let defaultBaseURL = "https://conversations.twilio.com"

    /// The credentials (the secret is never printed).
    public let credentials: TwilioCredentials
    /// The settings in use; `baseURL` is the Conversations API's origin.
    public let configuration: TwilioRESTClient.Configuration
    let httpClient: HTTPClient

    /// Creates a client.
    ///
    /// - Parameters:
    ///   - credentials: The account SID and auth token, or an API key acting for the account.
    ///   - configuration: Base URL (``defaultBaseURL`` unless given), timeout, retries (as for `TwilioRESTClient`).
    ///   - httpClient: The connection pool (by default AsyncHTTPClient's shared one).
    public init(
        credentials: TwilioCredentials, configuration: TwilioRESTClient.Configuration = .init(baseURL: defaultBaseURL),
        httpClient: HTTPClient = .shared
    ) {
        self.credentials = credentials
        self.configuration = configuration
        self.httpClient = httpClient
    }

    /// A client with a Voice REST client's credentials, timeout and retries, on `baseURL`.
    public init(sameAs restClient: TwilioRESTClient, baseURL: String = defaultBaseURL, httpClient: HTTPClient = .shared) {
        var configuration = restClient.configuration
        configuration.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.init(credentials: restClient.credentials, configuration: configuration, httpClient: httpClient)
    }

    static func conversationPath(_ sidOrUniqueName: String) -> String { "/v1/Conversations/" + pathSegment(sidOrUniqueName) }

    // MARK: - Conversations

    /// Creates a conversation (`POST /v1/Conversations`, answered 201). Retried on 429 only.
    ///
    /// - Parameter webhookEnabled: Sends `X-Twilio-Webhook-Enabled` with this value when not `nil`.
    /// - Throws: ``MessagingError`` (``MessagingError/Reason/duplicateUniqueName`` for 50353).
    public func createConversation(
        _ conversation: CreateConversation = .init(), webhookEnabled: Bool? = nil
    ) async throws(MessagingError) -> Conversation {
        try await perform(
            method: .POST, pathAndQuery: "/v1/Conversations", form: conversation.formFields, idempotent: false,
            webhookEnabled: webhookEnabled)
    }

    /// Fetches a conversation by its `CH…` sid or its unique name (`GET /v1/Conversations/{Sid}`).
    ///
    /// - Throws: ``MessagingError`` (``MessagingError/Reason/notFound`` when there is none).
    public func fetchConversation(_ sidOrUniqueName: String) async throws(MessagingError) -> Conversation {
        try await perform(method: .GET, pathAndQuery: Self.conversationPath(sidOrUniqueName), form: nil, idempotent: true)
    }

    /// Updates a conversation's state, friendly name, attributes or timers (`POST /v1/Conversations/{Sid}`).
    ///
    /// - Throws: ``MessagingError`` (``MessagingError/Reason/conversationClosed`` for 50377: a closed
    ///   conversation cannot change).
    public func updateConversation(
        _ sidOrUniqueName: String, _ update: UpdateConversation, webhookEnabled: Bool? = nil
    ) async throws(MessagingError) -> Conversation {
        try await perform(
            method: .POST, pathAndQuery: Self.conversationPath(sidOrUniqueName), form: update.formFields, idempotent: true,
            webhookEnabled: webhookEnabled)
    }

    /// Deletes a conversation, its participants and messages (`DELETE /v1/Conversations/{Sid}`, answered
    /// 204 with no body). It frees the participants' address pairs.
    public func deleteConversation(_ sidOrUniqueName: String, webhookEnabled: Bool? = nil) async throws(MessagingError) {
        try await performWithoutContent(
            method: .DELETE, pathAndQuery: Self.conversationPath(sidOrUniqueName), webhookEnabled: webhookEnabled)
    }

    // MARK: - Participants

    /// Adds a participant (`POST /v1/Conversations/{CH}/Participants`, answered 201). Retried on 429 only.
    ///
    /// - Throws: ``MessagingError``: ``MessagingError/Reason/addressPairInUse`` (50416: the pair is bound to
    ///   another active conversation), ``MessagingError/Reason/alreadyParticipant`` (50437, 50433),
    ///   ``MessagingError/Reason/invalidRecipient`` (50407: not E.164).
    public func addParticipant(
        to conversation: String, _ participant: AddParticipant, webhookEnabled: Bool? = nil
    ) async throws(MessagingError) -> ConversationParticipant {
        try await perform(
            method: .POST, pathAndQuery: Self.conversationPath(conversation) + "/Participants", form: participant.formFields,
            idempotent: false, webhookEnabled: webhookEnabled)
    }

    /// Fetches the first page of a conversation's participants (`GET …/Participants?PageSize=…`).
    public func listParticipants(
        of conversation: String, pageSize: Int? = nil
    ) async throws(MessagingError) -> ConversationsPage<ConversationParticipant> {
        try await perform(
            method: .GET, pathAndQuery: participantsListPath(conversation, pageSize: pageSize), form: nil, idempotent: true)
    }

    /// Every participant of a conversation, page after page.
    public func participants(of conversation: String, pageSize: Int? = nil) -> ConversationsSequence<ConversationParticipant> {
        ConversationsSequence(client: self, firstPathAndQuery: participantsListPath(conversation, pageSize: pageSize))
    }

    /// Removes a participant (`DELETE …/Participants/{MB}`, answered 204). It frees the address pair.
    public func removeParticipant(
        _ participantSid: String, from conversation: String, webhookEnabled: Bool? = nil
    ) async throws(MessagingError) {
        try await performWithoutContent(
            method: .DELETE, pathAndQuery: Self.conversationPath(conversation) + "/Participants/" + Self.pathSegment(participantSid),
            webhookEnabled: webhookEnabled)
    }

    // MARK: - Messages

    /// Posts a message (`POST /v1/Conversations/{CH}/Messages`, answered 201); Twilio delivers it to the SMS
    /// and WhatsApp participants. Retried on 429 only: a message sent twice reaches the customer twice.
    ///
    /// - Parameter webhookEnabled: `true` makes Twilio fire `onMessageAdded` for it (an echo that
    ///   ``ConversationsMessageAdded/isEcho(agentAuthor:)`` recognises).
    public func createMessage(
        in conversation: String, _ message: CreateConversationMessage, webhookEnabled: Bool? = nil
    ) async throws(MessagingError) -> ConversationMessage {
        try await perform(
            method: .POST, pathAndQuery: Self.conversationPath(conversation) + "/Messages", form: message.formFields,
            idempotent: false, webhookEnabled: webhookEnabled)
    }

    /// Fetches the first page of a conversation's messages (`GET …/Messages?Order=…&PageSize=…`).
    public func listMessages(
        in conversation: String, order: ConversationMessageOrder? = nil, pageSize: Int? = nil
    ) async throws(MessagingError) -> ConversationsPage<ConversationMessage> {
        try await perform(
            method: .GET, pathAndQuery: messagesListPath(conversation, order: order, pageSize: pageSize), form: nil, idempotent: true)
    }

    /// Every message of a conversation, page after page (oldest first unless `order` is descending).
    public func messages(
        in conversation: String, order: ConversationMessageOrder? = nil, pageSize: Int? = nil
    ) -> ConversationsSequence<ConversationMessage> {
        ConversationsSequence(client: self, firstPathAndQuery: messagesListPath(conversation, order: order, pageSize: pageSize))
    }

    // MARK: - Lookup

    /// Fetches the first page of the conversations an address takes part in
    /// (`GET /v1/ParticipantConversations?Address=…`): a contact's threads, by phone number
    /// (`+14155550199` or `whatsapp:+14155550199`).
    public func listParticipantConversations(
        address: String, pageSize: Int? = nil
    ) async throws(MessagingError) -> ConversationsPage<ParticipantConversation> {
        try await perform(
            method: .GET, pathAndQuery: participantConversationsPath(address: address, pageSize: pageSize), form: nil,
            idempotent: true)
    }

    /// Every conversation an address takes part in, page after page.
    public func participantConversations(
        address: String, pageSize: Int? = nil
    ) -> ConversationsSequence<ParticipantConversation> {
        ConversationsSequence(client: self, firstPathAndQuery: participantConversationsPath(address: address, pageSize: pageSize))
    }

    // MARK: - Paging

    /// Fetches the page after `page` by GETting its absolute `meta.next_page_url` as it is, as Twilio's SDKs do.
    ///
    /// - Returns: The next page, or `nil` when `page` is the last.
    /// - Throws: ``MessagingError``; ``MessagingError/Reason/invalidResponse`` when `next_page_url` is not on
    ///   the configured origin (it is never followed to another host, which would receive the credentials).
    public func nextPage<Item>(after page: ConversationsPage<Item>) async throws(MessagingError) -> ConversationsPage<Item>? {
        guard let next = page.nextPageURL, !next.isEmpty else { return nil }
        let origin = configuration.baseURL + "/"
        guard next.hasPrefix(origin), !next.contains("\\") else {
            throw MessagingError(
                TwilioRESTError(kind: .invalidResponse, message: "next_page_url is not on \(configuration.baseURL): \(next)"))
        }
        return try await perform(method: .GET, pathAndQuery: String(next.dropFirst(origin.count - 1)), form: nil, idempotent: true)
            as ConversationsPage<Item>
    }

    private func participantsListPath(_ conversation: String, pageSize: Int?) -> String {
        Self.withQuery(Self.conversationPath(conversation) + "/Participants", pageSize.map { [("PageSize", String($0))] } ?? [])
    }

    private func messagesListPath(_ conversation: String, order: ConversationMessageOrder?, pageSize: Int?) -> String {
        var fields: [(String, String)] = []
        if let order { fields.append(("Order", order.rawValue)) }
        if let pageSize { fields.append(("PageSize", String(pageSize))) }
        return Self.withQuery(Self.conversationPath(conversation) + "/Messages", fields)
    }

    private func participantConversationsPath(address: String, pageSize: Int?) -> String {
        var fields = [("Address", address)]
        if let pageSize { fields.append(("PageSize", String(pageSize))) }
        return Self.withQuery("/v1/ParticipantConversations", fields)
    }

    private static func withQuery(_ path: String, _ fields: [(String, String)]) -> String {
        fields.isEmpty ? path : path + "?" + FormEncoding.encode(fields)
    }
}
