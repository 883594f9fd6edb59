//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting
import VoiceSpeechLocal

/// `voicepipe demo`: the main job, with nothing to configure. Starts the server in-process on a free
/// loopback port and places a simulated Twilio call to it.
///
/// With the cascade agent (the default) the call is a conversation: the agent greets the caller, who answers
/// with recorded human speech, line by line as the agent finishes, interrupts it once mid-sentence and says
/// goodbye; the agent hangs up. The demo prints both sides (what the caller said, what the agent heard, said
/// and had cut), each turn's latency by stage (from the server's `GET /calls/{callSid}`), and writes a stereo
/// recording of the call. With `--agent echo` or `tone` it plays the bundled recording as before.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the server and a simulated Twilio call against it: a spoken conversation with the cascade agent."
    )

    @Option(help: "The agent: cascade (listens and talks), echo (plays each turn back) or tone.") var agent = AgentKind.cascade
    @Option(help: "A WAV file to use as the caller instead of the bundled recording (echo and tone agents).") var input: String?
    @Option(help: "Where to write the call: stereo, the caller left and the agent right, as the caller heard it (8 kHz).")
    var output = "call.wav"
    @Flag(help: "Print one JSON object instead of a table.") var json = false
    @OptionGroup(title: "Cascade agent") var cascade: CascadeOptions

    func run() async throws {
        var serverLogger = quietLogger()
        serverLogger.logLevel = .critical  // the call's outcome is reported below; shutdown chatter is not news
        let makeAgent = agent == .cascade ? try cascade.makeAgent(logger: quietLogger()) : agent.make()
        let server = VoicePipeServer(configuration: .init(host: "127.0.0.1", port: 0, makeAgent: makeAgent), logger: serverLogger)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw ExitCode(1) }
        defer { serverTask.cancel() }
        if agent == .cascade {
            try await converse(server: server, port: port)
        } else {
            try await playRecording(server: server, port: port)
        }
        serverTask.cancel()
        _ = await serverTask.result
    }

    // MARK: - The conversation

    /// The bundled caller's lines and their true text.
    static func callerLines() throws -> [(text: String, audio: [Float])] {
        guard let folder = Bundle.module.url(forResource: "DemoCaller", withExtension: nil) else {
            throw ValidationError("the demo caller's recordings are missing from the build")
        }
        let table = try String(contentsOf: folder.appendingPathComponent("lines.tsv"), encoding: .utf8)
        return try table.split(separator: "\n").map { line in
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            guard fields.count == 2 else { throw ValidationError("DemoCaller/lines.tsv: bad line \(line)") }
            return (fields[1], try loadCallerAudio(folder.appendingPathComponent(fields[0]).path))
        }
    }

    /// The script: answer the greeting, interrupt the long reply that follows, then two more lines.
    static func script(_ lines: [(text: String, audio: [Float])]) -> [SimulatedCaller.Line] {
        lines.enumerated().map { index, line in
            let cue: SimulatedCaller.Line.Cue =
                index == 1 ? .interrupting(after: .milliseconds(2500)) : .afterReply(pause: .milliseconds(600))
            return SimulatedCaller.Line(audio: line.audio, cue: cue, text: line.text)
        }
    }

    private func converse(server: VoicePipeServer, port: Int) async throws {
        let lines = try Self.callerLines()
        let callSid = "CA" + String(repeating: "d", count: 32)
        if !json {
            print(
                "voicepipe demo: server on 127.0.0.1:\(port); cascade agent: \(cascade.stt.rawValue) (\(cascade.sttVocabulary.rawValue) "
                    + "vocabulary) → \(cascade.llm.rawValue) → \(cascade.tts.rawValue)")
            print("a simulated Twilio call in real time: the caller answers with recorded human speech (Allison Smith, CC-BY-SA-3.0)...")
        }
        let result: SimulatedCaller.Result
        do {
            result = try await SimulatedCaller(
                .init(
                    url: "ws://127.0.0.1:\(port)/twilio/media", script: Self.script(lines), tailMilliseconds: 8000,
                    call: .init(callSid: callSid, streamSid: "MZ" + String(repeating: "d", count: 32)))
            ).run()
        } catch {
            printError("the simulated call failed: \(error)")
            throw ExitCode(1)
        }
        for _ in 0..<300 where server.statistics.snapshot.activeCalls > 0 { try await Task.sleep(for: .milliseconds(10)) }
        let record = try await Self.fetchRecord(port: port, callSid: callSid)
        try writeCallRecording(result, to: output)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            encoder.dateEncodingStrategy = .iso8601
            print(String(decoding: try encoder.encode(record), as: UTF8.self))
        } else {
            printConversation(record, lines: lines, result: result)
        }
        let said = lines.count
        guard record.turns.count >= 3, result.hungUp, result.clears >= 1, result.lineStarts.count == said else {
            printError(
                "the conversation did not go as scripted: \(result.lineStarts.count) of \(said) lines said, \(record.turns.count) turns, "
                    + "\(result.clears) barge-ins, \(result.hungUp ? "" : "no ")hang-up")
            throw ExitCode(1)
        }
    }

    private func printConversation(_ record: CallRecord, lines: [(text: String, audio: [Float])], result: SimulatedCaller.Result) {
        func ms(_ value: Double?) -> String { value.map { String(Int($0.rounded())) + " ms" } ?? "-" }
        if let greeting = cascade.greeting ?? (try? cascade.loadPlaybook())?.greeting, !greeting.isEmpty {
            print("\nagent  (greeting)  \(greeting)")
        }
        for turn in record.turns {
            let index = turn.number - 1
            print("")
            print("caller said        \(index < lines.count ? lines[index].text : "(not in the script)")")
            print("agent heard        \(turn.callerText.map { $0.isEmpty ? "(nothing)" : $0 } ?? "-")")
            print("agent said         \(turn.agentText.isEmpty ? "(nothing)" : turn.agentText)")
            if turn.interrupted, let heard = turn.heardText {
                let cut = turn.agentText.hasPrefix(heard) ? String(turn.agentText.dropFirst(heard.count)) : turn.agentText
                print("  cut by the caller: heard \"\(heard)\"; not heard \"\(cut.trimmingCharacters(in: .whitespaces))\"")
            }
            let l = turn.latency
            print(
                "  latency          end of turn \(ms(l["endOfTurn"])) · recogniser \(ms(l["recognizer"])) · model \(ms(l["model"])) · "
                    + "synthesiser \(ms(l["synthesizer"])) → first audio out \(ms(l["response"])) after the caller's last word "
                    + "(heard at \(ms(l["played"])))")
        }
        let heard = result.turns.compactMap(\.latency)
        print("")
        print(
            "the caller waited (last word to first agent audio heard): "
                + heard.map { String(Int($0.rounded())) + " ms" }.joined(separator: ", "))
        print("\(result.clears) barge-in(s); the agent \(result.hungUp ? "hung up" : "did not hang up")")
        print("GET /calls/\(record.callSid) has this record; wrote \(output) (stereo: the caller left, the agent right, 8 kHz)")
    }

    /// `GET /calls/{callSid}` on the demo's server.
    static func fetchRecord(port: Int, callSid: String) async throws -> CallRecord {
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/calls/\(callSid)")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 1 << 22)
        guard response.status == .ok else {
            printError("GET /calls/\(callSid): \(response.status)")
            throw ExitCode(1)
        }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(CallRecord.self, from: Data(body.readableBytesView))
    }

    // MARK: - The echo and tone agents

    private func playRecording(server: VoicePipeServer, port: Int) async throws {
        let path = input ?? Self.bundledRecording()
        let audio = spacedTurns(try loadCallerAudio(path))
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
            throw ExitCode(1)
        }
        for _ in 0..<100 where server.statistics.snapshot.activeCalls > 0 { try await Task.sleep(for: .milliseconds(10)) }
        try writeCallRecording(result, to: output)
        report(result, json: json)
        if !json {
            let stats = server.statistics.snapshot
            let added = [stats.pipelineAddedP50, stats.pipelineAddedP99].map { $0.map { formatted($0, digits: 2) + " ms" } ?? "-" }
            print(
                "server: \(stats.turns) turns answered, pipeline-added latency p50 \(added[0]), p99 \(added[1]); "
                    + "caller audio: \(stats.playedFrames) of \(stats.inboundFrames) frames to the agent, \(stats.droppedFrames) dropped, "
                    + "\(stats.insertedSilence) inserted")
            print("wrote \(output) (stereo: the caller left, the agent right, 8 kHz)")
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
/// turn) followed by as much silence as it lasted plus 1.5 s: room for an echo of it before the caller goes on.
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
