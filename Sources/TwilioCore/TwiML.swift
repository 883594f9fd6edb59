//===----------------------------------------------------------------------===//
// VoicePipe — real-time telephony voice pipelines in Swift.
// SPDX-License-Identifier: Apache-2.0
//===----------------------------------------------------------------------===//

/// A TwiML document, written exactly as Twilio's official SDK writes it: the XML declaration, then the
/// elements with no whitespace between them, attributes sorted by name, empty elements as `<Name />`,
/// `&`, `<`, `>` escaped in text and also `"`, newline, return and tab in attribute values.
///
/// ```swift
/// let xml = TwiML.response([
///     .say("Connecting you.", voice: "Polly.Joanna"),
///     .connect(TwiML.Stream(url: "wss://agent.example.com/twilio/media", parameters: [("callerId", from)])),
/// ]).xml
/// ```
public struct TwiML: Sendable, Equatable {
    /// A node of the document.
    public indirect enum Node: Sendable, Equatable {
        /// An element with attributes (written sorted by name) and children.
        case element(name: String, attributes: [String: String], children: [Node])
        /// Character data.
        case text(String)
    }

    /// The root `<Response>` element.
    public var root: Node

    /// A document with `root` as its root element.
    public init(root: Node) { self.root = root }

    /// `<Response>` with these verbs.
    public static func response(_ verbs: [Node]) -> TwiML {
        TwiML(root: .element(name: "Response", attributes: [:], children: verbs))
    }

    /// The XML text.
    public var xml: String {
        var out = #"<?xml version="1.0" encoding="UTF-8"?>"#
        Self.write(root, into: &out)
        return out
    }

    private static func write(_ node: Node, into out: inout String) {
        switch node {
        case .text(let text):
            out += escape(text, attribute: false)
        case .element(let name, let attributes, let children):
            out += "<" + name
            for key in attributes.keys.sorted(by: { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) }) {
                out += " " + key + "=\"" + escape(attributes[key]!, attribute: true) + "\""
            }
            if children.isEmpty {
                out += " />"
            } else {
                out += ">"
                for child in children { write(child, into: &out) }
                out += "</" + name + ">"
            }
        }
    }

    private static func escape(_ text: String, attribute: Bool) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"" where attribute: out += "&quot;"
            case "\n" where attribute: out += "&#10;"
            case "\r" where attribute: out += "&#13;"
            case "\t" where attribute: out += "&#09;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

extension TwiML {
    /// A `<Stream>` noun for `<Connect>` (bidirectional) or `<Start>` (listen-only).
    public struct Stream: Sendable, Equatable {
        /// The `wss://` URL Twilio connects to (no query string: use parameters).
        public var url: String
        /// An optional name, to stop the stream later.
        public var name: String?
        /// `inbound_track`, `outbound_track` or `both_tracks` (for `<Start>`).
        public var track: String?
        /// Status callback URL and method.
        public var statusCallback: String?
        public var statusCallbackMethod: String?
        /// `<Parameter name value>` children: arrive in `start.customParameters`.
        public var parameters: [(name: String, value: String)]

        /// Creates a stream noun.
        public init(
            url: String, name: String? = nil, track: String? = nil, statusCallback: String? = nil,
            statusCallbackMethod: String? = nil, parameters: [(name: String, value: String)] = []
        ) {
            self.url = url
            self.name = name
            self.track = track
            self.statusCallback = statusCallback
            self.statusCallbackMethod = statusCallbackMethod
            self.parameters = parameters
        }

        public static func == (a: Stream, b: Stream) -> Bool { a.node == b.node }

        var node: Node {
            var attributes = ["url": url]
            attributes["name"] = name
            attributes["track"] = track
            attributes["statusCallback"] = statusCallback
            attributes["statusCallbackMethod"] = statusCallbackMethod
            return .element(
                name: "Stream", attributes: attributes,
                children: parameters.map { .element(name: "Parameter", attributes: ["name": $0.name, "value": $0.value], children: []) })
        }
    }
}

extension TwiML.Node {
    /// `<Connect><Stream …/></Connect>`: a bidirectional media stream for the rest of the call.
    public static func connect(_ stream: TwiML.Stream) -> TwiML.Node {
        .element(name: "Connect", attributes: [:], children: [stream.node])
    }

    /// `<Start><Stream …/></Start>`: a listen-only stream while the call goes on.
    public static func start(_ stream: TwiML.Stream) -> TwiML.Node {
        .element(name: "Start", attributes: [:], children: [stream.node])
    }

    /// `<Say>`.
    public static func say(_ text: String, voice: String? = nil, language: String? = nil) -> TwiML.Node {
        var attributes: [String: String] = [:]
        attributes["voice"] = voice
        attributes["language"] = language
        return .element(name: "Say", attributes: attributes, children: text.isEmpty ? [] : [.text(text)])
    }

    /// `<Pause length="seconds"/>`.
    public static func pause(seconds: Int? = nil) -> TwiML.Node {
        .element(name: "Pause", attributes: seconds.map { ["length": String($0)] } ?? [:], children: [])
    }

    /// `<Hangup/>`.
    public static var hangup: TwiML.Node { .element(name: "Hangup", attributes: [:], children: []) }

    /// `<Dial callerId timeout><Number>number</Number></Dial>`: connect the caller to `number` (E.164). With
    /// no `callerId` Twilio shows the caller's own number; `timeout` is how long it rings, in seconds.
    public static func dial(_ number: String, callerId: String? = nil, timeout: Int? = nil) -> TwiML.Node {
        var attributes: [String: String] = [:]
        attributes["callerId"] = callerId
        attributes["timeout"] = timeout.map(String.init)
        return .element(
            name: "Dial", attributes: attributes, children: [.element(name: "Number", attributes: [:], children: [.text(number)])])
    }

    /// `<Redirect>url</Redirect>`.
    public static func redirect(_ url: String, method: String? = nil) -> TwiML.Node {
        .element(name: "Redirect", attributes: method.map { ["method": $0] } ?? [:], children: [.text(url)])
    }
}
