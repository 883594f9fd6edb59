#!/usr/bin/env python3
"""Generate twiml.json: TwiML documents as the official twilio Python SDK renders them.

Each case has a language-neutral "build" tree. This script turns the tree into calls on the
SDK's own builder (VoiceResponse().connect().stream(...).parameter(...), ...), renders it with
str(response), and stores the exact string. A Swift test builds the same tree with VoicePipe's
builder and compares bytes.

Build tree node:
    {"element": "Stream",                       # XML element name
     "attributes": [["url", "wss://..."], ...],  # in the order a caller would pass them;
                                                 # the SDK sorts them by name when rendering
     "text": "...",                              # optional: text content (Say, Redirect)
     "children": [node, ...]}

Usage:
    pip install twilio==9.13.0
    python3 TestVectors/twilio/generate_twiml.py           # rewrite twiml.json
    python3 TestVectors/twilio/generate_twiml.py --check   # compare with the committed file
"""

import os
import re
import sys
import xml.etree.ElementTree as ET

sys.dont_write_bytecode = True  # keep __pycache__ out of the vectors folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, dump_json, sdk_metadata, write_or_check  # noqa: E402

from twilio.twiml.voice_response import VoiceResponse  # noqa: E402

XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

# Which SDK method creates each element, and which keyword (if any) carries its text.
SDK_METHOD = {
    "Connect": ("connect", None),
    "Start": ("start", None),
    "Stop": ("stop", None),
    "Stream": ("stream", None),
    "Parameter": ("parameter", None),
    "Say": ("say", "message"),
    "Pause": ("pause", None),
    "Hangup": ("hangup", None),
    "Redirect": ("redirect", "url"),
    "Dial": ("dial", "number"),
    "Number": ("number", "phone_number"),
}

# --- tiny helpers to write the build trees below ------------------------------------------


def el(element, attributes=(), text=None, children=()):
    node = {"element": element, "attributes": [list(a) for a in attributes]}
    if text is not None:
        node["text"] = text
    node["children"] = list(children)
    return node


def response(*children):
    return el("Response", children=children)


STREAM_URL = "wss://agent.example.com/twilio/media"
TRICKY = "Tom & Jerry <say> \"hi\" 'there' > café 🎉"


CASES = [
    {
        "name": "empty_response",
        "description": "A <Response> with nothing in it.",
        "build": response(),
    },
    {
        "name": "connect_stream_two_parameters",
        "description": "Bidirectional stream: <Connect><Stream url name> with two <Parameter>s, "
        "which arrive in start.customParameters.",
        "build": response(
            el("Connect", children=[
                el("Stream", [("url", STREAM_URL), ("name", "agent-stream")], children=[
                    el("Parameter", [("name", "callerId"), ("value", "+14155550199")]),
                    el("Parameter", [("name", "sessionToken"), ("value", "tok_7f3a9c")]),
                ]),
            ])
        ),
    },
    {
        "name": "start_stream_inbound_status_callback",
        "description": "Unidirectional stream: <Start><Stream> with track, statusCallback and "
        "statusCallbackMethod. Attributes are passed url-first; the SDK writes them sorted.",
        "build": response(
            el("Start", children=[
                el("Stream", [
                    ("url", "wss://agent.example.com/twilio/listen"),
                    ("track", "inbound_track"),
                    ("statusCallback", "https://agent.example.com/twilio/stream-status"),
                    ("statusCallbackMethod", "POST"),
                ]),
            ])
        ),
    },
    {
        "name": "say_voice_language",
        "description": "<Say> with voice and language attributes and text.",
        "build": response(
            el("Say", [("voice", "Polly.Joanna"), ("language", "en-US")],
               text="Hello! Connecting you to the assistant now."),
        ),
    },
    {
        "name": "pause_length_2",
        "description": "<Pause length=\"2\"/>. The SDK gives the same bytes for the integer 2 "
        "and the string \"2\" (checked by the generator).",
        "build": response(el("Pause", [("length", "2")])),
    },
    {
        "name": "hangup",
        "description": "<Hangup/>: an element with no attributes and no content.",
        "build": response(el("Hangup")),
    },
    {
        "name": "redirect_post",
        "description": "<Redirect method=\"POST\"> with the URL as text content.",
        "build": response(
            el("Redirect", [("method", "POST")], text="https://agent.example.com/twilio/next"),
        ),
    },
    {
        "name": "combined_say_pause_connect_hangup",
        "description": "A typical agent answer: greeting, short pause, bidirectional stream, "
        "then hang up once the server closes the WebSocket.",
        "build": response(
            el("Say", [("voice", "Polly.Joanna"), ("language", "en-US")],
               text="Please hold while I connect you."),
            el("Pause", [("length", "1")]),
            el("Connect", children=[
                el("Stream", [("url", STREAM_URL), ("name", "agent-stream")], children=[
                    el("Parameter", [("name", "callerId"), ("value", "+14155550199")]),
                    el("Parameter", [("name", "sessionToken"), ("value", "tok_7f3a9c")]),
                ]),
            ]),
            el("Hangup"),
        ),
    },
    {
        "name": "connect_action_stream_status_callback",
        "description": "<Connect action method> (Twilio requests action after the WebSocket "
        "closes) around a <Stream> with a statusCallback.",
        "build": response(
            el("Connect", [("action", "https://agent.example.com/twilio/after-stream"),
                           ("method", "POST")], children=[
                el("Stream", [
                    ("url", STREAM_URL),
                    ("statusCallback", "https://agent.example.com/twilio/stream-status"),
                    ("statusCallbackMethod", "POST"),
                ]),
            ]),
        ),
    },
    {
        "name": "stop_stream_by_name",
        "description": "<Stop><Stream name/></Stop> stops a unidirectional stream by name.",
        "build": response(el("Stop", children=[el("Stream", [("name", "listener")])])),
    },
    {
        "name": "say_empty",
        "description": "<Say> with no message: the SDK writes an empty element. Passing an empty "
        "string gives the same output (the SDK treats \"\" as no text).",
        "build": response(el("Say")),
    },
    {
        "name": "escape_text_special_and_non_ascii",
        "description": "Text content with & < > \" ' and non-ASCII (é, U+1F389). In text the SDK "
        "escapes only & < >; quotes stay literal; non-ASCII is raw UTF-8.",
        "build": response(el("Say", text=TRICKY)),
    },
    {
        "name": "escape_attribute_special_and_non_ascii",
        "description": "Attribute value with & < > \" ' and non-ASCII. In attributes the SDK "
        "escapes & < > \" (as &quot;); the apostrophe stays literal; non-ASCII is raw UTF-8.",
        "build": response(
            el("Connect", children=[
                el("Stream", [("url", STREAM_URL)], children=[
                    el("Parameter", [("name", "greeting"), ("value", TRICKY)]),
                ]),
            ])
        ),
    },
    {
        "name": "escape_url_query_in_attribute",
        "description": "A URL with query string ?a=1&b=2 in an attribute: & becomes &amp;.",
        "build": response(
            el("Start", children=[
                el("Stream", [
                    ("url", "wss://agent.example.com/twilio/listen"),
                    ("track", "both_tracks"),
                    ("statusCallback", "https://agent.example.com/twilio/status?a=1&b=2"),
                ]),
            ])
        ),
    },
    {
        "name": "escape_url_query_in_text",
        "description": "A URL with query string ?a=1&b=2 as text content of <Redirect>.",
        "build": response(
            el("Redirect", [("method", "POST")],
               text="https://agent.example.com/twilio/next?a=1&b=2"),
        ),
    },
    {
        "name": "escape_attribute_whitespace",
        "description": "Newline, tab and carriage return inside an attribute value become "
        "&#10; &#09; &#13; (so an XML parser does not normalize them to spaces).",
        "build": response(
            el("Connect", children=[
                el("Stream", [("url", STREAM_URL)], children=[
                    el("Parameter", [("name", "note"), ("value", "line1\nline2\tcol\r\nend")]),
                ]),
            ])
        ),
    },
    {
        "name": "escape_text_whitespace_and_cdata_end",
        "description": "Newline, tab and CR in text content are written raw (not escaped); "
        "\"]]>\" is safe because > is always escaped.",
        "build": response(el("Say", text="line1\nline2\tcol\r\nend ]]> done")),
    },
    {
        "name": "say_then_dial_number",
        "description": "A transfer, as VoicePipe's transfer_call tool writes it: <Say> then "
        "<Dial callerId timeout><Number>. The call's stream ends and Twilio dials the number.",
        "build": response(
            el("Say", text="Transferring you now."),
            el("Dial", [("callerId", "+14155550100"), ("timeout", "20")], children=[
                el("Number", text="+14155550123"),
            ]),
        ),
    },
    {
        "name": "attribute_order_sorted",
        "description": "Attributes passed in an arbitrary order come out sorted by name "
        "(ordinal: uppercase before lowercase; statusCallback before statusCallbackMethod).",
        "build": response(
            el("Start", children=[
                el("Stream", [
                    ("url", "wss://agent.example.com/twilio/listen"),
                    ("track", "both_tracks"),
                    ("statusCallbackMethod", "GET"),
                    ("statusCallback", "https://agent.example.com/twilio/stream-status"),
                    ("name", "listener"),
                ]),
            ])
        ),
    },
]

# --- rendering with the SDK ---------------------------------------------------------------


def snake(name):
    """statusCallbackMethod -> status_callback_method (the SDK maps it back to lowerCamel)."""
    return re.sub(r"(?<!^)([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def add_to_sdk(parent, node):
    method_name, text_kw = SDK_METHOD[node["element"]]
    kwargs = {snake(k): v for k, v in node["attributes"]}
    if "text" in node:
        if text_kw is None:
            raise ValueError("%s cannot have text" % node["element"])
        kwargs[text_kw] = node["text"]
    child = getattr(parent, method_name)(**kwargs)
    for grandchild in node["children"]:
        add_to_sdk(child, grandchild)
    return child


def render(build):
    assert build["element"] == "Response" and not build["attributes"]
    resp = VoiceResponse()
    for child in build["children"]:
        add_to_sdk(resp, child)
    return str(resp)


def parsed_matches_build(xml, build):
    """Parse the SDK output back and check it describes exactly the build tree."""
    assert xml.startswith(XML_DECLARATION)
    root = ET.fromstring(xml.encode("utf-8"))

    def same(elem, node):
        if elem.tag != node["element"]:
            return False
        if dict(elem.attrib) != dict(node["attributes"]):
            return False
        text = node.get("text") or None
        if elem.text != text:
            # XML parsers turn a raw CR (and CRLF) in text into LF; account for it.
            if text is None or elem.text != text.replace("\r\n", "\n").replace("\r", "\n"):
                return False
        kids = list(elem)
        return len(kids) == len(node["children"]) and all(
            same(e, n) for e, n in zip(kids, node["children"])
        )

    return same(root, build)


def self_checks():
    """Cross-check the tree interpreter against hand-written SDK calls."""
    r = VoiceResponse()
    s = r.connect().stream(url=STREAM_URL, name="agent-stream")
    s.parameter(name="callerId", value="+14155550199")
    s.parameter(name="sessionToken", value="tok_7f3a9c")
    by_hand = {"connect_stream_two_parameters": str(r)}

    r = VoiceResponse()
    r.pause(length=2)
    by_hand["pause_length_2"] = str(r)

    r = VoiceResponse()
    r.say("")
    by_hand["say_empty"] = str(r)

    r = VoiceResponse()
    r.redirect("https://agent.example.com/twilio/next", method="POST")
    by_hand["redirect_post"] = str(r)
    return by_hand


def main():
    meta = sdk_metadata()
    cases = []
    for case in CASES:
        xml = render(case["build"])
        if not parsed_matches_build(xml, case["build"]):
            sys.exit("build tree and SDK output disagree for " + case["name"])
        cases.append(dict(case, xml=xml))

    rendered = {c["name"]: c["xml"] for c in cases}
    for name, xml in self_checks().items():
        if rendered[name] != xml:
            sys.exit("hand-written SDK call differs from the tree for " + name)

    doc = {
        "about": "TwiML golden vectors: exact str(VoiceResponse) output of the official twilio "
        "Python SDK for each language-neutral build tree. See README.md.",
        "sdk": meta,
        "conventions": {
            "xml_declaration": XML_DECLARATION,
            "declaration_followed_by": "the root element directly (no newline, no indentation)",
            "empty_element": "<Name /> (space before />), also for <Response /> and <Say />",
            "attribute_order": "sorted by attribute name, ordinal (code point) order",
            "text_escapes": {"&": "&amp;", "<": "&lt;", ">": "&gt;"},
            "attribute_escapes": {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;",
                                  "\n": "&#10;", "\r": "&#13;", "\t": "&#09;"},
            "not_escaped": "' in text and attributes, \" in text, raw \\n \\r \\t in text, "
            "all non-ASCII (written as UTF-8)",
        },
        "cases": cases,
    }
    ok = write_or_check(os.path.join(HERE, "twiml.json"), dump_json(doc))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
