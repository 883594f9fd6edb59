//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTesting

/// A loopback HTTP server that plays a customer's webhook endpoint: it records every request (URL, headers,
/// form) and answers with a configurable status, body and content type.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        /// The path and query as requested.
        var pathAndQuery: String
        var headers: [(String, String)]
        var form: [(String, String)]

        func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        func value(_ name: String) -> String? { form.last { $0.0 == name }?.1 }
    }

    struct Answer: Sendable {
        var status: Int
        var body: String
        var contentType: String?
    }

    let port: Int
    private let task: Task<Void, any Error>
    private let shared: SharedState

    var received: [Received] { shared.state.withLock { $0.received } }

    func url(_ pathAndQuery: String) -> String { "http://127.0.0.1:\(port)\(pathAndQuery)" }

    func answer(status: Int, body: String = "", contentType: String? = nil) {
        shared.state.withLock { $0.answer = Answer(status: status, body: body, contentType: contentType) }
    }

    private init(port: Int, task: Task<Void, any Error>, shared: SharedState) {
        self.port = port
        self.task = task
        self.shared = shared
    }

    static func start() async throws -> WebhookReceiver {
        let shared = SharedState()
        let responder = CallbackResponder<BasicRequestContext> { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            let form = FormEncoding.decode(Array(body.readableBytesView)) ?? []
            let received = Received(
                pathAndQuery: request.uri.string, headers: request.headers.map { ($0.name.rawName, $0.value) }, form: form)
            let answer = shared.state.withLock { state in
                state.received.append(received)
                return state.answer
            }
            var headers = HTTPFields()
            if let contentType = answer.contentType { headers[.contentType] = contentType }
            return Response(
                status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
        }
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = Application(
            responder: responder, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            })
        let task = Task { try await application.runService(gracefulShutdownSignals: []) }
        var port = 0
        for await value in ports {
            port = value
            break
        }
        return WebhookReceiver(port: port, task: task, shared: shared)
    }

    private final class SharedState: Sendable {
        let state = Mutex<(received: [Received], answer: Answer)>(([], Answer(status: 200, body: "", contentType: nil)))
    }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

/// The stand-in's validator check: the signature over the URL as the receiver saw it and every field.
func isSignedByTwilio(_ received: WebhookReceiver.Received, receiver: WebhookReceiver, authToken: String) -> Bool {
    RequestValidator(authToken: authToken).isValid(
        signature: received.header("X-Twilio-Signature") ?? "", url: receiver.url(received.pathAndQuery), parameters: received.form)
}

/// A Messaging client pointed at the stand-in, with quick retries.
func messagingClient(
    _ standIn: TwilioStandIn, retry: RetryPolicy = RetryPolicy(initialBackoff: .milliseconds(1), maximumBackoff: .milliseconds(5)),
    credentials: TwilioCredentials? = nil
) -> TwilioMessagingClient {
    TwilioMessagingClient(
        credentials: credentials ?? .authToken(accountSid: standIn.accountSid, authToken: standIn.authToken),
        configuration: .init(baseURL: standIn.baseURL, requestTimeout: .seconds(5), retry: retry))
}

/// One raw request to the stand-in: status, headers and body text.
func rawRequest(
    _ standIn: TwilioStandIn, _ method: HTTPMethod, _ pathOrURL: String, form: [(String, String)]? = nil,
    headers: [(String, String)] = [], authorization: String? = nil
) async throws -> (status: Int, headers: HTTPHeaders, body: String) {
    var request = HTTPClientRequest(url: pathOrURL.hasPrefix("http") ? pathOrURL : standIn.baseURL + pathOrURL)
    request.method = method
    request.headers.add(name: "Authorization", value: authorization ?? standIn.authorizationHeader)
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let form {
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
    }
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
    let body = try await response.body.collect(upTo: 1 << 20)
    return (Int(response.status.code), response.headers, String(buffer: body))
}

/// JSON text as a dictionary.
func jsonObject(_ text: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
}
