//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

public import Synchronization

/// A wait-free single-producer/single-consumer ring buffer of fixed capacity.
///
/// The buffer is handed out as two non-copyable endpoints: one ``Producer`` that writes and one
/// ``Consumer`` that reads. Because neither endpoint can be copied, a value of this type yields exactly one
/// of each, which is what makes the single-producer/single-consumer contract hard to break by accident.
/// Move each endpoint to the thread or task that uses it:
///
/// ```swift
/// let ring = SPSCRingBuffer<Int16>(minimumCapacity: 4096)
/// let producer = ring.producer      // consumes the field: `ring.producer` cannot be taken twice
/// let consumer = ring.consumer
/// let thread = Thread { _ = samples.withUnsafeBufferPointer { producer.write($0) } }
/// ```
///
/// ### Implementation notes
/// Positions are monotonically increasing counters (wrapping on overflow); the slot of a position is
/// `position & (capacity - 1)`. The producer publishes its write position with a releasing store and the
/// consumer reads it with an acquiring load (and vice versa), so every element written before a position
/// is published is visible to the other side once it sees that position. Each side keeps its own
/// position and its last-seen copy of the other side's position on a cache line of its own, so the two
/// threads only exchange cache lines when one of them runs out of data or space.
///
/// All operations of both endpoints are wait-free and real-time safe: no allocation, no locks,
/// no system calls.
@frozen
public struct SPSCRingBuffer<Element: BitwiseCopyable>: ~Copyable {
    /// The writing endpoint. Take it once (`let producer = ring.producer`) and use it from one thread at a time.
    public let producer: Producer
    /// The reading endpoint. Take it once (`let consumer = ring.consumer`) and use it from one thread at a time.
    public let consumer: Consumer

    /// Creates a ring buffer that holds at least `minimumCapacity` elements.
    ///
    /// - Parameter minimumCapacity: The smallest acceptable capacity, in elements; rounded up to the next
    ///   power of two. Must be at least 1.
    /// - Precondition: `1 <= minimumCapacity <= 2^62`.
    /// - Note: Allocates the storage once, here; nothing allocates afterwards.
    public init(minimumCapacity: Int) {
        let storage = _SPSCStorage<Element>(minimumCapacity: minimumCapacity)
        producer = Producer(storage: storage)
        consumer = Consumer(storage: storage)
    }

    /// The writing side of an ``SPSCRingBuffer``.
    ///
    /// - Important: Call from one thread (or task) at a time: the producer thread.
    public struct Producer: ~Copyable {
        @usableFromInline let storage: _SPSCStorage<Element>

        @usableFromInline init(storage: _SPSCStorage<Element>) { self.storage = storage }

        /// The number of elements the buffer holds when full (a power of two).
        @inlinable public var capacity: Int { storage.mask &+ 1 }

        /// The number of elements that can be written now without overwriting unread ones.
        ///
        /// The consumer may free more space at any moment, so this is a lower bound.
        /// - Complexity: O(1), wait-free.
        @inlinable public var availableToWrite: Int {
            capacity
                &- (storage.producerPosition.pointee.load(ordering: .relaxed)
                    &- storage.consumerPosition.pointee.load(ordering: .acquiring))
        }

        /// Writes as many of `elements` as fit, in order, and publishes them to the consumer.
        ///
        /// - Parameter elements: The elements to append.
        /// - Returns: The number written, from `0` (buffer full) to `elements.count`. Elements past that
        ///   count were not written; the caller decides whether to retry, drop or count them.
        /// - Complexity: O(n) copies in at most two `memcpy`s; wait-free, real-time safe.
        @inlinable @discardableResult
        public func write(_ elements: UnsafeBufferPointer<Element>) -> Int {
            let s = storage
            let position = s.producerPosition.pointee.load(ordering: .relaxed)
            var free = s.capacity &- (position &- s.producerCache.pointee)
            if free < elements.count {
                // Acquire: the consumer's reads of the slots it released happen before we overwrite them.
                s.producerCache.pointee = s.consumerPosition.pointee.load(ordering: .acquiring)
                free = s.capacity &- (position &- s.producerCache.pointee)
            }
            let count = Swift.min(free, elements.count)
            guard count > 0, let source = elements.baseAddress else { return 0 }
            s.copyIn(from: source, count: count, at: position)
            // Release: publishes the `count` elements just copied to the consumer.
            s.producerPosition.pointee.store(position &+ count, ordering: .releasing)
            return count
        }

        /// Writes one element if there is room.
        ///
        /// - Returns: `true` if written, `false` if the buffer was full.
        /// - Complexity: O(1), wait-free, real-time safe.
        @inlinable @discardableResult
        public func write(_ element: Element) -> Bool {
            withUnsafePointer(to: element) { write(UnsafeBufferPointer(start: $0, count: 1)) } == 1
        }
    }

    /// The reading side of an ``SPSCRingBuffer``.
    ///
    /// - Important: Call from one thread (or task) at a time: the consumer thread.
    public struct Consumer: ~Copyable {
        @usableFromInline let storage: _SPSCStorage<Element>

        @usableFromInline init(storage: _SPSCStorage<Element>) { self.storage = storage }

        /// The number of elements the buffer holds when full (a power of two).
        @inlinable public var capacity: Int { storage.mask &+ 1 }

        /// The number of elements that can be read now.
        ///
        /// The producer may add more at any moment, so this is a lower bound.
        /// - Complexity: O(1), wait-free.
        @inlinable public var availableToRead: Int {
            storage.producerPosition.pointee.load(ordering: .acquiring)
                &- storage.consumerPosition.pointee.load(ordering: .relaxed)
        }

        /// Reads up to `buffer.count` elements, oldest first, and releases their slots to the producer.
        ///
        /// - Parameter buffer: Receives the elements, from its start.
        /// - Returns: The number read, from `0` (buffer empty) to `buffer.count`.
        /// - Complexity: O(n) copies in at most two `memcpy`s; wait-free, real-time safe.
        @inlinable @discardableResult
        public func read(into buffer: UnsafeMutableBufferPointer<Element>) -> Int {
            let s = storage
            let position = s.consumerPosition.pointee.load(ordering: .relaxed)
            var available = s.consumerCache.pointee &- position
            if available < buffer.count {
                // Acquire: the producer's writes of the published elements happen before we read them.
                s.consumerCache.pointee = s.producerPosition.pointee.load(ordering: .acquiring)
                available = s.consumerCache.pointee &- position
            }
            let count = Swift.min(available, buffer.count)
            guard count > 0, let destination = buffer.baseAddress else { return 0 }
            s.copyOut(to: destination, count: count, at: position)
            // Release: hands the `count` slots back to the producer, after our reads of them.
            s.consumerPosition.pointee.store(position &+ count, ordering: .releasing)
            return count
        }

        /// Reads one element.
        ///
        /// - Returns: The oldest element, or `nil` if the buffer is empty.
        /// - Complexity: O(1), wait-free, real-time safe.
        @inlinable
        public func read() -> Element? {
            var element: Element? = nil
            withUnsafeTemporaryAllocation(of: Element.self, capacity: 1) { slot in
                if read(into: slot) == 1 { element = slot[0] }
            }
            return element
        }
    }
}

extension SPSCRingBuffer.Producer: @unchecked Sendable where Element: Sendable {}
extension SPSCRingBuffer.Consumer: @unchecked Sendable where Element: Sendable {}
