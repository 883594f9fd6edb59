//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An in-place radix-2 complex FFT of a fixed power-of-two size, with its twiddles and bit-reversal table
/// computed once. Real-time safe after init: no allocation, no locks.
final class FFT {
    let size: Int
    private let cosines: UnsafeMutablePointer<Float>
    private let sines: UnsafeMutablePointer<Float>
    private let reversed: UnsafeMutablePointer<Int>

    init(size: Int) {
        precondition(size >= 2 && size & (size - 1) == 0, "FFT size must be a power of two")
        self.size = size
        cosines = .allocate(capacity: size / 2)
        sines = .allocate(capacity: size / 2)
        for k in 0..<(size / 2) {
            let angle = -2 * Double.pi * Double(k) / Double(size)
            cosines[k] = Float(cos(angle))
            sines[k] = Float(sin(angle))
        }
        reversed = .allocate(capacity: size)
        var bits = 0
        while 1 << bits < size { bits += 1 }
        for i in 0..<size {
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            reversed[i] = r
        }
    }

    deinit {
        cosines.deallocate()
        sines.deallocate()
        reversed.deallocate()
    }

    /// Transforms `real` and `imaginary` (each `size` long) in place.
    func transform(real: UnsafeMutablePointer<Float>, imaginary: UnsafeMutablePointer<Float>) {
        for i in 0..<size {
            let j = reversed[i]
            if j > i {
                swap(&real[i], &real[j])
                swap(&imaginary[i], &imaginary[j])
            }
        }
        var half = 1
        while half < size {
            let step = size / (half * 2)
            var start = 0
            while start < size {
                for k in 0..<half {
                    let wr = cosines[k * step]
                    let wi = sines[k * step]
                    let a = start + k
                    let b = a + half
                    let tr = wr * real[b] - wi * imaginary[b]
                    let ti = wr * imaginary[b] + wi * real[b]
                    real[b] = real[a] - tr
                    imaginary[b] = imaginary[a] - ti
                    real[a] += tr
                    imaginary[a] += ti
                }
                start += half * 2
            }
            half *= 2
        }
    }
}

@available(*, unavailable)
extension FFT: Sendable {}
