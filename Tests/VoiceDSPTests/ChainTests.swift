//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

@Suite("InboundChain and OutboundChain")
struct ChainTests {
    /// The bundled speech as Twilio would send it: 160-byte µ-law frames.
    static let frames: [[UInt8]] = {
        let pcm = try! WAVFile(path: TestVectors.path("speech/demo-call.wav")).clip.pcm16
        return stride(from: 0, to: pcm.count - 159, by: 160).map { start in pcm[start..<(start + 160)].map(MuLaw.encode) }
    }()

    struct Run {
        var audio: [Float] = []
        var sources: [InboundChain.Source] = []
        var events: [Endpointer.Event] = []
        var speechFrames = 0
    }

    /// A lossy path's chain: the jitter buffer plays out on a schedule.
    static let scheduled = InboundChain.Configuration(jitterBuffer: .init(playout: .scheduled))

    /// Sends `frames` (skipping `lost`) 40 ms after their send time and ticks every 20 ms.
    static func run(_ chain: InboundChain, lost: Set<Int> = []) -> Run {
        var run = Run()
        let extra = 40  // ticks after the last frame, to drain the buffer
        for tick in 0..<(frames.count + extra) {
            let now = Double(tick) * 20
            let arriving = tick - 2  // frame n arrives at n × 20 + 40 ms
            if arriving >= 0 && arriving < frames.count && !lost.contains(arriving) {
                frames[arriving].withUnsafeBytes { _ = chain.receive(sequence: arriving, payload: $0, arrival: now) }
            }
            let result = chain.tick(at: now)!  // scheduled play-out ticks every 20 ms and never returns nil
            run.audio += result.audio
            run.sources.append(result.source)
            if let event = result.event { run.events.append(event) }
            if result.decision.isSpeech { run.speechFrames += 1 }
        }
        return run
    }

    @Test("in-order frames come out as 16 kHz audio equal to decoding and resampling the call offline")
    func inboundMatchesOffline() throws {
        let chain = try InboundChain(configuration: Self.scheduled)
        let run = Self.run(chain)
        let played = run.sources.filter { if case .frame = $0 { true } else { false } }.count
        #expect(played == Self.frames.count)
        // Past the end of the call every tick conceals a frame that was never sent; none before it.
        let concealed = run.sources.compactMap { if case .concealed(let s) = $0 { s } else { nil } }
        #expect(concealed.allSatisfy { $0 >= Self.frames.count })
        // Offline: the same frames decoded and resampled in one piece, after the chain's initial silence.
        let decoded = Self.frames.flatMap { $0 }.map { Float(MuLaw.decode($0)) / 32768 }
        let leading = run.sources.prefix { $0 == .buffering }.count
        let offline = try Resampler(inputRate: 8000, outputRate: 16000).resample(
            [Float](repeating: 0, count: leading * 160) + decoded)
        let compared = min(run.audio.count, offline.count) - 400
        #expect(compared > 200_000)
        #expect(Array(run.audio[..<compared]) == Array(offline[..<compared]))
    }

    @Test("turn events alternate: speech started, end of turn, ...; every sentence is found")
    func turnEvents() throws {
        let run = Self.run(try InboundChain(configuration: Self.scheduled))
        #expect(run.events.count >= 8)
        for (index, event) in run.events.enumerated() {
            switch event {
            case .speechStarted: #expect(index % 2 == 0)
            case .endOfTurn(let lastSpeechEnd, let detectedAt):
                #expect(index % 2 == 1)
                #expect(detectedAt - lastSpeechEnd == 8000)  // 500 ms at the ticks' 16 kHz
            case .maximumTurnReached: Issue.record("no turn is 30 s long")
            }
        }
    }

    @Test("lost frames are concealed with a fading repeat and counted", arguments: [InboundChain.Concealment.fadedRepeat, .silence])
    func concealment(mode: InboundChain.Concealment) throws {
        let lost: Set<Int> = [100, 101, 300, 500]
        var configuration = Self.scheduled
        configuration.concealment = mode
        let chain = try InboundChain(configuration: configuration)
        let run = Self.run(chain, lost: lost)
        let concealed = run.sources.compactMap { if case .concealed(let s) = $0 { s } else { nil } }
        let inCall = concealed.filter { $0 < Self.frames.count }
        #expect(Set(inCall) == lost)
        #expect(chain.jitterBuffer.statistics.lost == concealed.count)
        #expect(chain.jitterBuffer.statistics.late == 0)
    }

    @Test("in order: frames arriving in bursts and late reach the output exactly, with nothing inserted or dropped")
    func inOrderUnderBacklog() throws {
        let chain = try InboundChain()
        var audio: [Float] = []
        var positions: [Int] = []
        var counts: [Int] = []
        var sources: [InboundChain.Source] = []
        var next = 0
        var now = 0.0
        // A stalled server: frames arrive in bursts of 1 to 40, up to 800 ms behind their send time.
        var burst = 1
        while next < Self.frames.count {
            for _ in 0..<min(burst, Self.frames.count - next) {
                Self.frames[next].withUnsafeBytes { _ = chain.receive(sequence: next, payload: $0, arrival: now) }
                next += 1
            }
            while let tick = chain.tick(at: now) {
                positions.append(tick.position)
                counts.append(tick.audio.count)
                audio += tick.audio
                sources.append(tick.source)
                #expect(tick.sampleRate == 16000)
            }
            now += Double(burst) * 20 + 800 * Double(burst % 2)
            burst = burst % 40 + 7
        }
        #expect(sources == (0..<Self.frames.count).map { .frame(sequence: $0) })
        // Positions are contiguous: each tick's audio starts where the previous one's ended (the resampler's
        // priming makes the first tick shorter).
        #expect(positions == counts.indices.map { counts[..<$0].reduce(0, +) })
        #expect(counts.dropFirst().allSatisfy { $0 == 320 })
        #expect(chain.jitterBuffer.statistics.late == 0 && chain.jitterBuffer.statistics.dropped == 0)
        let decoded = Self.frames.flatMap { $0 }.map { Float(MuLaw.decode($0)) / 32768 }
        let offline = try Resampler(inputRate: 8000, outputRate: 16000).resample(decoded)
        let compared = min(audio.count, offline.count) - 400
        #expect(Array(audio[..<compared]) == Array(offline[..<compared]))
    }

    @Test("in order: only a skipped sequence number is concealed, and only once a later frame has arrived")
    func inOrderConcealsSkips() throws {
        let chain = try InboundChain(configuration: .init(outputRate: 8000))
        for sequence in [0, 1, 2, 5, 6] {
            Self.frames[sequence].withUnsafeBytes { _ = chain.receive(sequence: sequence, payload: $0, arrival: 0) }
        }
        var sources: [InboundChain.Source] = []
        var audio: [Float] = []
        while let tick = chain.tick(at: 10_000) {
            sources.append(tick.source)
            audio += tick.audio
        }
        #expect(
            sources == [
                .frame(sequence: 0), .frame(sequence: 1), .frame(sequence: 2), .concealed(sequence: 3),
                .concealed(sequence: 4), .frame(sequence: 5), .frame(sequence: 6),
            ])
        // At 8 kHz the audio is the decoded frames themselves, sample for sample.
        let decoded = Self.frames[5].map { Float(MuLaw.decode($0)) / 32768 }
        #expect(Array(audio[800..<960]) == decoded)
        #expect(chain.tick(at: 20_000) == nil)  // nothing more has arrived: nothing is invented
    }

    @Test("outbound: any chunking of 24 kHz audio gives the same exact 160-byte frames, tail padded on flush")
    func outbound() throws {
        let input = Signals.sine(frequency: 440, sampleRate: 24000, count: 24000 + 123)
        func frames(chunks: [Int]) throws -> [[UInt8]] {
            let chain = try OutboundChain(inputRate: 24000)
            var out: [[UInt8]] = []
            var offset = 0
            var index = 0
            while offset < input.count {
                let count = min(chunks[index % chunks.count], input.count - offset)
                input.withUnsafeBufferPointer { all in
                    chain.push(UnsafeBufferPointer(rebasing: all[offset..<(offset + count)])) { out.append(Array($0)) }
                }
                offset += count
                index += 1
            }
            chain.flush { out.append(Array($0)) }
            return out
        }
        let whole = try frames(chunks: [input.count])
        #expect(whole.allSatisfy { $0.count == 160 })
        // 24,123 samples at 24 kHz = 8,041 at 8 kHz: 50 full frames and one padded.
        #expect(whole.count == 51)
        #expect(whole.last!.suffix(159 - 40).allSatisfy { $0 == 0xFF })
        #expect(try frames(chunks: [480]) == whole)
        #expect(try frames(chunks: [1, 7, 333, 2000]) == whole)
        // The frames are the resampled sine, µ-law encoded.
        let reference = try Resampler(inputRate: 24000, outputRate: 8000).resample(input).map { MuLaw.encode(AudioClip.pcm16Sample($0)) }
        #expect(Array(whole.flatMap { $0 }.prefix(reference.count)) == reference)
    }

    @Test("8 kHz agent audio is framed without resampling")
    func outboundAt8k() throws {
        let chain = try OutboundChain(inputRate: 8000)
        let input = Signals.sine(frequency: 300, sampleRate: 8000, count: 800)
        var out: [UInt8] = []
        input.withUnsafeBufferPointer { chain.push($0) { out += $0 } }
        #expect(out == input.map { MuLaw.encode(AudioClip.pcm16Sample($0)) })
    }
}
