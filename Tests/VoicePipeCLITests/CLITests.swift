//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// Runs the built `voicepipe` binary, which sits next to the test bundle in the build folder.
struct VoicePipeCLI {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static var binary: URL {
        let testBinary = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return testBinary.deletingLastPathComponent().appendingPathComponent("voicepipe")
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil) throws -> Result {
        let binary = Self.binary
        try #require(
            FileManager.default.isExecutableFile(atPath: binary.path),
            "\(binary.path) is missing: build it first (swift build --build-tests)")
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let environment { process.environment = environment }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// A fresh temporary directory, removed at the end of the test.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("voicepipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

@Suite("voicepipe convert")
struct ConvertCommandTests {
    @Test("converts the bundled speech to every encoding and back to 16-bit PCM within G.711's error")
    func convertsEveryEncoding() throws {
        let dir = try TemporaryDirectory()
        let speech = TestVectors.path("speech/demo-call.wav")
        let original = try WAVFile(path: speech)
        for encoding in ["pcm16", "float32", "mulaw", "alaw"] {
            let converted = dir.path("speech-\(encoding).wav")
            let result = try VoicePipeCLI.run(["convert", speech, converted, "--encoding", encoding])
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.isEmpty)
            let file = try WAVFile(path: converted)
            #expect(file.encoding.rawValue == encoding)
            #expect(file.clip.sampleRate == 8000)
            let expected: [Int16] =
                switch encoding {
                case "mulaw": original.clip.pcm16.map { MuLaw.decode(MuLaw.encode($0)) }
                case "alaw": original.clip.pcm16.map { ALaw.decode(ALaw.encode($0)) }
                default: original.clip.pcm16
                }
            #expect(file.clip.pcm16 == expected, "\(encoding)")

            let back = dir.path("back-\(encoding).wav")
            #expect(try VoicePipeCLI.run(["convert", converted, back, "--encoding", "pcm16"]).status == 0)
            #expect(try WAVFile(path: back).clip.pcm16 == expected)
        }
    }

    @Test("keeps the input's encoding when none is given, and --downmix averages stereo")
    func defaultsAndDownmix() throws {
        let dir = try TemporaryDirectory()
        let ulaw = dir.path("in.wav")
        try WAVFile.write(AudioClip(sampleRate: 8000, pcm16: [0, 1000, -1000]), encoding: .muLaw, to: ulaw)
        #expect(try VoicePipeCLI.run(["convert", ulaw, dir.path("out.wav")]).status == 0)
        #expect(try WAVFile(path: dir.path("out.wav")).encoding == .muLaw)

        // A stereo file built by hand: left 1000, right 3000 -> 2000.
        var stereo = Array("RIFF".utf8) + [0, 0, 0, 0] + Array("WAVEfmt ".utf8) + [16, 0, 0, 0, 1, 0, 2, 0]
        stereo += [0x40, 0x1F, 0, 0, 0, 0x7D, 0, 0, 4, 0, 16, 0] + Array("data".utf8) + [4, 0, 0, 0]
        stereo += [0xE8, 0x03, 0xB8, 0x0B]
        let stereoPath = dir.path("stereo.wav")
        try Data(stereo).write(to: URL(fileURLWithPath: stereoPath))
        let refused = try VoicePipeCLI.run(["convert", stereoPath, dir.path("mono.wav")])
        #expect(refused.status == 1)
        #expect(refused.stderr == "voicepipe: unsupported WAV file: 2 channels; only mono is read unless downmixing is requested\n")
        #expect(try VoicePipeCLI.run(["convert", stereoPath, dir.path("mono.wav"), "--downmix"]).status == 0)
        #expect(try WAVFile(path: dir.path("mono.wav")).clip.pcm16 == [2000])
    }

    @Test("bad input gives one line on stderr naming the problem and a non-zero exit")
    func badInput() throws {
        let dir = try TemporaryDirectory()
        let truncated = dir.path("truncated.wav")
        let speech = try TestVectors.bytes("speech/demo-call.wav")
        try Data(speech[..<1000]).write(to: URL(fileURLWithPath: truncated))
        let notWAV = dir.path("notwav.wav")
        try Data("hello, this is not audio".utf8).write(to: URL(fileURLWithPath: notWAV))

        let cases: [([String], String)] = [
            (
                ["convert", truncated, dir.path("o.wav")],
                "voicepipe: truncated WAV file: 'data' chunk needs 222450 bytes but only 956 remain"
            ),
            (["convert", notWAV, dir.path("o.wav")], "voicepipe: not a WAV file: no RIFF header"),
            (
                ["convert", dir.path("missing.wav"), dir.path("o.wav")],
                "voicepipe: cannot open '\(dir.path("missing.wav"))': No such file or directory"
            ),
            (
                ["convert", TestVectors.path("speech/demo-call.wav"), dir.path("no/such/dir.wav")],
                "voicepipe: cannot create '\(dir.path("no/such/dir.wav"))': No such file or directory"
            ),
            (
                ["convert", TestVectors.path("speech/demo-call.wav"), dir.path("o.wav"), "--rate", "44100", "--resampler", "native"],
                "voicepipe: the native resampler does not support 8000 Hz to 44100 Hz; use libsamplerate"
            ),
            (
                ["convert", TestVectors.path("speech/demo-call.wav"), dir.path("o.wav"), "--rate", "0"],
                "voicepipe: invalid sample rate 0 Hz (accepted: 1 to 768000 Hz)"
            ),
        ]
        for (arguments, message) in cases {
            let result = try VoicePipeCLI.run(arguments)
            #expect(result.status != 0, "\(arguments)")
            #expect(result.stderr == message + "\n", "\(arguments)")
            #expect(result.stdout.isEmpty)
        }
        let unknown = try VoicePipeCLI.run(["convert", TestVectors.path("speech/demo-call.wav"), dir.path("o.wav"), "--encoding", "mp3"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.contains("mp3"))
    }
}

@Suite("voicepipe convert --rate")
struct ConvertRateTests {
    @Test(
        "resamples with the library's resampler, native or libsamplerate",
        arguments: [
            (16000, "auto", "high", Resampler.Backend.native),
            (24000, "native", "telephony", .native),
            (44100, "auto", "high", .libsamplerate(.sincMedium)),
            (16000, "libsamplerate", "high", .libsamplerate(.sincBest)),
        ])
    func resamples(rate: Int, resampler: String, quality: String, backend: Resampler.Backend) throws {
        let dir = try TemporaryDirectory()
        let speech = TestVectors.path("speech/demo-call.wav")
        let out = dir.path("out.wav")
        let result = try VoicePipeCLI.run(
            ["convert", speech, out, "--rate", String(rate), "--resampler", resampler, "--quality", quality])
        #expect(result.status == 0, "\(result.stderr)")
        let converted = try WAVFile(path: out)
        #expect(converted.clip.sampleRate == rate)
        let original = try WAVFile(path: speech).clip
        let expected = try Resampler(
            inputRate: 8000, outputRate: rate, quality: quality == "high" ? .high : .telephony, backend: backend
        ).resample(original.samples)
        #expect(converted.clip.pcm16 == AudioClip(sampleRate: rate, samples: expected).pcm16)
        #expect(converted.clip.samples.count == (original.samples.count * rate + 7999) / 8000)
    }
}

@Suite("voicepipe vad")
struct VADCommandTests {
    struct Output: Decodable {
        struct Segment: Decodable {
            var start: Double
            var end: Double
        }
        var segments: [Segment]
    }

    @Test("--json prints exactly one JSON object with ascending segments covering the recording's prompts")
    func json() throws {
        let result = try VoicePipeCLI.run(["vad", TestVectors.path("speech/demo-call.wav"), "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.split(separator: "\n").count == 1)
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        #expect(!output.segments.isEmpty)
        for (a, b) in zip(output.segments, output.segments.dropFirst()) { #expect(a.end < b.start) }
        for segment in output.segments { #expect(segment.start < segment.end) }
        // "Hello." is the first prompt (0 - 0.786 s); the last ends with the file (13.903 s).
        #expect(output.segments.first!.start < 0.3)
        #expect(output.segments.last!.end > 13.5)
    }

    @Test("plain output is one segment per line; bad input is one error line")
    func plainAndErrors() throws {
        let plain = try VoicePipeCLI.run(["vad", TestVectors.path("speech/demo-call.wav")])
        #expect(plain.status == 0)
        #expect(plain.stdout.split(separator: "\n").allSatisfy { $0.contains(" - ") })
        let missing = try VoicePipeCLI.run(["vad", "/nonexistent.wav"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "voicepipe: cannot open '/nonexistent.wav': No such file or directory\n")
        let sensitivity = try VoicePipeCLI.run(["vad", TestVectors.path("speech/demo-call.wav"), "--sensitivity", "3"])
        #expect(sensitivity.status == 1)
        #expect(sensitivity.stderr == "voicepipe: sensitivity must be between 0 and 1, got 3.0\n")
    }
}

@Suite("voicepipe demo")
struct DemoCommandTests {
    struct Output: Decodable {
        struct Turn: Decodable {
            var lastSpeech: Double
            var firstReply: Double?
        }
        var turns: [Turn]
        var framesSent: Int
        var mediaReceived: Int
        var marksEchoed: Int
        var protocolErrors: [String]
    }

    @Test("the echo demo: server and simulated call in one command, every turn answered, the call recorded in stereo")
    func demo() throws {
        let dir = try TemporaryDirectory()
        let reply = dir.path("call.wav")
        let result = try VoicePipeCLI.run(["demo", "--agent", "echo", "--output", reply, "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let output = try JSONDecoder().decode(Output.self, from: Data(result.stdout.utf8))
        // The bundled recording has four sentences (the second with long pauses): each turn gets an echo.
        #expect(output.turns.count >= 4, "\(result.stdout)")
        for turn in output.turns {
            let latency = try #require(turn.firstReply.map { $0 - turn.lastSpeech }, "unanswered turn at \(turn.lastSpeech) ms")
            #expect(latency > 400 && latency < 2000, "latency \(latency) ms")
        }
        #expect(output.protocolErrors.isEmpty && output.marksEchoed == output.mediaReceived && output.mediaReceived > 200)
        let wav = try WAVFile(path: reply, channels: .downmix)
        #expect(wav.channelCount == 2 && wav.clip.sampleRate == 8000 && wav.clip.samples.count == output.framesSent * 160)
        #expect(wav.clip.samples.contains { abs($0) > 0.05 })  // the caller's and the agent's voices are in it
    }

    struct Record: Decodable {
        struct Turn: Decodable {
            var callerText: String?
            var agentText: String
            var heardText: String?
            var interrupted: Bool
            var latency: [String: Double]
        }
        var callSid: String
        var turns: [Turn]
    }

    @Test("the cascade demo converses: recognised words, a barge-in, a goodbye that hangs up, GET /calls/{callSid}")
    func conversation() throws {
        let dir = try TemporaryDirectory()
        let call = dir.path("call.wav")
        let result = try VoicePipeCLI.run(["demo", "--output", call, "--json"])
        // The demo exits 1 unless every line was said, the agent was interrupted and it hung up.
        #expect(result.status == 0, "\(result.stderr)")
        let record = try JSONDecoder().decode(Record.self, from: Data(result.stdout.utf8))
        #expect(record.turns.count == 4, "\(result.stdout)")
        guard record.turns.count == 4 else { return }
        // What the recogniser heard: the line's words or close (pocketsphinx hears "five" as "nine" on the phone).
        #expect(record.turns[0].callerText == "telephone number")
        #expect(record.turns[2].callerText == "tomorrow")
        #expect(record.turns[1].callerText?.hasSuffix("one two three four") == true)
        // The second line cut the callback reply: the caller heard part of it, and the number was read back.
        #expect(record.turns[0].interrupted && record.turns[0].agentText.hasPrefix(record.turns[0].heardText ?? "-"))
        #expect((record.turns[0].heardText ?? "").count < record.turns[0].agentText.count)
        // The number is read back in groups ("nine nine one, two three four"): its last four digits at least.
        #expect(record.turns[1].agentText.contains("two three four"))
        #expect(record.turns[3].agentText == "Thank you for calling. Goodbye.")
        for turn in record.turns {
            let response = try #require(turn.latency["response"])
            #expect(response > 400 && response < 1200, "response \(response) ms")
            #expect(try #require(turn.latency["recognizer"]) < 300)
        }
        let wav = try WAVFile(path: call, channels: .downmix)
        #expect(wav.channelCount == 2 && wav.clip.sampleRate == 8000 && wav.clip.duration > 15)
    }
}
