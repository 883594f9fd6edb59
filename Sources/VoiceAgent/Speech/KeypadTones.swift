//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// In-band DTMF: the dual tones of a telephone keypad (ITU-T Q.23), as audio.
public enum KeypadTones {
    /// The row and column frequencies of a key, in Hz (`nil`: not a key).
    public static func frequencies(of key: Character) -> (low: Double, high: Double)? {
        let rows: [Double] = [697, 770, 852, 941]
        let columns: [Double] = [1209, 1336, 1477, 1633]
        let layout = ["123A", "456B", "789C", "*0#D"]
        for (row, keys) in layout.enumerated() {
            if let column = keys.firstIndex(of: Character(key.uppercased())) {
                return (rows[row], columns[keys.distance(from: keys.startIndex, to: column)])
            }
        }
        return nil
    }

    /// `digits` as audio at `sampleRate`: each key 100 ms of its two tones then 100 ms of silence (Q.24
    /// asks for at least 40 ms of each); `w` is 500 ms of silence; other characters are skipped.
    public static func render(_ digits: String, sampleRate: Int, toneDuration: Double = 0.1, gap: Double = 0.1) -> [Float] {
        let rate = Double(sampleRate)
        var samples: [Float] = []
        for key in digits {
            if key == "w" || key == "W" {
                samples.append(contentsOf: repeatElement(0, count: Int(0.5 * rate)))
                continue
            }
            guard let (low, high) = frequencies(of: key) else { continue }
            let count = Int(toneDuration * rate)
            for n in 0..<count {
                let t = Double(n) / rate
                // About -10 dBm0 per tone on a µ-law line: well inside what receivers accept.
                samples.append(Float(0.25 * sin(2 * .pi * low * t) + 0.25 * sin(2 * .pi * high * t)))
            }
            samples.append(contentsOf: repeatElement(0, count: Int(gap * rate)))
        }
        return samples
    }
}
