//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Foundation

/// A small script for an agent that needs no keys: what to say first, which replies answer which phrases,
/// what to say when nothing matches, and which reply ends the call. ``PlaybookModel`` follows it.
///
/// The file is JSON:
///
/// ```json
/// {
///   "greeting": "Thanks for calling. I can book a callback. What would you like?",
///   "fallback": "Sorry, I didn't catch that. You can say callback, or goodbye.",
///   "intents": [
///     { "name": "callback", "phrases": ["call me back", "callback", "telephone number"],
///       "reply": "Sure. What number should we call?" },
///     { "name": "number", "slot": "digits", "reply": "We will call you on {digits}. Anything else?" },
///     { "name": "goodbye", "phrases": ["goodbye", "bye"], "reply": "Goodbye.", "hangUp": true }
///   ],
///   "vocabulary": ["at", "in the morning"]
/// }
/// ```
///
/// An intent matches when one of its phrases' words all occur, in order, among the words recognised (so
/// "i'd like a call back please" matches "call back"); the longest match wins, ties go to the intent listed
/// first. An intent with `"slot": "digits"` matches a run of at least ``Intent/minimumDigits`` spoken
/// digits ("five five five one"), scored by their number; its reply says them back as `{digits}`. `{match}`
/// in a reply is the phrase that matched.
public struct Playbook: Sendable, Hashable, Codable {
    /// One thing a caller may want, and the answer.
    public struct Intent: Sendable, Hashable, Codable {
        /// A name for logs and tests.
        public var name: String
        /// Phrases that select it (lower case; words separated by spaces).
        public var phrases: [String]
        /// `"digits"`: the intent takes a spoken number.
        public var slot: Slot?
        /// The least number of digits a `"digits"` slot needs (default 3).
        public var minimumDigits: Int?
        /// What the agent says.
        public var reply: String
        /// Whether the call ends after the reply.
        public var hangUp: Bool?

        /// What an intent's slot takes.
        public enum Slot: String, Sendable, Hashable, Codable {
            /// A run of spoken digits.
            case digits
        }

        /// Creates an intent.
        public init(name: String, phrases: [String] = [], slot: Slot? = nil, minimumDigits: Int? = nil, reply: String, hangUp: Bool = false)
        {
            self.name = name
            self.phrases = phrases
            self.slot = slot
            self.minimumDigits = minimumDigits
            self.reply = reply
            self.hangUp = hangUp ? true : nil
        }

        enum CodingKeys: String, CodingKey {
            case name, phrases, slot, minimumDigits, reply, hangUp
        }

        /// Decodes an intent; `phrases` may be left out.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            phrases = try container.decodeIfPresent([String].self, forKey: .phrases) ?? []
            slot = try container.decodeIfPresent(Slot.self, forKey: .slot)
            minimumDigits = try container.decodeIfPresent(Int.self, forKey: .minimumDigits)
            reply = try container.decode(String.self, forKey: .reply)
            hangUp = try container.decodeIfPresent(Bool.self, forKey: .hangUp)
        }
    }

    /// Said when the call starts.
    public var greeting: String?
    /// Said when nothing matches.
    public var fallback: String
    /// The intents, in priority order.
    public var intents: [Intent]
    /// Other words and phrases callers say around the intents' ("at", "in the morning"): the recogniser
    /// expects them too, though they select nothing.
    public var vocabulary: [String]?

    /// Creates a playbook.
    public init(greeting: String?, fallback: String, intents: [Intent], vocabulary: [String]? = nil) {
        self.greeting = greeting
        self.fallback = fallback
        self.intents = intents
        self.vocabulary = vocabulary
    }

    /// Reads and checks a playbook file.
    ///
    /// - Throws: ``PlaybookError`` when the file cannot be read, is not a playbook, or is inconsistent.
    public init(contentsOf path: String) throws(PlaybookError) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw PlaybookError("cannot read playbook \(path): \(error.localizedDescription)")
        }
        try self.init(json: data, source: path)
    }

    /// Decodes and checks a playbook from JSON.
    public init(json: Data, source: String = "playbook") throws(PlaybookError) {
        do { self = try JSONDecoder().decode(Playbook.self, from: json) } catch let error as DecodingError {
            throw PlaybookError("\(source) is not a valid playbook: \(Self.describe(error))")
        } catch {
            throw PlaybookError("\(source) is not a valid playbook: \(error)")
        }
        try validate(source: source)
    }

    private func validate(source: String) throws(PlaybookError) {
        guard !intents.isEmpty else { throw PlaybookError("\(source): no intents") }
        for intent in intents {
            if intent.phrases.isEmpty, intent.slot == nil {
                throw PlaybookError("\(source): intent \"\(intent.name)\" has neither phrases nor a slot")
            }
            if intent.reply.contains("{digits}"), intent.slot != .digits {
                throw PlaybookError("\(source): intent \"\(intent.name)\" says {digits} but has no digits slot")
            }
            if let empty = intent.phrases.first(where: { Self.words($0).isEmpty }) {
                throw PlaybookError("\(source): intent \"\(intent.name)\" has an empty phrase \"\(empty)\"")
            }
        }
    }

    /// Every phrase of every intent, the ``vocabulary`` and the words a digits slot takes: what a recogniser
    /// should expect (``PocketSphinxRecognizer``'s domain).
    public var phrases: [String] {
        var all = (intents.flatMap(\.phrases) + (vocabulary ?? [])).map { Self.words($0).joined(separator: " ") }
        if intents.contains(where: { $0.slot == .digits }) { all += Self.digitWords.keys.sorted() }
        var seen = Set<String>()
        return all.filter { seen.insert($0).inserted }
    }

    /// Whether an intent takes spoken digits.
    public var expectsDigits: Bool { intents.contains { $0.slot == .digits } }

    /// The reply to `utterance`: the best-matching intent's reply with its slots filled, or the fallback.
    public func answer(_ utterance: String) -> (intent: String?, reply: String, hangUp: Bool) {
        let heard = Self.words(utterance)
        var best: (score: Int, intent: Intent, match: String, digits: [String])?
        for intent in intents {
            var score = 0
            var match = ""
            var digits: [String] = []
            if intent.slot == .digits {
                digits = Self.longestDigitRun(heard)
                if digits.count >= (intent.minimumDigits ?? 3) { score = digits.count }
            }
            for phrase in intent.phrases {
                let words = Self.words(phrase)
                if words.count > score, Self.occursInOrder(words, in: heard) {
                    score = words.count
                    match = words.joined(separator: " ")
                }
            }
            if score > 0, score > best?.score ?? 0 { best = (score, intent, match, digits) }
        }
        guard let best else { return (nil, fallback, false) }
        let spokenDigits = Self.grouped(best.digits)
        let reply = best.intent.reply.replacingOccurrences(of: "{digits}", with: spokenDigits)
            .replacingOccurrences(of: "{match}", with: best.match)
        return (best.intent.name, reply.prefix(1).uppercased() + reply.dropFirst(), best.intent.hangUp ?? false)
    }

    // MARK: - Words

    static let digitWords: [String: String] = [
        "zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
        "eight": "8", "nine": "9",
    ]

    /// Lower-case words, punctuation dropped (apostrophes inside words kept), digits spelled out.
    static func words(_ text: String) -> [String] { PhraseGrammar.words(of: text) }

    static func occursInOrder(_ phrase: [String], in heard: [String]) -> Bool {
        var index = heard.startIndex
        for word in phrase {
            guard let found = heard[index...].firstIndex(of: word) else { return false }
            index = found + 1
        }
        return true
    }

    static func longestDigitRun(_ heard: [String]) -> [String] {
        var best: [String] = []
        var run: [String] = []
        for word in heard {
            if digitWords[word] != nil {
                run.append(word)
                if run.count > best.count { best = run }
            } else {
                run.removeAll()
            }
        }
        return best
    }

    /// Digits as a person reads a number back: groups of three or four, separated by commas.
    static func grouped(_ digits: [String]) -> String {
        let words = digits.map { $0 == "oh" ? "zero" : $0 }
        var groups: [[String]] = []
        var index = 0
        while index < words.count {
            let left = words.count - index
            let size = left <= 4 ? left : 3
            groups.append(Array(words[index..<(index + size)]))
            index += size
        }
        return groups.map { $0.joined(separator: " ") }.joined(separator: ", ")
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, let context):
            "missing \"\(key.stringValue)\"" + Self.path(context.codingPath)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            context.debugDescription + Self.path(context.codingPath)
        case .dataCorrupted(let context):
            context.debugDescription + Self.path(context.codingPath)
        @unknown default:
            "\(error)"
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "" : " at " + codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
}

/// A playbook that cannot be used.
public struct PlaybookError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, for the person who wrote the file.
    public var description: String

    init(_ description: String) { self.description = description }
}
