//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Testing
import VoiceDSP
import VoicePipeTestSupport

/// Files written by an independent tool (SoX 14.4.2, TestVectors/wav/make_fixtures.sh) read by ``WAVFile``
/// and compared with SoX's own 16-bit PCM rendering of the same audio.
@Suite("WAVFile reads files written by SoX")
struct WAVFileSoxFixtureTests {
    static func read(_ name: String, channels: WAVFile.ChannelPolicy = .requireMono) throws -> WAVFile {
        try WAVFile(path: TestVectors.path("wav/\(name)"), channels: channels)
    }

    @Test(
        "each encoding decodes to exactly SoX's 16-bit rendering",
        arguments: [
            ("tone_pcm16.wav", AudioEncoding.pcm16, "tone_pcm16.wav"),
            ("tone_float32.wav", .float32, "tone_pcm16.wav"),
            ("tone_mulaw.wav", .muLaw, "tone_mulaw_decoded_pcm16.wav"),
            ("tone_alaw.wav", .aLaw, "tone_alaw_decoded_pcm16.wav"),
        ])
    func decodesExactly(name: String, encoding: AudioEncoding, reference: String) throws {
        let file = try Self.read(name)
        let expected = try Self.read(reference)
        #expect(file.encoding == encoding)
        #expect(file.clip.sampleRate == 8000)
        #expect(file.clip.samples.count == 2000)
        #expect(file.clip.samples == expected.clip.samples)
    }

    @Test(
        "multi-channel files (stereo, and 3-channel WAVE_FORMAT_EXTENSIBLE) downmix to SoX's average within half an LSB",
        arguments: [
            ("stereo_pcm16.wav", 2, "stereo_mixdown_pcm16.wav"),
            ("three_channel_pcm16_extensible.wav", 3, "three_channel_mixdown_pcm16.wav"),
        ])
    func downmix(name: String, channels: Int, reference: String) throws {
        #expect(throws: WAVError.unsupportedChannelCount(channels)) { try Self.read(name) }
        let file = try Self.read(name, channels: .downmix)
        let expected = try Self.read(reference).clip.samples
        #expect(file.channelCount == channels)
        #expect(file.clip.samples.count == expected.count)
        // SoX rounds the exact average to 16 bits; VoicePipe keeps it as Float: they differ by at most 1/2 LSB.
        let worst = zip(file.clip.samples, expected).map { abs($0 - $1) * 32768 }.max() ?? 0
        #expect(worst <= 0.5)
    }

    @Test("24-bit PCM in WAVE_FORMAT_EXTENSIBLE is refused by name")
    func rejects24Bit() {
        #expect(throws: WAVError.unsupportedEncoding("24-bit PCM")) { try Self.read("tone_pcm24_extensible.wav") }
    }
}
