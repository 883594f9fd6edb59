//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import Foundation
import Testing
import VoiceDSP
import VoicePipeTestSupport

@Suite("SPSCRingBuffer, single thread")
struct SPSCRingBufferTests {
    @Test("capacity is rounded up to a power of two", arguments: [(1, 1), (2, 2), (3, 4), (160, 256), (4096, 4096), (4097, 8192)])
    func capacityRounding(requested: Int, expected: Int) {
        let ring = SPSCRingBuffer<Int16>(minimumCapacity: requested)
        #expect(ring.producer.capacity == expected)
        #expect(ring.consumer.capacity == expected)
        #expect(ring.producer.availableToWrite == expected)
        #expect(ring.consumer.availableToRead == 0)
    }

    @Test("a write into a full buffer writes nothing and a read from an empty one reads nothing")
    func fullAndEmpty() {
        let ring = SPSCRingBuffer<Int32>(minimumCapacity: 8)
        let producer = ring.producer
        let consumer = ring.consumer
        let emptyRead = consumer.read()
        #expect(emptyRead == nil)
        let items: [Int32] = Array(0..<10)
        #expect(items.withUnsafeBufferPointer { producer.write($0) } == 8)
        #expect(producer.availableToWrite == 0)
        let wroteWhenFull = producer.write(99)
        #expect(!wroteWhenFull)
        #expect(items.withUnsafeBufferPointer { producer.write($0) } == 0)
        var out = [Int32](repeating: -1, count: 10)
        #expect(out.withUnsafeMutableBufferPointer { consumer.read(into: $0) } == 8)
        #expect(Array(out[..<8]) == Array(items[..<8]))
        #expect(out[8...].allSatisfy { $0 == -1 })
        let readWhenEmpty = consumer.read()
        #expect(readWhenEmpty == nil)
        let wrote = producer.write(42)
        let read = consumer.read()
        #expect(wrote && read == 42)
    }

    /// Every capacity x start position x write size, like swift-collections' `withEveryDeque`: the wrap-around
    /// copy is exercised at every split point.
    @Test("every capacity, start slot and chunk size keeps order and count", arguments: [1, 2, 4, 8, 16])
    func everyLayout(capacity: Int) {
        for start in 0..<capacity {
            for chunk in 1...capacity {
                let ring = SPSCRingBuffer<UInt16>(minimumCapacity: capacity)
                let producer = ring.producer
                let consumer = ring.consumer
                // Advance both positions to `start`.
                for _ in 0..<start {
                    let wrote = producer.write(0xFFFF)
                    let read = consumer.read()
                    #expect(wrote && read == 0xFFFF)
                }
                let items = (0..<chunk).map { UInt16($0 + 1) }
                #expect(items.withUnsafeBufferPointer { producer.write($0) } == chunk)
                #expect(consumer.availableToRead == chunk)
                #expect(producer.availableToWrite == capacity - chunk)
                var out = [UInt16](repeating: 0, count: chunk)
                #expect(out.withUnsafeMutableBufferPointer { consumer.read(into: $0) } == chunk)
                #expect(out == items, "capacity \(capacity) start \(start) chunk \(chunk)")
            }
        }
    }

    @Test("elements wider than a word are copied whole")
    func wideElements() {
        struct Frame: Equatable, BitwiseCopyable {
            var a: Int64
            var b: Int32
            var c: UInt8
        }
        let ring = SPSCRingBuffer<Frame>(minimumCapacity: 4)
        let producer = ring.producer
        let consumer = ring.consumer
        for round in 0..<10 {
            let frames = (0..<3).map { Frame(a: Int64(round * 10 + $0), b: Int32(-$0), c: UInt8($0)) }
            #expect(frames.withUnsafeBufferPointer { producer.write($0) } == 3)
            var out = [Frame](repeating: Frame(a: 0, b: 0, c: 0), count: 3)
            #expect(out.withUnsafeMutableBufferPointer { consumer.read(into: $0) } == 3)
            #expect(out == frames)
        }
    }
}

@Suite("SPSCRingBuffer, two threads")
struct SPSCRingBufferConcurrencyTests {
    /// How many samples the two-thread test moves (the issue asks for at least 50 million).
    static let sampleCount = 50_000_000

    @Test("a producer and a consumer thread move 50 million samples in random chunk sizes, in order")
    func producerConsumerThreads() async {
        let ring = SPSCRingBuffer<UInt32>(minimumCapacity: 1024)
        let producer = ring.producer
        let consumer = ring.consumer
        let total = Self.sampleCount

        let producerThread = TestThread {
            var rng = SplitMix64(seed: 1)
            var chunk = [UInt32](repeating: 0, count: 700)
            var next: UInt32 = 0
            var sent = 0
            while sent < total {
                let size = min(Int(rng.next() % 700) + 1, total - sent)
                for i in 0..<size { chunk[i] = next &+ UInt32(truncatingIfNeeded: i) }
                var offset = 0
                while offset < size {
                    let written = chunk.withUnsafeBufferPointer {
                        producer.write(UnsafeBufferPointer(rebasing: $0[offset..<size]))
                    }
                    if written == 0 { sched_yield() }
                    offset += written
                }
                next &+= UInt32(size)
                sent += size
            }
            return sent
        }
        let consumerThread = TestThread {
            var rng = SplitMix64(seed: 2)
            var buffer = [UInt32](repeating: 0, count: 700)
            var expected: UInt32 = 0
            var received = 0
            var outOfOrder = 0
            while received < total {
                let size = Int(rng.next() % 700) + 1
                let count = buffer.withUnsafeMutableBufferPointer {
                    consumer.read(into: UnsafeMutableBufferPointer(rebasing: $0[0..<size]))
                }
                if count == 0 { sched_yield() }
                for i in 0..<count where buffer[i] != expected &+ UInt32(i) { outOfOrder += 1 }
                expected &+= UInt32(count)
                received += count
            }
            return (received, outOfOrder)
        }
        let sent = await producerThread.value
        let (received, outOfOrder) = await consumerThread.value
        #expect(sent == total)
        #expect(received == total)
        #expect(outOfOrder == 0)
        #expect(consumer.availableToRead == 0)
    }
}

/// Runs a closure on a dedicated OS thread (not the cooperative pool, which the spinning loops would starve)
/// and hands back its result.
///
/// The result is handed over under an `NSCondition` (a pthread mutex and condition variable, which
/// ThreadSanitizer intercepts). A `DispatchSemaphore` is not enough: libdispatch waits on a futex that TSan
/// cannot see, so it reported the hand-over itself as a race.
final class TestThread<Result: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var result: Result?  // guarded by `condition`

    init(_ body: @escaping @Sendable () -> Result) {
        let thread = Thread { [self] in
            let value = body()
            condition.lock()
            result = value
            condition.signal()
            condition.unlock()
        }
        thread.start()
    }

    var value: Result {
        get async {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { [self] in
                    condition.lock()
                    while result == nil { condition.wait() }
                    let value = result!
                    condition.unlock()
                    continuation.resume(returning: value)
                }
            }
        }
    }
}
