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

/// A linear-phase Kaiser-windowed sinc low-pass FIR: the prototype filter of the polyphase resampler.
///
/// Designed with Kaiser's formulas: for a stopband attenuation of `A` dB and a transition band of `Δf`
/// (as a fraction of the sample rate), `β = 0.1102 (A − 8.7)` and the length is
/// `(A − 7.95) / (2.285 · 2π Δf) + 1` taps, rounded up to an odd number so that the centre tap falls on a
/// sample and the group delay is a whole number of samples.
struct KaiserLowpass {
    /// The taps, `count` of them, symmetric around `count / 2`.
    let taps: [Double]

    /// - Parameters:
    ///   - passbandEdge: The end of the passband, as a fraction of the sample rate (0 ..< 0.5).
    ///   - stopbandEdge: The start of the stopband, as a fraction of the sample rate (> passbandEdge).
    ///   - attenuation: The stopband attenuation in dB (> 21).
    ///   - gain: The DC gain (the sum of the taps).
    init(passbandEdge: Double, stopbandEdge: Double, attenuation: Double, gain: Double) {
        precondition(0 < passbandEdge && passbandEdge < stopbandEdge && stopbandEdge <= 0.5)
        let transition = 2 * Double.pi * (stopbandEdge - passbandEdge)
        var count = Int(((attenuation - 7.95) / (2.285 * transition)).rounded(.up)) + 1
        if count % 2 == 0 { count += 1 }
        let beta =
            attenuation > 50
            ? 0.1102 * (attenuation - 8.7)
            : attenuation >= 21 ? 0.5842 * pow(attenuation - 21, 0.4) + 0.07886 * (attenuation - 21) : 0
        let cutoff = (passbandEdge + stopbandEdge) / 2
        let centre = Double(count - 1) / 2
        var taps = (0..<count).map { n -> Double in
            let t = Double(n) - centre
            let sinc = t == 0 ? 2 * cutoff : sin(2 * Double.pi * cutoff * t) / (Double.pi * t)
            let r = t / centre
            let window = Self.besselI0(beta * (1 - r * r).squareRoot()) / Self.besselI0(beta)
            return sinc * window
        }
        let sum = taps.reduce(0, +)
        for n in taps.indices { taps[n] *= gain / sum }
        self.taps = taps
    }

    /// The zeroth-order modified Bessel function of the first kind, by its power series.
    static func besselI0(_ x: Double) -> Double {
        var sum = 1.0
        var term = 1.0
        let quarterSquare = x * x / 4
        var k = 1.0
        while term > sum * 1e-17 {
            term *= quarterSquare / (k * k)
            sum += term
            k += 1
        }
        return sum
    }
}
