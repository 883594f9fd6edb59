//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import TwilioCore

/// A Call resource as Twilio returns it (`/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json`). Fields keep
/// Twilio's types: `duration`, `price` and `queueTime` are strings; dates are RFC 2822 strings.
public struct Call: Sendable, Hashable, Decodable {
    /// `CA…`.
    public var sid: String
    /// `AC…`.
    public var accountSid: String
    /// The called number.
    public var to: String?
    /// The caller id.
    public var from: String?
    /// `queued`, `ringing`, `in-progress`, `completed`, `busy`, `failed`, `no-answer`, `canceled`.
    public var status: String
    /// `inbound`, `outbound-api`, `outbound-dial`.
    public var direction: String?
    /// Seconds, as a string, once the call has ended.
    public var duration: String?
    /// The parent call, for child legs.
    public var parentCallSid: String?
    /// RFC 2822.
    public var dateCreated: String?
    /// RFC 2822.
    public var startTime: String?
    /// RFC 2822.
    public var endTime: String?
    /// Milliseconds queued (a string).
    public var queueTime: String?
    /// Answering-machine detection's verdict.
    public var answeredBy: String?
    /// The price (a string), once known.
    public var price: String?
    /// The resource's path.
    public var uri: String?

    /// ``status`` parsed.
    public var callStatus: CallStatusCallback.Status { .init(status) }
}

/// The fields of a call-create request (`POST …/Calls.json`).
public struct CreateCall: Sendable {
    /// Where Twilio gets the call's instructions.
    public enum Instructions: Sendable {
        /// A TwiML URL, requested with `method` (Twilio's default, POST, when `nil`).
        case url(String, method: String? = nil)
        /// TwiML itself (up to 4,000 characters).
        case twiml(String)
        /// A TwiML application (`AP…`).
        case application(String)
    }

    /// The number to call (E.164), a SIP address or a client.
    public var to: String
    /// A Twilio number or verified caller id.
    public var from: String
    /// The TwiML source.
    public var instructions: Instructions
    /// Status callback URL.
    public var statusCallback: String?
    /// Which events call it: any of `initiated`, `ringing`, `answered`, `completed` (one field each).
    public var statusCallbackEvents: [String]
    /// `GET` or `POST`.
    public var statusCallbackMethod: String?
    /// Seconds to ring (Twilio's default is 60).
    public var timeout: Int?
    /// The call's maximum length in seconds.
    public var timeLimit: Int?
    /// Other fields (for example `MachineDetection`, `Record`, `SendDigits`), sent as given.
    public var additionalFields: [(String, String)]

    /// Creates a request.
    public init(
        to: String, from: String, instructions: Instructions, statusCallback: String? = nil,
        statusCallbackEvents: [String] = [], statusCallbackMethod: String? = nil, timeout: Int? = nil,
        timeLimit: Int? = nil, additionalFields: [(String, String)] = []
    ) {
        self.to = to
        self.from = from
        self.instructions = instructions
        self.statusCallback = statusCallback
        self.statusCallbackEvents = statusCallbackEvents
        self.statusCallbackMethod = statusCallbackMethod
        self.timeout = timeout
        self.timeLimit = timeLimit
        self.additionalFields = additionalFields
    }

    /// The form fields, in Twilio's names and in the order Twilio's Python SDK sends them.
    public var formFields: [(String, String)] {
        var fields: [(String, String)] = [("To", to), ("From", from)]
        if case .url(_, let method?) = instructions { fields.append(("Method", method)) }
        if let statusCallback { fields.append(("StatusCallback", statusCallback)) }
        fields += statusCallbackEvents.map { ("StatusCallbackEvent", $0) }
        if let statusCallbackMethod { fields.append(("StatusCallbackMethod", statusCallbackMethod)) }
        if let timeout { fields.append(("Timeout", String(timeout))) }
        fields += additionalFields
        if let timeLimit { fields.append(("TimeLimit", String(timeLimit))) }
        switch instructions {
        case .url(let url, _): fields.append(("Url", url))
        case .twiml(let twiml): fields.append(("Twiml", twiml))
        case .application(let sid): fields.append(("ApplicationSid", sid))
        }
        return fields
    }
}

/// The fields of a call-update request (`POST …/Calls/{Sid}.json`).
public struct UpdateCall: Sendable {
    /// The form fields, in Twilio's names.
    public var formFields: [(String, String)]

    /// Creates an update from raw fields.
    public init(formFields: [(String, String)]) { self.formFields = formFields }

    /// Hang up: `Status=completed` ends a call in progress.
    public static let hangUp = UpdateCall(formFields: [("Status", "completed")])
    /// Cancel a call that is queued or ringing (`Status=canceled`); no effect once answered.
    public static let cancel = UpdateCall(formFields: [("Status", "canceled")])

    /// Redirect the call to new TwiML at `url` (requested with `method`; Twilio's default is POST).
    public static func redirect(to url: String, method: String? = nil) -> UpdateCall {
        UpdateCall(formFields: [("Url", url)] + (method.map { [("Method", $0)] } ?? []))
    }

    /// Replace the call's instructions with `twiml`.
    public static func twiml(_ twiml: String) -> UpdateCall {
        UpdateCall(formFields: [("Twiml", twiml)])
    }
}
