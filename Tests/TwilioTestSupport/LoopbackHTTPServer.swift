//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A real HTTP/1.1 server (SwiftNIO) on an ephemeral loopback port that records every request and answers
/// through a handler, optionally after a delay (to provoke timeouts): the stand-in for api.twilio.com in the
/// REST and Messaging tests.
public final class LoopbackHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        /// The method (`GET`, `POST`).
        public var method: String
        /// The path and query.
        public var uri: String
        /// The headers, in order.
        public var headers: [(String, String)]
        /// The body.
        public var body: [UInt8]

        /// The first header named `name` (any case).
        public func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        /// The URI without its query.
        public var path: String { String(uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }
        /// The query, if any.
        public var query: String? { uri.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) }
    }

    /// An answer.
    public struct Reply: Sendable {
        /// The status.
        public var status: Int
        /// The headers.
        public var headers: [(String, String)]
        /// The body.
        public var body: String
        /// How long to wait before answering.
        public var delay: TimeAmount

        /// Creates an answer (JSON by default).
        public init(
            status: Int, headers: [(String, String)] = [("Content-Type", "application/json")], body: String, delay: TimeAmount = .zero
        ) {
            self.status = status
            self.headers = headers
            self.body = body
            self.delay = delay
        }
    }

    /// Answers request number `index` (from 0).
    public typealias Handler = @Sendable (_ request: Request, _ index: Int) -> Reply

    /// The port it listens on (127.0.0.1).
    public let port: Int
    /// `http://127.0.0.1:port`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }
    private let channel: any Channel
    private let log: Log

    final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    /// Every request so far, in order.
    public var requests: [Request] { log.requests.withLock { $0 } }

    /// Starts listening; `handler` answers each request.
    public init(handler: @escaping Handler) async throws {
        let log = Log()
        self.log = log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(RequestHandler(log: log, handler: handler))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    /// Stops listening.
    public func shutdown() async throws { try await channel.close() }

    private final class RequestHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let log: Log
        let handler: Handler
        var current: Request?

        init(log: Log, handler: @escaping Handler) {
            self.log = log
            self.handler = handler
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                current = Request(
                    method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: [])
            case .body(let buffer):
                current?.body += buffer.readableBytesView
            case .end:
                guard let request = current else { return }
                current = nil
                let index = log.requests.withLock { requests in
                    requests.append(request)
                    return requests.count - 1
                }
                let reply = handler(request, index)
                let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                context.eventLoop.scheduleTask(in: reply.delay) {
                    let (handler, context) = bound.value
                    handler.respond(reply, context: context)
                }
            }
        }

        func respond(_ reply: Reply, context: ChannelHandlerContext) {
            guard context.channel.isActive else { return }
            var headers = HTTPHeaders(reply.headers)
            headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
            let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: reply.status), headers: headers)
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: reply.body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
