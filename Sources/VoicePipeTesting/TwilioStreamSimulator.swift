//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import TwilioMediaStreams

/// Twilio's side of one bidirectional Media Stream, for tests, the caller simulator and load tests: it
/// writes Twilio's messages byte for byte as Twilio does, reads the app's messages as strictly as Twilio
/// does, and models Twilio's playback.
///
/// Playback model (from Twilio's documentation): audio the app sends is buffered and played in order at
/// 8,000 bytes per second; a `mark` is echoed once the audio sent before it has played, at once if none
/// is buffered; `clear` drops the buffer and echoes every pending mark. Time is the caller's: nothing
/// happens between calls to ``advance(to:played:)``.
///
/// - Important: Not thread-safe: one simulator per simulated call.
public final class TwilioStreamSimulator {
    /// The ids and parameters of the simulated call.
    public struct Configuration: Sendable {
        /// `AC…`.
        public var accountSid: String
        /// `CA…`.
        public var callSid: String
        /// `MZ…`.
        public var streamSid: String
        /// The `<Parameter>`s, in order.
        public var customParameters: [(name: String, value: String)]

        /// Creates a configuration.
        public init(
            accountSid: String = "AC00000000000000000000000000000000", callSid: String = "CA00000000000000000000000000000000",
            streamSid: String = "MZ00000000000000000000000000000000", customParameters: [(name: String, value: String)] = []
        ) {
            self.accountSid = accountSid
            self.callSid = callSid
            self.streamSid = streamSid
            self.customParameters = customParameters
        }
    }

    /// The simulated call.
    public let configuration: Configuration
    /// Bytes of agent audio played so far (8 per millisecond).
    public private(set) var playedBytes = 0
    /// Bytes of agent audio waiting to play.
    public var bufferedBytes: Int { buffer.count - bufferHead }
    /// Marks echoed because of a `clear`, in total.
    public private(set) var marksFlushed = 0
    /// `clear` messages received.
    public private(set) var clears = 0

    private let reader = MediaStreamReader(configuration: .init(maximumPayloadBytes: 1 << 20))
    private var sequenceNumber = 0
    private var chunk = 0
    private var clock: Double?
    private var buffer: [UInt8] = []
    private var bufferHead = 0
    private var enqueuedBytes = 0
    private var pendingMarks: [(name: String, offset: Int)] = []
    private var echoes: [String] = []

    /// Creates the Twilio side of a call.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        reader.expect(streamSid: configuration.streamSid)
    }

    // MARK: - Twilio's messages

    /// `connected`: the first message.
    public func connected(into output: inout [UInt8]) {
        output.append(contentsOf: #"{"event":"connected","protocol":"Call","version":"1.0.0"}"#.utf8)
    }

    /// `start`, with the ids, `["inbound"]`, µ-law 8 kHz mono and the custom parameters.
    public func start(into output: inout [UInt8]) {
        sequenceNumber += 1
        output.append(contentsOf: #"{"event":"start","sequenceNumber":""#.utf8)
        MediaStreamWriter.appendDecimal(sequenceNumber, to: &output)
        output.append(contentsOf: #"","start":{"accountSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.accountSid, to: &output)
        output.append(contentsOf: #"","streamSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.streamSid, to: &output)
        output.append(contentsOf: #"","callSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.callSid, to: &output)
        output.append(
            contentsOf:
                #"","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"#
                .utf8)
        for (index, parameter) in configuration.customParameters.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            output.append(UInt8(ascii: "\""))
            MediaStreamWriter.appendEscaped(parameter.name, to: &output)
            output.append(contentsOf: #"":""#.utf8)
            MediaStreamWriter.appendEscaped(parameter.value, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        output.append(contentsOf: "}}".utf8)
        streamSidSuffix(into: &output)
    }

    /// `media` on the inbound track: the caller's µ-law audio, stamped `timestamp` ms into the stream.
    public func media(_ mulaw: UnsafeRawBufferPointer, timestamp: Int, into output: inout [UInt8]) {
        sequenceNumber += 1
        chunk += 1
        output.append(contentsOf: #"{"event":"media","sequenceNumber":""#.utf8)
        MediaStreamWriter.appendDecimal(sequenceNumber, to: &output)
        output.append(contentsOf: #"","media":{"track":"inbound","chunk":""#.utf8)
        MediaStreamWriter.appendDecimal(chunk, to: &output)
        output.append(contentsOf: #"","timestamp":""#.utf8)
        MediaStreamWriter.appendDecimal(timestamp, to: &output)
        output.append(contentsOf: #"","payload":""#.utf8)
        MediaStreamWriter.appendBase64(mulaw, to: &output)
        output.append(contentsOf: #""}"#.utf8)
        streamSidSuffix(into: &output)
    }

    /// `dtmf`: the caller pressed `digit`.
    public func dtmf(_ digit: String, into output: inout [UInt8]) {
        sequenceNumber += 1
        output.append(contentsOf: #"{"event":"dtmf","streamSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.streamSid, to: &output)
        output.append(contentsOf: #"","sequenceNumber":""#.utf8)
        MediaStreamWriter.appendDecimal(sequenceNumber, to: &output)
        output.append(contentsOf: #"","dtmf":{"track":"inbound_track","digit":""#.utf8)
        MediaStreamWriter.appendEscaped(digit, to: &output)
        output.append(contentsOf: #""}}"#.utf8)
    }

    /// `stop`: the call ended.
    public func stop(into output: inout [UInt8]) {
        sequenceNumber += 1
        output.append(contentsOf: #"{"event":"stop","sequenceNumber":""#.utf8)
        MediaStreamWriter.appendDecimal(sequenceNumber, to: &output)
        output.append(contentsOf: #"","stop":{"accountSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.accountSid, to: &output)
        output.append(contentsOf: #"","callSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.callSid, to: &output)
        output.append(contentsOf: #""}"#.utf8)
        streamSidSuffix(into: &output)
    }

    /// Writes the next mark echo that is due, if any (after ``receive(_:at:)`` or ``advance(to:played:)``).
    public func nextEcho(into output: inout [UInt8]) -> Bool {
        guard !echoes.isEmpty else { return false }
        sequenceNumber += 1
        output.append(contentsOf: #"{"event":"mark","sequenceNumber":""#.utf8)
        MediaStreamWriter.appendDecimal(sequenceNumber, to: &output)
        output.append(contentsOf: #"","streamSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.streamSid, to: &output)
        output.append(contentsOf: #"","mark":{"name":""#.utf8)
        MediaStreamWriter.appendEscaped(echoes.removeFirst(), to: &output)
        output.append(contentsOf: #""}}"#.utf8)
        return true
    }

    private func streamSidSuffix(into output: inout [UInt8]) {
        output.append(contentsOf: #","streamSid":""#.utf8)
        MediaStreamWriter.appendEscaped(configuration.streamSid, to: &output)
        output.append(contentsOf: #""}"#.utf8)
    }

    // MARK: - The app's messages and playback

    /// Reads a message from the app, strictly (exact fields, this stream's id).
    ///
    /// - Parameter time: Now, in milliseconds; playback first catches up to it.
    /// - Throws: ``TwilioProtocolError``, as Twilio would warn with 31951.
    public func receive(_ frame: UnsafeRawBufferPointer, at time: Double) throws(TwilioProtocolError) {
        advance(to: time, played: { _ in })
        switch try reader.readAppMessage(frame) {
        case .media(let payload):
            if bufferHead > 4096, bufferHead * 2 > buffer.count {
                buffer.removeFirst(bufferHead)
                bufferHead = 0
            }
            buffer.append(contentsOf: payload)
            enqueuedBytes += payload.count
        case .mark(let name):
            if bufferedBytes == 0 { echoes.append(name) } else { pendingMarks.append((name, enqueuedBytes)) }
        case .clear:
            clears += 1
            marksFlushed += pendingMarks.count
            echoes.append(contentsOf: pendingMarks.map(\.name))
            pendingMarks.removeAll()
            enqueuedBytes -= bufferedBytes
            buffer.removeAll(keepingCapacity: true)
            bufferHead = 0
        }
    }

    /// Reads a message from the app.
    public func receive(_ frame: [UInt8], at time: Double) throws(TwilioProtocolError) {
        try withBytes(frame) { (bytes) throws(TwilioProtocolError) in try receive(bytes, at: time) }
    }

    /// Plays buffered audio up to `time` (milliseconds) and queues the echoes that fall due.
    ///
    /// - Parameter played: Called with each stretch of agent audio played (µ-law bytes, in order).
    public func advance(to time: Double, played: (UnsafeRawBufferPointer) -> Void) {
        guard let last = clock else {
            clock = time
            return
        }
        guard time > last else { return }
        let budget = Int(time * 8) - Int(last * 8)  // bytes at 8 per ms, without drift
        clock = time
        let count = Swift.min(budget, bufferedBytes)
        if count > 0 {
            buffer.withUnsafeBytes { played(UnsafeRawBufferPointer(rebasing: $0[bufferHead..<(bufferHead + count)])) }
            bufferHead += count
            playedBytes += count
        }
        let playedOffset = enqueuedBytes - bufferedBytes
        while let mark = pendingMarks.first, mark.offset <= playedOffset {
            echoes.append(mark.name)
            pendingMarks.removeFirst()
        }
    }
}

@available(*, unavailable)
extension TwilioStreamSimulator: Sendable {}
