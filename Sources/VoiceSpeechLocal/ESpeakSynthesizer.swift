//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceAgent

/// Offline speech synthesis with espeak-ng (Debian's 1.51): robotic, intelligible, and about a thousand
/// times faster than real time.
///
/// espeak-ng is not re-entrant: its C API has no handle, one process-wide callback and one global voice.
/// Every call into it therefore runs on one process-wide worker (a serial queue) shared by all synthesisers
/// and streams; a sentence takes about 3 ms, so a request waits at most for the few sentences queued before
/// it. Each ``makeStream()`` gets its own stream id, passed to espeak-ng as the callback's `user_data`, so
/// the single callback routes samples to the right stream. The voice and rate are set per request inside
/// the worker, so synthesisers with different voices can be used side by side.
///
/// Audio comes out in chunks that end where a word ends, each naming the characters it finishes voicing
/// (``SynthesizedAudio/text``), resampled from espeak-ng's 22,050 Hz to ``sampleRate`` with VoiceDSP's
/// `Resampler` (libsamplerate; 22,050 Hz is not one of the native engine's ratios).
///
/// ```swift
/// let synthesizer = try ESpeakSynthesizer(voice: "en-us", sampleRate: 16000)
/// let stream = try await synthesizer.makeStream()
/// try await stream.send("Hello, ")
/// try await stream.send("how can I help?")
/// try await stream.finish()
/// for try await chunk in stream.audio { play(chunk.samples) }
/// ```
///
/// - Note: espeak-ng keeps hidden state from one synthesis to the next (the phase of its pitch "flutter",
///   noise generators, gain control, all static variables in its C code), so the same text gives slightly
///   different samples depending on what was synthesised before it in the process; never exact golden
///   audio. Voices with no flutter (the `+Andy` or `+Lee` variants, e.g. `en-us+Andy`) vary least.
public struct ESpeakSynthesizer: SpeechSynthesizer {
    /// espeak-ng's own output rate, in Hz.
    public static let nativeSampleRate = 22050
    /// The output rates offered, in Hz.
    public static let supportedSampleRates = [8000, 16000, 24000]
    /// The speaking rates espeak-ng accepts, in words per minute.
    public static let rateRange = 80...450

    /// The output rate, in Hz.
    public let sampleRate: Int
    /// The espeak-ng voice: a language (`en-us`, `en-gb`, `fr`), optionally with a variant (`en-us+Andy`).
    public let voice: String
    /// The speaking rate, in words per minute.
    public let rate: Int
    /// espeak-ng's data directory, or `nil` for the one it was built with.
    public let dataPath: String?

    /// Creates a synthesiser. The voice is checked by ``makeStream()`` (espeak-ng must be running to know).
    ///
    /// - Parameters:
    ///   - voice: The voice name.
    ///   - rate: Words per minute, in ``rateRange`` (espeak-ng's default is 175).
    ///   - sampleRate: The output rate: 8,000, 16,000 (default) or 24,000 Hz.
    ///   - dataPath: The directory holding `espeak-ng-data` (or that directory itself). One data path per
    ///     process: espeak-ng is initialised once, by the first stream.
    /// - Throws: ``LocalSpeechError`` with ``LocalSpeechError/Code/invalidArgument`` or
    ///   ``LocalSpeechError/Code/dataPathMissing`` (espeak-ng itself would silently use its default data
    ///   instead of a directory that does not exist).
    public init(voice: String = "en-us", rate: Int = 175, sampleRate: Int = 16000, dataPath: String? = nil) throws(LocalSpeechError) {
        guard Self.supportedSampleRates.contains(sampleRate) else {
            throw .invalidArgument("espeak-ng output rate \(sampleRate) Hz: use 8000, 16000 or 24000")
        }
        guard Self.rateRange.contains(rate) else {
            throw .invalidArgument("espeak-ng speaking rate \(rate) words per minute: use \(Self.rateRange)")
        }
        if let dataPath, !Self.holdsVoiceData(dataPath) { throw .dataPathMissing(dataPath) }
        self.voice = voice
        self.rate = rate
        self.sampleRate = sampleRate
        self.dataPath = dataPath
    }

    /// Opens a stream for one reply: initialises espeak-ng on first use and checks the voice.
    ///
    /// - Throws: ``LocalSpeechError`` with ``LocalSpeechError/Code/voiceNotFound`` or
    ///   ``LocalSpeechError/Code/synthesizerInitFailed``.
    public func makeStream() async throws -> any SynthesisStream {
        try await makeESpeakStream()
    }

    /// ``makeStream()`` with the concrete type.
    public func makeESpeakStream() async throws(LocalSpeechError) -> ESpeakStream {
        let worker = ESpeakWorker.shared
        try await worker.prepare(voice: voice, dataPath: dataPath)
        do {
            return try ESpeakStream(worker: worker, settings: .init(voice: voice, rate: rate, sampleRate: sampleRate))
        } catch {
            throw .invalidArgument("espeak-ng output rate \(sampleRate) Hz: \(error)")
        }
    }

    /// Whether `path` is espeak-ng's data directory or holds one, as espeak-ng looks for it.
    static func holdsVoiceData(_ path: String) -> Bool {
        LocalFiles.exists(path + "/espeak-ng-data/phontab") || LocalFiles.exists(path + "/phontab")
    }
}
