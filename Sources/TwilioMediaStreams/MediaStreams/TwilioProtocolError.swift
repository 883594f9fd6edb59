//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A Media Streams message that breaks the protocol: what was wrong, in which field, and a one-line
/// description fit for a log line. Never fatal to the process; a server closes that call's socket.
public struct TwilioProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem: an open set (new kinds may be added without breaking a `switch`, which needs a
    /// `default`), compared by its snake_case ``rawValue``.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code as it appears in logs and close frames (`invalid_json`, …).
        public let rawValue: String
        /// Creates a code.
        public init(rawValue: String) { self.rawValue = rawValue }
        /// ``rawValue``.
        public var description: String { rawValue }

        /// Not JSON (truncated, bad syntax, empty, invalid UTF-8, nested too deeply).
        public static let invalidJSON = Code(rawValue: "invalid_json")
        /// JSON, but not an object.
        public static let notAnObject = Code(rawValue: "not_an_object")
        /// A required field is absent.
        public static let missingField = Code(rawValue: "missing_field")
        /// A field has the wrong JSON type (for example a number where Twilio sends a string).
        public static let wrongType = Code(rawValue: "wrong_type")
        /// A field has the right type but an impossible value (a non-numeric `chunk`, a negative timestamp).
        public static let invalidValue = Code(rawValue: "invalid_value")
        /// A field Twilio does not accept in a message the app sends.
        public static let extraField = Code(rawValue: "extra_field")
        /// A media payload that is not padded, standard-alphabet base64.
        public static let invalidBase64 = Code(rawValue: "invalid_base64")
        /// A media payload over the reader's limit.
        public static let payloadTooLarge = Code(rawValue: "payload_too_large")
        /// `media`, `dtmf`, `mark` or `stop` before `start`.
        public static let mediaBeforeStart = Code(rawValue: "media_before_start")
        /// A second `start`, or a message after `stop`.
        public static let unexpectedMessage = Code(rawValue: "unexpected_message")
        /// A `streamSid` other than the one `start` announced.
        public static let streamSidMismatch = Code(rawValue: "stream_sid_mismatch")
        /// An event the app may not send (the app sends only `media`, `mark` and `clear`).
        public static let unknownEvent = Code(rawValue: "unknown_event")
    }

    /// The kind of problem.
    public var code: Code
    /// The field concerned, as a JSON path such as `media.payload`, if any.
    public var field: String?
    /// What was wrong.
    public var detail: String

    /// Creates an error.
    public init(_ code: Code, field: String? = nil, _ detail: String) {
        self.code = code
        self.field = field
        self.detail = detail
    }

    /// One line: the code, the field and the detail.
    public var description: String {
        if let field { "\(code.rawValue) (\(field)): \(detail)" } else { "\(code.rawValue): \(detail)" }
    }
}
