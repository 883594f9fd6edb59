//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import VoiceDSP

/// One call's bidirectional Media Stream, independent of the WebSocket library: text frames in, text
/// frames out.
///
/// - **In**: ``receive(_:at:)`` reads each frame from Twilio. `start` opens the stream (ids, custom
///   parameters); media is cut into 20 ms frames for the ``inbound`` chain (jitter buffer, decode, VAD,
///   resample), which the owner ticks every 20 ms; DTMF and other marks are reported.
/// - **Out**: ``play(_:sampleRate:)`` converts agent audio (any rate) to 160-byte µ-law frames in a queue;
///   ``nextMessage(into:)`` hands out what may be sent now: each frame as a `media` message followed by
///   a `mark` naming it, so every echo tells which frame has finished playing.
/// - **Pacing**: at most ``Configuration/maximumLead`` of audio (200 ms by default) is ever at Twilio
///   beyond the last echoed frame; each echo releases the next frame. Twilio's playback clocks the
///   sending, so an interruption stops the caller hearing the agent within that lead even before
///   `clear` lands, and nothing is left to throw away at Twilio but the lead. `nil` sends everything at
///   once (bursting), as most stacks do.
/// - **Truncation**: ``clear(at:)`` drops queued audio and sends `clear`; Twilio then echoes every pending
///   mark at once. Echoes that arrive paced are plays; the final burst is the flush. ``Playback`` reports
///   what each utterance actually played, to within half a frame (10 ms) of what the caller heard.
///
/// ```swift
/// let session = try MediaStreamSession()
/// var frame: [UInt8] = []
/// // For each text frame from the socket:
/// switch try session.receive(bytes, at: nowMilliseconds) { case .started(let start): …; default: break }
/// while session.nextMessage(into: &frame) { send(frame); frame.removeAll(keepingCapacity: true) }
/// // Every 20 ms:
/// let tick = session.inbound.tick(at: nowMilliseconds)
/// ```
///
/// - Important: Not thread-safe: the call's owner task drives it. After `start`, a media frame in or out
///   allocates nothing (queue growth aside).
public final class MediaStreamSession {
    /// Settings.
    public struct Configuration: Sendable {
        /// The caller's side: jitter buffer, VAD, endpointer, output rate.
        public var inbound: InboundChain.Configuration
        /// Limits on what Twilio sends.
        public var reader: MediaStreamReader.Configuration
        /// The most audio sent to Twilio beyond what its mark echoes say has played (default 200 ms, a
        /// multiple of 20 ms; at least 20 ms), or `nil` to send all audio at once. It must exceed the round
        /// trip to Twilio, or playback starves between echoes.
        public var maximumLead: Duration?
        /// Resampler quality for agent audio.
        public var outboundQuality: Resampler.Quality

        /// Creates settings.
        public init(
            inbound: InboundChain.Configuration = .init(), reader: MediaStreamReader.Configuration = .init(),
            maximumLead: Duration? = .milliseconds(200), outboundQuality: Resampler.Quality = .telephony
        ) {
            self.inbound = inbound
            self.reader = reader
            self.maximumLead = maximumLead
            self.outboundQuality = outboundQuality
        }
    }

    /// Identifies one stretch of agent audio (a reply).
    public struct UtteranceID: Hashable, Sendable, CustomStringConvertible {
        /// The number, counting from 1 per session.
        public let rawValue: Int
        /// `u<number>`.
        public var description: String { "u\(rawValue)" }
    }

    /// How much of an utterance the caller has heard.
    public struct Playback: Sendable, Hashable {
        /// The utterance.
        public var utterance: UtteranceID
        /// 20 ms frames played to the caller.
        public var playedFrames: Int
        /// 20 ms frames queued for it so far.
        public var totalFrames: Int
        /// Every frame played and the utterance ended.
        public var isFinished: Bool
        /// Cut short by ``clear(at:)``.
        public var wasCleared: Bool

        /// The audio played, in milliseconds.
        public var playedMilliseconds: Int { playedFrames * 20 }

        /// Creates a report.
        public init(utterance: UtteranceID, playedFrames: Int, totalFrames: Int, isFinished: Bool, wasCleared: Bool) {
            self.utterance = utterance
            self.playedFrames = playedFrames
            self.totalFrames = totalFrames
            self.isFinished = isFinished
            self.wasCleared = wasCleared
        }
    }

    /// What a received frame meant.
    public enum Event {
        /// `connected`.
        case connected
        /// `start`: the stream is open; ids and custom parameters are in ``stream``.
        case started(TwilioMessage.Start)
        /// Media: this many 20 ms frames went to the ``inbound`` chain.
        case audio(frames: Int)
        /// The caller pressed a key.
        case dtmf(String)
        /// The echo of a mark the session did not send.
        case mark(String)
        /// A frame of an utterance finished playing.
        case played(Playback)
        /// After ``clear(at:)``: what the cut utterances played, final.
        case cleared([Playback])
        /// `stop`: the stream ended; nothing more is sent.
        case stopped(TwilioMessage.Stop)
        /// An event this version does not know.
        case unknown(String)
    }

    /// Where the stream is.
    public typealias State = MediaStreamReader.State

    /// The settings in use.
    public let configuration: Configuration
    /// The caller's audio chain: tick it every 20 ms once the stream has started.
    public let inbound: InboundChain
    /// The `start` message, once it has arrived.
    public private(set) var stream: TwilioMessage.Start?
    /// Where the stream is.
    public var state: State { reader.state }
    /// The custom parameters of the TwiML `<Stream>`.
    public var customParameters: [String: String] { stream?.start.customParameters ?? [:] }
    /// Frames waiting to be sent.
    public var queuedFrames: Int { queueOwners.count - queueHead }
    /// Frames sent and not yet echoed: what Twilio holds.
    public var framesAtTwilio: Int { sentFrames - echoedFrames }

    private let reader: MediaStreamReader
    private var writer: MediaStreamWriter?
    private let maximumLeadFrames: Int?

    // Inbound framing.
    private var partial: [UInt8] = []
    private var inboundSequence = 0
    private var lastChunk: Int?
    private var lastFramesPerChunk = 1

    // Outbound: conversion, queue and bookkeeping. Frames are numbered 1, 2, … in sending order.
    private var chains: [Int: OutboundChain] = [:]
    private var currentChain: OutboundChain?
    private var queue: [UInt8] = []
    private var queueOwners: [Int] = []  // utterance number per queued frame
    private var queueHead = 0
    private var sentFrames = 0
    private var echoedFrames = 0
    private var playedFrames = 0
    private var markPending: Int?
    private var clearPending = false
    private var utterances: [Record] = []
    private var openUtterance: Int?
    private var nextUtterance = 1
    private var clearing: Clearing?
    private var lastEchoTime = -Double.infinity

    private struct Record {
        var id: Int
        var firstFrame: Int?  // global number of its first sent frame
        var queued = 0
        var played = 0
        var ended = false
    }

    private struct Clearing {
        var sentUpTo: Int
        var playedBefore: Int
        var burstStart: Int
        /// How long after the echo before it the burst's first echo came (ms; 0 when unknown).
        var burstStartGap: Double
        var cut: [Record]
    }

    /// Echoes closer together than this (in ms) belong to one burst: Twilio flushing marks on `clear`.
    static let burstGap = 5.0
    /// The gaps (ms) before a burst's first echo that say its frame was playing, at Twilio's pace, for at least
    /// half its length when the `clear` came (the gap also holds Twilio's turnaround from the clear to the
    /// flushed echoes, about a millisecond): the frame counts as heard. A longer gap means playback had paused
    /// (a new reply), and the frame's start is unknown.
    static let pacedGaps = 11.0...60.0
    /// The prefix of the session's own mark names (`vp:<frame>`); other marks pass through.
    static let markPrefix: StaticString = "vp:"

    /// Creates a session.
    ///
    /// - Throws: What ``InboundChain`` throws for its settings.
    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        inbound = try InboundChain(configuration: configuration.inbound)
        reader = MediaStreamReader(configuration: configuration.reader)
        maximumLeadFrames = configuration.maximumLead.map { Swift.max(1, Int($0.inMilliseconds) / 20) }
        partial.reserveCapacity(OutboundChain.frameBytes)
        queue.reserveCapacity(OutboundChain.frameBytes * 50)
        queueOwners.reserveCapacity(50)
    }

    // MARK: - Receiving

    /// Reads one text frame from Twilio.
    ///
    /// - Parameters:
    ///   - frame: The frame's bytes.
    ///   - time: Now, in milliseconds on the clock used for ``InboundChain/tick(at:)``.
    /// - Returns: What it meant, or `nil` when there is nothing to report (an echo of a frame already
    ///   accounted for, media of the outbound track).
    /// - Throws: ``TwilioProtocolError``; the session stays usable, and the caller decides whether to
    ///   close the socket.
    public func receive(_ frame: UnsafeRawBufferPointer, at time: Double) throws(TwilioProtocolError) -> Event? {
        switch try reader.read(frame) {
        case .connected:
            return .connected
        case .start(let start):
            stream = start
            writer = MediaStreamWriter(streamSid: start.streamSid)
            return .started(start)
        case .media(let media):
            guard media.track == .inbound else { return nil }
            return .audio(frames: receiveAudio(media, at: time))
        case .dtmf(let digit, _):
            return .dtmf(digit)
        case .mark(let name, _):
            guard let frame = Self.frameNumber(name) else { return .mark(name) }
            return echo(frame, at: time)
        case .stop(let stop):
            queue.removeAll(keepingCapacity: true)
            queueOwners.removeAll(keepingCapacity: true)
            queueHead = 0
            return .stopped(stop)
        case .unknown(let event):
            return .unknown(event)
        }
    }

    /// Reads one text frame from Twilio.
    public func receive(_ frame: [UInt8], at time: Double) throws(TwilioProtocolError) -> Event? {
        try withBytes(frame) { (bytes) throws(TwilioProtocolError) in try receive(bytes, at: time) }
    }

    private func receiveAudio(_ media: MediaStreamReader.Media, at time: Double) -> Int {
        let frameBytes = OutboundChain.frameBytes
        if let lastChunk {
            guard media.chunk > lastChunk else { return 0 }  // a repeat: TCP does not reorder
            // Missing media messages leave a gap the jitter buffer conceals.
            if media.chunk > lastChunk + 1 { inboundSequence += (media.chunk - lastChunk - 1) * lastFramesPerChunk }
        }
        lastChunk = media.chunk
        lastFramesPerChunk = Swift.max(1, media.payload.count / frameBytes)
        var frames = 0
        var offset = 0
        let payload = media.payload
        if partial.isEmpty {  // the usual case: whole 160-byte frames, handed on in place
            while payload.count - offset >= frameBytes {
                inbound.receive(
                    sequence: inboundSequence, payload: UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + frameBytes)]),
                    arrival: time)
                inboundSequence += 1
                frames += 1
                offset += frameBytes
            }
        }
        while offset < payload.count {
            let take = Swift.min(frameBytes - partial.count, payload.count - offset)
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: payload[offset..<(offset + take)]))
            offset += take
            if partial.count == frameBytes {
                partial.withUnsafeBytes { _ = inbound.receive(sequence: inboundSequence, payload: $0, arrival: time) }
                partial.removeAll(keepingCapacity: true)
                inboundSequence += 1
                frames += 1
            }
        }
        return frames
    }

    /// The frame number in one of the session's own mark names.
    static func frameNumber(_ name: String) -> Int? {
        var utf8 = name.utf8[...]
        let prefix = UnsafeBufferPointer(start: markPrefix.utf8Start, count: markPrefix.utf8CodeUnitCount)
        guard utf8.starts(with: prefix) else { return nil }
        utf8 = utf8.dropFirst(prefix.count)
        guard (1...18).contains(utf8.count) else { return nil }
        var value = 0
        for byte in utf8 {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }

    private func echo(_ frame: Int, at time: Double) -> Event? {
        guard frame > echoedFrames, frame <= sentFrames else { return nil }
        echoedFrames = frame
        defer { lastEchoTime = time }
        if var clearing {
            if time - lastEchoTime > Self.burstGap {
                clearing.burstStart = frame
                clearing.burstStartGap = time - lastEchoTime
            }
            self.clearing = clearing
            guard frame >= clearing.sentUpTo else { return nil }
            return .cleared(resolveClear())
        }
        playedFrames = frame
        guard
            let index = utterances.firstIndex(where: { record in
                record.firstFrame.map { $0 <= frame && frame < $0 + record.queued } ?? false
            })
        else {
            return nil
        }
        utterances[index].played = frame - utterances[index].firstFrame! + 1
        let playback = Self.playback(utterances[index], cleared: false)
        if playback.isFinished { utterances.remove(at: index) }
        return .played(playback)
    }

    private static func playback(_ record: Record, cleared: Bool) -> Playback {
        Playback(
            utterance: UtteranceID(rawValue: record.id), playedFrames: record.played, totalFrames: record.queued,
            isFinished: !cleared && record.ended && record.played == record.queued, wasCleared: cleared)
    }

    // MARK: - Sending

    /// Starts a new utterance (ending any open one) and returns its id.
    @discardableResult
    public func beginUtterance() -> UtteranceID {
        endUtterance()
        let id = nextUtterance
        nextUtterance += 1
        utterances.append(Record(id: id))
        openUtterance = id
        return UtteranceID(rawValue: id)
    }

    /// Queues agent audio for the open utterance (beginning one if none is open).
    ///
    /// - Parameters:
    ///   - samples: Float32 samples at `sampleRate`, nominally −1...1.
    ///   - sampleRate: Any rate the resampler supports; a new rate gets its own converter (allocated once).
    /// - Returns: The utterance the audio belongs to.
    /// - Throws: ``ResamplerError`` for an unsupported rate.
    @discardableResult
    public func play(_ samples: UnsafeBufferPointer<Float>, sampleRate: Int) throws(ResamplerError) -> UtteranceID {
        let id = openUtterance.map { UtteranceID(rawValue: $0) } ?? beginUtterance()
        if currentChain?.inputRate != sampleRate {
            currentChain?.flush(enqueue)
            if chains[sampleRate] == nil {
                chains[sampleRate] = try OutboundChain(inputRate: sampleRate, quality: configuration.outboundQuality)
            }
            currentChain = chains[sampleRate]
        }
        currentChain!.push(samples, enqueue)
        return id
    }

    /// Queues agent audio for the open utterance.
    @discardableResult
    public func play(_ samples: [Float], sampleRate: Int) throws(ResamplerError) -> UtteranceID {
        func run(_ buffer: UnsafeBufferPointer<Float>) -> Result<UtteranceID, ResamplerError> {
            do { return .success(try play(buffer, sampleRate: sampleRate)) } catch { return .failure(error) }
        }
        return try samples.withUnsafeBufferPointer(run).get()
    }

    /// Ends the open utterance: its last partial frame is padded with silence and queued.
    public func endUtterance() {
        guard let open = openUtterance else { return }
        currentChain?.flush(enqueue)
        openUtterance = nil
        if let index = utterances.firstIndex(where: { $0.id == open }) {
            utterances[index].ended = true
            if utterances[index].queued == 0 { utterances.remove(at: index) }
        }
    }

    private func enqueue(_ frame: UnsafeBufferPointer<UInt8>) {
        guard let open = openUtterance, state != .stopped else { return }
        if queueHead > 0, queueHead * 2 >= queueOwners.count {  // compact the consumed front
            queue.removeFirst(queueHead * OutboundChain.frameBytes)
            queueOwners.removeFirst(queueHead)
            queueHead = 0
        }
        queue.append(contentsOf: frame)
        queueOwners.append(open)
        if let index = utterances.lastIndex(where: { $0.id == open }) { utterances[index].queued += 1 }
    }

    /// Stops the agent's audio now: drops what is queued, sends `clear`, and ends the open utterance.
    ///
    /// - Parameter time: Now, in milliseconds (the clock of ``receive(_:at:)``).
    /// - Returns: What the cut utterances played, if that is already final (nothing was at Twilio);
    ///   otherwise `nil`, and ``Event/cleared(_:)`` follows once Twilio has echoed the flushed marks.
    @discardableResult
    public func clear(at time: Double) -> [Playback]? {
        currentChain?.reset()
        openUtterance = nil
        queue.removeAll(keepingCapacity: true)
        queueOwners.removeAll(keepingCapacity: true)
        queueHead = 0
        markPending = nil
        for index in utterances.indices { utterances[index].ended = true }
        guard writer != nil, state == .streaming else { return resolveCut(utterances, played: playedFrames) }
        clearPending = true
        // A clear before the last one resolved takes over its utterances and burst.
        let cut = (clearing?.cut ?? []) + utterances
        guard sentFrames > echoedFrames else {
            clearing = nil
            return resolveCut(cut, played: Swift.max(playedFrames, echoedFrames))
        }
        clearing = Clearing(
            sentUpTo: sentFrames, playedBefore: clearing?.playedBefore ?? playedFrames,
            burstStart: clearing?.burstStart ?? echoedFrames + 1, burstStartGap: clearing?.burstStartGap ?? 0, cut: cut)
        utterances.removeAll()
        return nil
    }

    private func resolveClear() -> [Playback] {
        guard let clearing else { return [] }
        self.clearing = nil
        // Echoes before the final burst were paced by playback: those frames were heard. The burst's first echo
        // may be the last paced one (sent just before the clear reached Twilio) or the first flushed: the gap
        // before it says how long its frame had been playing, so it counts when that was at least half of it.
        // Either way the figure is within half a frame (10 ms) of what the caller heard, network jitter aside.
        let heardFirst = Self.pacedGaps.contains(clearing.burstStartGap)
        playedFrames = Swift.max(clearing.playedBefore, clearing.burstStart - (heardFirst ? 0 : 1))
        return resolveCut(clearing.cut, played: playedFrames)
    }

    private func resolveCut(_ cut: [Record], played: Int) -> [Playback] {
        utterances.removeAll { record in cut.contains { $0.id == record.id } }
        return cut.map { record in
            var record = record
            record.played = record.firstFrame.map { Swift.min(record.queued, Swift.max(0, played - $0 + 1)) } ?? 0
            return Self.playback(record, cleared: true)
        }
    }

    /// Writes the next message that may be sent now, if any: `clear`, a media frame, its mark.
    ///
    /// Call after every ``receive(_:at:)``, ``play(_:sampleRate:)`` and ``clear(at:)`` until it returns
    /// `false`.
    ///
    /// - Parameter output: The message is appended (clear it between messages; keep its capacity).
    /// - Returns: Whether a message was written.
    public func nextMessage(into output: inout [UInt8]) -> Bool {
        guard let writer, state == .streaming else { return false }
        if clearPending {
            writer.clear(into: &output)
            clearPending = false
            return true
        }
        if let frame = markPending {
            writer.mark(prefix: Self.markPrefix, number: frame, into: &output)
            markPending = nil
            return true
        }
        if queueHead < queueOwners.count, maximumLeadFrames.map({ sentFrames - echoedFrames < $0 }) ?? true {
            let start = queueHead * OutboundChain.frameBytes
            queue.withUnsafeBytes {
                writer.media(UnsafeRawBufferPointer(rebasing: $0[start..<(start + OutboundChain.frameBytes)]), into: &output)
            }
            let owner = queueOwners[queueHead]
            queueHead += 1
            sentFrames += 1
            markPending = sentFrames
            if let index = utterances.firstIndex(where: { $0.id == owner }), utterances[index].firstFrame == nil {
                utterances[index].firstFrame = sentFrames
            }
            return true
        }
        return false
    }
}

@available(*, unavailable)
extension MediaStreamSession: Sendable {}
