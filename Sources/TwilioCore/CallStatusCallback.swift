//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A call status callback (the form Twilio POSTs to a call's `StatusCallback` URL), parsed.
///
/// Validate the request's signature first (``RequestValidator``), with all of ``parameters``. Callbacks
/// may arrive out of order: use ``sequenceNumber``.
public struct CallStatusCallback: Sendable, Hashable {
    /// A call's status. `initiated` occurs only in callbacks; `answered` arrives as `inProgress`.
    public enum Status: Sendable, Hashable {
        /// `queued`.
        case queued
        /// `initiated`.
        case initiated
        /// `ringing`.
        case ringing
        /// `in-progress`.
        case inProgress
        /// `completed`.
        case completed
        /// `busy`.
        case busy
        /// `failed`.
        case failed
        /// `no-answer`.
        case noAnswer
        /// `canceled`.
        case canceled
        /// A value this version does not know.
        case other(String)

        /// Parses Twilio's spelling.
        public init(_ value: String) {
            switch value {
            case "queued": self = .queued
            case "initiated": self = .initiated
            case "ringing": self = .ringing
            case "in-progress": self = .inProgress
            case "completed": self = .completed
            case "busy": self = .busy
            case "failed": self = .failed
            case "no-answer": self = .noAnswer
            case "canceled": self = .canceled
            default: self = .other(value)
            }
        }

        /// Twilio's spelling.
        public var rawValue: String {
            switch self {
            case .queued: "queued"
            case .initiated: "initiated"
            case .ringing: "ringing"
            case .inProgress: "in-progress"
            case .completed: "completed"
            case .busy: "busy"
            case .failed: "failed"
            case .noAnswer: "no-answer"
            case .canceled: "canceled"
            case .other(let value): value
            }
        }

        /// Whether the call has ended.
        public var isFinal: Bool {
            switch self {
            case .completed, .busy, .failed, .noAnswer, .canceled: true
            default: false
            }
        }
    }

    /// Why a form is not a status callback.
    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        /// The missing or malformed field.
        public var field: String
        /// Creates an error.
        public init(field: String) { self.field = field }
        /// One line.
        public var description: String { "status callback: missing or malformed \(field)" }
    }

    /// `CallSid`.
    public var callSid: String
    /// `AccountSid`.
    public var accountSid: String
    /// `CallStatus`.
    public var status: Status
    /// `From`.
    public var from: String?
    /// `To`.
    public var to: String?
    /// `Direction` (`inbound`, `outbound-api`, `outbound-dial`).
    public var direction: String?
    /// `SequenceNumber`: 0 for the first callback of a call.
    public var sequenceNumber: Int?
    /// `Timestamp` (RFC 2822).
    public var timestamp: String?
    /// `CallDuration` in seconds (on `completed`).
    public var callDuration: Int?
    /// `SipResponseCode`.
    public var sipResponseCode: Int?
    /// `AnsweredBy` (answering-machine detection).
    public var answeredBy: String?
    /// `ParentCallSid` (child legs only).
    public var parentCallSid: String?
    /// Every field as received, in order (what signature validation needs).
    public var parameters: [(String, String)] {
        get { storedParameters.map { ($0.name, $0.value) } }
        set { storedParameters = newValue.map { Field(name: $0.0, value: $0.1) } }
    }

    private struct Field: Sendable, Hashable {
        var name: String
        var value: String
    }
    private var storedParameters: [Field]

    /// Parses decoded form fields.
    ///
    /// - Throws: ``ParseError`` when `CallSid`, `AccountSid` or `CallStatus` is missing, or a number is not one.
    public init(parameters: [(String, String)]) throws(ParseError) {
        func value(_ name: String) -> String? { parameters.last { $0.0 == name }?.1 }
        func number(_ name: String) throws(ParseError) -> Int? {
            guard let text = value(name), !text.isEmpty else { return nil }
            guard let number = Int(text) else { throw ParseError(field: name) }
            return number
        }
        guard let callSid = value("CallSid"), !callSid.isEmpty else { throw ParseError(field: "CallSid") }
        guard let accountSid = value("AccountSid"), !accountSid.isEmpty else { throw ParseError(field: "AccountSid") }
        guard let status = value("CallStatus"), !status.isEmpty else { throw ParseError(field: "CallStatus") }
        self.callSid = callSid
        self.accountSid = accountSid
        self.status = Status(status)
        from = value("From")
        to = value("To")
        direction = value("Direction")
        sequenceNumber = try number("SequenceNumber")
        timestamp = value("Timestamp")
        callDuration = try number("CallDuration")
        sipResponseCode = try number("SipResponseCode")
        answeredBy = value("AnsweredBy")
        parentCallSid = value("ParentCallSid")
        storedParameters = parameters.map { Field(name: $0.0, value: $0.1) }
    }

    /// Parses a form body.
    public init(formBody: some Collection<UInt8>) throws(ParseError) {
        guard let fields = FormEncoding.decode(formBody) else { throw ParseError(field: "body (bad form encoding)") }
        try self.init(parameters: fields)
    }
}
