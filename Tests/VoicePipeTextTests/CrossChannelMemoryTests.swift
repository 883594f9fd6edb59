//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import AgentTestSupport
import Foundation
import Synchronization
import Testing
import TwilioTesting
import VoiceAgent
import VoicePipeServer
import VoicePipeStore
import VoicePipeTesting
import VoicePipeText

/// A voice model that answers every turn the same way, and keeps what it was given.
private final class PromisesRefund: LanguageModel, Sendable {
    let requests = Mutex<[[ChatMessage]]>([])
    func respond(to messages: [ChatMessage]) -> AsyncThrowingStream<ModelOutput, any Error> {
        requests.withLock { $0.append(messages) }
        return AsyncThrowingStream { continuation in
            continuation.yield(.text("I have started your refund."))
            continuation.finish()
        }
    }
}

@Suite("Memory shared by calls and texts", .serialized)
struct CrossChannelMemoryTests {
    let customer = "+15551230002"

    @Test("a contact who calls and then texts has both in GET /contacts/{e164}, and the text agent's model sees the call")
    func callThenText() async throws {
        let model = RecordingModel()
        let voiceModel = PromisesRefund()
        let rig = try await TextRig.start(
            model: model,
            makeAgent: { _, store in
                var configuration = CascadeAgent.Configuration()
                configuration.memory = StoreMemory(store: store, channel: .voice)
                return CascadeAgent(
                    recognizer: HearsText("i need a refund for order twelve"), model: voiceModel, synthesizer: Hums(),
                    configuration: configuration)
            })
        let callSid = "CA" + String(repeating: "2", count: 32)
        let audio = Speech.silence(300) + Speech.thePerson + Speech.silence(300)
        let call = try await SimulatedCaller(
            .init(
                url: rig.mediaURL, audio: audio, tailMilliseconds: 3000,
                call: .init(callSid: callSid, streamSid: "MZ2", customParameters: [("From", customer), ("To", "+15005550006")]),
                headers: [("X-Twilio-Signature", rig.signature(media: rig.mediaURL))])
        ).run()
        #expect(call.turns.count == 1)
        // The turn reaches the store from the transcript writer's task, within moments of being heard.
        #expect(
            try await eventually {
                try await rig.store.history(of: customer, limit: 10, before: Int64?.none).map { $0.body } == [
                    "i need a refund for order twelve", "I have started your refund.",
                ]
            })
        #expect(try await eventually { try await rig.store.calls(of: customer, limit: 5).first?.endedAt != nil })

        try await rig.standIn.sendInbound(from: customer, to: "+15005550006", body: "Any news on my refund?", to: rig.smsURL)
        #expect(await eventually { rig.standIn.sentMessages.count == 1 })
        let seen = try #require(model.requests.withLock { $0.last })
        #expect(seen.map(\.role) == [.user, .assistant, .user])
        #expect(seen.first?.content == "[phone call] i need a refund for order twelve")
        #expect(seen[1].content == "[phone call] I have started your refund.")
        #expect(seen.last?.content == "Any news on my refund?")

        let contact = try await rig.get("/contacts/%2B15551230002")
        #expect(contact.status == 200)
        let json = try #require(JSONSerialization.jsonObject(with: Data(contact.body.utf8)) as? [String: Any])
        let entries = try #require(json["entries"] as? [[String: Any]])
        #expect(entries.compactMap { $0["channel"] as? String } == ["voice", "voice", "sms", "sms"])
        #expect(entries.last?["body"] as? String == "Re: Any news on my refund?")
        #expect((json["calls"] as? [[String: Any]])?.first?["callSid"] as? String == callSid)
        #expect(try await rig.get("/contacts/+15559999999").status == 404)
        // Paging back: the two entries before the texts are the call's.
        let firstText = try #require(entries[2]["id"] as? Int)
        let older = try await rig.get("/contacts/%2B15551230002?limit=5&before=\(firstText)")
        let olderJSON = try #require(JSONSerialization.jsonObject(with: Data(older.body.utf8)) as? [String: Any])
        #expect((olderJSON["entries"] as? [[String: Any]])?.compactMap { $0["channel"] as? String } == ["voice", "voice"])

        let search = try await rig.get("/search?q=refund%20order")
        #expect(search.status == 200)
        let hits = try #require(JSONSerialization.jsonObject(with: Data(search.body.utf8)) as? [[String: Any]])
        #expect(hits.compactMap { $0["body"] as? String } == ["i need a refund for order twelve"])
        #expect(try await rig.get("/search?q=%22%22").status == 400)

        // A second call: its model is given the first call and the texts, marked, before this call's own turn.
        #expect(voiceModel.requests.withLock { $0.first?.count } == 1, "the first call had nothing to recall")
        let second = try await SimulatedCaller(
            .init(
                url: rig.mediaURL, audio: audio, tailMilliseconds: 3000,
                call: .init(callSid: "CA" + String(repeating: "3", count: 32), streamSid: "MZ3", customParameters: [("From", customer)]),
                headers: [("X-Twilio-Signature", rig.signature(media: rig.mediaURL))])
        ).run()
        #expect(second.turns.count == 1)
        let recalled = try #require(voiceModel.requests.withLock { $0.last }).map(\.content)
        #expect(
            recalled == [
                "i need a refund for order twelve", "I have started your refund.", "[SMS] Any news on my refund?",
                "[SMS] Re: Any news on my refund?", "i need a refund for order twelve",
            ])

        await rig.stop()
        // The server waited for the last transcript writes before it stopped: the second call is recorded as ended.
        let reopened = try await SQLiteConversationStore.open(path: rig.path)
        let calls = try await reopened.calls(of: customer, limit: 5)
        #expect(calls.count == 2 && calls.allSatisfy { $0.endedAt != nil && $0.turns == 1 })
        try await reopened.close()
    }
}
