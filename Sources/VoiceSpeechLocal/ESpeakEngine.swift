//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import CESpeakNG
import Synchronization
import VoiceAgent

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// espeak-ng's single synthesis callback: routes the samples and events to the stream being spoken.
private let synthesisCallback: @convention(c) (UnsafeMutablePointer<Int16>?, Int32, UnsafeMutablePointer<espeak_EVENT>?) -> Int32 = {
    samples, count, events in
    ESpeakWorker.shared.engine.receive(samples, count, events)
}

/// espeak-ng's global state as the worker drives it: initialisation, the voice and rate set last, the
/// stream being spoken.
///
/// - Important: Used only on ``ESpeakWorker``'s queue (hence `@unchecked Sendable`): its methods call
///   espeak-ng, and espeak-ng calls back into ``receive(_:_:_:)`` on the same thread, from inside
///   `espeak_Synth`.
final class ESpeakEngine: @unchecked Sendable {
    private var initialised = false
    private var initialisedDataPath: String?
    /// The voice and rate espeak-ng has now (`nil`: unknown).
    private var voice: String?
    private var rate: Int?
    /// The stream whose job espeak-ng is speaking, for the callback.
    private var current: ESpeakStream?
    /// Chunks completed in one callback, reused.
    private var chunks: [SynthesizedAudio] = []

    /// Initialises espeak-ng if needed and selects `voice` (which checks it).
    func prepare(voice: String, dataPath: String?) throws(LocalSpeechError) {
        try initialise(dataPath: dataPath)
        try select(voice: voice, rate: nil)
    }

    /// Runs one job.
    func run(_ job: ESpeakWorker.Job) {
        switch job {
        case .finish(let stream):
            if !stream.isCancelled { stream.end() }
        case .speak(let stream, let text, let offset):
            guard !stream.isCancelled else { return }
            do {
                try initialise(dataPath: nil)
                try select(voice: stream.settings.voice, rate: stream.settings.rate)
            } catch {
                stream.fail(error)
                return
            }
            stream.renderer.begin(offset: offset, text: text)
            current = stream
            let flags = UInt32(espeakCHARS_UTF8 | espeakENDPAUSE)
            let userData = UnsafeMutableRawPointer(bitPattern: UInt(stream.id))
            let status = text.withCString { espeak_Synth($0, strlen($0) + 1, 0, POS_CHARACTER, 0, flags, nil, userData) }
            current = nil
            guard !stream.isCancelled else { return }
            guard status == EE_OK else {
                stream.fail(.synthesisFailed(Int32(status.rawValue)))
                return
            }
            stream.renderer.end(into: &chunks)
            hand(to: stream)
        }
    }

    /// The callback's work: samples and events of the job being spoken. Returns 1 to make espeak-ng stop
    /// (the stream was cancelled, or the events name another stream), 0 to go on.
    func receive(_ samples: UnsafeMutablePointer<Int16>?, _ count: Int32, _ events: UnsafeMutablePointer<espeak_EVENT>?) -> Int32 {
        guard let stream = current, !stream.isCancelled else { return 1 }
        var event = events
        while let next = event, next.pointee.type != espeakEVENT_LIST_TERMINATED {
            guard UInt(bitPattern: next.pointee.user_data) == UInt(stream.id) else { return 1 }
            if next.pointee.type == espeakEVENT_WORD {
                // `sample` is the event's sample index in this synthesis (22,050 Hz); `text_position` counts
                // Unicode scalars of the text from 1.
                stream.renderer.wordStarts(
                    atSample: Int(next.pointee.sample), position: Int(next.pointee.text_position), length: Int(next.pointee.length))
            }
            event = next + 1
        }
        if let samples, count > 0 {
            stream.synthesizedSamples.add(Int(count), ordering: .relaxed)
            stream.renderer.append(UnsafeBufferPointer(start: samples, count: Int(count)), into: &chunks)
            hand(to: stream)
        }
        return 0
    }

    /// Gives the completed chunks to `stream`.
    private func hand(to stream: ESpeakStream) {
        for chunk in chunks { stream.yield(chunk) }
        chunks.removeAll(keepingCapacity: true)
    }

    /// Starts espeak-ng once: synchronous output (samples come to the callback from inside `espeak_Synth`).
    ///
    /// This is what `espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, path, espeakINITIALIZE_DONT_EXIT)` does,
    /// with the failure reported: that call prints the error, then returns the sample rate (22050) anyway,
    /// and without `espeakINITIALIZE_DONT_EXIT` it calls `exit(1)`.
    private func initialise(dataPath: String?) throws(LocalSpeechError) {
        if initialised {
            guard dataPath == nil || dataPath == initialisedDataPath else {
                throw .synthesizerInitFailed(
                    "already running with data path \(initialisedDataPath ?? "(built-in)"), not \(dataPath ?? ""); one per process")
            }
            return
        }
        espeak_ng_InitializePath(dataPath)
        var context: espeak_ng_ERROR_CONTEXT? = nil
        let status = espeak_ng_Initialize(&context)
        guard status == ENS_OK else {
            let message = Self.message(status)
            espeak_ng_ClearErrorContext(&context)
            throw .synthesizerInitFailed(message)
        }
        let output = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nil)
        guard output == ENS_OK else { throw .synthesizerInitFailed(Self.message(output)) }
        let sampleRate = Int(espeak_ng_GetSampleRate())
        guard sampleRate == ESpeakSynthesizer.nativeSampleRate else {
            throw .synthesizerInitFailed("unexpected output rate \(sampleRate) Hz (expected 22050)")
        }
        espeak_SetSynthCallback(synthesisCallback)
        initialised = true
        initialisedDataPath = dataPath
    }

    /// Sets the voice (and the rate, when given) if espeak-ng does not have them already.
    private func select(voice: String, rate: Int?) throws(LocalSpeechError) {
        if voice != self.voice {
            self.voice = nil
            self.rate = nil  // a voice brings its own rate
            let status = espeak_SetVoiceByName(voice)
            guard status == EE_OK else {
                throw status == EE_NOT_FOUND ? .voiceNotFound(voice) : .synthesisFailed(Int32(status.rawValue))
            }
            self.voice = voice
        }
        if let rate, rate != self.rate {
            let status = espeak_SetParameter(espeakRATE, Int32(rate), 0)
            guard status == EE_OK else { throw .synthesisFailed(Int32(status.rawValue)) }
            self.rate = rate
        }
    }

    /// espeak-ng's text for a status code.
    private static func message(_ status: espeak_ng_STATUS) -> String {
        var buffer = [CChar](repeating: 0, count: 512)
        espeak_ng_GetStatusCodeMessage(status, &buffer, buffer.count)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
