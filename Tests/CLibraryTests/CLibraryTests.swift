//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import COpus
import CSampleRate
import Foundation
import Testing

@Suite("System libraries link and run")
struct CLibraryTests {
    @Test("libsamplerate reports its version and converts 8 kHz to 16 kHz")
    func libsamplerate() throws {
        let version = String(cString: src_get_version())
        #expect(version.contains("libsamplerate"), "\(version)")

        let input = (0..<160).map { Float(sin(2 * Double.pi * 440 * Double($0) / 8000)) }
        var output = [Float](repeating: 0, count: 400)
        var data = SRC_DATA()
        let status = input.withUnsafeBufferPointer { inp in
            output.withUnsafeMutableBufferPointer { out in
                data.data_in = inp.baseAddress
                data.data_out = out.baseAddress
                data.input_frames = 160
                data.output_frames = 400
                data.src_ratio = 2
                return src_simple(&data, Int32(SRC_SINC_FASTEST), 1)
            }
        }
        #expect(status == 0, "\(String(cString: src_strerror(status)))")
        #expect(data.input_frames_used == 160)
        #expect(data.output_frames_gen > 250)
    }

    @Test("libopus reports its version and encodes a 20 ms frame")
    func libopus() throws {
        let version = String(cString: opus_get_version_string())
        #expect(version.hasPrefix("libopus"), "\(version)")

        var error: Int32 = 0
        let encoder = try #require(opus_encoder_create(16_000, 1, OPUS_APPLICATION_VOIP, &error))
        defer { opus_encoder_destroy(encoder) }
        #expect(error == OPUS_OK)
        let pcm = (0..<320).map { Int16(8000 * sin(2 * Double.pi * 300 * Double($0) / 16000)) }
        var packet = [UInt8](repeating: 0, count: 4000)
        let bytes = opus_encode(encoder, pcm, 320, &packet, 4000)
        #expect(bytes > 0, "opus_encode returned \(bytes)")
    }
}
