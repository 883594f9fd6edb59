//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HummingbirdCore
import Logging
import NIOCore

/// A child channel that checks the first request on a connection before the WebSocket upgrader sees it:
/// a `GET /twilio/media` that is refused (its `X-Twilio-Signature` does not validate) gets a plain
/// `403 Forbidden` and the connection is closed. Hummingbird's upgrader can only answer a refused upgrade
/// with 400, and Twilio's documentation (and the issue) ask for 403.
struct SignatureGatedChannel<Inner: ServerChildChannel>: ServerChildChannel {
    typealias Value = Inner.Value
    let inner: Inner
    /// Whether a request head (method, path with query, headers) may proceed.
    let allows: @Sendable (_ method: Substring, _ path: Substring, _ headers: [(Substring, Substring)]) -> Bool

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(UpgradeGate(allows: allows), position: .first)
        }.flatMap {
            inner.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Buffers the bytes of the first request head (up to 16 KiB), asks whether it may proceed, then either
/// replays them down the pipeline and steps aside, or answers 403 and closes.
final class UpgradeGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let allows: @Sendable (Substring, Substring, [(Substring, Substring)]) -> Bool
    private var buffered: ByteBuffer?
    private var decided = false

    init(allows: @escaping @Sendable (Substring, Substring, [(Substring, Substring)]) -> Bool) {
        self.allows = allows
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !decided else {
            context.fireChannelRead(data)
            return
        }
        var incoming = unwrapInboundIn(data)
        if buffered == nil {
            buffered = incoming
        } else {
            buffered!.writeBuffer(&incoming)
        }
        let bytes = buffered!.readableBytesView
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else {
            if bytes.count > 16 * 1024 { pass(context) }  // let the HTTP decoder refuse it
            return
        }
        let head = String(decoding: bytes[bytes.startIndex..<end.lowerBound], as: UTF8.self)
        let lines = head.split(separator: "\r\n", omittingEmptySubsequences: false)
        let requestLine = lines.first?.split(separator: " ") ?? []
        let headers = lines.dropFirst().compactMap { line -> (Substring, Substring)? in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            return (line[..<colon], line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
        }
        if requestLine.count >= 2, !allows(requestLine[0], requestLine[1], headers) {
            decided = true
            buffered = nil
            let response = "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            let close = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response))).whenComplete { _ in close.value.close(promise: nil) }
            return
        }
        pass(context)
    }

    private func pass(_ context: ChannelHandlerContext) {
        decided = true
        if let buffered { context.fireChannelRead(wrapInboundOut(buffered)) }
        buffered = nil
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
