//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The stand-in synthesisers' "voice": a deterministic, speech-like signal for any text, so that a call
/// through a stand-in is audible, passes voice activity detection, and can be compared sample for sample.
///
/// Each word becomes a voiced buzz (a 140 Hz harmonic series shaped like a vowel) lasting 55 ms per
/// letter, with a 10 ms fade at each end, followed by 90 ms of silence. Punctuation adds a longer pause.
/// The same text always gives the same samples.
public enum StandInVoice {
    /// A word's place in the rendered audio.
    public struct Word: Sendable, Hashable {
        /// The word as written (punctuation attached).
        public var text: String
        /// Its range in the text, in Unicode-scalar offsets.
        public var characters: Range<Int>
        /// Its start and end in the audio, in seconds.
        public var start: Double
        /// The end, in seconds.
        public var end: Double
    }

    /// Renders `text` at `sampleRate` (samples in -1...1) and says where each word lies.
    public static func render(_ text: String, sampleRate: Int) -> (samples: [Float], words: [Word]) {
        let rate = Double(sampleRate)
        var samples: [Float] = []
        var words: [Word] = []
        let scalars = Array(text.unicodeScalars)
        var index = 0
        while index < scalars.count {
            while index < scalars.count, scalars[index].properties.isWhitespace { index += 1 }
            guard index < scalars.count else { break }
            let start = index
            while index < scalars.count, !scalars[index].properties.isWhitespace { index += 1 }
            let word = String(String.UnicodeScalarView(scalars[start..<index]))
            let letters = word.unicodeScalars.filter { $0.properties.isAlphabetic || $0.properties.numericType != nil }.count
            let begin = Double(samples.count) / rate
            if letters > 0 {
                let count = Int(0.055 * Double(letters) * rate)
                let fade = max(1, Int(0.010 * rate))
                let seed = word.unicodeScalars.reduce(0) { ($0 &* 31 &+ Int($1.value)) & 0xffff }
                let formant = 500.0 + Double(seed % 700)
                for n in 0..<count {
                    let t = Double(n) / rate
                    var value = 0.0
                    for harmonic in 1...20 {
                        let frequency = 140.0 * Double(harmonic)
                        guard frequency < rate / 2 - 200 else { break }
                        let weight = 1.0 / (1.0 + ((frequency - formant) / 300) * ((frequency - formant) / 300))
                        value += weight * sin(2 * Double.pi * frequency * t)
                    }
                    let envelope = min(1, Double(n) / Double(fade), Double(count - n) / Double(fade))
                    samples.append(Float(0.12 * value * envelope))
                }
            }
            let end = Double(samples.count) / rate
            words.append(Word(text: word, characters: start..<index, start: begin, end: end))
            let pause = word.last.map { ".!?".contains($0) } == true ? 0.25 : (word.last.map { ",;:".contains($0) } == true ? 0.15 : 0.09)
            samples.append(contentsOf: repeatElement(0, count: Int(pause * rate)))
        }
        return (samples, words)
    }
}
