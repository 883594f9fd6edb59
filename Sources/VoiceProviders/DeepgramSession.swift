//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HummingbirdWSClient
import Logging
import Synchronization
import VoiceAgent
import VoiceDSP

/// One call's Deepgram stream (see ``DeepgramRecognizer``).
final class DeepgramSession: RecognitionSession {
    typealias Segment = DeepgramSegment

    struct Utterance {
        /// Stream samples sent on this connection before the utterance's first sample.
        var startSample: Int
        var connectionID: Int
        var samples = 0
        var finals: [Segment] = []
        var partial: Transcript?
        var finalized = false
        /// The stream position when `speech_final` or `UtteranceEnd` closed the utterance.
        var closedAtSample: Int?
        var dropped: ProviderError?
    }

    struct State {
        var connection: DeepgramConnection?
        var nextConnectionID = 0
        var streamSamples = 0
        var utterance: Utterance?
        var lastSent = ContinuousClock.now
        var waiter: CheckedContinuation<Void, Never>?
        var signalled = false
        var closed = false
    }

    private let recognizer: DeepgramRecognizer
    private let state = Mutex(State())
    private let metrics = ProviderMetrics(provider: "deepgram", operation: "listen")
    private let keepAlive = Mutex<Task<Void, Never>?>(nil)
    private var logger: Logger { recognizer.logger }

    init(recognizer: DeepgramRecognizer) { self.recognizer = recognizer }

    /// Opens the first connection and starts the keep-alive loop.
    func start() async throws(ProviderError) {
        let connection = state.withLock { connect(&$0) }
        do { try await connection.waitUntilOpen(timeout: recognizer.configuration.connectTimeout) } catch {
            connection.cancel()
            metrics.recordError(error)
            throw error
        }
        let interval = recognizer.configuration.keepAliveInterval
        let task = Task { [weak self] in
            let tick = interval / 4
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                guard let self else { return }
                self.state.withLock { state in
                    guard !state.closed, let connection = state.connection, ContinuousClock.now - state.lastSent >= interval
                    else { return }
                    connection.send(.text(#"{"type":"KeepAlive"}"#))
                    state.lastSent = .now
                }
            }
        }
        keepAlive.withLock { $0 = task }
    }

    private func connect(_ state: inout State) -> DeepgramConnection {
        state.nextConnectionID += 1
        let connection = DeepgramConnection(
            id: state.nextConnectionID, recognizer: recognizer,
            onMessage: { [weak self] id, message in self?.received(message, on: id) },
            onEnd: { [weak self] id, reason in self?.ended(id, reason: reason) })
        state.connection = connection
        state.streamSamples = 0
        state.lastSent = .now
        return connection
    }

    func accept(_ samples: UnsafeBufferPointer<Float>) throws {
        guard !samples.isEmpty else { return }
        var bytes = [UInt8](repeating: 0, count: samples.count)
        for (index, sample) in samples.enumerated() {
            let scaled = sample.isFinite ? max(-32768, min(32767, (sample * 32768).rounded())) : 0
            bytes[index] = MuLaw.encode(Int16(scaled))
        }
        state.withLock { state in
            guard !state.closed else { return }
            if state.utterance == nil {
                if state.connection == nil { _ = connect(&state) }
                state.utterance = Utterance(startSample: state.streamSamples, connectionID: state.connection?.id ?? 0)
            }
            guard state.utterance?.dropped == nil, let connection = state.connection,
                connection.id == state.utterance?.connectionID
            else { return }
            var offset = 0
            while offset < bytes.count {
                let end = min(bytes.count, offset + 800)
                connection.send(.audio(Array(bytes[offset..<end])))
                offset = end
            }
            state.streamSamples += bytes.count
            state.utterance?.samples += bytes.count
            state.lastSent = .now
        }
    }

    func partialResult() -> Transcript? { state.withLock { $0.utterance?.partial } }

    func finishUtterance() async throws -> Transcript {
        let began = ContinuousClock.now
        let timeout = recognizer.configuration.finalTimeout
        enum Step {
            case done(Transcript)
            case failed(ProviderError)
            case wait
        }
        func check(_ state: inout State, timedOut: Bool) -> Step {
            guard let utterance = state.utterance else { return .done(.empty) }
            if let dropped = utterance.dropped {
                state.utterance = nil
                return .failed(dropped)
            }
            let closed = utterance.closedAtSample == state.streamSamples && !utterance.finals.isEmpty
            if utterance.finalized || closed || (timedOut && !utterance.finals.isEmpty) {
                state.utterance = nil
                return .done(Self.transcript(of: utterance))
            }
            if timedOut {
                state.utterance = nil
                return .failed(.timedOut(provider: "deepgram", stage: "final result", after: timeout))
            }
            return .wait
        }
        let first: Step = state.withLock { state in
            guard let utterance = state.utterance else { return .done(.empty) }
            if utterance.samples == 0 && utterance.dropped == nil {
                state.utterance = nil
                return .done(.empty)
            }
            let step = check(&state, timedOut: false)
            if case .wait = step {
                state.connection?.send(.text(#"{"type":"Finalize"}"#))
                state.lastSent = .now
                state.signalled = false
            }
            return step
        }
        var step = first
        var timer: Task<Void, Never>?
        defer { timer?.cancel() }
        while true {
            switch step {
            case .done(let transcript):
                metrics.recordFirstByte(ContinuousClock.now - began)
                return transcript
            case .failed(let error):
                metrics.recordError(error)
                throw error
            case .wait:
                if timer == nil {
                    timer = Task { [weak self] in
                        try? await Task.sleep(for: timeout)
                        if !Task.isCancelled { self?.wake() }
                    }
                }
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLock { state in
                        if state.signalled {
                            state.signalled = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
                let timedOut = ContinuousClock.now - began >= timeout
                step = state.withLock { check(&$0, timedOut: timedOut) }
            }
        }
    }

    func cancelUtterance() {
        state.withLock { state in
            guard let utterance = state.utterance else { return }
            state.utterance = nil
            // Flush Deepgram's buffer so that the abandoned audio's results end where it ended: they are then
            // told apart from the next utterance's by their stream times.
            if utterance.samples > 0, !utterance.finalized, utterance.dropped == nil {
                state.connection?.send(.text(#"{"type":"Finalize"}"#))
                state.lastSent = .now
            }
        }
    }

    func close() async {
        keepAlive.withLock { $0 }?.cancel()
        let connection: DeepgramConnection? = state.withLock { state in
            guard !state.closed else { return nil }
            state.closed = true
            state.utterance = nil
            defer { state.connection = nil }
            return state.connection
        }
        wake()
        guard let connection else { return }
        connection.send(.text(#"{"type":"CloseStream"}"#))
        connection.finishSending()
        await connection.closeAfter(.seconds(2))
    }

    private func wake() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            defer { state.waiter = nil }
            if state.waiter == nil { state.signalled = true }
            return state.waiter
        }
        waiter?.resume()
    }

    private func ended(_ id: Int, reason: ProviderError) {
        let current = state.withLock { state -> Bool in
            guard state.connection?.id == id else { return false }
            state.connection = nil
            if state.utterance?.connectionID == id { state.utterance?.dropped = reason }
            return true
        }
        if current {
            logger.info("Deepgram connection ended", metadata: ["reason": "\(reason)"])
            wake()
        }
    }

    private func received(_ message: WebSocketMessage, on id: Int) {
        guard case .text(let text) = message else {
            malformed("a binary frame")
            return
        }
        let message: DeepgramMessage
        do { message = try DeepgramMessage.parse(text) } catch {
            malformed(error)
            return
        }
        switch message {
        case .results(let result, let isFinal, let speechFinal, let fromFinalize):
            let changed = state.withLock { state -> Bool in
                guard var utterance = state.utterance, utterance.connectionID == id, utterance.dropped == nil else { return false }
                let utteranceStart = Double(utterance.startSample) / 8000
                // Results that end where this utterance began belong to audio before it (a cancelled or
                // already answered utterance).
                guard result.start + result.duration > utteranceStart + 0.002 else { return false }
                if isFinal {
                    let duplicate = utterance.finals.contains {
                        abs($0.start - result.start) < 0.0005 && abs($0.duration - result.duration) < 0.0005
                    }
                    if !duplicate, !result.text.isEmpty { utterance.finals.append(result) }
                    utterance.partial = nil
                    if speechFinal { utterance.closedAtSample = state.streamSamples }
                    if fromFinalize { utterance.finalized = true }
                } else {
                    var partial = Self.transcript(of: utterance)
                    partial.text = [partial.text, result.text].filter { !$0.isEmpty }.joined(separator: " ")
                    partial.words += result.words.map {
                        RecognizedWord(
                            text: $0.text, start: max(0, $0.start - utteranceStart), end: max(0, $0.end - utteranceStart),
                            confidence: $0.confidence)
                    }
                    partial.confidence = result.confidence
                    partial.isFinal = false
                    utterance.partial = partial
                }
                state.utterance = utterance
                return isFinal
            }
            if changed { wake() }
        case .utteranceEnd:
            let changed = state.withLock { state -> Bool in
                guard state.utterance?.connectionID == id, state.utterance?.finals.isEmpty == false else { return false }
                state.utterance?.closedAtSample = state.streamSamples
                return true
            }
            if changed { wake() }
        case .other("Metadata"), .other("SpeechStarted"):
            break
        case .other(let type):
            logger.debug("Deepgram message ignored", metadata: ["type": "\(type)"])
        }
    }

    private func malformed(_ detail: String) {
        malformed(ProviderError.malformed(provider: "deepgram", detail: detail))
    }

    private func malformed(_ error: ProviderError) {
        metrics.recordError(error)
        logger.warning("Deepgram sent a malformed message; ignored", metadata: ["error": "\(error)"])
    }

    /// The utterance's finals joined, word times made relative to its first sample.
    static func transcript(of utterance: Utterance) -> Transcript {
        let origin = Double(utterance.startSample) / 8000
        let words = utterance.finals.flatMap(\.words).map {
            RecognizedWord(text: $0.text, start: max(0, $0.start - origin), end: max(0, $0.end - origin), confidence: $0.confidence)
        }
        let confidences = utterance.finals.compactMap(\.confidence)
        return Transcript(
            text: utterance.finals.map(\.text).joined(separator: " "), words: words,
            confidence: confidences.isEmpty ? nil : confidences.reduce(0, +) / Double(confidences.count), isFinal: true)
    }
}
