//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Where a hosted provider lives and the key it takes.
///
/// A base URL is `scheme://host[:port]` with an optional path prefix (OpenAI's `/v1`). One base URL serves
/// both kinds of endpoint: ``httpURL(_:query:)`` keeps the scheme, ``webSocketURL(_:query:)`` derives
/// `wss://` from `https://` and `ws://` from `http://`. The key never appears in ``description``, so an
/// endpoint can be logged; a base URL with credentials of its own (user information, a query) is refused,
/// and the refusal does not repeat them.
public struct ProviderEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The base URL without a trailing slash, e.g. `https://api.deepgram.com` or `http://127.0.0.1:8081/v1`.
    public let baseURL: String
    /// The API key.
    public let apiKey: String
    /// Whether the base URL is `https`.
    public let isSecure: Bool

    /// Creates an endpoint.
    ///
    /// - Throws: ``ProviderError/configuration(_:)`` when the URL is not `http(s)://host[:port][/path]` (user
    ///   information, a query or a fragment included) or the key is empty.
    public init(baseURL: String, apiKey: String) throws(ProviderError) {
        var url = baseURL.trimmingSpaces()
        while url.hasSuffix("/") { url.removeLast() }
        let secure: Bool
        let rest: Substring
        if url.lowercased().hasPrefix("https://") {
            secure = true
            rest = url.dropFirst("https://".count)
        } else if url.lowercased().hasPrefix("http://") {
            secure = false
            rest = url.dropFirst("http://".count)
        } else {
            throw .configuration("base URL \"\(Self.redacted(baseURL))\" must start with http:// or https://")
        }
        let host = rest.prefix { $0 != "/" }
        guard !host.isEmpty, !host.contains("?"), !host.contains("#"), !host.contains("@") else {
            throw .configuration("base URL \"\(Self.redacted(baseURL))\" has no host (expected scheme://host[:port])")
        }
        guard !rest.contains("?"), !rest.contains("#") else {
            throw .configuration("base URL \"\(Self.redacted(baseURL))\" has a query or fragment (expected scheme://host[:port][/path])")
        }
        guard !apiKey.isEmpty else { throw .configuration("the API key for \(url) is empty") }
        self.baseURL = url
        self.apiKey = apiKey
        self.isSecure = secure
    }

    /// The HTTP(S) URL of `path` (which starts with `/`), with `query` percent-encoded.
    public func httpURL(_ path: String, query: [(String, String)] = []) -> String {
        baseURL + path + Self.queryString(query)
    }

    /// The WebSocket URL of `path`: `wss://` for an `https` base URL, `ws://` for `http`.
    public func webSocketURL(_ path: String, query: [(String, String)] = []) -> String {
        let scheme = isSecure ? "wss://" : "ws://"
        let authorityAndPath = baseURL.drop { $0 != ":" }.dropFirst("://".count)
        return scheme + authorityAndPath + path + Self.queryString(query)
    }

    public var description: String { "\(baseURL) (key …\(apiKey.count > 8 ? String(apiKey.suffix(4)) : "set"))" }

    /// `url` as a message may show it: without user information, a query or a fragment, which may carry
    /// credentials.
    static func redacted(_ url: String) -> String {
        let beforeQuery = url.prefix { $0 != "?" && $0 != "#" }
        let authorityStart = beforeQuery.firstRange(of: "://")?.upperBound ?? beforeQuery.startIndex
        let authority = beforeQuery[authorityStart...].prefix { $0 != "/" }
        var shown = String(beforeQuery)
        if let at = authority.lastIndex(of: "@") { shown = String(beforeQuery[..<authorityStart]) + "…" + String(beforeQuery[at...]) }
        return beforeQuery.endIndex < url.endIndex ? shown + "…" : shown
    }

    static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { "\(percentEncode($0.0))=\(percentEncode($0.1))" }.joined(separator: "&")
    }

    /// Percent-encodes everything but RFC 3986's unreserved characters.
    static func percentEncode(_ string: String) -> String {
        var out = ""
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".unicodeScalars)
                out.unicodeScalars.append("%")
                out.unicodeScalars.append(hex[Int(byte >> 4)])
                out.unicodeScalars.append(hex[Int(byte & 15)])
            }
        }
        return out
    }
}

/// A hosted provider VoicePipe speaks to, with the environment variables that configure it.
public enum Provider: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// OpenAI, or any OpenAI-compatible server (Groq, Together, vLLM, Ollama, llama.cpp): chat, speech,
    /// Realtime.
    case openAI = "openai"
    /// Deepgram live recognition.
    case deepgram
    /// ElevenLabs synthesis.
    case elevenLabs = "elevenlabs"
    /// Cartesia synthesis.
    case cartesia

    /// The environment variable that holds the key.
    public var keyVariable: String {
        switch self {
        case .openAI: "OPENAI_API_KEY"
        case .deepgram: "DEEPGRAM_API_KEY"
        case .elevenLabs: "ELEVENLABS_API_KEY"
        case .cartesia: "CARTESIA_API_KEY"
        }
    }

    /// The environment variable that overrides the base URL.
    public var baseURLVariable: String {
        switch self {
        case .openAI: "OPENAI_BASE_URL"
        case .deepgram: "DEEPGRAM_BASE_URL"
        case .elevenLabs: "ELEVENLABS_BASE_URL"
        case .cartesia: "CARTESIA_BASE_URL"
        }
    }

    /// The production base URL.
    public var defaultBaseURL: String {
        switch self {
        case .openAI: "https://api.openai.com/v1"
        case .deepgram: "https://api.deepgram.com"
        case .elevenLabs: "https://api.elevenlabs.io"
        case .cartesia: "https://api.cartesia.ai"
        }
    }

    public var description: String { rawValue }

    /// The endpoint from `environment` (the process's by default): the key from ``keyVariable``, the base
    /// URL from ``baseURLVariable`` or ``defaultBaseURL``.
    ///
    /// - Throws: ``ProviderError/configuration(_:)`` with one line naming the missing variable or the bad URL.
    public func endpoint(from environment: [String: String]) throws(ProviderError) -> ProviderEndpoint {
        guard let key = environment[keyVariable], !key.isEmpty else {
            throw .configuration("\(keyVariable) is not set (the \(rawValue) API key)")
        }
        let base = environment[baseURLVariable].flatMap { $0.isEmpty ? nil : $0 } ?? defaultBaseURL
        do { return try ProviderEndpoint(baseURL: base, apiKey: key) } catch {
            throw .configuration("\(baseURLVariable): \(error)")
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
