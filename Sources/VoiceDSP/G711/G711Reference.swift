//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Plain scalar G.711 implementations that follow the ITU-T G.191 reference (`g711.c`) step by step.
///
/// These are the yardsticks for ``MuLaw`` and ``ALaw``: tests compare the fast code against them and
/// against golden vectors, and benchmarks use them as the baseline. They are correct but slow (a search
/// loop per encoded sample); use ``MuLaw`` and ``ALaw`` in production code.
@_spi(Reference) public enum G711Reference {
    /// µ-law compression exactly as G.191's `ulaw_compress` does it, one sample at a time.
    ///
    /// - Parameter sample: A 16-bit linear sample.
    /// - Returns: The µ-law code.
    public static func muLawCompress(_ sample: Int16) -> UInt8 {
        let linear = Int(sample)
        // One's complement of negative inputs, then 14-bit truncation and the bias of 33.
        var absno = linear < 0 ? ((~linear) >> 2) + 33 : (linear >> 2) + 33
        if absno > 0x1FFF { absno = 0x1FFF }
        var i = absno >> 6
        var segno = 1
        while i != 0 {
            segno += 1
            i >>= 1
        }
        let highNibble = 0x0008 - segno
        let lowNibble = 0x000F - ((absno >> segno) & 0x000F)
        var code = (highNibble << 4) | lowNibble
        if linear >= 0 { code |= 0x0080 }
        return UInt8(truncatingIfNeeded: code)
    }

    /// µ-law expansion exactly as G.191's `ulaw_expand` does it.
    ///
    /// - Parameter code: A µ-law code.
    /// - Returns: The 16-bit linear sample.
    public static func muLawExpand(_ code: UInt8) -> Int16 {
        let value = Int(code)
        let sign = value < 0x80 ? -1 : 1
        let complement = ~value
        let exponent = (complement >> 4) & 0x07
        let segment = exponent + 1
        let mantissa = complement & 0x0F
        let step = 4 << segment
        return Int16(sign * ((0x80 << exponent) + step * mantissa + step / 2 - 4 * 33))
    }

    /// A-law compression exactly as G.191's `alaw_compress` does it.
    ///
    /// - Parameter sample: A 16-bit linear sample.
    /// - Returns: The A-law code, even bits inverted.
    public static func aLawCompress(_ sample: Int16) -> UInt8 {
        let linear = Int(sample)
        // One's complement of negative inputs, then 13-bit truncation.
        var ix = linear < 0 ? (~linear) >> 4 : linear >> 4
        if ix > 15 {
            var iexp = 1
            while ix > 16 + 15 {
                ix >>= 1
                iexp += 1
            }
            ix -= 16
            ix += iexp << 4
        }
        if linear >= 0 { ix |= 0x0080 }
        return UInt8(truncatingIfNeeded: ix ^ 0x0055)
    }

    /// A-law expansion exactly as G.191's `alaw_expand` does it.
    ///
    /// - Parameter code: An A-law code, even bits inverted.
    /// - Returns: The 16-bit linear sample.
    public static func aLawExpand(_ code: UInt8) -> Int16 {
        let ix = (Int(code) ^ 0x0055) & 0x007F
        let iexp = ix >> 4
        var mant = ix & 0x000F
        if iexp > 0 { mant += 16 }
        mant = (mant << 4) + 0x0008
        if iexp > 1 { mant <<= iexp - 1 }
        return Int16(code > 127 ? mant : -mant)
    }

    /// A 256-entry µ-law decode table, the usual fast scalar decoder and the baseline for ``MuLaw/decode(_:into:)-(UnsafeBufferPointer<UInt8>,_)``.
    ///
    /// The table is built by ``muLawExpand(_:)``. Keep one instance and reuse it; building it allocates.
    public struct MuLawTableDecoder: Sendable {
        /// The decoded value of each code.
        public let table: [Int16]

        /// Builds the table.
        public init() {
            table = (0...255).map { G711Reference.muLawExpand(UInt8($0)) }
        }

        /// Decodes a buffer through the table.
        ///
        /// - Precondition: `output.count >= input.count`.
        @inlinable
        public func decode(_ input: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Int16>) {
            precondition(output.count >= input.count)
            table.withUnsafeBufferPointer { table in
                guard let t = table.baseAddress, let src = input.baseAddress, let dst = output.baseAddress else { return }
                for i in 0..<input.count {
                    dst[i] = t[Int(src[i])]
                }
            }
        }
    }
}
