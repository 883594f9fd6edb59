//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Why the local recogniser or synthesiser failed: a ``code`` to act on (an open set: new kinds can be added
/// without breaking anyone's `switch`) and a one-line ``description`` naming the problem.
public struct LocalSpeechError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of problem.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: String, Hashable, Sendable {
            case modelFilesMissing, decoderInitFailed, grammarFailed, decodingFailed, sessionClosed
            case dataPathMissing, synthesizerInitFailed, voiceNotFound, synthesisFailed, invalidArgument, streamFinished
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The code's name.
        public var description: String { wrapped.rawValue }

        /// A file of the pocketsphinx model (acoustic model, language model, dictionary, `feat.params`) is not
        /// there: install Debian's `pocketsphinx-en-us` or point the recogniser at a model directory.
        public static let modelFilesMissing = Code(.modelFilesMissing)
        /// pocketsphinx refused the configuration or could not load the model.
        public static let decoderInitFailed = Code(.decoderInitFailed)
        /// The phrase grammar could not be built (no phrase left once unknown words are dropped) or was
        /// rejected by pocketsphinx.
        public static let grammarFailed = Code(.grammarFailed)
        /// pocketsphinx reported an error while decoding audio.
        public static let decodingFailed = Code(.decodingFailed)
        /// The session was used after ``PocketSphinxSession/close()``.
        public static let sessionClosed = Code(.sessionClosed)
        /// The espeak-ng data directory given does not exist or holds no voice data.
        public static let dataPathMissing = Code(.dataPathMissing)
        /// espeak-ng failed to initialise.
        public static let synthesizerInitFailed = Code(.synthesizerInitFailed)
        /// espeak-ng has no voice of that name.
        public static let voiceNotFound = Code(.voiceNotFound)
        /// espeak-ng reported an error while synthesising.
        public static let synthesisFailed = Code(.synthesisFailed)
        /// A parameter is out of range (an output sample rate, a speaking rate).
        public static let invalidArgument = Code(.invalidArgument)
        /// Text was sent to a synthesis stream after ``ESpeakStream/finish()``.
        public static let streamFinished = Code(.streamFinished)
    }

    /// The kind of problem.
    public let code: Code
    /// The problem in one line, for logs and command-line errors.
    public let description: String

    /// Creates an error (the static members below are the usual way).
    public init(_ code: Code, _ description: String) {
        self.code = code
        self.description = description
    }

    /// A model file is not at `path`.
    public static func modelFilesMissing(_ path: String) -> LocalSpeechError {
        LocalSpeechError(
            .modelFilesMissing, "pocketsphinx model file missing: \(path) (Debian: apt-get install pocketsphinx-en-us)")
    }

    /// pocketsphinx refused to start.
    public static func decoderInitFailed(_ reason: String) -> LocalSpeechError {
        LocalSpeechError(.decoderInitFailed, "pocketsphinx decoder failed to start: \(reason)")
    }

    /// The phrase grammar could not be used.
    public static func grammarFailed(_ reason: String) -> LocalSpeechError {
        LocalSpeechError(.grammarFailed, "phrase grammar: \(reason)")
    }

    /// pocketsphinx failed while decoding.
    public static func decodingFailed(_ call: String) -> LocalSpeechError {
        LocalSpeechError(.decodingFailed, "pocketsphinx: \(call) failed")
    }

    /// The session is closed.
    public static let sessionClosed = LocalSpeechError(.sessionClosed, "the recognition session is closed")

    /// The espeak-ng data directory is not at `path`.
    public static func dataPathMissing(_ path: String) -> LocalSpeechError {
        LocalSpeechError(
            .dataPathMissing, "espeak-ng data not found at \(path) (expected a directory holding phontab, or espeak-ng-data/)")
    }

    /// espeak-ng failed to initialise.
    public static func synthesizerInitFailed(_ reason: String) -> LocalSpeechError {
        LocalSpeechError(.synthesizerInitFailed, "espeak-ng failed to initialise: \(reason)")
    }

    /// No voice called `name`.
    public static func voiceNotFound(_ name: String) -> LocalSpeechError {
        LocalSpeechError(.voiceNotFound, "espeak-ng has no voice named '\(name)'")
    }

    /// espeak-ng failed while synthesising.
    public static func synthesisFailed(_ status: Int32) -> LocalSpeechError {
        LocalSpeechError(.synthesisFailed, "espeak-ng synthesis failed (status \(status))")
    }

    /// A parameter is out of range.
    public static func invalidArgument(_ reason: String) -> LocalSpeechError {
        LocalSpeechError(.invalidArgument, reason)
    }

    /// Text sent after `finish()`.
    public static let streamFinished = LocalSpeechError(.streamFinished, "text sent to a synthesis stream after finish()")
}
