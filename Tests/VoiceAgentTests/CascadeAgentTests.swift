//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Synchronization
import Testing
import VoiceAgent

/// What a reply produced, flattened for comparison.
private enum Step: Equatable {
    case recognized(String)
    case modelFirstText, synthesizerFirstAudio
    case text(String)
    case audio(Int)
    case hangUp
}

private func steps(_ stream: AsyncThrowingStream<AgentOutput, any Error>) async throws -> [Step] {
    var steps: [Step] = []
    for try await output in stream {
        switch output {
        case .progress(.recognized(let text)): steps.append(.recognized(text))
        case .progress(.modelFirstText): steps.append(.modelFirstText)
        case .progress(.synthesizerFirstAudio): steps.append(.synthesizerFirstAudio)
        case .progress(.modelFirstClause): break  // always just before the first clause is sent; not a step of its own
        case .text(let text): steps.append(.text(text))
        case .audio(let samples, _): steps.append(.audio(samples.count))
        case .hangUp: steps.append(.hangUp)
        }
    }
    return steps
}

/// Feeds a turn to the agent's listener as the controller does: pre-roll, 20 ms ticks, end of turn.
private func speak(_ agent: CascadeAgent, turn: Int, milliseconds: Int, sampleRate: Int = 16000) {
    let listener = agent.callerAudioListener!
    let tick = [Float](repeating: 0.01, count: sampleRate / 50)
    let preRoll = [Float](repeating: 0, count: sampleRate * 3 / 10)
    preRoll.withUnsafeBufferPointer { listener.hear($0, sampleRate: sampleRate, turn: turn) }
    for _ in 0..<(milliseconds / 20) { tick.withUnsafeBufferPointer { listener.hear($0, sampleRate: sampleRate, turn: turn) } }
    listener.turnEnded(turn)
}

@Suite("Cascade agent", .timeLimit(.minutes(1)))
struct CascadeAgentTests {
    @Test("the turn is recognised from the streamed audio; words come out one by one, each before its audio")
    func oneTurn() async throws {
        let recognizer = ScriptedRecognizer(["i would like a callback"])
        let model = ScriptedModel([.text("Sure, "), .text("what number "), .text("should we call?")])
        let agent = CascadeAgent(
            recognizer: recognizer, model: model, synthesizer: WordSynthesizer(wordMilliseconds: 100),
            configuration: .init(instructions: "Be brief."))
        await agent.observe(.callStarted(CallContext(callSid: "CA1", streamSid: "MZ1")))
        speak(agent, turn: 1, milliseconds: 1000)
        let result = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(
            result == [
                .recognized("i would like a callback"), .modelFirstText, .synthesizerFirstAudio, .text("Sure,"), .audio(1600),
                .text("what"), .audio(1600), .text("number"), .audio(1600), .text("should"), .audio(1600), .text("we"), .audio(1600),
                .text("call?"), .audio(1600),
            ])
        // Everything the controller streamed (300 ms pre-roll + 1 s of ticks) reached the recogniser.
        #expect(recognizer.fed.withLock { $0 } == [4800 + 16000])
        #expect(
            model.asked.withLock { $0 }
                == [[ChatMessage(.system, "Be brief."), ChatMessage(.user, "i would like a callback")]])
        #expect(agent.exchanges.last?.agent == "Sure, what number should we call?")
        await agent.observe(.callEnded)
    }

    @Test("8 kHz ticks are resampled to the recogniser's 16 kHz")
    func resamplesForTheRecognizer() async throws {
        let recognizer = ScriptedRecognizer(["hello"])
        let agent = CascadeAgent(recognizer: recognizer, model: ScriptedModel([.text("Hi.")]), synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 1000, sampleRate: 8000)
        _ = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 8000)))
        let fed = try #require(recognizer.fed.withLock { $0 }.first)
        #expect(abs(fed - (4800 + 16000)) <= 64, "fed \(fed) samples")
        await agent.observe(.callEnded)
    }

    @Test("synthesis starts on the first clause, long before the model has finished")
    func firstClauseFirst() async throws {
        let model = ScriptedModel(
            [.text("Of course. "), .text("Let me look that up for you, "), .text("it takes a moment.")], pause: .seconds(1))
        let agent = CascadeAgent(recognizer: ScriptedRecognizer(["hours"]), model: model, synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 500)
        var firstAudio: ContinuousClock.Instant?
        for try await output in agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)) {
            if case .audio = output, firstAudio == nil { firstAudio = .now }
        }
        let produced = model.produced.withLock { $0 }
        let last = try #require(produced.last)
        let first = try #require(firstAudio)
        #expect(first < last.at - .milliseconds(1500), "first audio \(last.at - first) before the model's last piece")
        await agent.observe(.callEnded)
    }

    @Test("cancelling mid-synthesis cancels the model and the synthesiser together; nothing comes after")
    func cancelMidSynthesis() async throws {
        let model = ScriptedModel(
            [.text("One two three four. "), .text("Five six seven eight. "), .text("Nine ten.")], pause: .seconds(1))
        let synthesizer = WordSynthesizer(delay: .milliseconds(50))
        let agent = CascadeAgent(recognizer: ScriptedRecognizer(["tell me"]), model: model, synthesizer: synthesizer)
        speak(agent, turn: 1, milliseconds: 500)
        let received = Mutex<[Step]>([])
        let task = Task {
            for try await output in agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)) {
                if case .audio(let samples, _) = output { received.withLock { $0.append(.audio(samples.count)) } }
            }
        }
        while received.withLock({ $0.count }) < 2 { try await Task.sleep(for: .milliseconds(5)) }
        task.cancel()
        _ = await task.result
        let atCancel = received.withLock { $0.count }
        let madeAtCancel = synthesizer.chunksMade.load(ordering: .relaxed)
        try await Task.sleep(for: .milliseconds(1500))  // the model would have produced its second piece by now
        #expect(model.terminated.load(ordering: .relaxed) == 1)
        #expect(synthesizer.cancels.load(ordering: .relaxed) >= 1)
        #expect(received.withLock { $0.count } == atCancel)
        #expect(synthesizer.chunksMade.load(ordering: .relaxed) <= madeAtCancel + 1)  // at most the chunk in flight
        #expect(model.produced.withLock { $0.count } == 1)
        await agent.observe(.callEnded)
    }

    @Test("the history keeps what the caller heard of an interrupted reply, not what the model wrote")
    func historyIsWhatWasHeard() async throws {
        let model = ScriptedModel([.text("one two three four five six seven eight nine ten.")])
        let agent = CascadeAgent(recognizer: ScriptedRecognizer(["first", "second"]), model: model, synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 500)
        _ = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        await agent.observe(.interrupted(number: 1, heard: "one two three", playedMilliseconds: 600))
        speak(agent, turn: 2, milliseconds: 500)
        _ = try await steps(agent.reply(to: CallerTurn(number: 2, audio: [], sampleRate: 16000)))
        let asked = model.asked.withLock { $0 }
        #expect(
            asked.last == [ChatMessage(.user, "first"), ChatMessage(.assistant, "one two three"), ChatMessage(.user, "second")])
        await agent.observe(.callEnded)
    }

    @Test("a turn the caller resumed is recognised whole; an empty turn gets no reply")
    func resumedAndEmptyTurns() async throws {
        let model = ScriptedModel([.text("Okay.")])
        let agent = CascadeAgent(
            recognizer: ScriptedRecognizer(["call me", "back tomorrow", ""]), model: model, synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 400)
        speak(agent, turn: 1, milliseconds: 400)  // the caller went on after the end of turn: the same turn
        let result = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(result.first == .recognized("call me back tomorrow"))
        speak(agent, turn: 2, milliseconds: 200)
        #expect(try await steps(agent.reply(to: CallerTurn(number: 2, audio: [], sampleRate: 16000))) == [.recognized("")])
        #expect(model.asked.withLock { $0.count } == 1)
        await agent.observe(.callEnded)
    }

    @Test("the model's hang-up comes after the reply's audio")
    func hangUp() async throws {
        let agent = CascadeAgent(
            recognizer: ScriptedRecognizer(["goodbye"]), model: ScriptedModel([.text("Goodbye."), .hangUp]), synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 300)
        let result = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(result.suffix(3) == [.text("Goodbye."), .audio(4800), .hangUp])
        await agent.observe(.callEnded)
    }

    @Test("a recogniser failing mid-call: that turn gets a spoken apology, the next turn works on a new session")
    func recognizerFails() async throws {
        let recognizer = ScriptedRecognizer([nil, "second try"])
        let model = ScriptedModel([.text("Got it.")])
        let agent = CascadeAgent(recognizer: recognizer, model: model, synthesizer: WordSynthesizer())
        await agent.observe(.callStarted(CallContext(callSid: "CA2", streamSid: "MZ2")))
        speak(agent, turn: 1, milliseconds: 300)
        let first = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(first.first == .text(agent.configuration.apology))
        #expect(first.count == 2)
        speak(agent, turn: 2, milliseconds: 300)
        let second = try await steps(agent.reply(to: CallerTurn(number: 2, audio: [], sampleRate: 16000)))
        #expect(second.first == .recognized("second try") && second.contains(.text("Got")))
        #expect(recognizer.sessions.load(ordering: .relaxed) == 2)
        await agent.observe(.callEnded)
    }

    @Test("a synthesiser failing mid-reply and then for the apology too: the apology made at call start is played")
    func synthesizerFails() async throws {
        let apology = CascadeAgent.Configuration().apology
        let apologyWords = apology.split(separator: " ").count
        let synthesizer = WordSynthesizer(failAfter: apologyWords + 2)  // the call-start apology, then two words
        let model = ScriptedModel([.text("one two three. four five six.")])
        let agent = CascadeAgent(recognizer: ScriptedRecognizer(["hi"]), model: model, synthesizer: synthesizer)
        await agent.observe(.callStarted(CallContext(callSid: "CA3", streamSid: "MZ3")))
        while synthesizer.chunksMade.load(ordering: .relaxed) < apologyWords { try await Task.sleep(for: .milliseconds(5)) }
        try await Task.sleep(for: .milliseconds(50))
        speak(agent, turn: 1, milliseconds: 300)
        let result = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(result.first == .recognized("hi"))
        #expect(result.contains(.text("two")) && !result.contains(.text("three.")))
        #expect(result.suffix(2) == [.text(apology), .audio(apologyWords * 4800)])
        await agent.observe(.callEnded)
    }

    @Test("a model stream that drops mid-reply ends with an apology after what was already said")
    func modelFails() async throws {
        let model = ScriptedModel([.text("First part. "), .text("Second part.")], failAfter: 1)
        let agent = CascadeAgent(recognizer: ScriptedRecognizer(["go on"]), model: model, synthesizer: WordSynthesizer())
        speak(agent, turn: 1, milliseconds: 300)
        let result = try await steps(agent.reply(to: CallerTurn(number: 1, audio: [], sampleRate: 16000)))
        #expect(result.contains(.text("First")) && !result.contains(.text("Second")))
        #expect(result.contains(.text(agent.configuration.apology)))
        await agent.observe(.callEnded)
    }

    @Test("barge-in on a cascade reply through the controller: the history keeps the words played before the clear")
    func bargeInTruncatesAtTheHeardWord() async throws {
        let words = "one two three four five six seven eight nine ten"
        let model = ScriptedModel([.text(words + ".")])
        let agent = CascadeAgent(
            recognizer: ScriptedRecognizer(["the person at extension", "please try again later"]), model: model,
            synthesizer: WordSynthesizer(wordMilliseconds: 300))
        let call = try Conversation(agent: agent)
        call.say(Speech.silence(300) + Speech.thePerson + Speech.silence(3000))
        try await call.run(until: { call in call.firstPlays.first.map { call.now >= $0 + 700 } ?? false })
        call.caller = Array(call.caller[..<call.callerOffset])
        call.say(Speech.pleaseTry + Speech.silence(2000))
        try await call.run()
        let heard = try #require(call.interrupted.first).heard
        // 700 ms, then the 200 ms barge-in threshold: the third or fourth 300 ms word was playing.
        #expect(["one two three", "one two three four"].contains(heard), "heard \"\(heard)\"")
        let asked = model.asked.withLock { $0 }
        #expect(asked.count == 2)
        #expect(
            asked.last
                == [
                    ChatMessage(.user, "the person at extension"), ChatMessage(.assistant, heard),
                    ChatMessage(.user, "please try again later"),
                ])
        #expect(call.controller.turns[0].callerText == "the person at extension")
        #expect(call.controller.turns[0].heardText == heard)
        await agent.observe(.callEnded)
    }

    @Test("the clause chunker cuts at sentence and long-clause ends and loses nothing")
    func chunker() {
        var chunker = ClauseChunker(minimumClause: 12)
        var pieces: [String] = []
        for piece in ["Yes, ", "it costs 3.5 dollars", ", which is fine. Anything", " else? Bye", ".\nNew line"] {
            pieces += chunker.push(piece)
        }
        if let rest = chunker.flush() { pieces.append(rest) }
        #expect(pieces == ["Yes, it costs 3.5 dollars, ", "which is fine. ", "Anything else? ", "Bye.\n", "New line"])
    }
}
