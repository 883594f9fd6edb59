//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import NIOCore
import Testing
import TwilioCore
import TwilioREST
import TwilioTestSupport

/// The REST client against a stand-in Twilio on loopback: real HTTP, real AsyncHTTPClient.
@Suite("Twilio REST client")
struct TwilioRESTClientTests {
    static let accountSid = "AC0123456789abcdef0123456789abcdef"
    static let callSid = "CAfedcba9876543210fedcba9876543210"
    static let callJSON = """
        {"account_sid":"\(accountSid)","answered_by":null,"api_version":"2010-04-01","caller_name":null,\
        "date_created":"Tue, 31 Aug 2010 20:36:28 +0000","date_updated":"Tue, 31 Aug 2010 20:36:44 +0000",\
        "direction":"outbound-api","duration":"15","end_time":null,"forwarded_from":null,"from":"+14155550100",\
        "parent_call_sid":null,"price":null,"sid":"\(callSid)","start_time":null,"status":"queued",\
        "to":"+14155550199","uri":"/2010-04-01/Accounts/\(accountSid)/Calls/\(callSid).json","queue_time":"1000"}
        """

    static func client(
        _ server: LoopbackHTTPServer, retry: RetryPolicy = .init(initialBackoff: .milliseconds(5)), timeout: Duration = .seconds(5)
    )
        -> TwilioRESTClient
    {
        TwilioRESTClient(
            credentials: .authToken(accountSid: accountSid, authToken: "test-token"),
            configuration: .init(baseURL: server.baseURL, requestTimeout: timeout, retry: retry))
    }

    static func basic(_ user: String, _ password: String) -> String {
        "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
    }

    @Test("create: POST to the account's Calls.json with basic auth and every form field, 201 decoded")
    func create() async throws {
        let server = try await LoopbackHTTPServer { request, _ in
            guard request.header("Authorization") == Self.basic(Self.accountSid, "test-token") else {
                return .init(
                    status: 401,
                    body: #"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#)
            }
            return .init(status: 201, body: Self.callJSON)
        }
        let call = try await Self.client(server).createCall(
            CreateCall(
                to: "+14155550199", from: "+14155550100", instructions: .url("https://agent.example.com/twilio/voice"),
                statusCallback: "https://agent.example.com/twilio/status",
                statusCallbackEvents: ["initiated", "ringing", "answered", "completed"], statusCallbackMethod: "POST", timeout: 30))
        #expect(call.sid == Self.callSid && call.status == "queued" && call.callStatus == .queued)
        #expect(call.duration == "15" && call.queueTime == "1000" && call.direction == "outbound-api")
        #expect(call.dateCreated == "Tue, 31 Aug 2010 20:36:28 +0000")
        let request = try #require(server.requests.first)
        #expect(server.requests.count == 1)
        #expect(request.method == "POST")
        #expect(request.uri == "/2010-04-01/Accounts/\(Self.accountSid)/Calls.json")
        #expect(request.header("Content-Type") == "application/x-www-form-urlencoded")
        #expect(request.header("Accept") == "application/json")
        let form = try #require(FormEncoding.decode(request.body))
        #expect(
            form.map(\.0) == [
                "To", "From", "StatusCallback", "StatusCallbackEvent", "StatusCallbackEvent",
                "StatusCallbackEvent", "StatusCallbackEvent", "StatusCallbackMethod", "Timeout", "Url",
            ])
        #expect(form.filter { $0.0 == "StatusCallbackEvent" }.map(\.1) == ["initiated", "ringing", "answered", "completed"])
        #expect(form.first { $0.0 == "To" }?.1 == "+14155550199")
        #expect(
            String(decoding: request.body, as: UTF8.self).hasPrefix("To=%2B14155550199&From=%2B14155550100&StatusCallback=https%3A%2F%2F"))
        try await server.shutdown()
    }

    @Test("API key: basic auth with the key, the account in the path; fetch and updates")
    func apiKeyFetchUpdate() async throws {
        let server = try await LoopbackHTTPServer { request, _ in
            guard request.header("Authorization") == Self.basic("SK0123456789abcdef0123456789abcdef", "key-secret") else {
                return .init(status: 401, body: #"{"code":20003,"message":"Authenticate","status":401}"#)
            }
            return .init(status: 200, body: Self.callJSON)
        }
        let client = TwilioRESTClient(
            credentials: .apiKey(accountSid: Self.accountSid, keySid: "SK0123456789abcdef0123456789abcdef", secret: "key-secret"),
            configuration: .init(baseURL: server.baseURL + "/"))
        #expect(!"\(client.credentials)".contains("key-secret"))
        _ = try await client.fetchCall(sid: Self.callSid)
        _ = try await client.updateCall(sid: Self.callSid, .hangUp)
        _ = try await client.updateCall(sid: Self.callSid, .redirect(to: "https://agent.example.com/next"))
        _ = try await client.updateCall(sid: Self.callSid, .twiml("<Response><Hangup /></Response>"))
        let requests = server.requests
        #expect(requests.map(\.method) == ["GET", "POST", "POST", "POST"])
        #expect(requests.allSatisfy { $0.uri == "/2010-04-01/Accounts/\(Self.accountSid)/Calls/\(Self.callSid).json" })
        #expect(requests[0].body.isEmpty)
        #expect(FormEncoding.decode(requests[1].body)!.map { [$0.0, $0.1] } == [["Status", "completed"]])
        #expect(FormEncoding.decode(requests[2].body)!.map { [$0.0, $0.1] } == [["Url", "https://agent.example.com/next"]])
        #expect(FormEncoding.decode(requests[3].body)!.map { [$0.0, $0.1] } == [["Twiml", "<Response><Hangup /></Response>"]])
        try await server.shutdown()
    }

    @Test("4xx: Twilio's error JSON becomes a typed error, never retried")
    func clientErrors() async throws {
        let server = try await LoopbackHTTPServer { _, _ in
            .init(
                status: 400,
                body:
                    #"{"code":21211,"message":"The 'To' number +1555 is not a valid phone number.","more_info":"https://www.twilio.com/docs/errors/21211","status":400}"#
            )
        }
        do {
            _ = try await Self.client(server).createCall(CreateCall(to: "+1555", from: "+14155550100", instructions: .twiml("<Response/>")))
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .api && error.httpStatus == 400 && error.code == 21211 && error.attempts == 1)
            #expect(error.message == "The 'To' number +1555 is not a valid phone number.")
            #expect(error.moreInfo == "https://www.twilio.com/docs/errors/21211")
        }
        #expect(server.requests.count == 1)
        try await server.shutdown()
    }

    @Test("429 honours Retry-After; 5xx backs off and retries; a persistent 503 gives up after the last attempt")
    func retries() async throws {
        let server = try await LoopbackHTTPServer { request, index in
            switch (request.method, index) {
            case ("POST", 0):
                .init(status: 429, headers: [("Retry-After", "1")], body: #"{"code":20429,"message":"Too Many Requests","status":429}"#)
            case ("POST", _): .init(status: 201, body: Self.callJSON)
            default: .init(status: 503, headers: [("Content-Type", "text/html")], body: "<html>Service Unavailable</html>")
            }
        }
        let started = ContinuousClock.now
        let call = try await Self.client(server).createCall(
            CreateCall(to: "+14155550199", from: "+14155550100", instructions: .application("AP1")))
        #expect(call.sid == Self.callSid)
        #expect(ContinuousClock.now - started >= .seconds(1))
        #expect(server.requests.count == 2)
        do {
            _ = try await Self.client(server).fetchCall(sid: Self.callSid)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .api && error.httpStatus == 503 && error.attempts == 4)
            #expect(error.message == "<html>Service Unavailable</html>")
        }
        #expect(server.requests.count == 6)
        try await server.shutdown()

        let flaky = try await LoopbackHTTPServer { _, index in
            index < 2
                ? .init(status: 500, body: #"{"code":20500,"message":"Internal Server Error","status":500}"#)
                : .init(status: 200, body: Self.callJSON)
        }
        #expect(try await Self.client(flaky).updateCall(sid: Self.callSid, .hangUp).sid == Self.callSid)
        #expect(flaky.requests.count == 3)
        try await flaky.shutdown()
    }

    @Test("a Retry-After beyond the policy's limit ends the retries at once")
    func longRetryAfter() async throws {
        let server = try await LoopbackHTTPServer { _, _ in
            .init(status: 429, headers: [("Retry-After", "120")], body: #"{"code":20429,"message":"Too Many Requests","status":429}"#)
        }
        await #expect(throws: TwilioRESTError.self) { _ = try await Self.client(server).fetchCall(sid: Self.callSid) }
        #expect(server.requests.count == 1)
        try await server.shutdown()
    }

    @Test("timeouts: fetch is retried, create is not (the call may exist)")
    func timeouts() async throws {
        let server = try await LoopbackHTTPServer { _, _ in .init(status: 200, body: Self.callJSON, delay: .seconds(2)) }
        let client = Self.client(server, retry: .init(maximumAttempts: 2, initialBackoff: .milliseconds(5)), timeout: .milliseconds(200))
        do {
            _ = try await client.fetchCall(sid: Self.callSid)
            Issue.record("no timeout")
        } catch {
            #expect(error.kind == .timeout && error.attempts == 2)
        }
        #expect(server.requests.count == 2)
        do {
            _ = try await client.createCall(CreateCall(to: "+14155550199", from: "+14155550100", instructions: .application("AP1")))
            Issue.record("no timeout")
        } catch {
            #expect(error.kind == .timeout && error.attempts == 1)
        }
        #expect(server.requests.count == 3)
        try await server.shutdown()
    }

    @Test("nothing listening: a typed transport error after the retries")
    func refused() async throws {
        let server = try await LoopbackHTTPServer { _, _ in .init(status: 200, body: "{}") }
        // AsyncHTTPClient keeps retrying a refused connection until the deadline, so keep it short.
        let client = Self.client(server, timeout: .milliseconds(300))
        try await server.shutdown()
        do {
            _ = try await client.fetchCall(sid: Self.callSid)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .transport || error.kind == .timeout)
            #expect(error.attempts == 4)
        }
    }

    @Test("a 2xx body that is not a call is an invalid-response error")
    func invalidResponse() async throws {
        let server = try await LoopbackHTTPServer { _, _ in .init(status: 200, body: "not json") }
        do {
            _ = try await Self.client(server).fetchCall(sid: Self.callSid)
            Issue.record("accepted")
        } catch {
            #expect(error.kind == .invalidResponse && error.httpStatus == 200)
        }
        try await server.shutdown()
    }
}
