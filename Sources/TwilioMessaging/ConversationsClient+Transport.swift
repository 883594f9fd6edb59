//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TwilioREST

extension TwilioConversationsClient {
    /// One request, decoded as `Resource` (any 2xx with a JSON body).
    func perform<Resource: Decodable>(
        method: HTTPMethod, pathAndQuery: String, form: [(String, String)]?, idempotent: Bool, webhookEnabled: Bool? = nil
    ) async throws(MessagingError) -> Resource {
        let (status, body, attempts) = try await send(
            method: method, pathAndQuery: pathAndQuery, form: form, idempotent: idempotent, webhookEnabled: webhookEnabled)
        do {
            return try JSONDecoder().decode(Resource.self, from: Data(body.readableBytesView))
        } catch {
            throw MessagingError(
                TwilioRESTError(
                    kind: .invalidResponse, httpStatus: status, message: "undecodable \(Resource.self): \(error)", attempts: attempts))
        }
    }

    /// One request whose success (204, or any 2xx) carries nothing the caller needs.
    func performWithoutContent(method: HTTPMethod, pathAndQuery: String, webhookEnabled: Bool?) async throws(MessagingError) {
        _ = try await send(method: method, pathAndQuery: pathAndQuery, form: nil, idempotent: true, webhookEnabled: webhookEnabled)
    }

    /// The REST client's request loop, with `X-Twilio-Webhook-Enabled` when asked for: 429 always retried
    /// (after `Retry-After` when Twilio sends one), 5xx, timeouts and connection failures only when
    /// `idempotent`.
    private func send(
        method: HTTPMethod, pathAndQuery: String, form: [(String, String)]?, idempotent: Bool, webhookEnabled: Bool?
    ) async throws(MessagingError) -> (status: Int, body: ByteBuffer, attempts: Int) {
        let rest = TwilioRESTClient(credentials: credentials, configuration: configuration, httpClient: httpClient)
        let headers = webhookEnabled.map { [("X-Twilio-Webhook-Enabled", $0 ? "true" : "false")] } ?? []
        do {
            return try await rest.send(
                method: method, path: pathAndQuery, form: form, headers: headers, idempotent: idempotent,
                retriesServerErrors: idempotent)
        } catch {
            throw MessagingError(error, retryAfter: error.retryAfter)
        }
    }

    /// A path segment: `A–Z a–z 0–9 - . _ ~` kept, every other UTF-8 byte `%XX` (so a unique name with a
    /// `/`, `?` or `#` stays one segment; `.` and `..` alone are escaped too).
    static func pathSegment(_ text: String) -> String {
        if text == "." || text == ".." { return String(repeating: "%2E", count: text.count) }
        var output = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                output.unicodeScalars.append("%")
                output.unicodeScalars.append(hex[Int(byte >> 4)])
                output.unicodeScalars.append(hex[Int(byte & 0x0F)])
            }
        }
        return output
    }
}
