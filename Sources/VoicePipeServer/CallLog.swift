//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation
import Synchronization
public import VoiceAgent

/// What one call said and how fast, served at `GET /calls/{callSid}`: each turn's recognised words, what
/// the agent said and what the caller heard of it, and the timings of each stage.
public struct CallRecord: Sendable, Hashable, Codable {
    /// One caller turn and its reply.
    public struct Turn: Sendable, Hashable, Codable {
        /// The turn's number, from 1.
        public var number: Int
        /// What the caller said, as recognised (`nil`: the agent does not recognise speech).
        public var callerText: String?
        /// Everything the agent said in reply.
        public var agentText: String
        /// What the caller heard of it (`nil`: not played yet).
        public var heardText: String?
        /// Whether the caller cut the reply short.
        public var interrupted: Bool
        /// When each step happened, in ms on the call's clock (the call's start is 0).
        public var timeline: TurnRecord
        /// The stages, in ms: from the caller's last speech to the end-of-turn decision (`endOfTurn`), to
        /// the recogniser's final (`recognizer`), from there to the model's first text (`model`), to its
        /// first whole clause (`clause`), from that to the synthesiser's first audio (`synthesizer`), to the
        /// first audio handed to the transport
        /// (`response`, from the last speech) and to Twilio's report that it played (`played`, from the
        /// last speech).
        public var latency: [String: Double]

        init(_ record: TurnRecord) {
            number = record.number
            callerText = record.callerText
            agentText = record.agentText
            heardText = record.heardText
            interrupted = record.interrupted
            timeline = record
            var latency: [String: Double] = [:]
            func span(_ name: String, _ from: Double?, _ to: Double?) {
                if let from, let to { latency[name] = ((to - from) * 10).rounded() / 10 }
            }
            span("endOfTurn", record.callerLastSpeech, record.endOfTurnDecision)
            span("recognizer", record.endOfTurnDecision, record.recognizerFinal)
            span("model", record.recognizerFinal, record.modelFirstText)
            span("clause", record.modelFirstText, record.modelFirstClause)
            span("synthesizer", record.modelFirstClause ?? record.modelFirstText, record.synthesizerFirstAudio)
            span("response", record.callerLastSpeech, record.firstAudioToTransport)
            span("played", record.callerLastSpeech, record.firstAudioPlayed)
            self.latency = latency
        }
    }

    /// Twilio's call SID.
    public var callSid: String
    /// The stream's SID.
    public var streamSid: String
    /// The caller's number, when Twilio passed it.
    public var from: String?
    /// When the call's stream started.
    public var started: Date
    /// When it ended (`nil`: still on).
    public var ended: Date?
    /// The turns so far.
    public var turns: [Turn]
}

/// The records of this server's recent calls (live ones and the last ``capacity`` that ended), for
/// `GET /calls/{callSid}`. Per server instance: behind a load balancer, ask the instance that took the call.
public final class CallLog: Sendable {
    private struct State {
        var records: [String: CallRecord] = [:]
        var ended: [String] = []  // oldest first
    }

    /// How many ended calls are kept.
    public let capacity: Int
    private let state = Mutex(State())

    /// Creates a log keeping `capacity` ended calls.
    public init(capacity: Int = 500) { self.capacity = capacity }

    /// The record of a call, if this server has it.
    public func record(callSid: String) -> CallRecord? { state.withLock { $0.records[callSid] } }

    /// Starts or updates a call's record.
    func update(context: CallContext, started: Date, turns: [TurnRecord], ended: Bool) {
        let record = CallRecord(
            callSid: context.callSid, streamSid: context.streamSid, from: context.from, started: started, ended: ended ? Date() : nil,
            turns: turns.map(CallRecord.Turn.init))
        state.withLock { state in
            state.records[context.callSid] = record
            guard ended else { return }
            state.ended.append(context.callSid)
            while state.ended.count > capacity { state.records[state.ended.removeFirst()] = nil }
        }
    }

    /// The record as JSON.
    func json(callSid: String) -> String? {
        guard let record = record(callSid: callSid) else { return nil }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .iso8601
        return (try? encoder.encode(record)).map { String(decoding: $0, as: UTF8.self) + "\n" }
    }
}
