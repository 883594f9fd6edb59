//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Logging
import Metrics
import Synchronization
import VoiceDSP

/// A synthesiser that speaks with `primary` and, when it fails, goes on with `fallback` from the first
/// character the caller has not heard yet: a hosted voice that refuses, drops or stalls mid-reply is
/// replaced by a local one (espeak-ng) instead of leaving the caller in silence.
///
/// The switch happens when the primary's stream cannot be opened, when a ``SynthesisStream/send(_:)``
/// fails, or when its audio throws (its own timeouts included). The fallback is given the text from the end
/// of the last chunk the primary voiced, so nothing is said twice or skipped. Each switch is counted in
/// `voicepipe_synthesis_fallbacks_total` and logged.
public struct FallbackSynthesizer: SpeechSynthesizer {
    /// The voice used while it works.
    public let primary: any SpeechSynthesizer
    /// The voice that takes over.
    public let fallback: any SpeechSynthesizer
    private let logger: Logger

    /// Both must produce the same sample rate (make the local voice at the hosted one's rate).
    public var sampleRate: Int { primary.sampleRate }

    /// Creates the chain.
    ///
    /// - Throws: ``FallbackError/sampleRatesDiffer(primary:fallback:)`` when the two rates differ.
    public init(primary: any SpeechSynthesizer, fallback: any SpeechSynthesizer, logger: Logger = Logger(label: "voicepipe.fallback"))
        throws(FallbackError)
    {
        guard primary.sampleRate == fallback.sampleRate else {
            throw .sampleRatesDiffer(primary: primary.sampleRate, fallback: fallback.sampleRate)
        }
        self.primary = primary
        self.fallback = fallback
        self.logger = logger
    }

    public func makeStream() async throws -> any SynthesisStream {
        do {
            return FallbackSynthesisStream(primary: try await primary.makeStream(), fallback: fallback, logger: logger)
        } catch {
            if Task.isCancelled { throw CancellationError() }
            logger.warning("synthesiser failed to open a stream, using the fallback: \(error)")
            Counter(label: "voicepipe_synthesis_fallbacks_total").increment()
            return try await fallback.makeStream()
        }
    }
}

/// Why a fallback chain cannot be built.
public enum FallbackError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The primary and the fallback produce different sample rates.
    case sampleRatesDiffer(primary: Int, fallback: Int)

    public var description: String {
        switch self {
        case .sampleRatesDiffer(let primary, let fallback):
            "the fallback synthesiser runs at \(fallback) Hz, the primary at \(primary) Hz: make them the same"
        }
    }
}

/// One reply of a ``FallbackSynthesizer``.
final class FallbackSynthesisStream: SynthesisStream, Sendable {
    private struct State {
        /// Everything sent, in Unicode scalars.
        var text: [Unicode.Scalar] = []
        var finished = false
        var cancelled = false
        /// The stream in use; `nil` while the fallback is being opened.
        var active: (any SynthesisStream)?
        /// Where the fallback's text starts in `text` (its ranges are offset by this).
        var offset = 0
        /// How much of `text` the active stream has been given.
        var handedOver = 0
        var usingFallback = false
    }

    /// The state, in a class of its own so that the pump task can hold it before `self` exists.
    private final class Shared: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
    }

    private let shared: Shared
    private let fallback: any SpeechSynthesizer
    private let logger: Logger
    let audio: AsyncThrowingStream<SynthesizedAudio, any Error>
    private let pump: Task<Void, Never>

    init(primary: any SynthesisStream, fallback: any SpeechSynthesizer, logger: Logger) {
        let shared = Shared(State(active: primary))
        self.shared = shared
        self.fallback = fallback
        self.logger = logger
        let (audio, continuation) = AsyncThrowingStream.makeStream(of: SynthesizedAudio.self)
        self.audio = audio
        pump = Task {
            var covered = 0
            do {
                for try await chunk in primary.audio {
                    if let range = chunk.text { covered = max(covered, range.upperBound) }
                    continuation.yield(chunk)
                }
                if shared.state.withLock({ $0.cancelled || $0.finished }) {
                    continuation.finish()
                    return
                }
                throw FallbackSynthesisStream.EndedEarly()
            } catch {
                if Task.isCancelled || shared.state.withLock({ $0.cancelled }) {
                    continuation.finish()
                    return
                }
                logger.warning("synthesiser failed mid-reply, the fallback goes on from character \(covered): \(error)")
                Counter(label: "voicepipe_synthesis_fallbacks_total").increment()
            }
            do {
                let stream = try await Self.openFallback(fallback, shared: shared, from: covered)
                for try await var chunk in stream.audio {
                    if let range = chunk.text { chunk.text = (range.lowerBound + covered)..<(range.upperBound + covered) }
                    continuation.yield(chunk)
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { [pump] _ in pump.cancel() }
    }

    /// The primary's audio ended without `finish()` having been called.
    struct EndedEarly: Error {}

    /// Opens the fallback and hands it everything from `covered` on, including what is sent meanwhile.
    private static func openFallback(
        _ fallback: any SpeechSynthesizer, shared: Shared, from covered: Int
    ) async throws -> any SynthesisStream {
        let state = shared
        state.state.withLock {
            $0.active = nil
            $0.usingFallback = true
            $0.offset = covered
            $0.handedOver = min(covered, $0.text.count)
        }
        let stream = try await fallback.makeStream()
        while true {
            let (piece, finish): (String?, Bool) = state.state.withLock { state in
                if state.handedOver < state.text.count {
                    var piece = String.UnicodeScalarView()
                    piece.append(contentsOf: state.text[state.handedOver...])
                    state.handedOver = state.text.count
                    return (String(piece), false)
                }
                // Caught up: from now on send() and finish() go straight to the fallback.
                state.active = stream
                return (nil, state.finished)
            }
            if let piece {
                try await stream.send(piece)
                continue
            }
            if finish { try await stream.finish() }
            if state.state.withLock({ $0.cancelled }) { stream.cancel() }
            return stream
        }
    }

    func send(_ text: String) async throws {
        let target: (any SynthesisStream)? = shared.state.withLock { state in
            state.text.append(contentsOf: text.unicodeScalars)
            guard let active = state.active else { return nil }  // the fallback is opening: it will take it
            state.handedOver = state.text.count
            return active
        }
        guard let target else { return }
        do {
            try await target.send(text)
        } catch {
            // A primary that refuses text fails its audio too: the pump switches and resends from there.
            if shared.state.withLock({ $0.usingFallback }) { throw error }
            target.cancel()
        }
    }

    func finish() async throws {
        let target: (any SynthesisStream)? = shared.state.withLock { state in
            state.finished = true
            return state.active
        }
        do { try await target?.finish() } catch {
            if shared.state.withLock({ $0.usingFallback }) { throw error }
            target?.cancel()
        }
    }

    func cancel() {
        let target = shared.state.withLock { state -> (any SynthesisStream)? in
            state.cancelled = true
            return state.active
        }
        target?.cancel()
        pump.cancel()
    }
}

/// A recogniser that hears with `primary` and, when it fails, transcribes the utterance with `fallback`
/// instead: a hosted recogniser that refuses the key, drops its socket or times out costs the caller nothing
/// but the fallback's accuracy.
///
/// The session keeps a copy of the current utterance's audio (up to ``maximumUtterance``). If the
/// primary's session cannot be opened, or fails while it is fed or asked for the final, the fallback's
/// session (opened on first need, then kept for the call) is fed that copy, resampled to its rate, and
/// gives the utterance's text. The next utterance tries the primary again. Each switch is counted in
/// `voicepipe_recognition_fallbacks_total` and logged.
public struct FallbackRecognizer: SpeechRecognizer {
    /// The recogniser used while it works.
    public let primary: any SpeechRecognizer
    /// The recogniser that takes over.
    public let fallback: any SpeechRecognizer
    /// The longest utterance kept for the fallback (longer ones keep their first part).
    public var maximumUtterance: Duration
    private let logger: Logger

    public var sampleRate: Int { primary.sampleRate }

    /// Creates the chain.
    public init(
        primary: any SpeechRecognizer, fallback: any SpeechRecognizer, maximumUtterance: Duration = .seconds(60),
        logger: Logger = Logger(label: "voicepipe.fallback")
    ) {
        self.primary = primary
        self.fallback = fallback
        self.maximumUtterance = maximumUtterance
        self.logger = logger
    }

    public func makeSession() async throws -> any RecognitionSession {
        var primarySession: (any RecognitionSession)?
        do { primarySession = try await primary.makeSession() } catch {
            if Task.isCancelled { throw CancellationError() }
            logger.warning("recogniser failed to open a session, the fallback will transcribe: \(error)")
        }
        let samples = Int(maximumUtterance.components.seconds) * primary.sampleRate
        return FallbackRecognitionSession(
            primary: primarySession, recognizer: primary, fallback: fallback, rate: primary.sampleRate, capacity: samples, logger: logger)
    }
}

/// One call of a ``FallbackRecognizer``.
final class FallbackRecognitionSession: RecognitionSession, Sendable {
    private struct State {
        var primary: (any RecognitionSession)?
        var fallback: (any RecognitionSession)?
        var audio: [Float] = []
        var primaryFailed = false
    }

    private let state: Mutex<State>
    private let recognizer: any SpeechRecognizer
    private let fallbackRecognizer: any SpeechRecognizer
    private let rate: Int
    private let capacity: Int
    private let logger: Logger

    init(
        primary: (any RecognitionSession)?, recognizer: any SpeechRecognizer, fallback: any SpeechRecognizer, rate: Int, capacity: Int,
        logger: Logger
    ) {
        var initial = State(primary: primary)
        initial.primaryFailed = primary == nil
        initial.audio.reserveCapacity(min(capacity, 10 * rate))
        state = Mutex(initial)
        self.recognizer = recognizer
        fallbackRecognizer = fallback
        self.rate = rate
        self.capacity = capacity
        self.logger = logger
    }

    func accept(_ samples: UnsafeBufferPointer<Float>) throws {
        let primary = state.withLock { state -> (any RecognitionSession)? in
            let room = max(0, capacity - state.audio.count)
            state.audio.append(contentsOf: samples.prefix(room))
            return state.primaryFailed ? nil : state.primary
        }
        guard let primary else { return }
        do { try primary.accept(samples) } catch {
            logger.warning("recogniser failed while hearing, the fallback will transcribe this utterance: \(error)")
            state.withLock { $0.primaryFailed = true }
        }
    }

    func partialResult() -> Transcript? {
        state.withLock { $0.primaryFailed ? nil : $0.primary }?.partialResult()
    }

    func finishUtterance() async throws -> Transcript {
        let primary = state.withLock { $0.primaryFailed ? nil : $0.primary }
        if let primary {
            do {
                let transcript = try await primary.finishUtterance()
                state.withLock { $0.audio.removeAll(keepingCapacity: true) }
                return transcript
            } catch {
                if Task.isCancelled { throw CancellationError() }
                logger.warning("recogniser failed on the final, the fallback transcribes the utterance: \(error)")
            }
        }
        Counter(label: "voicepipe_recognition_fallbacks_total").increment()
        let (audio, broken) = state.withLock { state -> ([Float], (any RecognitionSession)?) in
            let audio = state.audio
            state.audio.removeAll(keepingCapacity: true)
            let broken = state.primary
            state.primary = nil
            state.primaryFailed = true  // until a fresh session is open
            return (audio, broken)
        }
        // The next utterance starts on a fresh primary session, opened while this one is transcribed.
        Task {
            await broken?.close()
            let fresh = try? await self.recognizer.makeSession()
            self.state.withLock { state in
                state.primary = fresh
                state.primaryFailed = fresh == nil
            }
        }
        let session: any RecognitionSession
        if let existing = state.withLock({ $0.fallback }) {
            session = existing
        } else {
            session = try await fallbackRecognizer.makeSession()
            state.withLock { $0.fallback = session }
        }
        var samples = audio
        if fallbackRecognizer.sampleRate != rate {
            samples = try Resampler(inputRate: rate, outputRate: fallbackRecognizer.sampleRate).resample(audio)
        }
        guard !samples.isEmpty else { return .empty }
        try samples.withUnsafeBufferPointer { try session.accept($0) }
        return try await session.finishUtterance()
    }

    func cancelUtterance() {
        let (primary, fallback) = state.withLock { state -> ((any RecognitionSession)?, (any RecognitionSession)?) in
            state.audio.removeAll(keepingCapacity: true)
            return (state.primary, state.fallback)
        }
        primary?.cancelUtterance()
        fallback?.cancelUtterance()
    }

    func close() async {
        let (primary, fallback) = state.withLock { ($0.primary, $0.fallback) }
        await primary?.close()
        await fallback?.close()
    }
}
