//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation

/// Test signals and measurements.
public enum Signals {
    /// `amplitude · sin(2π f t + phase)` sampled at `sampleRate`.
    public static func sine(
        frequency: Double, sampleRate: Double, count: Int, amplitude: Double = 0.5, phase: Double = 0
    ) -> [Float] {
        (0..<count).map { Float(amplitude * sin(2 * Double.pi * frequency * Double($0) / sampleRate + phase)) }
    }

    /// The least-squares fit of `a sin(ωn) + b cos(ωn) + c` to `samples[range]`, with ω known.
    public struct SineFit {
        /// The fitted amplitude.
        public var amplitude: Double
        /// The RMS of what the fit leaves over.
        public var residualRMS: Double
        /// `20 log10(amplitude / √2 / residualRMS)`: the signal-to-everything-else ratio in dB.
        public var signalToResidualDB: Double { 20 * log10(amplitude / 2.squareRoot() / residualRMS) }
    }

    /// Fits a sine of known frequency to `samples[range]`.
    public static func fitSine(_ samples: [Float], frequency: Double, sampleRate: Double, range: Range<Int>) -> SineFit {
        let w = 2 * Double.pi * frequency / sampleRate
        // Normal equations for the basis (sin, cos, 1).
        var m = [[Double]](repeating: [0, 0, 0], count: 3)
        var v = [0.0, 0.0, 0.0]
        for n in range {
            let basis = [sin(w * Double(n)), cos(w * Double(n)), 1]
            for i in 0..<3 {
                v[i] += basis[i] * Double(samples[n])
                for j in 0..<3 { m[i][j] += basis[i] * basis[j] }
            }
        }
        let x = solve3(m, v)
        var residual = 0.0
        for n in range {
            let fitted = x[0] * sin(w * Double(n)) + x[1] * cos(w * Double(n)) + x[2]
            residual += (Double(samples[n]) - fitted) * (Double(samples[n]) - fitted)
        }
        return SineFit(
            amplitude: (x[0] * x[0] + x[1] * x[1]).squareRoot(), residualRMS: (residual / Double(range.count)).squareRoot())
    }

    /// RMS of `samples[range]`.
    public static func rms(_ samples: [Float], range: Range<Int>) -> Double {
        (range.reduce(0.0) { $0 + Double(samples[$1]) * Double(samples[$1]) } / Double(range.count)).squareRoot()
    }

    private static func solve3(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var m = a
        var v = b
        for col in 0..<3 {
            let pivot = (col..<3).max { abs(m[$0][col]) < abs(m[$1][col]) }!
            m.swapAt(col, pivot)
            v.swapAt(col, pivot)
            for row in 0..<3 where row != col {
                let f = m[row][col] / m[col][col]
                for k in 0..<3 { m[row][k] -= f * m[col][k] }
                v[row] -= f * v[col]
            }
        }
        return (0..<3).map { v[$0] / m[$0][$0] }
    }
}
