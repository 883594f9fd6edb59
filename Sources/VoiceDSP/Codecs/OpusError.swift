//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import COpus

/// An error code returned by libopus, with its text.
public struct OpusError: Error, Sendable, Hashable, RawRepresentable, CustomStringConvertible {
    /// libopus's (negative) error code.
    public let rawValue: Int32

    /// Wraps a libopus error code.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `OPUS_BAD_ARG`: an argument was invalid or out of range (e.g. a frame size Opus does not allow).
    public static let badArgument = OpusError(rawValue: -1)
    /// `OPUS_BUFFER_TOO_SMALL`: the output buffer is too small.
    public static let bufferTooSmall = OpusError(rawValue: -2)
    /// `OPUS_INTERNAL_ERROR`.
    public static let internalError = OpusError(rawValue: -3)
    /// `OPUS_INVALID_PACKET`: the packet is corrupt or not Opus.
    public static let invalidPacket = OpusError(rawValue: -4)
    /// `OPUS_UNIMPLEMENTED`.
    public static let unimplemented = OpusError(rawValue: -5)
    /// `OPUS_INVALID_STATE`.
    public static let invalidState = OpusError(rawValue: -6)
    /// `OPUS_ALLOC_FAIL`.
    public static let allocationFailed = OpusError(rawValue: -7)

    /// libopus's description of the error.
    public var description: String { "opus: " + String(cString: opus_strerror(rawValue)) }
}
