//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import TwilioCore
import VoicePipeStore

/// `voicepipe history +15551234567`: one contact's calls and texts, oldest first.
struct History: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print a contact's calls and texts, on every channel, oldest first.")

    @Argument(help: "The contact's number, E.164 (+15551234567).") var address: String
    @Option(help: "The store: sqlite:PATH or postgres://….") var store = StoreLocation.sqlite(path: "voicepipe.db")
    @Option(help: "The most entries printed (the latest ones).") var limit = 100
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard let store = try await store.open(logger: Logger(label: "voicepipe.history")) else { return }
        let contact = try await store.contact(address)
        let entries = try await store.history(of: address, limit: max(1, limit), before: nil)
        try? await store.close()
        guard let contact else {
            printError("no history for \(address)")
            throw ExitCode(1)
        }
        if json {
            print(try encode(entries))
            return
        }
        print("\(address)\(contact.optedOut ? " (opted out of texts)" : "")")
        for entry in entries { print(describe(entry)) }
    }
}

/// `voicepipe search "refund"`: entries matching every word, newest first.
struct Search: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Search calls and texts for words (all of them), newest first.")

    @Argument(help: "The words.") var query: String
    @Option(help: "The store: sqlite:PATH or postgres://….") var store = StoreLocation.sqlite(path: "voicepipe.db")
    @Option(help: "The most results.") var limit = 20
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        guard !SearchWords.of(query).isEmpty else { throw ValidationError("give at least one word to search for") }
        guard let store = try await store.open(logger: Logger(label: "voicepipe.search")) else { return }
        let started = ContinuousClock.now
        let entries = try await store.search(query, limit: max(1, limit))
        let elapsed = ContinuousClock.now - started
        try? await store.close()
        if json {
            print(try encode(entries))
            return
        }
        for entry in entries { print("\(entry.contact)  " + describe(entry)) }
        printError("\(entries.count) found in \(elapsed.formatted(.units(allowed: [.milliseconds], fractionalPart: .show(length: 1))))")
    }
}

/// One entry on one line.
private func describe(_ entry: Entry) -> String {
    let date = entry.createdAt.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: false))
    let who = entry.direction == .inbound ? "contact" : "agent"
    let status = entry.status.map { " [\($0)\(entry.errorCode.map { " \($0)" } ?? "")]" } ?? ""
    return "\(date)  \(entry.channel.rawValue)  \(who): \(entry.body)\(status)"
}

private func encode(_ value: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
    encoder.dateEncodingStrategy = .iso8601
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// `voicepipe text --url … --from +1555… "message"`: Twilio's side of an inbound SMS, for trying a server.
struct Text: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send a server an inbound SMS (or WhatsApp) webhook, as Twilio would; signed when TWILIO_AUTH_TOKEN is set.")

    @Option(help: "The webhook URL (the server's /twilio/sms).") var url = "http://127.0.0.1:8080/twilio/sms"
    @Option(help: "The sender, E.164 (or whatsapp:+E164).") var from: String
    @Option(help: "The number written to.") var to = "+15005550006"
    @Option(help: "The message SID (default: a new random SM…; give the same one twice to simulate Twilio's retry).")
    var messageSid: String?
    @Argument(help: "The message.") var body: String

    func run() async throws {
        let sid = messageSid ?? "SM" + (0..<32).map { _ in String("0123456789abcdef".randomElement()!) }.joined()
        let account = ProcessInfo.processInfo.environment["TWILIO_ACCOUNT_SID"] ?? "AC" + String(repeating: "0", count: 32)
        var fields: [(String, String)] = [
            ("ToCountry", "US"), ("SmsMessageSid", sid), ("NumMedia", "0"), ("SmsSid", sid), ("SmsStatus", "received"),
            ("Body", body), ("To", to), ("NumSegments", "1"), ("MessageSid", sid), ("AccountSid", account), ("From", from),
            ("ApiVersion", "2010-04-01"),
        ]
        if from.hasPrefix("whatsapp:") { fields += [("ProfileName", "VoicePipe"), ("WaId", String(from.dropFirst("whatsapp:+".count)))] }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        if let token = ProcessInfo.processInfo.environment["TWILIO_AUTH_TOKEN"], !token.isEmpty {
            request.headers.add(
                name: "X-Twilio-Signature", value: RequestValidator(authToken: token).signature(url: url, parameters: fields))
        }
        request.body = .bytes(ByteBuffer(string: FormEncoding.encode(fields)))
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        } catch {
            printError("\(url): \(error)")
            throw ExitCode(1)
        }
        let reply = try await response.body.collect(upTo: 1 << 20)
        print("\(response.status.code) \(String(buffer: reply).trimmingCharacters(in: .whitespacesAndNewlines))")
        printError("sent \(sid)")
        if response.status.code >= 300 { throw ExitCode(1) }
    }
}
