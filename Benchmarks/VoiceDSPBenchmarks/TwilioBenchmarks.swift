//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Benchmark
import Foundation
import TwilioMediaStreams
import VoiceDSP
import VoicePipeTesting

/// The Twilio layer per 20 ms frame: VoicePipe's reader and writer against Foundation's JSONDecoder and
/// JSONEncoder with the same Codable wire types (the baseline, measured in the same run), and a whole
/// session's Twilio work for one second of call.
func twilioBenchmarks() {
    let stage = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .kilo, maxDuration: .seconds(1))
    let streamSid = "MZ24b8f6e431e4002cfe4837d6b7e9bfe5"
    let twilio = TwilioStreamSimulator(configuration: .init(streamSid: streamSid))
    var start: [UInt8] = []
    twilio.start(into: &start)
    let mulaw = (0..<160).map { MuLaw.encode(Int16(6000 * sin(Double($0) * 0.07))) }
    var media: [UInt8] = []
    mulaw.withUnsafeBytes { twilio.media($0, timestamp: 20, into: &media) }
    let mediaData = Data(media)

    let reader = MediaStreamReader()
    _ = try! reader.read(start)
    Benchmark("twilio: read a media frame (MediaStreamReader)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            guard case .media(let frame) = try! reader.read(media) else { fatalError() }
            blackHole(frame.payload[0])
        }
    }
    let decoder = JSONDecoder()
    Benchmark("twilio: read a media frame (JSONDecoder + Data(base64Encoded:), baseline)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            guard case .media(let frame) = try! decoder.decode(TwilioMessage.self, from: mediaData) else { fatalError() }
            blackHole(Data(base64Encoded: frame.media.payload)![0])
            blackHole(Int(frame.media.chunk)! + Int(frame.media.timestamp)!)
        }
    }

    let writer = MediaStreamWriter(streamSid: streamSid)
    var output: [UInt8] = []
    output.reserveCapacity(512)
    Benchmark("twilio: write a media frame (MediaStreamWriter)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            output.removeAll(keepingCapacity: true)
            mulaw.withUnsafeBytes { writer.media($0, into: &output) }
            blackHole(output.count)
        }
    }
    let encoder = JSONEncoder()
    let mulawData = Data(mulaw)
    Benchmark("twilio: write a media frame (JSONEncoder + base64EncodedString, baseline)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! encoder.encode(AppMessage.media(streamSid: streamSid, payload: mulawData.base64EncodedString())).count)
        }
    }

    // One second of call through the Twilio layer: 50 media frames in (parsed, framed, into the jitter
    // buffer), 50 agent frames out (8 kHz µ-law, written with their marks), 50 echoes read. The simulated
    // Twilio's own work (writing media and echoes, reading the app's messages) is included.
    let config = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .microseconds, warmupIterations: 5, maxDuration: .seconds(2))
    let agent = [Float](repeating: 0.1, count: 160)
    Benchmark("twilio: session, 1 s of call (50 frames each way + 50 marks), simulator included", configuration: config) {
        benchmark in
        let session = try! MediaStreamSession(configuration: .init(maximumLead: nil))
        let twilio = TwilioStreamSimulator(configuration: .init(streamSid: streamSid))
        var frame: [UInt8] = []
        frame.reserveCapacity(512)
        twilio.start(into: &frame)
        _ = try! session.receive(frame, at: 0)
        var time = 0.0
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 160, alignment: 16)
        defer { scratch.deallocate() }
        func step() {
            time += 20
            frame.removeAll(keepingCapacity: true)
            mulaw.withUnsafeBytes { twilio.media($0, timestamp: Int(time), into: &frame) }
            blackHole(try! session.receive(frame, at: time))
            blackHole(session.inbound.jitterBuffer.pop(into: scratch, at: time + 40))
            agent.withUnsafeBufferPointer { _ = try! session.play($0, sampleRate: 8000) }
            frame.removeAll(keepingCapacity: true)
            while session.nextMessage(into: &frame) {
                try! twilio.receive(frame, at: time)
                frame.removeAll(keepingCapacity: true)
            }
            twilio.advance(to: time + 20, played: { blackHole($0.count) })
            while twilio.nextEcho(into: &frame) {
                blackHole(try! session.receive(frame, at: time + 20))
                frame.removeAll(keepingCapacity: true)
            }
        }
        // The first second creates the session's converter and grows its buffers: a one-time cost per call.
        for _ in 0..<50 { step() }
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            for _ in 0..<50 { step() }
        }
        benchmark.stopMeasurement()
    }
}
