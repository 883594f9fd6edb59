//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Cuts a language model's streamed text into clauses for the synthesiser, so the first audio of a reply
/// waits for the first clause, not the whole answer.
///
/// A cut falls after sentence punctuation (`.`, `!`, `?`, `;`, `:`) or a comma once the piece is at least
/// ``minimumClause`` characters long, and only when whitespace follows (so "3.5" and "e.g." inside a word
/// stay whole); a newline always cuts. Each piece keeps its trailing whitespace, so the pieces concatenate
/// to exactly the text pushed.
public struct ClauseChunker: Sendable {
    /// The shortest piece a comma may end (default 24 characters).
    public var minimumClause: Int
    private var pending = ""

    /// Creates a chunker.
    public init(minimumClause: Int = 24) { self.minimumClause = minimumClause }

    /// Takes the next text and returns the clauses it completes (possibly none).
    public mutating func push(_ text: String) -> [String] {
        pending += text
        var pieces: [String] = []
        var start = pending.startIndex
        var index = pending.startIndex
        var length = 0
        while index < pending.endIndex {
            let character = pending[index]
            let next = pending.index(after: index)
            length += 1
            if character.isNewline {
                pieces.append(String(pending[start..<next]))
                start = next
                length = 0
            } else if next < pending.endIndex, pending[next].isWhitespace, Self.ends(character, length: length, minimum: minimumClause) {
                var end = next
                while end < pending.endIndex, pending[end].isWhitespace { end = pending.index(after: end) }
                pieces.append(String(pending[start..<end]))
                start = end
                index = end
                length = 0
                continue
            }
            index = next
        }
        pending = String(pending[start...])
        return pieces
    }

    /// The text left over at the end of the stream (the last clause, unterminated), and a reset.
    public mutating func flush() -> String? {
        defer { pending = "" }
        return pending.contains(where: { !$0.isWhitespace }) ? pending : nil
    }

    private static func ends(_ character: Character, length: Int, minimum: Int) -> Bool {
        switch character {
        case ".", "!", "?", ";", ":": true
        case ",": length >= minimum
        default: false
        }
    }
}
