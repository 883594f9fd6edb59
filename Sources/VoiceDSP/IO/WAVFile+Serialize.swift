//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension WAVFile {
    /// Builds a complete WAV file: `RIFF`/`WAVE`, `fmt `, `fact` (non-PCM encodings), `data`. With more than
    /// one channel, `clip.samples` are interleaved frames.
    static func serialize(_ clip: AudioClip, encoding: AudioEncoding, channels: Int = 1) throws(WAVError) -> [UInt8] {
        guard (1...maximumSampleRate).contains(clip.sampleRate) else { throw .invalidSampleRate(clip.sampleRate) }
        precondition((1...8).contains(channels) && clip.samples.count % channels == 0, "interleaved frames of 1...8 channels")
        let dataSize = clip.samples.count * encoding.bytesPerSample
        let isPCM = encoding == .pcm16
        let formatSize = isPCM ? 16 : 18  // non-PCM formats carry cbSize = 0
        let factSize = isPCM ? 0 : 12
        let headerSize = 12 + (8 + formatSize) + factSize + 8
        let padding = dataSize & 1
        guard headerSize - 8 + dataSize + padding <= Int(UInt32.max) else { throw .tooLarge(bytes: dataSize) }

        var out: [UInt8] = []
        out.reserveCapacity(headerSize + dataSize + padding)
        out.append(fourCC: "RIFF")
        out.append(le32: headerSize - 8 + dataSize + padding)
        out.append(fourCC: "WAVE")
        out.append(fourCC: "fmt ")
        out.append(le32: formatSize)
        out.append(le16: Int(encoding.formatTag))
        out.append(le16: channels)
        out.append(le32: clip.sampleRate)
        out.append(le32: clip.sampleRate * encoding.bytesPerSample * channels)  // byte rate
        out.append(le16: encoding.bytesPerSample * channels)  // block align
        out.append(le16: encoding.bytesPerSample * 8)  // bits per sample
        if !isPCM {
            out.append(le16: 0)  // cbSize
            out.append(fourCC: "fact")
            out.append(le32: 4)
            out.append(le32: clip.samples.count / channels)
        }
        out.append(fourCC: "data")
        out.append(le32: dataSize)
        switch encoding {
        case .pcm16:
            for sample in clip.samples { out.append(le16: Int(AudioClip.pcm16Sample(sample))) }
        case .float32:
            for sample in clip.samples { out.append(le32: Int(sample.bitPattern)) }
        case .muLaw:
            for sample in clip.samples { out.append(MuLaw.encode(AudioClip.pcm16Sample(sample))) }
        case .aLaw:
            for sample in clip.samples { out.append(ALaw.encode(AudioClip.pcm16Sample(sample))) }
        }
        if padding == 1 { out.append(0) }
        return out
    }
}

extension [UInt8] {
    fileprivate mutating func append(fourCC: String) { append(contentsOf: fourCC.utf8) }

    fileprivate mutating func append(le16 value: Int) {
        append(UInt8(truncatingIfNeeded: value))
        append(UInt8(truncatingIfNeeded: value >> 8))
    }

    fileprivate mutating func append(le32 value: Int) {
        append(le16: value & 0xFFFF)
        append(le16: (value >> 16) & 0xFFFF)
    }
}
