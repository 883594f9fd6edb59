//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Lane helpers for the G.711 SIMD kernels, written as per-lane loops because that is the form LLVM turns
/// into single instructions (`punpcklbw`, `pslld`/`psrad`/`packssdw`) on baseline x86-64; the SIMD
/// conversion initialisers compile to library calls instead (see BENCHMARKS.md).
@usableFromInline
enum G711Lanes {
    /// Applies a 16-lane kernel to `input` in steps of 16 (unaligned loads and stores), and the per-sample
    /// function to the remainder. `output` must hold at least `input.count` elements.
    @inlinable @inline(__always)
    static func map<Input: SIMDScalar, Output: SIMDScalar>(
        _ input: UnsafeBufferPointer<Input>, into output: UnsafeMutableBufferPointer<Output>,
        sixteen: (SIMD16<Input>) -> SIMD16<Output>, one: (Input) -> Output
    ) {
        guard let source = input.baseAddress, let destination = output.baseAddress else { return }
        let count = input.count
        var index = 0
        while index &+ 16 <= count {
            let block = UnsafeRawPointer(source + index).loadUnaligned(as: SIMD16<Input>.self)
            UnsafeMutableRawPointer(destination + index).storeBytes(of: sixteen(block), as: SIMD16<Output>.self)
            index &+= 16
        }
        while index < count {
            destination[index] = one(source[index])
            index &+= 1
        }
    }

    /// Zero-extends 16 bytes to 16-bit lanes.
    @inlinable @inline(__always)
    static func widen(_ bytes: SIMD16<UInt8>) -> SIMD16<UInt16> {
        var wide = SIMD16<UInt16>()
        for lane in 0..<16 { wide[lane] = UInt16(bytes[lane]) }
        return wide
    }

    /// The integer value of Floats given by their upper 16 bits (lower 16 bits zero).
    ///
    /// Each Float must be a non-negative integer below 2^15. Adding 2^23 moves its value into the low
    /// mantissa bits, whose lower 16 bits are then the result: a variable shift done by the FPU, which
    /// SSE2 lacks for 16-bit lanes. Even and odd lanes are handled as the two halves of 32-bit lanes, so
    /// no unpacking or packing is needed: shifts and masks put every result back in its own 16-bit lane.
    @inlinable @inline(__always)
    static func integer(fromFloatHighHalves high: SIMD16<UInt16>) -> SIMD16<Int16> {
        let pairs = unsafeBitCast(high, to: SIMD8<UInt32>.self)  // lane k = high[2k] | high[2k+1] << 16
        let shift = SIMD8<Float>(repeating: 0x1p23)
        let even = unsafeBitCast(pairs &<< 16, to: SIMD8<Float>.self) + shift
        let odd = unsafeBitCast(pairs & 0xFFFF_0000, to: SIMD8<Float>.self) + shift
        let evenBits = unsafeBitCast(even, to: SIMD8<UInt32>.self)
        let oddBits = unsafeBitCast(odd, to: SIMD8<UInt32>.self)
        return unsafeBitCast((evenBits & 0xFFFF) | (oddBits &<< 16), to: SIMD16<Int16>.self)
    }

    /// Truncates 16-bit lanes to bytes.
    @inlinable @inline(__always)
    static func narrow(_ wide: SIMD16<UInt16>) -> SIMD16<UInt8> {
        var bytes = SIMD16<UInt8>()
        for lane in 0..<16 { bytes[lane] = UInt8(truncatingIfNeeded: wide[lane]) }
        return bytes
    }

    /// Lane-wise minimum (a lane loop: `pointwiseMin` compiles to a library call).
    @inlinable @inline(__always)
    static func min(_ a: SIMD16<Int16>, _ b: Int16) -> SIMD16<Int16> {
        var result = SIMD16<Int16>()
        for lane in 0..<16 { result[lane] = Swift.min(a[lane], b) }
        return result
    }

    /// Bits 19...31 of the Float conversion of each lane: its biased exponent followed by the four
    /// mantissa bits after the leading one. Lanes must be non-negative.
    ///
    /// Only the conversion runs in 32-bit lanes; even and odd lanes are the two halves of a 32-bit lane,
    /// as in ``integer(fromFloatHighHalves:)``.
    @inlinable @inline(__always)
    static func floatExponentAndStep(_ values: SIMD16<Int16>) -> SIMD16<UInt16> {
        let pairs = unsafeBitCast(values, to: SIMD8<UInt32>.self)
        let even = unsafeBitCast(pairs & 0xFFFF, to: SIMD8<Int32>.self)
        let odd = unsafeBitCast(pairs &>> 16, to: SIMD8<Int32>.self)
        var evenFloat = SIMD8<Float>()
        var oddFloat = SIMD8<Float>()
        for lane in 0..<8 {
            evenFloat[lane] = Float(even[lane])
            oddFloat[lane] = Float(odd[lane])
        }
        let evenTop = unsafeBitCast(evenFloat, to: SIMD8<UInt32>.self) &>> 19
        let oddTop = unsafeBitCast(oddFloat, to: SIMD8<UInt32>.self) &>> 19
        return unsafeBitCast(evenTop | (oddTop &<< 16), to: SIMD16<UInt16>.self)
    }
}
