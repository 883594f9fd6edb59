//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
public import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import TwilioCore

/// Twilio's text APIs on loopback, in Twilio's exact formats: Programmable Messaging
/// (`/2010-04-01/Accounts/{AC}/Messages…`) and Conversations v1 (`/v1/…`) on one host, with signed status
/// callbacks and webhooks, simulated customers, opt-outs, the WhatsApp 24-hour window and injected 429s.
///
/// Requests authenticate with HTTP Basic auth: the account SID and auth token, or the API key SID and secret
/// (401 with code 20003 otherwise). Everything the stand-in receives and posts is recorded
/// (``requests``, ``messages``, ``webhookAttempts``, ``conversationDeliveries``).
///
/// ```swift
/// let twilio = try await TwilioStandIn.start()
/// let client = TwilioMessagingClient(
///     credentials: .authToken(accountSid: twilio.accountSid, authToken: twilio.authToken),
///     configuration: .init(baseURL: twilio.baseURL))
/// _ = try await client.send(SendMessage(to: "+14155550199", sender: .from("+14155550100"), body: "Hi"))
/// let reply = try await twilio.sendInbound(from: "+14155550199", to: "+14155550100", body: "Hello", to: webhookURL)
/// await twilio.stop()
/// ```
public final class TwilioStandIn: Sendable {
    /// The stand-in's settings.
    public struct Configuration: Sendable {
        /// The port on 127.0.0.1 (0: any free port).
        public var port: Int
        /// The account SID (`AC…`) requests must name and that webhooks carry.
        public var accountSid: String
        /// The auth token: Basic auth's password with ``accountSid``, and the key that signs webhooks.
        public var authToken: String
        /// An API key SID (`SK…`) also accepted, with ``apiKeySecret``.
        public var apiKeySid: String
        /// The API key's secret.
        public var apiKeySecret: String
        /// Status-callback timing and faults for new messages.
        public var callbacks: CallbackOptions
        /// The Conversations post-event webhook, if any.
        public var conversationsWebhook: ConversationsWebhook?
        /// The default Conversation Service (`IS…`), the `chat_service_sid` of every conversation.
        public var chatServiceSid: String
        /// The default Messaging Service (`MG…`) of conversations.
        public var conversationsMessagingServiceSid: String
        /// The limit on each webhook or callback request.
        public var webhookTimeout: Duration

        /// Creates settings with fixed test credentials.
        public init(
            port: Int = 0, accountSid: String = "AC00000000000000000000000000000000",
            authToken: String = "stand-in-auth-token-00000000000000", apiKeySid: String = "SK00000000000000000000000000000000",
            apiKeySecret: String = "stand-in-api-key-secret", callbacks: CallbackOptions = CallbackOptions(),
            conversationsWebhook: ConversationsWebhook? = nil, chatServiceSid: String = "IS00000000000000000000000000000000",
            conversationsMessagingServiceSid: String = "MG00000000000000000000000000000000", webhookTimeout: Duration = .seconds(15)
        ) {
            self.port = port
            self.accountSid = accountSid
            self.authToken = authToken
            self.apiKeySid = apiKeySid
            self.apiKeySecret = apiKeySecret
            self.callbacks = callbacks
            self.conversationsWebhook = conversationsWebhook
            self.chatServiceSid = chatServiceSid
            self.conversationsMessagingServiceSid = conversationsMessagingServiceSid
            self.webhookTimeout = webhookTimeout
        }
    }

    struct State {
        var callbacks: CallbackOptions
        var conversationsWebhook: ConversationsWebhook?
        var requests: [RecordedRequest] = []
        /// Oldest first.
        var messages: [StoredMessage] = []
        var messageDates: [String: Date] = [:]
        var optedOut: Set<String> = []
        var lastWhatsAppInbound: [String: Date] = [:]
        var failingRecipients: [String: Int] = [:]
        var throttled: [String?] = []
        var webhookAttempts: [WebhookAttempt] = []
        var inbound: [InboundDelivery] = []
        var conversations: [ConversationRecord] = []
        var deliveries: [ConversationDelivery] = []
        var pendingTasks = 0
    }

    /// The settings it started with.
    public let configuration: Configuration
    /// The port it listens on (127.0.0.1).
    public let port: Int
    let state: Mutex<State>
    private let running: Mutex<(task: Task<Void, any Error>, group: ServiceGroup)?>
    let logger: Logger

    /// `http://127.0.0.1:port`: the base URL for a Messaging client (`TwilioRESTClient.Configuration(baseURL:)`).
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    /// `http://127.0.0.1:port/v1`: the Conversations API's base URL on this host.
    public var conversationsBaseURL: String { baseURL + "/v1" }
    /// The account SID.
    public var accountSid: String { configuration.accountSid }
    /// The auth token (also the webhook signing key).
    public var authToken: String { configuration.authToken }
    /// The accepted API key SID.
    public var apiKeySid: String { configuration.apiKeySid }
    /// The accepted API key secret.
    public var apiKeySecret: String { configuration.apiKeySecret }
    /// The `Authorization` header value for the account SID and auth token.
    public var authorizationHeader: String { Self.basic(accountSid, authToken) }

    private init(configuration: Configuration, port: Int, logger: Logger) {
        self.configuration = configuration
        self.port = port
        self.logger = logger
        state = Mutex(State(callbacks: configuration.callbacks, conversationsWebhook: configuration.conversationsWebhook))
        running = Mutex(nil)
    }

    /// Starts a stand-in on 127.0.0.1 and returns once it listens.
    ///
    /// - Parameters:
    ///   - configuration: Port, credentials, callback behaviour, Conversations webhook.
    ///   - logger: The server's logger.
    public static func start(
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "voicepipe.stand-in.twilio")
    ) async throws -> TwilioStandIn {
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let holder = Mutex<TwilioStandIn?>(nil)
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            guard let standIn = holder.withLock({ $0 }) else { return Response(status: .serviceUnavailable) }
            return await standIn.respond(to: request)
        }
        let application = Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: configuration.port), serverName: "Twilio stand-in"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        var groupConfiguration = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [], logger: logger)
        groupConfiguration.maximumGracefulShutdownDuration = .seconds(2)
        let group = ServiceGroup(configuration: groupConfiguration)
        let task = Task { try await group.run() }
        var bound = 0
        for await value in ports {
            bound = value
            break
        }
        guard bound > 0 else {
            task.cancel()
            throw TwilioStandInError.notListening
        }
        let standIn = TwilioStandIn(configuration: configuration, port: bound, logger: logger)
        standIn.running.withLock { $0 = (task, group) }
        holder.withLock { $0 = standIn }
        return standIn
    }

    /// Stops the server gracefully (open connections are closed). Callbacks already scheduled still run and
    /// are recorded.
    public func stop() async {
        guard
            let (task, group) = running.withLock({ value -> (Task<Void, any Error>, ServiceGroup)? in
                defer { value = nil }
                return value
            })
        else { return }
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    deinit { running.withLock { $0?.task.cancel() } }

    // MARK: - Recordings

    /// Every request received, in order, with the status answered.
    public var requests: [RecordedRequest] { state.withLock { $0.requests } }
    /// Every Messaging message, oldest first: those created over REST and the simulated inbound ones.
    public var messages: [StoredMessage] { state.withLock { $0.messages } }
    /// The messages created over REST (`outbound-api`), oldest first.
    public var sentMessages: [StoredMessage] { state.withLock { $0.messages.filter { $0.direction == "outbound-api" } } }
    /// Every webhook and callback POST made, in the order they were answered (or failed).
    public var webhookAttempts: [WebhookAttempt] { state.withLock { $0.webhookAttempts } }
    /// The status callbacks posted, in the order they were answered.
    public var statusCallbacks: [WebhookAttempt] { webhookAttempts.filter { $0.kind == .statusCallback } }
    /// Every simulated inbound message, in order.
    public var inboundDeliveries: [InboundDelivery] { state.withLock { $0.inbound } }
    /// Every channel delivery of a Conversations message to an SMS or WhatsApp participant, in order (each
    /// status change is one entry).
    public var conversationDeliveries: [ConversationDelivery] { state.withLock { $0.deliveries } }
    /// How many scheduled callback sequences have not finished yet.
    public var pendingCallbacks: Int { state.withLock { $0.pendingTasks } }

    /// A message by SID, if the stand-in holds it.
    public func message(sid: String) -> StoredMessage? { state.withLock { $0.messages.first { $0.sid == sid } } }

    /// Waits until `condition` holds (checked every 2 ms), or `timeout` passes.
    ///
    /// - Returns: Whether the condition held.
    @discardableResult
    public func wait(timeout: Duration = .seconds(5), until condition: @Sendable (TwilioStandIn) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !condition(self) {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return true
    }

    // MARK: - Faults and account state

    /// The status-callback behaviour for messages created from now on.
    public var callbackOptions: CallbackOptions {
        get { state.withLock { $0.callbacks } }
        set { state.withLock { $0.callbacks = newValue } }
    }

    /// Answers the next `count` API requests (after authentication) with 429 and code 20429, without acting
    /// on them, as Twilio does.
    ///
    /// - Parameter retryAfter: A `Retry-After` header value to send, if any.
    public func throttleNextRequests(_ count: Int, retryAfter: String? = nil) {
        state.withLock { $0.throttled += Array(repeating: retryAfter, count: max(0, count)) }
    }

    /// Marks an address opted out (as after an SMS "STOP"): sends to it fail with 21610, and Conversations
    /// deliveries to it fail with `ErrorCode` 21610.
    public func optOut(_ address: String) { _ = state.withLock { $0.optedOut.insert(address) } }
    /// Clears an opt-out (as after "START").
    public func optIn(_ address: String) { _ = state.withLock { $0.optedOut.remove(address) } }
    /// Whether an address is opted out.
    public func isOptedOut(_ address: String) -> Bool { state.withLock { $0.optedOut.contains(address) } }

    /// Opens the WhatsApp 24-hour window of `address` (`whatsapp:+…`) as if the user's last message came
    /// `ago` ago (24 hours or more: the window is closed).
    public func openWhatsAppWindow(for address: String, lastInboundAgo ago: Duration = .zero) {
        let seconds = Double(ago.components.seconds) + Double(ago.components.attoseconds) / 1e18
        state.withLock { $0.lastWhatsAppInbound[address] = Date(timeIntervalSinceNow: -seconds) }
    }

    /// Closes the WhatsApp window of `address` (as if the user never wrote).
    public func closeWhatsAppWindow(for address: String) { _ = state.withLock { $0.lastWhatsAppInbound.removeValue(forKey: address) } }

    /// Whether a free-form WhatsApp message to `address` would be accepted now.
    public func isWhatsAppWindowOpen(for address: String) -> Bool {
        state.withLock { Self.windowOpen($0.lastWhatsAppInbound[address]) }
    }

    static func windowOpen(_ last: Date?) -> Bool {
        guard let last else { return false }
        return Date().timeIntervalSince(last) < 24 * 3600
    }

    /// Makes every later message to `address` end `undelivered` with `errorCode` (30003 unreachable handset,
    /// 30005 unknown, 30006 landline, …) instead of `delivered`.
    public func failDelivery(to address: String, errorCode: Int = 30003) {
        state.withLock { $0.failingRecipients[address] = errorCode }
    }

    /// Lets messages to `address` be delivered again.
    public func clearDeliveryFailure(to address: String) { _ = state.withLock { $0.failingRecipients.removeValue(forKey: address) } }

    // MARK: - Serving

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    /// What a handler answers.
    struct Reply: Error {
        var status: Int
        var body: String
        var headers: [(String, String)] = []

        static func json(_ status: Int, _ value: JSONValue) -> Reply {
            Reply(status: status, body: value.text, headers: [("Content-Type", "application/json")])
        }

        static let noContent = Reply(status: 204, body: "")

        static func error(_ status: Int, _ code: Int, _ message: String, headers: [(String, String)] = []) -> Reply {
            var reply = json(
                status,
                .object([
                    ("code", .int(code)), ("message", .string(message)),
                    ("more_info", .string("https://www.twilio.com/docs/errors/\(code)")), ("status", .int(status)),
                ]))
            reply.headers += headers
            return reply
        }

        static func notFound(_ path: String) -> Reply {
            error(404, 20404, "The requested resource \(path) was not found")
        }
    }

    /// A request as handlers see it.
    struct Incoming {
        var method: String
        var path: String
        var components: [String]
        var form: [(String, String)]
        var query: [(String, String)]
        var headers: [(String, String)]

        func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
        func values(_ name: String) -> [String] { form.filter { $0.0 == name }.map(\.1) }
        func queryValue(_ name: String) -> String? { query.last { $0.0 == name }?.1 }
        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func has(_ name: String) -> Bool { form.contains { $0.0 == name } }
    }

    private func respond(to request: Request) async -> Response {
        let body = (try? await request.body.collect(upTo: 4 << 20)).map { Array($0.readableBytesView) } ?? []
        let headers = request.headers.map { ($0.name.rawName, $0.value) }
        let contentType = request.headers[.contentType] ?? ""
        let form = contentType.lowercased().hasPrefix("application/x-www-form-urlencoded") ? FormEncoding.decode(body) ?? [] : []
        let query = request.uri.query.flatMap { FormEncoding.decode($0) } ?? []
        let path = request.uri.path
        let components = path.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        let incoming = Incoming(
            method: request.method.rawValue, path: path, components: components, form: form, query: query, headers: headers)
        let reply = await answer(incoming)
        state.withLock {
            $0.requests.append(
                RecordedRequest(
                    method: incoming.method, path: path, query: request.uri.query, form: form, queryFields: query, headers: headers,
                    status: reply.status))
        }
        var fields = HTTPFields()
        for (name, value) in reply.headers {
            if let name = HTTPField.Name(name) { fields.append(HTTPField(name: name, value: value)) }
        }
        if reply.status == 204 { return Response(status: .init(code: 204), headers: fields) }
        return Response(
            status: .init(code: reply.status), headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body)))
    }

    private func answer(_ request: Incoming) async -> Reply {
        guard let authorization = request.header("Authorization"),
            authorization == Self.basic(accountSid, authToken) || authorization == Self.basic(apiKeySid, apiKeySecret)
        else {
            var reply = Reply.json(
                401,
                .object([
                    ("code", .int(20003)), ("detail", .string("Your AccountSid or AuthToken was incorrect.")),
                    ("message", .string("Authenticate")), ("more_info", .string("https://www.twilio.com/docs/errors/20003")),
                    ("status", .int(401)),
                ]))
            reply.headers.append(("WWW-Authenticate", "Basic realm=\"Twilio API\""))
            return reply
        }
        let throttled = state.withLock { state -> String?? in
            state.throttled.isEmpty ? nil : .some(state.throttled.removeFirst())
        }
        if let retryAfter = throttled {
            return .error(429, 20429, "Too Many Requests", headers: retryAfter.map { [("Retry-After", $0)] } ?? [])
        }
        let parts = request.components
        if parts.count >= 3, parts[0] == "2010-04-01", parts[1] == "Accounts" {
            guard parts[2] == accountSid else { return .error(401, 20003, "Authenticate") }
            return messagingRoute(request, Array(parts.dropFirst(3)))
        }
        if parts.first == "v1" { return await conversationsRoute(request, Array(parts.dropFirst())) }
        return .notFound(request.path)
    }

    // MARK: - Posting as Twilio

    /// Posts a signed form to `url` as Twilio does, and records the attempt.
    @discardableResult
    func post(
        _ kind: WebhookKind, to url: String, parameters: [(String, String)], idempotencyToken: String = UUID().uuidString.lowercased(),
        isRedelivery: Bool = false
    ) async -> WebhookAttempt {
        let signature = RequestValidator(authToken: authToken).signature(url: url, parameters: parameters)
        var attempt = WebhookAttempt(
            kind: kind, url: url, parameters: parameters, signature: signature, idempotencyToken: idempotencyToken,
            isRedelivery: isRedelivery, status: nil, responseBody: "", responseContentType: nil, failure: nil)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "X-Twilio-Signature", value: signature)
        request.headers.add(name: "I-Twilio-Idempotency-Token", value: idempotencyToken)
        request.headers.add(name: "User-Agent", value: "TwilioProxy/1.1")
        request.headers.add(name: "Accept", value: "*/*")
        request.headers.add(name: "X-Home-Region", value: "us1")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(parameters)))
        let timeout = configuration.webhookTimeout.components
        do {
            let response = try await HTTPClient.shared.execute(
                request, timeout: .nanoseconds(timeout.seconds * 1_000_000_000 + timeout.attoseconds / 1_000_000_000))
            let body = try await response.body.collect(upTo: 1 << 20)
            attempt.status = Int(response.status.code)
            attempt.responseBody = String(buffer: body)
            attempt.responseContentType = response.headers.first(name: "Content-Type")
        } catch {
            attempt.failure = "\(error)"
        }
        let recorded = attempt
        state.withLock { $0.webhookAttempts.append(recorded) }
        return attempt
    }

    /// Runs `work` in the background, counted in ``pendingCallbacks``.
    func schedule(_ work: @escaping @Sendable () async -> Void) {
        state.withLock { $0.pendingTasks += 1 }
        Task {
            await work()
            self.state.withLock { $0.pendingTasks -= 1 }
        }
    }
}

/// Why the stand-in could not do something.
public enum TwilioStandInError: Error, Sendable, Hashable {
    /// The server did not report a port.
    case notListening
    /// No inbound message to redeliver (or none with that SID).
    case noInboundMessage
    /// No conversation matches (by SID, unique name, or the customer's address and proxy address).
    case noConversation
    /// The conversation has no SMS or WhatsApp participant with that address.
    case notAParticipant
    /// The conversation is closed.
    case conversationClosed
}
