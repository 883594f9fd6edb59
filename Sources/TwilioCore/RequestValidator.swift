//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Crypto
import Foundation

/// Validates `X-Twilio-Signature` on webhooks and on the Media Streams WebSocket upgrade, as Twilio's SDKs
/// do: HMAC-SHA1 (key: the auth token) over the full URL followed by every form field's name and value,
/// names sorted by code point and each name's distinct values sorted too, base64; compared in constant
/// time. Also accepts the URL with or without its port (Twilio drops `:443` on voice webhooks), checks the
/// `bodySHA256` query parameter of JSON bodies, and supports shared keys with HMAC-SHA256.
///
/// Names and values are compared and sorted on their Unicode scalars, not as Swift `String`s, whose `==`
/// and `<` apply canonical equivalence and would merge values Twilio keeps apart.
public struct RequestValidator: Sendable {
    /// The hash.
    public enum Algorithm: Sendable, Hashable {
        /// HMAC-SHA1 with the account's auth token (the default).
        case sha1
        /// HMAC-SHA256 with a webhook shared key.
        case sha256
    }

    private let token: [UInt8]

    /// Creates a validator for an auth token (or shared key).
    ///
    /// - Parameter authToken: The account's auth token; it is never logged or printed.
    public init(authToken: String) {
        token = Array(authToken.utf8)
    }

    /// The signature Twilio sends for a request.
    ///
    /// - Parameters:
    ///   - url: The full URL Twilio requested, query string exactly as sent.
    ///   - parameters: The decoded form fields, in any order; repeated names allowed.
    ///   - algorithm: `.sha1` unless a shared key signs.
    /// - Returns: The base64 signature.
    public func signature(url: String, parameters: [(String, String)] = [], algorithm: Algorithm = .sha1) -> String {
        var message = Array(url.utf8)
        for (name, values) in Self.sortedDistinct(parameters) {
            for value in values { message += name + value }
        }
        let key = SymmetricKey(data: token)
        let mac: [UInt8]
        switch algorithm {
        case .sha1: mac = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
        case .sha256: mac = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
        }
        return Data(mac).base64EncodedString()
    }

    /// Checks a request's signature.
    ///
    /// - Parameters:
    ///   - signature: The `X-Twilio-Signature` header (missing: pass "").
    ///   - url: The full URL as Twilio requested it (for the WebSocket upgrade: the `wss://` URL).
    ///   - parameters: The decoded form fields (none for GET, JSON bodies and WebSocket upgrades).
    ///   - body: The raw body of a JSON request, checked against the URL's `bodySHA256` when present.
    ///   - algorithm: `.sha1` unless a shared key signs.
    /// - Returns: Whether the signature matches the URL with or without its port.
    public func isValid(
        signature: String, url: String, parameters: [(String, String)] = [], body: [UInt8]? = nil,
        algorithm: Algorithm = .sha1
    ) -> Bool {
        if let body, let expected = Self.queryValue("bodySHA256", in: url) {
            let digest = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
            guard Self.constantTimeEqual(Array(digest.utf8), Array(expected.utf8)) else { return false }
        }
        let given = Array(signature.utf8)
        for candidate in Self.portVariants(of: url) {
            let computed = Array(self.signature(url: candidate, parameters: parameters, algorithm: algorithm).utf8)
            if Self.constantTimeEqual(computed, given) { return true }
        }
        return false
    }

    /// Names sorted by code point, each with its distinct values sorted by code point (UTF-8 bytes sort
    /// in code-point order).
    static func sortedDistinct(_ parameters: [(String, String)]) -> [([UInt8], [[UInt8]])] {
        var grouped: [[UInt8]: Set<[UInt8]>] = [:]
        for (name, value) in parameters { grouped[Array(name.utf8), default: []].insert(Array(value.utf8)) }
        return grouped.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { name in
            (name, grouped[name]!.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    /// The URL as given, without its port, and with the scheme's default port added (as the SDKs try).
    static func portVariants(of url: String) -> [String] {
        guard let schemeEnd = url.range(of: "://") else { return [url] }
        let afterScheme = url[schemeEnd.upperBound...]
        let authorityEnd = afterScheme.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? url.endIndex
        let authority = url[schemeEnd.upperBound..<authorityEnd]
        let rest = url[authorityEnd...]
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let hostPart = authority.split(separator: "@").last.map(String.init) ?? String(authority)
        let prefix = url[..<schemeEnd.upperBound] + authority.dropLast(hostPart.count)
        var variants = [url]
        if let colon = hostPart.lastIndex(of: ":"), !hostPart.hasSuffix("]") {
            variants.append(String(prefix) + hostPart[..<colon] + rest)  // without the port
        } else {
            let port = scheme == "https" ? "443" : "80"
            variants.append(String(prefix) + hostPart + ":" + port + rest)  // with the default port
        }
        return variants
    }

    static func queryValue(_ name: String, in url: String) -> String? {
        guard let query = url.split(separator: "?", maxSplits: 1).dropFirst().first else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.first.map(String.init) == name { return parts.count > 1 ? String(parts[1]) : "" }
        }
        return nil
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in 0..<a.count { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}
