//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A streaming speech recogniser: the ears of a ``CascadeAgent``.
///
/// A recogniser makes one ``RecognitionSession`` per call. The session is fed the caller's audio while they
/// speak, utterance by utterance, and gives the final text of each utterance when asked. The shape fits a
/// local C library (which decodes as the audio comes), a WebSocket service (which sends it as it comes and
/// collects results as they arrive) and a batch HTTP API (which buffers the utterance and posts it at the
/// end) alike.
public protocol SpeechRecognizer: Sendable {
    /// The sample rate of the audio a session takes, in Hz.
    var sampleRate: Int { get }

    /// Opens a session for one call. Keep it for the whole call: engines adapt to the line as it goes (a
    /// fresh pocketsphinx decoder per utterance loses most of the first words it hears).
    func makeSession() async throws -> any RecognitionSession
}

/// One call's recognition: utterances one after another.
///
/// A session is driven by one task at a time (the agent's recognition task): ``accept(_:)`` calls for one
/// utterance, then ``finishUtterance()``; the next ``accept(_:)`` starts the next utterance.
public protocol RecognitionSession: AnyObject, Sendable {
    /// Takes the next audio of the current utterance (opening one if none is open), at the recogniser's
    /// ``SpeechRecognizer/sampleRate``, samples in -1...1. Copy what you keep: the buffer is reused.
    ///
    /// It runs on the agent's recognition task, never the call's: a local engine may decode here, a network
    /// client should queue the audio for its socket and return.
    func accept(_ samples: UnsafeBufferPointer<Float>) throws

    /// The current utterance's latest partial result (`nil`: none yet, or the engine does not give them).
    func partialResult() -> Transcript?

    /// Ends the current utterance and returns its final result (empty when nothing was recognised).
    func finishUtterance() async throws -> Transcript

    /// Abandons the current utterance without a result.
    func cancelUtterance()

    /// Ends the session and frees what it holds.
    func close() async
}

/// A word the recogniser heard.
public struct RecognizedWord: Sendable, Hashable, Codable {
    /// The word as the recogniser spells it.
    public var text: String
    /// Where it starts and ends in the utterance's audio, in seconds from the utterance's first sample.
    public var start: Double
    /// The end, in seconds.
    public var end: Double
    /// The recogniser's confidence, 0...1 (`nil`: not given).
    public var confidence: Double?

    /// Creates a word.
    public init(text: String, start: Double, end: Double, confidence: Double? = nil) {
        self.text = text
        self.start = start
        self.end = end
        self.confidence = confidence
    }
}

/// What a recogniser heard in an utterance.
public struct Transcript: Sendable, Hashable, Codable {
    /// The words joined by spaces.
    public var text: String
    /// The words with their timings (may be empty when the engine gives none).
    public var words: [RecognizedWord]
    /// The confidence in the whole, 0...1 (`nil`: not given).
    public var confidence: Double?
    /// Whether this is the utterance's final result.
    public var isFinal: Bool

    /// Creates a transcript.
    public init(text: String, words: [RecognizedWord] = [], confidence: Double? = nil, isFinal: Bool = true) {
        self.text = text
        self.words = words
        self.confidence = confidence
        self.isFinal = isFinal
    }

    /// Nothing recognised.
    public static let empty = Transcript(text: "")
}
