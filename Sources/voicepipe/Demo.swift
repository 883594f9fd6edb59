//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Logging
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `voicepipe demo`: the main job, with nothing to configure. Starts the server in-process on a free
/// loopback port, places a simulated Twilio call with the bundled recording of real speech (each sentence
/// followed by room for the agent's answer), prints each turn's latency, writes `reply.wav` and exits 0.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server and a simulated Twilio call against it; print the latency of every turn."
    )

    @Option(help: "A WAV file to use as the caller instead of the bundled recording.") var input: String?
    @Option(help: "Where to write the agent's audio as the caller heard it.") var output = "reply.wav"
    @Option(help: "The agent: echo (plays each turn back) or tone.") var agent = AgentKind.echo
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() async throws {
        let path = input ?? Self.bundledRecording()
        let audio = spacedTurns(try loadCallerAudio(path))
        var serverLogger = quietLogger()
        serverLogger.logLevel = .critical  // the call's outcome is reported below; shutdown chatter is not news
        let server = VoicePipeServer(configuration: .init(host: "127.0.0.1", port: 0, makeAgent: agent.make()), logger: serverLogger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ExitCode(1) }
        if !json {
            print("voicepipe demo: server on 127.0.0.1:\(port), agent \(agent.rawValue), caller: \(path)")
            print("a simulated Twilio call, \(formatted(Double(audio.count) / 8000, digits: 1)) s of caller audio in real time...")
        }
        let result: SimulatedCaller.Result
        do {
            result = try await SimulatedCaller(.init(url: "ws://127.0.0.1:\(port)/twilio/media", audio: audio, tailMilliseconds: 2500))
                .run()
        } catch {
            printError("the simulated call failed: \(error)")
            serverTask.cancel()
            throw ExitCode(1)
        }
        for _ in 0..<100 where server.statistics.snapshot.activeCalls > 0 { try await Task.sleep(for: .milliseconds(10)) }
        serverTask.cancel()
        _ = await serverTask.result
        try writeReply(result.reply, to: output)
        report(result, json: json)
        if !json {
            let stats = server.statistics.snapshot
            let added = [stats.pipelineAddedP50, stats.pipelineAddedP99].map { $0.map { formatted($0, digits: 2) + " ms" } ?? "-" }
            print(
                "server: \(stats.turns) turns answered, pipeline-added latency p50 \(added[0]), p99 \(added[1]); "
                    + "caller audio: \(stats.playedFrames) of \(stats.inboundFrames) frames to the agent, \(stats.droppedFrames) dropped, "
                    + "\(stats.insertedSilence) inserted")
            print("wrote \(output) (the agent's audio as the caller heard it, 8 kHz)")
        }
    }

    /// `TestVectors/speech/demo-call.wav` in the working directory, else in the source checkout this
    /// binary was built from.
    static func bundledRecording() -> String {
        let relative = "TestVectors/speech/demo-call.wav"
        if access(relative, R_OK) == 0 { return relative }
        var root = #filePath
        for _ in 0..<3 {  // Sources/voicepipe/Demo.swift -> repository root
            if let slash = root.lastIndex(of: "/") { root = String(root[..<slash]) }
        }
        return root + "/" + relative
    }
}

/// The recording with every stretch of speech (parts separated by 500 ms of silence, the server's end of
/// turn) followed by as much
/// silence as it lasted plus 1.5 s: room for an echo of it before the caller goes on.
func spacedTurns(_ audio: [Float]) -> [Float] {
    var output: [Float] = []
    var start: Int?
    var lastSpeech = 0
    let frames = audio.count / 160
    for frame in 0...frames {
        let isSpeech = frame < frames && audio[(frame * 160)..<(frame * 160 + 160)].reduce(0) { $0 + $1 * $1 } / 160 > 1e-4
        if isSpeech {
            if start == nil { start = frame }
            lastSpeech = frame
        } else if let first = start, frame - lastSpeech >= 25 || frame == frames {
            let stretch = audio[(first * 160)..<((lastSpeech + 1) * 160)]
            output += stretch
            output += [Float](repeating: 0, count: stretch.count + 12000)
            start = nil
        }
    }
    return output
}

func formatted(_ value: Double, digits: Int) -> String {
    guard value.isFinite else { return value > 0 ? "inf" : "-inf" }
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = "\(rounded)"
    if let dot = text.firstIndex(of: ".") {
        let decimals = text.distance(from: dot, to: text.endIndex) - 1
        if decimals < digits { text += String(repeating: "0", count: digits - decimals) }
    }
    return text
}
