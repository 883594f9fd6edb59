//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Synchronization

/// The memory shared by one ``SPSCRingBuffer``'s producer and consumer. Not API.
///
/// The control block is three 128-byte lines (128 so that adjacent-line prefetching does not pair them):
/// line 0 belongs to the producer (its position, and its cached copy of the consumer's position), line 1
/// to the consumer (its position and its cached copy of the producer's). Each cached copy is read and
/// written only by its owner.
@usableFromInline final class _SPSCStorage<Element: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline static var lineSize: Int { 128 }

    @usableFromInline let elements: UnsafeMutablePointer<Element>
    @usableFromInline let mask: Int
    @usableFromInline let control: UnsafeMutableRawPointer
    @usableFromInline let producerPosition: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let producerCache: UnsafeMutablePointer<Int>
    @usableFromInline let consumerPosition: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let consumerCache: UnsafeMutablePointer<Int>

    @usableFromInline var capacity: Int { mask &+ 1 }

    init(minimumCapacity: Int) {
        precondition(minimumCapacity >= 1, "SPSCRingBuffer capacity must be at least 1, got \(minimumCapacity)")
        precondition(minimumCapacity <= 1 << 62, "SPSCRingBuffer capacity \(minimumCapacity) is too large")
        var capacity = 1
        while capacity < minimumCapacity { capacity <<= 1 }
        mask = capacity - 1
        elements = .allocate(capacity: capacity)
        let line = Self.lineSize
        control = .allocate(byteCount: 3 * line, alignment: line)
        producerPosition = (control).bindMemory(to: Atomic<Int>.self, capacity: 1)
        producerPosition.initialize(to: Atomic(0))
        producerCache = (control + MemoryLayout<Atomic<Int>>.stride).bindMemory(to: Int.self, capacity: 1)
        producerCache.initialize(to: 0)
        consumerPosition = (control + line).bindMemory(to: Atomic<Int>.self, capacity: 1)
        consumerPosition.initialize(to: Atomic(0))
        consumerCache = (control + line + MemoryLayout<Atomic<Int>>.stride).bindMemory(to: Int.self, capacity: 1)
        consumerCache.initialize(to: 0)
    }

    deinit {
        producerPosition.deinitialize(count: 1)
        consumerPosition.deinitialize(count: 1)
        control.deallocate()
        elements.deallocate()
    }

    /// Copies `count` elements into the slots starting at `position`, wrapping around the end.
    @inlinable @inline(__always)
    func copyIn(from source: UnsafePointer<Element>, count: Int, at position: Int) {
        let start = position & mask
        let first = Swift.min(count, capacity &- start)
        Self.copy(from: source, to: elements + start, count: first)
        if first < count {
            Self.copy(from: source + first, to: elements, count: count &- first)
        }
    }

    /// Copies `count` elements out of the slots starting at `position`, wrapping around the end.
    @inlinable @inline(__always)
    func copyOut(to destination: UnsafeMutablePointer<Element>, count: Int, at position: Int) {
        let start = position & mask
        let first = Swift.min(count, capacity &- start)
        Self.copy(from: elements + start, to: destination, count: first)
        if first < count {
            Self.copy(from: elements, to: destination + first, count: count &- first)
        }
    }

    /// Copies `count` elements with `memcpy`, or element by element when built with `-DVOICEPIPE_TSAN`.
    ///
    /// ThreadSanitizer does not see the accesses inside Swift's `copyMemory`; a deliberate race through it
    /// goes unreported while the same race through an element loop in a release build is reported. The
    /// TSan run in `dev.sh test` therefore builds with that flag, so that it checks the slots themselves.
    @inlinable @inline(__always)
    static func copy(from source: UnsafePointer<Element>, to destination: UnsafeMutablePointer<Element>, count: Int) {
        #if VOICEPIPE_TSAN  // set by dev.sh for the ThreadSanitizer run
            for index in 0..<count { destination[index] = source[index] }
        #else
            UnsafeMutableRawPointer(destination).copyMemory(from: source, byteCount: count * MemoryLayout<Element>.stride)
        #endif
    }
}
