//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The caller's side of a call: µ-law 8 kHz frames in, PCM at the agent's rate plus voice activity and
/// turn events out.
///
/// ```
/// receive(µ-law frame) ─▶ JitterBuffer
/// tick() ─▶ pop ─▶ µ-law decode (or conceal) ─▶ VAD + Endpointer (at 8 kHz)
///                                         └─▶ Resampler 8 kHz → output rate ─▶ audio
/// ```
///
/// How often to tick depends on the jitter buffer's ``JitterBuffer/Playout``:
/// - ``JitterBuffer/Playout/inOrder`` (the default: Twilio's WebSocket runs over TCP, which neither loses
///   nor reorders): after each ``receive(sequence:payload:arrival:)``, call ``tick(at:)`` until it returns
///   `nil`. Every frame that arrived is played once, in order, at once; nothing is inserted or dropped, and
///   only a skipped sequence number is concealed. The server's own backlog cannot damage the audio.
/// - ``JitterBuffer/Playout/scheduled`` (lossy transports): call ``tick(at:)`` once every 20 ms; it never
///   returns `nil`, and plays silence while the buffer fills.
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
        /// Jitter buffer settings (160-byte, 20 ms µ-law frames; its frame size and duration are set by the
        /// chain). Its ``JitterBuffer/Configuration/playout`` decides how the chain is ticked.
        public var jitterBuffer: JitterBuffer.Configuration
        /// How gaps are filled.
        public var concealment: Concealment
        /// Voice activity detection (runs at 8 kHz on 20 ms frames; its sample rate and frame duration are
        /// set by the chain).
        public var voiceActivity: VoiceActivityDetector.Configuration
        /// Turn timing.
        public var endpointer: Endpointer.Configuration
        /// Resampler quality for the audio handed on.
        public var resamplerQuality: Resampler.Quality

        /// Creates settings; the defaults suit Twilio media (over TCP: in-order play-out) to a 16 kHz recogniser.
        public init(
            outputRate: Int = 16000, jitterBuffer: JitterBuffer.Configuration = .init(playout: .inOrder),
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
        /// The jitter buffer is filling (``JitterBuffer/Playout/scheduled`` only): silence, with no frame
        /// consumed.
        case buffering
    }

    /// The outcome of one ``tick(at:)``: 20 ms of the caller.
    public struct Tick {
        /// Where the 20 ms came from.
        public var source: Source
        /// The new audio at ``sampleRate`` (valid until the next call to the chain).
        public var audio: UnsafeBufferPointer<Float>
        /// The rate of ``audio`` and of every sample position in the tick, in Hz.
        public var sampleRate: Int
        /// The stream position of ``audio``'s first sample, in samples at ``sampleRate`` from the start of the
        /// stream (or the last ``InboundChain/reset()``).
        public var position: Int
        /// The voice activity decision for the 20 ms.
        public var decision: VoiceActivityDetector.Decision
        /// A turn event completed by this frame, if any, with its positions at ``sampleRate``.
        public var event: Endpointer.Event?

        /// The stream position just after ``audio``: the position of "now" for ``event``.
        public var endPosition: Int { position + audio.count }

        /// Creates a tick (for transports with their own chain, and for tests).
        public init(
            source: Source, audio: UnsafeBufferPointer<Float>, sampleRate: Int, position: Int,
            decision: VoiceActivityDetector.Decision, event: Endpointer.Event?
        ) {
            self.source = source
            self.audio = audio
            self.sampleRate = sampleRate
            self.position = position
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
    private let resampler: Resampler?  // nil at an 8 kHz output: the decoded frame as it is
    private let codes: UnsafeMutableRawBufferPointer
    private let pcm: UnsafeMutableBufferPointer<Float>
    private let lastFrame: UnsafeMutableBufferPointer<Float>
    private let output: UnsafeMutableBufferPointer<Float>
    private var repeats = 0
    private var position = 0
    private static let frame = 160

    /// Creates a chain.
    ///
    /// - Throws: ``ResamplerError`` for an output rate the resampler refuses, or
    ///   ``VoiceActivityDetector/ConfigurationError``.
    public init(configuration: Configuration = Configuration()) throws {
        var configuration = configuration
        configuration.jitterBuffer.frameBytes = Self.frame
        configuration.jitterBuffer.frameDuration = .milliseconds(20)
        configuration.voiceActivity.sampleRate = 8000
        configuration.voiceActivity.frameDuration = .milliseconds20
        self.configuration = configuration
        jitterBuffer = JitterBuffer(configuration: configuration.jitterBuffer)
        detector = try VoiceActivityDetector(configuration: configuration.voiceActivity)
        endpointer = Endpointer(configuration: configuration.endpointer, sampleRate: 8000)
        resampler =
            configuration.outputRate == 8000
            ? nil : try Resampler(inputRate: 8000, outputRate: configuration.outputRate, quality: configuration.resamplerQuality)
        codes = .allocate(byteCount: Self.frame, alignment: 16)
        pcm = .allocate(capacity: Self.frame)
        lastFrame = .allocate(capacity: Self.frame)
        output = .allocate(capacity: resampler?.maximumOutputCount(forInputCount: Self.frame) ?? Self.frame)
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
        resampler?.reset()
        lastFrame.initialize(repeating: 0)
        repeats = 0
        position = 0
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

    /// Plays out the next 20 ms.
    ///
    /// With ``JitterBuffer/Playout/inOrder``, call it after each ``receive(sequence:payload:arrival:)``
    /// until it returns `nil`; with ``JitterBuffer/Playout/scheduled``, once per 20 ms.
    ///
    /// - Parameter time: Now, in milliseconds on the clock of `receive`'s arrivals.
    /// - Returns: The audio, decision and event for the 20 ms; `nil` when no frame is waiting
    ///   (``JitterBuffer/Playout/inOrder`` only: nothing is played and no time passes for the detectors).
    /// - Complexity: One jitter-buffer pop, a 160-sample decode, a resample, a VAD frame. Real-time safe.
    public func tick(at time: Double) -> Tick? {
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
            if jitterBuffer.configuration.playout == .inOrder { return nil }
            pcm.update(repeating: 0)
            source = .buffering
        }
        let decision = detector.process(UnsafeBufferPointer(pcm))
        var power: Float = 0
        for sample in pcm { power += sample * sample }
        let event = endpointer.process(isSpeech: decision.isSpeech, length: Self.frame, power: power / Float(Self.frame)).map(rescale)
        let produced: Int
        if let resampler {
            produced = resampler.process(UnsafeBufferPointer(pcm), into: output)
        } else {
            output.baseAddress!.update(from: pcm.baseAddress!, count: Self.frame)
            produced = Self.frame
        }
        defer { position += produced }
        return Tick(
            source: source, audio: UnsafeBufferPointer(rebasing: output[..<produced]), sampleRate: configuration.outputRate,
            position: position, decision: decision, event: event)
    }

    /// An endpointer event with its 8 kHz positions at the output rate.
    private func rescale(_ event: Endpointer.Event) -> Endpointer.Event {
        let rate = configuration.outputRate
        func scaled(_ position: Int) -> Int { rate == 8000 ? position : position * rate / 8000 }
        switch event {
        case .speechStarted(let start): return .speechStarted(speechStart: scaled(start))
        case .endOfTurn(let last, let detected): return .endOfTurn(lastSpeechEnd: scaled(last), detectedAt: scaled(detected))
        case .maximumTurnReached(let at): return .maximumTurnReached(at: scaled(at))
        }
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
