//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// The decoding of Deepgram's live-recognition messages, apart from the session so that Fuzz/fuzz.sh can
// compile it on its own (it needs only Foundation and ProviderError).

import Foundation

/// One recognised word of a `Results` message (stream times, in seconds).
struct DeepgramWord: Sendable, Hashable {
    var text: String
    var start: Double
    var end: Double
    var confidence: Double?
}

/// The best alternative of a `Results` message: its span of the stream, text, words and confidence.
struct DeepgramSegment: Sendable, Hashable {
    var start: Double
    var duration: Double
    var text: String
    var words: [DeepgramWord]
    var confidence: Double?
}

/// One text message from Deepgram's live endpoint, reduced to what the session uses.
enum DeepgramMessage: Sendable, Hashable {
    /// `Results`: the segment, and its `is_final`, `speech_final` and `from_finalize` flags.
    case results(DeepgramSegment, isFinal: Bool, speechFinal: Bool, fromFinalize: Bool)
    /// `UtteranceEnd`.
    case utteranceEnd
    /// Any other type (`Metadata`, `SpeechStarted`…).
    case other(String)

    /// Parses one text frame.
    ///
    /// - Throws: ``ProviderError/malformed(provider:detail:)`` for a frame that is not a JSON object with a
    ///   `type`, or a `Results` message without `channel.alternatives`.
    static func parse(_ text: String) throws(ProviderError) -> DeepgramMessage {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
            let type = object["type"] as? String
        else {
            throw .malformed(provider: "deepgram", detail: "not a JSON message with a type: \(text.prefix(80))")
        }
        switch type {
        case "Results":
            guard let segment = segment(object) else {
                throw .malformed(provider: "deepgram", detail: "a Results message without channel.alternatives")
            }
            return .results(
                segment, isFinal: object["is_final"] as? Bool ?? false, speechFinal: object["speech_final"] as? Bool ?? false,
                fromFinalize: object["from_finalize"] as? Bool ?? false)
        case "UtteranceEnd":
            return .utteranceEnd
        default:
            return .other(type)
        }
    }

    /// The result's text, words (stream times) and confidence.
    static func segment(_ object: [String: Any]) -> DeepgramSegment? {
        guard let channel = object["channel"] as? [String: Any], let alternatives = channel["alternatives"] as? [Any],
            let best = alternatives.first as? [String: Any]
        else { return nil }
        var words: [DeepgramWord] = []
        for case let word as [String: Any] in best["words"] as? [Any] ?? [] {
            guard let text = (word["punctuated_word"] as? String) ?? (word["word"] as? String) else { continue }
            words.append(
                DeepgramWord(
                    text: text, start: number(word["start"]) ?? 0, end: number(word["end"]) ?? 0,
                    confidence: number(word["confidence"])))
        }
        return DeepgramSegment(
            start: number(object["start"]) ?? 0, duration: number(object["duration"]) ?? 0,
            text: best["transcript"] as? String ?? "", words: words, confidence: number(best["confidence"]))
    }

    private static func number(_ value: Any?) -> Double? { (value as? NSNumber)?.doubleValue }
}
