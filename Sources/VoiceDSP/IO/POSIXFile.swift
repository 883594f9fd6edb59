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

/// Whole-file reads and writes over POSIX calls, so that VoiceDSP needs no Foundation.
enum POSIXFile {
    /// The largest file read into memory (1 GiB): a bound so that a bad path cannot exhaust memory.
    static let maximumReadSize = 1 << 30

    static func readAll(path: String) throws(WAVError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .io(path: path, operation: "open", errno: errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .io(path: path, operation: "stat", errno: errno) }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw .io(path: path, operation: "read", errno: EISDIR) }
        let size = Int(info.st_size)
        guard size <= maximumReadSize else { throw .io(path: path, operation: "read", errno: EFBIG) }
        var bytes = [UInt8](repeating: 0, count: size)
        var filled = 0
        while filled < size {
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, size - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, operation: "read", errno: errno)
            }
            if n == 0 { break }  // the file shrank while being read
            filled += n
        }
        bytes.removeSubrange(filled...)
        return bytes
    }

    static func writeAll(_ bytes: [UInt8], path: String) throws(WAVError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, operation: "create", errno: errno) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = errno
                close(fd)
                throw .io(path: path, operation: "write", errno: error)
            }
            written += n
        }
        guard close(fd) == 0 else { throw .io(path: path, operation: "close", errno: errno) }
    }
}

extension WAVFile {
    /// The C library's text for an `errno` value.
    static func systemErrorMessage(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text)
    }
}
