//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// G.711 A-law (PCMA), bit-exact with the ITU-T G.191 reference implementation.
///
/// Linear samples are 16-bit two's complement (`Int16`), the full range of which is accepted; as in G.191,
/// a negative input is first replaced by its one's complement and then truncated to 13 bits, and codes
/// carry the even-bit inversion (XOR `0x55`). Decoding yields 16-bit left-justified values in
/// `-32256...32256`.
///
/// Like ``MuLaw``, the buffer functions are branch-free and table-free so the compiler vectorises them.
/// All functions are real-time safe: no allocation, no locks, no I/O.
public enum ALaw {
    /// Encodes one 16-bit linear sample as an A-law byte.
    ///
    /// - Parameter sample: A linear PCM sample (full 16-bit range).
    /// - Returns: The A-law code, even bits inverted as transmitted.
    /// - Complexity: O(1), branch-free.
    @inlinable @inline(__always)
    public static func encode(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        let negative = x &>> 31  // 0 or -1
        let magnitude = (x ^ negative) &>> 4  // G.191: one's complement of negatives, keep 13 bits: 0...2047
        // Magnitudes of 16 and more have 5..11 significant bits: the Float exponent gives the segment, the
        // four bits after the leading one the step. Below 32 the code is the magnitude itself.
        let fromFloat = (Float(magnitude).bitPattern &>> 19) &- 0x820
        let segmentAndStep = magnitude < 32 ? UInt32(bitPattern: magnitude) : fromFloat
        let code = segmentAndStep | (~UInt32(bitPattern: negative) & 0x80)
        return UInt8(truncatingIfNeeded: code) ^ 0x55
    }

    /// Decodes one A-law byte to a 16-bit linear sample.
    ///
    /// - Parameter code: An A-law code (even bits inverted, as transmitted); all 256 values are valid.
    /// - Returns: The linear sample, in `-32256...32256`.
    /// - Complexity: O(1), branch-free.
    @inlinable @inline(__always)
    public static func decode(_ code: UInt8) -> Int16 {
        Int16(truncatingIfNeeded: decodeToInt32(code))
    }

    /// The decoder's arithmetic in 32-bit lanes (what the buffer loop vectorises).
    @inlinable @inline(__always)
    internal static func decodeToInt32(_ code: UInt8) -> Int32 {
        let u = UInt32(code ^ 0x55)
        let segmentAndStep = u & 0x7F
        // Segments 1...7: |x| = (16 + step + 1/2) * 2^(segment + 3), written as Float bits. Segment 0 has the
        // step size of segment 1 without its 256 offset, so it is decoded as segment 1 minus 256.
        let inFirstSegment: UInt32 = segmentAndStep < 16 ? 1 : 0
        let bits = ((segmentAndStep &+ (inFirstSegment &<< 4)) &+ 0x860) &<< 19 | 0x4_0000
        // Float to integer without a range check, as in MuLaw: add 2^23, take the low mantissa bits.
        let magnitude =
            Int32(bitPattern: (Float(bitPattern: bits) + 0x1p23).bitPattern)
            &- 0x4B00_0000 &- Int32(bitPattern: inFirstSegment &<< 8)
        let negative = Int32(bitPattern: u &>> 7) &- 1  // codes with the top bit clear are negative
        return (magnitude ^ negative) &- negative
    }

    /// Encodes a buffer of linear samples as A-law bytes.
    ///
    /// - Parameters:
    ///   - input: Linear 16-bit samples.
    ///   - output: Receives one byte per input sample; must hold at least `input.count` bytes.
    /// - Precondition: `output.count >= input.count`.
    /// - Complexity: O(n). Real-time safe: no allocation, no locks.
    @inlinable
    public static func encode(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(output.count >= input.count, "ALaw.encode: output holds \(output.count) bytes, need \(input.count)")
        G711Lanes.map(input, into: output, sixteen: { encode16($0) }, one: { encode($0) })
    }

    /// Encodes 16 samples at once, in 16-bit lanes except for the Float conversion. Same arithmetic as
    /// ``encode(_:)``.
    @inlinable @inline(__always)
    internal static func encode16(_ samples: SIMD16<Int16>) -> SIMD16<UInt8> {
        let negative = samples &>> 15  // 0 or -1
        let magnitude = (samples ^ negative) &>> 4
        let small = unsafeBitCast((magnitude &- 32) &>> 15, to: SIMD16<UInt16>.self)  // all ones below 32
        let fromFloat = G711Lanes.floatExponentAndStep(magnitude) &- 0x820
        let segmentAndStep = (fromFloat & ~small) | (unsafeBitCast(magnitude, to: SIMD16<UInt16>.self) & small)
        let code = segmentAndStep | (~unsafeBitCast(negative, to: SIMD16<UInt16>.self) & 0x80)
        return G711Lanes.narrow(code ^ 0x55)
    }

    /// Decodes a buffer of A-law bytes to linear samples.
    ///
    /// - Parameters:
    ///   - input: A-law bytes.
    ///   - output: Receives one sample per input byte; must hold at least `input.count` samples.
    /// - Precondition: `output.count >= input.count`.
    /// - Complexity: O(n). Real-time safe: no allocation, no locks.
    @inlinable
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) {
        precondition(output.count >= input.count, "ALaw.decode: output holds \(output.count) samples, need \(input.count)")
        G711Lanes.map(input, into: output, sixteen: { decode16($0) }, one: { decode($0) })
    }

    /// Decodes 16 codes at once, in 16-bit lanes (8 per SSE2 register). Same arithmetic as ``decode(_:)``.
    @inlinable @inline(__always)
    internal static func decode16(_ codes: SIMD16<UInt8>) -> SIMD16<Int16> {
        let u = G711Lanes.widen(codes ^ 0x55)
        let segmentAndStep = u & 0x7F
        let inFirstSegment = (segmentAndStep &- 16) &>> 15  // 1 below 16 (the subtraction wraps), else 0
        let floatHigh = ((segmentAndStep &+ (inFirstSegment &<< 4)) &<< 3) &+ 0x4304
        let magnitude =
            G711Lanes.integer(fromFloatHighHalves: floatHigh)
            &- unsafeBitCast(inFirstSegment &<< 8, to: SIMD16<Int16>.self)
        let negative = ~(unsafeBitCast(u &<< 8, to: SIMD16<Int16>.self) &>> 15)  // top bit clear: negative
        return (magnitude ^ negative) &- negative
    }

    /// Encodes a span of linear samples as A-law bytes.
    ///
    /// - Precondition: `output.count >= input.count`.
    @inlinable
    public static func encode(_ input: Span<Int16>, into output: inout MutableSpan<UInt8>) {
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in encode(src, into: dst) }
        }
    }

    /// Decodes a span of A-law bytes to linear samples.
    ///
    /// - Precondition: `output.count >= input.count`.
    @inlinable
    public static func decode(_ input: Span<UInt8>, into output: inout MutableSpan<Int16>) {
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in decode(src, into: dst) }
        }
    }
}
