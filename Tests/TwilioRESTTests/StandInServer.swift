//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A stand-in for api.twilio.com on an ephemeral loopback port: a real HTTP/1.1 server (SwiftNIO) that
/// records every request and answers as a script says, with optional delays (to provoke timeouts).
final class StandInServer: Sendable {
    struct Request: Sendable {
        var method: String
        var uri: String
        var headers: [(String, String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
    }

    struct Reply: Sendable {
        var status: Int
        var headers: [(String, String)] = [("Content-Type", "application/json")]
        var body: String
        var delay: TimeAmount = .zero
    }

    typealias Script = @Sendable (_ request: Request, _ index: Int) -> Reply

    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }
    private let channel: any Channel
    private let log = Log()

    final class Log: Sendable {
        let requests = Mutex<[Request]>([])
    }

    var requests: [Request] { log.requests.withLock { $0 } }

    init(script: @escaping Script) async throws {
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(log: log, script: script))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress!.port!
    }

    func shutdown() async throws { try await channel.close() }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let log: Log
        let script: Script
        var current: Request?

        init(log: Log, script: @escaping Script) {
            self.log = log
            self.script = script
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                current = Request(method: head.method.rawValue, uri: head.uri, headers: head.headers.map { ($0.name, $0.value) }, body: [])
            case .body(let buffer):
                current?.body += buffer.readableBytesView
            case .end:
                guard let request = current else { return }
                let index = log.requests.withLock { log in
                    log.append(request)
                    return log.count - 1
                }
                let reply = script(request, index)
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
