//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A streaming voice activity detector for telephone audio at 8 or 16 kHz.
///
/// Feed consecutive frames of ``frameLength`` samples (10, 20 or 30 ms); each gets a speech probability
/// and a decision. Two models, chosen by ``Configuration/model``:
///
/// - **Silero** (default): Silero VAD's network run by ``SileroVAD`` on 32 ms chunks; each frame reports
///   the newest chunk's probability, and speech lasts from the threshold until the probability falls 0.15
///   below it. Accurate in noise and tells speech from music and tones.
/// - **Classic**: 10 ms hops over a 32 ms Hann window in the telephone band (250-3500 Hz at either rate).
///   12 mel-spaced band levels (dB) are measured against per-band noise floors tracked by **minimum
///   statistics** (the lowest smoothed level of the last 1.6-2 s, raised by the gap between mean and
///   minimum that the detector measures at init on its own white noise), which follow stationary noise,
///   hum and DC offsets without labelled silence. The mean excess over the floors (less 3 dB per band)
///   goes through a logistic and a fast-attack, slow-release smoother. About five times cheaper, but
///   music, babble and DTMF tones read as speech (see BENCHMARKS.md).
///
/// One knob, ``Configuration/sensitivity`` (0...1, default 0.5): higher finds more speech (and more
/// false alarms).
///
/// - Important: Not thread-safe: one instance per stream, used from one thread at a time.
/// - Note: ``process(_:)-(UnsafeBufferPointer<Float>)`` is real-time safe: no allocation, no locks.
public final class VoiceActivityDetector {
    /// Frame durations the detector accepts.
    public enum FrameDuration: Int, Sendable, CaseIterable {
        /// 10 ms: 80 samples at 8 kHz, 160 at 16 kHz.
        case milliseconds10 = 10
        /// 20 ms: 160 samples at 8 kHz (one Twilio media frame), 320 at 16 kHz.
        case milliseconds20 = 20
        /// 30 ms: 240 samples at 8 kHz, 480 at 16 kHz.
        case milliseconds30 = 30
    }

    /// Which detector runs.
    public enum Model: String, Sendable, CaseIterable {
        /// Silero VAD (a small neural network, run by ``SileroVAD``): accurate in noise, music and tones;
        /// about 1 ms of CPU per audio second; decides every 32 ms. The default.
        case silero
        /// The classic energy-over-noise-floor detector: about 0.2 ms per audio second, decides every
        /// 10 ms, but takes music, babble and tones for speech.
        case classic
    }

    /// Detector settings.
    public struct Configuration: Sendable, Equatable {
        /// 8,000 or 16,000 Hz.
        public var sampleRate: Int
        /// The frame size of ``VoiceActivityDetector/process(_:)-(UnsafeBufferPointer<Float>)``.
        public var frameDuration: FrameDuration
        /// 0 (conservative) ... 1 (eager); 0.5 by default. For Silero it sets the probability threshold
        /// (0.8 − 0.6 × sensitivity: 0.5 at the default, Silero's own default).
        public var sensitivity: Double
        /// The detector; Silero by default.
        public var model: Model

        /// Creates a configuration.
        public init(
            sampleRate: Int = 8000, frameDuration: FrameDuration = .milliseconds20, sensitivity: Double = 0.5,
            model: Model = .silero
        ) {
            self.sampleRate = sampleRate
            self.frameDuration = frameDuration
            self.sensitivity = sensitivity
            self.model = model
        }
    }

    /// The outcome for one frame.
    public struct Decision: Sendable, Equatable {
        /// The smoothed speech probability, 0...1.
        public var probability: Float
        /// The decision (classic: `probability > 0.5`; Silero: the threshold with hysteresis).
        public var isSpeech: Bool

        /// Creates a decision.
        public init(probability: Float, isSpeech: Bool) {
            self.probability = probability
            self.isSpeech = isSpeech
        }
    }

    /// Why a detector could not be created.
    public enum ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
        /// Only 8,000 and 16,000 Hz are supported.
        case unsupportedSampleRate(Int)
        /// Sensitivity must lie in 0...1.
        case invalidSensitivity(Double)

        /// The problem in one line.
        public var description: String {
            switch self {
            case .unsupportedSampleRate(let rate):
                "voice activity detection runs at 8000 or 16000 Hz, not \(rate) Hz (resample first)"
            case .invalidSensitivity(let value): "sensitivity must be between 0 and 1, got \(value)"
            }
        }
    }

    /// The settings in use.
    public let configuration: Configuration
    /// Samples per frame passed to `process`.
    public let frameLength: Int

    static let bandCount = 12
    let hop: Int
    let window: Int
    let fft: FFT
    let hann: UnsafeMutablePointer<Float>
    let history: UnsafeMutablePointer<Float>
    let real: UnsafeMutablePointer<Float>
    let imaginary: UnsafeMutablePointer<Float>
    /// First FFT bin of each band; band b is bins `bandEdges[b] ..< bandEdges[b + 1]`.
    let bandEdges: UnsafeMutablePointer<Int>
    let noise: UnsafeMutablePointer<Float>
    /// Band energies smoothed over ~10 hops, whose minimum tracks the noise floor.
    let smoothedEnergy: UnsafeMutablePointer<Float>
    /// Per band: how far (dB) the mean level of noise lies above the minimum the tracker finds. Measured
    /// at init on the detector's own pseudo-random white noise, so it matches the band widths and window.
    let minimumBias: UnsafeMutablePointer<Float>
    /// Sums of level − floor per band while calibrating.
    let calibration: UnsafeMutablePointer<Float>
    var calibrating = false
    /// Minimum statistics: the minimum of each band over the current sub-window and the last few.
    let subwindowMinimum: UnsafeMutablePointer<Float>
    let pastMinima: UnsafeMutablePointer<Float>
    static let subwindows = 4
    static let hopsPerSubwindow = 40  // 0.4 s: minima span 1.6-2.0 s
    var hopsInSubwindow = 0
    var subwindowIndex = 0
    var hopsSeen = 0
    var smoothed: Float = 0

    // Silero: samples gather into 32 ms chunks; each frame reports the newest chunk's probability.
    let silero: SileroVAD?
    let chunk: UnsafeMutablePointer<Float>
    var chunkFill = 0
    var latest: Float = 0
    var speaking = false
    let sileroThreshold: Float
    /// The last hop's mean excess of the band levels over their noise floors, in dB.
    public private(set) var lastExcess: Float = 0
    let threshold: Float

    /// Creates a detector.
    ///
    /// - Throws: ``ConfigurationError`` for a sample rate other than 8 or 16 kHz or a sensitivity outside 0...1.
    public init(configuration: Configuration = Configuration()) throws(ConfigurationError) {
        guard configuration.sampleRate == 8000 || configuration.sampleRate == 16000 else {
            throw .unsupportedSampleRate(configuration.sampleRate)
        }
        guard (0...1).contains(configuration.sensitivity) else { throw .invalidSensitivity(configuration.sensitivity) }
        self.configuration = configuration
        let rate = configuration.sampleRate
        frameLength = rate * configuration.frameDuration.rawValue / 1000
        hop = rate / 100
        window = rate == 8000 ? 256 : 512
        fft = FFT(size: window)
        hann = .allocate(capacity: window)
        for i in 0..<window { hann[i] = Float(0.5 - 0.5 * cos(2 * Double.pi * Double(i) / Double(window))) }
        history = .allocate(capacity: window)
        real = .allocate(capacity: window)
        imaginary = .allocate(capacity: window)
        bandEdges = .allocate(capacity: Self.bandCount + 1)
        // 12 bands from 250 to 3500 Hz, equally spaced on a mel-like scale.
        func mel(_ f: Double) -> Double { 2595 * log10(1 + f / 700) }
        func hertz(_ m: Double) -> Double { 700 * (pow(10, m / 2595) - 1) }
        let low = mel(250)
        let high = mel(3500)
        for b in 0...Self.bandCount {
            let f = hertz(low + (high - low) * Double(b) / Double(Self.bandCount))
            bandEdges[b] = Int((f * Double(window) / Double(rate)).rounded())
        }
        noise = .allocate(capacity: Self.bandCount)
        smoothedEnergy = .allocate(capacity: Self.bandCount)
        minimumBias = .allocate(capacity: Self.bandCount)
        minimumBias.initialize(repeating: 0, count: Self.bandCount)
        calibration = .allocate(capacity: Self.bandCount)
        calibration.initialize(repeating: 0, count: Self.bandCount)
        subwindowMinimum = .allocate(capacity: Self.bandCount)
        pastMinima = .allocate(capacity: Self.bandCount * Self.subwindows)
        threshold = Float(4 - 3 * configuration.sensitivity)
        sileroThreshold = Float(0.8 - 0.6 * configuration.sensitivity)
        silero = configuration.model == .silero ? try SileroVAD(sampleRate: rate) : nil
        chunk = .allocate(capacity: silero?.chunk ?? 1)
        reset()
        if silero == nil { calibrate() }
        reset()
    }

    /// Runs 4 s of white noise through the tracker and sets each band's bias to the mean gap between
    /// the noise's level and the floor found, over the last 2 s.
    private func calibrate() {
        calibrating = true
        var state: UInt32 = 0x2545_F491
        let hops = 400
        for index in 0..<hops {
            for i in 0..<hop {
                state = state &* 1_664_525 &+ 1_013_904_223
                imaginary[i] = Float(Int32(bitPattern: state)) / Float(Int32.max) * 0.1
            }
            if index == hops / 2 { calibration.update(repeating: 0, count: Self.bandCount) }
            _ = analyse(hopAt: UnsafePointer(imaginary))
        }
        for b in 0..<Self.bandCount { minimumBias[b] = calibration[b] / Float(hops - hops / 2) }
        calibrating = false
    }

    deinit {
        hann.deallocate()
        history.deallocate()
        real.deallocate()
        imaginary.deallocate()
        bandEdges.deallocate()
        noise.deallocate()
        smoothedEnergy.deallocate()
        minimumBias.deallocate()
        calibration.deallocate()
        chunk.deallocate()
        subwindowMinimum.deallocate()
        pastMinima.deallocate()
    }

    /// Forgets the stream: noise floor, smoothing and history start again.
    public func reset() {
        history.initialize(repeating: 0, count: window)
        noise.initialize(repeating: 0, count: Self.bandCount)
        smoothedEnergy.initialize(repeating: 0, count: Self.bandCount)
        subwindowMinimum.initialize(repeating: 1000, count: Self.bandCount)
        pastMinima.initialize(repeating: 1000, count: Self.bandCount * Self.subwindows)
        hopsInSubwindow = 0
        subwindowIndex = 0
        hopsSeen = 0
        smoothed = 0
        silero?.reset()
        chunkFill = 0
        latest = 0
        speaking = false

    }

    /// Classifies one frame of Float32 samples (nominally −1...1).
    ///
    /// - Parameter frame: Exactly ``frameLength`` samples, following the previous frame.
    /// - Returns: The speech probability and decision for the frame (the mean over its 10 ms hops).
    /// - Complexity: One 32 ms FFT per 10 ms. Real-time safe.
    public func process(_ frame: UnsafeBufferPointer<Float>) -> Decision {
        precondition(frame.count == frameLength, "VoiceActivityDetector: frame of \(frame.count) samples, expected \(frameLength)")
        if let silero {
            return sileroDecision(after: frame.baseAddress!, count: frame.count, model: silero)
        }
        var sum: Float = 0
        var hops = 0
        var offset = 0
        while offset < frame.count {
            sum += analyse(hopAt: frame.baseAddress! + offset)
            hops += 1
            offset += hop
        }
        let probability = sum / Float(hops)
        return Decision(probability: probability, isSpeech: probability > 0.5)
    }

    /// Classifies one frame of 16-bit samples. See ``process(_:)-(UnsafeBufferPointer<Float>)``.
    public func process(_ frame: UnsafeBufferPointer<Int16>) -> Decision {
        precondition(frame.count == frameLength, "VoiceActivityDetector: frame of \(frame.count) samples, expected \(frameLength)")
        if let silero {
            for i in 0..<frame.count { real[i % window] = Float(frame[i]) * (1 / 32768) }
            // Frames are at most 30 ms (480 samples at 16 kHz) and the window 32 ms: they fit in `real`.
            return sileroDecision(after: real, count: frame.count, model: silero)
        }
        // Convert through the FFT's imaginary buffer, free between hops.
        var sum: Float = 0
        var hops = 0
        var offset = 0
        while offset < frame.count {
            for i in 0..<hop { imaginary[i] = Float(frame[offset + i]) * (1 / 32768) }
            sum += analyse(hopAt: UnsafePointer(imaginary))
            hops += 1
            offset += hop
        }
        let probability = sum / Float(hops)
        return Decision(probability: probability, isSpeech: probability > 0.5)
    }

    /// Silero: adds the frame to the chunk being gathered, runs the model on each full chunk, and decides
    /// on the newest probability with hysteresis (speech starts at the threshold and lasts until the
    /// probability falls 0.15 below it, as Silero's own iterator does).
    private func sileroDecision(after samples: UnsafePointer<Float>, count: Int, model: SileroVAD) -> Decision {
        var offset = 0
        while offset < count {
            let take = Swift.min(count - offset, model.chunk - chunkFill)
            (chunk + chunkFill).update(from: samples + offset, count: take)
            chunkFill += take
            offset += take
            if chunkFill == model.chunk {
                latest = model.process(chunk)
                chunkFill = 0
            }
        }
        speaking = speaking ? latest >= sileroThreshold - 0.15 : latest >= sileroThreshold
        return Decision(probability: latest, isSpeech: speaking)
    }

    /// One 10 ms hop: returns the smoothed probability after it.
    private func analyse(hopAt samples: UnsafePointer<Float>) -> Float {
        // Slide the analysis window by one hop.
        UnsafeMutableRawPointer(history).copyMemory(from: history + hop, byteCount: (window - hop) * 4)
        (history + window - hop).update(from: samples, count: hop)
        for i in 0..<window {
            real[i] = history[i] * hann[i]
            imaginary[i] = 0
        }
        fft.transform(real: real, imaginary: imaginary)

        // Power spectrum over 250-3500 Hz.
        for k in bandEdges[0]..<bandEdges[Self.bandCount] {
            real[k] = real[k] * real[k] + imaginary[k] * imaginary[k]
        }

        hopsSeen += 1
        var excessSum: Float = 0
        for b in 0..<Self.bandCount {
            var energy: Float = 1e-10
            for k in bandEdges[b]..<bandEdges[b + 1] { energy += real[k] }
            let level = 10 * log10f(energy)
            // Minimum statistics in dB: the noise floor is the lowest smoothed level of the last 1.6-2 s,
            // raised by how far below its mean such a minimum typically falls for noise in this band.
            smoothedEnergy[b] = hopsSeen == 1 ? level : 0.7 * smoothedEnergy[b] + 0.3 * level
            subwindowMinimum[b] = Swift.min(subwindowMinimum[b], smoothedEnergy[b])
            var floor = subwindowMinimum[b]
            for w in 0..<Self.subwindows { floor = Swift.min(floor, pastMinima[b * Self.subwindows + w]) }
            noise[b] = hopsSeen < 10 ? smoothedEnergy[b] : floor + minimumBias[b]
            if calibrating { calibration[b] += level - floor }
            excessSum += Swift.max(0, level - noise[b] - 3)
        }
        lastExcess = excessSum / Float(Self.bandCount)
        let probability = 1 / (1 + expf(threshold - lastExcess))
        // Fast attack, slower release: onsets are caught at once, word ends are not clipped.
        smoothed += (probability - smoothed) * (probability > smoothed ? 0.6 : 0.15)
        return smoothed
    }
}

@available(*, unavailable)
extension VoiceActivityDetector: Sendable {}
