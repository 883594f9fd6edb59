//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A failed Twilio REST request: Twilio's error (`code`, `message`, `more_info`, HTTP status), or why no
/// answer came.
public struct TwilioRESTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public enum Kind: Sendable, Hashable {
        /// Twilio answered with an error status (its JSON error, when it sent one, is in the other fields).
        case api
        /// No answer within the request timeout.
        case timeout
        /// The connection failed.
        case transport
        /// A success status with a body that is not the expected JSON.
        case invalidResponse
    }

    /// What went wrong.
    public var kind: Kind
    /// The HTTP status, if Twilio answered.
    public var httpStatus: Int?
    /// Twilio's error code (for example 21211, "Invalid 'To' Phone Number"; 20003, authentication).
    public var code: Int?
    /// Twilio's message, or a description of the failure.
    public var message: String
    /// Twilio's link to the error's documentation.
    public var moreInfo: String?
    /// How many attempts were made.
    public var attempts: Int
    /// The wait Twilio asked for (`Retry-After`) on the last 429, if it named one.
    public var retryAfter: Duration?

    /// Creates an error.
    public init(
        kind: Kind, httpStatus: Int? = nil, code: Int? = nil, message: String, moreInfo: String? = nil, attempts: Int = 1,
        retryAfter: Duration? = nil
    ) {
        self.kind = kind
        self.httpStatus = httpStatus
        self.code = code
        self.message = message
        self.moreInfo = moreInfo
        self.attempts = attempts
        self.retryAfter = retryAfter
    }

    /// One line, without credentials.
    public var description: String {
        var text = "Twilio REST \(kind)"
        if let httpStatus { text += " HTTP \(httpStatus)" }
        if let code { text += " code \(code)" }
        text += ": \(message)"
        if let moreInfo { text += " (\(moreInfo))" }
        if attempts > 1 { text += " after \(attempts) attempts" }
        return text
    }
}
