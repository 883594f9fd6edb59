//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceProviders

@Suite("Provider endpoints and environment")
struct ProviderEndpointTests {
    @Test("one base URL gives both the HTTP and the WebSocket URL")
    func derivesWebSocketURLs() throws {
        let secure = try ProviderEndpoint(baseURL: "https://api.deepgram.com/", apiKey: "k")
        #expect(secure.httpURL("/v1/listen") == "https://api.deepgram.com/v1/listen")
        #expect(
            secure.webSocketURL("/v1/listen", query: [("encoding", "mulaw"), ("keyterm", "a b&c")])
                == "wss://api.deepgram.com/v1/listen?encoding=mulaw&keyterm=a%20b%26c")
        let local = try ProviderEndpoint(baseURL: "http://127.0.0.1:8081/v1", apiKey: "k")
        #expect(local.webSocketURL("/realtime") == "ws://127.0.0.1:8081/v1/realtime")
        #expect(local.httpURL("/chat/completions") == "http://127.0.0.1:8081/v1/chat/completions")
    }

    @Test("the environment gives keys and base URLs, with the documented defaults")
    func environment() throws {
        let openAI = try Provider.openAI.endpoint(from: ["OPENAI_API_KEY": "sk-test-123456789"])
        #expect(openAI.baseURL == "https://api.openai.com/v1")
        #expect(try Provider.deepgram.endpoint(from: ["DEEPGRAM_API_KEY": "d"]).baseURL == "https://api.deepgram.com")
        #expect(try Provider.elevenLabs.endpoint(from: ["ELEVENLABS_API_KEY": "e"]).baseURL == "https://api.elevenlabs.io")
        #expect(try Provider.cartesia.endpoint(from: ["CARTESIA_API_KEY": "c"]).baseURL == "https://api.cartesia.ai")
        let overridden = try Provider.cartesia.endpoint(from: ["CARTESIA_API_KEY": "c", "CARTESIA_BASE_URL": "http://localhost:9000"])
        #expect(overridden.webSocketURL("/tts/websocket") == "ws://localhost:9000/tts/websocket")
    }

    @Test("a missing key or a bad base URL is one line naming the variable, and the key is never printed")
    func configurationErrors() {
        #expect(throws: ProviderError.configuration("DEEPGRAM_API_KEY is not set (the deepgram API key)")) {
            try Provider.deepgram.endpoint(from: [:])
        }
        do {
            _ = try Provider.openAI.endpoint(from: ["OPENAI_API_KEY": "k", "OPENAI_BASE_URL": "api.openai.com"])
            Issue.record("a base URL without a scheme was accepted")
        } catch {
            #expect("\(error)".hasPrefix("OPENAI_BASE_URL: "))
        }
        let endpoint = try? ProviderEndpoint(baseURL: "https://api.openai.com/v1", apiKey: "sk-secret-abcdefgh1234")
        #expect(endpoint.map { "\($0)" }?.contains("secret") == false)
    }

    @Test("error bodies and Retry-After headers become typed errors")
    func statusErrors() {
        let limited = ProviderError.forStatus(
            provider: "openai", status: 429, body: #"{"error":{"message":"Rate limit reached","type":"requests"}}"#,
            headers: [("retry-after-ms", "1500"), ("retry-after", "2")])
        #expect(limited == .rateLimited(provider: "openai", retryAfter: .milliseconds(1500), message: "Rate limit reached"))
        #expect(limited.isTransient)
        let refused = ProviderError.forStatus(provider: "deepgram", status: 401, body: "{\"err_msg\":\"bad\"}", headers: [])
        #expect(!refused.isTransient)
        #expect(ProviderError.forStatus(provider: "x", status: 503, body: "down", headers: []).isTransient)
    }
}
