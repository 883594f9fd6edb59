//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Logging
import Synchronization
import VoiceDSP

/// An agent made of a speech recogniser, a language model and a speech synthesiser: the cascade.
///
/// Make one per call (a server's `makeAgent`). What it does:
/// - **Hears during the turn.** Its ``callerAudioListener`` (a ``CallerAudioRing``) receives the caller's
///   audio tick by tick while they speak; a recognition task feeds it to the call's ``RecognitionSession``,
///   so when the turn ends only the recogniser's last step is left (a few tens of ms for a local engine).
/// - **Speaks from the first clause.** The model's text is cut at clause and sentence ends
///   (``ClauseChunker``) and each clause goes to the ``SynthesisStream`` at once; audio is yielded as it
///   comes, each chunk preceded by the text it voices.
/// - **Stops on barge-in.** Cancelling the reply (the ``AgentRunner`` does it when the caller interrupts)
///   cancels the model's stream and the synthesis stream together.
/// - **Remembers what was heard.** The history the model sees holds the caller's recognised words and, for
///   each reply, only the words the caller heard (``AgentEvent/interrupted(number:heard:playedMilliseconds:)`` truncates it).
/// - **Times each step.** It yields ``ReplyProgress`` for the turn's ``TurnRecord``: the recogniser's final,
///   the model's first text, the synthesiser's first audio.
/// - **Survives its parts failing.** If the recogniser, the model or the synthesiser fails, the reply ends
///   with a spoken apology (synthesised afresh, or the copy made when the call started if the synthesiser
///   itself is failing) and the call goes on; a failed recognition session is replaced on the next turn.
public final class CascadeAgent: Agent {
    /// Settings.
    public struct Configuration: Sendable {
        /// Instructions for the model, sent as the first (system) message.
        public var instructions: String?
        /// Said when the call starts (`nil`: wait for the caller).
        public var greeting: String?
        /// Said when a part fails.
        public var apology: String
        /// The shortest clause a comma may end (``ClauseChunker/minimumClause``).
        public var minimumClause: Int
        /// Turns in which nothing was recognised (a cough, a noise) get no reply (default true).
        public var ignoresEmptyTurns: Bool
        /// The most caller/agent exchanges kept for the model (older ones are dropped; default 20).
        public var maximumExchanges: Int
        /// Where the recognition task runs (default: ``RecognitionWorkers/shared``, threads of their own;
        /// `nil`: Swift's cooperative pool, fine for a recogniser that only sends audio over the network).
        public var recognitionWorkers: RecognitionWorkers?
        /// What the agent remembers of the caller from earlier calls and texts (`nil`: nothing). Recalled
        /// once, when the call starts, and given to the model after the instructions.
        public var memory: (any ConversationMemory)?

        /// Creates settings.
        public init(
            instructions: String? = nil, greeting: String? = nil,
            apology: String = "Sorry, I'm having trouble on my side. Could you say that again?", minimumClause: Int = 24,
            ignoresEmptyTurns: Bool = true, maximumExchanges: Int = 20, recognitionWorkers: RecognitionWorkers? = .shared
        ) {
            self.recognitionWorkers = recognitionWorkers
            self.instructions = instructions
            self.greeting = greeting
            self.apology = apology
            self.minimumClause = minimumClause
            self.ignoresEmptyTurns = ignoresEmptyTurns
            self.maximumExchanges = maximumExchanges
            memory = nil
        }
    }

    /// A caller turn and the agent's answer, as the conversation's memory.
    public struct Exchange: Sendable, Hashable {
        /// The turn (0: the greeting).
        public var turn: Int
        /// What the caller said, as recognised.
        public var caller: String
        /// What the agent said that the caller heard (`nil`: nothing yet).
        public var agent: String?
    }

    private struct State {
        var recalled: [ChatMessage] = []
        var exchanges: [Exchange] = []
        var finals: [Int: Int] = [:]  // turn → end-of-turn frames handled
        var transcripts: [Int: String] = [:]
        var failures: [Int: any Error] = [:]
        var waiters: [(turn: Int, needed: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var recognition: Task<Void, Never>?
        var apologyAudio: [Float]?
        var ended = false
    }

    /// The recogniser.
    public let recognizer: any SpeechRecognizer
    /// The language model.
    public let model: any LanguageModel
    /// The synthesiser.
    public let synthesizer: any SpeechSynthesizer
    /// The settings.
    public let configuration: Configuration
    private let ring = CallerAudioRing()
    private let state = Mutex(State())
    private let logger: Logger

    /// Creates a cascade for one call.
    public init(
        recognizer: any SpeechRecognizer, model: any LanguageModel, synthesizer: any SpeechSynthesizer,
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "voicepipe.cascade")
    ) {
        self.recognizer = recognizer
        self.model = model
        self.synthesizer = synthesizer
        self.configuration = configuration
        self.logger = logger
    }

    /// The ring the controller writes the caller's audio into.
    public var callerAudioListener: (any CallerAudioListener)? { ring }

    /// The conversation so far: each turn's recognised words and the words of the reply the caller heard.
    public var exchanges: [Exchange] { state.withLock { $0.exchanges } }

    /// The messages the model is given: the instructions, what ``Configuration/memory`` recalled of earlier
    /// conversations, then this call's exchanges.
    public var messages: [ChatMessage] {
        var messages = configuration.instructions.map { [ChatMessage(.system, $0)] } ?? []
        messages += state.withLock { $0.recalled }
        for exchange in exchanges {
            if !exchange.caller.isEmpty { messages.append(ChatMessage(.user, exchange.caller)) }
            if let agent = exchange.agent, !agent.isEmpty { messages.append(ChatMessage(.assistant, agent)) }
        }
        return messages
    }

    // MARK: - Agent

    public func observe(_ event: AgentEvent) async {
        switch event {
        case .callStarted(let context):
            startRecognition()
            if let memory = configuration.memory, let contact = context.contactAddress {
                do {
                    let recalled = try await memory.recall(contact: contact, excluding: context.callSid)
                    state.withLock { $0.recalled = recalled }
                } catch {
                    logger.warning("memory: cannot recall the caller's history: \(error)")
                }
            }
            let apology = configuration.apology
            Task { [synthesizer] in  // a spoken apology that works even when the synthesiser no longer does
                guard let audio = try? await Self.synthesize(apology, with: synthesizer) else { return }
                self.state.withLock { $0.apologyAudio = audio }
            }
        case .turnStarted:
            startRecognition()
        case .interrupted(let number, let heard, _):
            state.withLock { state in
                if let index = state.exchanges.firstIndex(where: { $0.turn == number }) { state.exchanges[index].agent = heard }
            }
        case .callEnded:
            let (task, waiters) = state.withLock { state in
                state.ended = true
                defer { state.waiters.removeAll() }
                return (state.recognition, state.waiters)
            }
            for waiter in waiters { waiter.continuation.resume() }
            ring.close()
            await task?.value
        case .turnEnded, .dtmf:
            break
        }
    }

    public func greeting(for context: CallContext) -> AsyncThrowingStream<AgentOutput, any Error>? {
        guard let greeting = configuration.greeting else { return nil }
        return .reply { yield in
            self.state.withLock { $0.exchanges.append(Exchange(turn: 0, caller: "", agent: nil)) }
            let (text, continuation) = AsyncThrowingStream.makeStream(of: ModelOutput.self)
            continuation.yield(.text(greeting))
            continuation.finish()
            try await self.answer(turn: 0, text, yield)
        }
    }

    public func reply(to turn: CallerTurn) -> AsyncThrowingStream<AgentOutput, any Error> {
        startRecognition()
        let needed = max(1, ring.endsWritten(turn: turn.number))
        return .reply { yield in
            let heard: String
            do {
                heard = try await self.transcript(turn: turn.number, needed: needed)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                self.logger.error("recognition failed on turn \(turn.number): \(error)")
                try await self.apologize(yield)
                return
            }
            yield(.progress(.recognized(heard)))
            if heard.isEmpty, self.configuration.ignoresEmptyTurns { return }
            self.state.withLock { state in
                if let index = state.exchanges.firstIndex(where: { $0.turn == turn.number }) {
                    state.exchanges[index] = Exchange(turn: turn.number, caller: heard, agent: nil)
                } else {
                    state.exchanges.append(Exchange(turn: turn.number, caller: heard, agent: nil))
                }
                let excess = state.exchanges.count - self.configuration.maximumExchanges
                if excess > 0 { state.exchanges.removeFirst(excess) }
            }
            try await self.answer(turn: turn.number, self.model.respond(to: self.messages), yield)
        }
    }

    // MARK: - Hearing

    private func startRecognition() {
        state.withLock { state in
            guard state.recognition == nil, !state.ended else { return }
            state.recognition = Task(executorPreference: configuration.recognitionWorkers?.nextExecutor()) { await self.recognize() }
        }
    }

    /// The recognition task: opens the call's session at once (a local decoder takes a while to start, better
    /// spent while the greeting plays), then drains the ring into it, utterance by utterance.
    private func recognize() async {
        var session: (any RecognitionSession)? = try? await recognizer.makeSession()
        var resampler: Resampler?
        var scratch = [Float](repeating: 0, count: 4 * CallerAudioRing.Frame.capacity)
        var currentTurn = -1
        var open = false
        var failure: (any Error)?
        for await _ in ring.signals {
            while let frame = ring.read() {
                let turn = Int(frame.turn)
                if turn != currentTurn {
                    if open { session?.cancelUtterance() }
                    currentTurn = turn
                    open = false
                    failure = nil
                }
                if frame.isEndOfTurn {
                    var text = ""
                    if failure == nil, open, let current = session {
                        do {
                            text = try await current.finishUtterance().text
                        } catch {
                            failure = error
                            session = nil
                        }
                    }
                    open = false
                    finished(turn: turn, text: text, failure: failure)
                    failure = nil
                    continue
                }
                guard failure == nil else { continue }
                do {
                    if session == nil { session = try await recognizer.makeSession() }
                    guard let current = session else { continue }
                    let rate = Int(frame.sampleRate)
                    if rate == recognizer.sampleRate {
                        try frame.withSamples { try current.accept($0) }
                    } else {
                        if resampler?.inputRate != rate { resampler = try Resampler(inputRate: rate, outputRate: recognizer.sampleRate) }
                        guard let converter = resampler else { continue }
                        let needed = converter.maximumOutputCount(forInputCount: CallerAudioRing.Frame.capacity)
                        if scratch.count < needed { scratch = [Float](repeating: 0, count: needed) }
                        let produced = frame.withSamples { input in
                            scratch.withUnsafeMutableBufferPointer { converter.process(input, into: $0) }
                        }
                        try scratch.withUnsafeBufferPointer { try current.accept(UnsafeBufferPointer(rebasing: $0.prefix(produced))) }
                    }
                    open = true
                } catch {
                    logger.error("recognition failed on turn \(turn): \(error)")
                    failure = error
                    session?.cancelUtterance()
                    session = nil  // a new session for the next turn
                }
            }
        }
        await session?.close()
    }

    private func finished(turn: Int, text: String, failure: (any Error)?) {
        let ready = state.withLock { state in
            state.finals[turn, default: 0] += 1
            if let failure {
                state.failures[turn] = failure
            } else if !text.isEmpty {
                let before = state.transcripts[turn, default: ""]
                state.transcripts[turn] = before.isEmpty ? text : before + " " + text
            }
            let count = state.finals[turn, default: 0]
            let ready = state.waiters.filter { $0.turn == turn && $0.needed <= count }
            state.waiters.removeAll { $0.turn == turn && $0.needed <= count }
            return ready
        }
        for waiter in ready { waiter.continuation.resume() }
    }

    /// The turn's text once `needed` end-of-turn frames have been recognised.
    private func transcript(turn: Int, needed: Int) async throws -> String {
        while true {
            try Task.checkCancellation()
            let done = state.withLock { state -> Bool in
                state.ended || state.finals[turn, default: 0] >= needed
            }
            if done { break }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.ended || state.finals[turn, default: 0] >= needed { return true }
                    state.waiters.append((turn, needed, continuation))
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
        return try state.withLock { state in
            if let failure = state.failures.removeValue(forKey: turn) { throw failure }
            return state.transcripts[turn, default: ""]
        }
    }

    // MARK: - Speaking

    /// Streams `text` through the synthesiser, clause by clause, yielding each chunk's words then its audio.
    private func answer(
        turn: Int, _ text: AsyncThrowingStream<ModelOutput, any Error>, _ yield: @escaping @Sendable (AgentOutput) -> Void
    ) async throws {
        let synthesis: any SynthesisStream
        do {
            synthesis = try await synthesizer.makeStream()
        } catch {
            logger.error("synthesiser failed on turn \(turn): \(error)")
            try await apologize(yield)
            return
        }
        let sent = SentText()
        let minimumClause = configuration.minimumClause
        let rate = synthesizer.sampleRate
        do {
            let actions = try await withTaskCancellationHandler {
                try await withThrowingTaskGroup(of: ReplyActions.self) { group in
                    group.addTask {
                        do {
                            return try await Self.feed(text, into: synthesis, sent: sent, minimumClause: minimumClause, yield)
                        } catch {
                            synthesis.cancel()  // ends the audio loop below; the error comes out of group.next()
                            throw error
                        }
                    }
                    var covered = 0
                    var first = true
                    var spoken = ""
                    for try await chunk in synthesis.audio {
                        if first {
                            first = false
                            yield(.progress(.synthesizerFirstAudio))
                        }
                        if let range = chunk.text, range.upperBound > covered {
                            let (words, end) = sent.scalars.withLock { scalars -> (String, Int) in
                                // Punctuation right after the chunk's last word goes with it ("course," not
                                // "course" then ","), so the transcript reads as written.
                                var end = min(range.upperBound, scalars.count)
                                while end < scalars.count, !scalars[end].properties.isWhitespace,
                                    !scalars[end].properties.isAlphabetic, !("0"..."9").contains(scalars[end])
                                {
                                    end += 1
                                }
                                var string = String.UnicodeScalarView()
                                string.append(contentsOf: scalars[covered..<end])
                                return (String(string), end)
                            }
                            covered = end
                            let trimmed = words.trimmingWhitespace
                            if !trimmed.isEmpty {
                                yield(.text(trimmed))
                                spoken += spoken.isEmpty ? trimmed : " " + trimmed
                            }
                        }
                        if !chunk.samples.isEmpty { yield(.audio(chunk.samples, sampleRate: rate)) }
                    }
                    let actions = try await group.next() ?? ReplyActions()
                    self.state.withLock { state in
                        if let index = state.exchanges.firstIndex(where: { $0.turn == turn }) { state.exchanges[index].agent = spoken }
                    }
                    return actions
                }
            } onCancel: {
                synthesis.cancel()
            }
            if !actions.digits.isEmpty { yield(.audio(KeypadTones.render(actions.digits, sampleRate: rate), sampleRate: rate)) }
            if actions.hangUp { yield(.hangUp) }
        } catch {
            synthesis.cancel()
            if Task.isCancelled || error is CancellationError { throw CancellationError() }
            logger.error("reply to turn \(turn) failed: \(error)")
            try await apologize(yield)
        }
    }

    /// What a reply does besides speaking.
    private struct ReplyActions: Sendable {
        var hangUp = false
        var digits = ""
    }

    /// Sends the model's text to the synthesiser clause by clause; returns what else the model asked for.
    private static func feed(
        _ text: AsyncThrowingStream<ModelOutput, any Error>, into synthesis: any SynthesisStream, sent: SentText,
        minimumClause: Int, _ yield: @escaping @Sendable (AgentOutput) -> Void
    ) async throws -> ReplyActions {
        var chunker = ClauseChunker(minimumClause: minimumClause)
        var first = true
        var firstClause = true
        var actions = ReplyActions()
        func send(_ clause: String) async throws {
            if firstClause {
                firstClause = false
                yield(.progress(.modelFirstClause))
            }
            sent.scalars.withLock { $0.append(contentsOf: clause.unicodeScalars) }
            try await synthesis.send(clause)
        }
        for try await output in text {
            switch output {
            case .text(let piece):
                if first, !piece.isEmpty {
                    first = false
                    yield(.progress(.modelFirstText))
                }
                for clause in chunker.push(piece) { try await send(clause) }
            case .hangUp:
                actions.hangUp = true
            case .sendDigits(let digits):
                actions.digits += digits
            }
        }
        if let rest = chunker.flush() { try await send(rest) }
        try await synthesis.finish()
        return actions
    }

    /// Says the apology: synthesised afresh, or the copy made at the start of the call.
    private func apologize(_ yield: @escaping @Sendable (AgentOutput) -> Void) async throws {
        try Task.checkCancellation()
        let audio: [Float]?
        if let fresh = try? await Self.synthesize(configuration.apology, with: synthesizer) {
            audio = fresh
        } else {
            audio = state.withLock { $0.apologyAudio }
        }
        try Task.checkCancellation()
        guard let audio, !audio.isEmpty else {
            logger.error("no apology to play: the synthesiser is failing and none was made at the start of the call")
            return
        }
        yield(.text(configuration.apology))
        yield(.audio(audio, sampleRate: synthesizer.sampleRate))
    }

    /// The whole audio of `text`.
    static func synthesize(_ text: String, with synthesizer: any SpeechSynthesizer) async throws -> [Float] {
        let stream = try await synthesizer.makeStream()
        try await stream.send(text)
        try await stream.finish()
        var audio: [Float] = []
        for try await chunk in stream.audio { audio += chunk.samples }
        return audio
    }

}

/// Everything sent to a synthesis stream, shared by the task that sends and the one that reads audio.
private final class SentText: Sendable {
    let scalars = Mutex<[Unicode.Scalar]>([])
}

extension String {
    fileprivate var trimmingWhitespace: String {
        guard let first = firstIndex(where: { !$0.isWhitespace }), let last = lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return String(self[first...last])
    }
}
