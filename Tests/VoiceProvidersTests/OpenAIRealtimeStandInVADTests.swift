//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
import HummingbirdWSClient
import Logging
import NIOWebSocket
import Synchronization
import Testing
import VoiceDSP
import VoiceProvidersTesting

/// µ-law of samples in −1...1.
private func muLawBytes(_ samples: [Float]) -> [UInt8] { samples.map { MuLaw.encode(Int16(clamping: Int(($0 * 32768).rounded()))) } }

/// Digital silence in µ-law (0xFF decodes to 0).
private func muLawSilence(milliseconds: Int) -> [UInt8] { [UInt8](repeating: 0xFF, count: milliseconds * 8) }

/// Speech rendered at 8 kHz, its bytes, and where its last word ends (ms from its start).
private func muLawSpeech(_ text: String, gain: Float = 1) -> (bytes: [UInt8], lastWordEnd: Double) {
    let rendered = StandInVoice.render(text, sampleRate: 8000)
    return (muLawBytes(rendered.samples.map { $0 * gain }), (rendered.words.last?.end ?? 0) * 1000)
}

private func parsed(_ text: String) -> [String: Any] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
}

/// A `session.update` with µ-law both ways and the given `turn_detection` (JSON text).
private func muLawSession(turnDetection: String) -> String {
    #"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"format":{"type":"audio/pcmu"},"turn_detection":"#
        + turnDetection + #"},"output":{"format":{"type":"audio/pcmu"}}}}}"#
}

/// The reply requests a stand-in was asked for.
private final class ReplyLog: Sendable {
    let requests = Mutex<[OpenAIRealtimeStandIn.ReplyRequest]>([])
}

/// The server events one raw GA connection received, in order.
private final class ServerEvents: Sendable {
    private let texts = Mutex<[String]>([])

    func received(_ text: String) { texts.withLock { $0.append(text) } }

    /// Every event so far, parsed.
    var all: [[String: Any]] { texts.withLock { $0 }.map(parsed) }

    /// The events of `type` so far.
    func of(_ type: String) -> [[String: Any]] { all.filter { $0["type"] as? String == type } }

    /// Where the first event of `type` (matching `condition`) is in ``all``.
    func index(of type: String, where condition: ([String: Any]) -> Bool = { _ in true }) -> Int? {
        all.firstIndex { $0["type"] as? String == type && condition($0) }
    }

    /// Waits up to `seconds` for `count` events of `type`; returns whether they came.
    @discardableResult
    func wait(for type: String, count: Int = 1, seconds: Double = 5) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while of(type).count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        return of(type).count >= count
    }
}

/// Appends `bytes` in 20 ms pieces of 8 kHz audio, as Twilio would send them.
private func appendPieces(_ bytes: [UInt8], to outbound: WebSocketOutboundWriter, pieceBytes: Int = 160) async throws {
    for start in stride(from: 0, to: bytes.count, by: pieceBytes) {
        let piece = Data(bytes[start..<min(bytes.count, start + pieceBytes)]).base64EncodedString()
        try await outbound.write(.text(#"{"type":"input_audio_buffer.append","audio":"\#(piece)"}"#))
    }
}

/// Opens a raw GA connection to the stand-in, sends `sessionUpdate` (when given) and waits for `session.updated`,
/// runs `script`, then closes; returns every server event received.
@discardableResult
private func withRawConnection(
    _ host: StandInHost, sessionUpdate: String?,
    _ script: @escaping @Sendable (WebSocketOutboundWriter, ServerEvents) async throws -> Void
) async throws -> ServerEvents {
    let events = ServerEvents()
    var configuration = WebSocketClientConfiguration()
    configuration.additionalHeaders[.authorization] = "Bearer sk-test-realtime"
    var logger = Logger(label: "test.realtime-vad")
    logger.logLevel = .critical
    try await WebSocketClient.connect(
        url: "ws://127.0.0.1:\(host.port)/v1/realtime?model=gpt-realtime", configuration: configuration, logger: logger
    ) { inbound, outbound, _ in
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await message in inbound.messages(maxSize: 1 << 24) {
                    if case .text(let text) = message { events.received(text) }
                }
            }
            try #require(try await events.wait(for: "session.created"))
            if let sessionUpdate {
                try await outbound.write(.text(sessionUpdate))
                try #require(try await events.wait(for: "session.updated"))
            }
            try await script(outbound, events)
            try await outbound.close(.normalClosure, reason: nil)
            try await group.waitForAll()
        }
    }
    return events
}

@Suite("OpenAI Realtime stand-in: server and semantic turn detection")
struct OpenAIRealtimeStandInVADTests {
    @Test("server_vad on µ-law: speech_started, speech_stopped, the commit under the same item, and one response with audio")
    func serverVAD() async throws {
        let replies = ReplyLog()
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(
            .init(reply: { request in
                replies.requests.withLock { $0.append(request) }
                return "Short answer."
            }))
        defer { Task { await host.stop() } }
        let lead = 400
        let speech = muLawSpeech("hello there, how are you today?")
        let speechEnd = Double(lead) + speech.lastWordEnd
        let events = try await withRawConnection(host, sessionUpdate: muLawSession(turnDetection: #"{"type":"server_vad"}"#)) {
            outbound, events in
            try await appendPieces(muLawSilence(milliseconds: lead) + speech.bytes, to: outbound)
            try await appendPieces(muLawSilence(milliseconds: 1200), to: outbound)
            try await events.wait(for: "response.done")
        }

        // The omitted fields take OpenAI's defaults.
        let updated = try #require(events.of("session.updated").first)
        let detection =
            (((updated["session"] as? [String: Any])?["audio"] as? [String: Any])?["input"] as? [String: Any])?[
                "turn_detection"] as? [String: Any]
        #expect(detection?["silence_duration_ms"] as? Int == 500 && detection?["prefix_padding_ms"] as? Int == 300)
        #expect(detection?["threshold"] as? Double == 0.5 && detection?["create_response"] as? Bool == true)

        let started = try #require(events.of("input_audio_buffer.speech_started").first)
        let stopped = try #require(events.of("input_audio_buffer.speech_stopped").first)
        let committed = try #require(events.of("input_audio_buffer.committed").first)
        #expect(events.of("input_audio_buffer.speech_started").count == 1)
        let item = try #require(started["item_id"] as? String)
        let start = try #require(started["audio_start_ms"] as? Int)
        let end = try #require(stopped["audio_end_ms"] as? Int)
        #expect(abs(start - (lead - 300)) <= 20, "audio_start_ms \(start)")
        // audio_end_ms is where the silence completed: the end of speech plus silence_duration_ms.
        #expect(abs(Double(end) - (speechEnd + 500)) <= 20, "audio_end_ms \(end), speech ended at \(speechEnd)")
        #expect(stopped["item_id"] as? String == item && committed["item_id"] as? String == item)
        #expect(committed["previous_item_id"] is NSNull)
        let userItem = events.of("conversation.item.added").first?["item"] as? [String: Any]
        #expect(userItem?["id"] as? String == item && userItem?["role"] as? String == "user")

        // Then the response, as a bare response.create would give it.
        let order = [
            events.index(of: "input_audio_buffer.speech_started"), events.index(of: "input_audio_buffer.speech_stopped"),
            events.index(of: "input_audio_buffer.committed"), events.index(of: "response.created"),
            events.index(of: "response.output_audio.delta"), events.index(of: "response.done"),
        ]
        let positions = order.compactMap { $0 }
        #expect(positions.count == order.count && positions == positions.sorted(), "\(order)")
        #expect(events.of("response.created").count == 1)
        let done = (events.of("response.done").first?["response"] as? [String: Any])
        #expect(done?["status"] as? String == "completed")

        let recording = standIn.recording
        #expect(recording.speechStarts == [start] && recording.speechStops == [end])
        #expect(recording.vadResponses == 1)
        #expect(recording.responseStatuses == ["completed"])
        #expect(!recording.clientEvents.contains("input_audio_buffer.commit") && !recording.clientEvents.contains("response.create"))
        #expect(recording.errors.isEmpty, "\(recording.errors)")
        // The commit took the buffer up to where the silence completed; the rest of the silence stays buffered.
        let request = try #require(replies.requests.withLock { $0 }.first)
        #expect(request.number == 1 && request.instructions == nil)
        #expect(abs(request.committedMilliseconds - Double(end)) <= 1, "committed \(request.committedMilliseconds) ms")
    }

    @Test("a client that never sends session.update gets the advertised server_vad, on 24 kHz PCM")
    func defaultSession() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        let rendered = StandInVoice.render("good morning", sampleRate: 24000)
        let pcm = (Array(repeating: Float(0), count: 24 * 500) + rendered.samples + Array(repeating: 0, count: 24 * 800)).flatMap {
            sample -> [UInt8] in
            let value = Int16(clamping: Int((sample * 32768).rounded()))
            return [UInt8(truncatingIfNeeded: value), UInt8(truncatingIfNeeded: value >> 8)]
        }
        let events = try await withRawConnection(host, sessionUpdate: nil) { outbound, events in
            // 20 ms of 24 kHz PCM is 960 bytes; an odd piece size splits samples across appends.
            try await appendPieces(pcm, to: outbound, pieceBytes: 961)
            try await events.wait(for: "response.done")
        }
        let created = try #require(events.of("session.created").first)
        let detection =
            (((created["session"] as? [String: Any])?["audio"] as? [String: Any])?["input"] as? [String: Any])?[
                "turn_detection"] as? [String: Any]
        #expect(detection?["type"] as? String == "server_vad")
        let silence = try #require(detection?["silence_duration_ms"] as? Int)
        let recording = standIn.recording
        let start = try #require(recording.speechStarts.first)
        let end = try #require(recording.speechStops.first)
        #expect(abs(start - 200) <= 20, "audio_start_ms \(start)")
        let speechEnd = 500 + (rendered.words.last?.end ?? 0) * 1000
        #expect(abs(Double(end) - (speechEnd + Double(silence))) <= 20, "audio_end_ms \(end), speech ended at \(speechEnd)")
        #expect(recording.vadResponses == 1 && recording.responseStatuses == ["completed"])
        #expect(events.of("response.output_audio.delta").count > 0)
    }

    @Test("semantic_vad: high, auto and low eagerness end the same turn 300, 600 and 1,000 ms after the speech")
    func semanticEagerness() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        let speech = muLawSpeech("I would like to book a table.")
        let speechEnd = 200 + speech.lastWordEnd
        var stops: [String: Int] = [:]
        for eagerness in ["high", "auto", "low"] {
            let events = try await withRawConnection(
                host, sessionUpdate: muLawSession(turnDetection: #"{"type":"semantic_vad","eagerness":"\#(eagerness)"}"#)
            ) { outbound, events in
                try await appendPieces(muLawSilence(milliseconds: 200) + speech.bytes + muLawSilence(milliseconds: 1500), to: outbound)
                try await events.wait(for: "input_audio_buffer.committed")
            }
            let updated = try #require(events.of("session.updated").first)
            let detection =
                (((updated["session"] as? [String: Any])?["audio"] as? [String: Any])?["input"] as? [String: Any])?[
                    "turn_detection"] as? [String: Any]
            #expect(detection?["type"] as? String == "semantic_vad" && detection?["interrupt_response"] as? Bool == true)
            #expect(events.of("input_audio_buffer.speech_started").count == 1)
            stops[eagerness] = try #require(events.of("input_audio_buffer.speech_stopped").first?["audio_end_ms"] as? Int)
        }
        #expect(abs(Double(stops["high"] ?? 0) - (speechEnd + 300)) <= 20, "\(stops), speech ended at \(speechEnd)")
        #expect(stops["auto"].map { $0 - (stops["high"] ?? 0) } == 300)
        #expect(stops["low"].map { $0 - (stops["high"] ?? 0) } == 700)
        #expect(standIn.recording.speechStops == ["high", "auto", "low"].compactMap { stops[$0] })
        #expect(standIn.recording.errors.isEmpty, "\(standIn.recording.errors)")
    }

    @Test("interrupt_response: speech during a response cancels it with reason turn_detected; its audio stays truncatable")
    func interruptResponse() async throws {
        let replies = ReplyLog()
        // Audio at twice real time, so that the response is still running when the caller speaks again.
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(
            .init(
                deltaInterval: .milliseconds(50),
                reply: { request in
                    replies.requests.withLock { $0.append(request) }
                    return request.number == 1 ? OpenAIRealtimeStandIn.defaultReply : "Short answer."
                }))
        defer { Task { await host.stop() } }
        let first = muLawSpeech("tell me a story")
        let second = muLawSpeech("no, stop")
        let events = try await withRawConnection(host, sessionUpdate: muLawSession(turnDetection: #"{"type":"server_vad"}"#)) {
            outbound, events in
            try await appendPieces(first.bytes + muLawSilence(milliseconds: 700), to: outbound)
            try #require(try await events.wait(for: "response.output_audio.delta", count: 3))
            try await appendPieces(second.bytes, to: outbound)
            try #require(try await events.wait(for: "response.done"))
            // The cancelled item's audio already sent can still be truncated.
            let item = events.of("response.output_audio.delta").first?["item_id"] as? String ?? ""
            try await outbound.write(
                .text(#"{"type":"conversation.item.truncate","item_id":"\#(item)","content_index":0,"audio_end_ms":150}"#))
            try #require(try await events.wait(for: "conversation.item.truncated"))
            // The new turn ends and gets its own response.
            try await appendPieces(muLawSilence(milliseconds: 700), to: outbound)
            try await events.wait(for: "response.done", count: 2)
        }
        let all = events.all
        let cancelledAt = try #require(
            events.index(of: "response.done") { ($0["response"] as? [String: Any])?["status"] as? String == "cancelled" })
        let cancelled = try #require(all[cancelledAt]["response"] as? [String: Any])
        let details = cancelled["status_details"] as? [String: Any]
        #expect(details?["type"] as? String == "cancelled" && details?["reason"] as? String == "turn_detected")
        let responseID = try #require(cancelled["id"] as? String)
        // speech_started of the second turn came first, then the incomplete item; nothing of the response follows.
        let secondStart = try #require(
            all.indices.filter { all[$0]["type"] as? String == "input_audio_buffer.speech_started" }.dropFirst().first)
        #expect(secondStart < cancelledAt)
        let itemDone = all[secondStart..<cancelledAt].first { $0["type"] as? String == "response.output_item.done" }
        #expect((itemDone?["item"] as? [String: Any])?["status"] as? String == "incomplete")
        #expect(!all[cancelledAt...].contains { $0["response_id"] as? String == responseID })

        let recording = standIn.recording
        #expect(recording.speechStarts.count == 2 && recording.speechStops.count == 2)
        #expect(recording.responseStatuses == ["cancelled", "completed"])
        #expect(recording.vadResponses == 2)
        #expect(recording.truncations.map(\.audioEndMilliseconds) == [150])
        #expect(recording.errors.isEmpty, "\(recording.errors)")
        let requests = replies.requests.withLock { $0 }
        #expect(requests.map(\.number) == [1, 2])
        #expect(requests.count == 2 && requests[1].committedMilliseconds > requests[0].committedMilliseconds)
    }

    @Test("create_response false: the turn is committed, and no response is created")
    func noCreateResponse() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        let speech = muLawSpeech("just listen")
        let events = try await withRawConnection(
            host, sessionUpdate: muLawSession(turnDetection: #"{"type":"server_vad","create_response":false,"silence_duration_ms":300}"#)
        ) { outbound, events in
            try await appendPieces(muLawSilence(milliseconds: 300) + speech.bytes + muLawSilence(milliseconds: 800), to: outbound)
            try #require(try await events.wait(for: "input_audio_buffer.committed"))
            // A manual commit after it: once it is answered, every append before it has been handled.
            try await outbound.write(.text(#"{"type":"input_audio_buffer.commit"}"#))
            try #require(try await events.wait(for: "input_audio_buffer.committed", count: 2))
            try await Task.sleep(for: .milliseconds(200))
        }
        let started = try #require(events.of("input_audio_buffer.speech_started").first)
        let committed = events.of("input_audio_buffer.committed")
        #expect(committed.first?["item_id"] as? String == started["item_id"] as? String)
        // The manual commit took what followed the automatic one; its item follows the turn's.
        #expect(committed.last?["previous_item_id"] as? String == started["item_id"] as? String)
        #expect(events.of("response.created").isEmpty)
        let recording = standIn.recording
        #expect(recording.vadResponses == 0 && recording.responseStatuses.isEmpty)
        #expect(recording.speechStops.count == 1 && abs(Double(recording.speechStops[0]) - (300 + speech.lastWordEnd + 300)) <= 20)
        #expect(recording.errors.isEmpty, "\(recording.errors)")
    }

    @Test("turn_detection null: no speech_started, whatever the audio; manual commits still work")
    func turnDetectionOff() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        let speech = muLawSpeech("is anybody there?")
        let events = try await withRawConnection(host, sessionUpdate: muLawSession(turnDetection: "null")) { outbound, events in
            try await appendPieces(speech.bytes + muLawSilence(milliseconds: 1500), to: outbound)
            try await outbound.write(.text(#"{"type":"input_audio_buffer.commit"}"#))
            try #require(try await events.wait(for: "input_audio_buffer.committed"))
            try await outbound.write(.text(#"{"type":"response.create"}"#))
            try await events.wait(for: "response.done")
        }
        let updated = try #require(events.of("session.updated").first)
        let input = ((updated["session"] as? [String: Any])?["audio"] as? [String: Any])?["input"] as? [String: Any]
        #expect(input?["turn_detection"] is NSNull)
        #expect(events.of("input_audio_buffer.speech_started").isEmpty && events.of("input_audio_buffer.speech_stopped").isEmpty)
        let recording = standIn.recording
        #expect(recording.speechStarts.isEmpty && recording.speechStops.isEmpty && recording.vadResponses == 0)
        #expect(recording.responseStatuses == ["completed"])
        #expect(recording.errors.isEmpty, "\(recording.errors)")
    }

    @Test("the threshold: low line noise is not speech, quiet telephone speech is; a bad turn_detection is refused")
    func thresholdAndValidation() async throws {
        let (host, standIn) = try await OpenAIRealtimeStandIn.start(.init(reply: { _ in "Short answer." }))
        defer { Task { await host.stop() } }
        // Noise at about −55 dBFS (deterministic), then speech 12 dB down from StandInVoice's level (about −28 dBFS).
        var seed: UInt32 = 12345
        let noise = (0..<8000).map { _ -> Float in
            seed = seed &* 1_103_515_245 &+ 12345
            return (Float(seed >> 16) / 32768 - 1) * 0.003
        }
        let quiet = muLawSpeech("hello", gain: 0.25)
        let events = try await withRawConnection(
            host,
            sessionUpdate: muLawSession(turnDetection: #"{"type":"server_vad","create_response":false}"#)
        ) { outbound, events in
            try await appendPieces(muLawBytes(noise), to: outbound)
            try await outbound.write(.text(#"{"type":"input_audio_buffer.commit"}"#))
            try #require(try await events.wait(for: "input_audio_buffer.committed"))
            try await appendPieces(quiet.bytes + muLawSilence(milliseconds: 700), to: outbound)
            try #require(try await events.wait(for: "input_audio_buffer.committed", count: 2))
            for bad in [
                #"{"type":"server_vad","threshold":1.5}"#, #"{"type":"semantic_vad","eagerness":"eager"}"#, #"{"type":"vad"}"#,
                #"{"threshold":0.5}"#,
            ] {
                try await outbound.write(.text(muLawSession(turnDetection: bad)))
            }
            try await events.wait(for: "error", count: 4)
        }
        let recording = standIn.recording
        // The noise was committed by hand without a speech_started; the quiet speech started one.
        let firstCommit = try #require(events.index(of: "input_audio_buffer.committed"))
        let start = try #require(events.index(of: "input_audio_buffer.speech_started"))
        #expect(firstCommit < start)
        #expect(recording.speechStarts.count == 1)
        #expect(abs(Double(recording.speechStarts.first ?? 0) - (1000 - 300)) <= 20, "\(recording.speechStarts)")
        let codes = events.of("error").compactMap { ($0["error"] as? [String: Any])?["code"] as? String }
        #expect(codes == ["decimal_above_max_value", "invalid_value", "invalid_value", "missing_required_parameter"])
        let params = events.of("error").compactMap { ($0["error"] as? [String: Any])?["param"] as? String }
        #expect(
            params == [
                "session.audio.input.turn_detection.threshold", "session.audio.input.turn_detection.eagerness",
                "session.audio.input.turn_detection.type", "session.audio.input.turn_detection.type",
            ])
        #expect(events.of("session.updated").count == 1)
    }
}
