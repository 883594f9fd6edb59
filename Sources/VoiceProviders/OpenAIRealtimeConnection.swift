//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization

/// One WebSocket to the Realtime API: connected, `session.created` received, `session.update` acknowledged.
/// Client events go out in order through ``send(_:)``; server events go to `onEvent` on the reading task, and
/// `onClose` is called once when the socket ends.
final class OpenAIRealtimeConnection: Sendable {
    private let outgoing: AsyncStream<String>.Continuation
    private let ended: EndedFlag

    /// Whether the socket has ended.
    var isClosed: Bool { ended.value.load(ordering: .acquiring) }

    private init(outgoing: AsyncStream<String>.Continuation, ended: EndedFlag) {
        self.outgoing = outgoing
        self.ended = ended
    }

    /// Sends one client event (dropped once the socket has ended).
    func send(_ event: String) { outgoing.yield(event) }

    /// Closes the socket (normal closure).
    func close() { outgoing.finish() }

    /// Connects, waits for `session.created`, sends `sessionUpdate` and waits for `session.updated`.
    static func open(
        url: String, httpURL: String, apiKey: String, sessionUpdate: String, timeout: Duration, httpClient: HTTPClient, logger: Logger,
        onEvent: @escaping @Sendable (RealtimeServerEvent) -> Void, onClose: @escaping @Sendable (ProviderError) -> Void
    ) async throws(ProviderError) -> OpenAIRealtimeConnection {
        let (outgoing, outgoingContinuation) = AsyncStream.makeStream(of: String.self)
        let (ready, readyContinuation) = AsyncStream.makeStream(of: Result<Void, ProviderError>.self, bufferingPolicy: .bufferingNewest(4))
        let ended = EndedFlag()
        let task = Task {
            let failure = await run(
                url: url, httpURL: httpURL, apiKey: apiKey, sessionUpdate: sessionUpdate, outgoing: outgoing, httpClient: httpClient,
                logger: logger, ready: readyContinuation, onEvent: onEvent)
            ended.value.store(true, ordering: .releasing)
            readyContinuation.yield(.failure(failure))
            readyContinuation.finish()
            onClose(failure)
        }
        let timer = Task {
            try? await Task.sleep(for: timeout)
            readyContinuation.yield(.failure(.timedOut(provider: "openai", stage: "session", after: timeout)))
        }
        defer { timer.cancel() }
        var outcome: Result<Void, ProviderError> = .failure(.disconnected(provider: "openai", detail: "the connection ended"))
        for await value in ready {
            outcome = value
            break
        }
        switch outcome {
        case .success:
            return OpenAIRealtimeConnection(outgoing: outgoingContinuation, ended: ended)
        case .failure(let error):
            outgoingContinuation.finish()
            task.cancel()
            throw error
        }
    }

    deinit { outgoing.finish() }

    /// The socket's life; returns why it ended.
    private static func run(
        url: String, httpURL: String, apiKey: String, sessionUpdate: String, outgoing: AsyncStream<String>, httpClient: HTTPClient,
        logger: Logger, ready: AsyncStream<Result<Void, ProviderError>>.Continuation,
        onEvent: @escaping @Sendable (RealtimeServerEvent) -> Void
    ) async -> ProviderError {
        var configuration = WebSocketClientConfiguration()
        configuration.maxFrameSize = 16 << 20
        configuration.additionalHeaders[.authorization] = "Bearer \(apiKey)"
        let ending = Mutex<ProviderError?>(nil)
        do {
            try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) { inbound, outbound, _ in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    var established = false
                    var iterator = inbound.messages(maxSize: 16 << 20).makeAsyncIterator()
                    // session.created, then our session.update and its session.updated.
                    while !established {
                        guard let message = try await iterator.next() else { break }
                        guard case .text(let text) = message else {
                            throw ProviderError.malformed(provider: "openai", detail: "a binary Realtime frame")
                        }
                        let event = try RealtimeServerEvent.parse(text)
                        switch event.type {
                        case "session.created":
                            try await outbound.write(.text(sessionUpdate))
                        case "session.updated":
                            established = true
                        case "error":
                            throw ProviderError.failed(provider: "openai", message: event.errorMessage ?? "error")
                        default:
                            break
                        }
                    }
                    guard established else {
                        throw ProviderError.disconnected(provider: "openai", detail: "closed before the session started")
                    }
                    ready.yield(.success(()))
                    group.addTask {
                        for await text in outgoing { try await outbound.write(.text(text)) }
                        try? await outbound.close(.normalClosure, reason: nil)
                    }
                    while let message = try await iterator.next() {
                        guard case .text(let text) = message else {
                            throw ProviderError.malformed(provider: "openai", detail: "a binary Realtime frame")
                        }
                        let event: RealtimeServerEvent
                        do throws(ProviderError) {
                            event = try RealtimeServerEvent.parse(text)
                        } catch {
                            event = .malformed(error)
                        }
                        onEvent(event)
                    }
                    ending.withLock { $0 = $0 ?? .disconnected(provider: "openai", detail: "the socket closed") }
                    group.cancelAll()
                }
            }
        } catch let error as ProviderError {
            return error
        } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
            return await refusal(httpURL: httpURL, apiKey: apiKey, httpClient: httpClient)
        } catch {
            return .disconnected(provider: "openai", detail: "\(error)")
        }
        return ending.withLock { $0 } ?? .disconnected(provider: "openai", detail: "the socket closed")
    }

    /// The handshake was refused: the WebSocket client does not expose the response, so the same request is
    /// made as plain HTTP to read the status and OpenAI's error body.
    private static func refusal(httpURL: String, apiKey: String, httpClient: HTTPClient) async -> ProviderError {
        var request = HTTPClientRequest(url: httpURL)
        request.method = .GET
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        do {
            let response = try await httpClient.execute(request, timeout: .seconds(10))
            let body = try await response.body.collect(upTo: 64 << 10)
            let status = Int(response.status.code)
            guard status >= 400 else {
                return .status(provider: "openai", status: status, message: "the WebSocket handshake was refused")
            }
            return .forStatus(
                provider: "openai", status: status, body: String(buffer: body), headers: response.headers.map { ($0.name, $0.value) })
        } catch {
            return .disconnected(provider: "openai", detail: "the WebSocket handshake was refused (\(error))")
        }
    }
}

/// Set by the socket's task when the socket ends.
private final class EndedFlag: Sendable {
    let value = Atomic<Bool>(false)
}
