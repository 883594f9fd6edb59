//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

/// Builds RIFF WAVE files byte by byte, including broken ones.
struct WAVBuilder {
    var formatTag: UInt16 = 1
    var channels: UInt16 = 1
    var sampleRate: UInt32 = 8000
    var bitsPerSample: UInt16 = 16
    var blockAlign: UInt16? = nil
    /// Bytes appended to the 16-byte `fmt ` body (cbSize and extension).
    var formatExtension: [UInt8] = []
    var chunksBeforeFormat: [(String, [UInt8])] = []
    var chunksBeforeData: [(String, [UInt8])] = []
    var data: [UInt8] = []
    var dataSizeOverride: UInt32? = nil
    var formType = "WAVE"

    func build() -> [UInt8] {
        var body: [UInt8] = Array(formType.utf8)
        func chunk(_ id: String, _ bytes: [UInt8], size: UInt32? = nil) {
            body += Array(id.utf8) + le32(size ?? UInt32(bytes.count)) + bytes
            if bytes.count % 2 == 1 { body.append(0) }
        }
        for (id, bytes) in chunksBeforeFormat { chunk(id, bytes) }
        let align = blockAlign ?? channels * bitsPerSample / 8
        var fmt = le16(formatTag) + le16(channels) + le32(sampleRate)
        fmt += le32(sampleRate * UInt32(align)) + le16(align) + le16(bitsPerSample) + formatExtension
        chunk("fmt ", fmt)
        for (id, bytes) in chunksBeforeData { chunk(id, bytes) }
        chunk("data", data, size: dataSizeOverride)
        return Array("RIFF".utf8) + le32(UInt32(body.count)) + body
    }

    /// The `WAVE_FORMAT_EXTENSIBLE` extension for a sub-format tag (cbSize 22, valid bits, mask, GUID).
    static func extensible(subFormat: UInt16, validBits: UInt16, guidTail: [UInt8]? = nil) -> [UInt8] {
        let tail = guidTail ?? [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        return le16(22) + le16(validBits) + le32(4) + le16(subFormat) + tail
    }
}

func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
func le32(_ v: UInt32) -> [UInt8] { le16(UInt16(v & 0xFFFF)) + le16(UInt16(v >> 16)) }
func pcmBytes(_ samples: [Int16]) -> [UInt8] { samples.flatMap { le16(UInt16(bitPattern: $0)) } }

/// A test tone: 160 samples (20 ms at 8 kHz) covering the full range, with both extremes.
let toneSamples: [Int16] = (0..<160).map { i in
    i == 7 ? .min : i == 8 ? .max : Int16((30000 * sin(2 * Double.pi * 440 * Double(i) / 8000)).rounded())
}

@Suite("WAVFile reading and writing")
struct WAVFileTests {
    @Test("a clip written in each encoding reads back as that encoding's quantised samples", arguments: AudioEncoding.allCases)
    func roundTrip(encoding: AudioEncoding) throws {
        let clip = AudioClip(sampleRate: 8000, pcm16: toneSamples)
        let bytes = try WAVFile.encode(clip, encoding: encoding)
        let file = try WAVFile(bytes: bytes)
        #expect(file.encoding == encoding)
        #expect(file.channelCount == 1)
        #expect(file.clip.sampleRate == 8000)
        let expected: [Int16] =
            switch encoding {
            case .pcm16, .float32: toneSamples
            case .muLaw: toneSamples.map { MuLaw.decode(MuLaw.encode($0)) }
            case .aLaw: toneSamples.map { ALaw.decode(ALaw.encode($0)) }
            }
        #expect(file.clip.pcm16 == expected)
    }

    @Test("32-bit float keeps values beyond 16 bits, and converting them to 16 bits clips and rounds")
    func floatPrecisionAndClipping() throws {
        let samples: [Float] = [0.1234567, -1.5, 1.5, .nan, 0.5 / 32768, -0.6 / 32768]
        let file = try WAVFile(bytes: try WAVFile.encode(AudioClip(sampleRate: 16000, samples: samples), encoding: .float32))
        #expect(file.clip.samples[0] == 0.1234567)
        #expect(file.clip.samples[1] == -1.5)
        #expect(file.clip.samples[3].isNaN)
        #expect(file.clip.pcm16 == [4045, -32768, 32767, 0, 1, -1])
    }

    @Test("the header of a written file is the canonical one")
    func canonicalHeader() throws {
        let pcm = try WAVFile.encode(AudioClip(sampleRate: 8000, pcm16: [1, -1, 3]), encoding: .pcm16)
        #expect(pcm.count == 44 + 6)
        #expect(Array(pcm[0..<4]) == Array("RIFF".utf8))
        #expect(Array(pcm[4..<8]) == le32(UInt32(pcm.count - 8)))
        #expect(Array(pcm[20..<36]) == le16(1) + le16(1) + le32(8000) + le32(16000) + le16(2) + le16(16))
        #expect(Array(pcm[40..<44]) == le32(6))

        // Odd-sized G.711 data: fmt of 18 bytes (cbSize 0), a fact chunk, and a pad byte after the data.
        let ulaw = try WAVFile.encode(AudioClip(sampleRate: 8000, pcm16: [1, -1, 3]), encoding: .muLaw)
        #expect(ulaw.count == 12 + 26 + 12 + 8 + 3 + 1)
        #expect(Array(ulaw[16..<20]) == le32(18))
        #expect(Array(ulaw[20..<22]) == le16(7))
        #expect(Array(ulaw[38..<50]) == Array("fact".utf8) + le32(4) + le32(3))
        #expect(Array(ulaw[4..<8]) == le32(UInt32(ulaw.count - 8)))
    }

    @Test("unknown chunks before and after fmt are skipped, odd-sized ones with their pad byte")
    func skipsUnknownChunks() throws {
        var builder = WAVBuilder(data: pcmBytes(toneSamples))
        builder.chunksBeforeFormat = [("JUNK", [1, 2, 3])]
        builder.chunksBeforeData = [("LIST", Array("INFOISFT".utf8) + [0, 0, 0, 1, 0x41]), ("fact", le32(160))]
        let file = try WAVFile(bytes: builder.build())
        #expect(file.clip.pcm16 == toneSamples)
    }

    @Test("WAVE_FORMAT_EXTENSIBLE is read through its sub-format", arguments: [(UInt16(1), UInt16(16)), (3, 32), (7, 8), (6, 8)])
    func extensible(subFormat: UInt16, bits: UInt16) throws {
        let encoding = AudioEncoding.allCases.first { $0.formatTag == subFormat }!
        let plain = try WAVFile.encode(AudioClip(sampleRate: 8000, pcm16: toneSamples), encoding: encoding)
        let plainFile = try WAVFile(bytes: plain)
        let dataStart = plain.count - 160 * encoding.bytesPerSample
        let builder = WAVBuilder(
            formatTag: 0xFFFE, bitsPerSample: bits,
            formatExtension: WAVBuilder.extensible(subFormat: subFormat, validBits: bits), data: Array(plain[dataStart...]))
        let file = try WAVFile(bytes: builder.build())
        #expect(file.encoding == encoding)
        #expect(file.clip == plainFile.clip)
    }

    @Test("stereo is refused unless downmixing is asked for, which averages the channels")
    func stereo() throws {
        let left: [Int16] = [1000, -2000, 32767, -32768]
        let right: [Int16] = [3000, 2000, 32767, -32767]
        let interleaved = zip(left, right).flatMap { [$0, $1] }
        let bytes = WAVBuilder(channels: 2, data: pcmBytes(interleaved)).build()
        #expect(throws: WAVError.unsupportedChannelCount(2)) { try WAVFile(bytes: bytes) }
        let file = try WAVFile(bytes: bytes, channels: .downmix)
        #expect(file.channelCount == 2)
        #expect(file.clip.samples.count == 4)
        #expect(file.clip.samples.map { $0 * 32768 } == [2000, 0, 32767, -32767.5])
    }

    @Test("a data chunk of unknown length (0xFFFFFFFF) runs to the end of the file")
    func streamingLength() throws {
        var builder = WAVBuilder(data: pcmBytes(toneSamples))
        builder.dataSizeOverride = 0xFFFF_FFFF
        #expect(try WAVFile(bytes: builder.build()).clip.pcm16 == toneSamples)
    }

    @Test("an empty data chunk is a valid empty clip")
    func emptyData() throws {
        let file = try WAVFile(bytes: WAVBuilder(data: []).build())
        #expect(file.clip.samples.isEmpty)
    }

    @Test("malformed and unsupported files throw an error that names the problem")
    func malformed() throws {
        let good = WAVBuilder(data: pcmBytes([1, 2, 3, 4]))
        func expectError(_ expected: WAVError, _ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(throws: expected, sourceLocation: sourceLocation) { try WAVFile(bytes: bytes) }
        }
        expectError(.notRIFF, [])
        expectError(.notRIFF, Array("ID3\u{3}mp3 data".utf8))
        expectError(.truncated(what: "RIFF header", needed: 12, available: 8), Array("RIFF".utf8) + le32(4))
        var b = good
        b.formType = "AVI "
        expectError(.notWAVE(formType: "AVI "), b.build())
        expectError(.missingFormatChunk, Array("RIFF".utf8) + le32(4) + Array("WAVE".utf8))
        expectError(.missingFormatChunk, Array("RIFF".utf8) + le32(16) + Array("WAVE".utf8) + Array("data".utf8) + le32(0))
        b = good
        b.channels = 0
        b.blockAlign = 2
        expectError(.malformedFormat("channel count is 0"), b.build())
        b = good
        b.sampleRate = 0
        expectError(.invalidSampleRate(0), b.build())
        b = good
        b.sampleRate = 10_000_000
        expectError(.invalidSampleRate(10_000_000), b.build())
        b = good
        b.bitsPerSample = 24
        b.blockAlign = 3
        expectError(.unsupportedEncoding("24-bit PCM"), b.build())
        b = good
        b.formatTag = 0x55
        expectError(.unsupportedEncoding("format tag 0x0055 (MPEG Layer 3), 16 bits per sample"), b.build())
        b = good
        b.blockAlign = 4
        expectError(.malformedFormat("block align is 4 bytes, expected 2 for 1 channel(s) of 16-bit PCM"), b.build())
        b = good
        b.formatTag = 0xFFFE
        b.formatExtension = WAVBuilder.extensible(subFormat: 1, validBits: 16, guidTail: Array(repeating: 7, count: 14))
        expectError(.unsupportedEncoding("WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID"), b.build())
        b = good
        b.formatTag = 0xFFFE
        b.formatExtension = le16(0)
        expectError(.malformedFormat("WAVE_FORMAT_EXTENSIBLE chunk is 18 bytes, 40 are required"), b.build())
        b = good
        b.data = [1, 2, 3]  // a sample and a half
        expectError(.truncated(what: "last sample frame of the 'data' chunk", needed: 2, available: 1), b.build())
        b = good
        b.dataSizeOverride = 100
        expectError(.truncated(what: "'data' chunk", needed: 100, available: 8), b.build())
    }

    @Test("every truncation of a valid file throws, and none crashes", arguments: AudioEncoding.allCases)
    func everyTruncation(encoding: AudioEncoding) throws {
        let full = try WAVFile.encode(AudioClip(sampleRate: 8000, pcm16: Array(toneSamples[..<21])), encoding: encoding)
        // 21 one-byte samples leave a pad byte at the end; a file without it is complete (many writers omit it).
        let complete = encoding.bytesPerSample == 1 ? full.count - 1 : full.count
        for length in 0..<complete {
            #expect(throws: WAVError.self, "prefix of \(length) bytes") { try WAVFile(bytes: Array(full[..<length])) }
        }
        #expect(try WAVFile(bytes: Array(full[..<complete])).clip.samples.count == 21)
        #expect(try WAVFile(bytes: full).clip.samples.count == 21)
    }

    @Test("random damage to the header: what the parser reads decides, and every clip it returns fits its file")
    func randomCorruption() throws {
        var rng = SplitMix64(seed: 42)
        for encoding in AudioEncoding.allCases {
            let valid = try WAVFile.encode(AudioClip(sampleRate: 8000, pcm16: toneSamples), encoding: encoding)
            let original = try WAVFile(bytes: valid).clip.samples
            let width = encoding.bytesPerSample
            let dataStart = valid.count - toneSamples.count * width  // 160 samples: no pad byte
            // Header bytes the parser never reads: the RIFF size, the byte rate and, in the 18-byte `fmt ` and
            // the `fact` chunk of the non-PCM encodings, cbSize and the sample count.
            let unread: [Range<Int>] = encoding == .pcm16 ? [4..<8, 28..<32] : [4..<8, 28..<32, 36..<38, 46..<50]
            var counts = (intactParsed: 0, intactTruncatedRefused: 0)
            for iteration in 0..<2_000 {
                var bytes = valid
                for _ in 0..<Int(rng.next() % 4 + 1) {  // one to four bytes of the first 64 overwritten
                    let offset = Int(rng.next() % 64)
                    bytes[offset] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 4 == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
                let policy: WAVFile.ChannelPolicy = rng.next() % 2 == 0 ? .downmix : .requireMono
                // Whether every header byte the parser reads is as written (only data or unread bytes changed).
                let headerIntact = (0..<min(dataStart, bytes.count)).allSatisfy { offset in
                    bytes[offset] == valid[offset] || unread.contains { $0.contains(offset) }
                }
                let label = "\(encoding), input \(iteration) (\(bytes.count) of \(valid.count) bytes)"
                let file: WAVFile
                do {
                    file = try WAVFile(bytes: bytes, channels: policy)
                } catch {
                    #expect(!headerIntact || bytes.count < valid.count, "\(label): refused, header intact: \(error)")
                    if headerIntact { counts.intactTruncatedRefused += 1 }
                    continue
                }
                // A sound header with a data chunk cut short must be refused (the declared size is not there).
                #expect(!headerIntact || bytes.count == valid.count, "\(label): a truncated file parsed")

                // Whatever it made of a damaged header, a clip the parser returns is consistent with the file.
                guard bytes.count >= 44 else {
                    Issue.record("\(label): parsed, yet the smallest WAV file has 44 bytes")
                    continue
                }
                #expect(Array(bytes[0..<4]) == Array("RIFF".utf8), "\(label)")
                #expect(Array(bytes[8..<12]) == Array("WAVE".utf8), "\(label)")
                let rate = file.clip.sampleRate
                #expect((1...WAVFile.maximumSampleRate).contains(rate), "\(label): \(rate) Hz")
                #expect(file.channelCount >= 1, "\(label)")
                #expect(policy == .downmix || file.channelCount == 1, "\(label): \(file.channelCount) channels as mono")
                // The samples came from inside the file, after the smallest possible header (44 bytes).
                let dataBytes = file.clip.samples.count * file.channelCount * file.encoding.bytesPerSample
                #expect(dataBytes <= bytes.count - 44, "\(label): \(dataBytes) bytes of samples")
                if Array(bytes[12..<16]) == Array("fmt ".utf8) {  // the format is still the first chunk: as declared
                    #expect(file.channelCount == Self.littleEndian(bytes, at: 22, count: 2), "\(label)")
                    #expect(rate == Self.littleEndian(bytes, at: 24, count: 4), "\(label)")
                }

                guard headerIntact else { continue }
                counts.intactParsed += 1
                // Only data or unread bytes changed: the same clip, except the samples whose bytes were overwritten.
                #expect(file.encoding == encoding && file.channelCount == 1 && file.clip.sampleRate == 8000, "\(label)")
                guard file.clip.samples.count == original.count else {
                    Issue.record("\(label): \(file.clip.samples.count) samples, expected \(original.count)")
                    continue
                }
                let overwritten = Set(
                    (dataStart..<bytes.count).filter { bytes[$0] != valid[$0] }.map { ($0 - dataStart) / width })
                let changed = original.indices.filter { file.clip.samples[$0] != original[$0] }
                #expect(Set(changed).isSubset(of: overwritten), "\(label): samples \(changed) changed")
            }
            // Both kinds of input whose outcome is known occurred, so the checks above ran (the seed is fixed: the
            // counts are those of scripts/wav_corruption_oracle.py).
            #expect(counts.intactParsed > 0 && counts.intactTruncatedRefused > 0, "\(encoding): \(counts)")
        }
    }

    /// The unsigned little-endian integer of `count` bytes at `offset`.
    static func littleEndian(_ bytes: [UInt8], at offset: Int, count: Int) -> Int {
        (0..<count).reduce(0) { value, index in value | Int(bytes[offset + index]) << (8 * index) }
    }

    @Test("files that cannot be opened or written give an I/O error naming the path")
    func ioErrors() {
        #expect(throws: WAVError.io(path: "/nonexistent/x.wav", operation: "open", errno: ENOENT)) {
            try WAVFile(path: "/nonexistent/x.wav")
        }
        #expect(throws: WAVError.io(path: "/", operation: "read", errno: EISDIR)) { try WAVFile(path: "/") }
        let error = WAVError.io(path: "/nonexistent/x.wav", operation: "open", errno: ENOENT)
        #expect(error.description == "cannot open '/nonexistent/x.wav': No such file or directory")
        #expect(throws: WAVError.self) {
            try WAVFile.write(AudioClip(sampleRate: 8000, samples: [0]), encoding: .pcm16, to: "/nonexistent/dir/out.wav")
        }
    }

    @Test("writing refuses an impossible sample rate")
    func writeInvalidRate() {
        #expect(throws: WAVError.invalidSampleRate(0)) {
            try WAVFile.encode(AudioClip(sampleRate: 0, samples: [0]), encoding: .pcm16)
        }
    }

    @Test("a stereo call recording: interleaved frames, the shorter channel padded, read back channel by channel")
    func writeStereo() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("stereo-\(UUID().uuidString).wav").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let left: [Float] = [0.5, -0.5, 0.25, 0]
        let right: [Float] = [0.125, 0.25]
        try WAVFile.writeStereo(left: left, right: right, sampleRate: 8000, to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        #expect(bytes.count == 44 + 4 * 4)
        #expect(Array(bytes[22..<24]) == [2, 0] && Array(bytes[28..<32]) == [0x00, 0x7D, 0, 0] && Array(bytes[32..<34]) == [4, 0])
        let file = try WAVFile(path: path, channels: .downmix)
        #expect(file.channelCount == 2 && file.clip.sampleRate == 8000 && file.clip.samples.count == 4)
        let pcm = (0..<8).map { Int16(bitPattern: UInt16(bytes[44 + 2 * $0]) | UInt16(bytes[45 + 2 * $0]) << 8) }
        #expect(pcm == [16384, 4096, -16384, 8192, 8192, 0, 0, 0])
    }
}
