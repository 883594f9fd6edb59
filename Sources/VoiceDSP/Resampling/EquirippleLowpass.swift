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

/// A linear-phase equiripple low-pass FIR, designed by the Parks–McClellan (Remez exchange) algorithm:
/// the prototype filter of the polyphase resampler.
///
/// Why not a windowed sinc: a Kaiser window makes the passband ripple as small as the stopband ripple
/// (10⁻⁴ for 80 dB), while the telephony spec allows ±0.1 dB (10⁻²) in the passband. An equiripple design
/// spends that allowance: for the telephony spec it needs about 35 taps at 16 kHz where the Kaiser window
/// needs 55, which is both less CPU and less delay.
///
/// The design is the smallest odd length whose weighted Chebyshev error meets both ripples; it runs once,
/// at init, in Double.
struct EquirippleLowpass {
    /// The taps, symmetric around the centre, scaled so that the passband gain is `gain`.
    let taps: [Double]
    /// The achieved passband ripple (peak deviation from 1) and stopband ripple (peak gain).
    let passbandRipple: Double
    let stopbandRipple: Double

    /// - Parameters:
    ///   - passbandEdge: End of the passband, as a fraction of the sample rate (0 ..< 0.5).
    ///   - stopbandEdge: Start of the stopband, as a fraction of the sample rate (> passbandEdge, ≤ 0.5).
    ///   - passbandRipple: The largest allowed deviation from 1 in the passband (e.g. 0.0058 for ±0.05 dB).
    ///   - stopbandRipple: The largest allowed gain in the stopband (e.g. 7.9e-5 for 82 dB).
    ///   - gain: The passband gain of the result.
    init(passbandEdge: Double, stopbandEdge: Double, passbandRipple: Double, stopbandRipple: Double, gain: Double) {
        precondition(0 < passbandEdge && passbandEdge < stopbandEdge && stopbandEdge <= 0.5)
        // Kaiser's length estimate for equiripple filters, then grow until the design meets the spec.
        let estimate = (-10 * log10(passbandRipple * stopbandRipple) - 13) / (14.6 * (stopbandEdge - passbandEdge)) + 1
        var length = Swift.max(5, Int(estimate.rounded(.down)) - 4) | 1
        let weight = passbandRipple / stopbandRipple
        while true {
            if let design = Self.remez(
                length: length, passbandEdge: passbandEdge, stopbandEdge: stopbandEdge, stopbandWeight: weight),
                design.deviation <= passbandRipple
            {
                taps = design.taps.map { $0 * gain }
                self.passbandRipple = design.deviation
                self.stopbandRipple = design.deviation / weight
                return
            }
            length += 2
            precondition(length < 4097, "EquirippleLowpass: no design up to 4095 taps")
        }
    }

    /// One Parks–McClellan design of odd `length` for a two-band low-pass (desired 1 then 0, weights 1 and
    /// `stopbandWeight`). Returns the taps and the weighted deviation δ, or nil if the exchange failed.
    static func remez(
        length: Int, passbandEdge: Double, stopbandEdge: Double, stopbandWeight: Double
    ) -> (taps: [Double], deviation: Double)? {
        let m = (length - 1) / 2  // A(f) = Σ_{k=0...m} a_k cos(2πkf)
        let extremalCount = m + 2
        // Dense grid: 16 points per cosine, shared between the bands in proportion to their widths.
        let total = 16 * (m + 1)
        let passWidth = passbandEdge
        let stopWidth = 0.5 - stopbandEdge
        let passPoints = Swift.max(2, Int((Double(total) * passWidth / (passWidth + stopWidth)).rounded()))
        let stopPoints = Swift.max(2, total - passPoints)
        var frequency: [Double] = []
        var desired: [Double] = []
        var weight: [Double] = []
        for i in 0..<passPoints {
            frequency.append(passbandEdge * Double(i) / Double(passPoints - 1))
            desired.append(1)
            weight.append(1)
        }
        for i in 0..<stopPoints {
            frequency.append(stopbandEdge + stopWidth * Double(i) / Double(stopPoints - 1))
            desired.append(0)
            weight.append(stopbandWeight)
        }
        let gridCount = frequency.count
        guard gridCount > extremalCount else { return nil }
        let x = frequency.map { cos(2 * Double.pi * $0) }

        var extremal = (0..<extremalCount).map { $0 * (gridCount - 1) / (extremalCount - 1) }
        var delta = 0.0
        var interpolation = Interpolation(points: [], values: [], weights: [])
        for _ in 0..<100 {
            // δ from the alternation condition at the extremal frequencies.
            let xs = extremal.map { x[$0] }
            let b = Self.barycentricWeights(xs)
            var numerator = 0.0
            var denominator = 0.0
            for i in 0..<extremalCount {
                let sign = i % 2 == 0 ? 1.0 : -1.0
                numerator += b[i] * desired[extremal[i]]
                denominator += sign * b[i] / weight[extremal[i]]
            }
            delta = numerator / denominator
            // A(x) through the first m + 1 extremal points, with the values the alternation demands there.
            let points = Array(xs[0..<(m + 1)])
            let values = (0..<(m + 1)).map { i in
                desired[extremal[i]] - (i % 2 == 0 ? 1.0 : -1.0) * delta / weight[extremal[i]]
            }
            interpolation = Interpolation(points: points, values: values, weights: Self.barycentricWeights(points))
            // The weighted error on the grid, and its alternating extrema.
            let error = (0..<gridCount).map { weight[$0] * (desired[$0] - interpolation.value(at: x[$0])) }
            guard let next = Self.extrema(of: error, count: extremalCount, bandStarts: [0, passPoints]) else { return nil }
            let largest = next.map { abs(error[$0]) }.max() ?? 0
            let converged = next == extremal || (largest - abs(delta)) <= 1e-9 * largest
            extremal = next
            if converged { break }
        }
        // Taps from A(f) sampled at f = k / length (a type I filter is fixed by m + 1 samples).
        let samples = (0...m).map { k in interpolation.value(at: cos(2 * Double.pi * Double(k) / Double(length))) }
        var taps = [Double](repeating: 0, count: length)
        for n in 0...m {
            var sum = samples[0]
            for k in 1...m {
                sum += 2 * samples[k] * cos(2 * Double.pi * Double(k) * Double(n - m) / Double(length))
            }
            taps[n] = sum / Double(length)
            taps[length - 1 - n] = taps[n]  // exactly symmetric
        }
        return (taps, abs(delta))
    }

    /// Barycentric Lagrange interpolation in x = cos(2πf).
    struct Interpolation {
        var points: [Double]
        var values: [Double]
        var weights: [Double]

        func value(at x: Double) -> Double {
            var numerator = 0.0
            var denominator = 0.0
            for i in points.indices {
                let d = x - points[i]
                if abs(d) < 1e-14 { return values[i] }
                let w = weights[i] / d
                numerator += w * values[i]
                denominator += w
            }
            return numerator / denominator
        }
    }

    /// Barycentric weights 1 / Π_{j≠i} (x_i − x_j), computed in a stride-interleaved order (as in the
    /// classic implementation) so that the products neither overflow nor underflow.
    static func barycentricWeights(_ xs: [Double]) -> [Double] {
        let n = xs.count
        let stride = Swift.max(1, (n - 1) / 15 + 1)
        return (0..<n).map { i in
            var product = 1.0
            for start in 0..<stride {
                var j = start
                while j < n {
                    if j != i { product *= 2 * (xs[i] - xs[j]) }
                    j += stride
                }
            }
            return 1 / product
        }
    }

    /// `count` grid indices where the error alternates in sign with the largest magnitudes, or nil.
    /// `bandStarts` are the grid indices where a band begins: neighbours across a band gap are not compared.
    static func extrema(of error: [Double], count: Int, bandStarts: [Int]) -> [Int]? {
        let n = error.count
        var candidates: [Int] = []
        for j in 0..<n where error[j] != 0 {
            // A local maximum of the error where it is positive, a local minimum where it is negative (so a
            // one-point excursion between two larger ones of the other sign still counts).
            let sign = error[j] > 0 ? 1.0 : -1.0
            let here = sign * error[j]
            let left = j > 0 && !bandStarts.contains(j) ? sign * error[j - 1] : -Double.infinity
            let right = j < n - 1 && !bandStarts.contains(j + 1) ? sign * error[j + 1] : -Double.infinity
            if here >= left && here >= right { candidates.append(j) }
        }
        // Alternation: of neighbours with the same sign, keep the larger.
        var alternating: [Int] = []
        for j in candidates {
            if let previous = alternating.last, (error[previous] >= 0) == (error[j] >= 0) {
                if abs(error[j]) > abs(error[previous]) { alternating[alternating.count - 1] = j }
            } else {
                alternating.append(j)
            }
        }
        // Too many: drop the smaller end, which keeps the alternation.
        while alternating.count > count {
            if abs(error[alternating.first!]) < abs(error[alternating.last!]) {
                alternating.removeFirst()
            } else {
                alternating.removeLast()
            }
        }
        return alternating.count == count ? alternating : nil
    }
}
