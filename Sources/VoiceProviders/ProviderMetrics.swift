//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Metrics

/// Per-provider metrics, in the process's swift-metrics backend (Prometheus on `/metrics` in the server):
///
/// - `voicepipe_provider_first_byte_seconds{provider, operation}`: from the request (or the utterance's
///   end, for recognition) to the provider's first useful byte: a model's first text, a voice's first
///   audio, a recogniser's final;
/// - `voicepipe_provider_errors_total{provider, operation, kind}` with ``ProviderError/kind``: every failure,
///   a failed attempt that is then retried included;
/// - `voicepipe_provider_retries_total{provider, operation}`;
/// - `voicepipe_provider_fallbacks_total{provider, operation}`: a fallback took over from this provider.
public struct ProviderMetrics: Sendable {
    /// The provider's label (`openai`, `deepgram`, `elevenlabs`, `cartesia`, or a local engine's name).
    public let provider: String
    /// What was asked of it (`chat`, `listen`, `speak`, `realtime`).
    public let operation: String
    private let firstByte: Metrics.Timer
    private let retries: Counter
    private let fallbacks: Counter

    /// Creates the metrics of one provider and operation.
    public init(provider: String, operation: String) {
        self.provider = provider
        self.operation = operation
        let dimensions = [("provider", provider), ("operation", operation)]
        firstByte = Metrics.Timer(label: "voicepipe_provider_first_byte_seconds", dimensions: dimensions, preferredDisplayUnit: .seconds)
        retries = Counter(label: "voicepipe_provider_retries_total", dimensions: dimensions)
        fallbacks = Counter(label: "voicepipe_provider_fallbacks_total", dimensions: dimensions)
    }

    /// Records the time to the first useful byte.
    public func recordFirstByte(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        firstByte.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// Counts an error.
    public func recordError(_ error: ProviderError) {
        Counter(
            label: "voicepipe_provider_errors_total", dimensions: [("provider", provider), ("operation", operation), ("kind", error.kind)]
        )
        .increment()
    }

    /// Counts a retry.
    public func recordRetry() { retries.increment() }

    /// Counts a fallback away from this provider.
    public func recordFallback() { fallbacks.increment() }
}
