//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import VoiceDSP
import VoicePipeServer
import VoicePipeTesting

/// `voicepipe call`: a simulated Twilio caller.
struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Call a media-stream server as Twilio would, with a recording as the caller.",
        discussion: """
            Sends connected, start and the recording as 20 ms media frames in real time, plays the agent's audio in \
            real time (echoing marks as Twilio does), and prints each turn's latency: the caller's last speech \
            sample to the first reply frame received.
            """)

    @Option(help: "The media stream URL, e.g. ws://127.0.0.1:8080/twilio/media.") var url: String
    @Option(help: "The caller's speech: a WAV file (any rate; mono, or downmixed).") var input: String
    @Option(help: "Where to write the agent's audio as the caller heard it (8 kHz WAV).") var output: String?
    @Option(help: "Silence after the recording before hanging up, in ms.") var tail = 3000
    @Flag(help: "Print one JSON object instead of a table.") var json = false

    func run() async throws {
        let audio = try loadCallerAudio(input)
        let result: SimulatedCaller.Result
        do {
            result = try await SimulatedCaller(.init(url: url, audio: audio, tailMilliseconds: tail), logger: quietLogger()).run()
        } catch {
            printError("call to \(url) failed: \(error)")
            throw ExitCode(1)
        }
        if let output { try writeReply(result.reply, to: output) }
        report(result, json: json)
    }
}

/// The caller's audio at 8 kHz, or exit 1 with a line on stderr.
func loadCallerAudio(_ path: String) throws -> [Float] {
    do {
        let clip = try WAVFile(path: path, channels: .downmix).clip
        if clip.sampleRate == 8000 { return clip.samples }
        return try Resampler(inputRate: clip.sampleRate, outputRate: 8000, quality: .high).resample(clip.samples)
    } catch let error as WAVError {
        printError(error.description)
        throw ExitCode(1)
    } catch {
        printError("\(path): \(error)")
        throw ExitCode(1)
    }
}

func writeReply(_ reply: [Float], to path: String) throws {
    do {
        try WAVFile.write(AudioClip(sampleRate: 8000, samples: reply), encoding: .pcm16, to: path)
    } catch {
        printError(error.description)
        throw ExitCode(1)
    }
}

/// Writes a call as the caller lived it: stereo, 8 kHz, what the caller said on the left and what they heard
/// of the agent on the right, on the call's timeline.
func writeCallRecording(_ result: SimulatedCaller.Result, to path: String) throws {
    let caller = result.sent.map { Float(MuLaw.decode($0)) / 32768 }
    do {
        try WAVFile.writeStereo(left: caller, right: result.reply, sampleRate: 8000, to: path)
    } catch {
        printError(error.description)
        throw ExitCode(1)
    }
}

func quietLogger() -> Logger {
    var logger = Logger(label: "voicepipe")
    logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}

/// Prints the turns: a table, or one JSON object.
func report(_ result: SimulatedCaller.Result, json: Bool) {
    if json {
        struct Output: Encodable {
            var turns: [SimulatedCaller.Turn]
            var latencies: [Double?]
            var framesSent: Int
            var mediaReceived: Int
            var marksEchoed: Int
            var clears: Int
            var lateSends: Int
            var protocolErrors: [String]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let output = Output(
            turns: result.turns, latencies: result.turns.map(\.latency), framesSent: result.framesSent,
            mediaReceived: result.mediaReceived, marksEchoed: result.marksEchoed, clears: result.clears,
            lateSends: result.lateSends, protocolErrors: result.protocolErrors)
        print(String(decoding: (try? encoder.encode(output)) ?? Data(), as: UTF8.self))
        return
    }
    print("turn  caller stopped  first reply  latency")
    for (index, turn) in result.turns.enumerated() {
        let reply = turn.firstReply.map { formatted($0 / 1000, digits: 2) + " s" } ?? "-"
        let latency = turn.latency.map { "\(Int($0.rounded())) ms" } ?? "no reply"
        print(
            "\(String(index + 1).padding(toLength: 6, withPad: " ", startingAt: 0))"
                + "\(formatted(turn.lastSpeech / 1000, digits: 2) + " s")".padding(toLength: 16, withPad: " ", startingAt: 0)
                + reply.padding(toLength: 13, withPad: " ", startingAt: 0) + latency)
    }
    print(
        "\(result.framesSent) frames sent, \(result.mediaReceived) received, \(result.marksEchoed) marks echoed, "
            + "\(result.clears) clears, \(result.protocolErrors.count) protocol errors")
}
