//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import AsyncHTTPClient

/// The HTTP client the provider clients use unless given another.
public enum ProviderHTTPClient {
    /// Like `HTTPClient.shared`, but with up to 1,024 HTTP/1.1 connections per host instead of 8.
    ///
    /// A streamed reply holds its connection for seconds. With the default pool, the ninth call that asked
    /// a plain-HTTP server (vLLM, Ollama, llama.cpp, a stand-in) for a reply waited for one of the first
    /// eight to finish: at 20 concurrent calls the model's first text went from 377 to 505 ms p50 and 1.27 s
    /// p99 (`voicepipe loadtest --stand-ins published`). HTTPS servers that speak HTTP/2 multiplex anyway.
    public static let shared: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 1024
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}
