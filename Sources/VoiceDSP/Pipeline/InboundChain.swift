//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The caller's side of a call: µ-law 8 kHz frames in, PCM at the agent's rate plus voice activity and
/// turn events out.
///
/// ```
/// receive(µ-law frame) ─▶ JitterBuffer
/// tick() every 20 ms ─▶ pop ─▶ µ-law decode (or conceal) ─▶ VAD + Endpointer (at 8 kHz)
///                                                     └─▶ Resampler 8 kHz → output rate ─▶ audio
/// ```
///
/// Voice activity runs on the decoded 8 kHz audio (the telephone band holds no more; it is cheaper),
/// while the audio handed on is resampled for speech recognition (16 kHz by default). Gaps the jitter
/// buffer cannot fill are concealed with silence or a fading repeat of the last frame.
///
/// Synchronous and reusable (``reset()``); after init nothing allocates.
///
/// - Important: Not thread-safe: use from the call's owner task; hand audio to other threads through an
///   ``SPSCRingBuffer``.
public final class InboundChain {
    /// How gaps are filled.
    public enum Concealment: Sendable, Hashable {
        /// Silence.
        case silence
        /// The last frame again, 6 dB quieter each time, silence after four.
        case fadedRepeat
    }

    /// Settings.
    public struct Configuration: Sendable {
        /// The rate of the audio handed on, in Hz (16,000 by default).
        public var outputRate: Int
        /// Jitter buffer settings (160-byte, 20 ms µ-law frames).
        public var jitterBuffer: JitterBuffer.Configuration
        /// How gaps are filled.
        public var concealment: Concealment
        /// Voice activity detection (runs at 8 kHz on 20 ms frames; its sample rate and frame duration are
        /// set by the chain).
        public var voiceActivity: VoiceActivityDetector.Configuration
        /// Turn timing (positions in 8 kHz samples).
        public var endpointer: Endpointer.Configuration
        /// Resampler quality for the audio handed on.
        public var resamplerQuality: Resampler.Quality

        /// Creates settings; the defaults suit Twilio media to a 16 kHz recogniser.
        public init(
            outputRate: Int = 16000, jitterBuffer: JitterBuffer.Configuration = .init(),
            concealment: Concealment = .fadedRepeat,
            voiceActivity: VoiceActivityDetector.Configuration = .init(),
            endpointer: Endpointer.Configuration = .init(), resamplerQuality: Resampler.Quality = .telephony
        ) {
            self.outputRate = outputRate
            self.jitterBuffer = jitterBuffer
            self.concealment = concealment
            self.voiceActivity = voiceActivity
            self.endpointer = endpointer
            self.resamplerQuality = resamplerQuality
        }
    }

    /// Where a tick's 20 ms came from.
    public enum Source: Sendable, Equatable {
        /// A received frame.
        case frame(sequence: Int)
        /// A concealed gap.
        case concealed(sequence: Int)
        /// The jitter buffer is filling: silence, with no frame consumed.
        case buffering
    }

    /// The outcome of one ``tick(at:)``.
    public struct Tick {
        /// Where the 20 ms came from.
        public var source: Source
        /// The new audio at the output rate (valid until the next call to the chain).
        public var audio: UnsafeBufferPointer<Float>
        /// The voice activity decision for the 20 ms.
        public var decision: VoiceActivityDetector.Decision
        /// A turn event completed by this frame, if any.
        public var event: Endpointer.Event?

        /// Creates a tick (for transports with their own chain, and for tests).
        public init(source: Source, audio: UnsafeBufferPointer<Float>, decision: VoiceActivityDetector.Decision, event: Endpointer.Event?) {
            self.source = source
            self.audio = audio
            self.decision = decision
            self.event = event
        }
    }

    /// The settings in use.
    public let configuration: Configuration
    /// The jitter buffer (for its statistics).
    public let jitterBuffer: JitterBuffer
    private let detector: VoiceActivityDetector
    private var endpointer: Endpointer
    private let resampler: Resampler
    private let codes: UnsafeMutableRawBufferPointer
    private let pcm: UnsafeMutableBufferPointer<Float>
    private let lastFrame: UnsafeMutableBufferPointer<Float>
    private let output: UnsafeMutableBufferPointer<Float>
    private var repeats = 0
    private static let frame = 160

    /// Creates a chain.
    ///
    /// - Throws: ``ResamplerError`` for an output rate the resampler refuses, or
    ///   ``VoiceActivityDetector/ConfigurationError``.
    public init(configuration: Configuration = Configuration()) throws {
        var configuration = configuration
        configuration.jitterBuffer.frameBytes = Self.frame
        configuration.voiceActivity.sampleRate = 8000
        configuration.voiceActivity.frameDuration = .milliseconds20
        configuration.endpointer.sampleRate = 8000
        self.configuration = configuration
        jitterBuffer = JitterBuffer(configuration: configuration.jitterBuffer)
        detector = try VoiceActivityDetector(configuration: configuration.voiceActivity)
        endpointer = Endpointer(configuration: configuration.endpointer)
        resampler = try Resampler(inputRate: 8000, outputRate: configuration.outputRate, quality: configuration.resamplerQuality)
        codes = .allocate(byteCount: Self.frame, alignment: 16)
        pcm = .allocate(capacity: Self.frame)
        lastFrame = .allocate(capacity: Self.frame)
        output = .allocate(capacity: resampler.maximumOutputCount(forInputCount: Self.frame))
        reset()
    }

    deinit {
        codes.deallocate()
        pcm.deallocate()
        lastFrame.deallocate()
        output.deallocate()
    }

    /// Starts a new call.
    public func reset() {
        jitterBuffer.reset()
        detector.reset()
        endpointer.reset()
        resampler.reset()
        lastFrame.initialize(repeating: 0)
        repeats = 0
    }

    /// Hands an arriving µ-law frame to the jitter buffer.
    ///
    /// - Parameters:
    ///   - sequence: Twilio's `chunk` (or an unwrapped RTP sequence number).
    ///   - payload: 160 µ-law bytes (20 ms at 8 kHz).
    ///   - arrival: Arrival time in milliseconds on a steady clock.
    /// - Returns: What the jitter buffer did with it.
    @discardableResult
    public func receive(sequence: Int, payload: UnsafeRawBufferPointer, arrival: Double) -> JitterBuffer.InsertResult {
        jitterBuffer.insert(sequence: sequence, payload: payload, arrival: arrival)
    }

    /// Plays out the next 20 ms: call once per 20 ms.
    ///
    /// - Parameter time: Now, in milliseconds on the clock of `receive`'s arrivals.
    /// - Returns: The audio, decision and event for the 20 ms.
    /// - Complexity: One jitter-buffer pop, a 160-sample decode, a resample, a VAD frame. Real-time safe.
    public func tick(at time: Double) -> Tick {
        let source: Source
        switch jitterBuffer.pop(into: codes, at: time) {
        case .frame(let sequence, _):
            MuLaw.decode(UnsafeBufferPointer(start: codes.baseAddress!.assumingMemoryBound(to: UInt8.self), count: Self.frame), into: pcm)
            lastFrame.baseAddress!.update(from: pcm.baseAddress!, count: Self.frame)
            repeats = 0
            source = .frame(sequence: sequence)
        case .conceal(let sequence):
            conceal()
            source = .concealed(sequence: sequence)
        case .buffering:
            pcm.update(repeating: 0)
            source = .buffering
        }
        let decision = detector.process(UnsafeBufferPointer(pcm))
        let event = endpointer.process(isSpeech: decision.isSpeech, length: Self.frame)
        let produced = resampler.process(UnsafeBufferPointer(pcm), into: output)
        return Tick(
            source: source, audio: UnsafeBufferPointer(rebasing: output[..<produced]), decision: decision, event: event)
    }

    private func conceal() {
        switch configuration.concealment {
        case .silence:
            pcm.update(repeating: 0)
        case .fadedRepeat:
            repeats += 1
            let gain: Float = repeats > 4 ? 0 : 1 / Float(1 << repeats)
            for i in 0..<Self.frame { pcm[i] = lastFrame[i] * gain }
        }
    }
}

@available(*, unavailable)
extension InboundChain: Sendable {}
