//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import CSampleRate

/// Why a ``Resampler`` could not be created.
public enum ResamplerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A sample rate outside 1...768,000 Hz.
    case invalidSampleRate(Int)
    /// The native engine was asked for a ratio it does not support (reduced `up/down` above 12).
    case unsupportedRatio(inputRate: Int, outputRate: Int)
    /// libsamplerate reported an error (its error code).
    case libsamplerate(Int32)

    /// The problem in one line, for logs and command-line errors.
    public var description: String {
        switch self {
        case .invalidSampleRate(let rate):
            "invalid sample rate \(rate) Hz (accepted: 1 to 768000 Hz)"
        case .unsupportedRatio(let inputRate, let outputRate):
            "the native resampler does not support \(inputRate) Hz to \(outputRate) Hz; use libsamplerate"
        case .libsamplerate(let code):
            "libsamplerate: \(String(cString: src_strerror(code)))"
        }
    }
}
