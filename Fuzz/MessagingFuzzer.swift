//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// libFuzzer entry point for the Messaging webhook parsers (TwilioMessaging's InboundMessage and
// MessageStatusCallback over TwilioCore's form decoding). Compiled by Fuzz/fuzz.sh with the sources they need;
// not part of the package. Any body must give a payload or a MessagingWebhookError, never a trap or a memory
// error; and a payload parsed from a body must parse again, the same, from the fields it kept.

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
    return 0
}
