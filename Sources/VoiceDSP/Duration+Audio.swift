//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

extension Duration {
    /// The duration in milliseconds, as the package's millisecond clocks count.
    package var inMilliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// The duration in samples at `rate` Hz, rounded to the nearest sample.
    package func sampleCount(at rate: Int) -> Int {
        Int(components.seconds) * rate + Int((Double(components.attoseconds) * Double(rate) / 1e18).rounded())
    }
}
