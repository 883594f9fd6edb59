//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
public import Logging
public import Metrics
import NIOCore
import Prometheus
public import ServiceLifecycle
import Synchronization
public import Tracing
import TwilioCore
public import TwilioMediaStreams
public import VoiceAgent
import VoiceDSP
import VoicePipeCalls
public import VoicePipeStore
public import VoicePipeText

/// The server a voice-agent developer points Twilio at.
///
/// - `POST /twilio/voice`: the incoming-call webhook. Answers TwiML that connects a bidirectional stream to
///   `wss://<public host>/twilio/media`, passing the caller's number and the call SID as `<Parameter>`s.
/// - `GET /twilio/media`: the Media Stream WebSocket. Each connection is one call: a `CallSession`
///   (module `VoicePipeCalls`) binding a ``MediaStreamSession`` to a ``TurnTakingController`` and the agent
///   that ``Configuration/makeAgent`` makes for the call's ``CallContext``.
/// - `POST /twilio/status`: call status callbacks, logged and counted.
/// - `GET /health`: liveness and the server's call statistics (JSON).
/// - `GET /calls/{callSid}`: one call's record (``CallRecord``, JSON): what the caller said as recognised,
///   what the agent said and what the caller heard, and each turn's timings by stage. It holds what callers
///   said: with ``Configuration/callRecordsToken`` set it needs `Authorization: Bearer <token>`.
/// - `GET /metrics`: Prometheus text exposition of the server's swift-metrics.
///
/// With an auth token configured, every Twilio request must carry a valid `X-Twilio-Signature`, computed
/// over the configured public URL (Twilio signs the URL it called, not what a proxy forwards); the
/// WebSocket upgrade is refused with 403 before upgrading. The token is never logged.
///
/// Run it on its own (``run(onListening:)``, or as a `Service` in a `ServiceGroup`), or mount its routes in
/// your own Hummingbird application (``routes(context:)``, which check `X-Twilio-Signature` themselves). Everything is
/// per instance: its clock, statistics and metrics registry; nothing is global, so instances scale behind a
/// load balancer (each call is pinned to its WebSocket).
public struct VoicePipeServer: Sendable, Service {
    /// Settings.
    public struct Configuration: Sendable {
        /// The address to listen on.
        public var host: String
        /// The port (0: any free port; see ``VoicePipeServer/run(onListening:)``).
        public var port: Int
        /// The URL Twilio reaches this server at (`https://agent.example.com`), without a trailing slash;
        /// `nil`: `http://host:port`. The media stream URL is its `wss://` form.
        public var publicURL: String?
        /// The account's auth token: when set, requests without a valid signature are refused.
        public var authToken: String?
        /// Makes the agent for each call, once its stream has started and its ``CallContext`` is known.
        public var makeAgent: @Sendable (CallContext) -> any Agent
        /// Twilio's side of each call: the caller's audio chain (play-out, VAD, endpointer and the agent's
        /// sample rate, set once here), message limits and the playback lead.
        public var stream: MediaStreamSession.Configuration
        /// Turn-taking policy.
        public var turnTaking: TurnTakingController.Configuration
        /// The largest WebSocket message accepted, in bytes (a Twilio media message is about 330).
        public var maximumMessageBytes: Int
        /// The tracer for the per-call and per-turn spans (`nil`: the bootstrapped one, a no-op by default).
        public var tracer: (any Tracer)?
        /// The bearer token `GET /calls/{callSid}`, `GET /contacts/{address}` and `GET /search` require
        /// (`nil`: none; then keep the server on a private network, since the records hold what callers said).
        public var callRecordsToken: String?
        /// Where calls, their turns and texts are remembered (`nil`: nowhere; the text routes are then off).
        /// Each call's turns are written as they happen, from a task of the store's own.
        public var store: (any ConversationStore)?
        /// Answers inbound texts (`POST /twilio/sms`, `/twilio/conversations`); `nil`: texts are recorded (with
        /// a store) but not answered.
        public var textAgent: TextAgent?
        /// The Conversations participant `Author` whose messages are the agent's own (echoes, never answered).
        public var conversationsAuthor: String

        /// Creates settings; the defaults serve the echo agent on 127.0.0.1:8080 without validation.
        public init(
            host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, authToken: String? = nil,
            makeAgent: @escaping @Sendable (CallContext) -> any Agent = { _ in EchoAgent() },
            stream: MediaStreamSession.Configuration = .init(), turnTaking: TurnTakingController.Configuration = .init(),
            maximumMessageBytes: Int = 64 * 1024
        ) {
            self.host = host
            self.port = port
            self.publicURL = publicURL
            self.authToken = authToken
            self.makeAgent = makeAgent
            self.stream = stream
            self.turnTaking = turnTaking
            self.maximumMessageBytes = maximumMessageBytes
            tracer = nil
            callRecordsToken = nil
            store = nil
            textAgent = nil
            conversationsAuthor = "voicepipe"
        }
    }

    /// The settings in use.
    public let configuration: Configuration
    /// Call statistics, shared by every call of this server.
    public let statistics: ServerStatistics
    /// The records of recent calls, served at `GET /calls/{callSid}`.
    public let calls = CallLog()
    /// The calls' 20 ms clock (for scheduled play-out), one per server instance.
    let metronome = Metronome()
    /// Writes calls and turns to the configured store, off the calls' loops.
    let transcripts: TranscriptWriter?
    /// The registry served at `/metrics`, when the server made its own.
    private let registry: PrometheusCollectorRegistry?
    /// The factory every call's metrics come from.
    let metricsFactory: any MetricsFactory
    let logger: Logger

    /// Creates a server.
    ///
    /// - Parameters:
    ///   - configuration: Settings.
    ///   - logger: The server's logger; each call's logger adds `callSid` and `streamSid`.
    ///   - metricsFactory: Where the server's and the calls' metrics go. `nil` (the default): a Prometheus
    ///     registry of the server's own, served at `GET /metrics`. A host app passes its own factory and
    ///     exposes it itself (then `/metrics` is not routed).
    public init(
        configuration: Configuration, logger: Logger = Logger(label: "voicepipe"), metricsFactory: (any MetricsFactory)? = nil
    ) {
        self.configuration = configuration
        self.logger = logger
        if let metricsFactory {
            registry = nil
            self.metricsFactory = metricsFactory
        } else {
            let registry = PrometheusCollectorRegistry()
            self.registry = registry
            self.metricsFactory = PrometheusMetricsFactory(registry: registry)
        }
        let statistics = ServerStatistics(factory: self.metricsFactory)
        self.statistics = statistics
        transcripts = configuration.store.map { TranscriptWriter(store: $0, statistics: statistics, logger: logger) }
    }

    /// The public base URL.
    func publicBase(port: Int) -> String {
        configuration.publicURL ?? "http://\(configuration.host):\(port)"
    }

    /// The media stream URL Twilio connects to.
    func mediaURL(port: Int) -> String {
        Self.webSocketURL(publicBase(port: port) + "/twilio/media")
    }

    /// Runs as a `Service` of the host's `ServiceGroup`: serves until the group shuts down gracefully (open
    /// calls are then ended and their summaries logged). Signals are the group's business.
    public func run() async throws {
        try await withTextAgent { try await makeApplication(onListening: { _ in }).run() }
    }

    /// Runs until cancelled or signalled (SIGTERM/SIGINT end it gracefully: open calls are stopped and their
    /// summaries logged).
    ///
    /// - Parameter onListening: Called with the bound port once the server listens.
    public func run(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        try await withTextAgent { try await makeApplication(onListening: onListening).runService() }
    }

    /// Runs until the task is cancelled, then shuts down gracefully as on SIGTERM (no signal handling: for
    /// embedding, tests and the demo).
    public func runUntilCancelled(onListening: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        let group = ServiceGroup(
            configuration: .init(services: [makeApplication(onListening: onListening)], gracefulShutdownSignals: [], logger: logger))
        try await withTaskCancellationHandler {
            try await withTextAgent { try await group.run() }
        } onCancel: {
            Task { await group.triggerGracefulShutdown() }
        }
    }

    /// Runs `body` with the text agent's outbox worker beside it (when there is a text agent), stops the
    /// worker when `body` returns, and waits for the calls' last transcript writes.
    private func withTextAgent(_ body: @escaping @Sendable () async throws -> Void) async throws {
        do {
            if let agent = configuration.textAgent {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await agent.run() }
                    defer { group.cancelAll() }
                    try await body()
                }
            } else {
                try await body()
            }
        } catch {
            await transcripts?.flush()
            throw error
        }
        await transcripts?.flush()
    }

    private func makeApplication(onListening: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let boundPort = SharedPort()
        let router = Router()
        let server = self
        router.post("/twilio/voice") { request, _ -> Response in
            try await server.answerCall(
                request, base: server.publicBase(port: boundPort.value), mediaURL: server.mediaURL(port: boundPort.value))
        }
        router.post("/twilio/status") { request, _ -> Response in
            try await server.statusCallback(request, base: server.publicBase(port: boundPort.value))
        }
        router.get("/twilio/media") { request, _ -> Response in
            // A plain GET, or an upgrade refused for its signature (already counted and logged).
            guard server.isSignedUpgrade(request.head, port: boundPort.value) else {
                return request.headers[.upgrade] == nil ? server.forbidden(request) : Response(status: .forbidden)
            }
            return Response(status: .badRequest, body: .init(byteBuffer: ByteBuffer(string: "WebSocket upgrade required\n")))
        }
        router.get("/health") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(string: server.statistics.json())))
        }
        router.get("/calls/:callSid") { request, context -> Response in
            try server.callRecord(request, callSid: context.parameters.get("callSid") ?? "")
        }
        if configuration.store != nil {
            router.post("/twilio/sms") { request, _ -> Response in
                try await server.inboundMessage(request, base: server.publicBase(port: boundPort.value))
            }
            router.post("/twilio/message-status") { request, _ -> Response in
                try await server.messageStatus(request, base: server.publicBase(port: boundPort.value))
            }
            router.post("/twilio/conversations") { request, _ -> Response in
                try await server.conversationsEvent(request, base: server.publicBase(port: boundPort.value))
            }
            router.get("/contacts/:address") { request, context -> Response in
                try await server.contactHistory(request, address: context.parameters.get("address") ?? "")
            }
            router.get("/search") { request, _ -> Response in try await server.searchEntries(request) }
        }
        router.get("/metrics") { _, _ -> Response in
            guard let registry = server.registry else { return Response(status: .notFound) }
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }

        var webSocket = WebSocketServerConfiguration()
        // Frames up to 2 MiB are read so that an oversized message is refused by the call (with a log line and
        // a close) rather than by the frame decoder, which would drop the connection without a word.
        webSocket.maxFrameSize = max(configuration.maximumMessageBytes, 2 << 20)
        let wsConfiguration = webSocket
        var appConfiguration = ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port))
        appConfiguration.serverName = "VoicePipe"
        return Application(
            router: router,
            server: HTTPServerBuilder { responder in
                SignatureGatedChannel(
                    inner: HTTP1WebSocketUpgradeChannel(
                        responder: responder, configuration: .init(ws: wsConfiguration),
                        shouldUpgrade: { head, _, logger in
                            guard head.path?.split(separator: "?").first == "/twilio/media" else { return .dontUpgrade }
                            // The gate has refused unsigned upgrades already; this is the second line of defence.
                            guard server.isSignedUpgrade(head, port: boundPort.value) else { return .dontUpgrade }
                            return .upgrade([:]) { inbound, outbound, _ in
                                try await CallHandler(server: server, logger: server.logger).run(inbound: inbound, outbound: outbound)
                            }
                        }),
                    allows: { method, path, headers in
                        server.allowsUpgrade(method: method, path: path, headers: headers, mediaPath: "/twilio/media") { _ in
                            server.publicBase(port: boundPort.value)
                        }
                    })
            },
            configuration: appConfiguration,
            onServerRunning: { channel in
                let actual = channel.localAddress?.port ?? server.configuration.port
                boundPort.value = actual
                server.logger.info("listening", metadata: ["port": .stringConvertible(actual)])
                await onListening(actual)
            },
            logger: logger
        )
    }

    // MARK: - Handlers shared by the standalone server and the mounted routes

    /// `POST …/voice`: answers TwiML that connects the call's stream to `mediaURL`, passing the call's ids
    /// and numbers as `<Parameter>`s (they become the ``CallContext``).
    /// `GET /calls/{callSid}`.
    func callRecord(_ request: Request, callSid: String) throws -> Response {
        if let token = configuration.callRecordsToken, request.headers[.authorization] != "Bearer " + token {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
        guard let json = calls.json(callSid: callSid) else {
            return Response(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: "no call \(callSid) on this server\n")))
        }
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    func answerCall(_ request: Request, base: String, mediaURL: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let fields = FormEncoding.decode(body.readableBytesView) ?? []
        guard isSigned(request, parameters: fields, url: base + request.uri.description) else { return forbidden(request) }
        var parameters: [(name: String, value: String)] = []
        for name in ["CallSid", "From", "To", "Direction"] {
            if let value = fields.last(where: { $0.0 == name })?.1 { parameters.append((name, value)) }
        }
        let twiml = TwiML.response([.connect(TwiML.Stream(url: mediaURL, parameters: parameters))])
        logger.info("incoming call", metadata: ["callSid": .string(parameters.first?.value ?? "?")])
        return Response(
            status: .ok, headers: [.contentType: "text/xml; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: twiml.xml)))
    }

    /// `POST …/status`: a call status callback, counted and logged.
    func statusCallback(_ request: Request, base: String) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let fields = FormEncoding.decode(body.readableBytesView) ?? []
        guard isSigned(request, parameters: fields, url: base + request.uri.description) else { return forbidden(request) }
        do {
            let callback = try CallStatusCallback(parameters: fields)
            statistics.statusCallback(callback.status.rawValue)
            logger.info("call status", metadata: ["callSid": .string(callback.callSid), "status": .string(callback.status.rawValue)])
            return Response(status: .noContent)
        } catch {
            logger.warning("bad status callback: \(error)")
            return Response(status: .badRequest)
        }
    }

    // MARK: - Signatures

    private static let signatureHeader = HTTPField.Name("X-Twilio-Signature")!

    func isSigned(_ request: Request, parameters: [(String, String)], url: String) -> Bool {
        guard let token = configuration.authToken else { return true }
        guard let signature = request.headers[Self.signatureHeader] else { return false }
        return RequestValidator(authToken: token).isValid(signature: signature, url: url, parameters: parameters)
    }

    /// The upgrade request is signed as a GET of the `wss://` URL with no parameters.
    private func isSignedUpgrade(_ head: HTTPRequest, port: Int) -> Bool {
        isSignedUpgrade(signature: head.headerFields[Self.signatureHeader], path: head.path ?? "", port: port)
    }

    /// Whether `signature` validates a parameterless request of `url` (a WebSocket upgrade).
    func isSigned(signature: String?, url: String) -> Bool {
        guard let token = configuration.authToken else { return true }
        guard let signature else { return false }
        return RequestValidator(authToken: token).isValid(signature: signature, url: url)
    }

    func isSignedUpgrade(signature: String?, path: String, port: Int) -> Bool {
        isSigned(signature: signature, url: mediaURL(port: port) + (path.firstIndex(of: "?").map { String(path[$0...]) } ?? ""))
    }

    /// The gate's decision on a request head: anything but a WebSocket upgrade of `mediaPath` passes; an
    /// upgrade passes if its signature validates over the `wss://` form of `base(Host header)` + its path.
    func allowsUpgrade(
        method: Substring, path: Substring, headers: [(Substring, Substring)], mediaPath: String,
        base: (_ host: String?) -> String
    ) -> Bool {
        guard method == "GET", path.split(separator: "?").first.map(String.init) == mediaPath,
            headers.contains(where: { $0.0.lowercased() == "upgrade" })
        else { return true }
        let signature = headers.first { $0.0.lowercased() == "x-twilio-signature" }.map { String($0.1) }
        let host = headers.first { $0.0.lowercased() == "host" }.map { String($0.1) }
        guard isSigned(signature: signature, url: Self.webSocketURL(base(host) + path)) else {
            statistics.refused()
            logger.warning("refused WebSocket upgrade: bad or missing X-Twilio-Signature")
            return false
        }
        return true
    }

    func forbidden(_ request: Request) -> Response {
        statistics.refused()
        logger.warning("refused: bad or missing X-Twilio-Signature", metadata: ["path": .string(request.uri.path)])
        return Response(status: .forbidden)
    }
}

/// The port the server is bound to, readable from its handlers.
final class SharedPort: Sendable {
    private let port = Atomic<Int>(0)
    var value: Int {
        get { port.load(ordering: .relaxed) }
        set { port.store(newValue, ordering: .relaxed) }
    }
}
