//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import TwilioREST
import TwilioTestSupport

/// The requests Twilio's official Python SDK sends, and the errors it reads (TestVectors/twilio/rest.json),
/// replayed through the Swift client against the stand-in server.
@Suite("Twilio REST against the official SDK")
struct TwilioRESTGoldenTests {
    struct File: Decodable {
        struct Case: Decodable {
            var name: String
            var credentials: [String: String]
            var call: [String: Value]
            var request: Request
            var response: Response
            var twilio_error: TwilioError?
        }
        struct Request: Decodable {
            var method: String
            var path: String
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
            var status: Int
        }
        enum Value: Decodable {
            case string(String)
            case int(Int)
            case list([String])
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let int = try? container.decode(Int.self) {
                    self = .int(int)
                } else if let list = try? container.decode([String].self) {
                    self = .list(list)
                } else {
                    self = .string(try container.decode(String.self))
                }
            }
            var string: String? { if case .string(let value) = self { value } else { nil } }
            var int: Int? { if case .int(let value) = self { value } else { nil } }
            var list: [String]? { if case .list(let value) = self { value } else { nil } }
        }
        var cases: [Case]
    }

    static let file = try! JSONDecoder().decode(
        File.self,
        from: Data(
            contentsOf: URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("TestVectors/twilio/rest.json")))

    static func perform(_ testCase: File.Case, _ client: TwilioRESTClient) async throws(TwilioRESTError) -> Call {
        let call = testCase.call
        switch call["operation"]?.string {
        case "create":
            let instructions: CreateCall.Instructions =
                if let twiml = call["twiml"]?.string { .twiml(twiml) } else { .url(call["url"]!.string!, method: call["method"]?.string) }
            return try await client.createCall(
                CreateCall(
                    to: call["to"]!.string!, from: call["from"]!.string!, instructions: instructions,
                    statusCallback: call["status_callback"]?.string, statusCallbackEvents: call["status_callback_event"]?.list ?? [],
                    statusCallbackMethod: call["status_callback_method"]?.string, timeout: call["timeout"]?.int,
                    timeLimit: call["time_limit"]?.int))
        case "fetch":
            return try await client.fetchCall(sid: call["sid"]!.string!)
        default:
            let update: UpdateCall =
                if call["status"]?.string == "completed" {
                    .hangUp
                } else if let twiml = call["twiml"]?.string {
                    .twiml(twiml)
                } else {
                    .redirect(to: call["url"]!.string!, method: call["method"]?.string)
                }
            return try await client.updateCall(sid: call["sid"]!.string!, update)
        }
    }

    @Test("every SDK request is reproduced byte for byte, and every answer read as the SDK reads it")
    func goldenCases() async throws {
        #expect(Self.file.cases.count >= 10)
        for testCase in Self.file.cases {
            let server = try await LoopbackHTTPServer { _, _ in .init(status: testCase.response.status, body: testCase.response.body) }
            let credentials = testCase.credentials
            let client = TwilioRESTClient(
                credentials: credentials["username"]!.hasPrefix("SK")
                    ? .apiKey(accountSid: credentials["account_sid"]!, keySid: credentials["username"]!, secret: credentials["password"]!)
                    : .authToken(accountSid: credentials["account_sid"]!, authToken: credentials["password"]!),
                configuration: .init(baseURL: server.baseURL, retry: .none))
            let result: Result<Call, TwilioRESTError>
            do { result = .success(try await Self.perform(testCase, client)) } catch { result = .failure(error) }
            switch result {
            case .success(let call):
                let json = try JSONSerialization.jsonObject(with: Data(testCase.response.body.utf8)) as! [String: Any]
                #expect(call.sid == json["sid"] as? String, "\(testCase.name)")
                #expect(call.status == json["status"] as? String)
                #expect(call.to == json["to"] as? String && call.from == json["from"] as? String)
                #expect(call.queueTime == json["queue_time"] as? String && call.duration == json["duration"] as? String)
                #expect(call.dateCreated == json["date_created"] as? String && call.direction == json["direction"] as? String)
                #expect(testCase.twilio_error == nil && (200..<300).contains(testCase.response.status), "\(testCase.name)")
            case .failure(let error):
                #expect(error.kind == .api && error.httpStatus == testCase.response.status, "\(testCase.name)")
                if let expected = testCase.twilio_error {
                    #expect(error.code == expected.code && error.message == expected.message && error.moreInfo == expected.more_info)
                } else {
                    #expect(error.code == nil && error.message == testCase.response.body)  // not JSON: the text is kept
                }
            }
            let request = try #require(server.requests.first)
            #expect(server.requests.count == 1)
            #expect(request.method == testCase.request.method, "\(testCase.name)")
            #expect(request.uri == testCase.request.path, "\(testCase.name)")
            #expect(request.header("Authorization") == testCase.request.authorization, "\(testCase.name)")
            #expect(request.header("Content-Type") == testCase.request.content_type, "\(testCase.name)")
            #expect(String(decoding: request.body, as: UTF8.self) == (testCase.request.body ?? ""), "\(testCase.name)")
            try await server.shutdown()
        }
    }
}
