//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import struct Foundation.Data
import class Foundation.JSONSerialization

/// Why a hosted provider failed. Every client throws these and nothing else, so an agent can tell a bad key
/// (do not retry, say so at startup) from a rate limit (retry later) from a dropped socket.
public enum ProviderError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The configuration is unusable (a missing key, a bad base URL): one line, meant for startup.
    case configuration(String)
    /// 401 or 403: the key was refused.
    case unauthorized(provider: String, status: Int, message: String)
    /// 429: too many requests. `retryAfter` is the provider's own wait, when given. (A spent quota, OpenAI's
    /// `insufficient_quota`, is a 429 that waiting does not cure: it is ``status(provider:status:message:)``.)
    case rateLimited(provider: String, retryAfter: Duration?, message: String)
    /// Any other non-success status (4xx, 5xx), or a WebSocket handshake refused with one.
    case status(provider: String, status: Int, message: String)
    /// The provider sent something that does not follow its protocol (a malformed frame or event).
    case malformed(provider: String, detail: String)
    /// The provider reported an error inside a stream it had started (an SSE `error` event, a Cartesia
    /// `error` message, a Realtime `error` event).
    case failed(provider: String, message: String)
    /// The connection closed or dropped before the stream ended.
    case disconnected(provider: String, detail: String)
    /// Nothing came within the provider's timeout (`stage`: "first byte", "next chunk", "final result").
    case timedOut(provider: String, stage: String, after: Duration)

    public var description: String {
        switch self {
        case .configuration(let message): message
        case .unauthorized(let provider, let status, let message): "\(provider): \(status) unauthorized: \(message)"
        case .rateLimited(let provider, let retryAfter, let message):
            "\(provider): 429 rate limited\(retryAfter.map { " (retry after \($0))" } ?? ""): \(message)"
        case .status(let provider, let status, let message): "\(provider): HTTP \(status): \(message)"
        case .malformed(let provider, let detail): "\(provider): malformed response: \(detail)"
        case .failed(let provider, let message): "\(provider): error in stream: \(message)"
        case .disconnected(let provider, let detail): "\(provider): disconnected: \(detail)"
        case .timedOut(let provider, let stage, let after): "\(provider): no \(stage) within \(after)"
        }
    }

    /// Whether trying again later may succeed (rate limits, 408, 409, 5xx, drops and timeouts).
    public var isTransient: Bool {
        switch self {
        case .configuration, .unauthorized, .malformed: false
        case .rateLimited: true
        case .status(_, let status, _): status == 408 || status == 409 || status >= 500
        case .failed, .disconnected, .timedOut: true
        }
    }

    /// A short label for metrics (`unauthorized`, `rate_limited`, `status`, `malformed`, `failed`,
    /// `disconnected`, `timeout`, `configuration`).
    public var kind: String {
        switch self {
        case .configuration: "configuration"
        case .unauthorized: "unauthorized"
        case .rateLimited: "rate_limited"
        case .status: "status"
        case .malformed: "malformed"
        case .failed: "failed"
        case .disconnected: "disconnected"
        case .timedOut: "timeout"
        }
    }

    /// The error for a non-success HTTP status, with the provider's message (the body's `error.message`,
    /// `error` string or `detail`, else the body itself, shortened) and its `Retry-After`.
    public static func forStatus(
        provider: String, status: Int, body: String, headers: [(name: String, value: String)]
    ) -> ProviderError {
        let message = errorMessage(inBody: body)
        switch status {
        case 401, 403: return .unauthorized(provider: provider, status: status, message: message)
        case 429 where isQuotaSpent(body): return .status(provider: provider, status: status, message: message)
        case 429: return .rateLimited(provider: provider, retryAfter: retryAfter(headers), message: message)
        default: return .status(provider: provider, status: status, message: message)
        }
    }

    /// The wait a response asks for: `retry-after-ms` (milliseconds), else `retry-after` (seconds; an HTTP
    /// date is not honoured).
    public static func retryAfter(_ headers: [(name: String, value: String)]) -> Duration? {
        func value(_ name: String) -> String? { headers.first { $0.name.lowercased() == name }?.value }
        if let ms = value("retry-after-ms").flatMap(Double.init), ms >= 0 { return .milliseconds(Int64(ms)) }
        if let seconds = value("retry-after").flatMap(Double.init), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        return nil
    }

    /// Whether an error body says the account's quota is spent (OpenAI's `insufficient_quota` code or type).
    static func isQuotaSpent(_ body: String) -> Bool {
        guard let data = body.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let error = object["error"] as? [String: Any]
        else { return false }
        return error["code"] as? String == "insufficient_quota" || error["type"] as? String == "insufficient_quota"
    }

    /// The human part of an error body.
    static func errorMessage(inBody body: String) -> String {
        let short = body.count > 300 ? String(body.prefix(300)) + "…" : body
        guard let data = body.data(using: .utf8),
            let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        else { return short }
        if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
        if let error = object["error"] as? String { return error }
        if let detail = object["detail"] as? String { return detail }
        if let detail = object["detail"] as? [String: Any], let message = detail["message"] as? String { return message }
        if let message = object["message"] as? String { return message }
        return short
    }
}
