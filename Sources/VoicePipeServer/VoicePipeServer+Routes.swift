//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HTTPTypes
public import Hummingbird
public import HummingbirdCore
public import HummingbirdWebSocket
import Logging
import NIOCore

extension VoicePipeServer {
    /// VoicePipe's Twilio routes, for mounting in a host's own Hummingbird application:
    /// - `POST voice`: the incoming-call webhook (TwiML connecting the call's stream to the `media` route
    ///   next to it);
    /// - `POST status`: call status callbacks;
    /// - `GET media`: the Media Stream WebSocket, one ``CallSession``-driven call per connection;
    /// - `GET calls/{callSid}`: a call's ``CallRecord`` (JSON);
    /// - with a ``Configuration/store``: `POST sms` (Messaging inbound, SMS and WhatsApp), `POST message-status`
    ///   (Messaging status callbacks), `POST conversations` (Conversations post-event webhooks),
    ///   `GET contacts/{address}` (a contact's history on every channel) and
    ///   `GET search?q=…` (full-text search over transcripts and messages).
    ///
    /// ```swift
    /// let voicePipe = VoicePipeServer(configuration: .init(publicURL: "https://agent.example.com", authToken: token,
    ///                                                      makeAgent: { context in MyAgent(context) }))
    /// let router = Router(context: BasicWebSocketRequestContext.self)
    /// router.addRoutes(voicePipe.routes(), atPath: "/twilio")
    /// let app = Application(router: router, server: voicePipe.httpServer(webSocketRouter: router))
    /// ```
    ///
    /// With an auth token, each route checks `X-Twilio-Signature` against ``Configuration/publicURL`` (or,
    /// without one, `http://` + the request's `Host`) plus the request's path: forged webhooks get 403, and
    /// forged upgrades are never upgraded (403 with ``httpServer(webSocketRouter:mediaPath:configuration:)``;
    /// Hummingbird's own `.http1WebSocketUpgrade` can only answer them 405). The host serves the app; this
    /// server's statistics are in ``statistics``.
    ///
    /// - Parameter context: The host router's request context.
    /// - Returns: The routes, relative to where they are mounted.
    public func routes<Context: WebSocketRequestContext>(context: Context.Type = BasicWebSocketRequestContext.self)
        -> RouteCollection<Context>
    {
        let server = self
        let routes = RouteCollection(context: Context.self)
        routes.post("voice") { request, _ -> Response in
            let base = server.base(for: request)
            var path = request.uri.path
            if let slash = path.lastIndex(of: "/") { path = String(path[..<slash]) }
            return try await server.answerCall(request, base: base, mediaURL: Self.webSocketURL(base + path + "/media"))
        }
        routes.post("status") { request, _ -> Response in
            try await server.statusCallback(request, base: server.base(for: request))
        }
        routes.get("calls/:callSid") { request, context -> Response in
            try server.callRecord(request, callSid: context.parameters.get("callSid") ?? "")
        }
        if configuration.store != nil {
            routes.post("sms") { request, _ -> Response in try await server.inboundMessage(request, base: server.base(for: request)) }
            routes.post("message-status") { request, _ -> Response in
                try await server.messageStatus(request, base: server.base(for: request))
            }
            routes.post("conversations") { request, _ -> Response in
                try await server.conversationsEvent(request, base: server.base(for: request))
            }
            routes.get("contacts/:address") { request, context -> Response in
                try await server.contactHistory(request, address: context.parameters.get("address") ?? "")
            }
            routes.get("search") { request, _ -> Response in try await server.searchEntries(request) }
        }
        routes.ws(
            "media",
            shouldUpgrade: { request, _ in
                let signature = request.headers[HTTPField.Name("X-Twilio-Signature")!]
                let url = Self.webSocketURL(server.base(for: request) + request.uri.description)
                guard server.isSigned(signature: signature, url: url) else {
                    server.statistics.refused()
                    server.logger.warning("refused WebSocket upgrade: bad or missing X-Twilio-Signature")
                    throw HTTPError(.forbidden)
                }
                return .upgrade([:])
            },
            onUpgrade: { inbound, outbound, context in
                try await CallHandler(server: server, logger: context.logger).run(inbound: inbound, outbound: outbound)
            })
        return routes
    }

    /// The HTTP server for a host app that mounts ``routes(context:)``: HTTP/1.1 with WebSocket upgrades
    /// routed by `webSocketRouter`, where an upgrade of the media route whose `X-Twilio-Signature` does not
    /// validate gets `403 Forbidden` before Hummingbird's upgrader sees it.
    ///
    /// - Parameters:
    ///   - webSocketRouter: The router that holds the mounted routes.
    ///   - mediaPath: Where the media route is mounted (`/twilio/media` for routes mounted at `/twilio`).
    ///   - configuration: WebSocket settings.
    public func httpServer<WSResponderBuilder: HTTPResponderBuilder & _HB_SendableMetatype>(
        webSocketRouter: WSResponderBuilder, mediaPath: String = "/twilio/media",
        configuration: HTTP1WebSocketUpgradeChannel.Configuration = .init()
    ) -> HTTPServerBuilder where WSResponderBuilder.Responder.Context: WebSocketRequestContext {
        let server = self
        let webSocketResponder = webSocketRouter.buildResponder()
        return HTTPServerBuilder { responder in
            SignatureGatedChannel(
                inner: HTTP1WebSocketUpgradeChannel(
                    responder: responder, webSocketResponder: webSocketResponder, configuration: configuration),
                allows: { method, path, headers in
                    server.allowsUpgrade(method: method, path: path, headers: headers, mediaPath: mediaPath) { host in
                        server.configuration.publicURL ?? "http://" + (host ?? "\(server.configuration.host):\(server.configuration.port)")
                    }
                })
        }
    }

    /// The public base URL for a request to mounted routes.
    func base(for request: Request) -> String {
        if let publicURL = configuration.publicURL { return publicURL }
        return "http://" + (request.head.authority ?? "\(configuration.host):\(configuration.port)")
    }

    /// `https://…` → `wss://…`, `http://…` → `ws://…`.
    static func webSocketURL(_ url: String) -> String {
        if url.hasPrefix("https://") { return "wss://" + url.dropFirst("https://".count) }
        if url.hasPrefix("http://") { return "ws://" + url.dropFirst("http://".count) }
        return url
    }
}
