//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import TwilioREST

/// A failed Messaging request: what a sender must do about it (``reason``), and Twilio's own error
/// (``underlying``: HTTP status, `code`, `message`, `more_info`, attempts).
///
/// ```swift
/// do {
///     _ = try await messaging.send(SendMessage(to: customer, sender: .from(ourNumber), body: reply))
/// } catch {
///     switch error.reason {
///     case .unsubscribed: markOptedOut(customer)            // 21610: the customer sent STOP
///     case .outsideWhatsAppWindow: try await sendTemplate() // 63016: use an approved template
///     case .invalidRecipient: dropContact(customer)         // 21211, 21614, …
///     case .rateLimited: scheduleRetry(after: error.retryAfter)
///     default: throw error
///     }
/// }
/// ```
public struct MessagingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What a failure means for the sender. An open set: new reasons may be added, so `switch` with a
    /// `default`.
    public struct Reason: Sendable, Hashable, CustomStringConvertible {
        private enum Wrapped: Sendable, Hashable {
            case invalidRecipient, invalidSender, unsubscribed, outsideWhatsAppWindow, rateLimited, authentication
            case notFound, serverError, timeout, transport, invalidResponse, other
            case addressPairInUse, alreadyParticipant, conversationClosed, duplicateUniqueName
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// The recipient cannot get messages: 21211 invalid `To`, 21612 not reachable from this sender,
        /// 21614 not a mobile number; in status callbacks 30005 unknown handset, 30006 landline or
        /// unreachable carrier; Conversations 50407, a participant address that is not E.164. Permanent.
        public static let invalidRecipient = Reason(.invalidRecipient)
        /// The sender cannot send: 21212 invalid `From`, 21606 not a message-capable Twilio number, 63007 no
        /// WhatsApp sender for `From`.
        public static let invalidSender = Reason(.invalidSender)
        /// 21610: the recipient replied STOP (or UNSUBSCRIBE, CANCEL, END, QUIT, STOPALL); nothing reaches
        /// them until they send START. Mark the contact opted out.
        public static let unsubscribed = Reason(.unsubscribed)
        /// 63016: a free-form WhatsApp message more than 24 hours after the user's last message; send an
        /// approved template (``SendMessage/contentSid``) instead.
        public static let outsideWhatsAppWindow = Reason(.outsideWhatsAppWindow)
        /// HTTP 429, 20429 (too many concurrent requests), 14107 (send rate), 21611 (sender queue full),
        /// 30001 (queue overflow): back off and try later.
        public static let rateLimited = Reason(.rateLimited)
        /// HTTP 401 or 20003: wrong account SID, auth token or API key, or unreadable credentials.
        public static let authentication = Reason(.authentication)
        /// HTTP 404 or 20404: no such message (or account).
        public static let notFound = Reason(.notFound)
        /// A 5xx answer.
        public static let serverError = Reason(.serverError)
        /// No answer within the request timeout.
        public static let timeout = Reason(.timeout)
        /// The connection failed (or the task was cancelled).
        public static let transport = Reason(.transport)
        /// A success status with a body that is not the expected JSON.
        public static let invalidResponse = Reason(.invalidResponse)
        /// Any other Twilio error; see the code.
        public static let other = Reason(.other)
        /// Conversations 50416: the (address, proxy address) pair is already bound to another active
        /// conversation. Reuse that conversation (find it with
        /// ``TwilioConversationsClient/participantConversations(address:pageSize:)``), or close it first.
        public static let addressPairInUse = Reason(.addressPairInUse)
        /// Conversations 50437 (the same address pair is already in this conversation) or 50433 (the chat
        /// identity is already in it): the participant is there; treat the add as done.
        public static let alreadyParticipant = Reason(.alreadyParticipant)
        /// Conversations 50377: the conversation is `closed`, which is final; start a new one.
        public static let conversationClosed = Reason(.conversationClosed)
        /// Conversations 50353: another conversation already has this unique name.
        public static let duplicateUniqueName = Reason(.duplicateUniqueName)

        /// The reason for a Twilio error code (from an error body, a Message's `error_code` or a status
        /// callback's `ErrorCode`), falling back on the HTTP status when the code is unknown or absent.
        public init(twilioCode: Int?, httpStatus: Int? = nil) {
            switch twilioCode {
            case 21211, 21612, 21614, 30005, 30006, 50407: self = .invalidRecipient
            case 21212, 21606, 63007: self = .invalidSender
            case 21610: self = .unsubscribed
            case 63016: self = .outsideWhatsAppWindow
            case 20429, 14107, 21611, 30001: self = .rateLimited
            case 20003: self = .authentication
            case 20404: self = .notFound
            case 50416: self = .addressPairInUse
            case 50437, 50433: self = .alreadyParticipant
            case 50377: self = .conversationClosed
            case 50353: self = .duplicateUniqueName
            default:
                switch httpStatus {
                case 429: self = .rateLimited
                case 401: self = .authentication
                case 404: self = .notFound
                case let status? where status >= 500: self = .serverError
                default: self = .other
                }
            }
        }

        /// The reason's name, for example `unsubscribed`.
        public var description: String {
            switch wrapped {
            case .invalidRecipient: "invalidRecipient"
            case .invalidSender: "invalidSender"
            case .unsubscribed: "unsubscribed"
            case .outsideWhatsAppWindow: "outsideWhatsAppWindow"
            case .rateLimited: "rateLimited"
            case .authentication: "authentication"
            case .notFound: "notFound"
            case .serverError: "serverError"
            case .timeout: "timeout"
            case .transport: "transport"
            case .invalidResponse: "invalidResponse"
            case .other: "other"
            case .addressPairInUse: "addressPairInUse"
            case .alreadyParticipant: "alreadyParticipant"
            case .conversationClosed: "conversationClosed"
            case .duplicateUniqueName: "duplicateUniqueName"
            }
        }
    }

    /// What the failure means for the sender.
    public var reason: Reason
    /// Twilio's error as the REST client reports it: kind, HTTP status, `code`, `message`, `more_info`,
    /// attempts made.
    public var underlying: TwilioRESTError
    /// The last `Retry-After` Twilio sent with a 429, if any (already waited out for retried attempts).
    public var retryAfter: Duration?

    /// Wraps a REST error; the reason follows from its kind, code and HTTP status.
    public init(_ underlying: TwilioRESTError, retryAfter: Duration? = nil) {
        switch underlying.kind {
        case .api: reason = Reason(twilioCode: underlying.code, httpStatus: underlying.httpStatus)
        case .timeout: reason = .timeout
        case .transport: reason = .transport
        case .invalidResponse: reason = .invalidResponse
        }
        self.underlying = underlying
        self.retryAfter = retryAfter
    }

    /// Twilio's error code (for example 21610), if it sent one.
    public var code: Int? { underlying.code }
    /// Twilio's message, or a description of the failure.
    public var message: String { underlying.message }
    /// The HTTP status, if Twilio answered.
    public var httpStatus: Int? { underlying.httpStatus }

    /// One line, without credentials.
    public var description: String { "Twilio Messaging \(reason): \(underlying)" }
}
