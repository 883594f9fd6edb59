//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// libFuzzer entry point for the Media Streams reader. Compiled with the reader's sources by Fuzz/fuzz.sh;
// not part of the package. Any frame must give an event or a TwilioProtocolError, never a trap or a memory
// error; and whatever the scanner accepts as JSON, Foundation's parser must accept too.

import Foundation

let start = Array(
    #"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{}},"streamSid":"MZ1"}"#
        .utf8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMediaStreamReader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    // Before start, and while streaming (where media payloads are decoded).
    let fresh = MediaStreamReader(configuration: .init(maximumPayloadBytes: 512))
    let streaming = MediaStreamReader(configuration: .init(maximumPayloadBytes: 512))
    _ = try! streaming.read(start)
    var jsonError = false
    for reader in [fresh, streaming] {
        do {
            if case .media(let media) = try reader.read(frame) { precondition(media.payload.count <= 512) }
        } catch {
            if error.code == .invalidJSON { jsonError = true }
            _ = error.description
        }
    }
    do {
        _ = try streaming.readAppMessage(frame)
    } catch {
        _ = error.description
    }
    // Differential check: a frame the scanner took for JSON is JSON (valid UTF-8 only: a WebSocket text
    // frame is always UTF-8, and the scanner does not re-check bytes it skips).
    // Foundation also refuses numbers a Double cannot hold ("1e31211"), which JSON's grammar allows.
    if !jsonError, String(validating: frame, as: UTF8.self) != nil {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(frame), options: [.fragmentsAllowed])
        } catch {
            precondition("\(error)".contains("not representable"), "the scanner accepted invalid JSON: \(error)")
        }
    }
    return 0
}
