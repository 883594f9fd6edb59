//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A RIFF WAVE file decoded into memory, and the functions that read and write such files.
///
/// Reads 16-bit PCM, 32-bit float, µ-law and A-law, plain or as `WAVE_FORMAT_EXTENSIBLE`, mono or (when
/// asked) multi-channel downmixed to mono. Unknown chunks (`LIST`, `fact`, `cue `, ...) are skipped.
/// A `data` chunk whose size field says `0xFFFFFFFF` (as streaming writers leave it) is taken to run to
/// the end of the file. Anything else that is wrong, truncated or unsupported throws a ``WAVError``
/// that names the problem; no input makes the reader trap.
///
/// ```swift
/// let file = try WAVFile(path: "call.wav", channels: .downmix)
/// print(file.encoding, file.clip.sampleRate, file.clip.duration)
/// try WAVFile.write(file.clip, encoding: .muLaw, to: "call-ulaw.wav")
/// ```
///
/// File I/O is not real-time safe: call it off the audio path.
public struct WAVFile: Sendable, Equatable {
    /// The highest sample rate accepted, in Hz.
    public static let maximumSampleRate = 768_000

    /// What to do with a file of more than one channel.
    public enum ChannelPolicy: Sendable, Hashable {
        /// Throw ``WAVError/unsupportedChannelCount(_:)`` (the default: telephony audio is mono).
        case requireMono
        /// Average all channels into one.
        case downmix
    }

    /// The audio, mono, as Float32 at the file's sample rate.
    public var clip: AudioClip
    /// The encoding the samples were stored in.
    public var encoding: AudioEncoding
    /// The number of channels the file had before downmixing.
    public var channelCount: Int

    /// Creates a value from already decoded parts.
    public init(clip: AudioClip, encoding: AudioEncoding, channelCount: Int = 1) {
        self.clip = clip
        self.encoding = encoding
        self.channelCount = channelCount
    }

    /// Reads and decodes a WAV file.
    ///
    /// - Parameters:
    ///   - path: The file's path.
    ///   - channels: What to do with more than one channel; by default only mono files are accepted.
    /// - Throws: ``WAVError`` naming the problem: `.io` if the file cannot be read, the parse errors
    ///   of ``init(bytes:channels:)`` otherwise.
    public init(path: String, channels: ChannelPolicy = .requireMono) throws(WAVError) {
        let bytes = try POSIXFile.readAll(path: path)
        try self.init(bytes: bytes, channels: channels)
    }

    /// Decodes a WAV file held in memory.
    ///
    /// - Parameters:
    ///   - bytes: The whole file.
    ///   - channels: What to do with more than one channel; by default only mono files are accepted.
    /// - Throws: ``WAVError`` naming the problem.
    public init(bytes: [UInt8], channels: ChannelPolicy = .requireMono) throws(WAVError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(WAVError) in try Self.parse(raw, channels: channels) }
        }
        self = try result.get()
    }

    /// Encodes a clip as a complete WAV file.
    ///
    /// Float samples are converted to the target encoding by ``AudioClip/pcm16Sample(_:)`` (16-bit PCM, and
    /// before G.711 encoding) or stored as they are (32-bit float). µ-law and A-law files carry a `fact`
    /// chunk, as the format requires.
    ///
    /// - Parameters:
    ///   - clip: The audio to write.
    ///   - encoding: The sample encoding of the file.
    /// - Returns: The file's bytes.
    /// - Throws: ``WAVError/invalidSampleRate(_:)`` or ``WAVError/tooLarge(bytes:)``.
    public static func encode(_ clip: AudioClip, encoding: AudioEncoding) throws(WAVError) -> [UInt8] {
        try serialize(clip, encoding: encoding)
    }

    /// Encodes a clip and writes it to a file, replacing any file at that path.
    ///
    /// - Parameters:
    ///   - clip: The audio to write.
    ///   - encoding: The sample encoding of the file.
    ///   - path: Where to write.
    /// - Throws: The errors of ``encode(_:encoding:)``, and ``WAVError/io(path:operation:errno:)``.
    public static func write(_ clip: AudioClip, encoding: AudioEncoding, to path: String) throws(WAVError) {
        try POSIXFile.writeAll(try serialize(clip, encoding: encoding), path: path)
    }

    /// Writes a stereo file from two channels (the shorter is padded with silence), for example a call
    /// recording with the caller on the left and the agent on the right.
    ///
    /// - Throws: The errors of ``write(_:encoding:to:)``.
    public static func writeStereo(
        left: [Float], right: [Float], sampleRate: Int, encoding: AudioEncoding = .pcm16, to path: String
    ) throws(WAVError) {
        let frames = max(left.count, right.count)
        var interleaved = [Float](repeating: 0, count: frames * 2)
        for index in left.indices { interleaved[2 * index] = left[index] }
        for index in right.indices { interleaved[2 * index + 1] = right[index] }
        try POSIXFile.writeAll(
            try serialize(AudioClip(sampleRate: sampleRate, samples: interleaved), encoding: encoding, channels: 2), path: path)
    }
}
