//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// One page of a message list, as Twilio returns it: the messages (newest first) and the paging keys at
/// the top level, with paths relative to the API's origin.
///
/// Pass the page to ``TwilioMessagingClient/nextPage(after:)`` to get the next one, or iterate
/// ``TwilioMessagingClient/messages(_:)`` to walk all pages.
public struct MessagePage: Sendable, Hashable, Decodable {
    /// The messages on this page.
    public var messages: [Message]
    /// The next page's path and query (`…/Messages.json?…&PageToken=PA…`), `nil` on the last page.
    public var nextPageURI: String?
    /// The previous page's path and query, `nil` on the first page.
    public var previousPageURI: String?
    /// The first page's path and query.
    public var firstPageURI: String?
    /// This page's path and query.
    public var uri: String?
    /// The page number, from 0 (informative: the page token carries the position).
    public var page: Int?
    /// The page size asked for.
    public var pageSize: Int?
    /// The index of the first message on this page in the whole list.
    public var start: Int?
    /// The index of the last message on this page.
    public var end: Int?

    /// Creates a page (for tests and stand-ins; the client decodes Twilio's).
    public init(
        messages: [Message] = [], nextPageURI: String? = nil, previousPageURI: String? = nil, firstPageURI: String? = nil,
        uri: String? = nil, page: Int? = nil, pageSize: Int? = nil, start: Int? = nil, end: Int? = nil
    ) {
        self.messages = messages
        self.nextPageURI = nextPageURI
        self.previousPageURI = previousPageURI
        self.firstPageURI = firstPageURI
        self.uri = uri
        self.page = page
        self.pageSize = pageSize
        self.start = start
        self.end = end
    }

    private enum CodingKeys: String, CodingKey {
        case messages, uri, page, start, end
        case nextPageURI = "next_page_uri"
        case previousPageURI = "previous_page_uri"
        case firstPageURI = "first_page_uri"
        case pageSize = "page_size"
    }
}

/// Which messages to list (`GET …/Messages.json`): filters and a page size.
public struct MessageQuery: Sendable, Hashable {
    /// Only messages to this address (E.164 or `whatsapp:+…`).
    public var to: String?
    /// Only messages from this address.
    public var from: String?
    /// Messages per page (Twilio's default is 50, its maximum 1000).
    public var pageSize: Int?

    /// Creates a query; all parts are optional.
    public init(to: String? = nil, from: String? = nil, pageSize: Int? = nil) {
        self.to = to
        self.from = from
        self.pageSize = pageSize
    }

    /// The query fields, in Twilio's names and in the order its Python SDK sends them.
    public var queryFields: [(String, String)] {
        var fields: [(String, String)] = []
        if let to { fields.append(("To", to)) }
        if let from { fields.append(("From", from)) }
        if let pageSize { fields.append(("PageSize", String(pageSize))) }
        return fields
    }
}
