//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import VoiceDSP

/// Real speech for the recogniser's tests: Allison Smith's Asterisk prompts (Debian's
/// `asterisk-core-sounds-en-wav`, 8 kHz 16-bit WAV), put through the phone path as a call delivers them.
enum TelephonePrompt {
    /// Where Debian installs the English prompts.
    static let directory = "/usr/share/asterisk/sounds/en"

    /// The prompt `name` (e.g. `"goodbye"`, `"digits/5"`) as the recogniser hears it on a call: G.711 µ-law
    /// encoded and decoded, then upsampled to 16 kHz with VoiceDSP's `Resampler`.
    static func audio(_ name: String) throws -> [Float] {
        let clip = try WAVFile(path: "\(directory)/\(name).wav").clip
        precondition(clip.sampleRate == 8000, "\(name): expected an 8 kHz prompt")
        let pcm = clip.pcm16
        var codes = [UInt8](repeating: 0, count: pcm.count)
        var decoded = [Int16](repeating: 0, count: pcm.count)
        pcm.withUnsafeBufferPointer { input in codes.withUnsafeMutableBufferPointer { MuLaw.encode(input, into: $0) } }
        codes.withUnsafeBufferPointer { input in decoded.withUnsafeMutableBufferPointer { MuLaw.decode(input, into: $0) } }
        return try Resampler(inputRate: 8000, outputRate: 16000).resample(decoded.map { Float($0) / 32768 })
    }
}
