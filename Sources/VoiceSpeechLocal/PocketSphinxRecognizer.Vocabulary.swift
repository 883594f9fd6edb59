//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension PocketSphinxRecognizer {
    /// What callers are expected to say.
    ///
    /// pocketsphinx is poor at open conversation (about 55-65% word error rate on telephone prompts) and good
    /// at a small domain: an IVR's intents, yes and no, digits. Give it the phrases when you know them.
    public enum Vocabulary: Sendable, Hashable {
        /// Anything: the model's generic English language model (`en-us.lm.bin`).
        case open
        /// A domain: each utterance is one of `phrases` (words in order; case and punctuation ignored, digits
        /// spelled one by one) or, when `digits` is true, any string of spoken digits ("zero" to "nine" and
        /// "oh"). Words missing from the pronunciation dictionary are dropped with a warning. An utterance the
        /// grammar cannot explain is decoded again with the open language model.
        case phrases([String], digits: Bool = false)
    }
}
