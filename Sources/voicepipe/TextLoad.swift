//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import ArgumentParser
import Foundation
import Logging
import Synchronization
import TwilioMessaging
import TwilioREST
import TwilioTesting
import VoiceAgent
import VoicePipeServer
import VoicePipeStore
import VoicePipeText
import VoiceSpeechLocal

/// `voicepipe textload`: inbound texts at a steady rate against a server with a store and the text agent,
/// through a local Twilio stand-in, over real HTTP; checks that every message got exactly one reply.
struct TextLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "textload",
        abstract: "Load-test the text agent: inbound SMS webhooks at a steady rate, replies through a Twilio stand-in.",
        discussion: """
            Starts a Twilio stand-in, the store and a VoicePipe server with the text agent (playbook model) in this \\
            process, then posts signed inbound webhooks as Twilio would, from --contacts numbers in turn. Reports the \\
            webhook acknowledgement time (measured by the sender, over HTTP), the time from a message's arrival to its \\
            reply's acceptance by Twilio, the rate sustained, and any message answered twice or not at all. \\
            --search-corpus N loads N synthetic call utterances and times full-text searches over them.
            """)

    @Option(help: "The store: sqlite:PATH (default: a new file in the temporary directory) or postgres://….")
    var store: StoreLocation?
    @Option(help: "Inbound messages to send (0: none, for the search test alone).") var messages = 2000
    @Option(help: "Messages per second.") var rate = 200.0
    @Option(help: "Distinct senders (their messages are answered in order, one at a time each).") var contacts = 200
    @Option(help: "Load this many call utterances first and time searches over them (0: no search test).")
    var searchCorpus = 0
    @Flag(help: "Print JSON.") var json = false

    struct Report: Encodable {
        var store: String
        var messages: Int
        var offeredRate: Double
        var sustainedRate: Double?
        var acknowledged: Int
        var ackP50: Double?
        var ackP99: Double?
        var ackMax: Double?
        var serverAckP50: Double?
        var serverAckP99: Double?
        /// Text webhooks the server handled: each message's inbound plus its reply's status callbacks.
        var serverWebhooks: Int?
        var replies: Int
        var replyP50: Double?
        var replyP95: Double?
        var replyP99: Double?
        var unanswered: Int
        var answeredTwice: Int
        var deliveredRecorded: Int?
        var search: [SearchFigures]?
        var corpus: Int?
        var corpusLoadSeconds: Double?
    }

    struct SearchFigures: Encodable {
        var query: String
        var hits: Int
        var p50: Double?
        var p99: Double?
    }

    func run() async throws {
        var logger = Logger(label: "voicepipe.textload")
        logger.logLevel = .warning
        let location =
            store
            ?? .sqlite(
                path: FileManager.default.temporaryDirectory.appendingPathComponent("voicepipe-textload-\(UUID().uuidString).db").path)
        guard let conversationStore = try await location.open(logger: logger) else {
            throw ValidationError("--store none: nothing to test")
        }
        var report = Report(
            store: "\(location)", messages: 0, offeredRate: rate, acknowledged: 0, replies: 0, unanswered: 0, answeredTwice: 0)
        if messages > 0 {
            try await runMessages(store: conversationStore, logger: logger, into: &report)
        }
        if searchCorpus > 0 {
            try await runSearch(store: conversationStore, into: &report)
        }
        try? await conversationStore.close()
        if store == nil, case .sqlite(let path) = location {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            printReport(report)
        }
        if report.unanswered > 0 || report.answeredTwice > 0 { throw ExitCode(1) }
    }

    private func runMessages(store: any ConversationStore, logger: Logger, into report: inout Report) async throws {
        var quiet = logger
        quiet.logLevel = .critical  // the HTTP servers' shutdown chatter
        let standIn = try await TwilioStandIn.start(logger: quiet)
        let client = TwilioMessagingClient(
            credentials: .authToken(accountSid: standIn.accountSid, authToken: standIn.authToken),
            configuration: .init(baseURL: standIn.baseURL))
        let sender = TwilioTextSender(client: client)  // the server names each reply's status callback
        let agent = TextAgent(store: store, model: PlaybookModel(playbook: .frontDesk), sender: sender, logger: logger)
        var configuration = VoicePipeServer.Configuration(port: 0, authToken: standIn.authToken)
        configuration.store = store
        configuration.textAgent = agent
        let server = VoicePipeServer(configuration: configuration, logger: quiet)
        let (ports, listening) = AsyncStream.makeStream(of: Int.self)
        let serverTask = Task { try await server.runUntilCancelled { listening.yield($0) } }
        var iterator = ports.makeAsyncIterator()
        guard let bound = await iterator.next() else { throw ValidationError("the server did not start") }
        let url = "http://127.0.0.1:\(bound)/twilio/sms"
        let number = "+15005550006"
        let phrases = ["What are your opening hours?", "I'd like to book a table", "Where are you?", "Can I talk to someone?"]
        let senders = (0..<max(1, contacts)).map { String(format: "+1555%07d", $0) }

        let tally = Tally()
        let start = ContinuousClock.now
        let count = messages
        let interval = 1.0 / max(rate, 0.001)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                let due = start + .milliseconds(Int(Double(index) * interval * 1000))
                try? await Task.sleep(until: due, clock: .continuous)
                group.addTask {
                    let sent = ContinuousClock.now
                    do {
                        let answer = try await standIn.sendInbound(
                            from: senders[index % senders.count], to: number, body: phrases[index % phrases.count], to: url)
                        let elapsed = milliseconds(ContinuousClock.now - sent)
                        if answer.status == 200 { tally.acks.withLock { $0.append(elapsed) } } else { tally.failures.withLock { $0 += 1 } }
                    } catch {
                        tally.failures.withLock { $0 += 1 }
                    }
                }
            }
        }
        // Every reply, or 60 s.
        let deadline = ContinuousClock.now + .seconds(60)
        while standIn.sentMessages.count < count, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let finished = ContinuousClock.now
        try await Task.sleep(for: .milliseconds(500))  // late duplicates would show up here
        let sent = standIn.sentMessages
        var repliesPerSender: [String: Int] = [:]
        for message in sent { repliesPerSender[message.to, default: 0] += 1 }
        var inboundPerSender: [String: Int] = [:]
        for index in 0..<count { inboundPerSender[senders[index % senders.count], default: 0] += 1 }
        var unanswered = 0
        var twice = 0
        for (address, inbound) in inboundPerSender {
            let replies = repliesPerSender[address, default: 0]
            if replies < inbound { unanswered += inbound - replies }
            if replies > inbound { twice += replies - inbound }
        }
        let ackTimes = tally.acks.withLock { $0 }
        let statistics = agent.statistics
        let snapshot = server.statistics.snapshot
        report.messages = count
        report.acknowledged = ackTimes.count
        report.ackP50 = CallSummary.percentile(ackTimes, 0.5)
        report.ackP99 = CallSummary.percentile(ackTimes, 0.99)
        report.ackMax = ackTimes.max()
        report.serverAckP50 = snapshot.textWebhookP50
        report.serverAckP99 = snapshot.textWebhookP99
        report.serverWebhooks = snapshot.textWebhooks
        report.replies = sent.count
        report.replyP50 = CallSummary.percentile(statistics.replyMilliseconds, 0.5)
        report.replyP95 = CallSummary.percentile(statistics.replyMilliseconds, 0.95)
        report.replyP99 = CallSummary.percentile(statistics.replyMilliseconds, 0.99)
        report.unanswered = unanswered + tally.failures.withLock { $0 }
        report.answeredTwice = twice
        report.sustainedRate = Double(sent.count) / max(milliseconds(finished - start) / 1000, 0.001)
        serverTask.cancel()
        _ = await serverTask.result
        await standIn.stop()
    }

    private func runSearch(store: any ConversationStore, into report: inout Report) async throws {
        guard let loader = store as? any BulkLoading else { throw ValidationError("this store cannot bulk-load a corpus") }
        // Sentences of a support line: "refund" in 1 of 50, "cancellation" in 1 of 1,000, "order" in 1 of 5.
        var random = SystemRandomNumberGenerator()
        let filler = [
            "hello", "i", "would", "like", "to", "ask", "about", "my", "account", "please", "the", "delivery", "was", "late", "can",
            "you", "help", "me", "thanks", "yesterday", "phone", "number", "change", "address", "bill", "payment",
        ]
        let loadStarted = ContinuousClock.now
        let base = Date().addingTimeInterval(-86_400 * 365)
        var loaded = 0
        while loaded < searchCorpus {
            let batch = min(100_000, searchCorpus - loaded)
            var rows: [BulkEntry] = []
            rows.reserveCapacity(batch)
            for index in loaded..<(loaded + batch) {
                var words = (0..<12).map { _ in filler.randomElement(using: &random)! }
                if index % 5 == 0 { words[3] = "order" }
                if index % 50 == 10 { words[6] = "refund" }
                if index % 1000 == 123 { words[9] = "cancellation" }
                rows.append(
                    BulkEntry(
                        contact: String(format: "+1444%07d", index % 10_000), direction: index % 2 == 0 ? .inbound : .outbound,
                        body: words.joined(separator: " "), createdAt: base.addingTimeInterval(Double(index) * 30)))
            }
            try await loader.bulkInsertEntries(rows)
            loaded += batch
        }
        report.corpus = searchCorpus
        report.corpusLoadSeconds = milliseconds(ContinuousClock.now - loadStarted) / 1000
        var figures: [SearchFigures] = []
        for query in ["refund", "cancellation", "order refund", "refund order delivery late", "refund cancellation", "nothingmatchesthis"] {
            var times: [Double] = []
            var hits = 0
            for _ in 0..<25 {
                let started = ContinuousClock.now
                hits = try await store.search(query, limit: 20).count
                times.append(milliseconds(ContinuousClock.now - started))
            }
            figures.append(
                SearchFigures(
                    query: query, hits: hits, p50: CallSummary.percentile(times, 0.5), p99: CallSummary.percentile(times, 0.99)))
        }
        report.search = figures
    }

    private func printReport(_ report: Report) {
        func ms(_ value: Double?) -> String { value.map { formatted($0, digits: 2) + " ms" } ?? "-" }
        print("store: \(report.store)")
        if report.messages > 0 {
            print(
                "messages: \(report.messages) at \(formatted(report.offeredRate, digits: 0))/s; \(report.acknowledged) acknowledged, "
                    + "\(report.replies) replies; \(report.unanswered) unanswered, \(report.answeredTwice) answered twice")
            print(
                "webhook acknowledgement (sender-measured, HTTP included): p50 \(ms(report.ackP50)), p99 \(ms(report.ackP99)), "
                    + "max \(ms(report.ackMax)); server-side p50 \(ms(report.serverAckP50)), p99 \(ms(report.serverAckP99)) "
                    + "over \(report.serverWebhooks ?? 0) webhooks (inbound and status callbacks)")
            print(
                "message in to reply accepted by Twilio (playbook model): p50 \(ms(report.replyP50)), p95 \(ms(report.replyP95)), "
                    + "p99 \(ms(report.replyP99)); sustained \(formatted(report.sustainedRate ?? 0, digits: 1)) replies/s")
        }
        if let search = report.search, let corpus = report.corpus {
            print(
                "search over \(corpus) entries (loaded in \(formatted(report.corpusLoadSeconds ?? 0, digits: 1)) s), 25 runs each, limit 20:"
            )
            for figure in search {
                print("  \"\(figure.query)\": \(figure.hits) hits, p50 \(ms(figure.p50)), p99 \(ms(figure.p99))")
            }
        }
    }
}

/// What the senders measured.
final class Tally: Sendable {
    let acks = Mutex<[Double]>([])
    let failures = Mutex(0)
}

/// A duration in milliseconds.
private func milliseconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
}
