//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import VoiceAgent
import VoiceDSP
import VoiceSpeechLocal

/// `voicepipe transcribe FILE.wav... | --list SET.tsv [--vocabulary V] [--cold] [--rtf]`: offline recognition
/// of recordings as if they came down a phone line.
struct Transcribe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Transcribe WAV files with pocketsphinx, as if each came down a phone line.",
        discussion: """
            Each file is taken to 8 kHz (resampled if needed), put through G.711 mu-law encoding and decoding, \
            upsampled to 16 kHz and fed to the recogniser in 20 ms chunks, as VoicePipe's call path does. By \
            default one recognition session hears all files in order, one utterance each, like one call (the \
            decoder adapts to the line); --cold starts a fresh session for every file (a first utterance).

            Prints one line per file: the file (or, with --list, the id), a tab, the text. --list SET.tsv \
            reads lines "id<TAB>path<TAB>reference" (a path is absolute or relative to the current \
            directory; the reference is ignored; empty lines and lines starting with # are skipped).
            """
    )

    /// What the recogniser listens for.
    enum Vocabulary: String, CaseIterable, ExpressibleByArgument {
        /// The generic English language model.
        case open
        /// The phrases of --phrases FILE and/or digits (--digits).
        case phrases
        /// The phrases (and digits) of a playbook: --playbook FILE, or the bundled front desk.
        case playbook
    }

    @Argument(help: "WAV files, transcribed in this order.")
    var files: [String] = []

    @Option(help: "A set of files: lines \"id<TAB>path<TAB>reference\"; prints \"id<TAB>hypothesis\" per line.")
    var list: String?

    @Option(
        name: [.customLong("vocabulary"), .customLong("stt-vocabulary")],
        help: "open (generic English), phrases (--phrases FILE and/or --digits) or playbook (--playbook FILE).")
    var vocabulary: Vocabulary = .open

    @Option(help: "For --vocabulary phrases: a file with one phrase per line.")
    var phrases: String?

    @Flag(help: "For --vocabulary phrases: callers may also say strings of digits.")
    var digits = false

    @Option(help: "For --vocabulary playbook: the playbook file (JSON; default: the bundled front desk).")
    var playbook: String?

    @Flag(help: "A fresh recognition session for every file (default: one session across all files, like a call).")
    var cold = false

    @Flag(help: "Start decoders from the model's own initial cepstral mean (wideband speech) instead of the telephony one.")
    var modelCepstralMean = false

    @Flag(help: "Print to standard error the CPU seconds spent per second of audio.")
    var rtf = false

    @Flag(help: "Print to standard error the decoder's cepstral mean after each file, and their mean after the 20th.")
    var printCepstralMean = false

    func validate() throws {
        if files.isEmpty && list == nil { throw ValidationError("give WAV files or --list SET.tsv") }
        if !files.isEmpty && list != nil { throw ValidationError("give WAV files or --list, not both") }
        if vocabulary == .phrases && phrases == nil && !digits {
            throw ValidationError("--vocabulary phrases needs --phrases FILE or --digits")
        }
        if vocabulary != .phrases && (phrases != nil || digits) {
            throw ValidationError("--phrases and --digits go with --vocabulary phrases")
        }
        if vocabulary != .playbook && playbook != nil { throw ValidationError("--playbook goes with --vocabulary playbook") }
    }

    /// The `-cmninit` of Debian's en-us model (its `feat.params`): what a straightforward integration starts from.
    static let modelCepstralMean: [Float] = [41.00, -5.29, -0.12, 5.09, 2.48, -4.07, -1.37, -1.78, -5.08, -2.05, -6.45, -1.42, 1.17]

    func run() throws {
        let items = try loadItems()
        let recognizer: PocketSphinxRecognizer
        do {
            recognizer = try PocketSphinxRecognizer(
                vocabulary: try recognizerVocabulary(),
                cepstralMeanInit: modelCepstralMean ? Self.modelCepstralMean : PocketSphinxRecognizer.telephonyCepstralMean)
        } catch let error as LocalSpeechError {
            printError(error.description)
            throw ExitCode(1)
        }
        let start = CPUClock.now
        var startupSeconds = 0.0
        var decodingSeconds = 0.0
        var audioSeconds = 0.0
        var means: [[Float]] = []
        var session: PocketSphinxSession?
        do {
            for item in items {
                let audio = try Self.phoneAudio(item.path)
                var before = CPUClock.now
                if cold || session == nil {
                    session = try recognizer.makeSynchronousSession()
                    let after = CPUClock.now
                    startupSeconds += after - before
                    before = after
                }
                let transcript = try Self.recognise(audio, session: session!)
                decodingSeconds += CPUClock.now - before
                audioSeconds += Double(audio.count) / 8000
                print("\(item.id)\t\(transcript.text)")
                if printCepstralMean {
                    let mean = session!.cepstralMean
                    means.append(mean)
                    printError("cepstral mean after \(item.id): \(Self.list(mean))")
                }
            }
        } catch let error as LocalSpeechError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as WAVError {
            printError(error.description)
            throw ExitCode(1)
        } catch let error as ResamplerError {
            printError(error.description)
            throw ExitCode(1)
        }
        if printCepstralMean, let averaged = Self.average(means.count > 20 ? Array(means.dropFirst(20)) : means) {
            printError("cepstral mean over \(means.count > 20 ? means.count - 20 : means.count) files: \(Self.list(averaged))")
        }
        if rtf {
            let total = CPUClock.now - start
            let sessions = cold ? items.count : min(1, items.count)
            printError(
                "rtf \(formatted(decodingSeconds / max(audioSeconds, 1e-9), digits: 3)) (\(formatted(decodingSeconds, digits: 2)) CPU s "
                    + "decoding \(formatted(audioSeconds, digits: 1)) s of audio; \(formatted(startupSeconds, digits: 2)) CPU s starting "
                    + "\(sessions) decoder(s); \(formatted(total, digits: 2)) CPU s in all)")
        }
    }

    /// The files to transcribe, with their ids.
    private func loadItems() throws -> [(id: String, path: String)] {
        guard let list else { return files.map { ($0, $0) } }
        let text: String
        do { text = try String(contentsOfFile: list, encoding: .utf8) } catch {
            printError("cannot read \(list): \(error.localizedDescription)")
            throw ExitCode(1)
        }
        var items: [(id: String, path: String)] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.hasSuffix("\r") ? line.dropLast() : line[...]
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count >= 2, !fields[0].isEmpty, !fields[1].isEmpty else {
                printError("\(list):\(number + 1): expected id<TAB>path<TAB>reference")
                throw ExitCode(1)
            }
            items.append((String(fields[0]), String(fields[1])))
        }
        return items
    }

    /// The recogniser's vocabulary from the options.
    private func recognizerVocabulary() throws -> PocketSphinxRecognizer.Vocabulary {
        switch vocabulary {
        case .open:
            return .open
        case .phrases:
            var lines: [String] = []
            if let phrases {
                do {
                    lines = try String(contentsOfFile: phrases, encoding: .utf8).split(whereSeparator: \.isNewline).map(String.init)
                } catch {
                    printError("cannot read \(phrases): \(error.localizedDescription)")
                    throw ExitCode(1)
                }
            }
            return .phrases(lines.filter { !$0.allSatisfy(\.isWhitespace) }, digits: digits)
        case .playbook:
            let book: Playbook
            if let playbook {
                do { book = try Playbook(contentsOf: playbook) } catch {
                    printError("--playbook: \(error)")
                    throw ExitCode(1)
                }
            } else {
                book = .frontDesk
            }
            return .phrases(book.phrases, digits: book.expectsDigits)
        }
    }

    /// A file as the phone delivers it: 8 kHz (resampled if needed), through µ-law and back, as Float.
    static func phoneAudio(_ path: String) throws -> [Float] {
        var clip = try WAVFile(path: path, channels: .downmix).clip
        if clip.sampleRate != 8000 {
            clip = AudioClip(
                sampleRate: 8000,
                samples: try Resampler(inputRate: clip.sampleRate, outputRate: 8000, quality: .high).resample(clip.samples))
        }
        let pcm = clip.pcm16
        var codes = [UInt8](repeating: 0, count: pcm.count)
        var decoded = [Int16](repeating: 0, count: pcm.count)
        pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
        codes.withUnsafeBufferPointer { input in decoded.withUnsafeMutableBufferPointer { MuLaw.decode(input, into: $0) } }
        return decoded.map { Float($0) / 32768 }
    }

    /// Upsamples 8 kHz audio to 16 kHz 20 ms at a time into the session, as one utterance, and ends it.
    static func recognise(_ audio: [Float], session: PocketSphinxSession) throws -> Transcript {
        let resampler = try Resampler(inputRate: 8000, outputRate: 16000)
        var output = [Float](repeating: 0, count: resampler.maximumOutputCount(forInputCount: 160) + resampler.pendingOutputCount + 64)
        try audio.withUnsafeBufferPointer { input in
            var start = 0
            while start < input.count {
                let frame = UnsafeBufferPointer(rebasing: input[start..<min(start + 160, input.count)])
                let made = output.withUnsafeMutableBufferPointer { resampler.process(frame, into: $0) }
                try output.withUnsafeBufferPointer { try session.accept(UnsafeBufferPointer(rebasing: $0[..<made])) }
                start += 160
            }
        }
        if output.count < resampler.pendingOutputCount { output = [Float](repeating: 0, count: resampler.pendingOutputCount) }
        let tail = output.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
        try output.withUnsafeBufferPointer { try session.accept(UnsafeBufferPointer(rebasing: $0[..<tail])) }
        return try session.endUtterance()
    }

    /// The element-wise mean of `vectors`.
    private static func average(_ vectors: [[Float]]) -> [Float]? {
        guard let first = vectors.first else { return nil }
        var sum = [Double](repeating: 0, count: first.count)
        for vector in vectors where vector.count == sum.count {
            for i in vector.indices { sum[i] += Double(vector[i]) }
        }
        return sum.map { Float($0 / Double(vectors.count)) }
    }

    /// Values with two decimals, comma-separated (the form of `-cmninit`).
    private static func list(_ values: [Float]) -> String {
        values.map { formatted(Double($0), digits: 2) }.joined(separator: ",")
    }
}

/// The process's CPU time (user + system), in seconds.
private enum CPUClock {
    static var now: Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }
}
