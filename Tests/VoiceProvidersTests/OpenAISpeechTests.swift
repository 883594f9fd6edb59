//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceAgent
import VoiceProviders
import VoiceProvidersTesting

/// The chunks a stream produced and how it ended.
struct SpeechRun {
    var chunks: [SynthesizedAudio] = []
    var error: (any Error)?

    var samples: [Float] { chunks.flatMap(\.samples) }

    /// Reads `stream.audio` to its end (or `limit` chunks).
    static func collect(_ stream: any SynthesisStream, limit: Int = .max) async -> SpeechRun {
        var run = SpeechRun()
        do {
            for try await chunk in stream.audio {
                run.chunks.append(chunk)
                if run.chunks.count >= limit { break }
            }
        } catch {
            run.error = error
        }
        return run
    }

    /// Checks that the ranges tile `0..<total` in order, never run ahead of `allowed(samplesSoFar)` and end at
    /// `total`.
    func checkText(total: Int, allowed: (Int) -> Int, sourceLocation: SourceLocation = #_sourceLocation) {
        var covered = 0
        var heard = 0
        for chunk in chunks {
            heard += chunk.samples.count
            guard let range = chunk.text else { continue }
            #expect(range.lowerBound == covered, "ranges must tile the text", sourceLocation: sourceLocation)
            #expect(range.upperBound <= allowed(heard), "text \(range) ran ahead of \(heard) samples", sourceLocation: sourceLocation)
            covered = range.upperBound
        }
        #expect(covered == total, "the ranges end at \(covered), not \(total)", sourceLocation: sourceLocation)
    }
}

/// The furthest text offset voiced by `heard` samples of `pieces` rendered one after another (each
/// piece's words at its offset; a piece's trailing characters once all of its audio is out).
func voicedText(_ pieces: [String], sampleRate: Int, heard: Int) -> Int {
    var offset = 0
    var start = 0
    var best = 0
    for piece in pieces {
        let rendered = StandInVoice.render(piece, sampleRate: sampleRate)
        for word in rendered.words where start + Int((word.end * Double(sampleRate)).rounded()) <= heard {
            best = max(best, offset + word.characters.upperBound)
        }
        start += rendered.samples.count
        if start <= heard { best = max(best, offset + piece.unicodeScalars.count) }
        offset += piece.unicodeScalars.count
    }
    return best
}

@Suite("OpenAI speech synthesiser against its stand-in")
struct OpenAISpeechTests {
    static let key = "sk-test-openai-speech"

    static func synthesizer(
        _ host: StandInHost, key: String = key, configuration: OpenAISpeechSynthesizer.Configuration = .init()
    ) throws -> OpenAISpeechSynthesizer {
        OpenAISpeechSynthesizer(endpoint: try ProviderEndpoint(baseURL: host.baseURL + "/v1", apiKey: key), configuration: configuration)
    }

    static func int16(_ sample: Float) -> Int16 { Int16(clamping: Int((Double(sample) * 32767).rounded())) }

    @Test("clauses are requested one each, and the audio is the stand-in's rendering of each, in clause order")
    func clausesInOrder() async throws {
        let (host, standIn) = try await OpenAISpeechStandIn.start(
            configuration: .init(apiKey: Self.key, timing: .init(firstByte: .milliseconds(20), unitsPerSecond: 400)))
        defer { Task { await host.stop() } }
        let synthesizer = try Self.synthesizer(host, configuration: .init(voice: "coral", instructions: "Calm.", speed: 1.1))
        #expect(synthesizer.sampleRate == 24000)
        let pieces = ["Hello there, my friend.", " How are you today?", " I can help with that."]
        let stream = try await synthesizer.makeStream()
        for piece in pieces { try await stream.send(piece) }
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let expected = pieces.flatMap { StandInVoice.render($0, sampleRate: 24000).samples }
        let samples = run.samples
        #expect(samples.count == expected.count)
        var worst: Float = 0
        var mismatches = 0
        for (got, want) in zip(samples, expected) {
            worst = max(worst, abs(got - want))
            if Int16(got * 32768) != Self.int16(want) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        #expect(worst <= 1.5 / 32768)
        run.checkText(total: pieces.joined().unicodeScalars.count) { voicedText(pieces, sampleRate: 24000, heard: $0) }
        let requests = standIn.requests
        // One request per clause; they run concurrently, so they may reach the stand-in in any order (the
        // samples above show the audio still comes out in clause order).
        #expect(requests.count == pieces.count)
        #expect(requests.compactMap(\.input).sorted() == pieces.sorted())
        #expect(requests.allSatisfy { $0.authorization == "Bearer \(Self.key)" && $0.responseFormat == "pcm" })
        #expect(requests.allSatisfy { $0.model == "gpt-4o-mini-tts" && $0.voice == "coral" && $0.instructions == "Calm." })
        #expect(requests.allSatisfy { $0.speed == 1.1 && $0.contentType == "application/json" })
    }

    @Test("a clause over OpenAI's 4,096 characters is split at spaces into requests it accepts, voiced in order")
    func longClause() async throws {
        let (host, standIn) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Self.key))
        defer { Task { await host.stop() } }
        let words = (0..<1500).map { "word\($0 % 10)" }
        let clause = words.joined(separator: " ") + "."  // 8,999 characters, no punctuation to cut at
        let stream = try await Self.synthesizer(host).makeStream()
        try await stream.send(clause)
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let requests = standIn.requests
        #expect(requests.count == 3)
        #expect(requests.allSatisfy { $0.status == 200 && ($0.input?.count ?? 0) <= 4096 })
        // The requests ran concurrently: put them back in the clause's order.
        var inputs: [String] = []
        var rest = Substring(clause)
        var received = requests.compactMap(\.input)
        while let index = received.firstIndex(where: { rest.hasPrefix($0) }) {
            inputs.append(received.remove(at: index))
            rest = rest.dropFirst(inputs.last!.count)
        }
        #expect(rest.isEmpty && received.isEmpty && inputs.count == 3, "the pieces are the clause, whole")
        #expect(inputs.dropLast().allSatisfy { $0.hasSuffix(" ") })  // cut after a space, never inside a word
        // The audio is each piece's rendering, in order.
        let expected = inputs.flatMap { StandInVoice.render($0, sampleRate: 24000).samples }
        #expect(run.samples.count == expected.count)
    }

    @Test("writes of odd sizes (a sample split across reads) decode sample for sample")
    func oddWrites() async throws {
        let (host, _) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Self.key, chunkMilliseconds: 1))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        try await stream.send("Odd sized pieces, please.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        let expected = StandInVoice.render("Odd sized pieces, please.", sampleRate: 24000).samples.map(Self.int16)
        #expect(run.samples.map { Int16($0 * 32768) } == expected)
        #expect(run.chunks.count > 100)
    }

    @Test("a 429 before any audio is retried after Retry-After; a third one is given up on")
    func retriesRateLimits() async throws {
        let (host, standIn) = try await OpenAISpeechStandIn.start(
            configuration: .init(apiKey: Self.key, faults: [.rateLimited(retryAfter: .milliseconds(300))]))
        defer { Task { await host.stop() } }
        let synthesizer = try Self.synthesizer(host)
        let clock = ContinuousClock()
        let start = clock.now
        let stream = try await synthesizer.makeStream()
        try await stream.send("Try again.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error == nil)
        #expect(clock.now - start >= .milliseconds(300))
        #expect(run.samples.map { Int16($0 * 32768) } == StandInVoice.render("Try again.", sampleRate: 24000).samples.map(Self.int16))
        #expect(standIn.requests.map(\.status) == [429, 200])

        standIn.inject([
            .rateLimited(retryAfter: .milliseconds(10)), .rateLimited(retryAfter: .milliseconds(10)), .rateLimited(retryAfter: nil),
        ])
        let failing = try await synthesizer.makeStream()
        try await failing.send("No luck.")
        try await failing.finish()
        let failed = await SpeechRun.collect(failing)
        guard case .rateLimited(provider: "openai", let retryAfter, _) = failed.error as? ProviderError else {
            Issue.record("expected rateLimited, got \(String(describing: failed.error))")
            return
        }
        #expect(retryAfter == nil)
        #expect(standIn.requests.map(\.status) == [429, 200, 429, 429, 429])
    }

    @Test(
        "each fault becomes the right ProviderError",
        arguments: [
            StandInFault.unauthorized, .serverError(status: 503), .dropMidStream, .malformedFrame, .stall,
        ])
    func faults(_ fault: StandInFault) async throws {
        let faults = fault == .serverError(status: 503) ? [fault, fault, fault] : [fault]
        let (host, _) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Self.key, faults: faults))
        defer { Task { await host.stop() } }
        let configuration = OpenAISpeechSynthesizer.Configuration(chunkTimeout: .milliseconds(500))
        let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
        try await stream.send("This sentence is long enough to need several chunks of audio.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        let error = run.error as? ProviderError
        switch fault {
        case .unauthorized: #expect(error == .unauthorized(provider: "openai", status: 401, message: "Incorrect API key provided."))
        case .serverError:
            #expect(
                error
                    == .status(
                        provider: "openai", status: 503, message: "The server had an error while processing your request. Sorry about that!"
                    ))
        case .dropMidStream: #expect(error?.kind == "disconnected")
        case .malformedFrame: #expect(error?.kind == "malformed")
        case .stall: #expect(error == .timedOut(provider: "openai", stage: "next chunk", after: .milliseconds(500)))
        default: Issue.record("unexpected fault")
        }
        if fault != .unauthorized, fault != .serverError(status: 503) { #expect(!run.chunks.isEmpty) }
    }

    @Test("a wrong key is refused with 401 and no audio")
    func wrongKey() async throws {
        let (host, standIn) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Self.key))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host, key: "sk-wrong").makeStream()
        try await stream.send("Hello.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect((run.error as? ProviderError)?.kind == "unauthorized")
        #expect(run.samples.isEmpty)
        #expect(standIn.requests.map(\.status) == [401])
    }

    @Test("no first audio within the timeout is a first-byte timeout")
    func firstAudioTimeout() async throws {
        let (host, _) = try await OpenAISpeechStandIn.start(configuration: .init(apiKey: Self.key, timing: .init(firstByte: .seconds(3))))
        defer { Task { await host.stop() } }
        let configuration = OpenAISpeechSynthesizer.Configuration(firstAudioTimeout: .milliseconds(400))
        let stream = try await Self.synthesizer(host, configuration: configuration).makeStream()
        try await stream.send("Slow.")
        try await stream.finish()
        let run = await SpeechRun.collect(stream)
        #expect(run.error as? ProviderError == .timedOut(provider: "openai", stage: "first byte", after: .milliseconds(400)))
    }

    @Test("cancel mid-stream ends the audio at once and closes the request's connection")
    func cancelMidStream() async throws {
        let (host, standIn) = try await OpenAISpeechStandIn.start(
            configuration: .init(apiKey: Self.key, timing: .init(unitsPerSecond: 20)))
        defer { Task { await host.stop() } }
        let stream = try await Self.synthesizer(host).makeStream()
        try await stream.send("This is a long sentence that takes a good few seconds to stream at this slow pace.")
        var iterator = stream.audio.makeAsyncIterator()
        let first = try await iterator.next()
        #expect(first?.samples.isEmpty == false)
        stream.cancel()
        let clock = ContinuousClock()
        let start = clock.now
        while try await iterator.next() != nil {}
        #expect(clock.now - start < .seconds(2))
        for _ in 0..<100 where standIn.disconnects == 0 { try await Task.sleep(for: .milliseconds(50)) }
        #expect(standIn.disconnects == 1)
        #expect(standIn.completed == 0)
    }
}
