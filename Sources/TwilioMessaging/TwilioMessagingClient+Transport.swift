//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import NIOHTTP1
import TwilioREST

extension TwilioMessagingClient {
    /// One request on the REST client's transport, with the Messages API's retry rule: 429 always (after
    /// `Retry-After` when Twilio sends one), 5xx, timeouts and connection failures only when `idempotent`.
    func perform<Resource: Decodable>(
        method: HTTPMethod, pathAndQuery: String, form: [(String, String)]?, idempotent: Bool
    ) async throws(MessagingError) -> Resource {
        do {
            // The Messages resources decode with their own coding keys.
            return try await rest.perform(
                method: method, path: pathAndQuery, form: form, idempotent: idempotent, retriesServerErrors: idempotent,
                keyDecoding: .useDefaultKeys)
        } catch {
            throw MessagingError(error, retryAfter: error.retryAfter)
        }
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
