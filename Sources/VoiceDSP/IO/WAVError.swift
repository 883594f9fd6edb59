//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Why a WAV file could not be read or written. The ``description`` names the problem in one line.
public enum WAVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file does not start with a `RIFF` header (it may be empty, raw audio or another container).
    case notRIFF
    /// The RIFF form type is not `WAVE`.
    case notWAVE(formType: String)
    /// The file ends inside a chunk header, a chunk or a sample frame.
    case truncated(what: String, needed: Int, available: Int)
    /// There is no `fmt ` chunk before the `data` chunk.
    case missingFormatChunk
    /// There is no `data` chunk.
    case missingDataChunk
    /// The `fmt ` chunk is inconsistent or impossible (e.g. zero channels, a block size that does not match).
    case malformedFormat(String)
    /// A valid WAV file in an encoding VoicePipe does not read (e.g. 24-bit PCM or MP3).
    case unsupportedEncoding(String)
    /// The file has more than one channel and downmixing was not requested.
    case unsupportedChannelCount(Int)
    /// The sample rate is zero or out of the range VoicePipe accepts.
    case invalidSampleRate(Int)
    /// The audio is too long to be written as a WAV file (its data would exceed 4 GiB).
    case tooLarge(bytes: Int)
    /// The operating system refused to open, read or write the file.
    case io(path: String, operation: String, errno: Int32)

    /// The problem in one line, for logs and command-line errors.
    public var description: String {
        switch self {
        case .notRIFF:
            "not a WAV file: no RIFF header"
        case .notWAVE(let formType):
            "not a WAV file: RIFF form type is '\(formType)', expected 'WAVE'"
        case .truncated(let what, let needed, let available):
            "truncated WAV file: \(what) needs \(needed) bytes but only \(available) remain"
        case .missingFormatChunk:
            "malformed WAV file: no 'fmt ' chunk before the 'data' chunk"
        case .missingDataChunk:
            "malformed WAV file: no 'data' chunk"
        case .malformedFormat(let detail):
            "malformed WAV 'fmt ' chunk: \(detail)"
        case .unsupportedEncoding(let detail):
            "unsupported WAV encoding: \(detail) (supported: 16-bit PCM, 32-bit float, mu-law, A-law)"
        case .unsupportedChannelCount(let count):
            "unsupported WAV file: \(count) channels; only mono is read unless downmixing is requested"
        case .invalidSampleRate(let rate):
            "invalid sample rate \(rate) Hz (accepted: 1 to \(WAVFile.maximumSampleRate) Hz)"
        case .tooLarge(let bytes):
            "audio too large for a WAV file: \(bytes) bytes of data (limit 4 GiB)"
        case .io(let path, let operation, let errno):
            "cannot \(operation) '\(path)': \(WAVFile.systemErrorMessage(errno))"
        }
    }
}
