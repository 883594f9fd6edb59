//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioCore
import TwilioMessaging
import TwilioREST
import TwilioTestSupport

/// What Twilio's official Python SDK sends, signs and writes (TestVectors/twilio/messaging.json), reproduced
/// byte for byte by the Swift client, parsers, validator and TwiML builder.
@Suite("Twilio Messaging against the official SDK")
struct MessagingGoldenTests {
    struct File: Decodable {
        struct SDK: Decodable {
            var version: String
        }
        struct RestCase: Decodable {
            var name: String
            var credentials: [String: String]
            var call: [String: Value]
            var exchanges: [Exchange]
            var twilio_error: TwilioError?
            var result: Result?
        }
        struct Exchange: Decodable {
            var request: Request
            var response: Response
        }
        struct Request: Decodable {
            var method: String
            var path_and_query: String
            var body: String?
            var authorization: String
            var content_type: String?
        }
        struct Response: Decodable {
            var status: Int
            var body: String
        }
        struct TwilioError: Decodable {
            var code: Int
            var message: String
            var more_info: String
        }
        struct Result: Decodable {
            var fields: [String: Value]?
            var messages: [[String: Value]]?
        }
        struct Webhook: Decodable {
            var name: String
            var kind: String
            var auth_token: String
            var url: String
            var body: String
            var params: [[String]]
            var signature: String
        }
        struct TwiMLCase: Decodable {
            var name: String
            var xml: String
        }
        enum Value: Decodable {
            case string(String)
            case int(Int)
            case list([String])
            case null
            case other
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if container.decodeNil() {
                    self = .null
                } else if let int = try? container.decode(Int.self) {
                    self = .int(int)
                } else if let string = try? container.decode(String.self) {
                    self = .string(string)
                } else if let list = try? container.decode([String].self) {
                    self = .list(list)
                } else {
                    self = .other
                }
            }
            var string: String? { if case .string(let value) = self { value } else { nil } }
            var int: Int? { if case .int(let value) = self { value } else { nil } }
            var list: [String]? { if case .list(let value) = self { value } else { nil } }
        }
        var sdk: SDK
        var rest: [RestCase]
        var webhooks: [Webhook]
        var twiml: [TwiMLCase]
    }

    static let file = try! JSONDecoder().decode(
        File.self,
        from: Data(
            contentsOf: URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("TestVectors/twilio/messaging.json")))

    /// The reason each error case must give.
    static let expectedReasons: [String: MessagingError.Reason] = [
        "error_21211_invalid_to": .invalidRecipient, "error_21614_not_mobile": .invalidRecipient,
        "error_21610_unsubscribed": .unsubscribed, "error_63016_whatsapp_window": .outsideWhatsAppWindow,
        "error_20429_too_many_requests": .rateLimited, "error_14107_send_rate": .rateLimited,
        "error_20003_authenticate": .authentication, "error_20404_fetch": .notFound,
    ]

    /// Runs a case's SDK call through the Swift client; returns the messages it produced.
    static func perform(_ call: [String: File.Value], _ client: TwilioMessagingClient) async throws(MessagingError) -> [Message] {
        switch call["operation"]?.string {
        case "create":
            let sender: SendMessage.Sender =
                if let from = call["from"]?.string { .from(from) } else { .messagingService(call["messaging_service_sid"]!.string!) }
            return [
                try await client.send(
                    SendMessage(
                        to: call["to"]!.string!, sender: sender, body: call["body"]?.string, mediaURLs: call["media_url"]?.list ?? [],
                        statusCallback: call["status_callback"]?.string, contentSid: call["content_sid"]?.string,
                        contentVariables: call["content_variables"]?.string))
            ]
        case "fetch":
            return [try await client.fetchMessage(sid: call["sid"]!.string!)]
        default:
            var messages: [Message] = []
            let query = MessageQuery(to: call["to"]?.string, from: call["from"]?.string, pageSize: call["page_size"]?.int)
            for try await message in client.messages(query) { messages.append(message) }
            return messages
        }
    }

    static func check(_ message: Message, against fields: [String: File.Value], _ name: String) {
        #expect(message.sid == fields["sid"]?.string && message.status.rawValue == fields["status"]?.string, "\(name)")
        #expect(message.to == fields["to"]?.string && message.from == fields["from"]?.string, "\(name)")
        #expect(message.body == fields["body"]?.string && message.numSegments == fields["num_segments"]?.string, "\(name)")
        #expect(message.numMedia == fields["num_media"]?.string && message.errorCode == fields["error_code"]?.int, "\(name)")
        #expect(message.errorMessage == fields["error_message"]?.string && message.price == fields["price"]?.string, "\(name)")
        #expect(message.messagingServiceSid == fields["messaging_service_sid"]?.string, "\(name)")
        #expect(message.direction == fields["direction"]?.string && message.uri == fields["uri"]?.string, "\(name)")
        #expect((message.dateSent == nil) == (fields["date_sent"]?.string == nil), "\(name)")
    }

    @Test("the vectors come from the pinned SDK and cover every operation and error")
    func coverage() {
        #expect(Self.file.sdk.version == "9.13.0")
        let names = Set(Self.file.rest.map(\.name))
        #expect(names.isSuperset(of: Self.expectedReasons.keys))
        #expect(names.isSuperset(of: ["send_from_number", "send_messaging_service", "send_media_status_callback", "send_whatsapp"]))
        #expect(Self.file.webhooks.count >= 6 && Self.file.twiml.count >= 5)
    }

    @Test("every SDK request is reproduced byte for byte, and every answer read as the SDK reads it")
    func restCases() async throws {
        for testCase in Self.file.rest {
            let responses = testCase.exchanges.map(\.response)
            let server = try await LoopbackHTTPServer { _, index in
                let response = responses[min(index, responses.count - 1)]
                return .init(status: response.status, body: response.body)
            }
            let credentials = testCase.credentials
            let client = TwilioMessagingClient(
                credentials: credentials["username"]!.hasPrefix("SK")
                    ? .apiKey(accountSid: credentials["account_sid"]!, keySid: credentials["username"]!, secret: credentials["password"]!)
                    : .authToken(accountSid: credentials["account_sid"]!, authToken: credentials["password"]!),
                configuration: .init(baseURL: server.baseURL, retry: .none))
            do {
                let messages = try await Self.perform(testCase.call, client)
                let expected = testCase.result?.messages ?? (testCase.result?.fields).map { [$0] } ?? []
                #expect(messages.count == expected.count, "\(testCase.name)")
                for (message, fields) in zip(messages, expected) { Self.check(message, against: fields, testCase.name) }
                #expect(testCase.twilio_error == nil, "\(testCase.name)")
            } catch {
                let expected = try #require(testCase.twilio_error, "\(testCase.name): \(error)")
                #expect(error.code == expected.code && error.message == expected.message, "\(testCase.name)")
                #expect(error.underlying.moreInfo == expected.more_info && error.httpStatus == testCase.exchanges.last?.response.status)
                #expect(error.reason == Self.expectedReasons[testCase.name], "\(testCase.name): \(error.reason)")
            }
            let requests = server.requests
            #expect(requests.count == testCase.exchanges.count, "\(testCase.name)")
            for (request, exchange) in zip(requests, testCase.exchanges) {
                let expected = exchange.request
                #expect(request.method == expected.method, "\(testCase.name)")
                #expect(request.uri == expected.path_and_query, "\(testCase.name)")
                #expect(request.header("Authorization") == expected.authorization, "\(testCase.name)")
                #expect(String(decoding: request.body, as: UTF8.self) == (expected.body ?? ""), "\(testCase.name)")
                if expected.body != nil { #expect(request.header("Content-Type") == expected.content_type, "\(testCase.name)") }
            }
            try await server.shutdown()
        }
    }

    @Test("webhook bodies parse, and the SDK's signatures validate over the parsed parameters")
    func webhooks() throws {
        for webhook in Self.file.webhooks {
            let params = webhook.params.map { ($0[0], $0[1]) }
            #expect(FormEncoding.encode(params) == webhook.body, "\(webhook.name)")
            let parsed: [(String, String)]
            if webhook.kind == "inbound" {
                let message = try InboundMessage(formBody: Array(webhook.body.utf8))
                #expect(message.messageSid == params.last { $0.0 == "MessageSid" }?.1)
                #expect(message.media.count == message.numMedia && message.from.isEmpty == false)
                parsed = message.parameters
            } else {
                let callback = try MessageStatusCallback(formBody: Array(webhook.body.utf8))
                #expect(callback.status.rawValue == params.last { $0.0 == "MessageStatus" }?.1)
                if case .other = callback.status { Issue.record("\(webhook.name): unknown status") }
                parsed = callback.parameters
            }
            #expect(parsed.map(\.0) == params.map(\.0) && parsed.map(\.1) == params.map(\.1), "\(webhook.name)")
            let validator = RequestValidator(authToken: webhook.auth_token)
            #expect(validator.signature(url: webhook.url, parameters: parsed) == webhook.signature, "\(webhook.name)")
            #expect(validator.isValid(signature: webhook.signature, url: webhook.url, parameters: parsed), "\(webhook.name)")
            let tampered = parsed.map { $0.0 == "Body" || $0.0 == "MessageStatus" ? ($0.0, $0.1 + "!") : $0 }
            #expect(!validator.isValid(signature: webhook.signature, url: webhook.url, parameters: tampered), "\(webhook.name)")
        }
        let button = try #require(Self.file.webhooks.first { $0.name == "inbound_whatsapp_button_location" })
        let message = try InboundMessage(formBody: Array(button.body.utf8))
        #expect(message.channel == .whatsApp && message.buttonPayload == "confirm:booking-42" && message.profileName == "Zoë Q")
        #expect(message.location?.latitude == 37.7749295 && message.location?.label == "Office")
        #expect(message.value(of: "SomeFutureField") == "x=1&y=2")
        let media = try #require(Self.file.webhooks.first { $0.name == "inbound_whatsapp_media" })
        let withMedia = try InboundMessage(formBody: Array(media.body.utf8))
        #expect(withMedia.media.map(\.contentType) == ["image/jpeg", "application/pdf"] && withMedia.waId == "14155550199")
        let opted = try #require(Self.file.webhooks.first { $0.name == "status_undelivered_opted_out" })
        #expect(try MessageStatusCallback(formBody: Array(opted.body.utf8)).errorReason == .unsubscribed)
    }

    @Test("MessagingResponse TwiML is reproduced byte for byte")
    func twiml() {
        let whatsAppCustomer = "whatsapp:+14155550199"
        let built: [String: TwiML] = [
            "empty": .response([]),
            "message_text": .response([.message("Thanks! We got your message & will reply soon <3")]),
            "message_attributes": .response([
                .message(
                    "¡Hola Zoë! 🍝", to: whatsAppCustomer, from: "whatsapp:+14155550100",
                    action: "https://agent.example.com/twilio/messages/status?id=1&x=2", method: "POST")
            ]),
            "message_body_media": .response([
                .message(
                    body: "Here is the menu",
                    mediaURLs: ["https://media.example.com/cat.jpg", "https://media.example.com/menu.pdf?v=2&lang=en"])
            ]),
            "two_messages": .response([.message("First"), .message("Second")]),
            "message_empty_body": .response([.message("")]),
        ]
        #expect(Set(built.keys) == Set(Self.file.twiml.map(\.name)))
        for testCase in Self.file.twiml {
            #expect(built[testCase.name]?.xml == testCase.xml, "\(testCase.name)")
        }
    }
}
