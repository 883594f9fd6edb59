//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// libFuzzer entry point for the Messaging webhook parsers (TwilioMessaging's InboundMessage,
// MessageStatusCallback and ConversationsWebhookEvent over TwilioCore's form decoding). Compiled by Fuzz/fuzz.sh
// with the sources they need; not part of the package. Any body must give a payload or a typed error
// (MessagingWebhookError, ConversationsWebhookError), never a trap or a memory error; and a payload parsed from
// a body must parse again, the same, from the fields it kept.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMessagingWebhooks(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let body = UnsafeBufferPointer(start: data, count: size)
    do {
        let message = try InboundMessage(formBody: body)
        precondition(message.numMedia >= 0 && message.media.count <= message.numMedia)
        let again = try InboundMessage(parameters: message.parameters)
        precondition(again.messageSid == message.messageSid && again.body == message.body && again.media.count == message.media.count)
        _ = message.location
    } catch {
        _ = error.description
    }
    do {
        let callback = try MessageStatusCallback(formBody: body)
        let again = try MessageStatusCallback(parameters: callback.parameters)
        precondition(again.messageSid == callback.messageSid && again.status == callback.status && again.errorCode == callback.errorCode)
        _ = callback.errorReason
    } catch {
        _ = error.description
    }
    do {
        let event = try ConversationsWebhookEvent(formBody: body)
        let again = try ConversationsWebhookEvent(parameters: event.parameters)
        precondition(again.eventType == event.eventType && !event.eventType.isEmpty)
        precondition(again.parameters.map(\.0) == event.parameters.map(\.0) && again.parameters.map(\.1) == event.parameters.map(\.1))
        switch event {
        case .onMessageAdded(let added):
            if let number = added.contactE164 { precondition(number.hasPrefix("+") && added.author != nil) }
            if let author = added.author { precondition(added.isEcho(agentAuthor: author)) }
            if added.source?.lowercased() == "api" { precondition(added.isEcho()) }
            _ = added.createdAt
        case .onDeliveryUpdated(let update):
            if update.errorCode == nil || update.errorCode == 0 { precondition(update.errorReason == nil) }
        case .onConversationStateUpdated(let change):
            precondition(!change.stateFrom.rawValue.isEmpty && !change.stateTo.rawValue.isEmpty)
        case .onParticipantAdded(let participant):
            precondition(participant.messagingBinding != ConversationMessagingBinding())
        case .onConversationAdded(let added):
            _ = added.state
        case .other(let eventType, _):
            precondition(eventType == event.parameters.last { $0.0 == "EventType" }?.1)
        }
    } catch {
        _ = error.description
    }
    return 0
}
