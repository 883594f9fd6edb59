//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Benchmark
import DequeModule
import Foundation
import Synchronization
@_spi(Reference) import VoiceDSP

/// Run with: `VOICEPIPE_BENCHMARKS=1 swift package benchmark --target VoiceDSPBenchmarks`.
///
/// Every figure is a wall-clock time per iteration (one pass over the whole buffer); each group carries its
/// own baseline measured in the same run, and BENCHMARKS.md reports the ratios.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal],
        warmupIterations: 3,
        maxDuration: .seconds(2),
        maxIterations: 10_000
    )
    for (label, samples) in [("64KiB", 64 << 10), ("64MiB", 64 << 20)] {
        g711Benchmarks(label: label, samples: samples)
    }
    frameBenchmarks()
    ringBufferBenchmarks()
    resamplerBenchmarks()
    vadBenchmarks()
    budgetBenchmarks()
    twilioBenchmarks()
    agentBenchmarks()
    providerBenchmarks()
}

/// G.711 over `samples` samples: `samples` bytes of codes and `2 * samples` bytes of PCM.
func g711Benchmarks(label: String, samples: Int) {
    let big = samples > 1 << 20
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, warmupIterations: big ? 1 : 10,
        maxDuration: .seconds(big ? 4 : 2), maxIterations: big ? 40 : 10_000)
    let pcm = UnsafeMutableBufferPointer<Int16>.allocate(capacity: samples)
    let pcmOut = UnsafeMutableBufferPointer<Int16>.allocate(capacity: samples)
    let codes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: samples)
    let codesOut = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: samples)
    var state: UInt32 = 12345
    for i in 0..<samples {  // speech-like amplitudes: every segment used
        state = state &* 1_103_515_245 &+ 12345
        pcm[i] = Int16(truncatingIfNeeded: Int32(bitPattern: state) >> (16 + Int32(state % 8)))
    }
    MuLaw.encode(UnsafeBufferPointer(pcm), into: codes)
    let table = G711Reference.MuLawTableDecoder()
    let pcmIn = UnsafeBufferPointer(pcm)
    let codesIn = UnsafeBufferPointer(codes)

    let cases: [(name: String, run: () -> Void)] = [
        ("memcpy PCM", { UnsafeMutableRawPointer(pcmOut.baseAddress!).copyMemory(from: pcmIn.baseAddress!, byteCount: samples * 2) }),
        ("MuLaw.decode", { MuLaw.decode(codesIn, into: pcmOut) }),
        ("MuLaw.decode table baseline", { table.decode(codesIn, into: pcmOut) }),
        ("ALaw.decode", { ALaw.decode(codesIn, into: pcmOut) }),
        ("MuLaw.encode", { MuLaw.encode(pcmIn, into: codesOut) }),
        ("MuLaw.encode G.191 baseline", { for i in 0..<samples { codesOut[i] = G711Reference.muLawCompress(pcmIn[i]) } }),
        ("ALaw.encode", { ALaw.encode(pcmIn, into: codesOut) }),
        ("ALaw.encode G.191 baseline", { for i in 0..<samples { codesOut[i] = G711Reference.aLawCompress(pcmIn[i]) } }),
    ]
    for (name, run) in cases {
        Benchmark("\(name) \(label)", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations {
                run()
                blackHole(pcmOut[samples - 1])
                blackHole(codesOut[samples - 1])
            }
        }
    }
}

/// One 20 ms Twilio frame (160 samples) per call: proves no allocation per call.
func frameBenchmarks() {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .kilo,
        maxDuration: .seconds(1))
    let pcm = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
    let codes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 160)
    for i in 0..<160 { pcm[i] = Int16(8000 * sin(Double(i) * 0.345)) }
    Benchmark("MuLaw.encode 20ms frame", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            MuLaw.encode(UnsafeBufferPointer(pcm), into: codes)
            blackHole(codes[0])
        }
    }
    Benchmark("MuLaw.decode 20ms frame", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            MuLaw.decode(UnsafeBufferPointer(codes), into: pcm)
            blackHole(pcm[0])
        }
    }
    let ring = SPSCRingBuffer<Int16>(minimumCapacity: 1024)
    let producer = ring.producer
    let consumer = ring.consumer
    Benchmark("SPSCRingBuffer write+read 20ms frame", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            producer.write(UnsafeBufferPointer(pcm))
            blackHole(consumer.read(into: pcm))
        }
    }
}

/// Cross-thread transfer of 8 Mi samples in 160-sample chunks through a 4,096-sample queue.
func ringBufferBenchmarks() {
    let total = 8 << 20
    let chunk = 160
    let capacity = 4096
    let config = Benchmark.Configuration(
        metrics: [.wallClock], timeUnits: .microseconds, warmupIterations: 1, maxDuration: .seconds(5),
        maxIterations: 20)

    Benchmark("SPSCRingBuffer cross-thread 8Mi samples", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            let ring = SPSCRingBuffer<Int16>(minimumCapacity: capacity)
            let producer = ring.producer
            let consumer = ring.consumer
            let done = DispatchSemaphore(value: 0)
            Thread {
                let source = UnsafeMutableBufferPointer<Int16>.allocate(capacity: chunk)
                source.initialize(repeating: 1)
                var sent = 0
                while sent < total {
                    let written = producer.write(UnsafeBufferPointer(rebasing: source[0..<min(chunk, total - sent)]))
                    if written == 0 { sched_yield() }
                    sent += written
                }
                source.deallocate()
                done.signal()
            }.start()
            let sink = UnsafeMutableBufferPointer<Int16>.allocate(capacity: chunk)
            var received = 0
            while received < total {
                let n = consumer.read(into: sink)
                if n == 0 { sched_yield() }
                received += n
            }
            done.wait()
            sink.deallocate()
            blackHole(received)
        }
    }

    Benchmark("Mutex<Deque> baseline cross-thread 8Mi samples", configuration: config) { benchmark in
        for _ in benchmark.scaledIterations {
            let queue = Mutex(Deque<Int16>(minimumCapacity: capacity))
            let done = DispatchSemaphore(value: 0)
            Thread {
                let source = [Int16](repeating: 1, count: chunk)
                var sent = 0
                while sent < total {
                    let wrote = queue.withLock { q in
                        guard q.count + chunk <= capacity else { return false }
                        q.append(contentsOf: source)
                        return true
                    }
                    if wrote { sent += chunk } else { sched_yield() }
                }
                done.signal()
            }.start()
            let sink = UnsafeMutableBufferPointer<Int16>.allocate(capacity: chunk)
            var received = 0
            while received < total {
                let n = queue.withLock { q in
                    let n = min(q.count, chunk)
                    var i = 0
                    for sample in q.prefix(n) {
                        sink[i] = sample
                        i += 1
                    }
                    q.removeFirst(n)
                    return n
                }
                if n == 0 { sched_yield() }
                received += n
            }
            done.wait()
            sink.deallocate()
            blackHole(received)
        }
    }
}

/// Voice activity detection of one second of 8 kHz audio in 20 ms frames: CPU per audio second.
func vadBenchmarks() {
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .microseconds, warmupIterations: 3, maxDuration: .seconds(1))
    let second = UnsafeMutableBufferPointer<Float>.allocate(capacity: 8000)
    var state: UInt32 = 7
    for i in 0..<8000 {
        state = state &* 1_664_525 &+ 1_013_904_223
        second[i] = Float(0.3 * sin(Double(i) * 0.2)) + Float(Int32(bitPattern: state)) / Float(Int32.max) * 0.01
    }
    for model in VoiceActivityDetector.Model.allCases {
        let detector = try! VoiceActivityDetector(
            configuration: .init(sampleRate: 8000, frameDuration: .milliseconds20, model: model))
        Benchmark("VoiceActivityDetector \(model) 1 s at 8 kHz, 20 ms frames", configuration: config) { benchmark in
            for _ in benchmark.scaledIterations {
                for start in stride(from: 0, to: 8000, by: 160) {
                    blackHole(detector.process(UnsafeBufferPointer(rebasing: second[start..<(start + 160)])))
                }
            }
        }
    }
}

/// The per-call budget: a whole simulated call's worth of frames through both chains, and each stage alone.
func budgetBenchmarks() {
    let frames = 50  // one second of call per iteration
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .microseconds, warmupIterations: 5, maxDuration: .seconds(2))
    // The caller: the bundled-speech-like signal as µ-law frames; the agent: 24 kHz audio.
    var ulaw = [[UInt8]]()
    for n in 0..<frames {
        ulaw.append((0..<160).map { i in MuLaw.encode(Int16(6000 * sin(Double(n * 160 + i) * 0.07))) })
    }
    let agent = UnsafeMutableBufferPointer<Float>.allocate(capacity: 480)
    for i in 0..<480 { agent[i] = Float(0.3 * sin(Double(i) * 0.05)) }

    for model in VoiceActivityDetector.Model.allCases {
        let inbound = try! InboundChain(configuration: .init(voiceActivity: .init(model: model)))
        let outbound = try! OutboundChain(inputRate: 24000)
        let clock = Clock()
        Benchmark("budget: 50 frame pairs (1 s of call), inbound 8k->16k + \(model) VAD, outbound 24k->8k", configuration: config) {
            benchmark in
            for _ in benchmark.scaledIterations {
                for n in 0..<frames {
                    clock.sequence += 1
                    clock.time += 20
                    ulaw[n].withUnsafeBytes { _ = inbound.receive(sequence: clock.sequence, payload: $0, arrival: clock.time) }
                    blackHole(inbound.tick(at: clock.time + 40)?.audio.count)  // in-order play-out: the frame just received
                    outbound.push(UnsafeBufferPointer(agent)) { blackHole($0[0]) }
                }
            }
        }
    }

    // Stages, one 20 ms frame each.
    let stage = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .kilo, maxDuration: .seconds(1))
    let codes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 160)
    for i in 0..<160 { codes[i] = ulaw[0][i] }
    let pcm8 = UnsafeMutableBufferPointer<Float>.allocate(capacity: 160)
    let pcm16 = UnsafeMutableBufferPointer<Int16>.allocate(capacity: 160)
    let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1024)
    let buffer = JitterBuffer()
    let jitterClock = Clock()
    let jitterOut = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 16)
    Benchmark("stage: jitter buffer insert + pop", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            jitterClock.sequence += 1
            jitterClock.time += 20
            _ = buffer.insert(sequence: jitterClock.sequence, payload: UnsafeRawBufferPointer(codes), arrival: jitterClock.time)
            blackHole(buffer.pop(into: jitterOut, at: jitterClock.time + 40))
        }
    }
    Benchmark("stage: mu-law decode to Float, 160", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            MuLaw.decode(UnsafeBufferPointer(codes), into: pcm8)
            blackHole(pcm8[0])
        }
    }
    let up = try! Resampler(inputRate: 8000, outputRate: 16000)
    Benchmark("stage: resample 8k->16k, 160 in", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(up.process(UnsafeBufferPointer(pcm8), into: out)) }
    }
    let down = try! Resampler(inputRate: 24000, outputRate: 8000)
    Benchmark("stage: resample 24k->8k, 480 in", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(down.process(UnsafeBufferPointer(agent), into: out)) }
    }
    for model in VoiceActivityDetector.Model.allCases {
        let detector = try! VoiceActivityDetector(configuration: .init(model: model))
        Benchmark("stage: VAD \(model), 160 at 8 kHz", configuration: stage) { benchmark in
            for _ in benchmark.scaledIterations { blackHole(detector.process(UnsafeBufferPointer(pcm8))) }
        }
    }
    Benchmark("stage: mu-law encode, 160", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            MuLaw.encode(UnsafeBufferPointer(pcm16), into: codes)
            blackHole(codes[0])
        }
    }
}

/// A mutable clock shared by a benchmark's runs.
final class Clock {
    var sequence = 0
    var time = 0.0
}
