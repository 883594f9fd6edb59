//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Who is calling whom: what an agent knows about its call from the moment the stream starts.
///
/// The transport fills it in (for Twilio, from the stream's `start` message and the `<Parameter>`s the
/// incoming-call webhook put into the TwiML), and the host's agent factory receives it, so an agent can
/// greet the caller by number, look them up, or route by the number they dialled.
public struct CallContext: Sendable, Hashable {
    /// The call's id (Twilio: `CA…`).
    public var callSid: String
    /// The media stream's id (Twilio: `MZ…`).
    public var streamSid: String
    /// The account the call belongs to (Twilio: `AC…`).
    public var accountSid: String
    /// The caller's number (E.164, e.g. `+15551234567`), when known.
    public var from: String?
    /// The number that was called, when known.
    public var to: String?
    /// `inbound` or `outbound-api`/`outbound-dial` (Twilio's `Direction`), when known.
    public var direction: String?
    /// Every custom parameter of the stream, by name (Twilio: the TwiML `<Stream>`'s `<Parameter>`s).
    public var customParameters: [String: String]

    /// Creates a context.
    public init(
        callSid: String, streamSid: String = "", accountSid: String = "", from: String? = nil, to: String? = nil,
        direction: String? = nil, customParameters: [String: String] = [:]
    ) {
        self.callSid = callSid
        self.streamSid = streamSid
        self.accountSid = accountSid
        self.from = from
        self.to = to
        self.direction = direction
        self.customParameters = customParameters
    }
}
