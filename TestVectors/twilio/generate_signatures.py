#!/usr/bin/env python3
"""Generate signatures.json: X-Twilio-Signature vectors from the official twilio Python SDK.

Every number in the file comes from twilio.request_validator.RequestValidator:
  * "expected_signature" = compute_signature(url, params) with the case's auth_token: what a
    correct signer produces for this request;
  * "valid"              = validate(url, <params or body>, signature): the SDK's verdict on the
    header value "signature" (which for negative cases is deliberately wrong).
"expected_valid" is the verdict VoicePipe should give. It equals "valid" for every case except
those with an "sdk_quirk" note, where the SDK is more lenient than the protocol.

The script also re-derives each signature with its own plain implementation of the algorithm
documented in README.md ("signed_string" -> HMAC-SHA1 -> base64) and stops if the two differ.

Usage:
    pip install twilio==9.13.0
    python3 TestVectors/twilio/generate_signatures.py           # rewrite signatures.json
    python3 TestVectors/twilio/generate_signatures.py --check   # compare with the committed file
"""

import base64
import hashlib
import hmac
import os
import sys

sys.dont_write_bytecode = True  # keep __pycache__ out of the vectors folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, dump_json, sdk_metadata, write_or_check  # noqa: E402

from twilio.request_validator import RequestValidator  # noqa: E402

TOKEN = "12345"  # the token used in Twilio's own documentation example
AGENT_TOKEN = "4f1c2d3e5a6b7c8d9e0f1a2b3c4d5e6f"  # a made-up 32-hex-digit auth token
OTHER_TOKEN = "0000aaaa1111bbbb2222cccc3333dddd"


class MultiValueParams:
    """Minimal multi-valued form (like Django's QueryDict): iterating gives the keys and
    getlist(key) gives every value in arrival order. The SDK's get_values() uses getlist()."""

    def __init__(self, pairs):
        self._pairs = [tuple(p) for p in pairs]

    def __iter__(self):
        seen = []
        for k, _ in self._pairs:
            if k not in seen:
                seen.append(k)
        return iter(seen)

    def __len__(self):
        return len(self._pairs)

    def getlist(self, key):
        return [v for k, v in self._pairs if k == key]


def sdk_params(pairs):
    """Form fields as the SDK expects them: a dict, or a multi-dict when a key repeats."""
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        return MultiValueParams(pairs)
    return {k: v for k, v in pairs}


def own_signed_string(url, pairs):
    """The documented algorithm, written out independently of the SDK."""
    s = url
    for key in sorted({k for k, _ in pairs}):  # Python str order = Unicode code point order
        for value in sorted({v for k, v in pairs if k == key}):  # distinct values, sorted
            s += key + value
    return s


def own_signature(token, signed_string, digest=hashlib.sha1):
    mac = hmac.new(token.encode("utf-8"), signed_string.encode("utf-8"), digest)
    return base64.b64encode(mac.digest()).decode("ascii")


def body_hash(body):
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


DOCS_PARAMS = [
    ["CallSid", "CA1234567890ABCDE"],
    ["Caller", "+14158675310"],
    ["Digits", "1234"],
    ["From", "+14158675310"],
    ["To", "+18005551212"],
]

VOICE_URL = "https://agent.example.com/twilio/voice"
VOICE_PARAMS = [
    ["AccountSid", "AC0123456789abcdef0123456789abcdef"],
    ["ApiVersion", "2010-04-01"],
    ["CallSid", "CAfedcba9876543210fedcba9876543210"],
    ["CallStatus", "ringing"],
    ["Called", "+14155550100"],
    ["Caller", "+14155550199"],
    ["Direction", "inbound"],
    ["From", "+14155550199"],
    ["To", "+14155550100"],
]

JSON_BODY = '{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}'
JSON_URL = "https://agent.example.com/twilio/events?bodySHA256=" + body_hash(JSON_BODY)

# Each spec: name, description, url, params (pairs), and optionally
#   token (validator's token, default AGENT_TOKEN), body (JSON body string),
#   validate_with ("params" | "body" | "empty_params"), signer (how the presented header was
#   made: {"token", "url", "params", "body"} overrides, or {"literal": "..."}),
#   algorithm, sdk_quirk, expected_valid (default: True).
SPECS = [
    # --- positive: form POST ---------------------------------------------------------------
    dict(name="docs_worked_example",
         description="The example on Twilio's security page: token 12345, POST to a URL that "
         "already has a query string. Expected signature L/OH5YylLD5NRKLltdqwSvS0BnU=.",
         token=TOKEN, url="https://example.com/myapp.php?foo=1&bar=2", params=DOCS_PARAMS),
    dict(name="simple_form_post",
         description="Voice webhook form POST with typical fields.",
         url=VOICE_URL, params=VOICE_PARAMS),
    dict(name="form_post_param_order_irrelevant",
         description="The same fields as simple_form_post received in another order: the "
         "signature is identical because names are sorted.",
         url=VOICE_URL, params=list(reversed(VOICE_PARAMS))),
    dict(name="form_unicode_spaces_plus_amp_equals",
         description="Decoded field values with non-ASCII, spaces, +, &, =, a newline and an "
         "emoji; they are concatenated raw (not re-encoded).",
         url="https://agent.example.com/twilio/sms",
         params=[["Body", "Héllo wörld 🎉 a+b & c=d\nsecond line"],
                 ["From", "+14155550199"],
                 ["ProfileName", "Zoë & Ana"],
                 ["Query", "x=1&y=2"],
                 ["To", "+14155550100"]]),
    dict(name="form_case_sensitive_ordinal_key_sort",
         description="Names sort by code point, case-sensitive: 'B' < 'Z' < '_' < 'a' < 'é'. "
         "A case-insensitive or locale sort gives a different signature.",
         url=VOICE_URL,
         params=[["a", "4"], ["_x", "3"], ["Z", "2"], ["B", "1"], ["é", "5"]]),
    dict(name="form_astral_vs_bmp_key_sort",
         description="Code-point order puts U+FF21 (fullwidth A, BMP) before U+1F600 (astral). "
         "UTF-16 code-unit order (JavaScript sort) would put the astral one first.",
         url=VOICE_URL,
         params=[["\U0001F600", "astral"], ["\uFF21", "bmp"], ["A", "ascii"]]),
    dict(name="form_empty_value",
         description="An empty value contributes just its name.",
         url=VOICE_URL, params=[["CallSid", "CA1"], ["Digits", ""], ["To", "+14155550100"]]),
    dict(name="form_repeated_key",
         description="A repeated name (as Twilio sends StatusCallbackEvent): each distinct "
         "value is appended as name+value, values sorted, in the name's sorted position. "
         "Received order: initiated, ringing, answered, completed.",
         url=VOICE_URL,
         params=[["To", "+14155550100"],
                 ["StatusCallbackEvent", "initiated"],
                 ["StatusCallbackEvent", "ringing"],
                 ["StatusCallbackEvent", "answered"],
                 ["StatusCallbackEvent", "completed"],
                 ["From", "+14155550199"]]),
    dict(name="form_repeated_key_duplicate_value",
         description="A repeated name whose values repeat: the SDK drops duplicates "
         "(sorted(set(values))), so 'b' is appended once.",
         url=VOICE_URL,
         params=[["K", "b"], ["K", "a"], ["K", "b"], ["Z", "z"]]),
    dict(name="form_repeated_key_nfc_nfd_distinct",
         description="Values U+00E9 and U+0065 U+0301 are canonically equivalent but different "
         "code points; the SDK keeps both. (Swift's String == would merge them: compare "
         "unicodeScalars or UTF-8 bytes.)",
         url=VOICE_URL,
         params=[["Name", "\u00e9"], ["Name", "e\u0301"]]),
    # --- positive: no form params -------------------------------------------------------
    dict(name="get_query_only",
         description="GET: all parameters are in the query string, which is signed as-is "
         "(escapes and order unchanged); there are no form fields.",
         url="https://agent.example.com/twilio/voice?CallSid=CA1&From=%2B14155550199"
         "&To=%2B14155550100&Body=hello%20world",
         params=[]),
    dict(name="empty_params_no_query",
         description="No query string and no fields: the signed string is just the URL.",
         url="https://agent.example.com/twilio/voice", params=[]),
    dict(name="websocket_upgrade_wss",
         description="Media Streams WebSocket upgrade: signed URL is the wss:// URL from "
         "<Stream url>, no params.",
         url="wss://agent.example.com/twilio/media", params=[]),
    # --- JSON body (bodySHA256) ---------------------------------------------------------
    dict(name="json_body_sha256",
         description="application/json body: the URL carries ?bodySHA256=<lowercase hex "
         "SHA-256 of the raw body>; the signature covers the URL only. validate() is given the "
         "body as a string: it checks the hash, then validates the URL with no params.",
         url=JSON_URL, params=[], body=JSON_BODY, validate_with="body"),
    dict(name="neg_json_body_tampered",
         description="Same URL and signature, but the body differs from the hash in the URL.",
         url=JSON_URL, params=[], body=JSON_BODY.replace("+12349013030", "+19999999999"),
         validate_with="body", signer={"body": JSON_BODY}, expected_valid=False),
    dict(name="neg_json_body_reserialized",
         description="The same JSON re-serialized with spaces: a different hash, so invalid. "
         "Hash the raw bytes received.",
         url=JSON_URL, params=[], body='{"CallSid": "CA1234567890ABCDE", "Caller": "+12349013030"}',
         validate_with="body", signer={"body": JSON_BODY}, expected_valid=False),
    dict(name="neg_json_body_sha256_uppercase_hex",
         description="The URL carries the body hash in UPPERCASE hex (and the signature covers "
         "that URL). The SDK compares the hex strings exactly, so it is invalid: Twilio sends "
         "lowercase; do not compare case-insensitively.",
         url=JSON_URL.split("=")[0] + "=" + body_hash(JSON_BODY).upper(), params=[],
         body=JSON_BODY, validate_with="body", expected_valid=False),
    dict(name="quirk_json_body_not_checked_when_params_dict",
         description="validate() only checks bodySHA256 when the body is passed as a str. Given "
         "a dict ({}) it validates the URL alone, so a tampered body is accepted.",
         url=JSON_URL, params=[], body=JSON_BODY.replace("+12349013030", "+19999999999"),
         validate_with="empty_params", signer={"body": JSON_BODY},
         sdk_quirk="The SDK returns true because it never hashes the body in this call form. "
         "VoicePipe must hash the raw body whenever bodySHA256 is present.",
         expected_valid=False),
    # --- port variants ------------------------------------------------------------------
    dict(name="port_signed_without_request_has_443",
         description="Signed as https://host/path, request URL https://host:443/path: valid "
         "(validate() also tries the URL with its port removed).",
         url="https://agent.example.com:443/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "https://agent.example.com/twilio/voice"}),
    dict(name="port_signed_with_443_request_without",
         description="Signed as https://host:443/path, request URL https://host/path: valid "
         "(validate() also tries the URL with :443 added for https).",
         url="https://agent.example.com/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "https://agent.example.com:443/twilio/voice"}),
    dict(name="port_signed_with_443_request_with_443",
         description="Signed and requested with explicit :443: valid.",
         url="https://agent.example.com:443/twilio/voice", params=VOICE_PARAMS),
    dict(name="port_signed_without_request_has_8443",
         description="Signed without a port, request URL has :8443: valid, because "
         "remove_port() strips any port, not only the default one.",
         url="https://agent.example.com:8443/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "https://agent.example.com/twilio/voice"},
         note="Any port is stripped, not only 443. This is what makes voice-over-HTTPS "
         "webhooks on a non-default port validate (Twilio drops the port when it signs those); "
         "VoicePipe accepts it too."),
    dict(name="neg_port_signed_with_8443_request_without",
         description="Signed with :8443, request URL without a port: invalid (add_port() only "
         "adds the default port 443).",
         url="https://agent.example.com/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "https://agent.example.com:8443/twilio/voice"}, expected_valid=False),
    dict(name="port_http_signed_without_request_has_80",
         description="http: signed without a port, request URL with :80: valid.",
         url="http://agent.example.com:80/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "http://agent.example.com/twilio/voice"}),
    dict(name="port_http_signed_with_80_request_without",
         description="http: signed with :80, request URL without: valid (:80 added for "
         "non-https schemes).",
         url="http://agent.example.com/twilio/voice", params=VOICE_PARAMS,
         signer={"url": "http://agent.example.com:80/twilio/voice"}),
    dict(name="port_wss_signed_without_request_has_443",
         description="wss: signed without a port, request URL with :443: valid (port removed).",
         url="wss://agent.example.com:443/twilio/media", params=[],
         signer={"url": "wss://agent.example.com/twilio/media"}),
    dict(name="neg_port_wss_signed_with_443_request_without",
         description="wss: signed with :443, request URL without a port: invalid, because "
         "add_port() adds :80 for every scheme except https (wss is not treated like https).",
         url="wss://agent.example.com/twilio/media", params=[],
         signer={"url": "wss://agent.example.com:443/twilio/media"}, expected_valid=False),
    dict(name="quirk_trailing_question_mark",
         description="A genuine signature over a URL ending in a bare '?': validate() rebuilds "
         "the URL with urlparse().geturl(), which drops the '?', so it rejects it.",
         url="https://agent.example.com/twilio/voice?", params=VOICE_PARAMS,
         sdk_quirk="The SDK rejects a correct signature; VoicePipe should sign the URL exactly "
         "as received and accept it.",
         expected_valid=True),
    # --- SharedKey HMAC-SHA256 (X-Twilio-Webhooks-Signature-Settings) -------------------
    dict(name="sha256_shared_key",
         description="HMAC-SHA256 with a SharedKey secret (header algorithm=HMAC_SHA256): "
         "same signed string, 32-byte digest.",
         url=VOICE_URL, params=VOICE_PARAMS, algorithm="HMAC_SHA256"),
    dict(name="neg_sha1_signature_checked_as_sha256",
         description="A SHA-1 signature presented while the settings header says HMAC_SHA256.",
         url=VOICE_URL, params=VOICE_PARAMS, algorithm="HMAC_SHA256",
         signer={"algorithm": "HMAC_SHA1"}, expected_valid=False),
    # --- negative ------------------------------------------------------------------------
    dict(name="neg_wrong_token",
         description="Signature made with another auth token.",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"token": OTHER_TOKEN}, expected_valid=False),
    dict(name="neg_tampered_param_value",
         description="One field's value was changed after signing (To).",
         url=VOICE_URL,
         params=[p if p[0] != "To" else ["To", "+19005550123"] for p in VOICE_PARAMS],
         signer={"params": VOICE_PARAMS}, expected_valid=False),
    dict(name="neg_missing_param",
         description="A field that was signed is missing from the request (Direction).",
         url=VOICE_URL, params=[p for p in VOICE_PARAMS if p[0] != "Direction"],
         signer={"params": VOICE_PARAMS}, expected_valid=False),
    dict(name="neg_extra_param",
         description="The request has a field that was not signed.",
         url=VOICE_URL, params=VOICE_PARAMS + [["Injected", "1"]],
         signer={"params": VOICE_PARAMS}, expected_valid=False),
    dict(name="neg_different_url",
         description="Signature of a different URL (another path).",
         url=VOICE_URL, params=VOICE_PARAMS,
         signer={"url": "https://agent.example.com/twilio/status"}, expected_valid=False),
    dict(name="neg_trailing_slash",
         description="Signed URL has a trailing slash the request URL lacks.",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"url": VOICE_URL + "/"},
         expected_valid=False),
    dict(name="neg_http_vs_https",
         description="Signed as https, request URL reconstructed as http (TLS-terminating "
         "proxy mistake).",
         url=VOICE_URL.replace("https://", "http://"), params=VOICE_PARAMS,
         signer={"url": VOICE_URL}, expected_valid=False),
    dict(name="neg_query_decoded",
         description="Signed over the percent-encoded query; the request URL was rebuilt with "
         "a decoded query. The query must be used exactly as received.",
         url="https://agent.example.com/twilio/voice?From=+14155550199&Body=hello world",
         params=[],
         signer={"url": "https://agent.example.com/twilio/voice?From=%2B14155550199"
                        "&Body=hello%20world"},
         expected_valid=False),
    dict(name="neg_empty_signature",
         description="Empty X-Twilio-Signature header.",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"literal": ""}, expected_valid=False),
    dict(name="neg_garbage_base64",
         description="Header that is not base64 at all.",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"literal": "!!not*base64??"},
         expected_valid=False),
    dict(name="neg_base64_right_length_wrong_bytes",
         description="Well-formed 28-character base64 of 20 zero bytes: right shape, wrong "
         "value.",
         url=VOICE_URL, params=VOICE_PARAMS,
         signer={"literal": base64.b64encode(bytes(20)).decode()}, expected_valid=False),
    dict(name="neg_signature_with_trailing_newline",
         description="The correct signature plus a trailing newline: compared exactly, so "
         "invalid (the SDK does not trim the header).",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"append": "\n"}, expected_valid=False),
    dict(name="neg_signature_unpadded",
         description="The correct signature without its '=' padding: invalid (string compare).",
         url=VOICE_URL, params=VOICE_PARAMS, signer={"strip_padding": True},
         expected_valid=False),
]


def build_case(spec):
    token = spec.get("token", AGENT_TOKEN)
    url = spec["url"]
    pairs = spec["params"]
    body = spec.get("body")
    algorithm = spec.get("algorithm", "HMAC_SHA1")
    validate_with = spec.get("validate_with", "params")
    signer = spec.get("signer", {})
    digest = hashlib.sha256 if algorithm == "HMAC_SHA256" else hashlib.sha1

    validator = RequestValidator(token)

    # What a correct signer produces for exactly this request.
    expected_signature = validator.compute_signature(url, sdk_params(pairs), algorithm)
    signed_string = own_signed_string(url, pairs)
    if own_signature(token, signed_string, digest) != expected_signature:
        sys.exit("own algorithm disagrees with the SDK for " + spec["name"])

    # The header value presented for validation.
    if "literal" in signer:
        signature = signer["literal"]
        signature_made_from = {"literal": True}
    else:
        s_token = signer.get("token", token)
        s_url = signer.get("url", url)
        s_pairs = signer.get("params", pairs)
        s_alg = signer.get("algorithm", algorithm)
        signature = RequestValidator(s_token).compute_signature(s_url, sdk_params(s_pairs), s_alg)
        s_digest = hashlib.sha256 if s_alg == "HMAC_SHA256" else hashlib.sha1
        if own_signature(s_token, own_signed_string(s_url, s_pairs), s_digest) != signature:
            sys.exit("own algorithm disagrees with the SDK (signer) for " + spec["name"])
        if signer.get("append"):
            signature += signer["append"]
        if signer.get("strip_padding"):
            signature = signature.rstrip("=")
        # Only what differs from this case's own request is listed; {} = the correct signature.
        signature_made_from = {}
        for key, mine, theirs in (("auth_token", token, s_token), ("url", url, s_url),
                                  ("params", pairs, s_pairs), ("algorithm", algorithm, s_alg)):
            if mine != theirs:
                signature_made_from[key] = theirs
        if "body" in signer:
            signature_made_from["body"] = signer["body"]
        if signer.get("append"):
            signature_made_from["then_appended"] = signer["append"]
        if signer.get("strip_padding"):
            signature_made_from["then_stripped_padding"] = True

    if validate_with == "body":
        validate_input = body
    elif validate_with == "empty_params":
        validate_input = {}
    else:
        validate_input = sdk_params(pairs)
    valid = validator.validate(url, validate_input, signature, algorithm)

    expected_valid = spec.get("expected_valid", True)
    quirk = spec.get("sdk_quirk")
    if (valid != expected_valid) != bool(quirk):
        sys.exit("SDK verdict %s vs expected %s for %s (quirk noted: %s)"
                 % (valid, expected_valid, spec["name"], bool(quirk)))

    case = {
        "name": spec["name"],
        "description": spec["description"],
        "auth_token": token,
        "algorithm": algorithm,
        "url": url,
        "params": pairs,
        "body": body,
        "validate_with": validate_with,
        "signed_string": signed_string,
        "expected_signature": expected_signature,
        "signature": signature,
        "signature_made_from": signature_made_from,
        "valid": valid,
        "expected_valid": expected_valid,
    }
    if body is not None:
        case["body_sha256"] = body_hash(body)
    if quirk:
        case["sdk_quirk"] = quirk
    if spec.get("note"):
        case["note"] = spec["note"]
    return case


def main():
    meta = sdk_metadata()
    cases = [build_case(s) for s in SPECS]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))

    docs = next(c for c in cases if c["name"] == "docs_worked_example")
    assert docs["expected_signature"] == "L/OH5YylLD5NRKLltdqwSvS0BnU=", docs["expected_signature"]

    doc = {
        "about": "X-Twilio-Signature golden vectors from twilio.request_validator."
        "RequestValidator. See README.md for the field meanings and the algorithm.",
        "sdk": meta,
        "fields": {
            "auth_token": "token given to RequestValidator (the validating side's secret)",
            "algorithm": "HMAC_SHA1 (default, auth token) or HMAC_SHA256 (SharedKey)",
            "url": "full request URL passed to validate()",
            "params": "decoded form fields in arrival order, as [name, value] pairs; names may "
            "repeat",
            "body": "raw JSON body (string) or null",
            "validate_with": "what validate() got as its params argument: 'params' (the form "
            "fields), 'body' (the body string: bodySHA256 checked), 'empty_params' ({}: "
            "bodySHA256 not checked)",
            "signed_string": "url followed by name+value for each sorted name and each of its "
            "distinct sorted values (for bodySHA256 requests the params are empty)",
            "expected_signature": "compute_signature(url, params): the correct header value for "
            "this request",
            "signature": "the header value actually presented to validate()",
            "signature_made_from": "how 'signature' was made: only what differs from this case's "
            "own auth_token/url/params/algorithm/body; {} means it is the correct signature of "
            "this request; {\"literal\": true} means a fixed string",
            "valid": "validate(url, ..., signature) as the SDK returns it",
            "expected_valid": "what VoicePipe should return; differs from valid only where "
            "sdk_quirk explains why",
            "note": "optional remark on a surprising but intended verdict",
        },
        "cases": cases,
    }
    ok = write_or_check(os.path.join(HERE, "signatures.json"), dump_json(doc))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
