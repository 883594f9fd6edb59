//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Benchmark
import Foundation
import VoiceProviders

/// The hosted model's stream, per token: one Chat Completions chunk as it comes over SSE, through
/// VoicePipe's SSE parser and JSONValue (what `OpenAIChatModel` does with every chunk), against Foundation's
/// JSONSerialization on the chunk's JSON alone (the baseline, measured in the same run: the least any client
/// pays to read it).
func providerBenchmarks() {
    let stage = Benchmark.Configuration(
        metrics: [.wallClock, .mallocCountTotal], timeUnits: .nanoseconds, scalingFactor: .kilo, maxDuration: .seconds(1))
    let json =
        #"{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","#
        + #""choices":[{"index":0,"delta":{"content":" shipped"},"logprobs":null,"finish_reason":null}],"usage":null}"#
    let event = Array(("data: " + json + "\n\n").utf8)
    let jsonData = Data(json.utf8)

    Benchmark("providers: a chat chunk over SSE (ServerSentEventParser + JSONValue)", configuration: stage) { benchmark in
        var parser = ServerSentEventParser()
        for _ in benchmark.scaledIterations {
            try! parser.append(event) { event in
                let value = try JSONValue.parse(event.data)
                blackHole(value["choices"]?[0]?["delta"]?["content"]?.stringValue)
            }
        }
    }
    Benchmark("providers: the chunk's SSE framing alone (ServerSentEventParser)", configuration: stage) { benchmark in
        var parser = ServerSentEventParser()
        for _ in benchmark.scaledIterations {
            try! parser.append(event) { blackHole($0.data.utf8.count) }
        }
    }
    Benchmark("providers: the chunk's JSON alone (JSONValue.parse)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(try! JSONValue.parse(json)["choices"]?[0]?["delta"]?["content"]?.stringValue)
        }
    }
    Benchmark("providers: a chat chunk's JSON (JSONSerialization, baseline)", configuration: stage) { benchmark in
        for _ in benchmark.scaledIterations {
            let object = try! JSONSerialization.jsonObject(with: jsonData) as! [String: Any]
            let choices = object["choices"] as! [[String: Any]]
            blackHole((choices[0]["delta"] as! [String: Any])["content"] as? String)
        }
    }
}
