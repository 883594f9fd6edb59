//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation

/// How requests authenticate: HTTP basic auth with the account SID and auth token, or with an API key's
/// SID and secret. Either way the URL names the account. The secret never appears in descriptions.
public struct TwilioCredentials: Sendable, CustomStringConvertible {
    /// The account (`AC…`) whose resources are used.
    public let accountSid: String
    private let username: String
    private let secret: String

    /// The account SID and its auth token.
    public static func authToken(accountSid: String, authToken: String) -> TwilioCredentials {
        TwilioCredentials(accountSid: accountSid, username: accountSid, secret: authToken)
    }

    /// An API key (`SK…`) and its secret, acting for `accountSid`.
    public static func apiKey(accountSid: String, keySid: String, secret: String) -> TwilioCredentials {
        TwilioCredentials(accountSid: accountSid, username: keySid, secret: secret)
    }

    private init(accountSid: String, username: String, secret: String) {
        self.accountSid = accountSid
        self.username = username
        self.secret = secret
    }

    /// The `Authorization` header's value.
    package var authorization: String { "Basic " + Data("\(username):\(secret)".utf8).base64EncodedString() }

    /// The user name, the secret redacted.
    public var description: String { "TwilioCredentials(\(username), secret redacted)" }
}
