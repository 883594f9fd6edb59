//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// G.711 µ-law (PCMU), bit-exact with the ITU-T G.191 reference implementation.
///
/// µ-law is the encoding Twilio Media Streams use: one byte per sample at 8 kHz, 160 bytes per 20 ms frame.
/// Linear samples are 16-bit two's complement (`Int16`), the full range of which is accepted; as in G.191,
/// a negative input is first replaced by its one's complement and then truncated to 14 bits. Decoding
/// yields 16-bit left-justified values in `-32124...32124`.
///
/// The buffer functions process 16 samples per step in branch-free 16-bit lane arithmetic that the
/// compiler turns into SSE2 (or, built for a known CPU, AVX2) instructions. SSE2 has no per-lane variable
/// shift, so the Float unit does that part: the segment of a sample is read off the exponent field of its
/// `Float` conversion, and a decoded value is built as `Float` bits and turned into an integer by adding
/// 2^23. There are no tables, so nothing has to be initialised lazily on a real-time thread.
///
/// All functions are real-time safe: no allocation, no locks, no I/O.
///
/// ```swift
/// var frame = [UInt8](repeating: 0, count: 160)
/// pcm.withUnsafeBufferPointer { pcm in
///     frame.withUnsafeMutableBufferPointer { MuLaw.encode(pcm, into: $0) }
/// }
/// ```
public enum MuLaw {
    /// Encodes one 16-bit linear sample as a µ-law byte.
    ///
    /// - Parameter sample: A linear PCM sample (full 16-bit range).
    /// - Returns: The µ-law code (`0xFF` and `0x7F` are the positive and negative zero codes).
    /// - Complexity: O(1), branch-free.
    @inlinable @inline(__always)
    public static func encode(_ sample: Int16) -> UInt8 {
        let x = Int32(sample)
        let negative = x &>> 31  // 0 or -1
        // G.191: one's complement of negative inputs, keep 14 bits, add the bias 33, clip at 0x1FFF.
        let biased = Swift.min(((x ^ negative) &>> 2) &+ 33, 0x1FFF)
        // biased >= 33, so it has 6..13 significant bits. Its Float exponent is (segment + 5) and the four
        // mantissa bits that follow the leading one are the step within the segment: both sit next to each
        // other in the Float's bit pattern, above bit 19.
        let segmentAndStep = (Float(biased).bitPattern &>> 19) &- 0x840
        let code = segmentAndStep | (UInt32(bitPattern: negative) & 0x80)
        return ~UInt8(truncatingIfNeeded: code)
    }

    /// Decodes one µ-law byte to a 16-bit linear sample.
    ///
    /// - Parameter code: A µ-law code; all 256 values are valid.
    /// - Returns: The linear sample, in `-32124...32124`.
    /// - Complexity: O(1), branch-free.
    @inlinable @inline(__always)
    public static func decode(_ code: UInt8) -> Int16 {
        Int16(truncatingIfNeeded: decodeToInt32(code))
    }

    /// The decoder's arithmetic in 32-bit lanes (what the buffer loop vectorises).
    @inlinable @inline(__always)
    internal static func decodeToInt32(_ code: UInt8) -> Int32 {
        let u = UInt32(~code)
        // |x| + 132 = (16 + step + 1/2) * 2^(segment + 3): write that Float's bits directly.
        let bits = ((u & 0x7F) &+ 0x860) &<< 19 | 0x4_0000
        // Float to integer without a range check (which would stop vectorisation): adding 2^23 moves the
        // value's integer part into the low mantissa bits, above the bits of 2^23 (0x4B000000).
        let magnitude = Int32(bitPattern: (Float(bitPattern: bits) + 0x1p23).bitPattern) &- (0x4B00_0000 + 132)
        let negative = 0 &- Int32(bitPattern: u &>> 7)  // 0 or -1; codes below 0x80 are negative
        return (magnitude ^ negative) &- negative
    }

    /// Encodes a buffer of linear samples as µ-law bytes.
    ///
    /// - Parameters:
    ///   - input: Linear 16-bit samples.
    ///   - output: Receives one byte per input sample; must hold at least `input.count` bytes.
    ///     Bytes past `input.count` are left untouched.
    /// - Precondition: `output.count >= input.count`.
    /// - Complexity: O(n). Real-time safe: no allocation, no locks.
    @inlinable
    public static func encode(_ input: UnsafeBufferPointer<Int16>, into output: UnsafeMutableBufferPointer<UInt8>) {
        precondition(output.count >= input.count, "MuLaw.encode: output holds \(output.count) bytes, need \(input.count)")
        G711Lanes.map(input, into: output, sixteen: { encode16($0) }, one: { encode($0) })
    }

    /// Encodes 16 samples at once, in 16-bit lanes except for the Float conversion. Same arithmetic as
    /// ``encode(_:)``.
    @inlinable @inline(__always)
    internal static func encode16(_ samples: SIMD16<Int16>) -> SIMD16<UInt8> {
        let negative = samples &>> 15  // 0 or -1
        let biased = G711Lanes.min(((samples ^ negative) &>> 2) &+ 33, 0x1FFF)
        let segmentAndStep = G711Lanes.floatExponentAndStep(biased) &- 0x840
        return G711Lanes.narrow(~(segmentAndStep | (unsafeBitCast(negative, to: SIMD16<UInt16>.self) & 0x80)))
    }

    /// Decodes a buffer of µ-law bytes to linear samples.
    ///
    /// - Parameters:
    ///   - input: µ-law bytes.
    ///   - output: Receives one sample per input byte; must hold at least `input.count` samples.
    ///     Samples past `input.count` are left untouched.
    /// - Precondition: `output.count >= input.count`.
    /// - Complexity: O(n). Real-time safe: no allocation, no locks.
    @inlinable
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) {
        precondition(output.count >= input.count, "MuLaw.decode: output holds \(output.count) samples, need \(input.count)")
        G711Lanes.map(input, into: output, sixteen: { decode16($0) }, one: { decode($0) })
    }

    /// Decodes 16 codes at once, in 16-bit lanes (8 per SSE2 register).
    @inlinable @inline(__always)
    internal static func decode16(_ codes: SIMD16<UInt8>) -> SIMD16<Int16> {
        let complement = G711Lanes.widen(~codes)
        // |x| + 132 = (16 + step + 1/2) * 2^(segment + 3): the upper half of its Float bits.
        let magnitude = G711Lanes.integer(fromFloatHighHalves: ((complement & 0x7F) &<< 3) &+ 0x4304) &- 132
        let negative = unsafeBitCast(complement &<< 8, to: SIMD16<Int16>.self) &>> 15  // 0 or -1
        return (magnitude ^ negative) &- negative
    }

    /// Encodes a span of linear samples as µ-law bytes. See ``encode(_:into:)-(UnsafeBufferPointer<Int16>,_)``.
    ///
    /// - Precondition: `output.count >= input.count`.
    @inlinable
    public static func encode(_ input: Span<Int16>, into output: inout MutableSpan<UInt8>) {
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in encode(src, into: dst) }
        }
    }

    /// Decodes a span of µ-law bytes to linear samples. See ``decode(_:into:)-(UnsafeBufferPointer<UInt8>,_)``.
    ///
    /// - Precondition: `output.count >= input.count`.
    @inlinable
    public static func decode(_ input: Span<UInt8>, into output: inout MutableSpan<Int16>) {
        input.withUnsafeBufferPointer { src in
            output.withUnsafeMutableBufferPointer { dst in decode(src, into: dst) }
        }
    }
}

extension MuLaw {
    /// Decodes µ-law bytes straight to Float32 samples (the 16-bit values scaled by 1/32768).
    ///
    /// - Precondition: `output.count >= input.count`.
    /// - Complexity: O(n). Real-time safe.
    @inlinable
    public static func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count >= input.count)
        for i in 0..<input.count { output[i] = Float(decode(input[i])) * (1 / 32768) }
    }
}
