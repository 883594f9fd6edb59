//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOCore
import NIOHTTP1
import NIOWebSocket
import Synchronization

/// One WebSocket to Deepgram: a writer fed without blocking, a reader that hands every message on, and the
/// reason it ended.
final class DeepgramConnection: Sendable {
    enum Outgoing: Sendable {
        case audio([UInt8])
        case text(String)
    }

    let id: Int
    private let outgoing: AsyncStream<Outgoing>.Continuation
    private let handshake: AsyncThrowingStream<Void, any Error>
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    /// Starts connecting at once; audio queued before the handshake completes is sent after it.
    init(
        id: Int, recognizer: DeepgramRecognizer, onMessage: @escaping @Sendable (Int, WebSocketMessage) -> Void,
        onEnd: @escaping @Sendable (Int, ProviderError) -> Void
    ) {
        self.id = id
        let (stream, continuation) = AsyncStream.makeStream(of: Outgoing.self)
        outgoing = continuation
        let (handshake, opened) = AsyncThrowingStream.makeStream(of: Void.self)
        self.handshake = handshake
        let url = recognizer.endpoint.webSocketURL("/v1/listen", query: recognizer.query)
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders[.authorization] = "Token \(recognizer.endpoint.apiKey)"
        let logger = recognizer.logger
        let task = Task {
            do {
                let close = try await WebSocketClient.connect(url: url, configuration: configuration, logger: logger) {
                    inbound, outbound, _ in
                    opened.yield()
                    opened.finish()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await item in stream {
                                switch item {
                                case .audio(let bytes):
                                    guard !bytes.isEmpty else { continue }
                                    try await outbound.write(.binary(ByteBuffer(bytes: bytes)))
                                case .text(let text): try await outbound.write(.text(text))
                                }
                            }
                        }
                        for try await message in inbound.messages(maxSize: 1 << 20) { onMessage(id, message) }
                        group.cancelAll()
                    }
                }
                opened.finish()
                let detail: String
                if let close {
                    var buffer = ByteBuffer()
                    buffer.write(webSocketErrorCode: close.closeCode)
                    let code = buffer.readInteger(as: UInt16.self).map(String.init) ?? "?"
                    detail = "closed \(code)" + (close.reason.map { " \($0)" } ?? "")
                } else {
                    detail = "connection closed without a close frame"
                }
                onEnd(id, .disconnected(provider: "deepgram", detail: detail))
            } catch let error as WebSocketClientError where error == .webSocketUpgradeFailed {
                let refusal = await Self.refusal(of: recognizer)
                opened.finish(throwing: refusal)
                onEnd(id, refusal)
            } catch {
                let failure = ProviderError.disconnected(provider: "deepgram", detail: "connection lost: \(error)")
                opened.finish(throwing: failure)
                onEnd(id, failure)
            }
        }
        self.task.withLock { $0 = task }
    }

    /// Waits for the handshake: returns once the socket is open.
    ///
    /// - Throws: the refusal, or ``ProviderError/timedOut(provider:stage:after:)`` after `timeout`.
    func waitUntilOpen(timeout: Duration) async throws(ProviderError) {
        let handshake = handshake
        do {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    for try await _ in handshake { return true }
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return false
                }
                let opened = try await group.next() ?? false
                group.cancelAll()
                if !opened { throw ProviderError.timedOut(provider: "deepgram", stage: "handshake", after: timeout) }
            }
        } catch let error as ProviderError {
            throw error
        } catch {
            throw .disconnected(provider: "deepgram", detail: "handshake: \(error)")
        }
    }

    /// Queues a frame for the socket and returns at once.
    func send(_ item: Outgoing) { outgoing.yield(item) }

    /// Sends nothing more; the socket stays open until the server closes it or ``cancel()``.
    func finishSending() { outgoing.finish() }

    /// Waits up to `timeout` for the connection to end, then tears it down.
    func closeAfter(_ timeout: Duration) async {
        guard let task = self.task.withLock({ $0 }) else { return }
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            task.cancel()
        }
        await task.value
        watchdog.cancel()
    }

    /// Tears the connection down now.
    func cancel() {
        outgoing.finish()
        task.withLock { $0 }?.cancel()
    }

    /// Reads why the handshake was refused: the WebSocket client does not expose the refusal's status, so the
    /// handshake's request (same URL, query and key) is sent once more as a plain HTTP GET and its status,
    /// `dg-error` header and body are read.
    static func refusal(of recognizer: DeepgramRecognizer) async -> ProviderError {
        let url = recognizer.endpoint.httpURL("/v1/listen", query: recognizer.query)
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        // No upgrade headers: a server that refuses an upgrade may answer it with a bare status (Hummingbird
        // sends an empty 400), while the plain GET carries the provider's own status, `dg-error` and body.
        request.headers.add(name: "Authorization", value: "Token \(recognizer.endpoint.apiKey)")
        let timeout = recognizer.configuration.connectTimeout
        do {
            let response = try await recognizer.httpClient.execute(
                request,
                timeout: .milliseconds(Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)))
            let status = Int(response.status.code)
            let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
            let headers = response.headers.map { (name: $0.name, value: $0.value) }
            guard status != 101 else {
                return .status(provider: "deepgram", status: status, message: "handshake refused, then accepted on retry")
            }
            let generic = ProviderError.forStatus(provider: "deepgram", status: status, body: body, headers: headers)
            guard let dgError = response.headers["dg-error"].first, !dgError.isEmpty else { return generic }
            switch generic {
            case .unauthorized: return .unauthorized(provider: "deepgram", status: status, message: dgError)
            case .rateLimited(_, let retryAfter, _): return .rateLimited(provider: "deepgram", retryAfter: retryAfter, message: dgError)
            default: return .status(provider: "deepgram", status: status, message: dgError)
            }
        } catch {
            return .disconnected(provider: "deepgram", detail: "handshake refused; status unreadable: \(error)")
        }
    }
}
