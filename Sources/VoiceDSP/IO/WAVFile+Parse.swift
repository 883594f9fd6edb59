//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension WAVFile {
    /// The GUID tail shared by the standard `WAVE_FORMAT_EXTENSIBLE` sub-formats (after the 2-byte tag and
    /// two zero bytes): `00000000-0010-0080-00AA-00389B71`.
    static let extensibleGUIDTail: [UInt8] = [0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]

    /// The fields of a `fmt ` chunk that matter here.
    struct Format {
        var encoding: AudioEncoding
        var channelCount: Int
        var sampleRate: Int
        var blockAlign: Int
    }

    /// Parses a complete WAV file. Never traps: every read is bounds-checked first.
    static func parse(_ bytes: UnsafeRawBufferPointer, channels: ChannelPolicy) throws(WAVError) -> WAVFile {
        var reader = ByteReader(bytes)
        guard bytes.count >= 4, reader.fourCC(at: 0) == "RIFF" else { throw .notRIFF }
        guard bytes.count >= 12 else { throw .truncated(what: "RIFF header", needed: 12, available: bytes.count) }
        let formType = reader.fourCC(at: 8)
        guard formType == "WAVE" else { throw .notWAVE(formType: formType) }
        reader.offset = 12

        var format: Format?
        while true {
            guard reader.remaining > 0 else { throw format == nil ? .missingFormatChunk : .missingDataChunk }
            guard reader.remaining >= 8 else {
                throw .truncated(what: "chunk header", needed: 8, available: reader.remaining)
            }
            let id = reader.fourCC(at: reader.offset)
            let declaredSize = Int(reader.uint32(at: reader.offset + 4))
            reader.offset += 8
            switch id {
            case "fmt ":
                guard declaredSize <= reader.remaining else {
                    throw .truncated(what: "'fmt ' chunk", needed: declaredSize, available: reader.remaining)
                }
                format = try parseFormat(reader, size: declaredSize)
            case "data":
                guard let format else { throw .missingFormatChunk }
                // Streaming writers leave 0xFFFFFFFF when the length is unknown: read to the end.
                let size = declaredSize == 0xFFFF_FFFF ? reader.remaining : declaredSize
                guard size <= reader.remaining else {
                    throw .truncated(what: "'data' chunk", needed: size, available: reader.remaining)
                }
                guard size % format.blockAlign == 0 else {
                    throw .truncated(
                        what: "last sample frame of the 'data' chunk", needed: format.blockAlign,
                        available: size % format.blockAlign)
                }
                if format.channelCount > 1 && channels == .requireMono {
                    throw .unsupportedChannelCount(format.channelCount)
                }
                let data = UnsafeRawBufferPointer(rebasing: bytes[reader.offset..<(reader.offset + size)])
                let samples = decodeSamples(data, format: format)
                return WAVFile(
                    clip: AudioClip(sampleRate: format.sampleRate, samples: samples), encoding: format.encoding,
                    channelCount: format.channelCount)
            default:
                break
            }
            // Chunks are padded to an even size.
            let padded = declaredSize + (declaredSize & 1)
            guard padded <= reader.remaining else {
                // A missing pad byte after the last chunk is common and harmless; a short chunk is not.
                if declaredSize <= reader.remaining {
                    reader.offset = bytes.count
                    continue
                }
                throw .truncated(what: "'\(id)' chunk", needed: declaredSize, available: reader.remaining)
            }
            reader.offset += padded
        }
    }

    /// Validates a `fmt ` chunk of `size` bytes starting at `reader.offset`.
    static func parseFormat(_ reader: ByteReader, size: Int) throws(WAVError) -> Format {
        let base = reader.offset
        guard size >= 16 else { throw .malformedFormat("chunk is \(size) bytes, at least 16 are required") }
        var tag = reader.uint16(at: base)
        let channelCount = Int(reader.uint16(at: base + 2))
        let sampleRate = Int(reader.uint32(at: base + 4))
        let blockAlign = Int(reader.uint16(at: base + 12))
        let bitsPerSample = Int(reader.uint16(at: base + 14))

        if tag == 0xFFFE {  // WAVE_FORMAT_EXTENSIBLE: the real tag is the start of the sub-format GUID.
            guard size >= 40, reader.uint16(at: base + 16) >= 22 else {
                throw .malformedFormat("WAVE_FORMAT_EXTENSIBLE chunk is \(size) bytes, 40 are required")
            }
            let guidTag = reader.uint16(at: base + 24)
            let guidRest = (0..<14).map { reader.byte(at: base + 26 + $0) }
            guard guidRest == [0, 0] + extensibleGUIDTail else {
                throw .unsupportedEncoding("WAVE_FORMAT_EXTENSIBLE with a non-standard sub-format GUID")
            }
            tag = guidTag
        }
        guard channelCount >= 1 else { throw .malformedFormat("channel count is 0") }
        guard (1...WAVFile.maximumSampleRate).contains(sampleRate) else { throw .invalidSampleRate(sampleRate) }

        let encoding: AudioEncoding
        switch (tag, bitsPerSample) {
        case (1, 16): encoding = .pcm16
        case (3, 32): encoding = .float32
        case (7, 8): encoding = .muLaw
        case (6, 8): encoding = .aLaw
        case (1, _): throw .unsupportedEncoding("\(bitsPerSample)-bit PCM")
        case (3, _): throw .unsupportedEncoding("\(bitsPerSample)-bit float")
        case (6, _), (7, _): throw .unsupportedEncoding("G.711 with \(bitsPerSample) bits per sample")
        default: throw .unsupportedEncoding(String(format: tag, bits: bitsPerSample))
        }
        let expectedBlock = channelCount * encoding.bytesPerSample
        guard blockAlign == expectedBlock else {
            throw .malformedFormat(
                "block align is \(blockAlign) bytes, expected \(expectedBlock) for \(channelCount) channel(s) of \(encoding)")
        }
        return Format(encoding: encoding, channelCount: channelCount, sampleRate: sampleRate, blockAlign: blockAlign)
    }

    /// Decodes interleaved samples to mono Float32, averaging channels.
    static func decodeSamples(_ data: UnsafeRawBufferPointer, format: Format) -> [Float] {
        let frames = data.count / format.blockAlign
        let channels = format.channelCount
        let bytesPerSample = format.encoding.bytesPerSample
        let channelScale = 1 / Float(channels)
        return [Float](unsafeUninitializedCapacity: frames) { out, initialized in
            for frame in 0..<frames {
                var sum: Float = 0
                for channel in 0..<channels {
                    let offset = frame * format.blockAlign + channel * bytesPerSample
                    sum += sample(in: data, at: offset, encoding: format.encoding)
                }
                out[frame] = channels == 1 ? sum : sum * channelScale
            }
            initialized = frames
        }
    }

    @inline(__always)
    static func sample(in data: UnsafeRawBufferPointer, at offset: Int, encoding: AudioEncoding) -> Float {
        let scale: Float = 1 / 32768
        switch encoding {
        case .pcm16:
            return Float(Int16(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: Int16.self))) * scale
        case .float32:
            return Float(bitPattern: UInt32(littleEndian: data.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
        case .muLaw:
            return Float(MuLaw.decode(data[offset])) * scale
        case .aLaw:
            return Float(ALaw.decode(data[offset])) * scale
        }
    }
}

extension String {
    /// A name for a WAVE format tag VoicePipe does not read.
    fileprivate init(format tag: UInt16, bits: Int) {
        let known: [UInt16: String] = [
            0x0002: "Microsoft ADPCM", 0x0011: "IMA ADPCM", 0x0031: "GSM 6.10", 0x0050: "MPEG",
            0x0055: "MPEG Layer 3", 0x00FF: "AAC", 0x1610: "HE-AAC", 0x704F: "Opus",
        ]
        let hex = String(tag, radix: 16, uppercase: true)
        let padded = "0x" + String(repeating: "0", count: Swift.max(0, 4 - hex.count)) + hex
        self = "format tag \(padded)" + (known[tag].map { " (\($0))" } ?? "") + ", \(bits) bits per sample"
    }
}

/// Bounds-checked little-endian reads from a byte buffer. Callers check `remaining` before reading.
struct ByteReader {
    let bytes: UnsafeRawBufferPointer
    var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }

    func byte(at index: Int) -> UInt8 { bytes[index] }

    func uint16(at index: Int) -> UInt16 {
        UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt16.self))
    }

    func uint32(at index: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index, as: UInt32.self))
    }

    /// Four bytes as text; bytes outside printable ASCII become `?`.
    func fourCC(at index: Int) -> String {
        String(
            decoding: (0..<4).map { c in
                let b = bytes[index + c]
                return (0x20...0x7E).contains(b) ? b : UInt8(ascii: "?")
            }, as: UTF8.self)
    }
}
