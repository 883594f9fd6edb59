//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import HTTPTypes
public import Hummingbird
import NIOCore
import Synchronization

/// OpenAI's `POST /v1/audio/speech` on loopback: checks the key and the body as OpenAI does, and streams
/// ``StandInVoice``'s rendering of `input` as raw 24 kHz 16-bit little-endian mono (`response_format: "pcm"`).
///
/// The body is chunked; writes are about ``Configuration/chunkMilliseconds`` long and alternate between one
/// byte more and one byte less than a whole number of samples, so a client must carry an odd byte over. Only
/// `pcm` is rendered: the other valid formats are answered with 400.
public final class OpenAISpeechStandIn: Sendable {
    /// The stand-in's settings.
    public struct Configuration: Sendable {
        /// The key a request must carry as `Authorization: Bearer <key>`.
        public var apiKey: String
        /// `firstByte`: the wait before the first audio byte; `unitsPerSecond`: body writes per second (0: as
        /// fast as the loopback allows).
        public var timing: StandInTiming
        /// The audio in each body write, in milliseconds.
        public var chunkMilliseconds: Int
        /// Faults applied to the next requests, one per request, in order.
        public var faults: [StandInFault]

        /// Creates a configuration.
        public init(
            apiKey: String = "sk-stand-in", timing: StandInTiming = .immediate, chunkMilliseconds: Int = 100,
            faults: [StandInFault] = []
        ) {
            self.apiKey = apiKey
            self.timing = timing
            self.chunkMilliseconds = max(1, chunkMilliseconds)
            self.faults = faults
        }
    }

    /// One request as received.
    public struct ReceivedRequest: Sendable, Hashable {
        /// The `Authorization` header, if any (tests compare it; it is never logged).
        public var authorization: String?
        /// The `Content-Type` header.
        public var contentType: String?
        /// The body's `model`.
        public var model: String?
        /// The body's `input`.
        public var input: String?
        /// The body's `voice`.
        public var voice: String?
        /// The body's `response_format`.
        public var responseFormat: String?
        /// The body's `instructions`.
        public var instructions: String?
        /// The body's `speed`.
        public var speed: Double?
        /// The HTTP status answered.
        public var status: Int
    }

    /// The sample rate of `pcm` output.
    public static let sampleRate = 24000

    private let configuration: Configuration
    private let state: Mutex<State>

    private struct State {
        var faults: [StandInFault]
        var requests: [ReceivedRequest] = []
        var disconnects = 0
        var completed = 0
    }

    /// Creates a stand-in; mount it with ``register(http:webSocket:)``.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        state = Mutex(State(faults: configuration.faults))
    }

    /// Starts a ``StandInHost`` with just this stand-in. Give clients `host.baseURL + "/v1"`.
    public static func start(configuration: Configuration = Configuration()) async throws -> (StandInHost, OpenAISpeechStandIn) {
        let standIn = OpenAISpeechStandIn(configuration: configuration)
        let host = try await StandInHost.start { http, webSocket in standIn.register(http: http, webSocket: webSocket) }
        return (host, standIn)
    }

    /// Adds `POST /v1/audio/speech` to `http` (`webSocket` is unused).
    public func register(http: StandInRouter, webSocket: StandInRouter) {
        http.post("/v1/audio/speech") { request, _ in try await self.respond(to: request) }
    }

    /// Every request received, in order.
    public var requests: [ReceivedRequest] { state.withLock { $0.requests } }
    /// How many audio bodies the client stopped reading (closed the connection) before their end.
    public var disconnects: Int { state.withLock { $0.disconnects } }
    /// How many audio bodies were sent to the end.
    public var completed: Int { state.withLock { $0.completed } }

    /// Adds faults for the next requests.
    public func inject(_ faults: [StandInFault]) { state.withLock { $0.faults.append(contentsOf: faults) } }

    private func record(_ received: ReceivedRequest) {
        state.withLock { $0.requests.append(received) }
    }

    private func respond(to request: Request) async throws -> Response {
        let authorization = request.headers[.authorization]
        var received = ReceivedRequest(authorization: authorization, contentType: request.headers[.contentType], status: 200)
        var request = request
        let body = try await request.collectBody(upTo: 1 << 20)
        // The first audio is due `firstByte` after the request came, the rendering included.
        let due = ContinuousClock.now + configuration.timing.firstByte
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            received.status = 401
            record(received)
            return Self.error(
                401,
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth "
                    + "(i.e. Authorization: Bearer YOUR_KEY).", type: "invalid_request_error", code: nil)
        }
        let fault = state.withLock { state in state.faults.isEmpty ? nil : state.faults.removeFirst() }
        if authorization.dropFirst("Bearer ".count) != configuration.apiKey || fault == .unauthorized {
            received.status = 401
            record(received)
            return Self.error(401, "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key")
        }
        let json = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any]
        received.model = json?["model"] as? String
        received.input = json?["input"] as? String
        received.voice = json?["voice"] as? String
        received.responseFormat = json?["response_format"] as? String
        received.instructions = json?["instructions"] as? String
        received.speed = json?["speed"] as? Double
        if let problem = Self.validate(json) {
            received.status = 400
            record(received)
            return Self.error(400, problem.message, type: "invalid_request_error", code: nil, param: problem.param)
        }
        switch fault {
        case .rateLimited(let retryAfter):
            received.status = 429
            record(received)
            var response = Self.error(
                429, "Rate limit reached for requests. Please try again later.", type: "requests", code: "rate_limit_exceeded")
            if let retryAfter {
                let milliseconds = Int(retryAfter.components.seconds * 1000 + retryAfter.components.attoseconds / 1_000_000_000_000_000)
                response.headers[HTTPField.Name("retry-after-ms")!] = String(milliseconds)
                response.headers[HTTPField.Name("retry-after")!] = String((milliseconds + 999) / 1000)
            }
            return response
        case .serverError(let status):
            received.status = status
            record(received)
            return Self.error(
                status, "The server had an error while processing your request. Sorry about that!", type: "server_error", code: nil)
        default:
            break
        }
        record(received)
        let input = received.input ?? ""
        let rendered = StandInVoice.render(input, sampleRate: Self.sampleRate).samples
        let bytes = Self.pcm16(rendered)
        let timing = configuration.timing
        let chunkBytes = Self.sampleRate * 2 * configuration.chunkMilliseconds / 1000
        let onDisconnect: @Sendable () -> Void = { [weak self] in self?.state.withLock { $0.disconnects += 1 } }
        let onComplete: @Sendable () -> Void = { [weak self] in self?.state.withLock { $0.completed += 1 } }
        let headers: HTTPFields = [.contentType: "application/octet-stream", HTTPField.Name("x-request-id")!: "req_standin"]
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                if timing.firstByte > .zero { try await Task.sleep(until: due) }
                var start = 0
                var index = 0
                do {
                    while start < bytes.count {
                        // Odd-sized writes: one byte more, then one less, than whole samples.
                        let size = index % 2 == 0 ? chunkBytes + 1 : chunkBytes - 1
                        let end = min(bytes.count, start + size)
                        if index > 0 {
                            switch fault {
                            case .dropMidStream: throw StandInDrop()
                            case .stall:
                                try await Task.sleep(for: .seconds(3600))
                            case .malformedFrame:
                                // Raw PCM has no frames: stray bytes make the body an odd length.
                                try await writer.write(ByteBuffer(bytes: start % 2 == 0 ? [0x7f] : [0x7f, 0x7f]))
                                try await writer.finish(nil)
                                return
                            default: break
                            }
                        }
                        try await writer.write(ByteBuffer(bytes: bytes[start..<end]))
                        start = end
                        index += 1
                        if timing.interval > .zero, start < bytes.count { try await Task.sleep(for: timing.interval) }
                    }
                    try await writer.finish(nil)
                    onComplete()
                } catch is StandInDrop {
                    throw StandInDrop()
                } catch {
                    onDisconnect()
                    throw error
                }
            })
    }

    /// Thrown inside a body writer to drop the connection.
    private struct StandInDrop: Error {}

    static func int16(_ sample: Float) -> Int16 {
        Int16(clamping: Int((Double(sample) * 32767).rounded()))
    }

    private static let models: Set<String> = ["tts-1", "tts-1-hd", "gpt-4o-mini-tts", "tts-1-1106", "tts-1-hd-1106"]
    private static let voices: Set<String> = [
        "alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar",
    ]
    private static let formats: Set<String> = ["mp3", "opus", "aac", "flac", "wav", "pcm"]

    private static func validate(_ json: [String: Any]?) -> (message: String, param: String?)? {
        guard let json else { return ("We could not parse the JSON body of your request.", nil) }
        guard let model = json["model"] as? String else { return ("you must provide a model parameter", "model") }
        guard models.contains(model) || model.hasPrefix("gpt-4o-mini-tts-") else {
            return ("Invalid value: '\(model)'. Supported values are: 'tts-1', 'tts-1-hd' and 'gpt-4o-mini-tts'.", "model")
        }
        guard let input = json["input"] as? String else { return ("Missing required parameter: 'input'.", "input") }
        guard !input.isEmpty else { return ("Invalid 'input': empty string. Expected a string with minimum length 1.", "input") }
        guard input.count <= 4096 else {
            return (
                "Invalid 'input': string too long. Expected a string with maximum length 4096, but got a string with length \(input.count) instead.",
                "input"
            )
        }
        guard let voice = json["voice"] as? String else { return ("Missing required parameter: 'voice'.", "voice") }
        guard voices.contains(voice) else {
            return (
                "Invalid value: '\(voice)'. Supported values are: \(voices.sorted().map { "'\($0)'" }.joined(separator: ", ")).", "voice"
            )
        }
        let format = json["response_format"] as? String ?? "mp3"
        guard formats.contains(format) else {
            return ("Invalid value: '\(format)'. Supported values are: 'mp3', 'opus', 'aac', 'flac', 'wav', and 'pcm'.", "response_format")
        }
        guard format == "pcm" else { return ("This stand-in renders only response_format 'pcm'.", "response_format") }
        if let speed = json["speed"] {
            guard let value = speed as? Double, value >= 0.25, value <= 4 else {
                return ("Invalid 'speed': expected a number between 0.25 and 4.0.", "speed")
            }
        }
        if json["instructions"] != nil, model.hasPrefix("tts-1") {
            return ("Instructions are not supported for tts-1 and tts-1-hd.", "instructions")
        }
        return nil
    }

    private static func error(_ status: Int, _ message: String, type: String, code: String?, param: String? = nil) -> Response {
        let object: [String: Any] = [
            "error": ["message": message, "type": type, "param": param ?? NSNull(), "code": code ?? NSNull()] as [String: Any]
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension OpenAISpeechStandIn {
    /// `samples` as 16-bit little-endian bytes.
    static func pcm16(_ samples: [Float]) -> [UInt8] {
        var bytes = [UInt8]()
        bytes.reserveCapacity(samples.count * 2)
        for sample in samples {
            let value = UInt16(bitPattern: int16(sample))
            bytes.append(UInt8(value & 0xff))
            bytes.append(UInt8(value >> 8))
        }
        return bytes
    }
}
