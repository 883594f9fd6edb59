//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Why a WAV file could not be read or written: a ``code`` to act on (an open set, like swift-nio's
/// `FileSystemError.Code`: new kinds can be added without breaking anyone's `switch`) and a one-line
/// ``description`` naming the problem.
///
/// Errors are created with the static members named after their codes (`.truncated(what:needed:available:)`,
/// `.notRIFF`, …) and compare equal when code, description and system error number agree.
public struct WAVError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case notRIFF, notWAVE, truncated, missingFormatChunk, missingDataChunk, malformedFormat
            case unsupportedEncoding, unsupportedChannelCount, invalidSampleRate, tooLarge, io
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The code's name.
        public var description: String { wrapped.rawValue }

        /// The file does not start with a `RIFF` header (it may be empty, raw audio or another container).
        public static let notRIFF = Code(.notRIFF)
        /// The RIFF form type is not `WAVE`.
        public static let notWAVE = Code(.notWAVE)
        /// The file ends inside a chunk header, a chunk or a sample frame.
        public static let truncated = Code(.truncated)
        /// There is no `fmt ` chunk before the `data` chunk.
        public static let missingFormatChunk = Code(.missingFormatChunk)
        /// There is no `data` chunk.
        public static let missingDataChunk = Code(.missingDataChunk)
        /// The `fmt ` chunk is inconsistent or impossible (e.g. zero channels, a block size that does not match).
        public static let malformedFormat = Code(.malformedFormat)
        /// A valid WAV file in an encoding VoicePipe does not read (e.g. 24-bit PCM or MP3).
        public static let unsupportedEncoding = Code(.unsupportedEncoding)
        /// The file has more than one channel and downmixing was not requested.
        public static let unsupportedChannelCount = Code(.unsupportedChannelCount)
        /// The sample rate is zero or out of the range VoicePipe accepts.
        public static let invalidSampleRate = Code(.invalidSampleRate)
        /// The audio is too long to be written as a WAV file (its data would exceed 4 GiB).
        public static let tooLarge = Code(.tooLarge)
        /// The operating system refused to open, read or write the file.
        public static let io = Code(.io)
    }

    /// The kind of problem.
    public let code: Code
    /// The problem in one line, for logs and command-line errors.
    public let description: String
    /// The system error number, for ``Code/io``.
    public let systemError: Int32?

    private init(_ code: Code, _ description: String, systemError: Int32? = nil) {
        self.code = code
        self.description = description
        self.systemError = systemError
    }

    /// No `RIFF` header.
    public static let notRIFF = WAVError(.notRIFF, "not a WAV file: no RIFF header")

    /// The RIFF form type is `formType`, not `WAVE`.
    public static func notWAVE(formType: String) -> WAVError {
        WAVError(.notWAVE, "not a WAV file: RIFF form type is '\(formType)', expected 'WAVE'")
    }

    /// `what` needs `needed` bytes but only `available` remain.
    public static func truncated(what: String, needed: Int, available: Int) -> WAVError {
        WAVError(.truncated, "truncated WAV file: \(what) needs \(needed) bytes but only \(available) remain")
    }

    /// No `fmt ` chunk before the `data` chunk.
    public static let missingFormatChunk = WAVError(
        .missingFormatChunk, "malformed WAV file: no 'fmt ' chunk before the 'data' chunk")

    /// No `data` chunk.
    public static let missingDataChunk = WAVError(.missingDataChunk, "malformed WAV file: no 'data' chunk")

    /// The `fmt ` chunk is impossible: `detail` says how.
    public static func malformedFormat(_ detail: String) -> WAVError {
        WAVError(.malformedFormat, "malformed WAV 'fmt ' chunk: \(detail)")
    }

    /// An encoding VoicePipe does not read, described by `detail`.
    public static func unsupportedEncoding(_ detail: String) -> WAVError {
        WAVError(
            .unsupportedEncoding, "unsupported WAV encoding: \(detail) (supported: 16-bit PCM, 32-bit float, mu-law, A-law)")
    }

    /// `count` channels, and downmixing was not requested.
    public static func unsupportedChannelCount(_ count: Int) -> WAVError {
        WAVError(
            .unsupportedChannelCount,
            "unsupported WAV file: \(count) channels; only mono is read unless downmixing is requested")
    }

    /// A sample rate out of range.
    public static func invalidSampleRate(_ rate: Int) -> WAVError {
        WAVError(.invalidSampleRate, "invalid sample rate \(rate) Hz (accepted: 1 to \(WAVFile.maximumSampleRate) Hz)")
    }

    /// `bytes` of audio data: over the 4 GiB a WAV file can hold.
    public static func tooLarge(bytes: Int) -> WAVError {
        WAVError(.tooLarge, "audio too large for a WAV file: \(bytes) bytes of data (limit 4 GiB)")
    }

    /// The system refused `operation` on `path` with `errno`.
    public static func io(path: String, operation: String, errno: Int32) -> WAVError {
        WAVError(.io, "cannot \(operation) '\(path)': \(WAVFile.systemErrorMessage(errno))", systemError: errno)
    }
}
