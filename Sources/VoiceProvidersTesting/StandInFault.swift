//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A failure a stand-in injects into a request, as its provider would fail.
public enum StandInFault: Sendable, Hashable {
    /// Refuse the key: 401 (HTTP), or the WebSocket handshake refused with 401.
    case unauthorized
    /// 429, with the given `Retry-After` (and the provider's own variant of it, e.g. OpenAI's
    /// `retry-after-ms`); `nil`: no header.
    case rateLimited(retryAfter: Duration?)
    /// A 5xx status (500, 502, 503…).
    case serverError(status: Int)
    /// Start the stream, then send one frame or event that is not valid for the protocol.
    case malformedFrame
    /// Start the stream, then drop the connection without ending it.
    case dropMidStream
    /// Start the stream, then stop sending and keep the connection open.
    case stall
}

/// Delays a stand-in applies, to mimic a provider's published latency.
public struct StandInTiming: Sendable, Hashable {
    /// From the request (or the end of the caller's audio, for a recogniser) to the first response byte.
    public var firstByte: Duration
    /// Units (tokens, characters of speech, words) per second after the first.
    public var unitsPerSecond: Double

    /// Creates timing.
    public init(firstByte: Duration = .zero, unitsPerSecond: Double = 0) {
        self.firstByte = firstByte
        self.unitsPerSecond = unitsPerSecond
    }

    /// No delays: everything as fast as the loopback allows.
    public static let immediate = StandInTiming()

    /// The pause between two units (`.zero` when `unitsPerSecond` is 0).
    public var interval: Duration {
        unitsPerSecond > 0 ? .nanoseconds(Int64(1e9 / unitsPerSecond)) : .zero
    }
}
