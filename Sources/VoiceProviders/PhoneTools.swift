//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import TwilioCore
public import TwilioREST
import VoiceAgent

/// The tools a phone agent needs besides ``ModelTool/hangUp(description:)``: transfer the call to a person,
/// and press keys on an automated menu.
extension ModelTool {
    /// `transfer_call(to:)`: replaces the call's TwiML with `<Say>announcement</Say><Dial><Number>to</Number></Dial>`
    /// through `update` (a REST call update), which ends the media stream and rings the number.
    ///
    /// Only the numbers in `allowed` can be dialled: the schema lists them, and any other number the model
    /// writes is refused with an error the model reads (nothing is dialled). A failed update is reported to
    /// the model the same way, and the call goes on.
    ///
    /// - Parameters:
    ///   - allowed: The E.164 numbers the agent may transfer to, with what each is for (shown to the model).
    ///   - announcement: What Twilio says before dialling (`nil`: nothing).
    ///   - callerId: The caller ID shown to the person dialled (`nil`: the caller's own).
    ///   - update: Applies the new TwiML to the call (see ``transferCall(allowed:announcement:callerId:callSid:client:)``).
    public static func transferCall(
        allowed: [(number: String, purpose: String)], announcement: String? = "Transferring you now.", callerId: String? = nil,
        update: @escaping @Sendable (_ twiml: String) async throws -> Void
    ) -> ModelTool {
        let numbers = allowed.map(\.number)
        let listing = allowed.map { "\($0.number) (\($0.purpose))" }.joined(separator: ", ")
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "to": ["type": "string", "enum": .array(numbers.map { .string($0) }), "description": "The number to transfer to."]
            ],
            "required": ["to"],
        ]
        return ModelTool(
            name: "transfer_call", description: "Transfer the caller to a person. Allowed numbers: \(listing).", parameters: schema,
            filler: "One moment."
        ) { arguments in
            guard let number = arguments["to"]?.stringValue else {
                return ToolResult(content: "error: the argument \"to\" is missing")
            }
            guard numbers.contains(number) else {
                return ToolResult(content: "error: \(number) is not a number this agent may transfer to; allowed: \(listing)")
            }
            var verbs: [TwiML.Node] = []
            if let announcement { verbs.append(.say(announcement)) }
            verbs.append(.dial(number, callerId: callerId))
            do {
                try await update(TwiML.response(verbs).xml)
            } catch {
                return ToolResult(content: "error: the transfer failed (\(error)); tell the caller and carry on")
            }
            return ToolResult(content: "The call is being transferred to \(number).")
        }
    }

    /// `transfer_call(to:)` on Twilio's REST API: updates call `callSid` with `client`.
    public static func transferCall(
        allowed: [(number: String, purpose: String)], announcement: String? = "Transferring you now.", callerId: String? = nil,
        callSid: String, client: TwilioRESTClient
    ) -> ModelTool {
        transferCall(allowed: allowed, announcement: announcement, callerId: callerId) { twiml in
            _ = try await client.updateCall(sid: callSid, .twiml(twiml))
        }
    }

    /// `send_digits(digits:)`: plays keypad tones (in-band DTMF, see ``ModelOutput/sendDigits(_:)``) after
    /// the reply's words, to get through an automated menu. Digits `0`–`9`, `*`, `#`, and `w` for a
    /// half-second pause; at most 32 (as Twilio's own `SendDigits`).
    public static func sendDigits() -> ModelTool {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "digits": [
                    "type": "string", "pattern": "^[0-9*#w]{1,32}$",
                    "description": "The keys to press, e.g. \"1\" or \"1234#\"; w waits half a second.",
                ]
            ],
            "required": ["digits"],
        ]
        return ModelTool(name: "send_digits", description: "Press keys on the phone's keypad (DTMF).", parameters: schema) { arguments in
            guard let digits = arguments["digits"]?.stringValue, (1...32).contains(digits.count),
                digits.allSatisfy({ "0123456789*#wW".contains($0) })
            else {
                return ToolResult(content: "error: digits must be 1 to 32 of 0-9, *, # and w")
            }
            return ToolResult(content: "Pressed \(digits).", actions: [.sendDigits(digits)])
        }
    }
}
