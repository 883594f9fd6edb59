//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import VoiceSpeechLocal

/// The code of the ``LocalSpeechError`` `body` throws (`nil`: nothing thrown, or another error).
func errorCode(_ body: () throws -> Void) -> LocalSpeechError.Code? {
    do {
        try body()
        return nil
    } catch {
        return (error as? LocalSpeechError)?.code
    }
}
