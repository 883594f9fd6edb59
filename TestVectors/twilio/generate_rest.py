#!/usr/bin/env python3
"""Generate rest.json: Voice REST requests and error mapping from the official twilio Python SDK.

Each case makes one call through twilio.rest.Client (calls.create, calls(sid).fetch,
calls(sid).update). The client is given a recording HTTP client: it stores what the SDK asked
for (method, url, params, data, headers, auth) and answers with a canned response. No network.

The bytes on the wire are then built the way the SDK's default TwilioHttpClient builds them,
with requests: requests.Request(method, url, params, data, headers, auth).prepare() gives the
final URL, the form-encoded body and the headers (Authorization: Basic, Content-Type, ...).
The script checks that Session().prepare_request(), which TwilioHttpClient really uses, gives the
same URL, body and SDK headers, and it re-encodes every body with its own plain implementation of
the form encoding described in README.md and stops if the two differ.

For success cases the file keeps the canned JSON body and what the SDK parsed from it (the
returned CallInstance's attributes). For error cases it keeps what TwilioRestException carried.

Usage:
    pip install twilio==9.13.0
    python3 TestVectors/twilio/generate_rest.py           # rewrite rest.json
    python3 TestVectors/twilio/generate_rest.py --check   # compare with the committed file
"""

import base64
import datetime
import json
import logging
import os
import re
import sys
from urllib.parse import parse_qsl, urlsplit

sys.dont_write_bytecode = True  # keep __pycache__ out of the vectors folder
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import HERE, dump_json, sdk_metadata, write_or_check  # noqa: E402

import requests  # noqa: E402
from twilio.base.exceptions import TwilioRestException  # noqa: E402
from twilio.http import HttpClient  # noqa: E402
from twilio.http.response import Response  # noqa: E402
from twilio.rest import Client  # noqa: E402

BASE_URL = "https://api.twilio.com"

# Made-up credentials: AC/SK + 32 hex digits, and obviously fake secrets.
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"
AUTH_TOKEN = "test-token"
API_KEY_SID = "SKfedcba9876543210fedcba9876543210"
API_KEY_SECRET = "test-api-key-secret"
WRONG_TOKEN = "wrong-test-token"

CALL_SID = "CAfedcba9876543210fedcba9876543210"
TWIML_CALL_SID = "CA00112233445566778899aabbccddeeff"
KEY_CALL_SID = "CA0f1e2d3c4b5a69788796a5b4c3d2e1f0"
MISSING_CALL_SID = "CA00000000000000000000000000000000"

AGENT = "+14155550199"  # the callee
TWILIO_NUMBER = "+14155550100"  # the caller id (a Twilio number)
VOICE_URL = "https://agent.example.com/twilio/voice"
STATUS_URL = "https://agent.example.com/twilio/status"
NEXT_URL = "https://agent.example.com/twilio/next?step=2&lang=en"

AUTH_TOKEN_CREDENTIALS = {"account_sid": ACCOUNT_SID, "username": ACCOUNT_SID,
                          "password": AUTH_TOKEN}
API_KEY_CREDENTIALS = {"account_sid": ACCOUNT_SID, "username": API_KEY_SID,
                       "password": API_KEY_SECRET}
WRONG_CREDENTIALS = {"account_sid": ACCOUNT_SID, "username": ACCOUNT_SID,
                     "password": WRONG_TOKEN}

USER_AGENT_RE = re.compile(r"^twilio-python/(\S+) \((\S*) (\S*)\) Python/(\S+)$")


# --- the recording HTTP client -----------------------------------------------------------


class RecordingHttpClient(HttpClient):
    """Stores every request the SDK makes and answers with the next canned response."""

    def __init__(self):
        super().__init__(logging.getLogger("twilio.rest_vectors"), False)
        self.calls = []
        self.responses = []

    def request(self, method, url, params=None, data=None, headers=None, auth=None,
                timeout=None, allow_redirects=False):
        self.calls.append({"method": method, "url": url, "params": params, "data": data,
                           "headers": dict(headers or {}), "auth": auth, "timeout": timeout,
                           "allow_redirects": allow_redirects})
        status, text = self.responses.pop(0)
        return Response(status, text)


# --- canned Call resource (shape of twilio-protocol.md §d.2) ------------------------------

SUBRESOURCES = [
    ("notifications", "Notifications"), ("recordings", "Recordings"), ("payments", "Payments"),
    ("events", "Events"), ("siprec", "Siprec"), ("streams", "Streams"),
    ("transcriptions", "Transcriptions"),
    ("user_defined_message_subscriptions", "UserDefinedMessageSubscriptions"),
    ("user_defined_messages", "UserDefinedMessages"),
]


def call_resource(sid, status, **overrides):
    """A Call resource as Twilio returns it: keys in the order of §d.2; duration, price and
    queue_time are strings; dates are RFC 2822."""
    base = "/2010-04-01/Accounts/%s/Calls/%s" % (ACCOUNT_SID, sid)
    body = {
        "account_sid": ACCOUNT_SID,
        "answered_by": None,
        "api_version": "2010-04-01",
        "caller_name": None,
        "date_created": "Tue, 31 Aug 2010 20:36:28 +0000",
        "date_updated": "Tue, 31 Aug 2010 20:36:28 +0000",
        "direction": "outbound-api",
        "duration": None,
        "end_time": None,
        "forwarded_from": None,
        "from": TWILIO_NUMBER,
        "from_formatted": "(415) 555-0100",
        "group_sid": None,
        "parent_call_sid": None,
        "phone_number_sid": "PN0123456789abcdef0123456789abcdef",
        "price": None,
        "price_unit": "USD",
        "sid": sid,
        "start_time": None,
        "status": status,
        "subresource_uris": {key: "%s/%s.json" % (base, name) for key, name in SUBRESOURCES},
        "to": AGENT,
        "to_formatted": "(415) 555-0199",
        "trunk_sid": None,
        "uri": base + ".json",
        "queue_time": "0",
    }
    for key, value in overrides.items():
        assert key in body, key
        body[key] = value
    return json.dumps(body, separators=(",", ":"))


def error_body(code, message, status):
    return json.dumps({"code": code, "message": message,
                       "more_info": "https://www.twilio.com/docs/errors/%d" % code,
                       "status": status}, separators=(",", ":"))


# CallInstance attributes in the order the SDK assigns them; "from" is stored as _from.
CALL_ATTRIBUTES = [
    "sid", "date_created", "date_updated", "parent_call_sid", "account_sid", "to",
    "to_formatted", "from", "from_formatted", "phone_number_sid", "status", "start_time",
    "end_time", "duration", "price", "price_unit", "direction", "answered_by", "api_version",
    "forwarded_from", "group_sid", "caller_name", "queue_time", "stir_verstat", "trunk_sid",
    "uri", "subresource_uris",
]


def parsed_call(instance):
    out = {}
    for name in CALL_ATTRIBUTES:
        value = getattr(instance, "_from" if name == "from" else name)
        if isinstance(value, datetime.datetime):
            value = value.isoformat()
        out[name] = value
    return out


# --- the cases ----------------------------------------------------------------------------
# Each spec: name, description, credentials, call (the SDK call's inputs; "operation" is
# create | fetch | update, "sid" the call for fetch/update, "from" the create's from_), and
# response (status, body text).

CREATE_URL_CALL = {
    "operation": "create", "to": AGENT, "from": TWILIO_NUMBER, "url": VOICE_URL,
    "method": "POST", "status_callback": STATUS_URL,
    "status_callback_event": ["initiated", "ringing", "answered", "completed"],
    "status_callback_method": "POST", "timeout": 30,
}

SPECS = [
    # --- success ----------------------------------------------------------------------------
    dict(name="create_call_url",
         description="Create a call that fetches TwiML from Url (Method POST), with a status "
         "callback for all four events (a repeated StatusCallbackEvent field, one per value, "
         "in the order given), StatusCallbackMethod POST and Timeout 30. Auth token "
         "credentials. Twilio answers 201 with the queued call.",
         credentials=AUTH_TOKEN_CREDENTIALS, call=CREATE_URL_CALL,
         response=(201, call_resource(CALL_SID, "queued"))),
    dict(name="create_call_twiml_special_characters",
         description="Create a call with inline Twiml containing spaces, '<', '>', '/' and "
         "'&' (form-encoded as %3C %3E %2F %26, spaces as '+'), E.164 To/From whose '+' "
         "becomes %2B, and TimeLimit 600.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": AGENT, "from": TWILIO_NUMBER,
               "twiml": "<Response><Say>Hello & welcome</Say></Response>", "time_limit": 600},
         response=(201, call_resource(TWIML_CALL_SID, "queued"))),
    dict(name="create_call_api_key",
         description="Create a call authenticated with an API key: Basic auth uses the SK sid "
         "and its secret, while the URL path still uses the AC account sid.",
         credentials=API_KEY_CREDENTIALS,
         call={"operation": "create", "to": AGENT, "from": TWILIO_NUMBER, "url": VOICE_URL},
         response=(201, call_resource(KEY_CALL_SID, "queued"))),
    dict(name="fetch_call",
         description="Fetch a call by sid: GET with no body and no Content-Type. The call is "
         "in progress.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch", "sid": CALL_SID},
         response=(200, call_resource(
             CALL_SID, "in-progress", date_updated="Tue, 31 Aug 2010 20:36:30 +0000",
             start_time="Tue, 31 Aug 2010 20:36:29 +0000", queue_time="1000"))),
    dict(name="update_call_hang_up",
         description="Hang up: update with Status=completed. Twilio answers 200 with the "
         "completed call (duration, end_time and price filled in).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update", "sid": CALL_SID, "status": "completed"},
         response=(200, call_resource(
             CALL_SID, "completed", date_updated="Tue, 31 Aug 2010 20:36:44 +0000",
             start_time="Tue, 31 Aug 2010 20:36:29 +0000",
             end_time="Tue, 31 Aug 2010 20:36:44 +0000", duration="15", price="-0.03000",
             queue_time="1000"))),
    dict(name="update_call_redirect",
         description="Redirect the call to new TwiML: update with Url (its query string "
         "'?step=2&lang=en' is form-encoded as %3Fstep%3D2%26lang%3Den) and Method POST.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update", "sid": CALL_SID, "url": NEXT_URL, "method": "POST"},
         response=(200, call_resource(
             CALL_SID, "in-progress", date_updated="Tue, 31 Aug 2010 20:36:40 +0000",
             start_time="Tue, 31 Aug 2010 20:36:29 +0000", queue_time="1000"))),
    dict(name="update_call_twiml",
         description="Replace the call's instructions with inline TwiML (Twiml=<Response>"
         "<Hangup/></Response>).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update", "sid": CALL_SID,
               "twiml": "<Response><Hangup/></Response>"},
         response=(200, call_resource(
             CALL_SID, "in-progress", date_updated="Tue, 31 Aug 2010 20:36:41 +0000",
             start_time="Tue, 31 Aug 2010 20:36:29 +0000", queue_time="1000"))),
    # --- errors -----------------------------------------------------------------------------
    dict(name="error_400_invalid_to",
         description="Create with an invalid To: 400, code 21211.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": "+1555", "from": TWILIO_NUMBER, "url": VOICE_URL},
         response=(400, error_body(
             21211, "The 'To' number +1555 is not a valid phone number.", 400))),
    dict(name="error_401_authenticate",
         description="Create with a wrong auth token: 401, code 20003, message "
         "'Authenticate'.",
         credentials=WRONG_CREDENTIALS,
         call={"operation": "create", "to": AGENT, "from": TWILIO_NUMBER, "url": VOICE_URL},
         response=(401, error_body(20003, "Authenticate", 401))),
    dict(name="error_404_fetch_not_found",
         description="Fetch a call sid that does not exist: 404, code 20404. The SDK prefix "
         "is 'Unable to fetch record'.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "fetch", "sid": MISSING_CALL_SID},
         response=(404, error_body(
             20404, "The requested resource /2010-04-01/Accounts/%s/Calls/%s.json was not "
             "found" % (ACCOUNT_SID, MISSING_CALL_SID), 404))),
    dict(name="error_404_update_not_found",
         description="Hang up a call sid that does not exist: 404, code 20404. The SDK prefix "
         "is 'Unable to update record'.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "update", "sid": MISSING_CALL_SID, "status": "completed"},
         response=(404, error_body(
             20404, "The requested resource /2010-04-01/Accounts/%s/Calls/%s.json was not "
             "found" % (ACCOUNT_SID, MISSING_CALL_SID), 404))),
    dict(name="error_429_too_many_requests",
         description="Create while over the concurrency limit: 429, code 20429. The SDK does "
         "not retry (one request recorded).",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": AGENT, "from": TWILIO_NUMBER, "url": VOICE_URL},
         response=(429, error_body(20429, "Too Many Requests", 429))),
    dict(name="error_503_not_json",
         description="Create answered by a 503 whose body is not JSON (an HTML page from a "
         "proxy): the SDK keeps only its prefix as the message and uses the HTTP status as "
         "the code.",
         credentials=AUTH_TOKEN_CREDENTIALS,
         call={"operation": "create", "to": AGENT, "from": TWILIO_NUMBER, "url": VOICE_URL},
         response=(503, "<html><body><h1>503 Service Unavailable</h1></body></html>")),
]


# --- running one case ---------------------------------------------------------------------


def run_sdk_call(client, call):
    """Make the SDK call described by `call`; returns the CallInstance (or raises)."""
    kwargs = {("from_" if k == "from" else k): v for k, v in call.items()
              if k not in ("operation", "sid")}
    op = call["operation"]
    if op == "create":
        return client.calls.create(**kwargs)
    if op == "fetch":
        assert not kwargs
        return client.calls(call["sid"]).fetch()
    if op == "update":
        return client.calls(call["sid"]).update(**kwargs)
    raise ValueError(op)


def own_form_encode(pairs):
    """application/x-www-form-urlencoded as Python's urlencode writes it, written out
    independently: UTF-8, A-Z a-z 0-9 - . _ ~ kept, space as '+', every other byte %XX
    (uppercase hex), pairs joined with '&'."""
    def esc(s):
        out = []
        for b in s.encode("utf-8"):
            c = chr(b)
            if c.isascii() and (c.isalnum() or c in "-._~"):
                out.append(c)
            elif c == " ":
                out.append("+")
            else:
                out.append("%%%02X" % b)
        return "".join(out)
    return "&".join(esc(k) + "=" + esc(v) for k, v in pairs)


def flatten_form(data):
    """The SDK's data dict as (name, value) pairs: a list value becomes one pair per item."""
    pairs = []
    for key, value in (data or {}).items():
        for item in (value if isinstance(value, list) else [value]):
            pairs.append((key, str(item)))
    return pairs


def wire_request(recorded):
    """Build the request as TwilioHttpClient would, and check the Session path agrees."""
    kwargs = dict(method=recorded["method"].upper(), url=recorded["url"],
                  params=recorded["params"], data=recorded["data"],
                  headers=recorded["headers"], auth=recorded["auth"])
    prepared = requests.Request(**kwargs).prepare()
    via_session = requests.Session().prepare_request(requests.Request(**kwargs))
    assert via_session.url == prepared.url, (via_session.url, prepared.url)
    assert via_session.body == prepared.body, (via_session.body, prepared.body)
    for name, value in prepared.headers.items():
        assert via_session.headers.get(name) == value, name
    return prepared


def build_case(spec):
    creds = spec["credentials"]
    http = RecordingHttpClient()
    status, text = spec["response"]
    http.responses.append((status, text))
    # A non-empty environment, so that TWILIO_EDGE / TWILIO_REGION in os.environ cannot change
    # the host (the SDK falls back to os.environ when given an empty one).
    client = Client(creds["username"], creds["password"], creds["account_sid"],
                    http_client=http, environment={"VOICEPIPE_VECTORS": "1"})

    instance = exception = None
    try:
        instance = run_sdk_call(client, spec["call"])
    except TwilioRestException as e:
        exception = e
    if len(http.calls) != 1 or http.responses:
        sys.exit("expected exactly one request for " + spec["name"])
    recorded = http.calls[0]
    prepared = wire_request(recorded)

    body = prepared.body
    if isinstance(body, bytes):
        body = body.decode("ascii")
    form = [list(p) for p in parse_qsl(body, keep_blank_values=True)] if body else []
    if form != [list(p) for p in flatten_form(recorded["data"])]:
        sys.exit("decoded body differs from the SDK's data for " + spec["name"])
    if body and own_form_encode(flatten_form(recorded["data"])) != body:
        sys.exit("own form encoding disagrees with requests for " + spec["name"])

    authorization = prepared.headers.get("Authorization")
    expected_auth = "Basic " + base64.b64encode(
        ("%s:%s" % (creds["username"], creds["password"])).encode("utf-8")).decode("ascii")
    if authorization != expected_auth:
        sys.exit("unexpected Authorization for " + spec["name"])

    user_agent = prepared.headers.get("User-Agent", "")
    if not USER_AGENT_RE.match(user_agent):
        sys.exit("unexpected User-Agent %r" % user_agent)

    split = urlsplit(prepared.url)
    request = {
        "method": prepared.method,
        "url": prepared.url,
        "path": split.path,
        "query": split.query or None,
        "body": body,
        "form": form,
        "authorization": authorization,
        "authorization_decoded": base64.b64decode(authorization[len("Basic "):]).decode("utf-8"),
        "content_type": prepared.headers.get("Content-Type"),
        "accept": prepared.headers.get("Accept"),
        # Everything requests would send except User-Agent (platform-dependent; see
        # "user_agent_format" at the top of the file), in the prepared request's order.
        "headers": [[k, v] for k, v in prepared.headers.items() if k != "User-Agent"],
    }

    case = {
        "name": spec["name"],
        "description": spec["description"],
        "credentials": creds,
        "call": spec["call"],
        "request": request,
        "response": {"status": status, "body": text},
    }
    if exception is not None:
        if status < 400:
            sys.exit("unexpected exception for " + spec["name"])
        case["exception"] = {
            "class": type(exception).__name__,
            "status": exception.status,
            "code": exception.code,
            "msg": exception.msg,
            "uri": exception.uri,
            "method": exception.method,
            "details": exception.details,
        }
        try:
            payload = json.loads(text)
        except ValueError:
            payload = None
        case["twilio_error"] = (
            {k: payload.get(k) for k in ("code", "message", "more_info", "status")}
            if isinstance(payload, dict) else None)
    else:
        if status >= 400:
            sys.exit("no exception for " + spec["name"])
        case["result"] = {"class": type(instance).__name__, "fields": parsed_call(instance)}
    return case


def self_checks(cases):
    by_name = {c["name"]: c for c in cases}
    # The body the spec sheet (twilio-protocol.md §d.2) shows has this prefix for these fields.
    c1 = by_name["create_call_url"]["request"]
    assert c1["body"].startswith(
        "To=%2B14155550199&From=%2B14155550100&Method=POST&StatusCallback=https%3A%2F%2F"
        "agent.example.com%2Ftwilio%2Fstatus&StatusCallbackEvent=initiated&StatusCallbackEvent="
        "ringing&StatusCallbackEvent=answered&StatusCallbackEvent=completed&StatusCallbackMethod"
        "=POST&Timeout=30"), c1["body"]
    assert c1["body"].endswith("&Url=https%3A%2F%2Fagent.example.com%2Ftwilio%2Fvoice")
    # API key: Basic auth with the SK sid, URL path with the AC sid.
    k = by_name["create_call_api_key"]["request"]
    assert k["authorization_decoded"] == API_KEY_SID + ":" + API_KEY_SECRET
    assert k["path"] == "/2010-04-01/Accounts/%s/Calls.json" % ACCOUNT_SID
    # GET: no body, no Content-Type.
    f = by_name["fetch_call"]["request"]
    assert f["method"] == "GET" and f["body"] is None and f["content_type"] is None
    # The 400 keeps Twilio's message behind the SDK's prefix.
    e = by_name["error_400_invalid_to"]["exception"]
    assert e["msg"] == "Unable to create record: The 'To' number +1555 is not a valid phone " \
        "number.", e["msg"]
    assert e["code"] == 21211 and e["status"] == 400


def main():
    meta = dict(sdk_metadata(), requests=requests.__version__)
    cases = [build_case(s) for s in SPECS]
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names))
    self_checks(cases)

    doc = {
        "about": "Voice REST golden vectors from the official twilio Python SDK: the exact HTTP "
        "request twilio.rest.Client sends for each call (as its default requests-based HTTP "
        "client would put it on the wire), the canned response it was given, and what the SDK "
        "made of it (CallInstance fields, or TwilioRestException). See README.md.",
        "sdk": meta,
        "base_url": BASE_URL,
        "user_agent_format": "twilio-python/<sdk version> (<OS> <machine>) Python/<python "
        "version>; left out of request.headers because it depends on the platform",
        "fields": {
            "credentials": "account_sid (in the URL path), username and password (HTTP Basic): "
            "username is the AC sid with an auth token, or an SK API key sid with its secret",
            "call": "the SDK call's inputs: operation (create | fetch | update), sid for "
            "fetch/update, and the keyword arguments in snake_case ('from' is the SDK's from_)",
            "request.method": "HTTP method",
            "request.url": "the final URL (prepared.url)",
            "request.path": "the URL's path",
            "request.query": "the URL's query string, or null (none of these requests has one)",
            "request.body": "the exact form-encoded body, or null (GET)",
            "request.form": "the body decoded with parse_qsl(keep_blank_values=True), as [name, "
            "value] pairs in body order; a name repeats for list inputs (StatusCallbackEvent)",
            "request.authorization": "the Authorization header: Basic base64(username:password)",
            "request.authorization_decoded": "the same, base64-decoded",
            "request.content_type": "the Content-Type header, or null",
            "request.accept": "the Accept header, or null",
            "request.headers": "all headers of the prepared request except User-Agent, in order",
            "response.status": "the canned HTTP status given to the SDK",
            "response.body": "the canned response body text given to the SDK",
            "result": "success only: the class returned and its attributes (CallInstance; "
            "'from' is the SDK's _from; datetimes as ISO 8601 UTC strings)",
            "exception": "errors only: the class raised and the attributes it carried (status, "
            "code, msg, uri, method, details)",
            "twilio_error": "errors only: code, message, more_info and status as written in the "
            "JSON error body (what VoicePipe keeps), or null when the body is not JSON",
        },
        "cases": cases,
    }
    ok = write_or_check(os.path.join(HERE, "rest.json"), dump_json(doc))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
