//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A streaming speech synthesiser: the mouth of a ``CascadeAgent``.
///
/// A synthesiser makes one ``SynthesisStream`` per reply. Text goes in piece by piece (clauses, as the
/// language model writes them) and audio comes out as soon as the synthesiser has it. Each chunk of audio
/// says which characters of the text it voices, so a reply cut short by the caller can be cut at the word
/// they actually heard.
public protocol SpeechSynthesizer: Sendable {
    /// The sample rate of the audio it produces, in Hz.
    var sampleRate: Int { get }

    /// Opens a stream for one reply.
    func makeStream() async throws -> any SynthesisStream
}

/// One reply being spoken.
///
/// One task sends text (``send(_:)`` then ``finish()``) while another reads ``audio``. ``cancel()`` may be
/// called from anywhere at any time: the stream stops producing and ``audio`` ends.
public protocol SynthesisStream: AnyObject, Sendable {
    /// Appends text to speak. The whole text spoken is the concatenation of everything sent, verbatim
    /// (keep the spaces between pieces).
    func send(_ text: String) async throws

    /// No more text: speak what is left, then end ``audio``.
    func finish() async throws

    /// The audio in order; it ends after ``finish()`` once everything is spoken, throws if synthesis fails,
    /// and ends early after ``cancel()``.
    var audio: AsyncThrowingStream<SynthesizedAudio, any Error> { get }

    /// Stops at once: nothing more is produced.
    func cancel()
}

/// A chunk of synthesised speech.
public struct SynthesizedAudio: Sendable {
    /// The samples, -1...1, at the synthesiser's ``SpeechSynthesizer/sampleRate``.
    public var samples: [Float]
    /// The characters of the whole text (offsets in Unicode scalars from the start of everything sent) that
    /// this chunk finishes voicing: a chunk ends where its last character's sound ends. `nil` when the
    /// engine does not say (the text is then attributed by time).
    public var text: Range<Int>?

    /// Creates a chunk.
    public init(samples: [Float], text: Range<Int>?) {
        self.samples = samples
        self.text = text
    }
}
