//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// One caller turn and the agent's reply: when each step happened (milliseconds on the call's clock, the
/// clock of the ticks) and what the agent said and the caller heard.
public struct TurnRecord: Sendable, Hashable, Codable {
    /// The turn's number, from 1.
    public var number: Int
    /// The end of the caller's last speech frame.
    public var callerLastSpeech: Double?
    /// When the end of the turn was decided (the trailing silence after the last speech).
    public var endOfTurnDecision: Double?
    /// When the agent's reply task started running.
    public var agentStarted: Double?
    /// When the recogniser's final result for the turn was ready (a ``CascadeAgent``).
    public var recognizerFinal: Double?
    /// When the language model's first text arrived.
    public var modelFirstText: Double?
    /// When the model's first clause went to the synthesiser.
    public var modelFirstClause: Double?
    /// When the synthesiser's first audio arrived.
    public var synthesizerFirstAudio: Double?
    /// When the agent produced its first output (audio or text).
    public var agentFirstOutput: Double?
    /// When the first reply audio was handed to the transport.
    public var firstAudioToTransport: Double?
    /// When the transport reported the first reply audio played.
    public var firstAudioPlayed: Double?
    /// What the caller said, as the recogniser heard it (`nil`: the agent does not recognise speech).
    public var callerText: String?
    /// All the text the agent produced for the reply.
    public var agentText: String = ""
    /// The part of it the caller heard (all of it unless interrupted).
    public var heardText: String?
    /// Whether the caller interrupted the reply.
    public var interrupted = false

    /// Creates a record.
    public init(number: Int) { self.number = number }

    /// The caller's last word to the agent's first audio handed to the transport, in ms: what the caller
    /// waits (plus the network), the figure to keep under 2 s.
    public var responseLatency: Double? {
        guard let firstAudioToTransport, let callerLastSpeech else { return nil }
        return firstAudioToTransport - callerLastSpeech
    }

    /// The pipeline's own share, in ms: end-of-turn decision to first reply audio handed to the transport,
    /// minus the agent's own time (its task's start to its first output).
    public var pipelineAdded: Double? {
        guard let firstAudioToTransport, let endOfTurnDecision else { return nil }
        let agentTime = agentStarted.flatMap { started in agentFirstOutput.map { $0 - started } } ?? 0
        return firstAudioToTransport - endOfTurnDecision - agentTime
    }
}

/// A call's latency figures: medians and 95th percentiles over its turns.
public struct CallSummary: Sendable, Hashable, CustomStringConvertible {
    /// Turns with a reply.
    public var turns: Int
    /// Turns the caller interrupted.
    public var interruptions: Int
    /// Response latency (caller's last word to first reply audio handed over), ms.
    public var responseP50: Double?
    /// Response latency, 95th percentile, ms.
    public var responseP95: Double?
    /// Pipeline-added latency, ms.
    public var pipelineAddedP50: Double?
    /// Pipeline-added latency, 95th percentile, ms.
    public var pipelineAddedP95: Double?

    /// Summarises turn records.
    public init(_ records: [TurnRecord]) {
        let response = records.compactMap(\.responseLatency)
        let added = records.compactMap(\.pipelineAdded)
        turns = response.count
        interruptions = records.filter(\.interrupted).count
        responseP50 = Self.percentile(response, 0.5)
        responseP95 = Self.percentile(response, 0.95)
        pipelineAddedP50 = Self.percentile(added, 0.5)
        pipelineAddedP95 = Self.percentile(added, 0.95)
    }

    /// The nearest-rank percentile (`nil` for no values).
    public static func percentile(_ values: [Double], _ fraction: Double) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let rank = Int((fraction * Double(sorted.count)).rounded(.up))
        return sorted[min(max(rank, 1), sorted.count) - 1]
    }

    /// One line.
    public var description: String {
        func ms(_ value: Double?) -> String { value.map { String(Int($0.rounded())) + " ms" } ?? "-" }
        return "\(turns) turns, \(interruptions) interrupted; response p50 \(ms(responseP50)) p95 \(ms(responseP95)); "
            + "pipeline-added p50 \(ms(pipelineAddedP50)) p95 \(ms(pipelineAddedP95))"
    }
}
