//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension PocketSphinxRecognizer {
    /// Where a pocketsphinx model's files are.
    public struct Model: Sendable, Hashable {
        /// The acoustic model directory (holding `mdef`, `means`, `feat.params`, ...).
        public var acousticModel: String
        /// The n-gram language model for open vocabulary (ARPA or binary).
        public var languageModel: String
        /// The pronunciation dictionary.
        public var dictionary: String
        /// The model's sample rate, in Hz (the en-us model is 16 kHz: feed telephone audio upsampled).
        public var sampleRate: Int

        /// Creates a model description.
        public init(acousticModel: String, languageModel: String, dictionary: String, sampleRate: Int = 16000) {
            self.acousticModel = acousticModel
            self.languageModel = languageModel
            self.dictionary = dictionary
            self.sampleRate = sampleRate
        }

        /// Debian's `pocketsphinx-en-us`: US English, 16 kHz, in `/usr/share/pocketsphinx/model/en-us`.
        public static let debianEnglish = Model(
            acousticModel: "/usr/share/pocketsphinx/model/en-us/en-us",
            languageModel: "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin",
            dictionary: "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict")

        /// The acoustic model's front-end parameters.
        var featureParameters: String { acousticModel + "/feat.params" }
    }
}
