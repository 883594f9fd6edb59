//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// Every message matching a query, fetched page by page as it is iterated (``TwilioMessagingClient/messages(_:)``).
///
/// Each page is one GET; the next one follows Twilio's `next_page_uri`. Iteration stops after the last
/// page, or throws the ``MessagingError`` of a page that failed (after the client's retries).
public struct MessageSequence: AsyncSequence, Sendable {
    /// A message.
    public typealias Element = Message
    /// The error a failed page throws.
    public typealias Failure = MessagingError

    let client: TwilioMessagingClient
    let query: MessageQuery

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        /// A message.
        public typealias Element = Message
        /// The error a failed page throws.
        public typealias Failure = MessagingError

        let client: TwilioMessagingClient
        let query: MessageQuery
        var page: MessagePage?
        var index = 0
        var finished = false

        /// The next message, fetching the next page when this one is used up; `nil` after the last page.
        public mutating func next() async throws(MessagingError) -> Message? {
            while !finished {
                if let page, index < page.messages.count {
                    index += 1
                    return page.messages[index - 1]
                }
                let fetched: MessagePage?
                do {
                    if let page {
                        fetched = try await client.nextPage(after: page)
                    } else {
                        fetched = try await client.listMessages(query)
                    }
                } catch {
                    finished = true
                    throw error
                }
                guard let fetched else {
                    finished = true
                    return nil
                }
                page = fetched
                index = 0
                if fetched.messages.isEmpty { finished = true }  // never loop on empty pages
            }
            return nil
        }

        /// The next message (see ``next()``).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(MessagingError) -> Message? {
            try await next()
        }
    }

    /// Starts an iteration (nothing is fetched until the first `next()`).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(client: client, query: query) }
}
