//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import VoiceDSP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `voicepipe demo`: the interim main job. Sends a bundled speech recording through G.711 and back, as a
/// phone line does, and reports the round-trip signal-to-noise ratio.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Round-trip a bundled speech recording through G.711 mu-law and A-law and print the SNR."
    )

    @Option(help: "A mono WAV file to use instead of the bundled recording.")
    var input: String?

    func run() throws {
        let path = input ?? Self.bundledRecording()
        let clip: AudioClip
        do {
            clip = try WAVFile(path: path).clip
        } catch {
            printError(error.description)
            throw ExitCode(1)
        }
        let pcm = clip.pcm16
        print("input: \(path)")
        print("  \(clip.sampleRate) Hz, \(pcm.count) samples, \(formatted(clip.duration, digits: 2)) s")
        for (name, codec) in [("mu-law", RoundTrip.muLaw), ("A-law", RoundTrip.aLaw)] {
            let start = monotonicNanoseconds()
            let decoded = codec.run(pcm)
            let elapsed = monotonicNanoseconds() - start
            let snr = signalToNoiseRatio(reference: pcm, decoded: decoded)
            print(
                "\(name) round trip: SNR \(formatted(snr, digits: 1)) dB, "
                    + "\(pcm.count) samples encoded and decoded in \(formatted(Double(elapsed) / 1000, digits: 1)) us")
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

/// A G.711 encode-then-decode pass over whole buffers.
enum RoundTrip {
    case muLaw, aLaw

    func run(_ pcm: [Int16]) -> [Int16] {
        var codes = [UInt8](repeating: 0, count: pcm.count)
        var decoded = [Int16](repeating: 0, count: pcm.count)
        pcm.withUnsafeBufferPointer { src in
            codes.withUnsafeMutableBufferPointer { dst in
                switch self {
                case .muLaw: MuLaw.encode(src, into: dst)
                case .aLaw: ALaw.encode(src, into: dst)
                }
            }
        }
        codes.withUnsafeBufferPointer { src in
            decoded.withUnsafeMutableBufferPointer { dst in
                switch self {
                case .muLaw: MuLaw.decode(src, into: dst)
                case .aLaw: ALaw.decode(src, into: dst)
                }
            }
        }
        return decoded
    }
}

/// 10·log10(signal energy / error energy), in dB.
func signalToNoiseRatio(reference: [Int16], decoded: [Int16]) -> Double {
    var signal = 0.0
    var noise = 0.0
    for (a, b) in zip(reference, decoded) {
        signal += Double(a) * Double(a)
        noise += (Double(a) - Double(b)) * (Double(a) - Double(b))
    }
    return noise == 0 ? .infinity : 10 * log10(signal / noise)
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

func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
