//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Synchronization
import Testing
import TwilioTesting

/// `voicepipe serve` as a child process, with its port read from the line it prints.
final class ServeProcess {
    let process = Process()
    let port: Int

    init(_ arguments: [String], environment: [String: String]) throws {
        process.executableURL = VoicePipeCLI.binary
        process.arguments = ["serve", "--port", "0"] + arguments
        var environment = environment
        environment["LOG_LEVEL"] = "error"
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        var port: Int?
        while port == nil, let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
            if byte == Data("\n".utf8) {
                let text = String(decoding: line, as: UTF8.self)
                if text.contains("listening") { port = text.split(separator: " ").last.flatMap { Int($0) } }
                line.removeAll()
            } else {
                line += byte
            }
        }
        self.port = try #require(port, "serve did not start")
    }

    var smsURL: String { "http://127.0.0.1:\(port)/twilio/sms" }

    /// SIGKILL: no graceful shutdown, nothing flushed.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then wait.
    func stop() {
        process.terminate()
        process.waitUntilExit()
    }
}

@Suite("voicepipe text, history, search, textload", .serialized)
struct TextCLITests {
    @Test("serve --store records texts; text sends one (and its retry); history and search read them back")
    func textHistorySearch() throws {
        let directory = try TemporaryDirectory()
        let store = "sqlite:" + directory.path("calls.db")
        var environment = ProcessInfo.processInfo.environment
        for name in ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_API_KEY", "TWILIO_API_SECRET"] { environment[name] = nil }
        let server = try ServeProcess(["--store", store], environment: environment)
        let sid = "SM" + String(repeating: "5", count: 32)
        let first = try VoicePipeCLI.run(
            ["text", "--url", server.smsURL, "--from", "+15551112222", "--message-sid", sid, "I want a refund, please"],
            environment: environment)
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasPrefix("200 ") && first.stdout.contains("<Response"))
        let retry = try VoicePipeCLI.run(
            ["text", "--url", server.smsURL, "--from", "+15551112222", "--message-sid", sid, "I want a refund, please"],
            environment: environment)
        #expect(retry.status == 0 && retry.stdout.hasPrefix("200 "))
        server.stop()

        let history = try VoicePipeCLI.run(["history", "+15551112222", "--store", store, "--json"])
        #expect(history.status == 0, "\(history.stderr)")
        let entries = try #require(JSONSerialization.jsonObject(with: Data(history.stdout.utf8)) as? [[String: Any]])
        #expect(entries.count == 1, "a retried webhook was recorded twice")
        #expect(entries.first?["body"] as? String == "I want a refund, please" && entries.first?["providerSid"] as? String == sid)

        let search = try VoicePipeCLI.run(["search", "REFUND!", "--store", store])
        #expect(search.status == 0 && search.stdout.contains("+15551112222") && search.stdout.contains("I want a refund"))
        #expect(search.stderr.contains("1 found"))
        let unknown = try VoicePipeCLI.run(["history", "+15550000000", "--store", store])
        #expect(unknown.status == 1 && unknown.stderr == "voicepipe: no history for +15550000000\n")
        let badStore = try VoicePipeCLI.run(["history", "+15551112222", "--store", "mysql://x"])
        #expect(badStore.status != 0 && badStore.stderr.contains("--store"))
    }

    @Test("serve killed (SIGKILL) while its reply is held by Twilio's 429: after a restart the reply goes out exactly once")
    func killedMidSend() async throws {
        let standIn = try await TwilioStandIn.start()
        let directory = try TemporaryDirectory()
        var environment = ProcessInfo.processInfo.environment
        environment["TWILIO_ACCOUNT_SID"] = standIn.accountSid
        environment["TWILIO_AUTH_TOKEN"] = standIn.authToken
        environment["TWILIO_API_BASE_URL"] = standIn.baseURL
        let arguments = ["--store", "sqlite:" + directory.path("texts.db")]
        // Twilio answers the first two requests 429 with Retry-After: 2 s; the server is killed during that wait.
        standIn.throttleNextRequests(2, retryAfter: "2")
        let first = try ServeProcess(arguments, environment: environment)
        let answer = try await standIn.sendInbound(
            from: "+15553334444", to: "+15005550006", body: "What are your opening hours?", to: first.smsURL)
        #expect(answer.status == 200)
        #expect(await standIn.wait(timeout: .seconds(10)) { $0.requests.contains { $0.method == "POST" && $0.status == 429 } })
        first.kill()
        #expect(standIn.sentMessages.isEmpty)

        let second = try ServeProcess(arguments, environment: environment)
        #expect(await standIn.wait(timeout: .seconds(20)) { !$0.sentMessages.isEmpty })
        try await Task.sleep(for: .seconds(1))
        #expect(standIn.sentMessages.count == 1)
        #expect(standIn.sentMessages.first?.to == "+15553334444" && standIn.sentMessages.first?.body?.isEmpty == false)
        second.stop()
        await standIn.stop()
    }

    @Test("textload: every message answered once, figures reported")
    func textload() throws {
        let result = try VoicePipeCLI.run(["textload", "--messages", "80", "--rate", "80", "--contacts", "8", "--json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
        #expect(report["replies"] as? Int == 80 && report["unanswered"] as? Int == 0 && report["answeredTwice"] as? Int == 0)
        #expect(report["ackP99"] is Double && report["replyP95"] is Double)
    }
}
