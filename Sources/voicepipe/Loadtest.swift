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
import Synchronization
import TwilioMediaStreams
import VoiceAgent
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting
import VoiceProvidersTesting

/// `voicepipe loadtest`: many simulated calls at once against a server.
struct Loadtest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Place many simulated Twilio calls at once and report late frames, latency, CPU and memory.",
        discussion: """
            Without --url, starts `voicepipe serve` (this binary) as a separate process on a free port, so that its \
            CPU time and memory can be read from /proc while the callers run in this process. Each caller speaks \
            the bundled recording (sentences spaced for the echo agent's replies), repeated to fill --duration.
            """)

    @Option(help: "Concurrent calls.") var calls = 100
    @Option(help: "Length of each call, in seconds.") var duration = 30
    @Option(help: "A running server's media URL (default: start one).") var url: String?
    @Option(help: "The agent of the started server: echo, tone, cascade or realtime.") var agent = AgentKind.echo
    @Option(help: "The voice activity detector of the started server: silero or classic.") var vad = VoiceActivityDetector.Model.silero
    @Flag(help: "Callers talk over the echo (the recording as it is, not spaced for replies): measures barge-ins.")
    var bargeIn = false
    @Option(
        help:
            "The started server's agent sample rate (default 8000, or 16000 for a cascade on pocketsphinx); at 8000 the echo is checked byte for byte against each caller's audio."
    )
    var agentSampleRate: Int?
    @Option(
        help:
            "Start local stand-ins of the hosted providers with these delays (published or immediate) and point the started server at them."
    )
    var standIns: StandInLatency?
    @Option(help: "The started server's store (sqlite:PATH or postgres://…): its turn writes are counted in the report.")
    var store = StoreLocation.none
    @Flag(help: "Print one JSON object.") var json = false
    @OptionGroup(title: "Cascade agent (--agent cascade: each caller holds the demo's conversation, line after line)")
    var cascade: CascadeOptions

    /// What one caller heard.
    struct CallHeard: Encodable {
        var callSid: String
        var heard: EchoCheck
    }

    struct Report: Encodable {
        var calls: Int
        var durationSeconds: Int
        var completedCalls: Int
        var failedCalls: Int
        var turns: Int
        var repliedTurns: Int
        var responseP50Milliseconds: Double?
        var responseP99Milliseconds: Double?
        var server: ServerStatistics.Snapshot?
        var serverCPUSecondsPerCallSecond: Double?
        var serverRSSBaselineMiB: Double?
        var serverRSSPeakMiB: Double?
        var serverMemoryPerCallMiB: Double?
        var callerLateSends: Int
        /// Echo agent at 8 kHz: what every caller heard, checked against what it sent (all calls together).
        var echoCheck: EchoCheck?
        /// Calls whose echo was not intact.
        var damagedCalls: Int?
        /// Each call's echo check, by call SID (JSON only).
        var callsHeard: [CallHeard]?
        /// Interruptions: `clear`s received by the callers.
        var bargeIns: Int
        /// From the caller's first speech sample to the `clear`, caller-side, p50 and p99 (ms).
        var speechToClearP50Milliseconds: Double?
        var speechToClearP99Milliseconds: Double?
        /// Agent audio the caller still heard after a `clear`, in total (ms).
        var agentAudioAfterClearMilliseconds: Double
        /// The cascade's stages, from the server's call records, paired with what the callers measured.
        var stages: StageReport?
        var loadGeneratorCPUSecondsPerCallSecond: Double?
    }

    func run() async throws {
        let recording = try loadCallerAudio(Demo.bundledRecording())
        var audio = bargeIn ? recording : spacedTurns(recording)
        let target = duration * 8000
        while audio.count < target { audio += audio }
        audio = Array(audio.prefix(target))

        let sampleRate = agentSampleRate ?? (agent == .echo || agent == .tone ? 8000 : agent.preferredSampleRate(cascade))
        var suite: StandInSuite?
        if let standIns {
            var quiet = Logger(label: "voicepipe.stand-ins")
            quiet.logLevel = .error
            suite = try await StandInSuite.start(
                // What the callers say (the demo's lines without the goodbye, as `conversation(lasting:)`): a
                // goodbye would make the model hang up mid-test.
                latency: standIns.value, transcripts: try Demo.callerLines().map(\.text).filter { $0 != "goodbye" },
                voices: [SynthesizerKind.elevenlabs.defaultVoice], logger: quiet)
        }
        var child: Process?
        var base = url
        if base == nil {
            let (process, port) = try startServer(sampleRate: sampleRate, providerEnvironment: suite?.environment ?? [:])
            child = process
            base = "ws://127.0.0.1:\(port)/twilio/media"
        }
        defer { child?.terminate() }
        let mediaURL = base!
        let pid = child?.processIdentifier
        let cpuBefore = pid.flatMap(Self.cpuSeconds)
        let ownBefore = Self.cpuSeconds(getpid())
        let rssBaseline = pid.flatMap(Self.rssMiB)
        let peak = PeakRSS()
        let sampler = Task {
            while !Task.isCancelled, let pid {
                if let rss = Self.rssMiB(pid) { peak.update(rss) }
                try? await Task.sleep(for: .milliseconds(250))
            }
        }
        if !json { print("loadtest: \(calls) calls of \(duration) s against \(mediaURL)") }

        let callerAudio = audio
        let count = calls
        let seconds = duration
        // The cascade: the demo's lines but the goodbye (the agent would hang up), over and over, each after
        // the agent's reply, until the call's time is up.
        let script = agent == .cascade || agent == .realtime ? Self.conversation(lasting: duration) : []
        let results = await withTaskGroup(of: (callSid: String, result: SimulatedCaller.Result?).self) { group in
            for index in 0..<count {
                group.addTask {
                    try? await Task.sleep(for: .milliseconds(index * 1000 / max(count, 1)))  // spread the starts over 1 s
                    let sid = String(format: "%032x", index)
                    // Each caller has a number of its own, so that a server with a store keeps one contact per call.
                    let call = TwilioStreamSimulator.Configuration(
                        callSid: "CA" + sid, streamSid: "MZ" + sid,
                        customParameters: [("From", String(format: "+1555%07d", index)), ("To", "+15005550006")])
                    let caller = SimulatedCaller(
                        script.isEmpty
                            ? .init(url: mediaURL, audio: callerAudio, tailMilliseconds: 1000, call: call)
                            : .init(url: mediaURL, script: script, tailMilliseconds: 1000, maximumMilliseconds: seconds * 1000, call: call),
                        logger: quietLogger())
                    return ("CA" + sid, try? await caller.run())
                }
            }
            var results: [(callSid: String, result: SimulatedCaller.Result?)] = []
            for await result in group { results.append(result) }
            return results
        }
        try? await Task.sleep(for: .milliseconds(500))  // let the server finish its calls' bookkeeping
        sampler.cancel()
        let cpuAfter = pid.flatMap(Self.cpuSeconds)
        let ownAfter = Self.cpuSeconds(getpid())
        let server = await Self.fetchStatistics(mediaURL)

        let completed = results.compactMap(\.result)
        let turns = completed.flatMap(\.turns)
        let latencies = turns.compactMap(\.latency)
        var report = Report(
            calls: calls, durationSeconds: duration, completedCalls: completed.count, failedCalls: calls - completed.count,
            turns: turns.count, repliedTurns: latencies.count,
            responseP50Milliseconds: CallSummary.percentile(latencies, 0.5),
            responseP99Milliseconds: CallSummary.percentile(latencies, 0.99),
            server: server, callerLateSends: completed.reduce(0) { $0 + $1.lateSends }, bargeIns: 0,
            agentAudioAfterClearMilliseconds: 0)
        let interruptions = completed.flatMap(\.bargeIns)
        report.bargeIns = interruptions.count
        report.speechToClearP50Milliseconds = CallSummary.percentile(interruptions.compactMap(\.speechToClear), 0.5)
        report.speechToClearP99Milliseconds = CallSummary.percentile(interruptions.compactMap(\.speechToClear), 0.99)
        report.agentAudioAfterClearMilliseconds = interruptions.reduce(0) { $0 + $1.agentAudioAfterClear }
        if let before = cpuBefore, let after = cpuAfter {
            report.serverCPUSecondsPerCallSecond = (after - before) / Double(calls * duration)
        }
        if let before = ownBefore, let after = ownAfter {
            report.loadGeneratorCPUSecondsPerCallSecond = (after - before) / Double(calls * duration)
        }
        report.serverRSSBaselineMiB = rssBaseline
        report.serverRSSPeakMiB = peak.value
        if let baseline = rssBaseline, let top = peak.value { report.serverMemoryPerCallMiB = (top - baseline) / Double(calls) }
        if agent == .cascade {
            var records: [(CallRecord, SimulatedCaller.Result)] = []
            for call in results {
                guard let result = call.result, let record = await Self.fetchRecord(mediaURL, callSid: call.callSid) else { continue }
                records.append((record, result))
            }
            report.stages = StageReport(records, providerDelays: standIns?.value)
        }
        await suite?.stop()
        if agent == .echo && sampleRate == 8000 {
            let perCall = results.compactMap { call in call.result.map { (call.callSid, EchoCheck($0)) } }
            report.echoCheck = perCall.map(\.1).reduce(EchoCheck(), +)
            report.damagedCalls = perCall.filter { !$0.1.isIntact }.count
            report.callsHeard = perCall.map { CallHeard(callSid: $0.0, heard: $0.1) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printReport(report)
        }
    }

    private func printReport(_ report: Report) {
        func ms(_ value: Double?) -> String { value.map { formatted($0, digits: 2) + " ms" } ?? "-" }
        print("calls: \(report.completedCalls) completed, \(report.failedCalls) failed")
        print(
            "turns: \(report.turns), replied \(report.repliedTurns); caller-measured response p50 \(ms(report.responseP50Milliseconds)), "
                + "p99 \(ms(report.responseP99Milliseconds))")
        if let server = report.server {
            print(
                "server: caller audio \(server.inboundFrames) frames received, \(server.playedFrames) to the agents, "
                    + "\(server.concealedFrames) concealed (skipped chunks), \(server.droppedFrames) dropped, "
                    + "\(server.insertedSilence) silences inserted; \(server.damagedCalls) calls damaged; "
                    + "\(server.outboundFrames) outbound frames; failed calls \(server.failedCalls)")
            print(
                "server: pipeline-added latency p50 \(ms(server.pipelineAddedP50)), p99 \(ms(server.pipelineAddedP99)); "
                    + "\(server.interruptions) barge-ins")
            if server.storeWrites > 0 || server.failedStoreWrites > 0 {
                let perTurn = server.turns > 0 ? formatted(Double(server.storeWrites) / Double(server.turns), digits: 2) : "-"
                print(
                    "store: \(server.storeWrites) writes (\(perTurn) per answered turn, calls' starts and ends included), "
                        + "median \(ms(server.storeWriteP50)) each, \(server.failedStoreWrites) failed; written by the transcript "
                        + "writer's task, never a call's loop")
            }
        }
        if let check = report.echoCheck, let damaged = report.damagedCalls {
            print(
                "callers: \(check.intactSegments) of \(check.segments) echoes heard intact (byte for byte), "
                    + "\(check.damagedFrames) damaged frames, \(check.playoutGaps) playout gaps "
                    + "(\(formatted(check.gapMilliseconds, digits: 0)) ms); \(damaged) of \(report.completedCalls) calls damaged")
            for call in (report.callsHeard ?? []).filter({ !$0.heard.isIntact }).prefix(10) {
                let heard = call.heard
                print(
                    "  \(call.callSid): \(heard.intactSegments) of \(heard.segments) echoes intact, \(heard.damagedFrames) damaged "
                        + "frames, \(heard.playoutGaps) playout gaps")
            }
        }
        if report.bargeIns > 0 {
            print(
                "barge-ins: \(report.bargeIns) clears; caller's first speech sample to clear p50 "
                    + "\(ms(report.speechToClearP50Milliseconds)), p99 \(ms(report.speechToClearP99Milliseconds)); agent audio heard "
                    + "after a clear: \(formatted(report.agentAudioAfterClearMilliseconds, digits: 0)) ms in total")
        }
        if let cpu = report.serverCPUSecondsPerCallSecond {
            print("server CPU: \(formatted(cpu * 1000, digits: 3)) ms per call-second (\(formatted(cpu, digits: 5)) s)")
        }
        if let perCall = report.serverMemoryPerCallMiB, let peak = report.serverRSSPeakMiB, let base = report.serverRSSBaselineMiB {
            print(
                "server memory: \(formatted(base, digits: 1)) MiB idle, \(formatted(peak, digits: 1)) MiB peak, "
                    + "\(formatted(perCall, digits: 3)) MiB per call")
        }
        if let stages = report.stages { stages.print() }
        let generatorCPU =
            report.loadGeneratorCPUSecondsPerCallSecond.map { " (" + formatted($0 * 1000, digits: 3) + " ms CPU per call-second)" } ?? ""
        print("load generator: \(report.callerLateSends) sends more than 20 ms late\(generatorCPU)")
    }

    /// The demo caller's lines without the goodbye, repeated to fill `seconds` (the call ends at its time).
    static func conversation(lasting seconds: Int) -> [SimulatedCaller.Line] {
        guard let lines = try? Demo.callerLines().filter({ $0.text != "goodbye" }), !lines.isEmpty else { return [] }
        let spoken = lines.reduce(0) { $0 + $1.audio.count } / 8000 + 1
        return (0..<max(1, seconds / spoken)).flatMap { _ in lines.map { SimulatedCaller.Line(audio: $0.audio, text: $0.text) } }
    }

    /// Starts `voicepipe serve --port 0` and reads the port it prints.
    private func startServer(sampleRate: Int, providerEnvironment: [String: String]) throws -> (Process, Int) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments =
            [
                "serve", "--port", "0", "--agent", agent.rawValue, "--vad", vad.rawValue, "--agent-sample-rate", "\(sampleRate)",
                "--store", store.argument,
            ] + cascade.arguments
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in providerEnvironment { environment[name] = value }
        environment["TWILIO_AUTH_TOKEN"] = nil
        environment["LOG_LEVEL"] = environment["LOG_LEVEL"] ?? "error"
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line = Data()
        while let byte = try pipe.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
            if byte == Data("\n".utf8) {
                let text = String(decoding: line, as: UTF8.self)
                if let port = text.split(separator: " ").last.flatMap({ Int($0) }), text.contains("listening") { return (process, port) }
                line.removeAll()
            } else {
                line += byte
            }
        }
        throw ValidationError("the server did not start")
    }

    private static func cpuSeconds(_ pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    private static func rssMiB(_ pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Double($0) }.map { $0 / 1024 }
        }
        return nil
    }

    /// `GET /calls/{callSid}` on the server of `mediaURL`.
    private static func fetchRecord(_ mediaURL: String, callSid: String) async -> CallRecord? {
        let url = mediaURL.replacingOccurrences(of: "ws://", with: "http://").replacingOccurrences(of: "/twilio/media", with: "/calls/")
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: url + callSid), timeout: .seconds(5)),
            response.status == .ok, let body = try? await response.body.collect(upTo: 1 << 22)
        else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try? decoder.decode(CallRecord.self, from: Data(body.readableBytesView))
    }

    private static func fetchStatistics(_ mediaURL: String) async -> ServerStatistics.Snapshot? {
        let health = mediaURL.replacingOccurrences(of: "ws://", with: "http://").replacingOccurrences(of: "/twilio/media", with: "/health")
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: health), timeout: .seconds(5)),
            let body = try? await response.body.collect(upTo: 1 << 20)
        else { return nil }
        return try? JSONDecoder().decode(ServerStatistics.Snapshot.self, from: Data(body.readableBytesView))
    }
}

/// The highest resident set size seen.
final class PeakRSS: Sendable {
    private let peak = Mutex<Double?>(nil)
    func update(_ value: Double) { peak.withLock { $0 = max($0 ?? 0, value) } }
    var value: Double? { peak.withLock { $0 } }
}

/// A cascade's latency by stage over every replied turn of a load test: the server's record of each turn
/// (``CallRecord/Turn/latency``) paired with what its caller measured, from the caller's last speech sample
/// to the first reply audio it received.
struct StageReport: Encodable {
    /// A stage's median and 99th percentile, in ms.
    struct Figures: Encodable {
        var p50: Double?
        var p99: Double?
        init(_ values: [Double]) {
            p50 = CallSummary.percentile(values, 0.5)
            p99 = CallSummary.percentile(values, 0.99)
        }
    }

    /// Turns with both a server record and a caller measurement.
    var turns: Int
    /// Caller-side: last speech sample to the first reply audio.
    var caller: Figures
    /// Server-side stages (see ``CallRecord/Turn/latency``).
    var endOfTurn: Figures
    var recognizer: Figures
    var model: Figures
    var clause: Figures
    var synthesizer: Figures
    /// Server-side: the caller's last speech to the first reply audio handed to the transport.
    var response: Figures
    /// The stand-ins' configured first-chunk delays summed: recogniser final + model first token + voice
    /// first audio (`nil`: real providers, not known).
    var providerDelaysMilliseconds: Double?
    /// Per turn: the caller's wait minus the trailing silence (`endOfTurn`), the model's time from its
    /// first text to its first clause (its token rate: `clause`) and the providers' first-chunk delays.
    /// What the pipeline itself adds, sockets and all.
    var pipelineAdded: Figures?

    init(_ calls: [(record: CallRecord, caller: SimulatedCaller.Result)], providerDelays: StandInSuite.Latency?) {
        var caller: [Double] = []
        var stages: [String: [Double]] = [:]
        var added: [Double] = []
        let delays = providerDelays.map {
            ($0.recognizerFinal + $0.modelFirstToken + $0.voiceFirstByte).components.attoseconds / 1_000_000_000_000_000
                + ($0.recognizerFinal + $0.modelFirstToken + $0.voiceFirstByte).components.seconds * 1000
        }
        for (record, result) in calls {
            for turn in record.turns {
                guard let lastSpeech = turn.timeline.callerLastSpeech else { continue }
                // The caller's clock starts when it connects, the server's when the stream starts: a few ms
                // apart. Pair the turn with the caller's nearest end of speech.
                guard let measured = result.turns.min(by: { abs($0.lastSpeech - lastSpeech) < abs($1.lastSpeech - lastSpeech) }),
                    abs(measured.lastSpeech - lastSpeech) < 300, let wait = measured.latency
                else { continue }
                caller.append(wait)
                for (name, value) in turn.latency { stages[name, default: []].append(value) }
                if let delays, let silence = turn.latency["endOfTurn"], let clause = turn.latency["clause"] {
                    added.append(wait - silence - clause - Double(delays))
                }
            }
        }
        turns = caller.count
        self.caller = Figures(caller)
        endOfTurn = Figures(stages["endOfTurn"] ?? [])
        recognizer = Figures(stages["recognizer"] ?? [])
        model = Figures(stages["model"] ?? [])
        clause = Figures(stages["clause"] ?? [])
        synthesizer = Figures(stages["synthesizer"] ?? [])
        response = Figures(stages["response"] ?? [])
        providerDelaysMilliseconds = delays.map(Double.init)
        pipelineAdded = delays == nil ? nil : Figures(added)
    }

    func print() {
        func ms(_ figures: Figures) -> String {
            "p50 \(figures.p50.map { formatted($0, digits: 1) } ?? "-") / p99 \(figures.p99.map { formatted($0, digits: 1) } ?? "-") ms"
        }
        Swift.print("stages over \(turns) turns: caller's wait \(ms(caller))")
        Swift.print(
            "  trailing silence \(ms(endOfTurn)); recogniser final \(ms(recognizer)); model first text \(ms(model)); "
                + "first clause \(ms(clause)); synthesiser first audio \(ms(synthesizer)); server's first reply audio "
                + "out \(ms(response)) after the last speech")
        if let delays = providerDelaysMilliseconds, let added = pipelineAdded {
            Swift.print(
                "  providers' first-chunk delays \(formatted(delays, digits: 0)) ms; pipeline added (wait − silence − clause − "
                    + "delays) \(ms(added))")
        }
    }
}
