//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// libFuzzer entry point for the hosted providers' parsers. Compiled with the VoiceProviders sources they need
// (SSE, JSONValue, ProviderError, the Realtime, Chat Completions and Deepgram decoders) by Fuzz/fuzz.sh; not
// part of the package. The SSE parser must give the same events however the stream is cut into reads, and
// keep to its size limit; every decoder must give a value or a ProviderError, never a trap or a memory error;
// and a JSONValue rendered to text must parse back to itself.

/// The events, and whether the limit was hit, of `bytes` fed to a fresh parser in pieces ending at `cuts`.
func serverSentEvents(_ bytes: UnsafeRawBufferPointer, cuts: [Int], limit: Int) -> (events: [ServerSentEvent], tooLarge: Bool) {
    var parser = ServerSentEventParser(maximumEventBytes: limit)
    var events: [ServerSentEvent] = []
    var start = 0
    do {
        for end in cuts + [bytes.count] where end >= start {
            try parser.append(bytes[start..<end]) { events.append($0) }
            start = end
        }
    } catch let error as ServerSentEventParser.EventTooLarge {
        precondition(error.limit == limit)
        return (events, true)
    } catch {
        preconditionFailure("the SSE parser threw \(error)")
    }
    return (events, false)
}

/// The events of a Chat Completions stream, decoded as OpenAIChatModel does, until `[DONE]` or an error.
func decodeChatStream(_ events: [ServerSentEvent]) {
    var state = ChatStreamState()
    var yielded = ""
    do {
        for event in events where !state.done {
            try state.consume(event.data) { yielded += $0 }
        }
    } catch {
        precondition(error is ProviderError, "the chat decoder threw \(error)")
    }
    precondition(yielded == state.text)
    precondition(state.producedOutput || (state.text.isEmpty && state.calls.isEmpty))
    for call in state.toolCalls where !call.arguments.allSatisfy(\.isWhitespace) {
        _ = try? JSONValue.parse(call.arguments)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzProviderParsers(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let text = String(decoding: bytes, as: UTF8.self)

    // SSE: whole, at a few cut points taken from the input, and a byte at a time, with the default limit and
    // with a small one.
    var cuts: [Int] = []
    if size > 0 {
        for k in 0..<3 { cuts.append((Int(bytes[(k * 7) % size]) &* 31 &+ k &* size / 3) % (size + 1)) }
        cuts.sort()
    }
    for limit in [8 << 20, 64] {
        let whole = serverSentEvents(bytes, cuts: [], limit: limit)
        precondition(serverSentEvents(bytes, cuts: cuts, limit: limit) == whole, "cutting the stream changed its events")
        precondition(serverSentEvents(bytes, cuts: Array(0..<size), limit: limit) == whole, "byte-at-a-time reads changed its events")
        for event in whole.events {
            // Each scalar comes from at least one byte of a line shorter than the limit.
            precondition(event.data.unicodeScalars.count <= limit && event.event.unicodeScalars.count < limit)
            precondition((event.id?.unicodeScalars.count ?? 0) < limit && (event.retry ?? 0) >= 0)
        }
        if limit > size { decodeChatStream(whole.events) }  // as OpenAIChatModel reads a response
    }

    // A single chunk's payload, as if it were one `data:` line.
    decodeChatStream([ServerSentEvent(data: text)])

    // A Realtime server event.
    do {
        let event = try RealtimeServerEvent.parse(text)
        if event.type == "response.output_audio.delta" { precondition(event.audio != nil && event.itemID != nil) }
    } catch {
        _ = error.description
    }

    // A Deepgram message.
    do {
        if case .results(let segment, _, _, _) = try DeepgramMessage.parse(text) {
            _ = segment.words.map(\.text).joined(separator: " ")
        }
    } catch {
        _ = error.description
    }

    // JSONValue: what parses renders to text that parses back to the same value.
    if let value = try? JSONValue.parse(bytes: bytes) {
        let rendered = value.json
        let again: JSONValue
        do { again = try JSONValue.parse(rendered) } catch { preconditionFailure("\(value) rendered as invalid JSON: \(error)") }
        precondition(again == value, "\(rendered) parsed back as \(again)")
    }
    return 0
}
