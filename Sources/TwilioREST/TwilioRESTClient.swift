//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient
package import Foundation
package import NIOCore
package import NIOHTTP1
import NIOPosix
import TwilioCore

/// The Voice REST calls a voice-agent server needs: create a call, fetch it, update it (redirect, new
/// TwiML, hang up). Form-encoded requests with basic auth, Twilio's JSON errors as ``TwilioRESTError``,
/// retries per ``RetryPolicy``, a timeout per attempt, and a configurable base URL (for a stand-in server
/// or an edge location).
///
/// ```swift
/// let twilio = TwilioRESTClient(credentials: .authToken(accountSid: sid, authToken: token))
/// let call = try await twilio.createCall(CreateCall(to: "+14155550199", from: "+14155550100",
///                                                   instructions: .url("https://agent.example.com/twilio/voice")))
/// _ = try await twilio.updateCall(sid: call.sid, .hangUp)
/// ```
public struct TwilioRESTClient: Sendable {
    /// Settings.
    public struct Configuration: Sendable {
        /// The API's origin, without a trailing slash.
        public var baseURL: String
        /// The limit on each attempt.
        public var requestTimeout: Duration
        /// Retries.
        public var retry: RetryPolicy
        /// The largest response body read.
        public var maximumResponseBytes: Int

        /// Creates settings.
        public init(
            baseURL: String = "https://api.twilio.com", requestTimeout: Duration = .seconds(15), retry: RetryPolicy = .init(),
            maximumResponseBytes: Int = 1 << 20
        ) {
            self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
            self.requestTimeout = requestTimeout
            self.retry = retry
            self.maximumResponseBytes = maximumResponseBytes
        }
    }

    /// The credentials (the secret is never printed).
    public let credentials: TwilioCredentials
    /// The settings in use.
    public let configuration: Configuration
    private let httpClient: HTTPClient

    /// Creates a client.
    ///
    /// - Parameter httpClient: The connection pool (by default AsyncHTTPClient's shared one).
    public init(credentials: TwilioCredentials, configuration: Configuration = .init(), httpClient: HTTPClient = .shared) {
        self.credentials = credentials
        self.configuration = configuration
        self.httpClient = httpClient
    }

    private var callsPath: String { "/2010-04-01/Accounts/\(Self.pathSegment(credentials.accountSid))/Calls" }

    /// Places a call (`POST /Calls.json`, answered with 201).
    ///
    /// Retried on 429 and 5xx answers only: after a timeout or a dropped connection the call may exist.
    public func createCall(_ request: CreateCall) async throws(TwilioRESTError) -> Call {
        try await perform(method: .POST, path: callsPath + ".json", form: request.formFields, idempotent: false)
    }

    /// Fetches a call.
    public func fetchCall(sid: String) async throws(TwilioRESTError) -> Call {
        try await perform(method: .GET, path: callsPath + "/\(Self.pathSegment(sid)).json", form: nil, idempotent: true)
    }

    /// Updates a call: ``UpdateCall/hangUp``, ``UpdateCall/redirect(to:method:)``, ``UpdateCall/twiml(_:)``.
    public func updateCall(sid: String, _ update: UpdateCall) async throws(TwilioRESTError) -> Call {
        try await perform(method: .POST, path: callsPath + "/\(Self.pathSegment(sid)).json", form: update.formFields, idempotent: true)
    }

    // MARK: - Requests

    /// One request with retries, decoded as `Resource`, for this module and the package's other Twilio
    /// clients (see ``send(method:path:form:headers:idempotent:retriesServerErrors:)`` for the retries).
    ///
    /// - Parameters:
    ///   - path: The path, with its query, on ``Configuration/baseURL``.
    ///   - form: The form-encoded body, if any.
    ///   - idempotent: Whether sending it twice does no harm.
    ///   - retriesServerErrors: Whether a 5xx is retried (the Voice calls: yes, Twilio made nothing; a message
    ///     send: no, the message may exist).
    ///   - keyDecoding: How the JSON's keys map to `Resource`'s (snake case by default).
    package func perform<Resource: Decodable>(
        method: HTTPMethod, path: String, form: [(String, String)]?, idempotent: Bool, retriesServerErrors: Bool = true,
        keyDecoding: JSONDecoder.KeyDecodingStrategy = .convertFromSnakeCase
    ) async throws(TwilioRESTError) -> Resource {
        let (status, body, attempts) = try await send(
            method: method, path: path, form: form, idempotent: idempotent, retriesServerErrors: retriesServerErrors)
        do {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = keyDecoding
            return try decoder.decode(Resource.self, from: Data(body.readableBytesView))
        } catch {
            throw TwilioRESTError(
                kind: .invalidResponse, httpStatus: status, message: "undecodable \(Resource.self): \(error)", attempts: attempts)
        }
    }

    /// One request with retries: 429 always (after `Retry-After`, or the policy's backoff); 5xx when
    /// `retriesServerErrors`; timeouts and connection failures when `idempotent`, or when the connection
    /// certainly failed before sending.
    ///
    /// - Parameters:
    ///   - headers: More request headers (for example Conversations' `X-Twilio-Webhook-Enabled`).
    /// - Returns: The 2xx status, its body (possibly empty, as a 204's) and the attempts made.
    package func send(
        method: HTTPMethod, path: String, form: [(String, String)]?, headers: [(String, String)] = [], idempotent: Bool,
        retriesServerErrors: Bool
    ) async throws(TwilioRESTError) -> (status: Int, body: ByteBuffer, attempts: Int) {
        var request = HTTPClientRequest(url: configuration.baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: credentials.authorization)
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "VoicePipe (swift)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let form {
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: FormEncoding.encode(form)))
        }
        var random = SystemRandomNumberGenerator()
        var attempt = 0
        var lastRetryAfter: Duration?
        while true {
            attempt += 1
            let canRetry = attempt < configuration.retry.maximumAttempts
            var wait: Duration?
            do {
                let response = try await httpClient.execute(request, timeout: Self.timeAmount(configuration.requestTimeout))
                let body = try await response.body.collect(upTo: configuration.maximumResponseBytes)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return (status, body, attempt) }
                let retryAfter = response.headers.first(name: "Retry-After").flatMap(Self.retryAfter)
                if status == 429 { lastRetryAfter = retryAfter }
                var failure = Self.apiError(status: status, body: body, attempts: attempt)
                failure.retryAfter = lastRetryAfter
                guard canRetry, status == 429 || (status >= 500 && retriesServerErrors) else { throw failure }
                if let retryAfter {
                    guard retryAfter <= configuration.retry.maximumRetryAfter else { throw failure }
                    wait = retryAfter
                }
            } catch let error as TwilioRESTError {
                throw error
            } catch let error as HTTPClientError where [.deadlineExceeded, .readTimeout, .connectTimeout].contains(error) {
                guard canRetry, idempotent || error == .connectTimeout else {
                    throw TwilioRESTError(kind: .timeout, message: "no answer within \(configuration.requestTimeout)", attempts: attempt)
                }
            } catch {
                guard canRetry, idempotent || Self.failedBeforeSending(error) else {
                    throw TwilioRESTError(kind: .transport, message: "\(error)", attempts: attempt)
                }
            }
            do {
                try await Task.sleep(for: wait ?? configuration.retry.backoff(attempt: attempt, using: &random))
            } catch {
                throw TwilioRESTError(kind: .transport, message: "cancelled", attempts: attempt)
            }
        }
    }

    /// Twilio's error JSON (`code`, `message`, `more_info`, `status`), or the start of whatever came.
    static func apiError(status: Int, body: ByteBuffer, attempts: Int) -> TwilioRESTError {
        struct Body: Decodable {
            var code: Int?
            var message: String?
            var more_info: String?
        }
        if let decoded = try? JSONDecoder().decode(Body.self, from: Data(body.readableBytesView)),
            decoded.message != nil || decoded.code != nil
        {
            return TwilioRESTError(
                kind: .api, httpStatus: status, code: decoded.code, message: decoded.message ?? "HTTP \(status)",
                moreInfo: decoded.more_info, attempts: attempts)
        }
        let text = String(buffer: body).prefix(200)
        return TwilioRESTError(kind: .api, httpStatus: status, message: text.isEmpty ? "HTTP \(status)" : String(text), attempts: attempts)
    }

    /// `Retry-After` as delay-seconds or an HTTP date.
    static func retryAfter(_ value: String) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(trimmed), seconds >= 0 { return .seconds(seconds) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: trimmed) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000)))
    }

    /// Whether a transport error certainly happened before the request was sent.
    private static func failedBeforeSending(_ error: any Error) -> Bool {
        if let error = error as? HTTPClientError, error == .connectTimeout { return true }
        return error is NIOConnectionError
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }

    private static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
