//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

// libFuzzer entry point for the WAV parser. Compiled together with the VoiceDSP sources by Fuzz/fuzz-wav.sh;
// not part of the package. Any input must give a WAVFile or a WAVError, never a trap or a memory error.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWAVParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for policy in [WAVFile.ChannelPolicy.requireMono, .downmix] {
        do {
            let file = try WAVFile.parse(bytes, channels: policy)
            // Exercise what a caller would do next.
            precondition(file.clip.sampleRate >= 1 && file.clip.sampleRate <= WAVFile.maximumSampleRate)
            _ = try? WAVFile.encode(file.clip, encoding: file.encoding)
        } catch {
            _ = error.description
        }
    }
    return 0
}
