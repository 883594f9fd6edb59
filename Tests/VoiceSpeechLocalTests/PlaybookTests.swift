//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceAgent
import VoicePipeTestSupport
import VoiceSpeechLocal

@Suite("Playbook")
struct PlaybookTests {
    let playbook = Playbook.frontDesk

    @Test("intents match the words a recogniser really returns, in order, with words in between")
    func matching() {
        #expect(playbook.answer("telephone number").intent == "callback")
        #expect(playbook.answer("i'd like you to call me back please").intent == "callback")
        #expect(playbook.answer("TOMORROW").reply.hasPrefix("Tomorrow it is."))  // a slot at the start is capitalised
        #expect(playbook.answer("what are your opening hours").intent == "hours")
        #expect(playbook.answer("ok goodbye").hangUp)
        #expect(playbook.answer("back call").intent == nil)  // the words of "call back", out of order
    }

    @Test("a digits slot takes the longest run of spoken digits and says it back in groups")
    func digits() {
        let answer = playbook.answer("uh five five five one two three four")
        #expect(answer.intent == "number")
        #expect(answer.reply.contains("on five five five, one two three four."))
        #expect(playbook.answer("oh one two 3").reply.contains("on zero one two three."))  // "oh" and numerals are digits
        #expect(playbook.answer("one two").intent == nil)  // fewer than three
    }

    @Test("no match and silence get the fallback, which does not hang up")
    func fallback() {
        for heard in ["", "the weather in paris", "um"] {
            let answer = playbook.answer(heard)
            #expect(answer.intent == nil && answer.reply == playbook.fallback && !answer.hangUp)
        }
    }

    @Test("the model streams the reply to the last caller message, then hangs up when the intent says so")
    func model() async throws {
        let model = PlaybookModel(playbook: playbook)
        var outputs: [ModelOutput] = []
        let messages = [
            ChatMessage(.system, "ignored"), ChatMessage(.user, "call back"), ChatMessage(.assistant, "Sure."),
            ChatMessage(.user, "goodbye"),
        ]
        for try await output in model.respond(to: messages) { outputs.append(output) }
        #expect(outputs == [.text("Thank you for calling. Goodbye."), .hangUp])
    }

    @Test("the vocabulary for the recogniser: every phrase once, and the digit words when a slot takes digits")
    func vocabulary() {
        let phrases = playbook.phrases
        #expect(phrases.contains("telephone number") && phrases.contains("tomorrow") && phrases.contains("oh"))
        #expect(Set(phrases).count == phrases.count)
        #expect(playbook.expectsDigits)
    }

    @Test("the bundled file Playbooks/front-desk.json is the built-in front desk")
    func bundledFile() throws {
        let path = TestVectors.repositoryRoot.appendingPathComponent("Playbooks/front-desk.json").path
        #expect(try Playbook(contentsOf: path) == playbook)
    }

    @Test("bad playbooks are refused with a message that says what is wrong")
    func badFiles() throws {
        func error(_ json: String) -> String? {
            do {
                _ = try Playbook(json: Data(json.utf8))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(error("{") != nil)
        #expect(error(#"{"fallback": "x", "intents": []}"#)?.contains("no intents") == true)
        #expect(error(#"{"intents": [{"name": "a", "phrases": ["b"], "reply": "c"}]}"#)?.contains("missing \"fallback\"") == true)
        #expect(error(#"{"fallback": "x", "intents": [{"name": "a", "reply": "c"}]}"#)?.contains("neither phrases nor a slot") == true)
        #expect(
            error(#"{"fallback": "x", "intents": [{"name": "a", "phrases": ["b"], "reply": "{digits}"}]}"#)?.contains("no digits slot")
                == true)
        #expect(error(#"{"fallback": "x", "intents": [{"name": "a", "phrases": ["b"], "slot": "date", "reply": "c"}]}"#) != nil)
        #expect(throws: PlaybookError.self) { try Playbook(contentsOf: "/nonexistent/playbook.json") }
    }
}
