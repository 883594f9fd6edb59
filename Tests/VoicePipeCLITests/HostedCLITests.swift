//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing

@Suite("voicepipe with hosted providers")
struct HostedCLITests {
    @Test("a missing key stops serve at startup with one line naming the variable")
    func missingKey() throws {
        var environment = ProcessInfo.processInfo.environment
        for name in ["DEEPGRAM_API_KEY", "OPENAI_API_KEY", "CARTESIA_API_KEY"] { environment[name] = nil }
        let result = try VoicePipeCLI.run(
            ["serve", "--port", "0", "--agent", "cascade", "--stt", "deepgram", "--llm", "openai", "--tts", "cartesia"],
            environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr == "voicepipe: --stt deepgram: DEEPGRAM_API_KEY is not set (the deepgram API key)\n")
    }

    @Test("serve --agent cascade --stt deepgram --llm openai --tts cartesia answers calls through the stand-ins")
    func cascadeThroughStandIns() throws {
        let result = try VoicePipeCLI.run([
            "loadtest", "--calls", "1", "--duration", "14", "--agent", "cascade", "--stt", "deepgram", "--llm", "openai", "--tts",
            "cartesia", "--stand-ins", "immediate", "--vad", "classic", "--json",
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(report["completedCalls"] as? Int == 1)
        #expect((report["repliedTurns"] as? Int ?? 0) >= 1)
        let stages = try #require(report["stages"] as? [String: Any])
        #expect((stages["turns"] as? Int ?? 0) >= 1)
        // Every stage of the reply was reached and timed: recogniser final, model text, first clause, voice.
        for stage in ["recognizer", "model", "clause", "synthesizer"] {
            #expect((stages[stage] as? [String: Any])?["p50"] is Double, "\(stage)")
        }
    }
}
