//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// When and how long to wait before trying a request again.
///
/// Retried: HTTP 429 (Twilio: "never processed and always safe to retry") and 5xx answers; timeouts and
/// connection failures only for requests that are safe to repeat (fetch, update), because a call-create
/// request that timed out may have placed the call. Never retried: other 4xx. The wait is Twilio's
/// `Retry-After` when it sends one (up to ``maximumRetryAfter``; longer gives up), otherwise exponential
/// backoff with full jitter: a random time up to `initialBackoff · 2^(attempt−1)`, capped at ``maximumBackoff``.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first included (1 = no retries).
    public var maximumAttempts: Int
    /// The backoff bound before the first retry.
    public var initialBackoff: Duration
    /// The largest backoff bound.
    public var maximumBackoff: Duration
    /// The longest `Retry-After` honoured; a longer one ends the retries.
    public var maximumRetryAfter: Duration

    /// Creates a policy; the defaults try 4 times over a few seconds.
    public init(
        maximumAttempts: Int = 4, initialBackoff: Duration = .milliseconds(250), maximumBackoff: Duration = .seconds(8),
        maximumRetryAfter: Duration = .seconds(30)
    ) {
        self.maximumAttempts = Swift.max(1, maximumAttempts)
        self.initialBackoff = initialBackoff
        self.maximumBackoff = maximumBackoff
        self.maximumRetryAfter = maximumRetryAfter
    }

    /// No retries.
    public static let none = RetryPolicy(maximumAttempts: 1)

    /// The backoff before retry number `attempt` (1 = the first retry), jittered with `random`.
    package func backoff(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let bound = min(maximumBackoff, initialBackoff * (1 << min(attempt - 1, 30)))
        let nanoseconds = bound.components.seconds * 1_000_000_000 + bound.components.attoseconds / 1_000_000_000
        return .nanoseconds(Int64.random(in: 0...max(0, nanoseconds), using: &random))
    }
}
