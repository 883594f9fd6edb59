//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A Media Streams message that breaks the protocol: what was wrong, in which field, and a one-line
/// description fit for a log line. Never fatal to the process; a server closes that call's socket.
public struct TwilioProtocolError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem.
    public enum Code: String, Sendable, Hashable {
        /// Not JSON (truncated, bad syntax, empty, invalid UTF-8, nested too deeply).
        case invalidJSON = "invalid_json"
        /// JSON, but not an object.
        case notAnObject = "not_an_object"
        /// A required field is absent.
        case missingField = "missing_field"
        /// A field has the wrong JSON type (for example a number where Twilio sends a string).
        case wrongType = "wrong_type"
        /// A field has the right type but an impossible value (a non-numeric `chunk`, a negative timestamp).
        case invalidValue = "invalid_value"
        /// A field Twilio does not accept in a message the app sends.
        case extraField = "extra_field"
        /// A media payload that is not padded, standard-alphabet base64.
        case invalidBase64 = "invalid_base64"
        /// A media payload over the reader's limit.
        case payloadTooLarge = "payload_too_large"
        /// `media`, `dtmf`, `mark` or `stop` before `start`.
        case mediaBeforeStart = "media_before_start"
        /// A second `start`, or a message after `stop`.
        case unexpectedMessage = "unexpected_message"
        /// A `streamSid` other than the one `start` announced.
        case streamSidMismatch = "stream_sid_mismatch"
        /// An event the app may not send (the app sends only `media`, `mark` and `clear`).
        case unknownEvent = "unknown_event"
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
