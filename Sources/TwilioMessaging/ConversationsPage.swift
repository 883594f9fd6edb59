//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

import NIOHTTP1

/// One page of a Conversations v1 list: the items, found under the key `meta.key` names
/// (`conversations`, `participants`, `messages`, …), and the paging metadata with **absolute** URLs.
///
/// Pass the page to ``TwilioConversationsClient/nextPage(after:)`` for the next one, or iterate a
/// ``ConversationsSequence`` to walk all pages.
public struct ConversationsPage<Item: Decodable & Sendable & Hashable>: Sendable, Hashable, Decodable {
    /// The paging metadata (`meta`).
    public struct Meta: Sendable, Hashable, Decodable {
        /// The page number, from 0 (informative: the page token carries the position).
        public var page: Int?
        /// The page size.
        public var pageSize: Int?
        /// The first page's absolute URL.
        public var firstPageURL: String?
        /// The previous page's absolute URL, `nil` on the first page.
        public var previousPageURL: String?
        /// This page's absolute URL.
        public var url: String?
        /// The next page's absolute URL (with a `PageToken`), `nil` on the last page.
        public var nextPageURL: String?
        /// The name of the list's key in the body.
        public var key: String?

        /// Metadata.
        public init(
            page: Int? = nil, pageSize: Int? = nil, firstPageURL: String? = nil, previousPageURL: String? = nil, url: String? = nil,
            nextPageURL: String? = nil, key: String? = nil
        ) {
            self.page = page
            self.pageSize = pageSize
            self.firstPageURL = firstPageURL
            self.previousPageURL = previousPageURL
            self.url = url
            self.nextPageURL = nextPageURL
            self.key = key
        }

        private enum CodingKeys: String, CodingKey {
            case page, url, key
            case pageSize = "page_size"
            case firstPageURL = "first_page_url"
            case previousPageURL = "previous_page_url"
            case nextPageURL = "next_page_url"
        }
    }

    /// The items on this page.
    public var items: [Item]
    /// The paging metadata.
    public var meta: Meta

    /// The next page's absolute URL, `nil` on the last page.
    public var nextPageURL: String? { meta.nextPageURL }

    /// A page (for tests and stand-ins; the client decodes Twilio's).
    public init(items: [Item], meta: Meta = Meta()) {
        self.items = items
        self.meta = meta
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    /// Decodes a page: `meta`, then the list under `meta.key`.
    ///
    /// - Throws: `DecodingError` when `meta` or its key is missing, or the list does not decode.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        meta = try container.decode(Meta.self, forKey: AnyKey(stringValue: "meta"))
        guard let key = meta.key, key != "meta" else {
            throw DecodingError.dataCorrupted(
                DecodingError.Context(codingPath: [AnyKey(stringValue: "meta")], debugDescription: "meta.key is missing"))
        }
        items = try container.decode([Item].self, forKey: AnyKey(stringValue: key))
    }
}

/// Every item of a Conversations list, fetched page by page as it is iterated (for example
/// ``TwilioConversationsClient/messages(in:order:pageSize:)``).
///
/// The first page is one GET; each next one GETs the previous page's `meta.next_page_url` as it is, as
/// Twilio's SDKs do. Iteration stops after the last page, or throws the ``MessagingError`` of a page that
/// failed (after the client's retries).
public struct ConversationsSequence<Item: Decodable & Sendable & Hashable>: AsyncSequence, Sendable {
    /// An item.
    public typealias Element = Item
    /// The error a failed page throws.
    public typealias Failure = MessagingError

    let client: TwilioConversationsClient
    let firstPathAndQuery: String

    /// The iterator.
    public struct AsyncIterator: AsyncIteratorProtocol, Sendable {
        /// An item.
        public typealias Element = Item
        /// The error a failed page throws.
        public typealias Failure = MessagingError

        let client: TwilioConversationsClient
        let firstPathAndQuery: String
        var page: ConversationsPage<Item>?
        var index = 0
        var finished = false

        /// The next item, fetching the next page when this one is used up; `nil` after the last page.
        public mutating func next() async throws(MessagingError) -> Item? {
            while !finished {
                if let page, index < page.items.count {
                    index += 1
                    return page.items[index - 1]
                }
                let fetched: ConversationsPage<Item>?
                do {
                    if let page {
                        fetched = try await client.nextPage(after: page)
                    } else {
                        fetched =
                            try await client.perform(
                                method: .GET, pathAndQuery: firstPathAndQuery, form: nil, idempotent: true) as ConversationsPage<Item>
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
                if fetched.items.isEmpty { finished = true }  // never loop on empty pages
            }
            return nil
        }

        /// The next item (see ``next()``).
        public mutating func next(isolation actor: isolated (any Actor)?) async throws(MessagingError) -> Item? {
            try await next()
        }
    }

    /// Starts an iteration (nothing is fetched until the first `next()`).
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(client: client, firstPathAndQuery: firstPathAndQuery) }
}
