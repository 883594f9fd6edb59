//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Logging
import Testing
import TwilioMessaging
import TwilioREST
import TwilioTesting
import VoicePipeStore
import VoicePipeText

/// A sender that takes `delay` before handing the reply to Twilio (a slow provider).
private struct SlowSender: TextSender {
    let inner: any TextSender
    let delay: Duration
    func send(_ reply: TextReply) async throws(TextSendError) -> SentText {
        try? await Task.sleep(for: delay)
        return try await inner.send(reply)
    }
    func findSent(_ reply: TextReply, since: Date) async throws -> SentText? { try await inner.findSent(reply, since: since) }
}

@Suite("Text agent: replies claimed by another process", .serialized)
struct OutboxClaimTests {
    @Test(
        "a second agent starting on the same store while the first one's send is in flight leaves the reply to it (claim lease)",
        arguments: [true, false])
    func claimLease(withLease: Bool) async throws {
        let standIn = try await TwilioStandIn.start()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vp-claim-\(UUID().uuidString).db").path
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        let client = TwilioMessagingClient(
            credentials: .authToken(accountSid: standIn.accountSid, authToken: standIn.authToken),
            configuration: .init(baseURL: standIn.baseURL))
        let twilio = TwilioTextSender(client: client)
        let first = try await SQLiteConversationStore.open(path: path, logger: logger)
        try await first.migrate()
        let firstAgent = TextAgent(
            store: first, model: RecordingModel(), sender: SlowSender(inner: twilio, delay: .milliseconds(1500)), logger: logger)
        let firstRun = Task { await firstAgent.run() }
        _ = try await firstAgent.receive(
            InboundText(
                contact: "+15551230009", channel: .sms, body: "Table for two?", providerSid: "SM" + String(repeating: "9", count: 32),
                contactAddress: "+15551230009", agentAddress: "+15005550006"))
        #expect(try await eventually { try await first.pendingReplies().first?.state == .sending })

        // The second process starts now: the reply is claimed, and its send has not reached Twilio yet.
        let second = try await SQLiteConversationStore.open(path: path, logger: logger)
        var configuration = TextAgent.Configuration()
        configuration.claimLease = withLease ? .seconds(3) : .zero
        let secondAgent = TextAgent(store: second, model: RecordingModel(), sender: twilio, configuration: configuration, logger: logger)
        let secondRun = Task { await secondAgent.run() }
        try await Task.sleep(for: .seconds(4))
        if withLease {
            #expect(standIn.sentMessages.count == 1, "the reply was sent by both processes")
            #expect(firstAgent.statistics.sent == 1 && secondAgent.statistics.sent == 0)
        } else {
            // Without a lease the second process cannot tell a live send from a dead one: it sends too. This is
            // why the lease exists (and why it defaults to 120 s on a shared store).
            #expect(standIn.sentMessages.count == 2)
        }
        firstRun.cancel()
        secondRun.cancel()
        await firstRun.value
        await secondRun.value
        try await first.close()
        try await second.close()
        await standIn.stop()
    }
}
