//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation

/// One server event of the Realtime API, reduced to the fields the agent uses.
struct RealtimeServerEvent: Sendable {
    var type: String
    var responseID: String?
    var itemID: String?
    /// `response.output_audio.delta`: the decoded bytes.
    var audio: [UInt8]?
    /// A transcript or text delta.
    var text: String?
    /// `response.done`: `response.status` and `status_details.reason`.
    var status: String?
    var reason: String?
    /// `error`: `error.message`, `error.code` (or `error.type`).
    var errorMessage: String?
    var errorCode: String?
    /// `error.event_id`: the client event it answers.
    var errorEventID: String?

    /// Parses one text frame.
    static func parse(_ text: String) throws(ProviderError) -> RealtimeServerEvent {
        guard let data = text.data(using: .utf8), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let type = object["type"] as? String
        else {
            throw .malformed(provider: "openai", detail: "a Realtime frame that is not a JSON event: \(text.prefix(80))")
        }
        var event = RealtimeServerEvent(type: type)
        event.responseID = object["response_id"] as? String
        event.itemID = object["item_id"] as? String
        switch type {
        case "response.output_audio.delta":
            guard let delta = object["delta"] as? String, let bytes = Data(base64Encoded: delta) else {
                throw .malformed(provider: "openai", detail: "response.output_audio.delta without base64 audio")
            }
            guard event.itemID != nil else { throw .malformed(provider: "openai", detail: "response.output_audio.delta without item_id") }
            event.audio = [UInt8](bytes)
        case "response.output_audio_transcript.delta", "response.output_text.delta":
            event.text = object["delta"] as? String
        case "response.created", "response.done":
            guard let response = object["response"] as? [String: Any] else {
                throw .malformed(provider: "openai", detail: "\(type) without a response object")
            }
            event.responseID = response["id"] as? String
            event.status = response["status"] as? String
            event.reason = (response["status_details"] as? [String: Any])?["reason"] as? String
        case "response.output_item.added":
            event.itemID = (object["item"] as? [String: Any])?["id"] as? String
        case "error":
            let error = object["error"] as? [String: Any] ?? [:]
            event.errorMessage = error["message"] as? String ?? "unknown error"
            event.errorCode = (error["code"] as? String) ?? (error["type"] as? String)
            event.errorEventID = error["event_id"] as? String
        default:
            break
        }
        return event
    }

    init(type: String) { self.type = type }
}

extension RealtimeServerEvent {
    /// A frame that could not be parsed, as an event the agent fails the active reply with.
    static func malformed(_ error: ProviderError) -> RealtimeServerEvent {
        var event = RealtimeServerEvent(type: "voicepipe.malformed")
        if case .malformed(_, let detail) = error {
            event.errorMessage = detail  // the agent throws it as .malformed again: say "malformed" once
        } else {
            event.errorMessage = error.description
        }
        return event
    }
}
