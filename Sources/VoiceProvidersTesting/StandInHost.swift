//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Hummingbird
public import HummingbirdWebSocket
public import Logging
import NIOCore
import ServiceLifecycle

/// The router type every stand-in registers its routes on.
public typealias StandInRouter = Router<BasicWebSocketRequestContext>

/// A loopback HTTP + WebSocket server that hosts one or more stand-ins on an ephemeral port.
///
/// Each stand-in adds its HTTP routes to `http` and its WebSocket routes to `webSocket`. A handshake the
/// WebSocket router refuses (`.dontUpgrade`) is answered by Hummingbird itself with an empty 400: it does not
/// reach the HTTP router. A stand-in therefore records a refusal where it decides it, and answers with the
/// provider's own status and body the plain `GET` a client sends afterwards to learn why (WebSocket clients
/// do not expose a refused upgrade's response).
public final class StandInHost: Sendable {
    /// The port it listens on (127.0.0.1).
    public let port: Int
    private let task: Task<Void, any Error>
    private let group: ServiceGroup

    /// `http://127.0.0.1:port`: the base URL to give a client (`ws://` is derived from it).
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts a server with the routes `register` adds, on `port` (0: any free port), and returns once it
    /// listens.
    public static func start(
        port: Int = 0, logger: Logger = Logger(label: "voicepipe.stand-in"),
        register: (_ http: StandInRouter, _ webSocket: StandInRouter) -> Void
    ) async throws -> StandInHost {
        let http = StandInRouter(context: BasicWebSocketRequestContext.self)
        let webSocket = StandInRouter(context: BasicWebSocketRequestContext.self)
        register(http, webSocket)
        var serverConfiguration = WebSocketServerConfiguration()
        serverConfiguration.maxFrameSize = 4 << 20
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let running = Application(
            router: http,
            server: .http1WebSocketUpgrade(webSocketRouter: webSocket, configuration: .init(ws: serverConfiguration)),
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "VoicePipe stand-in"),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger)
        // Stopped by a graceful shutdown (open connections closed), not by cancelling the server: cancelling it
        // makes Hummingbird log its shutdown as errors.
        var groupConfiguration = ServiceGroupConfiguration(services: [running], gracefulShutdownSignals: [], logger: logger)
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
            throw StandInError.notListening
        }
        return StandInHost(port: bound, task: task, group: group)
    }

    private init(port: Int, task: Task<Void, any Error>, group: ServiceGroup) {
        self.port = port
        self.task = task
        self.group = group
    }

    /// Stops the server (open connections are closed).
    public func stop() async {
        await group.triggerGracefulShutdown()
        _ = try? await task.value
    }

    deinit { task.cancel() }
}

/// Why a stand-in could not start.
public enum StandInError: Error, Sendable {
    /// The server did not report a port.
    case notListening
}
