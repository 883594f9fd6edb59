//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import HTTPTypes
import HummingbirdWSClient
public import Logging
import NIOCore
import NIOWebSocket
import Synchronization
import TwilioMediaStreams
import VoiceDSP

/// A caller, as Twilio would connect them: opens the Media Stream WebSocket, sends `connected` and `start`,
/// then the caller's audio in 20 ms media frames at real-time pace (with `chunk` and `timestamp`), plays the
/// agent's audio at real-time pace (``TwilioStreamSimulator``: marks echoed once their audio has played,
/// every pending mark on `clear`), and finally `stop`. It records what the agent said, aligned with the
/// call's timeline, and times every turn from the caller's last speech sample to the first reply frame.
public struct SimulatedCaller: Sendable {
    /// Settings.
    public struct Configuration: Sendable {
        /// `ws://host:port/twilio/media`.
        public var url: String
        /// The caller's speech, 8 kHz mono, −1...1.
        public var audio: [Float]
        /// Silence sent after the audio before `stop`, in ms (time for the last reply).
        public var tailMilliseconds: Int
        /// The call's ids and `<Parameter>`s.
        public var call: TwilioStreamSimulator.Configuration
        /// Extra headers on the upgrade request (for example `X-Twilio-Signature`).
        public var headers: [(String, String)]
        /// A conversation instead of a fixed recording: each line is spoken when its cue comes (`audio` is then
        /// ignored). The call ends when the agent hangs up, or ``tailMilliseconds`` after the last line.
        public var script: [Line]
        /// The longest a scripted call may last, in ms.
        public var maximumMilliseconds: Int

        /// Creates settings.
        public init(
            url: String, audio: [Float], tailMilliseconds: Int = 3000,
            call: TwilioStreamSimulator.Configuration = .init(), headers: [(String, String)] = []
        ) {
            self.url = url
            self.audio = audio
            self.tailMilliseconds = tailMilliseconds
            self.call = call
            self.headers = headers
            script = []
            maximumMilliseconds = 120_000
        }

        /// Settings for a scripted conversation.
        public init(
            url: String, script: [Line], tailMilliseconds: Int = 5000, maximumMilliseconds: Int = 120_000,
            call: TwilioStreamSimulator.Configuration = .init(), headers: [(String, String)] = []
        ) {
            self.init(url: url, audio: [], tailMilliseconds: tailMilliseconds, call: call, headers: headers)
            self.script = script
            self.maximumMilliseconds = maximumMilliseconds
        }
    }

    /// One line of a scripted caller.
    public struct Line: Sendable {
        /// When to say it.
        public enum Cue: Sendable, Hashable {
            /// Once the agent has said something since the caller's previous line and then been quiet for
            /// `pause` (or after 10 s without a word from the agent).
            case afterReply(pause: Duration)
            /// Over the agent, once `after` of its audio has played since the caller's previous line: a
            /// barge-in.
            case interrupting(after: Duration)
        }

        /// The speech, 8 kHz mono, −1...1.
        public var audio: [Float]
        /// When to say it.
        public var cue: Cue
        /// What it says (for reports).
        public var text: String

        /// Creates a line.
        public init(audio: [Float], cue: Cue = .afterReply(pause: .milliseconds(600)), text: String = "") {
            self.audio = audio
            self.cue = cue
            self.text = text
        }
    }

    /// One of the caller's turns.
    public struct Turn: Sendable, Codable, Hashable {
        /// The caller's last speech sample, ms from the start of the call.
        public var lastSpeech: Double
        /// The first reply frame received after it, ms from the start.
        public var firstReply: Double?
        /// The difference: what the caller waited for an answer.
        public var latency: Double? { firstReply.map { $0 - lastSpeech } }
    }

    /// What happened.
    public struct Result: Sendable {
        /// The caller's turns (speech followed by at least 500 ms of silence) and their replies.
        public var turns: [Turn]
        /// The agent's audio as played to the caller, 8 kHz, on the call's timeline.
        public var reply: [Float]
        /// Media frames sent.
        public var framesSent: Int
        /// Media messages received.
        public var mediaReceived: Int
        /// Marks echoed.
        public var marksEchoed: Int
        /// `clear` messages received.
        public var clears: Int
        /// Sends more than 20 ms behind schedule.
        public var lateSends: Int
        /// Messages from the app that Twilio would have rejected (warning 31951).
        public var protocolErrors: [String]
        /// Every µ-law byte the caller sent, in order (20 ms = 160 bytes).
        public var sent: [UInt8] = []
        /// The agent's audio as played, cut where playback stopped: the buffer at Twilio ran dry or a
        /// `clear` flushed it.
        public var segments: [PlayedSegment] = []
        /// When each `clear` arrived, ms from the start of the call.
        public var clearTimes: [Double] = []
        /// When each scripted line began, ms from the start of the call.
        public var lineStarts: [Double] = []
        /// Whether the server ended the call (the agent hung up) before the caller sent `stop`.
        public var hungUp = false

        /// Every interruption, timed from the caller's side: for each `clear`, the start of the caller's
        /// speech that caused it, and the agent audio the caller still heard after it.
        public var bargeIns: [BargeIn] {
            let pcm = sent.map { Float(MuLaw.decode($0)) / 32768 }
            return clearTimes.map { clear in
                let heardAfter = segments.reduce(0.0) { sum, segment in
                    let from = Swift.max(segment.start, clear)
                    let to = Swift.min(segment.end, clear + BargeIn.window)
                    return sum + Swift.max(0, to - from)
                }
                return BargeIn(
                    speechStart: SimulatedCaller.speechStart(pcm, before: clear), clear: clear, agentAudioAfterClear: heardAfter)
            }
        }
    }

    /// One interruption, as the caller lived it.
    public struct BargeIn: Sendable, Hashable, Codable {
        /// Where the caller's speech began (after at least 300 ms of silence), ms from the start of the call.
        public var speechStart: Double?
        /// When the `clear` arrived.
        public var clear: Double
        /// Agent audio played to the caller in the ``window`` after the `clear`, in ms (a new reply cannot
        /// begin that soon: the caller's own turn must end first).
        public var agentAudioAfterClear: Double
        /// From the caller's first speech sample to the `clear`, in ms.
        public var speechToClear: Double? { speechStart.map { clear - $0 } }
        /// How long after a `clear` agent audio counts as the interrupted reply's, in ms.
        public static let window = 500.0
    }

    /// The start of the speech run that was under way at `time` (ms): its first 20 ms frame above −40 dBFS
    /// after at least 300 ms below.
    static func speechStart(_ audio: [Float], before time: Double) -> Double? {
        var frame = Swift.min(audio.count / 160, Int(time / 20)) - 1
        var start: Int?
        var quiet = 0
        while frame >= 0, quiet < 15 {
            let slice = audio[(frame * 160)..<(frame * 160 + 160)]
            if slice.reduce(0, { $0 + $1 * $1 }) / 160 > 1e-4 {
                start = frame
                quiet = 0
            } else if start != nil {
                quiet += 1
            }
            frame -= 1
        }
        return start.map { Double($0) * 20 }
    }

    /// A stretch of agent audio the caller heard without a break.
    public struct PlayedSegment: Sendable, Hashable {
        /// When its first byte played, ms from the start of the call.
        public var start: Double
        /// Its µ-law bytes.
        public var bytes: [UInt8]
        /// Whether a `clear` ended it (otherwise Twilio's buffer ran dry).
        public var cleared: Bool
        /// When its last byte finished, ms from the start of the call.
        public var end: Double { start + Double(bytes.count) / 8 }
    }

    enum Input: Sendable {
        case text(String)
        case tick(Int)
        case closed
    }

    let configuration: Configuration
    let logger: Logger

    /// Creates a caller.
    public init(_ configuration: Configuration, logger: Logger = Logger(label: "voicepipe.caller")) {
        self.configuration = configuration
        self.logger = logger
    }

    /// The caller's turns in `audio`: where speech (20 ms frames above −40 dBFS) is followed by 500 ms of
    /// silence (the server's default end of turn) or the end; the time is the end of the last speech frame, in ms.
    public static func turnEnds(_ audio: [Float]) -> [Double] {
        var ends: [Double] = []
        var lastSpeech: Int?
        var silent = 0
        for frame in 0..<(audio.count / 160) {
            let slice = audio[(frame * 160)..<(frame * 160 + 160)]
            let power = slice.reduce(0) { $0 + $1 * $1 } / 160
            if power > 1e-4 {
                lastSpeech = frame
                silent = 0
            } else if let last = lastSpeech {
                silent += 1
                if silent == 25 {
                    ends.append(Double(last + 1) * 20)
                    lastSpeech = nil
                }
            }
        }
        if let last = lastSpeech { ends.append(Double(last + 1) * 20) }
        return ends
    }

    /// Places the call and returns when it has ended.
    public func run() async throws -> Result {
        let configuration = configuration
        var clientConfiguration = WebSocketClientConfiguration()
        for (name, value) in configuration.headers {
            if let field = HTTPField.Name(name) { clientConfiguration.additionalHeaders[field] = value }
        }
        let frames =
            configuration.script.isEmpty
            ? (configuration.audio.count + 159) / 160 + configuration.tailMilliseconds / 20 : configuration.maximumMilliseconds / 20
        let outcome = ResultBox()
        try await WebSocketClient.connect(url: configuration.url, configuration: clientConfiguration, logger: logger) {
            inbound, outbound, _ in
            let result = try await Self.converse(configuration, frames: frames, inbound: inbound, outbound: outbound)
            outcome.set(result)
        }
        guard let result = outcome.value else { throw CallerError.noCall }
        return result
    }

    /// Why a call could not be made.
    public enum CallerError: Error, CustomStringConvertible {
        /// The connection closed before the call ran.
        case noCall
        /// One line.
        public var description: String { "the WebSocket closed before the call ran" }
    }

    private static func converse(
        _ configuration: Configuration, frames: Int, inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter
    ) async throws -> Result {
        let twilio = TwilioStreamSimulator(configuration: configuration.call)
        let (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
        let start = ContinuousClock.now
        func now() -> Double { (ContinuousClock.now - start).inMilliseconds }
        let script = configuration.script
        var result = Result(
            turns: script.isEmpty ? turnEnds(configuration.audio).map { Turn(lastSpeech: $0) } : [],
            reply: [Float](repeating: 0, count: frames * 160), framesSent: 0, mediaReceived: 0, marksEchoed: 0, clears: 0,
            lateSends: 0, protocolErrors: [])
        var message: [UInt8] = []
        message.reserveCapacity(512)
        var lastAdvance = 0.0
        var lastMedia = -Double.infinity
        var pcm = [Int16](repeating: 0, count: 160)
        var codes = [UInt8](repeating: 0xFF, count: 160)

        // Set when a write finds the connection closed: the server hung up between our last read and this
        // write, which Twilio treats as the end of the stream, not as an error.
        var closedUnderWrite = false
        func send() async throws {
            defer { message.removeAll(keepingCapacity: true) }
            guard !closedUnderWrite else { return }
            do {
                try await outbound.write(.text(String(decoding: message, as: UTF8.self)))
            } catch ChannelError.ioOnClosedChannel, ChannelError.outputClosed, ChannelError.alreadyClosed {
                closedUnderWrite = true
            }
        }
        var segment: PlayedSegment?
        func endSegment(cleared: Bool) {
            guard var finished = segment else { return }
            finished.cleared = cleared
            result.segments.append(finished)
            segment = nil
        }
        // The script: the line being spoken, the next one, and what the agent has played since the last line.
        var speaking: (line: Int, offset: Int)?
        var nextLine = 0
        var heardSinceLine = 0  // µ-law bytes of agent audio played since the previous line ended
        var lastAgentAudio = 0.0
        var lineEnded = 0.0
        let lineEnds = script.map { turnEnds($0.audio).last ?? Double($0.audio.count) / 8 }
        func cued(_ cue: Line.Cue, at time: Double) -> Bool {
            switch cue {
            case .afterReply(let pause):
                if heardSinceLine == 0 { return time - lineEnded >= 10_000 }
                return twilio.bufferedBytes == 0 && time - lastAgentAudio >= pause.inMilliseconds
            case .interrupting(let after):
                return Double(heardSinceLine) / 8 >= after.inMilliseconds
            }
        }

        func advance(to time: Double) {
            var offset = Int(lastAdvance * 8)
            let startedAt = lastAdvance
            twilio.advance(to: time) { bytes in
                heardSinceLine += bytes.count
                lastAgentAudio = time
                if segment == nil { segment = PlayedSegment(start: startedAt, bytes: [], cleared: false) }
                segment!.bytes.append(contentsOf: bytes)
                for byte in bytes where offset < result.reply.count {
                    result.reply[offset] = Float(MuLaw.decode(byte)) / 32768
                    offset += 1
                }
            }
            lastAdvance = max(lastAdvance, time)
            if twilio.bufferedBytes == 0 { endSegment(cleared: false) }  // playback ran dry
        }
        func echoes() async throws {
            while twilio.nextEcho(into: &message) {
                result.marksEchoed += 1
                try await send()
            }
        }

        twilio.connected(into: &message)
        try await send()
        twilio.start(into: &message)
        try await send()
        twilio.advance(to: 0) { _ in }

        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                do {
                    for try await message in inbound.messages(maxSize: 1 << 20) {
                        if case .text(let text) = message { continuation.yield(.text(text)) }
                    }
                } catch {}
                continuation.yield(.closed)
            }
            group.addTask {
                for frame in 0..<frames {
                    try? await Task.sleep(until: start + .milliseconds(20 * (frame + 1)), clock: .continuous)
                    continuation.yield(.tick(frame))
                }
                continuation.yield(.closed)
            }
            loop: for await input in inputs {
                let time = now()
                switch input {
                case .text(var text):
                    advance(to: time)
                    if text.utf8.starts(with: #"{"event":"media""#.utf8) {
                        result.mediaReceived += 1
                        if time - lastMedia > 100,
                            let index = result.turns.firstIndex(where: { $0.firstReply == nil && $0.lastSpeech < time })
                        {
                            result.turns[index].firstReply = time
                        }
                        lastMedia = time
                    }
                    let clearsBefore = twilio.clears
                    do {
                        try text.withUTF8 { try twilio.receive(UnsafeRawBufferPointer($0), at: time) }
                    } catch {
                        result.protocolErrors.append("\(error)")
                    }
                    if twilio.clears > clearsBefore {
                        endSegment(cleared: true)
                        result.clearTimes.append(time)
                    }
                    try await echoes()
                case .tick(let frame):
                    if time - Double(20 * (frame + 1)) > 20 { result.lateSends += 1 }
                    if script.isEmpty {
                        for i in 0..<160 {
                            let index = frame * 160 + i
                            pcm[i] = index < configuration.audio.count ? AudioClip.pcm16Sample(configuration.audio[index]) : 0
                        }
                    } else {
                        if speaking == nil, nextLine < script.count, cued(script[nextLine].cue, at: time) {
                            speaking = (nextLine, 0)
                            result.lineStarts.append(Double(20 * frame))
                            nextLine += 1
                        }
                        for i in 0..<160 { pcm[i] = 0 }
                        if let (line, offset) = speaking {
                            let audio = script[line].audio
                            for i in 0..<160 where offset + i < audio.count { pcm[i] = AudioClip.pcm16Sample(audio[offset + i]) }
                            if offset + 160 >= audio.count {
                                result.turns.append(Turn(lastSpeech: Double(20 * frame) - Double(offset) / 8 + lineEnds[line]))
                                speaking = nil
                                heardSinceLine = 0
                                lineEnded = time
                            } else {
                                speaking = (line, offset + 160)
                            }
                        }
                    }
                    pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
                    codes.withUnsafeBytes { twilio.media($0, timestamp: 20 * frame, into: &message) }
                    result.sent.append(contentsOf: codes)
                    try await send()
                    result.framesSent += 1
                    advance(to: time)
                    try await echoes()
                    if closedUnderWrite {
                        result.hungUp = frames * 20 - Int(time) > 40
                        break loop
                    }
                    let scriptDone =
                        !script.isEmpty && speaking == nil && nextLine == script.count
                        && time - lineEnded >= Double(configuration.tailMilliseconds)
                    if frame == frames - 1 || scriptDone {
                        twilio.stop(into: &message)
                        try await send()
                        break loop
                    }
                case .closed:
                    result.hungUp = frames * 20 - Int(time) > 40  // closed by the server, not at the end of the audio
                    break loop
                }
            }
            result.clears = twilio.clears
            endSegment(cleared: false)
            group.cancelAll()
        }
        try? await outbound.close(.normalClosure, reason: nil)
        return result
    }
}

/// The result handed out of the client's handler.
final class ResultBox: Sendable {
    private let result = Mutex<SimulatedCaller.Result?>(nil)
    func set(_ value: SimulatedCaller.Result) { result.withLock { $0 = value } }
    var value: SimulatedCaller.Result? { result.withLock { $0 } }
}
