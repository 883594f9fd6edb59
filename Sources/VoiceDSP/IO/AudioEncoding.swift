//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// The sample encodings VoicePipe reads and writes in WAV files.
public enum AudioEncoding: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Linear PCM, 16-bit signed little-endian (WAVE format tag 1).
    case pcm16
    /// IEEE 754 32-bit float, nominal range -1...1 (WAVE format tag 3).
    case float32
    /// G.711 µ-law, 8 bits per sample (WAVE format tag 7).
    case muLaw = "mulaw"
    /// G.711 A-law, 8 bits per sample (WAVE format tag 6).
    case aLaw = "alaw"

    /// Bytes per sample of one channel.
    public var bytesPerSample: Int {
        switch self {
        case .pcm16: 2
        case .float32: 4
        case .muLaw, .aLaw: 1
        }
    }

    /// The WAVE format tag (`wFormatTag`) of this encoding.
    public var formatTag: UInt16 {
        switch self {
        case .pcm16: 1
        case .float32: 3
        case .muLaw: 7
        case .aLaw: 6
        }
    }

    /// A short human-readable name, e.g. `"16-bit PCM"`.
    public var description: String {
        switch self {
        case .pcm16: "16-bit PCM"
        case .float32: "32-bit float"
        case .muLaw: "G.711 mu-law"
        case .aLaw: "G.711 A-law"
        }
    }
}
