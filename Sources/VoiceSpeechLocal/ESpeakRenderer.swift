//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import VoiceAgent
import VoiceDSP

/// Turns one stream's espeak-ng output (22,050 Hz samples and word events, as the callback delivers them)
/// into ``SynthesizedAudio`` chunks at the output rate that end where words end.
///
/// A word's sound is taken to end where the next word's begins (espeak-ng reports word starts only), so a
/// chunk is cut at each word start and carries the text up to the end of the word before it; the last
/// chunk of a job ends with the job and carries the rest of its text. Each job is resampled as a stream of
/// its own (flushed at its end), so a chunk boundary at input sample `s` is output sample
/// `ceil(s · outputRate / 22050)` of the job, exactly.
///
/// - Important: Used only on the espeak-ng worker (it is `@unchecked Sendable` for that reason): the
///   callback and the job that drives it both run there.
final class ESpeakRenderer: @unchecked Sendable {
    /// The output rate, in Hz.
    let outputRate: Int
    private let resampler: Resampler
    private let inputRate = ESpeakSynthesizer.nativeSampleRate

    /// Conversion and resampler output space, reused.
    private var input: [Float] = []
    private var output: [Float] = []
    /// Resampled samples of the current job not yet handed out.
    private var pending: [Float] = []
    /// Job-relative output index of `pending[0]`, and of the end of `pending`.
    private var pendingStart = 0
    private var produced = 0
    /// Word ends waiting for the audio to reach them: (job-relative output sample, text end).
    private var cuts: [(sample: Int, textEnd: Int)] = []
    private var nextCut = 0
    /// The text offset the last chunk handed out ended at (stream-wide), and how far the words cut so far
    /// reach.
    private var textHandedOut = 0
    private var textReached = 0
    /// The current job's text: its first scalar's offset in the stream, its length, and where each run of
    /// non-space characters ends (for each scalar, the job-relative end of the run it is in).
    private var jobOffset = 0
    private var jobLength = 0
    private var tokenEnds: [Int] = []
    /// The end (stream-wide) of the word being spoken, once one has started.
    private var wordEnd: Int?

    init(outputRate: Int) throws(ResamplerError) {
        self.outputRate = outputRate
        resampler = try Resampler(
            inputRate: ESpeakSynthesizer.nativeSampleRate, outputRate: outputRate, quality: .telephony,
            backend: .libsamplerate(.sincFastest))
    }

    /// Starts a job: `text`, whose first Unicode scalar is at stream offset `offset`.
    func begin(offset: Int, text: String) {
        tokenEnds.removeAll(keepingCapacity: true)
        var runStart = 0
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                for i in runStart..<tokenEnds.count { tokenEnds[i] = tokenEnds.count }
                tokenEnds.append(tokenEnds.count + 1)
                runStart = tokenEnds.count
            } else {
                tokenEnds.append(0)
            }
        }
        for i in runStart..<tokenEnds.count { tokenEnds[i] = tokenEnds.count }
        let length = tokenEnds.count
        resampler.reset()
        pending.removeAll(keepingCapacity: true)
        cuts.removeAll(keepingCapacity: true)
        nextCut = 0
        pendingStart = 0
        produced = 0
        jobOffset = offset
        jobLength = length
        // Text of earlier jobs that made no sound (only spaces or punctuation) rides with this job's first chunk.
        textReached = textHandedOut
        wordEnd = nil
    }

    /// A word starts at 22,050 Hz sample `sample` of the job: text `position` (1-based, in Unicode scalars
    /// of the job's text, as espeak-ng counts) and `length` scalars long.
    func wordStarts(atSample sample: Int, position: Int, length: Int) {
        // espeak-ng 1.51 sometimes reports a word at position 0 (none of this text: state left over from an
        // earlier synthesis, with a short sound after the last word); it ends no word here.
        guard position >= 1 else { return }
        let jobEnd = jobOffset + jobLength
        let start = min(jobEnd, jobOffset + max(0, position - 1))
        // A number read as several words gives overlapping positions: keep each inside its token.
        let tokenEnd = start < jobEnd ? jobOffset + tokenEnds[start - jobOffset] : jobEnd
        let end = min(tokenEnd, start + max(0, length))
        if let wordEnd, sample > 0 {
            cuts.append((outputIndex(ofInput: sample), wordEnd))
        }
        // Parts of one token (a number read as several words) may repeat or overlap positions.
        wordEnd = max(wordEnd ?? textHandedOut, end)
    }

    /// The job's next samples, at 22,050 Hz; appends the chunks now complete to `chunks`.
    func append(_ samples: UnsafeBufferPointer<Int16>, into chunks: inout [SynthesizedAudio]) {
        guard !samples.isEmpty else { return }
        if input.count < samples.count { input = [Float](repeating: 0, count: samples.count) }
        let needed = resampler.maximumOutputCount(forInputCount: samples.count)
        if output.count < needed { output = [Float](repeating: 0, count: needed) }
        for i in 0..<samples.count { input[i] = Float(samples[i]) * (1 / 32768) }
        let made = input.withUnsafeBufferPointer { input in
            output.withUnsafeMutableBufferPointer { resampler.process(UnsafeBufferPointer(rebasing: input[..<samples.count]), into: $0) }
        }
        pending.append(contentsOf: output[..<made])
        produced += made
        cutReadyChunks(into: &chunks)
    }

    /// Ends the job: appends the rest of its audio to `chunks`, with the rest of its text.
    func end(into chunks: inout [SynthesizedAudio]) {
        let owed = resampler.pendingOutputCount
        if output.count < owed { output = [Float](repeating: 0, count: owed) }
        let made = output.withUnsafeMutableBufferPointer { resampler.flush(into: $0) }
        pending.append(contentsOf: output[..<made])
        produced += made
        cutReadyChunks(into: &chunks)
        let jobEnd = jobOffset + jobLength
        if !pending.isEmpty {
            chunks.append(SynthesizedAudio(samples: pending, text: textHandedOut..<max(textHandedOut, jobEnd)))
            textHandedOut = max(textHandedOut, jobEnd)
        }
        pending.removeAll(keepingCapacity: true)
        pendingStart = produced
    }

    /// Hands out every chunk whose end the resampled audio has reached.
    private func cutReadyChunks(into chunks: inout [SynthesizedAudio]) {
        while nextCut < cuts.count, cuts[nextCut].sample <= produced {
            let cut = cuts[nextCut]
            nextCut += 1
            textReached = max(textReached, cut.textEnd)
            let count = cut.sample - pendingStart
            // Two word starts on one sample, or a cut that ends no new text (a dash read as a pause): the
            // audio and text ride with the next chunk.
            guard count > 0, textReached > textHandedOut else { continue }
            chunks.append(SynthesizedAudio(samples: Array(pending[..<count]), text: textHandedOut..<textReached))
            pending.removeFirst(count)
            pendingStart = cut.sample
            textHandedOut = textReached
        }
    }

    /// The output sample at or after 22,050 Hz input sample `sample` of the job.
    private func outputIndex(ofInput sample: Int) -> Int {
        (sample * outputRate + inputRate - 1) / inputRate
    }
}
